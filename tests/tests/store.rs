//! The encrypted event store in the lab: events are stored encrypted and verify intact; a
//! `kill -9` under load loses nothing that was acknowledged durable; a flipped byte is named by
//! segment and record.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use edgeward_config::AGENCY_DEFAULT_PROFILE;
use edgeward_lab::{Lab, netns, read_events, test_lab, wait_until};

fn logs(lab: &Lab, args: &[&str]) -> std::process::Output {
    let key_dir = lab.key_dir().display().to_string();
    let mut all = vec!["logs", "--key-dir", key_dir.as_str()];
    all.extend_from_slice(args);
    lab.edgeward(&all)
}

fn segments(lab: &Lab) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(lab.state_dir().join("store"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// Denied UDP from a guest to `packets` different ports: each becomes a firewall event (up to
/// the log rate limit).
fn flood(lab: &Lab, packets: u32) {
    netns::within(&lab.ns("guest-1"), move || {
        let s = UdpSocket::bind("10.20.0.11:0").unwrap();
        for i in 0..packets {
            let _ = s.send_to(
                b"x",
                SocketAddr::new("10.10.0.11".parse().unwrap(), 20000 + i as u16),
            );
        }
    })
    .unwrap();
}

/// Forced reconciles: each emits a system event (signals sent faster than a reconcile coalesce).
fn reloads(lab: &Lab, n: u32) {
    for _ in 0..n {
        lab.reload_gateway().unwrap();
        std::thread::sleep(Duration::from_millis(150));
    }
}

#[test]
fn events_are_encrypted_at_rest_and_verify_intact() {
    let Some(lab) = test_lab("sto", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    flood(&lab, 200);
    lab.reload_gateway().unwrap();
    assert!(wait_until(Duration::from_secs(5), || read_events(&lab)
        .iter()
        .any(|e| e["event_type"] == "firewall")));
    std::thread::sleep(Duration::from_millis(500));
    let out = logs(&lab, &["verify"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("intact"), "{text}");
    // The store holds what the bus carried, and none of it is readable on disk.
    let out = logs(
        &lab,
        &["query", "--kind", "audit", "--text", "config.apply"],
    );
    let found = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        found.lines().count() >= 1 && found.contains("\"action\":\"config.apply\""),
        "{found}"
    );
    for seg in segments(&lab) {
        let raw = std::fs::read(&seg).unwrap();
        assert!(
            !raw.windows(12).any(|w| w == b"config.apply"),
            "{} holds plaintext",
            seg.display()
        );
    }
    // The keys are not next to the data.
    assert!(
        !lab.state_dir()
            .join("store")
            .join("store-keys.json")
            .exists()
    );
    assert!(lab.key_dir().join("store-keys.json").exists());
}

#[test]
fn kill_9_under_load_loses_nothing_acknowledged_durable() {
    let Some(lab) = test_lab("k9", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    // Keep events coming while the daemon is killed.
    reloads(&lab, 20);
    flood(&lab, 30);
    let pid = lab.gateway_pid().unwrap();
    for _ in 0..5 {
        let _ = lab.reload_gateway();
    }
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status();
    assert!(wait_until(Duration::from_secs(3), || lab
        .gateway_pid()
        .is_none()));
    // Every event the plaintext journal got had already been flushed to the store first (same
    // batch, store first): that is the acknowledged-durable set.
    let journaled: Vec<u64> = read_events(&lab)
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert!(journaled.len() > 10);
    lab.start_gateway().unwrap();
    lab.wait_gateway_ready(Duration::from_secs(20)).unwrap();
    let out = logs(&lab, &["verify"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stored = String::from_utf8_lossy(&logs(&lab, &["query"]).stdout).into_owned();
    let stored: Vec<u64> = stored
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    for s in &journaled {
        assert!(
            stored.contains(s),
            "seq {s} was acknowledged but is missing after kill -9"
        );
    }
    // The sequence goes on without a gap or a repeat.
    assert!(
        stored.windows(2).all(|w| w[1] == w[0] + 1),
        "sequence broken after restart"
    );
}

#[test]
fn a_flipped_byte_in_a_segment_is_named_by_verify() {
    let Some(lab) = test_lab("flp", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    flood(&lab, 30);
    reloads(&lab, 10);
    assert!(wait_until(Duration::from_secs(5), || read_events(&lab)
        .len()
        > 10));
    let pid = lab.gateway_pid().unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    assert!(wait_until(Duration::from_secs(5), || lab
        .gateway_pid()
        .is_none()));
    let seg = segments(&lab)[0].clone();
    let mut raw = std::fs::read(&seg).unwrap();
    assert!(raw.len() > 600);
    let at = raw.len() - 100;
    raw[at] ^= 0x20;
    std::fs::write(&seg, raw).unwrap();
    let out = logs(&lab, &["verify"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let name = seg.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("{name} record ")) && l.contains("changed or damaged")),
        "{text}"
    );
}
