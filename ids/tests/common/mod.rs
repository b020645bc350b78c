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

/// The ET Open ruleset the product must load: `EDGEWARD_ET_RULES`, else the copy shipped in
/// `ids/rules/` (extracted once into the test's scratch directory).
pub fn et_open() -> PathBuf {
    if let Ok(p) = std::env::var("EDGEWARD_ET_RULES") {
        return PathBuf::from(p);
    }
    static EXTRACTED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    EXTRACTED
        .get_or_init(|| {
            let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
            let dir = scratch.join("et-open-2024-04-21");
            if !dir.join("classification.config").is_file() {
                let archive = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("rules/et-open-2024-04-21.tar.xz");
                // Extract beside, then rename: another test binary never sees half a ruleset.
                let tmp = scratch.join(format!("et-open.{}", std::process::id()));
                let _ = std::fs::remove_dir_all(&tmp);
                std::fs::create_dir_all(&tmp).unwrap();
                let status = std::process::Command::new("tar")
                    .arg("-xJf")
                    .arg(&archive)
                    .arg("-C")
                    .arg(&tmp)
                    .status()
                    .expect("running tar");
                assert!(status.success(), "extracting {}", archive.display());
                let _ = std::fs::remove_dir_all(&dir);
                if std::fs::rename(tmp.join("et-open-2024-04-21"), &dir).is_err() {
                    assert!(
                        dir.join("classification.config").is_file(),
                        "no ruleset at {}",
                        dir.display()
                    );
                }
                let _ = std::fs::remove_dir_all(&tmp);
            }
            dir
        })
        .clone()
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

/// One alert from a Suricata EVE file: proto, source, destination, sid.
pub type EveAlertRow = (
    String,
    (std::net::IpAddr, u16),
    (std::net::IpAddr, u16),
    u32,
);

/// The alerts of a Suricata EVE file.
pub fn suricata_alerts(eve: &std::path::Path) -> Vec<EveAlertRow> {
    std::fs::read_to_string(eve)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if v["event_type"] != "alert" {
                return None;
            }
            let ip = |f: &str| v[f].as_str().unwrap().parse::<std::net::IpAddr>().unwrap();
            let port = |f: &str| v[f].as_u64().unwrap_or(0) as u16;
            Some((
                v["proto"].as_str().unwrap_or("").to_string(),
                (ip("src_ip"), port("src_port")),
                (ip("dest_ip"), port("dest_port")),
                v["alert"]["signature_id"].as_u64().unwrap() as u32,
            ))
        })
        .collect()
}
