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

const LOCAL_DROP: &str = "drop http any any -> any any (msg:\"EDGEWARD TEST blocked agent\"; flow:established,to_server; http.user_agent; content:\"edgeward-evil-agent\"; classtype:trojan-activity; sid:9200001; rev:1;)\nreject http any any -> any any (msg:\"EDGEWARD TEST rejected agent\"; flow:established,to_server; http.user_agent; content:\"edgeward-reject-agent\"; classtype:trojan-activity; sid:9200002; rev:1;)\n";

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
    // Prometheus, per interface.
    assert!(
        wait_until(Duration::from_secs(6), || {
            let m = metrics(&lab);
            metric(&m, "edgeward_ids_interface_packets{interface=\"wan") > 0
                && metric(&m, "edgeward_ids_interface_bytes{interface=\"lan0\"}") > 0
                && metric(&m, "edgeward_ids_evidence_recorded") > 0
        }),
        "{}",
        metrics(&lab)
    );
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
    // Prometheus, per queue: packets judged and dropped, verdict latency.
    assert!(
        wait_until(Duration::from_secs(6), || {
            let m = metrics(&lab);
            metric(&m, "edgeward_ips_queue_packets{") > 0
                && metric(&m, "edgeward_ips_queue_dropped{") > 0
                && m.contains("edgeward_ips_verdict_latency_microseconds{quantile=\"0.99\"}")
        }),
        "{}",
        metrics(&lab)
    );
}

/// The metrics page as the management zone sees it.
fn metrics(lab: &Lab) -> String {
    lab.http_get("admin-1", "10.10.99.1", 9108, "/metrics", 3)
        .map(|(_, body)| body)
        .unwrap_or_default()
}

/// The sum of every series whose line starts with `prefix`.
fn metric(text: &str, prefix: &str) -> u64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
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
    let get = || status(&lab, "Mozilla/5.0", "/cgi-bin/vulnerable", 2);
    assert_eq!(get(), "200", "not blocked before the push");
    let pushed = push_bundle(&lab, PATCH, 7, "ips", 0, &[]);
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

