//! The live IDS/IPS in the lab: the gateway watches its uplinks (ET Open shipped in `ids/rules/`,
//! or rules a test writes); alerts are events within seconds (then stored and sent to the SOC like
//! every event); in IPS mode drop rules block on the wire, with an explicit failure policy.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use edgeward_config::AGENCY_DEFAULT_PROFILE;
use edgeward_lab::{Lab, read_events, test_lab_with, wait_until};

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

/// HTTP status of a GET from staff-1 to the Internet host with this user agent ("000": nothing
/// answered within `secs`).
fn status(lab: &Lab, agent: &str, path: &str, secs: u32) -> String {
    let url = format!("http://192.0.2.80{path}");
    let max = secs.to_string();
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
                &max,
                "-A",
                agent,
                &url,
            ],
        )
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// How many times the daemon reported the IDS or IPS running (`what`: "IDS watching" or
/// "IPS inline"), in its audit records.
fn started(lab: &Lab, what: &str) -> usize {
    read_events(lab)
        .iter()
        .filter(|e| {
            e["event_type"] == "audit" && e["detail"].as_str().is_some_and(|d| d.contains(what))
        })
        .count()
}

/// Whether an alert with this sid (and action, if given) is among the events.
fn alerted(lab: &Lab, sid: u64, action: Option<&str>) -> bool {
    read_events(lab).iter().any(|e| {
        e["event_type"] == "alert"
            && e["alert"]["signature_id"] == sid
            && action.is_none_or(|a| e["alert"]["action"] == a)
    })
}

fn kill9(pid: i32) {
    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
}

const LOCAL_DROP: &str = "drop http any any -> any any (msg:\"EDGEWARD TEST blocked agent\"; flow:established,to_server; http.user_agent; content:\"edgeward-evil-agent\"; classtype:trojan-activity; sid:9200001; rev:1;)\n";

/// A lab in IPS mode with `fail_open`, the local drop rule and `extra` lines in `[ids]`; waits
/// until the IPS runs.
fn ips_lab(tag: &str, fail_open: bool, extra: &str) -> Option<(Lab, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("local.rules"), LOCAL_DROP).unwrap();
    let config = AGENCY_DEFAULT_PROFILE
        .replace("mode = \"ids\"", &format!("mode = \"ips\"\n{extra}"))
        .replace("fail_open = true ", &format!("fail_open = {fail_open} "));
    assert!(config.contains(&format!("fail_open = {fail_open} ")));
    let rules = dir.path().display().to_string();
    let lab = test_lab_with(tag, &config, &["--ids-rules", &rules])?;
    assert!(
        wait_until(Duration::from_secs(60), || started(&lab, "IPS inline") >= 1),
        "the IPS did not start; log:\n{}",
        lab.log_tail(30)
    );
    Some((lab, dir))
}

/// 003 §30.8.e, 003 §30.6.đ, 004 §7.1.a: the uplinks are monitoring points; an attack or policy
/// signature seen there becomes an alert event in Suricata's EVE shape.
#[test]
fn a_flagged_request_on_an_uplink_raises_an_alert_event() {
    let rules = et_open();
    let Some(lab) = test_lab_with("ids", AGENCY_DEFAULT_PROFILE, &["--ids-rules", &rules]) else {
        return;
    };
    assert!(
        wait_until(Duration::from_secs(120), || started(&lab, "IDS watching")
            >= 1),
        "the IDS did not start; log:\n{}",
        lab.log_tail(30)
    );
    assert_eq!(
        status(&lab, "curl/8.5.0", "/ids-test", 5),
        "200",
        "the request itself passes (IDS mode does not block)"
    );
    assert!(
        wait_until(Duration::from_secs(15), || alerted(
            &lab,
            2_013_028,
            Some("allowed")
        )),
        "no curl user-agent alert; log:\n{}",
        lab.log_tail(20)
    );
    // At the SOC hub within seconds, with its evidence (002 §7.2.g): the flow's packets in a
    // pcap whose SHA-256 the event carries; the console gets the same file back.
    let hub_file = lab
        .soc_dir()
        .join("gateways")
        .join("lc-agency-gw1")
        .join("events.jsonl");
    let mut at_hub = None;
    assert!(
        wait_until(Duration::from_secs(20), || {
            at_hub = std::fs::read_to_string(&hub_file)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|e| {
                    e["event_type"] == "alert"
                        && e["alert"]["signature_id"] == 2_013_028
                        && e["evidence"]["sha256"].is_string()
                });
            at_hub.is_some()
        }),
        "no alert with evidence at the hub; log:\n{}",
        lab.log_tail(20)
    );
    let alert = at_hub.unwrap();
    let id = alert["evidence"]["id"].as_str().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let pcap = out_dir.path().join("evidence.pcap");
    let key_dir = lab.key_dir().display().to_string();
    let mut out = None;
    assert!(
        wait_until(Duration::from_secs(10), || {
            let o = lab.edgeward(&[
                "ids",
                "evidence",
                id,
                "--out",
                &pcap.display().to_string(),
                "--key-dir",
                &key_dir,
            ]);
            let ok = o.status.success();
            out = Some(o);
            ok
        }),
        "edgeward ids evidence {id}: {}",
        String::from_utf8_lossy(&out.unwrap().stderr)
    );
    let bytes = std::fs::read(&pcap).unwrap();
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    assert_eq!(
        alert["evidence"]["sha256"],
        sha.as_str(),
        "the hash in the event matches the file"
    );
    assert!(
        bytes.windows(10).any(|w| w == b"curl/8.5.0")
            && bytes.windows(9).any(|w| w == b"/ids-test"),
        "the evidence holds the flagged request"
    );
    // Encrypted at rest: the request is not readable in the kept file.
    let kept = lab
        .state_dir()
        .join("store/evidence")
        .join(&id[..8])
        .join(format!("{id}.pcap.ewb"));
    let raw = std::fs::read(&kept).unwrap_or_else(|e| panic!("{}: {e}", kept.display()));
    assert!(!raw.windows(10).any(|w| w == b"curl/8.5.0"));
    // The state the IDS page shows: running, with packets and the alert counted.
    let status = lab.state_dir().join("ids-status.json");
    assert!(
        wait_until(Duration::from_secs(10), || {
            std::fs::read(&status)
                .ok()
                .and_then(|raw| serde_json::from_slice::<serde_json::Value>(&raw).ok())
                .is_some_and(|v| v["packets"].as_u64() > Some(0) && v["alerts"].as_u64() >= Some(1))
        }),
        "no live IDS status in {}",
        status.display()
    );
}

