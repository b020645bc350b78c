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

/// 000 §8.1.g, 003 §30.8.e (inline prevention): in IPS mode the uplinks' forwarded traffic is
/// judged inline; a request a `drop` rule matches gets no answer while ordinary requests pass, the
/// alert says `blocked`, and the admin plane (traffic to the gateway) is never queued.
#[test]
fn in_ips_mode_a_drop_rule_blocks_the_request_and_ordinary_traffic_passes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("local.rules"),
        "drop http any any -> any any (msg:\"EDGEWARD TEST blocked agent\"; flow:established,to_server; http.user_agent; content:\"edgeward-evil-agent\"; classtype:trojan-activity; sid:9200001; rev:1;)\n",
    )
    .unwrap();
    let rules = dir.path().display().to_string();
    let config = AGENCY_DEFAULT_PROFILE.replace("mode = \"ids\"", "mode = \"ips\"");
    assert_ne!(
        config, AGENCY_DEFAULT_PROFILE,
        "the profile's IDS mode line moved"
    );
    let Some(lab) = test_lab_with("ips", &config, &["--ids-rules", &rules]) else {
        return;
    };
    let running = wait_until(Duration::from_secs(60), || {
        read_events(&lab).iter().any(|e| {
            e["event_type"] == "audit"
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("IPS inline"))
        })
    });
    assert!(running, "the IPS did not start; log:\n{}", lab.log_tail(30));
    let curl = |agent: &str| {
        lab.exec(
            "staff-1",
            "curl",
            &[
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-m",
                "4",
                "-A",
                agent,
                "http://192.0.2.80/ips-test",
            ],
        )
        .unwrap()
    };
    let ok = curl("Mozilla/5.0");
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout),
        "200",
        "ordinary traffic passes inline"
    );
    let blocked = curl("edgeward-evil-agent");
    assert!(
        !blocked.status.success() && String::from_utf8_lossy(&blocked.stdout) != "200",
        "the flagged request got an answer: {}",
        String::from_utf8_lossy(&blocked.stdout)
    );
    let alerted = wait_until(Duration::from_secs(10), || {
        read_events(&lab).iter().any(|e| {
            e["event_type"] == "alert"
                && e["alert"]["signature_id"] == 9_200_001
                && e["alert"]["action"] == "blocked"
        })
    });
    assert!(alerted, "no blocked alert; log:\n{}", lab.log_tail(20));
    // The admin plane is not queued: the UI answers from the management zone.
    let ui = lab
        .exec(
            "admin-1",
            "curl",
            &[
                "-sk",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-m",
                "4",
                "https://10.10.99.1/",
            ],
        )
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&ui.stdout).starts_with('0'),
        "admin UI unreachable"
    );
}

fn kill9(pid: i32) {
    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
}

fn ips_lab(tag: &str, fail_open: bool) -> Option<(edgeward_lab::Lab, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("local.rules"),
        "drop http any any -> any any (msg:\"EDGEWARD TEST blocked agent\"; http.user_agent; content:\"edgeward-evil-agent\"; sid:9200001; rev:1;)\n",
    )
    .unwrap();
    let config = AGENCY_DEFAULT_PROFILE
        .replace("mode = \"ids\"", "mode = \"ips\"")
        .replace("fail_open = true ", &format!("fail_open = {fail_open} "));
    assert!(config.contains(&format!("fail_open = {fail_open} ")));
    let rules = dir.path().display().to_string();
    let lab = test_lab_with(tag, &config, &["--ids-rules", &rules])?;
    let running = wait_until(Duration::from_secs(60), || {
        read_events(&lab).iter().any(|e| {
            e["event_type"] == "audit"
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("IPS inline"))
        })
    });
    assert!(running, "the IPS did not start; log:\n{}", lab.log_tail(30));
    Some((lab, dir))
}

