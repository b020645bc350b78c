//! Time synchronisation in the lab (003 §30.8): the gateway's chronyd follows the NTP server the
//! configuration names (here on the SOC's network, over the TSLCD), serves time to the zones it
//! names and to no other, and raises an alarm event when the clock is further off than the limit.
//! The lab's namespaces share the host's clock, so the gateway runs chronyd with `-x` (measure
//! and serve, never set); the server is `tests/fake-ntp.py`, five seconds ahead.

use std::time::Duration;

use edgeward_config::AGENCY_DEFAULT_PROFILE;
use edgeward_lab::{netns, read_events, test_lab, wait_until};

/// A client in `role` asks `server` once (`chronyd -Q`, which never sets the clock): its report.
fn query(lab: &edgeward_lab::Lab, role: &str, server: &str) -> String {
    // A pid file of its own: chronyd removes its pid file when it exits.
    let pidfile = format!(
        "pidfile {}",
        lab.dir.join(format!("chronyd-query-{role}.pid")).display()
    );
    let out = lab
        .exec(
            role,
            "chronyd",
            &[
                "-Q",
                "-t",
                "8",
                &format!("server {server} iburst maxsamples 1"),
                &pidfile,
            ],
        )
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// 003 §30.8: the gateway synchronises with the configured source, serves the staff LAN but not
/// the guests, shows its state, and a clock five seconds off (limit 1 s) is an alarm event.
#[test]
fn the_gateway_follows_its_ntp_server_serves_the_staff_lan_and_raises_an_offset_alarm() {
    let profile = format!(
        "{AGENCY_DEFAULT_PROFILE}\n[time]\nservers = [\"10.251.9.10\"]\nserve_zones = [\"staff\"]\nmax_offset_ms = 1000\n"
    );
    let Some(lab) = test_lab("tim", &profile) else {
        return;
    };
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fake-ntp.py");
    let mut server = netns::command(&lab.ns("soc"), "python3")
        .args([script.to_str().unwrap(), "10.251.9.10", "5"])
        .spawn()
        .unwrap();
    let alarm = wait_until(Duration::from_secs(60), || {
        read_events(&lab).iter().any(|e| {
            e["component"] == "time"
                && e["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("over the 1000 ms limit"))
        })
    });
    let status: serde_json::Value = serde_json::from_slice(
        &std::fs::read(lab.state_dir().join("time-status.json")).unwrap_or_default(),
    )
    .unwrap_or_default();
    let staff = query(&lab, "staff-1", "10.10.0.1");
    let guest = query(&lab, "guest-1", "10.20.0.1");
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        alarm,
        "no offset alarm; status {status}; log {}",
        lab.log_tail(30)
    );
    assert_eq!(status["tracking"]["reference"], "10.251.9.10", "{status}");
    let offset = status["tracking"]["offset_ms"].as_f64().unwrap_or(0.0);
    assert!(
        (offset - 5000.0).abs() < 200.0,
        "offset {offset} ms: {status}"
    );
    assert_eq!(status["alarm"], true, "{status}");
    assert!(
        staff.contains("System clock wrong by 5."),
        "the staff LAN gets the gateway's time (the source's, 5 s ahead of this clock): {staff}"
    );
    assert!(
        !guest.contains("System clock wrong by") && guest.contains("Timeout"),
        "the guest zone is not served: {guest}"
    );
}
