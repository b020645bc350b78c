//! The SOC link in the lab: every event reaches the hub exactly once and in order across hub
//! crashes and a link cut; a gateway that is not enrolled (or certified by another CA) is refused.

use std::time::{Duration, Instant};

use edgeward_config::AGENCY_DEFAULT_PROFILE;
use edgeward_lab::{Lab, netns, process_alive, read_events, test_lab, test_lab_with, wait_until};

fn short_holds() -> String {
    let mut t = AGENCY_DEFAULT_PROFILE.to_string();
    for w in ["weight = 3", "weight = 1", "masquerade = true"] {
        t = t.replacen(w, &format!("{w}\nhealth = {{ hold_up_seconds = 3 }}"), 1);
    }
    t
}

/// The seq of the last complete line of a JSON-lines file, reading only its tail.
fn last_seq(path: &std::path::Path) -> Option<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(8192))).ok()?;
    let mut tail = String::new();
    f.read_to_string(&mut tail).ok()?;
    tail.lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v["seq"].as_u64())
}

fn hub_seqs(lab: &Lab) -> Vec<u64> {
    let path = lab
        .soc_dir()
        .join("gateways")
        .join("lc-agency-gw1")
        .join("events.jsonl");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["seq"].as_u64())
        .collect()
}

/// The hub's processes in the SOC namespace (rsyslog runs there too and is left alone).
fn hub_pids(lab: &Lab) -> Vec<i32> {
    netns::pids(&lab.ns("soc"))
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("serve"))
        })
        .collect()
}

/// Kill the hub and wait until it has let go of its sockets, so a hub started next can bind.
///
/// A dying process loses its command line (its memory goes first) before it closes its files,
/// so "no process named like the hub" comes too early (the next hub then failed to bind, once,
/// on a loaded CI machine); it is a zombie only once its sockets are closed.
fn kill_hub(lab: &Lab) {
    let killed = hub_pids(lab);
    for pid in &killed {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    }
    assert!(
        wait_until(Duration::from_secs(10), || !killed
            .iter()
            .any(|pid| process_alive(*pid))),
        "the killed hub {killed:?} is still alive"
    );
}

fn cut_tslcd(lab: &Lab, on: bool) {
    let script = if on {
        "table inet cut {\n chain drop_all {\n  type filter hook forward priority 0; policy drop;\n }\n}\n"
    } else {
        "delete table inet cut\n"
    };
    lab.nft_script("tslcd", script).unwrap();
}

#[test]
fn every_event_reaches_the_hub_once_and_in_order_across_crashes_and_a_cut() {
    let n: u64 = std::env::var("EDGEWARD_SOC_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let count = n.to_string();
    let Some(lab) = test_lab_with("soc", &short_holds(), &["--synthetic-events", &count]) else {
        return;
    };
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    kill_hub(&lab);
    std::thread::sleep(Duration::from_secs(2));
    lab.start_hub().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    // The link is cut for 30 s (the TSLCD router stops forwarding).
    cut_tslcd(&lab, true);
    std::thread::sleep(Duration::from_secs(30));
    cut_tslcd(&lab, false);
    std::thread::sleep(Duration::from_secs(3));
    kill_hub(&lab);
    std::thread::sleep(Duration::from_secs(1));
    lab.start_hub().unwrap();
    // Everything the gateway has journaled must end up at the hub. Poll only the files' last
    // lines: a million-line file re-read every few milliseconds would starve the lab.
    let hub_file = lab
        .soc_dir()
        .join("gateways")
        .join("lc-agency-gw1")
        .join("events.jsonl");
    let done = wait_until(Duration::from_secs(300), || {
        let gw_last = last_seq(&lab.events_path()).unwrap_or(0);
        gw_last >= n && last_seq(&hub_file) == Some(gw_last)
    });
    let hub = hub_seqs(&lab);
    assert!(
        done,
        "hub has {} events up to seq {:?}; log:\n{}",
        hub.len(),
        hub.last(),
        lab.log_tail(10)
    );
    eprintln!(
        "{} events at the hub after {:?}",
        hub.len(),
        started.elapsed()
    );
    assert_eq!(hub[0], 1, "starts at the first event");
    assert!(
        hub.windows(2).all(|w| w[1] == w[0] + 1),
        "gaps or duplicates at the hub"
    );
    assert!(hub.len() as u64 >= n);
    let out = std::process::Command::new(lab.hub_bin())
        .args(["status", "--dir", &lab.soc_dir().display().to_string()])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("lc-agency-gw1"));
}

