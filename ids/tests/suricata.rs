//! The same capture and the same ET Open rules through Suricata 7 and edgeward: for every flow,
//! the SIDs raised must be the same sets.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::process::Command;
use std::sync::Arc;

use common::*;
use edgeward_ids::loader::LoadedRules;
use edgeward_ids::ruleset::RuleSet;
use edgeward_ids::vars::Vars;
use edgeward_traffic::trigger_capture;

type FlowKey = (String, (IpAddr, u16), (IpAddr, u16));

fn key(proto: &str, a: (IpAddr, u16), b: (IpAddr, u16)) -> FlowKey {
    if a <= b {
        (proto.to_string(), a, b)
    } else {
        (proto.to_string(), b, a)
    }
}

#[test]
fn suricata_and_edgeward_raise_the_same_sids_per_flow() {
    let rules = et_open();
    let dir = tempfile::tempdir().unwrap();
    let cap = trigger_capture(7);
    let pcap = dir.path().join("trigger.pcap");
    cap.write(&pcap).unwrap();
    let all = dir.path().join("all.rules");
    let mut text = String::new();
    let mut files: Vec<_> = std::fs::read_dir(&rules)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    files.sort();
    for f in files {
        text.push_str(&String::from_utf8_lossy(&std::fs::read(f).unwrap()));
        text.push('\n');
    }
    std::fs::write(&all, text).unwrap();
    let out = dir.path().join("suricata");
    std::fs::create_dir(&out).unwrap();
    let status = Command::new("suricata")
        .args(["-r"])
        .arg(&pcap)
        .arg("-S")
        .arg(&all)
        .args(["-k", "none", "--runmode", "single", "-l"])
        .arg(&out)
        .arg("--set")
        .arg(format!(
            "classification-file={}",
            rules.join("classification.config").display()
        ))
        .output()
        .expect("suricata 7 is installed (scripts/setup.sh)");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );

    let mut suricata: BTreeMap<FlowKey, BTreeSet<u32>> = BTreeMap::new();
    for (proto, src, dst, sid) in suricata_alerts(&out.join("eve.json")) {
        suricata
            .entry(key(&proto, src, dst))
            .or_default()
            .insert(sid);
    }

    let set = Arc::new(RuleSet::compile(
        LoadedRules::load(&rules, &Vars::default()).unwrap(),
    ));
    let mut edgeward: BTreeMap<FlowKey, BTreeSet<u32>> = BTreeMap::new();
    for a in run(&set, &cap) {
        let ports = matches!(a.proto, 6 | 17);
        let (sp, dp) = if ports { (a.sport, a.dport) } else { (0, 0) };
        let k = key(
            &edgeward_ids::offline::proto_name(a.proto),
            (a.src, sp),
            (a.dst, dp),
        );
        edgeward.entry(k).or_default().insert(a.sid);
    }
    assert!(
        suricata.len() >= 20,
        "the trigger capture should fire many rules in Suricata"
    );
    let distinct: BTreeSet<u32> = suricata.values().flatten().copied().collect();
    assert!(distinct.len() >= 20, "{distinct:?}");
    assert_eq!(edgeward, suricata);
}