/// Run `edgeward-hub` with `args`; its standard output (the test fails if it does).
fn hub(lab: &Lab, args: &[&str]) -> String {
    let out = Command::new(lab.hub_bin()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "edgeward-hub {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Sign a bundle of `rules` at the SOC (`version`, `mode`, canary minutes, `extra` arguments of
/// `edgeward-hub bundle`) and push it to the lab's gateway, waiting for its answer; the time of
/// the push.
fn push_bundle(
    lab: &Lab,
    rules: &str,
    version: u64,
    mode: &str,
    canary: u32,
    extra: &[&str],
) -> std::time::Instant {
    let soc = lab.soc_dir().display().to_string();
    let src = lab.dir.join(format!("soc-rules-{version}"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("soc.rules"), rules).unwrap();
    assert!(wait_until(Duration::from_secs(15), || hub(
        lab,
        &["status", "--dir", &soc]
    )
    .contains("connected")));
    let bundle = lab.dir.join(format!("bundle-{version}.json"));
    let out = bundle.to_str().unwrap();
    let (version, canary) = (version.to_string(), canary.to_string());
    let mut args = vec![
        "bundle",
        "--dir",
        &soc,
        "--rules",
        src.to_str().unwrap(),
        "--version",
        &version,
        "--mode",
        mode,
        "--canary-minutes",
        &canary,
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    hub(lab, &args);
    let pushed = std::time::Instant::now();
    hub(
        lab,
        &[
            "push", "--dir", &soc, "--bundle", out, "--to", "all", "--wait", "15",
        ],
    );
    pushed
}

const PATCH: &str = "drop http any any -> any any (msg:\"SOC virtual patch\"; flow:established,to_server; http.uri; content:\"/cgi-bin/vulnerable\"; classtype:web-application-attack; sid:9300001; rev:1;)\n";

/// The IDS page's status file, once it has a field `key` satisfying `ok`.
fn ids_status(lab: &Lab) -> serde_json::Value {
    std::fs::read(lab.state_dir().join("ids-status.json"))
        .ok()
        .and_then(|raw| serde_json::from_slice(&raw).ok())
        .unwrap_or_default()
}

/// 000 §12.1.e (virtual patching while no patch exists): the drop rules of an `ips` bundle from
/// the SOC block on the uplinks even though this gateway's config says IDS — within 10 s of the
/// push — and the IDS page says the SOC enforces them.
#[test]
fn an_ips_bundle_from_the_soc_blocks_even_where_the_config_says_ids() {
    let rules = et_open();
    let Some(lab) = test_lab_with("vpatch", AGENCY_DEFAULT_PROFILE, &["--ids-rules", &rules])
    else {
        return;
    };
    assert!(wait_until(Duration::from_secs(120), || started(
        &lab,
        "IDS watching"
    ) >= 1));
    let get = || status(&lab, "Mozilla/5.0", "/cgi-bin/vulnerable", 2);
    assert_eq!(get(), "200", "IDS mode: nothing blocked before the push");
    let pushed = push_bundle(&lab, PATCH, 11, "ips", 0, &[]);
    let enforced = wait_until(Duration::from_secs(10), || get() != "200");
    eprintln!(
        "push to enforcement (IDS → inline): {:.1} s",
        pushed.elapsed().as_secs_f64()
    );
    assert!(
        enforced,
        "not enforced 10 s after the push; log:\n{}",
        lab.log_tail(30)
    );
    assert_eq!(status(&lab, "Mozilla/5.0", "/index.html", 2), "200");
    assert!(wait_until(Duration::from_secs(10), || alerted(
        &lab,
        9_300_001,
        Some("blocked")
    )));
    assert!(
        wait_until(Duration::from_secs(6), || {
            let s = ids_status(&lab);
            s["mode"] == "ips"
                && s["bundle"]["bundle_state"] == "enforcing"
                && s["bundle"]["drop_sids"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == 9_300_001))
        }),
        "{}",
        ids_status(&lab)
    );
}

/// The security admin can switch SOC enforcement off: the same bundle then only alerts.
#[test]
fn with_soc_enforcement_off_an_ips_bundle_only_alerts() {
    let rules = et_open();
    let config =
        AGENCY_DEFAULT_PROFILE.replace("mode = \"ids\"", "mode = \"ids\"\nsoc_enforcement = false");
    let Some(lab) = test_lab_with("nosoc", &config, &["--ids-rules", &rules]) else {
        return;
    };
    assert!(wait_until(Duration::from_secs(120), || started(
        &lab,
        "IDS watching"
    ) >= 1));
    push_bundle(&lab, PATCH, 12, "ips", 0, &[]);
    assert!(wait_until(
        Duration::from_secs(15),
        || ids_status(&lab)["bundle"]["bundle_version"] == 12
    ));
    let s = ids_status(&lab);
    assert_eq!(s["mode"], "ids", "{s}");
    assert_eq!(s["bundle"]["bundle_state"], "alert-only", "{s}");
    assert_eq!(
        status(&lab, "Mozilla/5.0", "/cgi-bin/vulnerable", 3),
        "200",
        "not blocked"
    );
    assert!(wait_until(Duration::from_secs(10), || alerted(
        &lab,
        9_300_001,
        Some("allowed")
    )));
}

/// A canary bundle only alerts until its canary period ends, then its drop rules enforce.
#[test]
fn a_canary_bundle_stays_alert_only_until_its_time() {
    let Some((lab, _local)) = ips_lab("canary", true, "") else {
        return;
    };
    let pushed = push_bundle(&lab, PATCH, 13, "ips", 1, &[]);
    assert!(wait_until(
        Duration::from_secs(15),
        || ids_status(&lab)["bundle"]["bundle_state"] == "canary"
    ));
    let get = || status(&lab, "Mozilla/5.0", "/cgi-bin/vulnerable", 2);
    assert_eq!(
        get(),
        "200",
        "during the canary period the rule only alerts"
    );
    assert!(wait_until(Duration::from_secs(10), || alerted(
        &lab,
        9_300_001,
        Some("allowed")
    )));
    assert!(
        pushed.elapsed() < Duration::from_secs(55),
        "the check ran inside the period"
    );
    // After the minute (plus the watcher's 2 s tick and a compile): enforcing. Asked every
    // 5 s: a request every few milliseconds would be an alert flood the gateway rightly reverts.
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let mut enforced = false;
    while !enforced && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(5));
        enforced = get() != "200";
    }
    assert!(
        enforced,
        "not enforced after the canary period; status {}",
        ids_status(&lab)
    );
    assert!(
        pushed.elapsed() >= Duration::from_secs(60),
        "not before its time"
    );
    assert_eq!(ids_status(&lab)["bundle"]["bundle_state"], "enforcing");
}

/// A bundle whose rule matches everything is taken back by the gateway itself, to the bundle
/// before it, and the SOC is told why (the event reaches the hub).
#[test]
fn a_bundle_that_matches_everything_is_reverted_automatically_and_the_soc_is_told() {
    let Some((lab, _local)) = ips_lab("revert", true, "") else {
        return;
    };
    push_bundle(&lab, PATCH, 20, "ips", 0, &[]);
    assert!(wait_until(
        Duration::from_secs(15),
        || ids_status(&lab)["bundle"]["bundle_version"] == 20
    ));
    let everything = format!(
        "{PATCH}alert icmp any any -> any any (msg:\"SOC mistake: every ping\"; itype:8; sid:9300100; rev:1;)\n"
    );
    push_bundle(&lab, &everything, 21, "ips", 0, &[]);
    assert!(wait_until(
        Duration::from_secs(15),
        || ids_status(&lab)["bundle"]["bundle_version"] == 21
    ));
    // 100 pings a second through the gateway: 6,000 alerts a minute.
    let _ = lab.exec(
        "staff-1",
        "ping",
        &["-q", "-i", "0.01", "-w", "80", "-c", "8000", "192.0.2.80"],
    );
    let hub_file = lab
        .soc_dir()
        .join("gateways")
        .join("lc-agency-gw1")
        .join("events.jsonl");
    let told = || {
        std::fs::read_to_string(&hub_file)
            .unwrap_or_default()
            .lines()
            .any(|l| {
                l.contains("rule bundle v21 reverted by the gateway to v20")
                    && l.contains("alerts jumped")
            })
    };
    assert!(
        wait_until(Duration::from_secs(20), told),
        "the hub was not told; log:\n{}",
        lab.log_tail(30)
    );
    assert!(
        wait_until(Duration::from_secs(10), || {
            let s = ids_status(&lab);
            s["bundle"]["bundle_version"] == 20 && s["reverted"]["version"] == 21
        }),
        "{}",
        ids_status(&lab)
    );
    // v20's patch still enforces.
    assert_ne!(status(&lab, "Mozilla/5.0", "/cgi-bin/vulnerable", 2), "200");
}

/// The alerts with this sid, from the events.
fn alerts_with_sid(lab: &Lab, sid: u64) -> Vec<serde_json::Value> {
    read_events(lab)
        .into_iter()
        .filter(|e| e["event_type"] == "alert" && e["alert"]["signature_id"] == sid)
        .collect()
}

/// 000 §5.10.b, 003 §30.8.e: a staff PC scanning the server zone (nmap, across zones — never
/// through an uplink) raises a port-scan alert naming it; the zone interfaces are watched too.
#[test]
fn nmap_from_a_staff_host_across_zones_raises_a_scan_alert_naming_the_source() {
    let rules = et_open();
    let Some(lab) = test_lab_with("nmap", AGENCY_DEFAULT_PROFILE, &["--ids-rules", &rules]) else {
        return;
    };
    assert!(
        wait_until(Duration::from_secs(120), || started(&lab, "between zones")
            >= 1),
        "{}",
        lab.log_tail(20)
    );
    let out = lab
        .exec(
            "staff-1",
            "nmap",
            &[
                "-sS",
                "-Pn",
                "-n",
                "-T4",
                "--max-retries",
                "0",
                "-p",
                "1-300",
                "10.10.10.10",
            ],
        )
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        wait_until(Duration::from_secs(15), || alerts_with_sid(&lab, 9_000_001)
            .iter()
            .any(
                |a| a["src_ip"] == "10.10.0.11" && a["dest_ip"] == "10.10.10.10"
            )),
        "no vertical scan alert for staff-1; log:\n{}",
        lab.log_tail(20)
    );
    // Seen on one interface only: one alert, not one per interface the scan crossed.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(alerts_with_sid(&lab, 9_000_001).len(), 1);
}

