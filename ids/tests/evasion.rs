//! The evasion suite (issue 21): every case of `edgeward_traffic::evasion_capture` — IP
//! fragments (tiny, reversed, overlapping; IPv4 and IPv6; TCP and UDP), TCP segmentation (one
//! byte per segment, shuffled, tiny first segments, overlaps, out of order), insertion tricks (bad
//! checksum, TTL expiring at the gateway) and urgent data — through Suricata 7 and edgeward with
//! the same rules. Fails on any flow where Suricata alerts and edgeward does not, and on any case
//! where edgeward misses what the case is built to fire.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::process::Command;

use common::*;
use edgeward_traffic::{EVASION_RULES, evasion_capture};

type Ends = BTreeSet<(IpAddr, u16)>;

fn ends(a: (IpAddr, u16), b: (IpAddr, u16)) -> Ends {
    BTreeSet::from([a, b])
}

/// 003 §30.8.e (detect attacks on the network): fragmentation and segmentation tricks do not
/// hide an attack from the IDS where Suricata sees it.
#[test]
fn no_evasion_case_hides_what_suricata_sees() {
    let dir = tempfile::tempdir().unwrap();
    let rules_file = dir.path().join("evasion.rules");
    std::fs::write(&rules_file, EVASION_RULES).unwrap();
    let (suricata, edgeward, cases) = both(&rules_file, &ruleset_from_text(EVASION_RULES));
    check(&suricata, &edgeward, &cases, true);
    // The control case proves the rules and the harness work in Suricata too.
    let control = &cases[0];
    assert_eq!(
        suricata
            .get(&ends(control.client, control.server))
            .cloned()
            .unwrap_or_default(),
        BTreeSet::from([9_100_001, 9_100_002])
    );
}

/// The same cases with ET Open 2024-04-21 (the curl user-agent rule 2013028 among what fires):
/// wherever Suricata alerts on a case's flow, edgeward raises the same SIDs.
#[test]
fn no_evasion_case_hides_what_suricata_sees_with_et_open() {
    let rules = et_open();
    let dir = tempfile::tempdir().unwrap();
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
    let set = std::sync::Arc::new(edgeward_ids::ruleset::RuleSet::compile(
        edgeward_ids::loader::LoadedRules::load(&rules, &edgeward_ids::vars::Vars::default())
            .unwrap(),
    ));
    let (suricata, edgeward, cases) = both(&all, &set);
    let control = &cases[0];
    assert!(
        suricata
            .get(&ends(control.client, control.server))
            .is_some_and(|s| s.contains(&2_013_028)),
        "ET's curl user-agent rule fires on the control case: {suricata:?}"
    );
    check(&suricata, &edgeward, &cases, false);
}

type PerFlow = BTreeMap<Ends, BTreeSet<u32>>;

/// Run the evasion capture through Suricata (rules file) and edgeward (compiled set).
fn both(
    rules_file: &std::path::Path,
    set: &std::sync::Arc<edgeward_ids::ruleset::RuleSet>,
) -> (PerFlow, PerFlow, Vec<edgeward_traffic::EvasionCase>) {
    let dir = tempfile::tempdir().unwrap();
    let (cap, cases) = evasion_capture();
    let pcap = dir.path().join("evasion.pcap");
    cap.write(&pcap).unwrap();
    let out = dir.path().join("suricata");
    std::fs::create_dir(&out).unwrap();
    // Suricata's defaults otherwise (checksum validation `auto`, BSD defrag policy).
    let suricata_run = Command::new("suricata")
        .arg("-r")
        .arg(&pcap)
        .arg("-S")
        .arg(rules_file)
        .args(["--runmode", "single", "-l"])
        .arg(&out)
        .output()
        .expect("suricata 7 is installed (scripts/setup.sh)");
    assert!(
        suricata_run.status.success(),
        "{}",
        String::from_utf8_lossy(&suricata_run.stderr)
    );
    let mut suricata: BTreeMap<Ends, BTreeSet<u32>> = BTreeMap::new();
    for (_, src, dst, sid) in suricata_alerts(&out.join("eve.json")) {
        suricata.entry(ends(src, dst)).or_default().insert(sid);
    }
    let mut edgeward: BTreeMap<Ends, BTreeSet<u32>> = BTreeMap::new();
    for a in run(set, &cap) {
        edgeward
            .entry(ends((a.src, a.sport), (a.dst, a.dport)))
            .or_default()
            .insert(a.sid);
    }
    (suricata, edgeward, cases)
}

/// Fail on any case where Suricata raised a SID edgeward did not (and, with `expect`, where
/// edgeward missed what the case is built to fire).
fn check(
    suricata: &PerFlow,
    edgeward: &PerFlow,
    cases: &[edgeward_traffic::EvasionCase],
    expect: bool,
) {
    let mut failures = Vec::new();
    for case in cases {
        let k = ends(case.client, case.server);
        let s = suricata.get(&k).cloned().unwrap_or_default();
        let e = edgeward.get(&k).cloned().unwrap_or_default();
        let missed_vs_suricata: Vec<_> = s.difference(&e).collect();
        let expected: BTreeSet<u32> = if expect {
            case.expect.iter().copied().collect()
        } else {
            BTreeSet::new()
        };
        let missed_expected: Vec<_> = expected.difference(&e).collect();
        eprintln!("{:<80} suricata {:?} edgeward {:?}", case.name, s, e);
        if !missed_vs_suricata.is_empty() || !missed_expected.is_empty() {
            failures.push(format!(
                "{}: suricata {s:?}, edgeward {e:?}, expected {expected:?}",
                case.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
