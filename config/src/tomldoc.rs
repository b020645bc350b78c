//! Parsing TOML documents with `toml_edit` (spans, formatting-preserving edits) without letting
//! the parser take the process down: toml_edit 0.23 panics on some malformed inputs ("all items
//! have spans", found by the property tests), and these texts come from admins and the API.
//! A panic inside the parser reads as "not a TOML document".

use std::panic::{AssertUnwindSafe, catch_unwind};

/// `text` as a read-only document with spans, or `None` if it is not TOML.
pub fn document(text: &str) -> Option<toml_edit::Document<&str>> {
    catch_unwind(AssertUnwindSafe(|| toml_edit::Document::parse(text).ok())).unwrap_or(None)
}

/// `text` as an editable document, or `None` if it is not TOML.
pub fn document_mut(text: &str) -> Option<toml_edit::DocumentMut> {
    catch_unwind(AssertUnwindSafe(|| {
        text.parse::<toml_edit::DocumentMut>().ok()
    }))
    .unwrap_or(None)
}

#[cfg(test)]
mod tests {
    /// The input the property test found: the parser panics on it; we answer "not TOML".
    #[test]
    fn a_parser_panic_is_not_a_document() {
        let profile = crate::AGENCY_DEFAULT_PROFILE;
        let at = profile
            .find("action = \"allow\"\ncomment = \"Máy chủ chỉ cập nhật")
            .unwrap();
        let text = format!("{}==\n.={}", &profile[..at], &profile[at..]);
        assert!(super::document(&text).is_none());
        assert!(super::document_mut(&text).is_none());
        assert!(super::document(profile).is_some());
    }
}
