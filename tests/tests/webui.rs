//! End-to-end test of the admin web UI in a real browser: headless Chromium (Debian's
//! `chromium` + `chromium-driver`, driven by Selenium from `tests/e2e/webui.py`) runs in the admin
//! workstation's namespace against the daemon's HTTPS UI on the management zone.
//!
//! The harness checks: first login of the factory account forces a new password and TOTP
//! enrolment; the UI renders in Vietnamese and English; a viewer cannot change anything (pages
//! and API); five wrong passwords lock an account until another admin unlocks it; a change applied
//! with commit-confirm and not confirmed is rolled back. Screenshots go to the lab directory, and
//! to `docs/screenshots/` when `EDGEWARD_UPDATE_SCREENSHOTS=1`.

use std::path::PathBuf;
use std::process::Command;

use edgeward_config::AGENCY_DEFAULT_PROFILE;
use edgeward_lab::test_lab;
use edgeward_lab::topology::endpoints::{GATEWAY_MGMT, GATEWAY_WAN1};

const CONFIRM_SECONDS: u32 = 20;

#[test]
fn admin_ui_in_a_real_browser() {
    let config = AGENCY_DEFAULT_PROFILE.replace(
        "commit_confirm_seconds = 120",
        &format!("commit_confirm_seconds = {CONFIRM_SECONDS}"),
    );
    assert_ne!(
        config, AGENCY_DEFAULT_PROFILE,
        "the profile sets commit_confirm_seconds"
    );
    let Some(lab) = test_lab("webui", &config) else {
        return;
    };
    assert!(
        lab.can_connect("admin-1", GATEWAY_MGMT, 443, 20),
        "the admin UI answers on the management zone"
    );
    // Nowhere else: not from the staff LAN (gateway's staff address or the mgmt one), not from
    // the Internet.
    for (role, addr) in [
        ("staff-1", "10.10.0.1"),
        ("staff-1", GATEWAY_MGMT),
        ("internet", GATEWAY_WAN1),
    ] {
        assert!(
            !lab.can_connect(role, addr, 443, 2),
            "the admin UI must not answer {role} on {addr}"
        );
    }
    // TLS 1.2 and 1.3 only.
    for (flag, accepted) in [("-tls1_1", false), ("-tls1_2", true), ("-tls1_3", true)] {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.ns("admin-1"),
                "timeout",
                "10",
                "openssl",
                "s_client",
            ])
            .args(["-connect", &format!("{GATEWAY_MGMT}:443"), flag])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("openssl s_client");
        let text = String::from_utf8_lossy(&out.stdout);
        let handshake = text.contains("BEGIN CERTIFICATE") || text.contains("Server certificate");
        assert_eq!(handshake, accepted, "openssl {flag}: {text}");
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shots = lab.state_dir().join("screenshots");
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.ns("admin-1"),
            "timeout",
            "600",
            "/usr/bin/python3",
        ])
        .arg(root.join("e2e/webui.py"))
        .args(["--url", &format!("https://{GATEWAY_MGMT}")])
        .arg("--shots")
        .arg(&shots)
        .args(["--confirm-seconds", &CONFIRM_SECONDS.to_string()])
        .output()
        .expect(
            "run the browser harness (apt-get install chromium chromium-driver python3-selenium)",
        );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser harness failed ({}):\n{stdout}\n{stderr}\ngateway log:\n{}",
        out.status,
        lab.log_tail(40)
    );
    assert!(stdout.contains("all steps passed"), "{stdout}");
    if std::env::var("EDGEWARD_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        let dest = root.join("../docs/screenshots");
        std::fs::create_dir_all(&dest).expect("docs/screenshots");
        for e in std::fs::read_dir(&shots).expect("screenshots").flatten() {
            std::fs::copy(e.path(), dest.join(e.file_name())).expect("copy screenshot");
        }
    }

    // The daemon's own record: the rollback is in the event journal as audit + system events.
    let events = std::fs::read_to_string(lab.events_path()).unwrap_or_default();
    for needle in [
        "\"action\":\"auth.lockout\"",
        "\"action\":\"account.totp_enrol\"",
        "\"action\":\"config.view\"",
        "\"action\":\"auth.forbidden\"",
        "automatic rollback",
    ] {
        assert!(events.contains(needle), "event journal lacks {needle}");
    }
}
