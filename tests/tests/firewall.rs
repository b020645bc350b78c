//! The agency profile's firewall rules, each proven on the wire in the lab (REQUIREMENTS §1), plus
//! logging, rate limiting, device overrides without reload, commit-confirm and the last good
//! ruleset at start. Each test fails if its rule is removed from the renderer or the profile.
//!
//! A TCP connect that times out was dropped by the firewall; "refused" means it got through and
//! the host answered with a reset (nothing listens there).

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use edgeward_config::AGENCY_DEFAULT_PROFILE;
use edgeward_lab::topology::endpoints::*;
use edgeward_lab::{Lab, Reach, read_events, test_lab, wait_until};

const T: Duration = Duration::from_millis(700);

fn reach(lab: &Lab, role: &str, addr: &str, port: u16) -> Reach {
    // Allowed flows get a few tries (first packets may race neighbour discovery).
    let ip = addr.parse().unwrap();
    let mut last = Reach::TimedOut;
    for _ in 0..3 {
        last = lab.tcp(role, ip, port, T);
        if last != Reach::TimedOut {
            break;
        }
    }
    last
}

fn assert_dropped(lab: &Lab, role: &str, addr: &str, port: u16) {
    assert_eq!(
        lab.tcp(role, addr.parse().unwrap(), port, T),
        Reach::TimedOut,
        "{role} → {addr}:{port} must be dropped"
    );
}

fn firewall_events(lab: &Lab) -> Vec<serde_json::Value> {
    read_events(lab)
        .into_iter()
        .filter(|e| e["event_type"] == "firewall")
        .collect()
}

fn profile_with(from: &str, to: &str) -> String {
    assert_eq!(AGENCY_DEFAULT_PROFILE.matches(from).count(), 1, "{from}");
    AGENCY_DEFAULT_PROFILE.replacen(from, to, 1)
}