fn fetch(lab: &edgeward_lab::Lab) -> String {
    let out = lab
        .exec(
            "staff-1",
            "curl",
            &[
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-m",
                "3",
                "http://192.0.2.80/x",
            ],
        )
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// 000 §8.1.g: the failure policy is explicit — with the engine gone, fail-open keeps the
/// uplinks' traffic flowing (uninspected) and fail-closed stops it; a restarted daemon inspects
/// again.
#[test]
fn with_the_engine_gone_fail_open_passes_and_fail_closed_stops() {
    for fail_open in [true, false] {
        let Some((lab, _rules)) = ips_lab(if fail_open { "ipo" } else { "ipc" }, fail_open) else {
            return;
        };
        assert_eq!(fetch(&lab), "200");
        kill9(lab.gateway_pid().expect("the daemon runs"));
        std::thread::sleep(Duration::from_millis(300));
        let without = fetch(&lab);
        if fail_open {
            assert_eq!(
                without, "200",
                "fail-open: traffic passes while the engine is gone"
            );
        } else {
            assert_ne!(
                without, "200",
                "fail-closed: traffic stops while the engine is gone"
            );
        }
        lab.start_gateway().unwrap();
        let ips_started = |lab: &edgeward_lab::Lab| {
            read_events(lab)
                .iter()
                .filter(|e| {
                    e["event_type"] == "audit"
                        && e["detail"]
                            .as_str()
                            .is_some_and(|d| d.contains("IPS inline"))
                })
                .count()
        };
        assert!(
            wait_until(Duration::from_secs(60), || ips_started(&lab) >= 2),
            "the IPS did not come back; log:\n{}",
            lab.log_tail(20)
        );
        assert!(
            wait_until(Duration::from_secs(60), || fetch(&lab) == "200"),
            "traffic flows again after the restart; log:\n{}",
            lab.log_tail(20)
        );
        // … and is inspected again: the flagged request is blocked.
        let flagged = lab
            .exec(
                "staff-1",
                "curl",
                &[
                    "-s",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                    "-m",
                    "3",
                    "-A",
                    "edgeward-evil-agent",
                    "http://192.0.2.80/x",
                ],
            )
            .unwrap();
        assert_ne!(
            String::from_utf8_lossy(&flagged.stdout),
            "200",
            "inspection resumed"
        );
    }
}

/// 000 §12.1.e (virtual patching), 003 §30.8.e: the security admin turns an ET Open *alert* rule
/// into a drop by sid (`ids.drop_sids`), and in IPS mode the matching request is blocked.
#[test]
fn an_alert_rule_escalated_to_drop_by_sid_blocks_in_ips_mode() {
    let rules = et_open();
    let config =
        AGENCY_DEFAULT_PROFILE.replace("mode = \"ids\"", "mode = \"ips\"\ndrop_sids = [2013028]");
    let Some(lab) = test_lab_with("ipd", &config, &["--ids-rules", &rules]) else {
        return;
    };
    assert!(
        wait_until(Duration::from_secs(120), || read_events(&lab).iter().any(
            |e| {
                e["event_type"] == "audit"
                    && e["detail"]
                        .as_str()
                        .is_some_and(|d| d.contains("IPS inline"))
            }
        )),
        "the IPS did not start; log:\n{}",
        lab.log_tail(30)
    );
    let curl = |agent: &str| {
        let out = lab
            .exec(
                "staff-1",
                "curl",
                &[
                    "-s",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                    "-m",
                    "4",
                    "-A",
                    agent,
                    "http://192.0.2.80/x",
                ],
            )
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(curl("Mozilla/5.0"), "200");
    assert_ne!(
        curl("curl/8.5.0"),
        "200",
        "the escalated rule drops the request"
    );
    assert!(wait_until(Duration::from_secs(10), || read_events(&lab)
        .iter()
        .any(|e| {
            e["event_type"] == "alert"
                && e["alert"]["signature_id"] == 2_013_028
                && e["alert"]["action"] == "blocked"
        })));
}

/// 000 §12.1.e (virtual patching by the SOC), 003 §30.6: the SOC signs and pushes a bundle holding
/// a `drop` rule; the gateway in IPS mode enforces it within 10 s of the push — a matching request
/// gets no answer while ordinary ones pass — and the alert is an event with action blocked (the
/// SOC link carries every event to the hub, `tests/tests/soc.rs`).
#[test]
fn a_drop_rule_pushed_by_the_soc_is_enforced_within_ten_seconds() {
    let Some((lab, _local)) = ips_lab("isp", true) else {
        return;
    };
    let soc = lab.soc_dir().display().to_string();
    let src = lab.dir.join("soc-rules");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("soc.rules"),
        "drop http any any -> any any (msg:\"SOC virtual patch\"; flow:established,to_server; http.uri; content:\"/cgi-bin/vulnerable\"; classtype:web-application-attack; sid:9300001; rev:1;)\n",
    )
    .unwrap();
    let hub = |args: &[&str]| {
        let out = Command::new(lab.hub_bin()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    assert!(wait_until(Duration::from_secs(15), || {
        String::from_utf8_lossy(
            &Command::new(lab.hub_bin())
                .args(["status", "--dir", &soc])
                .output()
                .unwrap()
                .stdout,
        )
        .contains("connected")
    }));
    let bundle = lab.dir.join("bundle-ips.json");
    hub(&[
        "bundle",
        "--dir",
        &soc,
        "--rules",
        src.to_str().unwrap(),
        "--version",
        "7",
        "--mode",
        "ips",
        "--out",
        bundle.to_str().unwrap(),
    ]);
    let get = |path: &str| {
        let out = lab
            .exec(
                "staff-1",
                "curl",
                &[
                    "-s",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                    "-m",
                    "2",
                    &format!("http://192.0.2.80{path}"),
                ],
            )
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(
        get("/cgi-bin/vulnerable"),
        "200",
        "not blocked before the push"
    );
    let pushed = std::time::Instant::now();
    hub(&[
        "push",
        "--dir",
        &soc,
        "--bundle",
        bundle.to_str().unwrap(),
        "--to",
        "all",
        "--wait",
        "15",
    ]);
    let enforced = wait_until(Duration::from_secs(10), || {
        get("/cgi-bin/vulnerable") != "200"
    });
    let took = pushed.elapsed();
    assert!(
        enforced,
        "not enforced 10 s after the push; log:\n{}",
        lab.log_tail(20)
    );
    eprintln!("push to enforcement: {:.1} s", took.as_secs_f64());
    assert_eq!(get("/index.html"), "200", "ordinary requests still pass");
    assert!(wait_until(Duration::from_secs(10), || read_events(&lab)
        .iter()
        .any(|e| {
            e["event_type"] == "alert"
                && e["alert"]["signature_id"] == 9_300_001
                && e["alert"]["action"] == "blocked"
        })));
}
