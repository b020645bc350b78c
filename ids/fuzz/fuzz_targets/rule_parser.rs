//! Any text through the rule parser: an error or a rule, never a panic; a parsed rule's buffers
//! are then inspected against the same bytes, which must not panic either.
#![no_main]

use std::sync::Arc;

use edgeward_ids::rule::parse::Names;
use edgeward_ids::rule::{ParseOutcome, parse_rule};
use edgeward_ids::vars::Vars;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let file: Arc<str> = Arc::from("fuzz.rules");
    let vars = Vars::default();
    let mut names = Names::default();
    if let Ok(ParseOutcome::Loaded(rule)) = parse_rule(&text, &file, 1, &vars, &mut names) {
        for list in &rule.lists {
            let _ = edgeward_ids::inspect::inspect(&list.items, data);
        }
    }
});