/// 003 §21.3.c: servers and printers/cameras/IP phones get no Internet except update mirrors.
#[test]
fn servers_and_non_computers_reach_only_update_mirrors() {
    let Some(lab) = test_lab("nci", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    assert_eq!(
        reach(&lab, "staff-1", INTERNET_HTTP, 80),
        Reach::Ok,
        "control: staff browse"
    );
    assert_eq!(reach(&lab, "server-1", UPDATE_MIRROR, 80), Reach::Ok);
    assert_eq!(reach(&lab, "printer-1", UPDATE_MIRROR, 80), Reach::Ok);
    assert_dropped(&lab, "printer-1", INTERNET_HTTP, 80);
    assert_dropped(&lab, "printer-1", "1.1.1.1", 80);
    // The printer's drop is logged with the rule that made it.
    assert!(
        wait_until(Duration::from_secs(4), || firewall_events(&lab).iter().any(
            |e| e["src_ip"] == "10.10.0.50"
                && e["rule_id"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("ew:nointernet:fwd_staff"))
                && e["dest_port"] == 80
        )),
        "no firewall event for the printer: {:#?}",
        firewall_events(&lab)
    );
}

/// 003 §8.1.e: hosts in the server address range cannot browse the Internet.
#[test]
fn the_server_range_cannot_browse() {
    let Some(lab) = test_lab("srv", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    assert_eq!(
        reach(&lab, "server-1", UPDATE_MIRROR, 443),
        Reach::Ok,
        "control: updates"
    );
    for (addr, port) in [(INTERNET_HTTP, 80), ("1.1.1.1", 80), (INTERNET_HTTP, 443)] {
        assert_dropped(&lab, "server-1", addr, port);
    }
    assert!(wait_until(Duration::from_secs(4), || firewall_events(&lab)
        .iter()
        .any(
            |e| e["src_ip"] == "10.10.10.10" && e["rule_id"] == "ew:deny:fwd_servers"
        )));
}

/// 000 §5.6.b: guests reach only the Internet and the gateway's DHCP/DNS.
#[test]
fn guests_reach_only_the_internet_and_gateway_dns() {
    let Some(lab) = test_lab("gst", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    assert_eq!(reach(&lab, "guest-1", INTERNET_HTTP, 80), Reach::Ok);
    // DNS on the gateway is allowed: the kernel answers (nothing listens yet), the firewall lets it through.
    assert_eq!(reach(&lab, "guest-1", "10.20.0.1", 53), Reach::Refused);
    for (addr, port) in [
        ("10.10.0.11", 80),   // staff
        ("10.10.0.11", 445),  // staff SMB
        ("10.10.10.10", 443), // servers
        ("10.10.99.10", 22),  // mgmt workstation
        (GOV_SERVER, 443),    // TSLCD
        ("10.250.0.1", 80),   // TSLCD router
        ("10.20.0.1", 22),    // gateway SSH
        ("10.20.0.1", 443),   // gateway UI
        (GATEWAY_MGMT, METRICS_PORT),
    ] {
        assert_dropped(&lab, "guest-1", addr, port);
    }
    let ev = wait_until(Duration::from_secs(4), || {
        firewall_events(&lab).iter().any(|e| {
            e["src_ip"] == "10.20.0.11"
                && e["dest_ip"] == "10.10.0.11"
                && e["in_zone"] == "guest"
                && e["rule"]
                    .as_str()
                    .is_some_and(|r| r.contains("default deny"))
        })
    });
    assert!(ev, "{:#?}", firewall_events(&lab));
}

/// The TSLCD is reachable only from allowed zones, only for government prefixes and services.
#[test]
fn tslcd_only_from_allowed_zones_and_only_government_prefixes() {
    let Some(lab) = test_lab("tsl", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let (status, body) = lab
        .http_get("staff-1", GOV_SERVER, 443, "/", 5)
        .expect("staff → gov-server");
    assert_eq!(status, 200);
    assert!(
        body.contains("client=10.250.0.2"),
        "masqueraded on the TSLCD: {body}"
    );
    assert_eq!(
        reach(&lab, "server-1", GOV_SERVER, 443),
        Reach::Ok,
        "servers → TSLCD https"
    );
    assert_dropped(&lab, "server-1", GOV_SERVER, 80);
    assert_dropped(&lab, "admin-1", GOV_SERVER, 443);
    assert_dropped(&lab, "guest-1", GOV_SERVER, 443);
    // The TSLCD router's own address is not a government prefix.
    assert_dropped(&lab, "staff-1", "10.250.0.1", 80);
}

/// 003 §20.2.b: the admin UI and SSH answer only on the management zone, never on an uplink.
#[test]
fn admin_services_answer_only_on_the_management_zone() {
    let Some(lab) = test_lab("adm", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    assert_eq!(
        reach(&lab, "admin-1", GATEWAY_MGMT, METRICS_PORT),
        Reach::Ok
    );
    // SSH is off by default (003 §20.2.b): its port is closed even from mgmt (tests/tests/ssh.rs
    // turns it on).
    assert_dropped(&lab, "admin-1", GATEWAY_MGMT, 22);
    assert_eq!(
        reach(&lab, "admin-1", GATEWAY_MGMT, 443),
        Reach::Ok,
        "the admin UI answers from mgmt"
    );
    for (role, addr) in [
        ("staff-1", "10.10.0.1"),
        ("staff-1", GATEWAY_MGMT),
        ("server-1", "10.10.10.1"),
        ("internet", GATEWAY_WAN1),
        ("internet", GATEWAY_WAN2),
        ("gov-server", "10.250.0.2"),
    ] {
        for port in [22, 443, METRICS_PORT] {
            assert_dropped(&lab, role, addr, port);
        }
    }
    // Optionally the staff LAN: a config switch opens it there too.
    std::fs::write(
        lab.config_path(),
        profile_with(
            "admin_zones = [\"mgmt\"]",
            "admin_zones = [\"mgmt\", \"staff\"]",
        ),
    )
    .unwrap();
    lab.reload_gateway().unwrap();
    assert!(wait_until(Duration::from_secs(5), || lab.tcp(
        "staff-1",
        "10.10.0.1".parse().unwrap(),
        METRICS_PORT,
        T
    ) == Reach::Ok));
    // ...and the admin UI follows the setting: it now also listens on the staff address.
    assert!(
        wait_until(Duration::from_secs(10), || lab.tcp(
            "staff-1",
            "10.10.0.1".parse().unwrap(),
            443,
            T
        ) == Reach::Ok),
        "the admin UI answers on the staff LAN once it is an admin zone"
    );
    assert_dropped(&lab, "guest-1", "10.20.0.1", 22);
    assert_dropped(&lab, "guest-1", "10.20.0.1", 443);
}

/// Segmentation holds against forged sources (003 §20.2.b): a packet that arrives on an uplink
/// with an inside address — here that of a PC a security admin moved into the management zone —
/// is dropped and logged before any zone rule sees it, while the PC itself, on its own LAN
/// port, gets the management zone's access.
#[test]
fn spoofed_inside_sources_from_an_uplink_are_dropped() {
    let moved = profile_with(
        "mac = \"02:ed:00:00:00:11\"\nip = \"10.10.0.11\"\nzone = \"staff\"\n",
        "mac = \"02:ed:00:00:00:11\"\nip = \"10.10.0.11\"\nzone = \"staff\"\nmove_to = \"mgmt\"\n",
    );
    let Some(lab) = test_lab("spf", &moved) else {
        return;
    };
    assert_eq!(
        reach(&lab, "staff-1", GATEWAY_MGMT, 443),
        Reach::Ok,
        "control: the moved PC reaches the admin UI from its LAN port"
    );
    // An Internet router forges the PC's address towards the gateway's uplink.
    for cmd in [
        "ip addr add 10.10.0.11/32 dev eth-gw",
        "ip route add 10.10.99.1/32 via 203.0.113.2 src 10.10.0.11",
    ] {
        let args: Vec<&str> = cmd.split(' ').collect();
        let out = lab.exec("isp-1", args[0], &args[1..]).unwrap();
        assert!(
            out.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_dropped(&lab, "isp-1", GATEWAY_MGMT, 443);
    assert!(
        wait_until(Duration::from_secs(5), || firewall_events(&lab).iter().any(
            |e| e["rule_id"] == "ew:spoof:uplink"
                && e["src_ip"] == "10.10.0.11"
                && e["in_iface"] == "wan1"
        )),
        "the forged packet is logged as spoofed; events: {:?}",
        firewall_events(&lab)
    );
    let counters =
        String::from_utf8_lossy(&lab.edgeward(&["firewall", "counters", "--nonzero"]).stdout)
            .into_owned();
    assert!(counters.contains("uplink anti-spoof"), "{counters}");
}

/// 004 §8.1.h: inbound from the Internet only to published services (and hairpin from inside).
#[test]
fn inbound_only_to_published_services() {
    let published = format!(
        "{AGENCY_DEFAULT_PROFILE}\n[[port_forwards]]\nname = \"cong-thong-tin\"\nuplink = \"isp1\"\nprotocol = \"tcp\"\nport = 443\nto_address = \"10.10.10.10\"\n"
    );
    let Some(lab) = test_lab("pub", &published) else {
        return;
    };
    let (status, body) = lab
        .http_get("internet", GATEWAY_WAN1, 443, "/", 5)
        .expect("published service");
    assert_eq!(status, 200);
    assert!(body.starts_with("server=server-1"), "{body}");
    assert!(
        body.contains("client=100.64.1.2"),
        "the server sees the real client: {body}"
    );
    assert_dropped(&lab, "internet", GATEWAY_WAN1, 80);
    assert_dropped(&lab, "internet", GATEWAY_WAN1, 22);
    assert_dropped(&lab, "internet", GATEWAY_WAN2, 443);
    // Hairpin: staff use the public address too.
    let (_, body) = lab
        .http_get("staff-1", GATEWAY_WAN1, 443, "/", 5)
        .expect("hairpin");
    assert!(body.starts_with("server=server-1"), "{body}");
    // Without the port forward, nothing is published.
    std::fs::write(lab.config_path(), AGENCY_DEFAULT_PROFILE).unwrap();
    lab.reload_gateway().unwrap();
    assert!(wait_until(Duration::from_secs(5), || lab.tcp(
        "internet",
        GATEWAY_WAN1.parse().unwrap(),
        443,
        T
    ) == Reach::TimedOut));
}

/// 001 §6.2: denied packets are logged as firewall events, folded so a flood stays small; per-rule
/// counters still count every packet.
#[test]
fn a_flood_of_denied_packets_is_counted_but_logged_sparingly() {
    let Some(lab) = test_lab("log", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let target: SocketAddr = "10.10.0.11:9999".parse().unwrap();
    let sent = edgeward_lab::netns::within(&lab.ns("guest-1"), move || {
        let sock = UdpSocket::bind("10.20.0.11:0").unwrap();
        let mut n = 0u64;
        for _ in 0..20_000 {
            if sock.send_to(b"flood", target).is_ok() {
                n += 1;
            }
        }
        n
    })
    .unwrap();
    assert!(sent > 19_000);
    assert!(wait_until(Duration::from_secs(5), || firewall_events(&lab)
        .iter()
        .any(|e| e["dest_port"] == 9999)));
    std::thread::sleep(Duration::from_millis(1500));
    let flood: Vec<_> = firewall_events(&lab)
        .into_iter()
        .filter(|e| e["dest_port"] == 9999)
        .collect();
    let logged: u64 = flood.iter().map(|e| e["count"].as_u64().unwrap()).sum();
    assert!(
        flood.len() <= 5,
        "a flood must not flood the log: {} events",
        flood.len()
    );
    assert!(
        (20..500).contains(&logged),
        "logged {logged} of {sent}: the log is rate-limited"
    );
    assert_eq!(flood[0]["rule_id"], "ew:deny:fwd_guest");
    assert_eq!(flood[0]["proto"], "UDP");

    let out = lab.edgeward(&["firewall", "counters", "--nonzero"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("fwd_guest") && l.contains("default deny guest"))
        .unwrap_or_else(|| panic!("{text}"));
    let packets: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(packets >= sent, "counter {packets} < sent {sent}");
}

/// New connections to the gateway itself are throttled per source, and the throttling is logged.
#[test]
fn connection_floods_to_the_gateway_are_rate_limited() {
    let Some(lab) = test_lab("rat", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let addr: SocketAddr = SocketAddr::new(GATEWAY_MGMT.parse().unwrap(), METRICS_PORT);
    let (ok, failed) = edgeward_lab::netns::within(&lab.ns("admin-1"), move || {
        let (mut ok, mut failed) = (0, 0);
        for _ in 0..400 {
            match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
                Ok(_) => ok += 1,
                Err(_) => failed += 1,
            }
        }
        (ok, failed)
    })
    .unwrap();
    assert!(ok >= 50, "the first connections pass: {ok}");
    assert!(failed > 0, "a burst of 400 connections must be throttled");
    assert!(wait_until(Duration::from_secs(4), || firewall_events(&lab)
        .iter()
        .any(
            |e| e["rule_id"] == "ew:rate:input" && e["src_ip"] == "10.10.99.10"
        )));
    // The admin can get back in once the burst is over.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        reach(&lab, "admin-1", GATEWAY_MGMT, METRICS_PORT),
        Reach::Ok
    );
}

/// Per-device overrides (block, allow Internet, move zone) change set members, not rules.
#[test]
fn device_overrides_update_sets_without_reloading_rules() {
    let Some(lab) = test_lab("dev", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    // Handles of the table, chains and rules: a reload gives every object a new one.
    let handles = |lab: &Lab| -> Vec<u64> {
        lab.nft_table(true)
            .lines()
            .filter_map(|l| l.rsplit_once("# handle "))
            .filter_map(|(_, h)| h.trim().parse().ok())
            .collect()
    };
    let apply = |lab: &Lab, text: String, why: &str| {
        let file = lab.dir.join(format!("{why}.toml"));
        std::fs::write(&file, text).unwrap();
        let out = lab.edgeward(&[
            "config",
            "apply",
            file.to_str().unwrap(),
            "--author",
            "it-officer",
            "--reason",
            why,
            "--no-confirm",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let before = handles(&lab);
    assert_eq!(reach(&lab, "staff-2", INTERNET_HTTP, 80), Reach::Ok);

    // Block staff-2.
    let blocked = profile_with(
        "serial = \"HP-PD-400-0012\"",
        "serial = \"HP-PD-400-0012\"\nstatus = \"blocked\"",
    );
    apply(&lab, blocked.clone(), "block");
    assert!(wait_until(Duration::from_secs(5), || lab.tcp(
        "staff-2",
        INTERNET_HTTP.parse().unwrap(),
        80,
        T
    ) == Reach::TimedOut));
    assert_dropped(&lab, "staff-2", "10.10.10.10", 443);
    assert_eq!(
        reach(&lab, "staff-1", INTERNET_HTTP, 80),
        Reach::Ok,
        "others unaffected"
    );

    // Let the printer out (override of its class), move staff-1 to quarantine.
    let more = blocked
        .replacen(
            "note = \"Máy in tầng 2\"",
            "note = \"Máy in tầng 2\"\ninternet = true",
            1,
        )
        .replacen(
            "serial = \"DL-OPT-7090-0011\"",
            "serial = \"DL-OPT-7090-0011\"\nmove_to = \"quarantine\"",
            1,
        );
    apply(&lab, more, "overrides");
    assert!(wait_until(Duration::from_secs(5), || lab.tcp(
        "printer-1",
        INTERNET_HTTP.parse().unwrap(),
        80,
        T
    ) == Reach::Ok));
    assert!(
        wait_until(Duration::from_secs(5), || lab.tcp(
            "staff-1",
            INTERNET_HTTP.parse().unwrap(),
            80,
            T
        ) == Reach::TimedOut),
        "quarantined device still browses"
    );
    assert_dropped(&lab, "staff-1", "10.10.10.10", 443);
    assert_dropped(&lab, "admin-1", "10.10.0.11", 445);

    let after = handles(&lab);
    assert!(before.len() > 100);
    assert!(
        after == before,
        "rules were reloaded ({} → {} objects); only set members may change",
        before.len(),
        after.len()
    );
    let (_, m) = lab
        .http_get("admin-1", GATEWAY_MGMT, METRICS_PORT, "/metrics", 3)
        .unwrap();
    assert!(
        m.contains("edgeward_firewall_applies_total{result=\"sets_only\"} 2"),
        "{m}"
    );
}

/// Commit-confirm: an admin who cuts his own access is let back in when he cannot confirm.
#[test]
fn an_unconfirmed_change_that_locks_the_admin_out_is_rolled_back() {
    let short = profile_with(
        "commit_confirm_seconds = 120",
        "commit_confirm_seconds = 10",
    );
    let Some(lab) = test_lab("cfm", &short) else {
        return;
    };
    assert_eq!(
        reach(&lab, "admin-1", GATEWAY_MGMT, METRICS_PORT),
        Reach::Ok
    );
    let lockout = lab.dir.join("lockout.toml");
    std::fs::write(
        &lockout,
        short.replacen("admin_zones = [\"mgmt\"]", "admin_zones = [\"staff\"]", 1),
    )
    .unwrap();
    let out = lab.edgeward(&[
        "config",
        "apply",
        lockout.to_str().unwrap(),
        "--author",
        "admin",
        "--reason",
        "move the UI to the staff LAN",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        wait_until(Duration::from_secs(5), || lab.tcp(
            "admin-1",
            GATEWAY_MGMT.parse().unwrap(),
            METRICS_PORT,
            T
        ) == Reach::TimedOut),
        "the change did not lock the admin out"
    );
    // A device edit applied meanwhile without commit-confirm does not confirm the pending
    // change as a side effect: it joins it, and both are rolled back.
    let device_edit = lab.dir.join("device-edit.toml");
    std::fs::write(
        &device_edit,
        std::fs::read_to_string(&lockout).unwrap().replacen(
            "note = \"Máy in tầng 2\"",
            "note = \"Máy in tầng 3\"",
            1,
        ),
    )
    .unwrap();
    let out = lab.edgeward(&[
        "config",
        "apply",
        device_edit.to_str().unwrap(),
        "--author",
        "operator",
        "--reason",
        "printer moved",
        "--no-confirm",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Nobody confirms. Within the window plus a poll, access is back.
    assert!(
        wait_until(Duration::from_secs(16), || lab.tcp(
            "admin-1",
            GATEWAY_MGMT.parse().unwrap(),
            METRICS_PORT,
            T
        ) == Reach::Ok),
        "not rolled back; log:\n{}",
        lab.log_tail(20)
    );
    let hist = String::from_utf8_lossy(&lab.edgeward(&["config", "history"]).stdout).into_owned();
    assert!(
        hist.contains("automatic rollback to v1") && hist.contains("edgeward"),
        "{hist}"
    );
    assert_eq!(
        std::fs::read_to_string(lab.config_path()).unwrap(),
        short,
        "the file is rolled back too"
    );

    // A confirmed change stays.
    let staff_too = lab.dir.join("staff-too.toml");
    std::fs::write(
        &staff_too,
        short.replacen(
            "admin_zones = [\"mgmt\"]",
            "admin_zones = [\"mgmt\", \"staff\"]",
            1,
        ),
    )
    .unwrap();
    assert!(
        lab.edgeward(&[
            "config",
            "apply",
            staff_too.to_str().unwrap(),
            "--author",
            "admin",
            "--reason",
            "UI on staff too"
        ])
        .status
        .success()
    );
    assert!(wait_until(Duration::from_secs(5), || lab.tcp(
        "staff-1",
        "10.10.0.1".parse().unwrap(),
        METRICS_PORT,
        T
    ) == Reach::Ok));
    let out = lab.edgeward(&["config", "confirm", "--author", "admin"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(Duration::from_secs(11));
    assert_eq!(
        reach(&lab, "staff-1", "10.10.0.1", METRICS_PORT),
        Reach::Ok,
        "a confirmed change must stay"
    );
    assert!(
        read_events(&lab)
            .iter()
            .any(|e| e["action"] == "config.confirm" && e["outcome"] == "success")
    );
}

/// The gateway never runs without a firewall: the last confirmed ruleset is loaded at start,
/// even when the configuration then turns out to be unusable.
#[test]
fn the_last_good_ruleset_is_loaded_before_anything_else() {
    let Some(lab) = test_lab("lgd", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let pid = lab.gateway_pid().unwrap();
    kill9(pid);
    assert!(wait_until(Duration::from_secs(3), || lab
        .gateway_pid()
        .is_none()));
    // Wipe the firewall and make every configuration unusable.
    assert!(
        lab.exec("gateway", "nft", &["delete", "table", "inet", "edgeward"])
            .unwrap()
            .status
            .success()
    );
    std::fs::write(lab.config_path(), "this is not toml").unwrap();
    std::fs::remove_dir_all(lab.state_dir().join("history")).unwrap();
    let out = lab.edgeward(&["run"]);
    assert_eq!(
        out.status.code(),
        Some(78),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = lab.nft_table(false);
    assert!(
        table.contains("chain fwd_guest") && table.contains("policy drop"),
        "no firewall after a failed start:\n{table}"
    );
    assert_dropped(&lab, "guest-1", "10.10.0.11", 80);
}

/// SIGKILL the lab's own daemon.
fn kill9(pid: i32) {
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status();
}

/// `edgeward firewall diff` shows, in nft syntax, what a candidate would change.
#[test]
fn firewall_diff_shows_the_change_in_nft_syntax() {
    let Some(lab) = test_lab("dif", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let candidate = lab.dir.join("candidate.toml");
    std::fs::write(
        &candidate,
        profile_with(
            "admin_zones = [\"mgmt\"]",
            "admin_zones = [\"mgmt\", \"staff\"]",
        ),
    )
    .unwrap();
    let out = lab.edgeward(&["firewall", "diff", candidate.to_str().unwrap()]);
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let added: Vec<&str> = diff
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect();
    assert_eq!(added.len(), 1, "exactly the new admin rule: {diff}");
    assert!(
        added[0].contains("tcp dport { 443, 9108 }")
            && added[0].contains("admin access from staff"),
        "{diff}"
    );
    // Set-only changes are announced as such.
    std::fs::write(
        &candidate,
        profile_with(
            "prefixes = [\"192.0.2.100/32\"]",
            "prefixes = [\"192.0.2.100/32\", \"192.0.2.77/32\"]",
        ),
    )
    .unwrap();
    let diff = String::from_utf8_lossy(
        &lab.edgeward(&["firewall", "diff", candidate.to_str().unwrap()])
            .stdout,
    )
    .into_owned();
    assert!(
        diff.contains("192.0.2.77") && diff.contains("only set members differ"),
        "{diff}"
    );
}

/// When the kernel refuses a ruleset, nft's own words reach the caller and nothing changes.
#[test]
fn nft_error_text_is_returned_and_the_running_table_stays() {
    use nftables::schema::NfListObject;
    let Some(lab) = test_lab("nfe", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let before = lab.nft_table(false);
    let cfg =
        edgeward_config::parse(AGENCY_DEFAULT_PROFILE, "p", edgeward_config::today()).unwrap();
    let mut bad = edgeward_firewall::render(&cfg).unwrap();
    // A jump to a chain that does not exist.
    bad.objects.push(edgeward_firewall::nft::rule(
        "forward",
        vec![edgeward_firewall::nft::jump("no_such_chain")],
        Some("broken".into()),
    ));
    assert!(matches!(bad.objects.last(), Some(NfListObject::Rule(_))));
    let err =
        edgeward_lab::netns::within(&lab.ns("gateway"), move || edgeward_firewall::apply(&bad))
            .unwrap()
            .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("nft refused") && text.contains("No such file or directory"),
        "{text}"
    );
    assert_eq!(
        lab.nft_table(false),
        before,
        "a refused transaction must change nothing"
    );
}
