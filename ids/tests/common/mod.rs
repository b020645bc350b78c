//! Shared helpers: where the ET Open ruleset is, running a capture.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use edgeward_ids::engine::{Alert, Engine, EngineConfig};
use edgeward_ids::loader::LoadedRules;
use edgeward_ids::offline;
use edgeward_ids::ruleset::RuleSet;
use edgeward_ids::vars::Vars;
use edgeward_traffic::Capture;

/// The ET Open ruleset the product must load: `EDGEWARD_ET_RULES`, else `../shared/rules/…`
/// next to the repository.
pub fn et_open() -> PathBuf {
    if let Ok(p) = std::env::var("EDGEWARD_ET_RULES") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let p = root.join("../../shared/rules/et-open-2024-04-21");
    assert!(
        p.is_dir(),
        "the ET Open ruleset is not at {} (set EDGEWARD_ET_RULES)",
        p.display()
    );
    p
}

pub fn ruleset_from_text(text: &str) -> Arc<RuleSet> {
    let mut loaded = LoadedRules::default();
    loaded.add_text(
        "test.rules",
        text,
        &Vars::default(),
        &mut Default::default(),
    );
    assert!(
        loaded.report.errors.is_empty(),
        "{:?}",
        loaded.report.errors
    );
    Arc::new(RuleSet::compile(loaded))
}

pub fn run(rules: &Arc<RuleSet>, cap: &Capture) -> Vec<Alert> {
    let mut engine = Engine::new(Arc::clone(rules), EngineConfig::default());
    let capture = offline::Capture {
        link: edgeward_ids::decode::Link::Ethernet,
        frames: cap.frames.clone(),
        bytes: 0,
    };
    let mut out = Vec::new();
    offline::run(&mut engine, &capture, |a| out.push(a.clone()));
    out
}

pub fn sids(alerts: &[Alert]) -> Vec<u32> {
    let mut v: Vec<u32> = alerts.iter().map(|a| a.sid).collect();
    v.sort_unstable();
    v
}