/// 000 §8.1.g, 003 §30.8.e (inline prevention): in IPS mode the uplinks' forwarded traffic is
/// judged inline; a request a `drop` rule matches gets no answer while ordinary requests pass, the
/// alert says `blocked`, and the admin plane (traffic to the gateway) is never queued.
#[test]
fn in_ips_mode_a_drop_rule_blocks_the_request_and_ordinary_traffic_passes() {
    let Some((lab, _rules)) = ips_lab("ips", true, "") else {
        return;
    };
    assert_eq!(status(&lab, "Mozilla/5.0", "/ips-test", 4), "200");
    assert_ne!(status(&lab, "edgeward-evil-agent", "/ips-test", 4), "200");
    assert!(
        wait_until(Duration::from_secs(10), || alerted(
            &lab,
            9_200_001,
            Some("blocked")
        )),
        "no blocked alert; log:\n{}",
        lab.log_tail(20)
    );
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

/// 000 §8.1.g: the failure policy is explicit — with the engine gone, fail-open keeps the
/// uplinks' traffic flowing (uninspected) and fail-closed stops it; a restarted daemon inspects
/// and blocks again.
#[test]
fn with_the_engine_gone_fail_open_passes_and_fail_closed_stops() {
    for fail_open in [true, false] {
        let tag = if fail_open { "ipo" } else { "ipc" };
        let Some((lab, _rules)) = ips_lab(tag, fail_open, "") else {
            return;
        };
        assert_eq!(status(&lab, "Mozilla/5.0", "/x", 3), "200");
        kill9(lab.gateway_pid().expect("the daemon runs"));
        std::thread::sleep(Duration::from_millis(300));
        let without = status(&lab, "Mozilla/5.0", "/x", 3);
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
        assert!(
            wait_until(Duration::from_secs(60), || started(&lab, "IPS inline") >= 2),
            "the IPS did not come back; log:\n{}",
            lab.log_tail(20)
        );
        assert!(wait_until(Duration::from_secs(30), || {
            status(&lab, "Mozilla/5.0", "/x", 3) == "200"
        }));
        assert_ne!(
            status(&lab, "edgeward-evil-agent", "/x", 3),
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
        wait_until(Duration::from_secs(120), || started(&lab, "IPS inline")
            >= 1),
        "the IPS did not start; log:\n{}",
        lab.log_tail(30)
    );
    assert_eq!(status(&lab, "Mozilla/5.0", "/x", 4), "200");
    assert_ne!(
        status(&lab, "curl/8.5.0", "/x", 4),
        "200",
        "the escalated rule drops the request"
    );
    assert!(wait_until(Duration::from_secs(10), || alerted(
        &lab,
        2_013_028,
        Some("blocked")
    )));
}

/// 000 §12.1.e (virtual patching by the SOC), 003 §30.6: the SOC signs and pushes a bundle holding
/// a `drop` rule; the gateway in IPS mode enforces it within 10 s of the push — a matching request
/// gets no answer while ordinary ones pass — and the alert is an event with action blocked (the
/// SOC link carries every event to the hub, `tests/tests/soc.rs`).
#[test]
fn a_drop_rule_pushed_by_the_soc_is_enforced_within_ten_seconds() {
    let Some((lab, _local)) = ips_lab("isp", true, "") else {
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
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(wait_until(Duration::from_secs(15), || hub(&[
        "status", "--dir", &soc
    ])
    .contains("connected")));
    let bundle = lab.dir.join("bundle-ips.json");
    let src_dir = src.to_str().unwrap();
    let out = bundle.to_str().unwrap();
    hub(&[
        "bundle",
        "--dir",
        &soc,
        "--rules",
        src_dir,
        "--version",
        "7",
        "--mode",
        "ips",
        "--out",
        out,
    ]);
    let get = || status(&lab, "Mozilla/5.0", "/cgi-bin/vulnerable", 2);
    assert_eq!(get(), "200", "not blocked before the push");
    let pushed = std::time::Instant::now();
    hub(&[
        "push", "--dir", &soc, "--bundle", out, "--to", "all", "--wait", "15",
    ]);
    let enforced = wait_until(Duration::from_secs(10), || get() != "200");
    let took = pushed.elapsed();
    assert!(
        enforced,
        "not enforced 10 s after the push; log:\n{}",
        lab.log_tail(20)
    );
    eprintln!("push to enforcement: {:.1} s", took.as_secs_f64());
    assert_eq!(
        status(&lab, "Mozilla/5.0", "/index.html", 2),
        "200",
        "ordinary requests still pass"
    );
    assert!(wait_until(Duration::from_secs(10), || alerted(
        &lab,
        9_300_001,
        Some("blocked")
    )));
}
