//! The live IDS in the lab: the gateway watches its uplinks with ET Open; a request from a staff
//! PC with a user agent ET Open flags reaches the Internet host, and its alert is an event
//! within seconds (then stored and sent to the SOC like every event).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use edgeward_config::AGENCY_DEFAULT_PROFILE;
use edgeward_lab::{read_events, test_lab_with, wait_until};

/// The shipped ET Open ruleset, extracted (`scripts/et-open.sh`).
fn et_open() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(root.join("scripts/et-open.sh"))
        .current_dir(&root)
        .output()
        .expect("scripts/et-open.sh runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// 003 §30.8.e, 003 §30.6.đ, 004 §7.1.a: the uplinks are monitoring points; an attack or policy
/// signature seen there becomes an alert event in Suricata's EVE shape.
#[test]
fn a_flagged_request_on_an_uplink_raises_an_alert_event() {
    let rules = et_open();
    let Some(lab) = test_lab_with("ids", AGENCY_DEFAULT_PROFILE, &["--ids-rules", &rules]) else {
        return;
    };
    let running = wait_until(Duration::from_secs(120), || {
        read_events(&lab).iter().any(|e| {
            e["event_type"] == "audit"
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("IDS watching"))
        })
    });
    assert!(running, "the IDS did not start; log:\n{}", lab.log_tail(30));
    let out = lab
        .exec(
            "staff-1",
            "curl",
            &[
                "-s",
                "-m",
                "5",
                "-A",
                "curl/8.5.0",
                "http://192.0.2.80/ids-test",
            ],
        )
        .unwrap();
    assert!(
        out.status.success(),
        "the request itself passes (IDS mode does not block)"
    );
    let alerted = wait_until(Duration::from_secs(15), || {
        read_events(&lab)
            .iter()
            .any(|e| e["event_type"] == "alert" && e["alert"]["signature_id"] == 2_013_028)
    });
    let kinds: Vec<String> = read_events(&lab)
        .iter()
        .filter(|e| e["event_type"] == "alert")
        .map(|e| e["alert"]["signature_id"].to_string())
        .collect();
    assert!(
        alerted,
        "no curl user-agent alert; alerts: {kinds:?}; log:\n{}",
        lab.log_tail(20)
    );
}
