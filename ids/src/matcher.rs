//! The multi-pattern matcher behind every prefilter: Hyperscan (the system's libhs, as Suricata
//! uses) where the library runs and the set fits the memory budget, else an Aho-Corasick DFA
//! (pure Rust) — chosen per set at compile time and reported. Both report the set of pattern ids
//! found in a buffer (ASCII case-insensitive); verification is exact afterwards.
//! `scripts/bench-matchers.sh` measured the choice (docs/BENCHMARKS.md).

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// Which implementation a set was compiled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatcherKind {
    /// Hyperscan literal database.
    Hyperscan,
    /// aho-corasick DFA (or NFA when the DFA would be too large).
    AhoCorasick,
}

/// A compiled pattern set.
#[derive(Debug)]
pub enum Matcher {
    /// Hyperscan literal database.
    #[cfg(feature = "hyperscan")]
    Hyperscan(edgeward_hs::Database),
    /// Pure-Rust automaton.
    AhoCorasick(AhoCorasick),
}

/// Per-thread state for scans (Hyperscan's scratch, grown for every set of a ruleset).
#[derive(Debug, Default)]
pub struct MatchScratch {
    #[cfg(feature = "hyperscan")]
    hs: Option<edgeward_hs::Scratch>,
}

/// Largest Aho-Corasick DFA allowed per set before falling back to its NFA (bytes).
const AC_DFA_BUDGET: usize = 64 << 20;

impl Matcher {
    /// Compile `patterns` (lower-case) for ASCII case-insensitive search. `why_not_hs` receives
    /// the reason when Hyperscan was wanted but could not be used.
    pub fn compile(patterns: &[Vec<u8>], hs_budget: usize, notes: &mut Vec<String>) -> Matcher {
        #[cfg(feature = "hyperscan")]
        if !patterns.is_empty()
            && std::env::var_os("EDGEWARD_IDS_MATCHER").is_none_or(|v| v != "ac")
        {
            let lits: Vec<edgeward_hs::Literal<'_>> = patterns
                .iter()
                .map(|p| edgeward_hs::Literal {
                    bytes: p,
                    caseless: true,
                })
                .collect();
            match edgeward_hs::Database::literals(&lits) {
                Ok(db) if db.size() <= hs_budget => return Matcher::Hyperscan(db),
                Ok(db) => notes.push(format!(
                    "Hyperscan set of {} patterns needs {} KiB, over the budget of {} KiB: Aho-Corasick used",
                    patterns.len(),
                    db.size() >> 10,
                    hs_budget >> 10
                )),
                Err(e) => notes.push(format!("{e}: Aho-Corasick used")),
            }
        }
        let _ = hs_budget;
        let build = |kind| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(kind)
                .dense_depth(3)
                .build(patterns)
        };
        let ac = match build(Some(AhoCorasickKind::DFA)) {
            Ok(dfa) if dfa.memory_usage() <= AC_DFA_BUDGET => dfa,
            _ => build(None).unwrap_or_else(|_| {
                notes.push("pattern set too large for Aho-Corasick: matches nothing".into());
                AhoCorasick::new::<_, &[u8]>([]).expect("an empty automaton builds")
            }),
        };
        Matcher::AhoCorasick(ac)
    }

    /// Which implementation this set uses.
    pub fn kind(&self) -> MatcherKind {
        match self {
            #[cfg(feature = "hyperscan")]
            Matcher::Hyperscan(_) => MatcherKind::Hyperscan,
            Matcher::AhoCorasick(_) => MatcherKind::AhoCorasick,
        }
    }

    /// Bytes the compiled set takes.
    pub fn memory(&self) -> usize {
        match self {
            #[cfg(feature = "hyperscan")]
            Matcher::Hyperscan(db) => db.size(),
            Matcher::AhoCorasick(ac) => ac.memory_usage(),
        }
    }

    /// Make `scratch` able to scan this set.
    pub fn prepare(&self, scratch: &mut MatchScratch) {
        #[cfg(feature = "hyperscan")]
        if let Matcher::Hyperscan(db) = self {
            let ok = match scratch.hs.as_mut() {
                Some(s) => s.prepare(db).is_ok(),
                None => match edgeward_hs::Scratch::new(db) {
                    Ok(s) => {
                        scratch.hs = Some(s);
                        true
                    }
                    Err(_) => false,
                },
            };
            if !ok {
                tracing::error!("cannot allocate Hyperscan scratch space");
            }
        }
        let _ = scratch;
    }

    /// Call `found(id)` for the patterns in `data` (each at least once).
    #[inline]
    pub fn scan(&self, scratch: &mut MatchScratch, data: &[u8], mut found: impl FnMut(usize)) {
        match self {
            #[cfg(feature = "hyperscan")]
            Matcher::Hyperscan(db) => {
                if let Some(s) = scratch.hs.as_mut() {
                    if let Err(e) = db.scan(s, data, |id| found(id as usize)) {
                        tracing::error!(error = %e, "Hyperscan scan failed");
                    }
                }
            }
            Matcher::AhoCorasick(ac) => {
                let _ = scratch;
                for m in ac.find_overlapping_iter(data) {
                    found(m.pattern().as_usize());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn found(m: &Matcher, scratch: &mut MatchScratch, data: &[u8]) -> Vec<usize> {
        let mut v = Vec::new();
        m.scan(scratch, data, |id| v.push(id));
        v.sort_unstable();
        v.dedup();
        v
    }

    /// What a prefilter must report: every pattern that occurs, ignoring ASCII case.
    fn naive(patterns: &[Vec<u8>], data: &[u8]) -> Vec<usize> {
        let lower = data.to_ascii_lowercase();
        patterns
            .iter()
            .enumerate()
            .filter(|(_, p)| lower.windows(p.len()).any(|w| w == p.as_slice()))
            .map(|(i, _)| i)
            .collect()
    }

    proptest! {
        /// Both matchers report exactly the patterns that occur (case-insensitively), so the
        /// choice between them never changes which rules are verified.
        #[test]
        fn both_matchers_find_exactly_the_patterns_present(
            patterns in proptest::collection::vec(proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(0u8), Just(b'.')], 1..5), 1..20),
            data in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'A'), Just(b'b'), Just(b'B'), Just(0u8), Just(b'.'), any::<u8>()], 0..200),
        ) {
            let mut notes = Vec::new();
            let want = naive(&patterns, &data);
            let ac = Matcher::AhoCorasick(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(&patterns)
                    .unwrap(),
            );
            let mut s = MatchScratch::default();
            prop_assert_eq!(found(&ac, &mut s, &data), want.clone());
            let chosen = Matcher::compile(&patterns, MATCHER_TEST_BUDGET, &mut notes);
            chosen.prepare(&mut s);
            prop_assert_eq!(found(&chosen, &mut s, &data), want);
        }
    }

    const MATCHER_TEST_BUDGET: usize = 64 << 20;

    #[cfg(feature = "hyperscan")]
    #[test]
    fn hyperscan_is_chosen_where_it_runs_and_the_budget_falls_back() {
        let patterns = vec![b"abc".to_vec(), b"xyz".to_vec()];
        let mut notes = Vec::new();
        let m = Matcher::compile(&patterns, 64 << 20, &mut notes);
        assert_eq!(m.kind(), MatcherKind::Hyperscan, "{notes:?}");
        let m = Matcher::compile(&patterns, 16, &mut notes);
        assert_eq!(m.kind(), MatcherKind::AhoCorasick);
        assert!(
            notes.iter().any(|n| n.contains("over the budget")),
            "{notes:?}"
        );
    }
}
