//! End-to-end tests of the foundation: the gateway routes and NATs for staff, keeps guests off
//! the LAN, hides its own services from the Internet, reconciles on SIGHUP, and refuses a bad
//! configuration while the running ruleset stays.

use std::time::Duration;

use edgeward_config::AGENCY_DEFAULT_PROFILE;
use edgeward_lab::topology::endpoints::*;
use edgeward_lab::{Lab, Reach, read_events, test_lab, wait_until};

fn nft_table(lab: &Lab) -> String {
    lab.nft_table(false)
}

fn metrics(lab: &Lab) -> String {
    let (status, body) = lab
        .http_get("admin-1", GATEWAY_MGMT, METRICS_PORT, "/metrics", 5)
        .expect("metrics endpoint");
    assert_eq!(status, 200);
    body
}

#[test]
fn staff_reach_the_internet_through_nat_and_guests_do_not_reach_staff() {
    let Some(lab) = test_lab("nat", AGENCY_DEFAULT_PROFILE) else {
        return;
    };

    // Staff → Internet HTTP, and the server sees the gateway's WAN address, not the LAN one.
    let (status, body) = lab
        .http_get("staff-1", INTERNET_HTTP, 80, "/", 10)
        .expect("staff-1 reaches the Internet");
    assert_eq!(status, 200);
    assert!(body.starts_with("server=internet"), "{body}");
    let seen = body.split("client=").nth(1).unwrap_or_default();
    assert!(
        seen.starts_with(GATEWAY_WAN1) || seen.starts_with(GATEWAY_WAN2),
        "the Internet saw {seen}, expected a masqueraded WAN address"
    );
    assert!(!body.contains("10.10.0.11"), "{body}");

    // Guests reach the Internet but never a staff host; the drop is silent (no RST).
    assert!(lab.can_connect("guest-1", INTERNET_HTTP, 80, 10));
    assert!(
        lab.can_connect("staff-2", "10.10.0.11", 80, 10),
        "staff-1's server is up"
    );
    assert_eq!(
        lab.tcp(
            "guest-1",
            "10.10.0.11".parse().unwrap(),
            80,
            Duration::from_millis(800)
        ),
        Reach::TimedOut
    );
    assert_eq!(
        lab.tcp(
            "guest-2",
            "10.10.0.12".parse().unwrap(),
            445,
            Duration::from_millis(800)
        ),
        Reach::TimedOut
    );

    // The gateway's own services answer on the management zone only, never from the Internet.
    assert!(metrics(&lab).contains("edgeward_reconciles_total{result=\"ok\"} 1"));
    for port in [METRICS_PORT, 22, 443] {
        for wan in [GATEWAY_WAN1, GATEWAY_WAN2] {
            assert_eq!(
                lab.tcp(
                    "internet",
                    wan.parse().unwrap(),
                    port,
                    Duration::from_millis(600)
                ),
                Reach::TimedOut,
                "the gateway answered on {wan}:{port} from the Internet"
            );
        }
    }
    assert!(
        !lab.can_connect("staff-1", "10.10.0.1", METRICS_PORT, 1),
        "metrics must not answer on the staff LAN"
    );
}

const WIFI_SECRET: &str = "Hoa-Sen-Vang-2026";

