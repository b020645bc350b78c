//! Property tests: whatever the text, parsing returns a config or positioned problems — never a
//! panic — and a position always lies inside the text.

use chrono::NaiveDate;
use edgeward_config::{AGENCY_DEFAULT_PROFILE, parse};
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn check(text: &str) {
    if let Err(problems) = parse(text, "p.toml", today()) {
        assert!(!problems.problems.is_empty());
        let lines = text.lines().count().max(1);
        for p in &problems.problems {
            if let Some(pos) = p.position {
                assert!(
                    pos.line >= 1 && pos.line <= lines + 1,
                    "line {} of {lines}",
                    pos.line
                );
                assert!(pos.column >= 1);
            }
        }
        let _ = problems.to_string();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        check(&text);
    }

    /// Replace a slice of the real profile with random text: near-valid configs exercise the
    /// validator and the locator, not only the TOML parser.
    #[test]
    fn mutated_profile_never_panics(start in 0usize..AGENCY_DEFAULT_PROFILE.len(), len in 0usize..40, junk in "[a-z0-9\\[\\]\"=./:, \\n-]{0,30}") {
        let bytes = AGENCY_DEFAULT_PROFILE.as_bytes();
        let start = (0..=start).rev().find(|i| AGENCY_DEFAULT_PROFILE.is_char_boundary(*i)).unwrap_or(0);
        let end = (start + len).min(bytes.len());
        let end = (end..=bytes.len()).find(|i| AGENCY_DEFAULT_PROFILE.is_char_boundary(*i)).unwrap_or(bytes.len());
        let text = format!("{}{}{}", &AGENCY_DEFAULT_PROFILE[..start], junk, &AGENCY_DEFAULT_PROFILE[end..]);
        check(&text);
    }
}