/// Try to hand the hub an event with the client certificate in `soc_dir`; the error if refused.
fn try_connect(lab: &Lab, soc_dir: std::path::PathBuf, host: &str) -> Result<(), String> {
    connect_and_send(lab, soc_dir, host, Vec::new()).map(|_| ())
}

/// Connect as `host` with the certificate in `soc_dir`, send `events` as one batch (if any)
/// and return the seq the hub acknowledged.
fn connect_and_send(
    lab: &Lab,
    soc_dir: std::path::PathBuf,
    host: &str,
    events: Vec<(u64, String)>,
) -> Result<Option<u64>, String> {
    let host = host.to_string();
    netns::within(&lab.ns("gov-server"), move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            use edgeward_gateway::soc::proto::{self, Msg};
            let (endpoint, cfg) =
                edgeward_gateway::soc::tls::client_endpoint(&soc_dir).map_err(|e| e.to_string())?;
            let conn = endpoint
                .connect_with(cfg, "10.251.9.10:7443".parse().unwrap(), "soc.tinh.gov.vn")
                .map_err(|e| e.to_string())?
                .await
                .map_err(|e| e.to_string())?;
            let (mut send, mut recv) = conn.open_bi().await.map_err(|e| e.to_string())?;
            proto::write(
                &mut send,
                &Msg::Hello {
                    host,
                    latest_seq: None,
                    time_micros: proto::now_micros(),
                },
            )
            .await
            .map_err(|e| e.to_string())?;
            let mut result =
                match tokio::time::timeout(Duration::from_secs(5), proto::read(&mut recv)).await {
                    Ok(Ok(Some(Msg::Welcome { .. }))) => Ok(None),
                    Ok(Ok(other)) => Err(format!("no welcome: {other:?}")),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("timed out".into()),
                };
            if result.is_ok() && !events.is_empty() {
                proto::write(&mut send, &Msg::Batch { events })
                    .await
                    .map_err(|e| e.to_string())?;
                result = match tokio::time::timeout(Duration::from_secs(5), proto::read(&mut recv))
                    .await
                {
                    Ok(Ok(Some(Msg::Ack { seq, .. }))) => Ok(Some(seq)),
                    Ok(Ok(other)) => Err(format!("no ack: {other:?}")),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("timed out".into()),
                };
            }
            // The hub's reason travels in the connection close.
            result.map_err(|e| format!("{e}; {:?}", conn.close_reason()))
        })
    })
    .unwrap()
}