#[test]
fn sighup_with_a_changed_config_changes_behaviour() {
    let Some(lab) = test_lab("hup", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    assert!(lab.can_connect("staff-1", INTERNET_HTTP, 80, 10));

    // Take http away from staff → internet; keep everything else.
    let before = "services = [\"http\", \"https\", \"dns\", \"ntp\", \"smtp\", \"imap\", \"ping\"]";
    assert_eq!(AGENCY_DEFAULT_PROFILE.matches(before).count(), 1);
    let changed = AGENCY_DEFAULT_PROFILE.replace(
        before,
        "services = [\"https\", \"dns\", \"ntp\", \"smtp\", \"imap\", \"ping\"]",
    ) + &format!(
        "\n[[wifi]]\nssid = \"Khach\"\nzone = \"guest\"\nsecurity = \"wpa2-wpa3\"\npassphrase = \"{WIFI_SECRET}\"\npassphrase_changed = \"{}\"\n",
        edgeward_config::today()
    );
    std::fs::write(lab.config_path(), &changed).unwrap();
    lab.reload_gateway().unwrap();

    assert!(
        wait_until(Duration::from_secs(5), || !lab.can_connect(
            "staff-1",
            INTERNET_HTTP,
            80,
            1
        )),
        "staff-1 still reaches port 80 after the reload; log:\n{}",
        lab.log_tail(20)
    );
    assert!(
        lab.can_connect("staff-1", UPDATE_MIRROR, 443, 5),
        "https must still be allowed"
    );

    // The change is in the history and on the bus as an audit event with its diff.
    let hist = lab
        .exec(
            "gateway",
            &edgeward_lab::edgeward_binary().display().to_string(),
            &[
                "--state-dir",
                &lab.state_dir().display().to_string(),
                "config",
                "history",
            ],
        )
        .unwrap();
    let hist = String::from_utf8_lossy(&hist.stdout);
    assert!(hist.contains("v2"), "{hist}");
    let events = read_events(&lab);
    let applied: Vec<_> = events
        .iter()
        .filter(|e| {
            e["event_type"] == "audit" && e["action"] == "config.apply" && e["outcome"] == "success"
        })
        .collect();
    assert_eq!(applied.len(), 2, "{events:#?}");
    let diff = applied[1]["diff"].as_str().unwrap_or_default();
    assert!(diff.contains("-services = [\"http\", \"https\""), "{diff}");
    // The audit trail (stored for months, shipped to the SOC) shows that a Wi-Fi passphrase was
    // set, never the passphrase.
    assert!(diff.contains("+passphrase = \"••••••••\""), "{diff}");
    assert!(
        events.iter().all(|e| !e.to_string().contains(WIFI_SECRET)),
        "a passphrase reached the event stream"
    );
    // Sequence numbers are gap-free and increasing.
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
}

#[test]
fn an_invalid_config_is_refused_and_the_running_ruleset_stays() {
    let Some(lab) = test_lab("bad", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let before = nft_table(&lab);

    // A weight of 0 and a guest → TSLCD allow: refused at validation.
    let bad = AGENCY_DEFAULT_PROFILE.replace("weight = 3", "weight = 0")
        + "\n[[policies]]\nfrom = \"guest\"\nto = \"tslcd\"\nservices = [\"any\"]\naction = \"allow\"\n";
    std::fs::write(lab.config_path(), bad).unwrap();
    lab.reload_gateway().unwrap();

    assert!(
        wait_until(Duration::from_secs(5), || read_events(&lab).iter().any(
            |e| e["event_type"] == "system"
                && e["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("configuration refused"))
        )),
        "no refusal event; log:\n{}",
        lab.log_tail(20)
    );
    let refusal = read_events(&lab)
        .into_iter()
        .find(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("configuration refused"))
        })
        .unwrap();
    let msg = refusal["message"].as_str().unwrap();
    assert!(
        msg.contains("weight 0") && msg.contains("000 §5.6.b"),
        "{msg}"
    );
    assert!(
        msg.contains("edgeward.toml:"),
        "the refusal names file and line: {msg}"
    );

    assert_eq!(nft_table(&lab), before, "the running ruleset changed");
    assert!(lab.can_connect("staff-1", INTERNET_HTTP, 80, 5));
    assert!(!lab.can_connect("guest-1", GOV_SERVER, 443, 1));
    let m = metrics(&lab);
    assert!(
        m.contains("edgeward_apply_errors_total{stage=\"validate\"} 1"),
        "{m}"
    );
    assert!(lab.gateway_pid().is_some(), "the daemon must keep running");
}

#[test]
fn config_apply_and_rollback_through_the_cli_record_author_and_reason() {
    let Some(lab) = test_lab("cli", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let bin = edgeward_lab::edgeward_binary().display().to_string();
    let state = lab.state_dir().display().to_string();
    let config = lab.config_path().display().to_string();
    let cli = |args: &[&str]| {
        let mut all = vec!["--state-dir", &state, "--config", &config];
        all.extend_from_slice(args);
        lab.exec("gateway", &bin, &all).unwrap()
    };

    // Servers lose their update mirror access in the candidate.
    let candidate = lab.dir.join("candidate.toml");
    std::fs::write(
        &candidate,
        AGENCY_DEFAULT_PROFILE.replace(
            "prefixes = [\"192.0.2.100/32\"]",
            "prefixes = [\"192.0.2.101/32\"]",
        ),
    )
    .unwrap();
    let diff = cli(&["config", "diff", candidate.to_str().unwrap()]);
    let diff = String::from_utf8_lossy(&diff.stdout);
    assert!(diff.contains("+prefixes = [\"192.0.2.101/32\"]"), "{diff}");

    assert!(lab.can_connect("server-1", UPDATE_MIRROR, 80, 5));
    let out = cli(&[
        "config",
        "apply",
        candidate.to_str().unwrap(),
        "--author",
        "nguyen.van.a",
        "--reason",
        "đổi máy chủ cập nhật",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(wait_until(Duration::from_secs(5), || !lab.can_connect(
        "server-1",
        UPDATE_MIRROR,
        80,
        1
    )));

    let out = cli(&[
        "config",
        "rollback",
        "1",
        "--author",
        "tran.thi.b",
        "--reason",
        "mirror moved back",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(wait_until(Duration::from_secs(5), || lab.can_connect(
        "server-1",
        UPDATE_MIRROR,
        80,
        1
    )));

    // The history records a change once every subsystem has applied it (the firewall first:
    // the connection above may succeed a moment before).
    let mut hist = String::new();
    wait_until(Duration::from_secs(10), || {
        hist = String::from_utf8_lossy(&cli(&["config", "history"]).stdout).into_owned();
        hist.contains("rollback to v1")
    });
    assert!(
        hist.contains("nguyen.van.a") && hist.contains("đổi máy chủ cập nhật"),
        "{hist}"
    );
    assert!(
        hist.contains("tran.thi.b") && hist.contains("rollback to v1"),
        "{hist}"
    );

    // An invalid candidate is refused by the CLI itself and nothing is written.
    std::fs::write(
        &candidate,
        AGENCY_DEFAULT_PROFILE.replace("lockout_failures = 5", "lockout_failures = 50"),
    )
    .unwrap();
    let before = std::fs::read_to_string(lab.config_path()).unwrap();
    let out = cli(&[
        "config",
        "apply",
        candidate.to_str().unwrap(),
        "--author",
        "x",
        "--reason",
        "y",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("lockout_failures"));
    assert_eq!(std::fs::read_to_string(lab.config_path()).unwrap(), before);
}

#[test]
fn teardown_removes_every_namespace_of_the_lab_and_nothing_else() {
    let Some(lab) = test_lab("down", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let other = edgeward_lab::unique_prefix("oth");
    edgeward_lab::netns::add(&format!("{other}-keep")).unwrap();
    let prefix = lab.prefix.clone();
    let dir = lab.dir.clone();
    drop(lab);
    let list = String::from_utf8_lossy(
        &std::process::Command::new("ip")
            .args(["netns", "list"])
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    let leftovers: Vec<&str> = list
        .lines()
        .filter(|l| l.starts_with(&format!("{prefix}-")))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    assert!(!dir.exists());
    assert!(
        list.contains(&format!("{other}-keep")),
        "an unrelated namespace was removed"
    );
    edgeward_lab::netns::delete(&format!("{other}-keep")).unwrap();
}