/// 003 §30.8.e: a SYN flood from the Internet (hping3) raises a flood alert naming its source,
/// while the admin UI stays reachable from the management zone.
#[test]
fn a_syn_flood_from_the_internet_is_reported_and_the_admin_ui_stays_reachable() {
    let rules = et_open();
    let Some(lab) = test_lab_with("flood", AGENCY_DEFAULT_PROFILE, &["--ids-rules", &rules]) else {
        return;
    };
    assert!(wait_until(Duration::from_secs(120), || started(
        &lab,
        "IDS watching"
    ) >= 1));
    let flood = edgeward_lab::netns::command(&lab.ns("internet"), "hping3")
        .args([
            "-S",
            "-p",
            "443",
            "-i",
            "u500",
            "-c",
            "20000",
            "203.0.113.2",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("hping3");
    let reported = wait_until(Duration::from_secs(20), || {
        alerts_with_sid(&lab, 9_000_003)
            .iter()
            .any(|a| a["src_ip"] == "100.64.1.2")
    });
    let ui = lab.can_connect("admin-1", "10.10.99.1", 443, 3);
    let mut flood = flood;
    let _ = flood.kill();
    let _ = flood.wait();
    assert!(reported, "no SYN flood alert; log:\n{}", lab.log_tail(20));
    assert!(
        ui,
        "the admin UI answers the management zone during the flood"
    );
}

/// 000 §8.1.g: inbound too — a matching request from the Internet to a server published with a
/// port forward is blocked inline; an ordinary one reaches the server.
#[test]
fn in_ips_mode_a_matching_request_to_a_published_server_is_blocked() {
    let Some((lab, _local)) = ips_lab("inbound", true, "") else {
        return;
    };
    let published = format!(
        "{}\n[[port_forwards]]\nname = \"cong-thong-tin\"\nuplink = \"isp1\"\nprotocol = \"tcp\"\nport = 443\nto_address = \"10.10.10.10\"\n",
        std::fs::read_to_string(lab.config_path()).unwrap()
    );
    std::fs::write(lab.config_path(), published).unwrap();
    lab.reload_gateway().unwrap();
    let get = |agent: &str| {
        let out = lab
            .exec(
                "internet",
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
                    agent,
                    "http://203.0.113.2:443/",
                ],
            )
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        wait_until(Duration::from_secs(15), || get("Mozilla/5.0") == "200"),
        "the published server answers"
    );
    assert_ne!(
        get("edgeward-evil-agent"),
        "200",
        "the matching request is blocked"
    );
    assert!(wait_until(Duration::from_secs(10), || alerted(
        &lab,
        9_200_001,
        Some("blocked")
    )));
    assert_eq!(get("Mozilla/5.0"), "200");
}

/// 003 §30.8.e (C2 connections): the SOC pushes a list of command-and-control indicators; a
/// staff PC contacting a listed address, or a listed domain over HTTP, raises an alert naming it
/// — and (001 §7.8, 004 §15.8; `nac.quarantine_on = ["c2", …]` in the agency profile) each PC is
/// quarantined by itself: cut off from the Internet, the servers and the TSLCD.
#[test]
fn c2_indicators_pushed_by_the_soc_raise_alerts() {
    let rules = et_open();
    let Some(lab) = test_lab_with("c2", AGENCY_DEFAULT_PROFILE, &["--ids-rules", &rules]) else {
        return;
    };
    assert!(wait_until(Duration::from_secs(120), || started(
        &lab,
        "IDS watching"
    ) >= 1));
    let list = lab.dir.join("c2.txt");
    std::fs::write(
        &list,
        "# SOC C2 list\nip 192.0.2.81\ndomain evil-c2.example\n",
    )
    .unwrap();
    push_bundle(
        &lab,
        "",
        30,
        "ids",
        0,
        &["--indicators", list.to_str().unwrap()],
    );
    assert!(wait_until(
        Duration::from_secs(15),
        || ids_status(&lab)["bundle"]["bundle_version"] == 30
    ));
    let _ = lab.exec(
        "staff-1",
        "curl",
        &["-s", "-m", "3", "http://192.0.2.81:443/"],
    );
    let _ = lab.exec(
        "staff-2",
        "curl",
        &[
            "-s",
            "-m",
            "3",
            "-H",
            "Host: www.evil-c2.example",
            "http://192.0.2.80/",
        ],
    );
    assert!(
        wait_until(Duration::from_secs(15), || {
            alerts_with_sid(&lab, 9_100_000)
                .iter()
                .any(|a| a["dest_ip"] == "192.0.2.81")
                && !alerts_with_sid(&lab, 9_110_002).is_empty()
        }),
        "no C2 alerts; log:\n{}",
        lab.log_tail(20)
    );
    let a = &alerts_with_sid(&lab, 9_110_002)[0];
    assert_eq!(a["alert"]["severity"], 1);
    assert!(
        a["alert"]["signature"]
            .as_str()
            .unwrap()
            .contains("evil-c2.example")
    );
    for role in ["staff-1", "staff-2"] {
        assert!(
            wait_until(Duration::from_secs(10), || !lab.can_connect(
                role,
                "192.0.2.80",
                80,
                1
            )),
            "{role} not quarantined after its C2 alert; events:\n{:?}\nlog:\n{}",
            edgeward_lab::read_events(&lab)
                .into_iter()
                .filter(|e| e["event_type"] == "nac"
                    || e["event_type"] == "alert"
                    || (e["event_type"] == "system" && e["component"] != "ids"))
                .collect::<Vec<_>>(),
            lab.log_tail(20)
        );
        assert!(
            !lab.can_connect(role, "10.10.10.10", 443, 1),
            "{role}: no servers; history:\n{}\nnac events: {:?}",
            String::from_utf8_lossy(&lab.edgeward(&["config", "history"]).stdout),
            edgeward_lab::read_events(&lab)
                .into_iter()
                .filter(|e| e["event_type"] == "nac")
                .collect::<Vec<_>>()
        );
        assert!(
            !lab.can_connect(role, "10.251.1.10", 80, 1),
            "{role}: no TSLCD"
        );
    }
    let history =
        String::from_utf8_lossy(&lab.edgeward(&["config", "history"]).stdout).into_owned();
    assert!(
        history.contains("quarantined automatically (c2)"),
        "{history}"
    );
}

/// `edgeward ids update`: a ruleset from a file is checked, installed in `ids.rules_dir` and in
/// force within seconds; a malformed one is refused and the running rules stay.
#[test]
fn ids_update_installs_a_checked_ruleset_and_refuses_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let rules_dir = dir.path().join("rules");
    let config = AGENCY_DEFAULT_PROFILE.replace(
        "rules_dir = \"/var/lib/edgeward/rules\"",
        &format!("rules_dir = \"{}\"", rules_dir.display()),
    );
    let Some(lab) = test_lab_with("update", &config, &[]) else {
        return;
    };
    let file = dir.path().join("local.rules");
    std::fs::write(&file, "alert http any any -> any any (msg:\"EDGEWARD TEST updated rules\"; flow:established,to_server; http.user_agent; content:\"edgeward-update-agent\"; sid:9200050; rev:1;)\n").unwrap();
    let out = lab.edgeward(&["ids", "update", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(rules_dir.join("local.rules").exists());
    assert!(
        wait_until(Duration::from_secs(20), || ids_status(&lab)["rules"] == 4),
        "not in force (the rule and the 3 built-in ones): {}; log:\n{}",
        ids_status(&lab),
        lab.log_tail(20)
    );
    assert!(wait_until(Duration::from_secs(20), || {
        let _ = status(&lab, "edgeward-update-agent", "/", 2);
        alerted(&lab, 9_200_050, None)
    }));
    let broken = dir.path().join("broken.rules");
    std::fs::write(
        &broken,
        "alert http any any -> any any (msg:\"broken\"; content:; sid:1;)\n",
    )
    .unwrap();
    let out = lab.edgeward(&["ids", "update", broken.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        rules_dir.join("local.rules").exists(),
        "the running rules stay"
    );
}

/// A `reject` rule drops the request and resets the connection at both ends: the client learns
/// at once (curl: connection reset) instead of waiting out a timeout as with `drop`.
#[test]
fn a_reject_rule_resets_the_connection_and_a_drop_rule_leaves_it_hanging() {
    let Some((lab, _rules)) = ips_lab("reject", true, "") else {
        return;
    };
    let timed = |agent: &str| {
        let started = std::time::Instant::now();
        let out = lab
            .exec(
                "staff-1",
                "curl",
                &[
                    "-s",
                    "-o",
                    "/dev/null",
                    "-m",
                    "4",
                    "-A",
                    agent,
                    "http://192.0.2.80/reject-test",
                ],
            )
            .unwrap();
        (out.status.code(), started.elapsed())
    };
    let (code, took) = timed("edgeward-reject-agent");
    assert_eq!(code, Some(56), "curl: connection reset (took {took:?})");
    assert!(
        took < Duration::from_secs(2),
        "at once, not after a timeout: {took:?}"
    );
    let (code, took) = timed("edgeward-evil-agent");
    assert_eq!(code, Some(28), "curl: timed out (took {took:?})");
    assert!(wait_until(Duration::from_secs(10), || alerted(
        &lab,
        9_200_002,
        Some("blocked")
    )));
    assert!(
        ids_status(&lab)["resets"].as_u64() >= Some(2),
        "both ends reset: {}",
        ids_status(&lab)
    );
}