/// Enrol gateway `name` at the lab's SOC; returns the directory with its certificate.
fn enroll(lab: &Lab, name: &str) -> std::path::PathBuf {
    let out = lab.dir.join(name);
    netns::run(
        &lab.hub_bin().display().to_string(),
        &[
            "enroll",
            "--dir",
            &lab.soc_dir().display().to_string(),
            name,
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .unwrap();
    out
}

#[test]
fn gateways_that_are_not_enrolled_are_refused() {
    let Some(lab) = test_lab("enr", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let hub = lab.hub_bin().display().to_string();
    // Issued by the SOC's own CA but then struck from the enrolled list.
    let rogue = enroll(&lab, "rogue-gw");
    assert!(
        try_connect(&lab, rogue.clone(), "rogue-gw").is_ok(),
        "an enrolled gateway is accepted"
    );
    let list = lab.soc_dir().join("enrolled.json");
    let kept: Vec<String> =
        serde_json::from_str::<Vec<String>>(&std::fs::read_to_string(&list).unwrap())
            .unwrap()
            .into_iter()
            .filter(|g| g != "rogue-gw")
            .collect();
    std::fs::write(&list, serde_json::to_string(&kept).unwrap()).unwrap();
    let err = try_connect(&lab, rogue, "rogue-gw").unwrap_err();
    assert!(
        // The close may arrive before the hello is written (Display) or after (Debug).
        (err.contains("error_code: 403") || err.contains("(code 403)"))
            && err.contains("not enrolled"),
        "{err}"
    );
    // A certificate from another CA does not even complete the handshake.
    let other = lab.dir.join("other-soc");
    let other_client = lab.dir.join("other-client");
    netns::run(
        &hub,
        &[
            "init",
            "--dir",
            other.to_str().unwrap(),
            "--server-name",
            "soc.tinh.gov.vn",
        ],
    )
    .unwrap();
    netns::run(
        &hub,
        &[
            "enroll",
            "--dir",
            other.to_str().unwrap(),
            "lc-agency-gw1",
            "--out",
            other_client.to_str().unwrap(),
        ],
    )
    .unwrap();
    // It trusts the real hub's CA so the failure is the hub refusing the client.
    std::fs::copy(lab.soc_dir().join("ca.pem"), other_client.join("ca.pem")).unwrap();
    let err = try_connect(&lab, other_client, "lc-agency-gw1").unwrap_err();
    assert!(!err.is_empty());
    // A gateway claiming another's identity is refused too.
    let err = try_connect(&lab, lab.dir.join("soc-client"), "someone-else").unwrap_err();
    assert!(
        err.contains("error_code: 403") && err.contains("does not match"),
        "{err}"
    );
}

/// 003 §30.6: the SOC keeps receiving the gateway's events even under an unauthenticated
/// flood of logins with user names of ~1.9 MB (which once wedged the link for good): the names
/// are refused before auditing, events are capped, and an ordinary event sent right after the
/// flood reaches the hub within seconds.
#[test]
fn a_login_flood_with_huge_names_does_not_stop_delivery_to_the_soc() {
    let Some(lab) = test_lab("fld", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let body = lab.dir.join("huge-login.json");
    std::fs::write(
        &body,
        serde_json::json!({ "username": "A".repeat(1_900_000), "password": "x" }).to_string(),
    )
    .unwrap();
    let login = |data: &str| {
        let out = lab
            .exec(
                "admin-1",
                "curl",
                &[
                    "-sk",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                    "--max-time",
                    "10",
                    "-H",
                    "content-type: application/json",
                    "--data-binary",
                    data,
                    "https://10.10.99.1/api/v1/login",
                ],
            )
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        wait_until(Duration::from_secs(10), || login("{}") != "000"),
        "the admin UI answers"
    );
    let at = format!("@{}", body.display());
    for _ in 0..20 {
        let code = login(&at);
        assert!(code == "401" || code == "429", "flood answered {code}");
    }
    let marker = format!("probe-{}", std::process::id());
    let probe = serde_json::json!({ "username": marker, "password": "x" }).to_string();
    let started = std::time::Instant::now();
    assert_eq!(
        login(&probe),
        "429",
        "the source is over its login rate by now"
    );
    let hub_file = lab
        .soc_dir()
        .join("gateways")
        .join("lc-agency-gw1")
        .join("events.jsonl");
    assert!(
        wait_until(Duration::from_secs(15), || std::fs::read_to_string(
            &hub_file
        )
        .unwrap_or_default()
        .contains(&marker)),
        "the event after the flood never reached the hub; log:\n{}",
        lab.log_tail(20)
    );
    eprintln!(
        "ordinary event at the hub {:?} after the flood",
        started.elapsed()
    );
    let hub = std::fs::read_to_string(&hub_file).unwrap();
    let longest = hub.lines().map(str::len).max().unwrap_or(0);
    assert!(
        longest < 64 << 10,
        "an event of {longest} bytes reached the hub"
    );
}

/// A compromised but enrolled gateway cannot file events under another gateway, split an event
/// into several lines, or put a forged timestamp into what the SIEM receives: the hub files a
/// marker under the sender's own name instead.
#[test]
fn a_compromised_gateway_cannot_file_events_as_another() {
    let Some(lab) = test_lab("cmp", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let rogue = enroll(&lab, "rogue-gw");
    let ev = |host: &str, seq: u64, ts: &str, msg: &str| {
        serde_json::json!({"timestamp": ts, "host": host, "seq": seq, "event_type": "system",
            "level": "error", "component": "auth", "message": msg})
        .to_string()
    };
    let forged = vec![
        (
            1,
            ev(
                "lc-agency-gw1",
                1,
                "2026-11-30T10:00:00Z",
                "FORGED-AS-OTHER",
            ),
        ),
        (
            2,
            ev("rogue-gw", 2, "2026-11-30T10:00:00Z", "x")
                + "\n"
                + &ev(
                    "lc-agency-gw1",
                    3,
                    "2026-11-30T10:00:00Z",
                    "FORGED-SECOND-LINE",
                ),
        ),
        (
            3,
            ev(
                "rogue-gw",
                3,
                "Nov 30 10:00:00 lc-agency-gw1 FORGED-HEADER",
                "y",
            ),
        ),
        (
            4,
            ev("rogue-gw", 4, "2026-11-30T10:00:01Z", "an honest event"),
        ),
    ];
    let acked = connect_and_send(&lab, rogue, "rogue-gw", forged).unwrap();
    assert_eq!(acked, Some(4));
    let read = |gw: &str| {
        std::fs::read_to_string(lab.soc_dir().join("gateways").join(gw).join("events.jsonl"))
            .unwrap_or_default()
    };
    let rogue_file = read("rogue-gw");
    let lines: Vec<serde_json::Value> = rogue_file
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is one JSON object"))
        .collect();
    assert_eq!(lines.len(), 4, "{rogue_file}");
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["host"], "rogue-gw", "{l}");
        assert_eq!(l["seq"], (i + 1) as u64);
        assert!(
            chrono::DateTime::parse_from_rfc3339(l["timestamp"].as_str().unwrap()).is_ok(),
            "{l}"
        );
    }
    assert!(
        !rogue_file.contains("FORGED"),
        "refused events are not filed: {rogue_file}"
    );
    assert!(rogue_file.contains("refused by the hub"));
    assert_eq!(lines[3]["message"], "an honest event");
    assert!(!read("lc-agency-gw1").contains("FORGED"));
}

/// The same events reach a SIEM through a real rsyslog (GnuTLS) as RFC 5424 over TLS.
#[test]
fn events_reach_a_real_rsyslog_over_tls() {
    let Some(lab) = test_lab_with(
        "rsl",
        AGENCY_DEFAULT_PROFILE,
        &["--synthetic-events", "20000"],
    ) else {
        return;
    };
    let lines =
        |lab: &Lab| std::fs::read_to_string(lab.siem_log()).map_or(0, |t| t.lines().count());
    let done = wait_until(Duration::from_secs(60), || {
        let journaled = read_events(&lab).len();
        journaled > 20_000 && lines(&lab) >= journaled
    });
    let received = std::fs::read_to_string(lab.siem_log()).unwrap_or_default();
    assert!(
        done,
        "rsyslog received {} lines; log:\n{}",
        received.lines().count(),
        lab.log_tail(10)
    );
    // Each line is the event's JSON; every sequence number arrived.
    let mut seqs: Vec<u64> = received
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["seq"].as_u64())
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    let journaled = read_events(&lab).len() as u64;
    assert!(
        seqs.len() as u64 >= journaled,
        "{} distinct of {journaled}",
        seqs.len()
    );
    assert!(received.contains("synthetic event 20000 of 20000"));
}

/// Signed rule bundles pushed by the SOC: a valid one is applied and acknowledged with its
/// version; a tampered, foreign-signed, replayed or unparsable one is rejected with a reason that
/// reaches the SOC, and the running rules stay.
#[test]
fn signed_rule_bundles_are_applied_or_rejected_with_the_reason_at_the_soc() {
    let Some(lab) = test_lab("bdl", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let soc = lab.soc_dir().display().to_string();
    let rules = lab.dir.join("rules-src");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(rules.join("local.rules"), "alert tcp $EXTERNAL_NET any -> $HOME_NET 445 (msg:\"SMB from outside\"; sid:9000001; rev:1;)\n").unwrap();
    let soc_cli = |args: &[&str]| {
        let out = std::process::Command::new(lab.hub_bin())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let bundle = |version: &str, rollback: bool| {
        let out = lab.dir.join(format!(
            "bundle-{version}{}.json",
            if rollback { "-rb" } else { "" }
        ));
        let mut args = vec![
            "bundle",
            "--dir",
            &soc,
            "--rules",
            rules.to_str().unwrap(),
            "--version",
            version,
            "--out",
            out.to_str().unwrap(),
        ];
        if rollback {
            args.push("--rollback");
        }
        let (code, text) = soc_cli(&args);
        assert_eq!(code, Some(0), "{text}");
        out
    };
    let push = |file: &std::path::Path| {
        soc_cli(&[
            "push",
            "--dir",
            &soc,
            "--bundle",
            file.to_str().unwrap(),
            "--to",
            "all",
            "--wait",
            "15",
        ])
    };
    let applied = || -> Option<u64> {
        let raw = std::fs::read(lab.state_dir().join("rules").join("current.json")).ok()?;
        serde_json::from_slice::<serde_json::Value>(&raw).ok()?["version"].as_u64()
    };
    assert!(wait_until(Duration::from_secs(10), || {
        String::from_utf8_lossy(
            &std::process::Command::new(lab.hub_bin())
                .args(["status", "--dir", &soc])
                .output()
                .unwrap()
                .stdout,
        )
        .contains("connected")
    }));

    let v1 = bundle("1", false);
    let (code, text) = push(&v1);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("lc-agency-gw1: rule bundle v1 applied (1 rules)"),
        "{text}"
    );
    assert_eq!(applied(), Some(1));

    // Replayed: the same bundle again.
    let (code, text) = push(&v1);
    assert_eq!(code, Some(1));
    assert!(text.contains("a replayed bundle"), "{text}");

    // Tampered after signing.
    let v2 = bundle("2", false);
    let mut b: serde_json::Value = serde_json::from_slice(&std::fs::read(&v2).unwrap()).unwrap();
    b["files"]["local.rules"] = serde_json::Value::String(
        "pass ip any any -> any any (msg:\"let everything in\"; sid:1;)\n".into(),
    );
    std::fs::write(&v2, serde_json::to_vec(&b).unwrap()).unwrap();
    let (code, text) = push(&v2);
    assert_eq!(code, Some(1));
    assert!(text.contains("signature does not verify"), "{text}");

    // Signed by another SOC's key.
    let other = lab.dir.join("other-soc");
    let (code, text) = soc_cli(&[
        "init",
        "--dir",
        other.to_str().unwrap(),
        "--server-name",
        "x",
    ]);
    assert_eq!(code, Some(0), "{text}");
    let foreign = lab.dir.join("foreign.json");
    let (code, text) = soc_cli(&[
        "bundle",
        "--dir",
        other.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--version",
        "3",
        "--out",
        foreign.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = push(&foreign);
    assert_eq!(code, Some(1));
    assert!(text.contains("signature does not verify"), "{text}");

    // Unparsable rules: the file and line are named.
    std::fs::write(rules.join("broken.rules"), "alert tcp any any -> any any (msg:\"ok\"; sid:9000002;)\nalert tcp any any any any (msg:\"bad\"; sid:9000003;)\n").unwrap();
    let v4 = bundle("4", false);
    let (code, text) = push(&v4);
    assert_eq!(code, Some(1));
    assert!(text.contains("broken.rules:2:"), "{text}");
    assert_eq!(
        applied(),
        Some(1),
        "the running rules stay after every rejection"
    );

    // A newer valid one applies; a signed rollback may go back.
    std::fs::remove_file(rules.join("broken.rules")).unwrap();
    let v5 = bundle("5", false);
    assert_eq!(push(&v5).0, Some(0));
    assert_eq!(applied(), Some(5));
    assert_eq!(push(&bundle("4", true)).0, Some(0));
    assert_eq!(applied(), Some(4));
    // The bundle signed before the rollback cannot be replayed after it.
    let (code, text) = push(&v5);
    assert_eq!(code, Some(1));
    assert!(text.contains("a replayed bundle"), "{text}");
    assert_eq!(applied(), Some(4));
    // A bundle signed for another gateway is refused here even when pushed here.
    let elsewhere = lab.dir.join("bundle-6-elsewhere.json");
    let (code, text) = soc_cli(&[
        "bundle",
        "--dir",
        &soc,
        "--rules",
        rules.to_str().unwrap(),
        "--version",
        "6",
        "--targets",
        "other-gw",
        "--out",
        elsewhere.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = push(&elsewhere);
    assert_eq!(code, Some(1));
    assert!(text.contains("not for this gateway"), "{text}");
    assert_eq!(applied(), Some(4));
    let audits: Vec<_> = read_events(&lab)
        .into_iter()
        .filter(|e| e["action"] == "rules.apply")
        .collect();
    assert!(
        audits.iter().any(|e| e["outcome"] == "failure")
            && audits.iter().any(|e| e["outcome"] == "success")
    );
}

/// The hub relays what it receives to a SIEM (the real rsyslog), resuming from its cursors.
#[test]
fn the_hub_relays_gateway_events_to_a_siem() {
    // This gateway does not send syslog itself: everything reaching rsyslog came through the hub.
    let start = AGENCY_DEFAULT_PROFILE.find("[[soc.syslog]]").unwrap();
    let block_end = AGENCY_DEFAULT_PROFILE[start..]
        .find("server_name")
        .map(|i| start + i)
        .unwrap();
    let line_end = AGENCY_DEFAULT_PROFILE[block_end..]
        .find('\n')
        .map(|i| block_end + i + 1)
        .unwrap();
    let config = format!(
        "{}{}",
        &AGENCY_DEFAULT_PROFILE[..start],
        &AGENCY_DEFAULT_PROFILE[line_end..]
    );
    assert!(
        !config.contains("6514"),
        "the gateway config still has a syslog target"
    );
    let Some(lab) = test_lab_with("rly", &config, &["--synthetic-events", "5000"]) else {
        return;
    };
    kill_hub(&lab);
    lab.start_hub_with(&[
        "--relay",
        "10.251.9.10:6514",
        "--relay-server-name",
        "soc.tinh.gov.vn",
    ])
    .unwrap();
    let hub_count = || hub_seqs(&lab).len();
    let siem_count = || std::fs::read_to_string(lab.siem_log()).map_or(0, |t| t.lines().count());
    assert!(
        wait_until(Duration::from_secs(60), || hub_count() > 5000
            && siem_count() >= hub_count()),
        "hub {} SIEM {}\n--- hub log\n{}\n--- gateway log\n{}",
        hub_count(),
        siem_count(),
        lab.file_tail("soc-hub.log", 30),
        lab.log_tail(30)
    );
    let received = std::fs::read_to_string(lab.siem_log()).unwrap();
    assert!(received.contains("synthetic event 5000 of 5000"));
}

/// 003 §30.6: the SOC section follows the running configuration, not only the one the daemon
/// started with: a SIEM target added by a configuration change starts receiving at once (from
/// the beginning of the store, by its cursor), and the daemon is not restarted.
#[test]
fn a_siem_target_added_at_runtime_receives_without_a_restart() {
    let without_siem = AGENCY_DEFAULT_PROFILE.replace(
        "[[soc.syslog]]                     # the SOC's SIEM: RFC 5424 over TLS (RFC 5425) (003 §26)\nendpoint = \"10.251.9.10:6514\"\nserver_name = \"soc.tinh.gov.vn\"\n",
        "",
    );
    assert_ne!(
        without_siem, AGENCY_DEFAULT_PROFILE,
        "the profile's SIEM target moved"
    );
    let Some(lab) = test_lab_with("rsa", &without_siem, &["--synthetic-events", "50"]) else {
        return;
    };
    let pid = lab.gateway_pid();
    assert!(wait_until(Duration::from_secs(20), || read_events(&lab)
        .len()
        > 50));
    std::thread::sleep(Duration::from_secs(2));
    let received = || std::fs::read_to_string(lab.siem_log()).unwrap_or_default();
    assert!(
        !received().contains("synthetic event"),
        "no SIEM target is configured yet"
    );
    std::fs::write(lab.config_path(), AGENCY_DEFAULT_PROFILE).unwrap();
    lab.reload_gateway().unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || received()
            .contains("synthetic event 50 of 50")),
        "the SIEM got nothing after the change; log:\n{}",
        lab.log_tail(20)
    );
    assert_eq!(lab.gateway_pid(), pid, "the daemon was restarted");
}

/// A directory laid out like the appliance's root for system updates: booted from slot A
/// running `version`, the vendor key from `vendor` trusted (slot "partitions" are files).
fn fake_appliance_root(root: &std::path::Path, version: &str, vendor_pub: &std::path::Path) {
    for d in [
        "efi/EFI/Linux",
        "efi/loader/entries",
        "dev/disk/by-partlabel",
        "proc",
        "usr/lib",
        "usr/share/edgeward/update-keys",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    for slot in ["edgeward-a", "edgeward-b"] {
        std::fs::write(
            root.join("dev/disk/by-partlabel").join(slot),
            vec![0u8; 16 << 20],
        )
        .unwrap();
    }
    std::fs::write(
        root.join(format!("efi/EFI/Linux/edgeward_{version}+3.efi")),
        b"uki",
    )
    .unwrap();
    std::fs::write(
        root.join("proc/cmdline"),
        "root=PARTLABEL=edgeward-a ro quiet\n",
    )
    .unwrap();
    std::fs::write(
        root.join("usr/lib/os-release"),
        format!("ID=debian\nIMAGE_ID=edgeward\nIMAGE_VERSION={version}\n"),
    )
    .unwrap();
    std::fs::copy(
        vendor_pub,
        root.join("usr/share/edgeward/update-keys/vendor.pub"),
    )
    .unwrap();
}

/// 003 §20.2.b, 000 §8.1.đ: the SOC pushes a system update over the link in chunks; the gateway
/// checks the vendor's signature itself (the hub is not trusted with it), queues a good bundle
/// for its installer, which installs it into the inactive slot, and refuses a bundle signed by
/// another key — each answer reaches the SOC and is audited.
#[test]
fn the_soc_pushes_a_signed_system_update_and_a_foreign_one_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let hub_cli = |args: &[&str]| {
        let out = std::process::Command::new(edgeward_lab::hub_binary())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let vendor = work.path().join("vendor");
    let other = work.path().join("other-vendor");
    for dir in [&vendor, &other] {
        let (code, text) = hub_cli(&["update-key", "--dir", dir.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{text}");
    }
    let root = work.path().join("appliance");
    fake_appliance_root(&root, "0.1.1", &vendor.join("update-signing.pub"));
    // A root file system of three and a bit chunks.
    let parts = work.path().join("parts");
    std::fs::create_dir_all(&parts).unwrap();
    let rootfs: Vec<u8> = (0..(13u32 << 20) + 12345)
        .map(|i| (i % 251) as u8)
        .collect();
    std::fs::write(parts.join("root.erofs"), &rootfs).unwrap();
    std::fs::write(parts.join("vmlinuz"), b"kernel").unwrap();
    std::fs::write(parts.join("initrd"), b"initrd").unwrap();
    let sign = |key: &std::path::Path, out: &str| {
        let out = work.path().join(out);
        let (code, text) = hub_cli(&[
            "sign-update",
            "--key",
            key.to_str().unwrap(),
            "--version",
            "0.1.2",
            "--cmdline",
            "ro quiet",
            "--root",
            parts.join("root.erofs").to_str().unwrap(),
            "--kernel",
            parts.join("vmlinuz").to_str().unwrap(),
            "--initrd",
            parts.join("initrd").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, Some(0), "{text}");
        out
    };
    let good = sign(&vendor.join("update-signing.key"), "good.ewu");
    let foreign = sign(&other.join("update-signing.key"), "foreign.ewu");

    let Some(lab) = test_lab_with(
        "upd",
        AGENCY_DEFAULT_PROFILE,
        &["--update-root", root.to_str().unwrap()],
    ) else {
        return;
    };
    let soc = lab.soc_dir().display().to_string();
    assert!(wait_until(Duration::from_secs(10), || {
        hub_cli(&["status", "--dir", &soc]).1.contains("connected")
    }));
    let queued = lab.state_dir().join("update/queued.ewu");

    let (code, text) = hub_cli(&[
        "push-update",
        "--dir",
        &soc,
        "--bundle",
        foreign.to_str().unwrap(),
        "--to",
        "all",
        "--wait",
        "30",
    ]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("refused") && text.contains("signature"),
        "{text}"
    );
    assert!(!queued.exists());

    let (code, text) = hub_cli(&[
        "push-update",
        "--dir",
        &soc,
        "--bundle",
        good.to_str().unwrap(),
        "--to",
        "all",
        "--wait",
        "30",
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("edgeward 0.1.2") && text.contains("queued for installation"),
        "{text}"
    );
    assert_eq!(
        std::fs::read(&queued).unwrap(),
        std::fs::read(&good).unwrap()
    );

    // The installer unit's command, against the same root: slot B written, entry with 3 tries.
    let out = std::process::Command::new(edgeward_lab::edgeward_binary())
        .args([
            "--state-dir",
            lab.state_dir().to_str().unwrap(),
            "--update-root",
            root.to_str().unwrap(),
            "update",
            "install",
            "--queued",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let slot_b = std::fs::read(root.join("dev/disk/by-partlabel/edgeward-b")).unwrap();
    assert_eq!(&slot_b[..rootfs.len()], &rootfs[..]);
    let entry =
        std::fs::read_to_string(root.join("efi/loader/entries/edgeward_0.1.2+3.conf")).unwrap();
    assert!(
        entry.contains("root=PARTLABEL=edgeward-b ro quiet"),
        "{entry}"
    );
    assert!(!queued.exists(), "the queue is emptied");

    assert!(
        wait_until(Duration::from_secs(10), || {
            let events = read_events(&lab);
            let upload = |outcome: &str| {
                events.iter().any(|e| {
                    e["action"] == "system.update.upload"
                        && e["actor"] == "soc"
                        && e["outcome"] == outcome
                })
            };
            upload("failure")
                && upload("success")
                && events
                    .iter()
                    .any(|e| e["action"] == "system.update.install" && e["outcome"] == "success")
        }),
        "the refusal, the queued bundle and the install are audit events"
    );
}

/// 000 §10.7, 004 §16.1.b, 003 §11.3–11.4: every confirmed configuration is backed up on the box,
/// verified, and shipped to the SOC hub; a copy changed at the hub is refused on restore, and
/// the unchanged copy restores the configuration as a recorded change.
#[test]
fn every_confirmed_configuration_is_backed_up_to_the_soc_and_a_changed_backup_is_refused() {
    let Some(lab) = test_lab("bkp", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let soc = lab.soc_dir();
    let hub_copy = |version: u64| -> Option<std::path::PathBuf> {
        let dir = soc.join("backups");
        std::fs::read_dir(&dir).ok()?.flatten().find_map(|gw| {
            let p = gw.path().join(format!("v{version:08}.ewb"));
            p.exists().then_some(p)
        })
    };
    assert!(
        wait_until(Duration::from_secs(20), || hub_copy(1).is_some()),
        "the first configuration's backup did not reach the hub; log {}",
        lab.log_tail(20)
    );
    assert!(lab.state_dir().join("backups/v00000001.ewb").exists());
    // A change: a new backup, at the hub too.
    let changed = format!("{AGENCY_DEFAULT_PROFILE}\n# changed by the backup test\n");
    lab.apply_config(&changed, "backup test");
    assert!(
        wait_until(Duration::from_secs(20), || hub_copy(2).is_some()),
        "the change's backup did not reach the hub"
    );
    let backed_up = read_events(&lab)
        .iter()
        .filter(|e| {
            e["component"] == "backup"
                && e["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("backed up and verified"))
        })
        .count();
    assert!(backed_up >= 2, "a verified-backup event per configuration");

    let key_dir = lab.key_dir().display().to_string();
    let restore = |path: &std::path::Path| {
        lab.edgeward(&[
            "config",
            "restore-backup",
            path.to_str().unwrap(),
            "--key-dir",
            &key_dir,
            "--author",
            "it-officer",
            "--reason",
            "restore test",
            "--no-confirm",
        ])
    };
    // The hub's copy of v1, changed by one character: refused, nothing applied.
    let original = std::fs::read(hub_copy(1).unwrap()).unwrap();
    let mut tampered = original.clone();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered_file = lab.dir.join("tampered.ewb");
    std::fs::write(&tampered_file, &tampered).unwrap();
    let out = restore(&tampered_file);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused") && err.contains("changed"), "{err}");
    // The unchanged copy restores v1's text as version 3.
    let good_file = lab.dir.join("good.ewb");
    std::fs::write(&good_file, &original).unwrap();
    let out = restore(&good_file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut history = String::new();
    assert!(
        wait_until(Duration::from_secs(20), || {
            history =
                String::from_utf8_lossy(&lab.edgeward(&["config", "history"]).stdout).into_owned();
            history.contains("restored from backup v1")
        }),
        "{history}"
    );
}
