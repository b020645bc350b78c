//! NAC in the lab: the gateway's DHCP (real dnsmasq, rendered from the model) hands a visiting
//! machine an address (real dhclient), every lease is an event that reaches the SOC, and leases
//! outlive a daemon restart and a reconfiguration.

use std::path::PathBuf;
use std::time::Duration;

use edgeward_config::AGENCY_DEFAULT_PROFILE;
use edgeward_lab::{Lab, read_events, test_lab, wait_until};

const VISITOR_MAC: &str = "02:ed:00:00:00:77";

/// Ask for an address from `role` (dhclient, once, with the lab's script); the address it got.
fn dhcp(lab: &Lab, role: &str) -> Option<String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dhclient-script.sh");
    let lease = lab.dir.join(format!("{role}.dhclient.leases"));
    let pid = lab.dir.join(format!("{role}.dhclient.pid"));
    let out = lab
        .exec(
            role,
            "timeout",
            &[
                "20",
                "dhclient",
                "-1",
                "-sf",
                script.to_str()?,
                "-lf",
                lease.to_str()?,
                "-pf",
                pid.to_str()?,
                "eth0",
            ],
        )
        .ok()?;
    if !out.status.success() {
        eprintln!("dhclient: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let addr = lab
        .exec(role, "ip", &["-4", "-o", "addr", "show", "dev", "eth0"])
        .ok()?;
    String::from_utf8_lossy(&addr.stdout)
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .and_then(|a| a.split('/').next())
        .map(str::to_string)
}

/// `edgeward devices ARGS`, as the IT officer, through the running daemon; it must succeed.
fn devices(lab: &Lab, args: &[&str]) {
    let mut all = vec!["devices"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--author", "it-officer", "--reason", "NAC lab test"]);
    let out = lab.edgeward(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// NAC events for `mac` with `action`.
fn nac_events(lab: &Lab, mac: &str, action: &str) -> Vec<serde_json::Value> {
    read_events(lab)
        .into_iter()
        .filter(|e| e["event_type"] == "nac" && e["mac"] == mac && e["action"] == action)
        .collect()
}

/// 003 §30.6.c: the gateway hands out addresses in the staff zone, and every lease is an event
/// that reaches the SOC; a restart of the daemon and a reconfiguration keep the leases.
#[test]
fn a_visitor_gets_a_lease_the_soc_sees_it_and_leases_outlive_restarts() {
    let Some(lab) = test_lab("dhcp", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let got = dhcp(&lab, "visitor-1").expect("a lease for visitor-1");
    let last: u8 = got
        .rsplit('.')
        .next()
        .and_then(|o| o.parse().ok())
        .unwrap_or(0);
    assert!(
        got.starts_with("10.10.0.") && (100..=199).contains(&last),
        "an address from the staff range: {got}"
    );
    assert!(
        wait_until(Duration::from_secs(5), || !nac_events(
            &lab,
            VISITOR_MAC,
            "dhcp-lease"
        )
        .is_empty()),
        "no lease event; log:\n{}",
        lab.log_tail(20)
    );
    let ev = &nac_events(&lab, VISITOR_MAC, "dhcp-lease")[0];
    assert_eq!(ev["ip"], got.as_str());
    assert_eq!(ev["zone"], "staff");
    // At the SOC hub.
    let hub_file = lab
        .soc_dir()
        .join("gateways")
        .join("lc-agency-gw1")
        .join("events.jsonl");
    assert!(wait_until(Duration::from_secs(15), || {
        std::fs::read_to_string(&hub_file)
            .unwrap_or_default()
            .lines()
            .any(|l| l.contains("dhcp-lease") && l.contains(VISITOR_MAC))
    }));
    // The daemon restarts (dnsmasq with it): the lease is kept and the same address renewed.
    let pid = lab.gateway_pid().expect("running");
    // SAFETY: kill(2) on the lab's own daemon.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    assert!(wait_until(Duration::from_secs(10), || lab
        .gateway_pid()
        .is_none()));
    lab.start_gateway().unwrap();
    lab.wait_gateway_ready(Duration::from_secs(20)).unwrap();
    let leases = lab.state_dir().join("dhcp").join("leases");
    assert!(
        std::fs::read_to_string(&leases)
            .unwrap_or_default()
            .contains(VISITOR_MAC),
        "the lease file keeps the lease"
    );
    assert_eq!(
        dhcp(&lab, "visitor-1").as_deref(),
        Some(got.as_str()),
        "same address after a restart"
    );
    // A reconfiguration (another range end) restarts dnsmasq; the lease still holds.
    let text = std::fs::read_to_string(lab.config_path())
        .unwrap()
        .replace("to = \"10.10.0.199\"", "to = \"10.10.0.198\"");
    std::fs::write(lab.config_path(), text).unwrap();
    lab.reload_gateway().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        dhcp(&lab, "visitor-1").as_deref(),
        Some(got.as_str()),
        "same address after a reconfiguration"
    );
    assert!(wait_until(Duration::from_secs(5), || !nac_events(
        &lab,
        VISITOR_MAC,
        "dhcp-renew"
    )
    .is_empty()));
}

/// An inventoried device with a MAC and an address always gets that address from the gateway.
#[test]
fn an_inventoried_device_gets_its_own_address() {
    let Some(lab) = test_lab("dhcpstatic", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let hosts = lab.state_dir().join("dhcp").join("hosts");
    assert!(wait_until(Duration::from_secs(5), || {
        std::fs::read_to_string(&hosts)
            .unwrap_or_default()
            .contains("02:ed:00:00:00:11,10.10.0.11")
    }));
    // staff-1 gives up its static address and asks: it gets the inventory's.
    lab.exec(
        "staff-1",
        "ip",
        &["addr", "flush", "dev", "eth0", "scope", "global"],
    )
    .unwrap();
    assert_eq!(dhcp(&lab, "staff-1").as_deref(), Some("10.10.0.11"));
}

/// 000 §5.4, 003 §23.3: a machine not in the inventory gets an address but reaches only the
/// gateway — its web requests land on the waiting page naming it — not the Internet, staff
/// hosts or servers; once approved in the inventory it reaches what its zone allows within 2 s,
/// without asking for a new address.
#[test]
fn an_unknown_machine_waits_for_approval_and_is_let_in_once_approved() {
    let Some(lab) = test_lab("onboard", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let ip = dhcp(&lab, "visitor-1").expect("a lease even while waiting");
    // What the gateway learned from its DHCP exchange: fingerprint, interface, zone, address.
    let seen_file = lab.state_dir().join("dhcp").join("seen.json");
    let learned = || -> Option<serde_json::Value> {
        let t: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&seen_file).ok()?).ok()?;
        let d = t["devices"][VISITOR_MAC].clone();
        (d["ip"] == ip.as_str()).then_some(d)
    };
    assert!(
        wait_until(Duration::from_secs(5), || learned().is_some()),
        "the visitor is not in {}",
        seen_file.display()
    );
    let d = learned().unwrap_or_default();
    assert!(!d["params"].as_str().unwrap_or("").is_empty(), "{d}");
    assert_eq!(d["zone"], "staff", "{d}");
    assert_eq!(d["random_mac"], true, "02:… is locally administered: {d}");
    assert!(
        !nac_events(&lab, VISITOR_MAC, "device-seen").is_empty(),
        "a device-seen event for the SOC"
    );
    let page = lab
        .exec(
            "visitor-1",
            "curl",
            &["-s", "-m", "4", "http://192.0.2.80/anything"],
        )
        .unwrap();
    let page = String::from_utf8_lossy(&page.stdout).into_owned();
    assert!(
        page.contains("Thiết bị đang chờ phê duyệt") && page.contains(VISITOR_MAC),
        "the waiting page, naming the machine: {page}"
    );
    let reach = |addr: &str, port: u16| lab.can_connect("visitor-1", addr, port, 1);
    assert!(!reach("192.0.2.100", 443), "no Internet while waiting");
    // (A staff host behind the same switch is reached without crossing the gateway: that the
    // gateway cannot cut — the appliance's own bridged ports are a later slice.)
    // (Port 80 anywhere lands on the waiting page.)
    assert!(!reach("10.10.10.10", 443), "no server while waiting");
    assert!(
        lab.can_connect("staff-1", "192.0.2.100", 443, 2),
        "approved machines are not affected"
    );
    // Approved at the console: `edgeward devices approve` (a recorded configuration change).
    let out = lab.edgeward(&[
        "devices",
        "approve",
        VISITOR_MAC,
        "--zone",
        "staff",
        "--user",
        "Nguyễn Văn Khách",
        "--type",
        "laptop",
        "--ip",
        &ip,
        "--checked",
        "antivirus,os-updates,licensed-software,screen-lock",
        "--author",
        "it-officer",
        "--reason",
        "the visitor's laptop, checklist ticked",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let applied = std::time::Instant::now();
    assert!(
        wait_until(Duration::from_secs(2), || reach("192.0.2.100", 443)),
        "not let in within 2 s of the approval; log:\n{}",
        lab.log_tail(20)
    );
    eprintln!("approval to access: {:?}", applied.elapsed());
    assert!(
        !reach("10.10.10.10", 22),
        "and no more than its zone allows"
    );
}

/// 001 §7.8, 004 §15.8: quarantine in one step cuts a device off from the Internet, the TSLCD
/// and the servers, leaving only the update mirrors; release gives it back — each a recorded decision (`edgeward devices`).
#[test]
fn quarantine_and_release_from_the_console() {
    let Some(lab) = test_lab("quarantine", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let reach = |addr: &str, port: u16| lab.can_connect("staff-2", addr, port, 1);
    assert!(reach("192.0.2.81", 443) && reach("10.10.10.10", 443) && reach("10.251.1.10", 80));
    let decide = |what: &str| {
        let out = lab.edgeward(&[
            "devices",
            what,
            "02:ed:00:00:00:12",
            "--author",
            "it-officer",
            "--reason",
            "malware suspected",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    decide("quarantine");
    assert!(
        wait_until(Duration::from_secs(2), || !reach("192.0.2.81", 443)),
        "still on the Internet 2 s after the quarantine"
    );
    assert!(!reach("10.10.10.10", 443), "no servers in quarantine");
    assert!(!reach("10.251.1.10", 80), "no TSLCD in quarantine");
    assert!(
        reach("192.0.2.100", 443),
        "the update mirrors stay reachable, to clean the machine"
    );
    decide("release");
    assert!(wait_until(Duration::from_secs(2), || reach(
        "192.0.2.81",
        443
    )));
    let history = lab.edgeward(&["config", "history"]);
    assert!(String::from_utf8_lossy(&history.stdout).contains("malware suspected"));
}

/// 000 §5.10.b, 001 §7.8: nmap from a staff PC at the server zone ends in quarantine by
/// itself (a recorded change by `edgeward-nac` with the alert as its reason); the same scan from
/// an allow-listed source (the SOC's or the police's scanner, 002 §7.2.c) changes nothing.
#[test]
fn a_scanning_host_is_quarantined_automatically_and_an_allow_listed_scanner_is_not() {
    let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new(rules.join("scripts/et-open.sh"))
        .current_dir(&rules)
        .output()
        .unwrap();
    let rules = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let config = AGENCY_DEFAULT_PROFILE.replace(
        "mode = \"ids\"",
        "mode = \"ids\"\nscanner_allowlist = [\"10.10.0.11/32\"]",
    );
    let Some(lab) = edgeward_lab::test_lab_with("autoq", &config, &["--ids-rules", &rules]) else {
        return;
    };
    assert!(wait_until(Duration::from_secs(60), || lab
        .state_dir()
        .join("ids-status.json")
        .exists()));
    let reach = |role: &str| lab.can_connect(role, "192.0.2.81", 443, 1);
    assert!(reach("staff-1") && reach("staff-2"));
    let nmap = |role: &str| {
        lab.exec(
            role,
            "nmap",
            &[
                "-sS",
                "-Pn",
                "-n",
                "-T4",
                "--max-retries",
                "0",
                "-p",
                "1-200",
                "10.10.10.10",
            ],
        )
        .unwrap()
    };
    nmap("staff-2");
    assert!(
        wait_until(Duration::from_secs(10), || !reach("staff-2")),
        "staff-2 not quarantined; log:\n{}",
        lab.log_tail(20)
    );
    let history =
        String::from_utf8_lossy(&lab.edgeward(&["config", "history"]).stdout).into_owned();
    assert!(
        history.contains("edgeward-nac") && history.contains("quarantined automatically (scan)"),
        "{history}"
    );
    nmap("staff-1");
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        reach("staff-1"),
        "the allow-listed scanner keeps its access"
    );
    assert!(
        !read_events(&lab).iter().any(|e| e["event_type"] == "nac"
            && e["action"] == "quarantine"
            && e["ip"] == "10.10.0.11"),
        "nothing decided about the allow-listed scanner"
    );
}

/// Alerts of built-in rule `sid` from `src`.
fn alerts_from(lab: &Lab, sid: u32, src: &str) -> Vec<serde_json::Value> {
    read_events(lab)
        .into_iter()
        .filter(|e| {
            e["event_type"] == "alert" && e["alert"]["signature_id"] == sid && e["src_ip"] == src
        })
        .collect()
}

/// The alerts of rule `sid` naming `src`, once there is one (the quarantine can land before the
/// alert reaches the event file the test reads); fails after 5 s without.
fn await_alert(lab: &Lab, sid: u32, src: &str) -> Vec<serde_json::Value> {
    let mut found = Vec::new();
    let arrived = wait_until(Duration::from_secs(5), || {
        found = alerts_from(lab, sid, src);
        !found.is_empty()
    });
    assert!(arrived, "no alert of sid {sid} naming {src}");
    found
}

/// 000 §5.10.b, 001 §7.8: with the IDS off, the gateway's own counters (every connection
/// attempt from the internal zones, logged by the firewall) still find a scanner and a password
/// guesser and quarantine them: nmap from a staff PC at the server zone (routed), and SSH
/// password guessing between neighbours on the appliance's own ports (switched on its bridge,
/// never routed) — each raising the IDS's own built-in alert, which reaches the SOC's store.
#[test]
fn with_the_ids_off_the_gateways_own_counters_quarantine_a_scanner_and_a_password_guesser() {
    let config =
        AGENCY_DEFAULT_PROFILE.replacen("[ids]\nenabled = true", "[ids]\nenabled = false", 1);
    assert_ne!(config, AGENCY_DEFAULT_PROFILE);
    let Some(lab) = test_lab("ownctr", &config) else {
        return;
    };
    let internet = |role: &str| lab.can_connect(role, "192.0.2.81", 443, 1);
    assert!(internet("staff-2"));
    let out = lab
        .exec(
            "staff-2",
            "nmap",
            &[
                "-sS",
                "-Pn",
                "-n",
                "-T4",
                "--max-retries",
                "0",
                "-p",
                "1-200",
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
        wait_until(Duration::from_secs(10), || !internet("staff-2")),
        "staff-2 not quarantined after its scan; log:\n{}",
        lab.log_tail(20)
    );
    await_alert(&lab, 9_000_001, "10.10.0.12");
    let history =
        String::from_utf8_lossy(&lab.edgeward(&["config", "history"]).stdout).into_owned();
    assert!(
        history.contains("quarantined automatically (scan)"),
        "{history}"
    );

    // desk-1, on the gateway's own port lan1, guessing staff-1's SSH password.
    devices(
        &lab,
        &[
            "approve",
            "02:ed:00:00:00:13",
            "--zone",
            "staff",
            "--user",
            "Lê Văn C",
            "--type",
            "pc",
            "--ip",
            "10.10.0.13",
        ],
    );
    assert!(wait_until(Duration::from_secs(2), || internet("desk-1")));
    let guess = lab
        .exec(
            "desk-1",
            "bash",
            &[
                "-c",
                "for i in $(seq 40); do timeout 1 bash -c 'exec 3<>/dev/tcp/10.10.0.11/22' 2>/dev/null; done; true",
            ],
        )
        .unwrap();
    assert!(guess.status.success());
    // The counters judge per window; on a loaded machine the decision can take a few seconds
    // more than on an idle one.
    assert!(
        wait_until(Duration::from_secs(20), || !internet("desk-1")),
        "desk-1 not quarantined after guessing; log:\n{}",
        lab.log_tail(20)
    );
    let guessing = await_alert(&lab, 9_000_008, "10.10.0.13");
    assert_eq!(guessing.len(), 1, "one alert per window");
    assert_eq!(guessing[0]["dest_ip"], "10.10.0.11");
    assert_eq!(guessing[0]["dest_port"], 22);
    assert!(
        !lab.can_connect("desk-1", "10.10.0.11", 80, 1),
        "nor its neighbours"
    );
    assert!(
        internet("staff-1"),
        "the machine guessed at keeps its access"
    );
}

/// Kills a process started for a test when the test ends, however it ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// 000 §5.10.b (machines must not hand out addresses), 001 §7.8: a rogue dnsmasq on a staff
/// PC is found within 10 s by the gateway's probe (an event naming the server's MAC, address
/// and interface, which reaches the SOC), and the PC is quarantined by itself: no Internet, no
/// servers, no TSLCD.
#[test]
fn a_rogue_dhcp_server_is_found_and_its_host_quarantined() {
    let Some(lab) = test_lab("rogue", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let reach = |addr: &str, port: u16| lab.can_connect("staff-2", addr, port, 1);
    assert!(reach("192.0.2.81", 443));
    let started = std::time::Instant::now();
    let _rogue = Killed(
        std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.ns("staff-2"),
                "dnsmasq",
                "--no-daemon",
            ])
            .args([
                "--port=0",
                "--interface=eth0",
                "--bind-interfaces",
                "--user=root",
            ])
            .arg("--dhcp-range=10.10.0.50,10.10.0.60,1h")
            .arg(format!(
                "--dhcp-leasefile={}",
                lab.dir.join("rogue.leases").display()
            ))
            .arg(format!(
                "--pid-file={}",
                lab.dir.join("rogue.pid").display()
            ))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dnsmasq"),
    );
    let rogue_events = || {
        read_events(&lab)
            .into_iter()
            .filter(|e| e["event_type"] == "nac" && e["action"] == "rogue-dhcp")
            .collect::<Vec<_>>()
    };
    assert!(
        wait_until(Duration::from_secs(10), || !rogue_events().is_empty()),
        "no rogue-dhcp event in 10 s; log:\n{}",
        lab.log_tail(20)
    );
    let found = started.elapsed();
    let ev = &rogue_events()[0];
    assert_eq!(ev["mac"], "02:ed:00:00:00:12", "{ev}");
    assert_eq!(ev["ip"], "10.10.0.12", "{ev}");
    assert_eq!(ev["zone"], "staff", "{ev}");
    eprintln!("rogue DHCP server found in {found:?}: {}", ev["detail"]);
    assert!(
        wait_until(Duration::from_secs(5), || !reach("192.0.2.81", 443)),
        "the rogue server's host keeps the Internet; log:\n{}",
        lab.log_tail(20)
    );
    assert!(!reach("10.10.10.10", 443), "no servers in quarantine");
    assert!(!reach("10.251.1.10", 80), "no TSLCD in quarantine");
    let history =
        String::from_utf8_lossy(&lab.edgeward(&["config", "history"]).stdout).into_owned();
    assert!(history.contains("rogue-dhcp"), "{history}");
    // Only one server is rogue: the gateway's own DHCP is not reported.
    assert!(
        rogue_events()
            .iter()
            .all(|e| e["mac"] == "02:ed:00:00:00:12")
    );
    let hub_file = lab
        .soc_dir()
        .join("gateways")
        .join("lc-agency-gw1")
        .join("events.jsonl");
    assert!(
        wait_until(Duration::from_secs(15), || {
            std::fs::read_to_string(&hub_file)
                .unwrap_or_default()
                .lines()
                .any(|l| l.contains("rogue-dhcp") && l.contains("02:ed:00:00:00:12"))
        }),
        "the SOC hub did not receive the finding"
    );
}

/// 001 §7.8, 004 §15.8: the SOC orders a quarantine over its link (signed with its key); the
/// gateway records it as a change by `soc` with the analyst and reason, the PC is cut off within
/// seconds, and a signed release gives it back. An order signed with another key is refused
/// (trust boundary SOC → gateway) and changes nothing.
#[test]
fn the_soc_orders_a_quarantine_and_a_release() {
    let Some(lab) = test_lab("socorder", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let soc = lab.soc_dir().display().to_string();
    let hub = |args: &[&str]| {
        std::process::Command::new(lab.hub_bin())
            .args(args)
            .output()
            .unwrap()
    };
    assert!(wait_until(Duration::from_secs(15), || {
        String::from_utf8_lossy(&hub(&["status", "--dir", &soc]).stdout).contains("connected")
    }));
    let reach = || lab.can_connect("staff-2", "192.0.2.81", 443, 1);
    assert!(reach());
    // A forged order: another SOC's key, written straight into the hub's outbox.
    let rogue_soc = lab.dir.join("rogue-soc");
    std::fs::create_dir_all(&rogue_soc).unwrap();
    edgeward_soc::bundle::make_signing_key(&rogue_soc).unwrap();
    let forged = edgeward_soc::order::create(
        &rogue_soc,
        &["lc-agency-gw1".into()],
        "quarantine",
        None,
        Some("10.10.0.12".parse().unwrap()),
        "forged",
        "mallory",
        chrono::Utc::now(),
    )
    .unwrap();
    let outbox = lab.soc_dir().join("outbox").join("lc-agency-gw1");
    std::fs::create_dir_all(&outbox).unwrap();
    std::fs::write(
        outbox.join("order-00000000000000000001.json"),
        serde_json::to_vec(&forged).unwrap(),
    )
    .unwrap();
    let results = lab
        .soc_dir()
        .join("results")
        .join("lc-agency-gw1.orders.jsonl");
    assert!(
        wait_until(Duration::from_secs(10), || std::fs::read_to_string(
            &results
        )
        .unwrap_or_default()
        .contains("signature does not verify")),
        "the forged order is refused and the SOC told"
    );
    assert!(reach(), "a forged order changes nothing");
    let out = hub(&[
        "order",
        "--dir",
        &soc,
        "--to",
        "lc-agency-gw1",
        "--action",
        "quarantine",
        "--ip",
        "10.10.0.12",
        "--reason",
        "beaconing to a C2 seen at the SOC",
        "--analyst",
        "analyst-3",
        "--wait",
        "15",
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        wait_until(Duration::from_secs(5), || !reach()),
        "not quarantined after the SOC's order; log:\n{}",
        lab.log_tail(20)
    );
    assert!(
        !lab.can_connect("staff-2", "10.251.1.10", 80, 1),
        "no TSLCD"
    );
    let history =
        String::from_utf8_lossy(&lab.edgeward(&["config", "history"]).stdout).into_owned();
    assert!(
        history.contains("soc") && history.contains("analyst-3") && history.contains("beaconing"),
        "{history}"
    );
    let out = hub(&[
        "order",
        "--dir",
        &soc,
        "--to",
        "lc-agency-gw1",
        "--action",
        "release",
        "--mac",
        "02:ed:00:00:00:12",
        "--reason",
        "cleaned and re-imaged",
        "--analyst",
        "analyst-3",
        "--wait",
        "15",
    ]);
    assert!(out.status.success());
    assert!(wait_until(Duration::from_secs(5), reach), "released");
}

/// 000 §5.4, 001 §7.8 — what the gateway can cut, shown both ways. `desk-1` sits on the
/// appliance's own LAN port (`lan1`, bridged with `lan0-up` into the staff interface): waiting
/// for approval it reaches no neighbour; approved, it reaches staff PCs; quarantined, none
/// again — the bridge's own forward hook. `staff-2` sits behind the agency's switch: quarantined,
/// it loses the Internet and every machine across the gateway (`desk-1` included), but still
/// reaches `staff-1` on the same switch, which the gateway never sees.
#[test]
fn quarantine_holds_between_neighbours_on_the_appliances_own_ports_only() {
    let Some(lab) = test_lab("bridged", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let web = |from: &str, to: &str| lab.can_connect(from, to, 80, 1);
    assert!(web("staff-2", "10.10.0.11"), "switch neighbours talk");
    assert!(
        !web("desk-1", "10.10.0.11"),
        "an unapproved machine on the gateway's port reaches no neighbour"
    );
    assert!(!lab.can_connect("desk-1", "192.0.2.100", 443, 1));
    let fdb = lab.state_dir().join("bridge-fdb.json");
    assert!(
        wait_until(Duration::from_secs(6), || std::fs::read_to_string(&fdb)
            .unwrap_or_default()
            .contains("\"02:ed:00:00:00:13\":\"lan1\"")),
        "desk-1 learned on lan1: {}",
        std::fs::read_to_string(&fdb).unwrap_or_default()
    );
    devices(
        &lab,
        &[
            "approve",
            "02:ed:00:00:00:13",
            "--zone",
            "staff",
            "--user",
            "Lê Văn C",
            "--type",
            "pc",
            "--ip",
            "10.10.0.13",
        ],
    );
    let approved = std::time::Instant::now();
    assert!(
        wait_until(Duration::from_secs(2), || web("desk-1", "10.10.0.11")),
        "approved desk-1 does not reach its neighbour within 2 s; bridge table:\n{}\nlog:\n{}",
        String::from_utf8_lossy(
            &lab.exec(
                "gateway",
                "nft",
                &["list", "table", "bridge", "edgeward_br"]
            )
            .map(|o| o.stdout)
            .unwrap_or_default()
        ),
        lab.log_tail(20)
    );
    eprintln!(
        "approval on a bridged port to access: {:?}",
        approved.elapsed()
    );
    assert!(lab.can_connect("desk-1", "192.0.2.81", 443, 2));
    devices(&lab, &["quarantine", "02:ed:00:00:00:13"]);
    assert!(
        wait_until(Duration::from_secs(2), || !web("desk-1", "10.10.0.11")),
        "quarantined desk-1 still reaches its neighbour"
    );
    assert!(!web("staff-1", "10.10.0.13"), "nor is it reached");
    assert!(!lab.can_connect("desk-1", "192.0.2.81", 443, 1));
    devices(&lab, &["release", "02:ed:00:00:00:13"]);
    assert!(wait_until(Duration::from_secs(2), || web(
        "desk-1",
        "10.10.0.11"
    )));
    devices(&lab, &["quarantine", "02:ed:00:00:00:12"]);
    assert!(wait_until(Duration::from_secs(2), || !lab.can_connect(
        "staff-2",
        "192.0.2.81",
        443,
        1
    )));
    assert!(
        !web("staff-2", "10.10.0.13"),
        "across the gateway's bridge: cut"
    );
    assert!(
        web("staff-2", "10.10.0.11"),
        "behind the same switch: the gateway cannot cut this, and says so"
    );
}

/// Benchmark (run by `scripts/bench-nac.sh`, not by the suite): with 5,000 more devices in the
/// inventory, an approval from the console lets the waiting machine in, and a quarantine cuts
/// it off, each timed from the command to the first connection that behaves accordingly (goal
/// ≤ 2 s). Prints `approval_s=` and `quarantine_s=` for the script.
#[test]
#[ignore = "benchmark: scripts/bench-nac.sh"]
fn bench_decisions_with_5000_devices() {
    let config = edgeward_nac::bench::agency_with_devices(5000);
    let Some(lab) = test_lab("nac5k", &config) else {
        return;
    };
    let ip = dhcp(&lab, "visitor-1").expect("a lease while waiting");
    let reach = || lab.can_connect("visitor-1", "192.0.2.81", 443, 1);
    assert!(!reach());
    let run = |args: &[&str]| {
        let mut all = vec!["devices"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--author", "bench", "--reason", "5,000-device benchmark"]);
        let t = std::time::Instant::now();
        let out = lab.edgeward(&all);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    };
    let t = run(&[
        "approve",
        VISITOR_MAC,
        "--zone",
        "staff",
        "--user",
        "Khách",
        "--type",
        "pc",
        "--ip",
        &ip,
    ]);
    assert!(
        wait_until(Duration::from_secs(10), reach),
        "not let in; log:\n{}",
        lab.log_tail(30)
    );
    println!("approval_s={:.2}", t.elapsed().as_secs_f64());
    let t = run(&["quarantine", VISITOR_MAC]);
    assert!(wait_until(Duration::from_secs(10), || !reach()));
    println!("quarantine_s={:.2}", t.elapsed().as_secs_f64());
}

/// 000 §17.2.b, 000 §5.4: removing a device from the inventory is one decision that frees its
/// address (its lease is released in dnsmasq at once) and its rules (it is back to waiting:
/// no Internet); blocking cuts it off the same way.
#[test]
fn removal_frees_the_lease_and_the_rules_and_block_cuts_off() {
    let Some(lab) = test_lab("remove", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let ip = dhcp(&lab, "visitor-1").expect("a lease");
    let reach = || lab.can_connect("visitor-1", "192.0.2.100", 443, 1);
    devices(
        &lab,
        &[
            "approve",
            VISITOR_MAC,
            "--zone",
            "staff",
            "--user",
            "Khách",
            "--type",
            "pc",
        ],
    );
    assert!(wait_until(Duration::from_secs(2), reach), "approved");
    devices(&lab, &["block", VISITOR_MAC]);
    assert!(
        wait_until(Duration::from_secs(2), || !reach()),
        "blocked: cut off"
    );
    let leases = lab.state_dir().join("dhcp").join("leases");
    assert!(
        wait_until(Duration::from_secs(3), || !std::fs::read_to_string(&leases)
            .unwrap_or_default()
            .contains(VISITOR_MAC)),
        "the blocked device's lease {ip} is freed: {}",
        std::fs::read_to_string(&leases).unwrap_or_default()
    );
    assert!(
        wait_until(Duration::from_secs(5), || !nac_events(
            &lab,
            VISITOR_MAC,
            "dhcp-release"
        )
        .is_empty()),
        "the release is an event"
    );
    // Back in, then removed: the address and the rules go with the entry.
    devices(
        &lab,
        &[
            "approve",
            VISITOR_MAC,
            "--zone",
            "staff",
            "--user",
            "Khách",
            "--type",
            "pc",
        ],
    );
    let ip = dhcp(&lab, "visitor-1").expect("a lease again");
    assert!(wait_until(Duration::from_secs(2), reach));
    devices(&lab, &["remove", VISITOR_MAC]);
    assert!(
        wait_until(Duration::from_secs(2), || !reach()),
        "removed: waiting again"
    );
    assert!(
        wait_until(Duration::from_secs(3), || !std::fs::read_to_string(&leases)
            .unwrap_or_default()
            .contains(&ip)),
        "the removed device's address {ip} is free"
    );
}

/// IPv6 where a zone has it (`dhcp.ipv6 = "slaac"`): the gateway's router advertisements give a
/// machine on the staff segment an address in the zone's prefix, and the lease file's DHCPv6
/// bookkeeping does not confuse the IPv4 lease events.
#[test]
fn a_zone_with_ipv6_gives_its_machines_addresses_by_router_advertisement() {
    let config = AGENCY_DEFAULT_PROFILE.replace(
        "lease_minutes = 720 }",
        "lease_minutes = 720, ipv6 = \"slaac\" }",
    );
    assert_ne!(config, AGENCY_DEFAULT_PROFILE, "the profile's staff range");
    let Some(lab) = test_lab("slaac", &config) else {
        return;
    };
    let global = || {
        lab.exec(
            "visitor-1",
            "ip",
            &["-6", "-o", "addr", "show", "dev", "eth0", "scope", "global"],
        )
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
    };
    assert!(
        wait_until(Duration::from_secs(25), || global().contains("fd00:10:")),
        "no SLAAC address: {}; log:\n{}",
        global(),
        lab.log_tail(20)
    );
    let _ = dhcp(&lab, "visitor-1").expect("IPv4 still leased");
    assert!(wait_until(Duration::from_secs(5), || !nac_events(
        &lab,
        VISITOR_MAC,
        "dhcp-lease"
    )
    .is_empty()));
}
