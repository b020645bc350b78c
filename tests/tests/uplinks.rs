//! Uplinks in the lab: failover when an ISP stops forwarding, failback after the hold time with
//! long-lived flows left alone, no flapping under 5% loss, weighted per-connection balancing
//! that keeps every packet of a connection on one uplink, the TSLCD never leaking to an ISP,
//! and carrier loss counted at once.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use edgeward_config::AGENCY_DEFAULT_PROFILE;
use edgeward_lab::topology::endpoints::*;
use edgeward_lab::{Lab, netns, read_events, test_lab, wait_until};

/// The default profile with a short failback hold, so tests do not wait 30 s.
fn profile(hold: u32) -> String {
    let mut t = AGENCY_DEFAULT_PROFILE.to_string();
    for w in ["weight = 3", "weight = 1", "masquerade = true"] {
        assert_eq!(t.matches(w).count(), 1);
        t = t.replacen(
            w,
            &format!("{w}\nhealth = {{ hold_up_seconds = {hold} }}"),
            1,
        );
    }
    t
}

/// Make a router stop forwarding (its links stay up), or let it forward again.
fn cut(lab: &Lab, role: &str, on: bool) {
    let script = if on {
        "table inet cut {\n chain drop_all {\n  type filter hook forward priority 0; policy drop;\n }\n}\n"
    } else {
        "delete table inet cut\n"
    };
    lab.nft_script(role, script).unwrap();
}

/// nft rules in an ISP router that count forwarded packets matching `expr`.
fn add_counter(lab: &Lab, role: &str, name: &str, expr: &str) {
    let script = format!(
        "table inet watch {{\n chain count {{\n  type filter hook forward priority -10; policy accept;\n }}\n}}\nadd rule inet watch count {expr} counter comment \"{name}\"\n"
    );
    lab.nft_script(role, &script).unwrap();
}

fn counter(lab: &Lab, role: &str, name: &str) -> u64 {
    let out = lab
        .exec(role, "nft", &["-j", "list", "table", "inet", "watch"])
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o.get("rule"))
        .filter(|r| r["comment"] == name)
        .flat_map(|r| {
            r["expr"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|s| s.get("counter"))
                .map(|c| c["packets"].as_u64().unwrap())
        })
        .sum()
}

/// One new HTTP connection from staff-1 to the Internet; the address the server saw.
fn new_connection(lab: &Lab, timeout: Duration) -> Option<String> {
    let addr: SocketAddr = format!("{INTERNET_HTTP}:80").parse().unwrap();
    edgeward_lab::probe::http_get(&lab.ns("staff-1"), addr, INTERNET_HTTP, "/", timeout)
        .ok()
        .and_then(|(_, body)| {
            body.split("client=")
                .nth(1)
                .and_then(|c| c.split(':').next())
                .map(str::to_string)
        })
}

fn uplink_events(lab: &Lab, uplink: &str) -> Vec<serde_json::Value> {
    read_events(lab)
        .into_iter()
        .filter(|e| e["event_type"] == "uplink" && e["uplink"] == uplink)
        .collect()
}

/// A TCP connection to the Internet echo server that stays open, checked with a round trip.
struct LongLived {
    stream: TcpStream,
}

impl LongLived {
    fn open(lab: &Lab) -> LongLived {
        let addr: SocketAddr = format!("{INTERNET_ECHO}:443").parse().unwrap();
        let stream = netns::within(&lab.ns("staff-1"), move || {
            TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        })
        .unwrap()
        .expect("echo connection");
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        LongLived { stream }
    }
    fn round_trip(&mut self, n: u32) -> bool {
        let msg = format!("ping {n}\n");
        let mut buf = vec![0u8; msg.len()];
        self.stream.write_all(msg.as_bytes()).is_ok()
            && self.stream.read_exact(&mut buf).is_ok()
            && buf == msg.as_bytes()
    }
}

#[test]
fn cutting_an_isp_fails_over_and_failback_leaves_long_lived_flows_alone() {
    let Some(lab) = test_lab("fov", &profile(5)) else {
        return;
    };
    assert!(wait_until(Duration::from_secs(5), || new_connection(
        &lab,
        Duration::from_secs(1)
    )
    .is_some()));

    cut(&lab, "isp-1", true);
    let cut_at = Instant::now();
    // Failover time: until 20 consecutive new connections succeed.
    let mut streak = 0;
    let mut streak_start = None;
    while streak < 20 {
        assert!(
            cut_at.elapsed() < Duration::from_secs(10),
            "no failover within 10 s; log:\n{}",
            lab.log_tail(20)
        );
        let t = Instant::now();
        if let Some(client) = new_connection(&lab, Duration::from_millis(300)) {
            assert_eq!(
                client, GATEWAY_WAN2,
                "after the cut, new connections leave through ISP 2"
            );
            streak_start.get_or_insert(t);
            streak += 1;
        } else {
            streak = 0;
            streak_start = None;
        }
    }
    let failover = streak_start.unwrap().duration_since(cut_at);
    eprintln!("failover: {failover:?}");
    assert!(
        failover < Duration::from_secs(5),
        "failover took {failover:?}"
    );
    assert!(
        wait_until(Duration::from_secs(3), || !uplink_events(&lab, "isp1")
            .is_empty()),
        "no uplink event; log:\n{}",
        lab.log_tail(20)
    );
    let down = uplink_events(&lab, "isp1");
    assert_eq!(down.len(), 1, "{down:#?}");
    assert_eq!(down[0]["state"], "down");
    assert!(
        down[0]["reason"]
            .as_str()
            .unwrap()
            .contains("targets failing"),
        "{}",
        down[0]["reason"]
    );

    // A long-lived connection opened during the outage rides ISP 2 through the failback.
    let mut flow = LongLived::open(&lab);
    assert!(flow.round_trip(0));
    cut(&lab, "isp-1", false);
    let restored = Instant::now();
    let mut n = 1;
    while uplink_events(&lab, "isp1").len() < 2 {
        assert!(
            restored.elapsed() < Duration::from_secs(20),
            "isp1 not back after 20 s"
        );
        assert!(
            flow.round_trip(n),
            "the long-lived flow broke during recovery (round trip {n})"
        );
        n += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
    let up = uplink_events(&lab, "isp1").pop().unwrap();
    assert_eq!(up["state"], "up");
    assert!(
        restored.elapsed() >= Duration::from_secs(5),
        "failback must wait for the hold time"
    );
    // New connections balance again; the old one is untouched.
    let clients: Vec<String> = (0..40)
        .filter_map(|_| new_connection(&lab, Duration::from_secs(1)))
        .collect();
    assert_eq!(clients.len(), 40);
    assert!(
        clients.iter().any(|c| c == GATEWAY_WAN1),
        "ISP 1 carries new connections again"
    );
    assert!(clients.iter().any(|c| c == GATEWAY_WAN2));
    for k in 0..10 {
        assert!(
            flow.round_trip(1000 + k),
            "the long-lived flow broke after failback"
        );
    }

    // `edgeward uplinks` shows the live state.
    let out = lab.edgeward(&["uplinks"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("isp1") && text.contains("UP") && text.contains("1.1.1.1"),
        "{text}"
    );
}

#[test]
fn five_percent_loss_on_an_isp_never_flaps_it() {
    let Some(lab) = test_lab("lss", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    let secs: u64 = std::env::var("EDGEWARD_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150);
    let script = "table inet loss {\n chain lose {\n  type filter hook forward priority 0; policy accept;\n  numgen random mod 100 < 5 drop\n }\n}\n";
    lab.nft_script("isp-1", script).unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_secs(5));
        assert!(
            uplink_events(&lab, "isp1").is_empty(),
            "isp1 flapped after {:?} of 5% loss: {:#?}",
            start.elapsed(),
            uplink_events(&lab, "isp1")
        );
    }
    // The loss was real: the probes saw it.
    let out = lab.edgeward(&["uplinks", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let isp1 = v["uplinks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "isp1")
        .unwrap()
        .clone();
    assert_eq!(isp1["state"], "up");
    let (_, m) = lab
        .http_get("admin-1", GATEWAY_MGMT, METRICS_PORT, "/metrics", 3)
        .unwrap();
    let lost: f64 = m
        .lines()
        .find(|l| {
            l.starts_with("edgeward_uplink_probes_total{")
                && l.contains("isp1")
                && l.contains("lost")
        })
        .and_then(|l| l.split_whitespace().last()?.parse().ok())
        .unwrap_or(0.0);
    assert!(
        lost > 0.0,
        "no probe was lost: the loss rule did not bite\n{m}"
    );
}

#[test]
fn weights_split_connections_3_to_1_and_every_packet_stays_on_its_uplink() {
    let Some(lab) = test_lab("wgt", AGENCY_DEFAULT_PROFILE) else {
        return;
    };
    // A packet NATed to one ISP's address must never leave through the other ISP.
    add_counter(
        &lab,
        "isp-1",
        "foreign",
        &format!("ip saddr {GATEWAY_WAN2}"),
    );
    add_counter(
        &lab,
        "isp-2",
        "foreign",
        &format!("ip saddr {GATEWAY_WAN1}"),
    );
    let addr: SocketAddr = format!("{INTERNET_HTTP}:80").parse().unwrap();
    let clients = netns::within(&lab.ns("staff-1"), move || {
        let mut seen = Vec::with_capacity(1000);
        for _ in 0..1000 {
            let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect");
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
            let mut body = String::new();
            let _ = s.read_to_string(&mut body);
            seen.push(
                body.split("client=")
                    .nth(1)
                    .and_then(|c| c.split(':').next())
                    .unwrap_or("")
                    .to_string(),
            );
        }
        seen
    })
    .unwrap();
    let isp1 = clients.iter().filter(|c| *c == GATEWAY_WAN1).count();
    let isp2 = clients.iter().filter(|c| *c == GATEWAY_WAN2).count();
    assert_eq!(
        isp1 + isp2,
        1000,
        "every connection answered through one of the ISPs"
    );
    let share = isp1 as f64 / 1000.0;
    eprintln!("isp1 {isp1}, isp2 {isp2}");
    assert!(
        (0.675..=0.825).contains(&share),
        "ISP 1 carried {:.1}% (expected 75% ± 10%)",
        share * 100.0
    );
    assert_eq!(
        counter(&lab, "isp-1", "foreign"),
        0,
        "a packet NATed for ISP 2 left through ISP 1"
    );
    assert_eq!(
        counter(&lab, "isp-2", "foreign"),
        0,
        "a packet NATed for ISP 1 left through ISP 2"
    );
}

#[test]
fn tslcd_down_drops_government_traffic_and_nothing_leaks_to_an_isp() {
    let Some(lab) = test_lab("tdn", &profile(5)) else {
        return;
    };
    for isp in ["isp-1", "isp-2"] {
        add_counter(&lab, isp, "gov", "ip daddr 10.251.0.0/16");
    }
    assert!(lab.can_connect("staff-1", GOV_SERVER, 443, 10));
    cut(&lab, "tslcd", true);
    assert!(
        wait_until(Duration::from_secs(6), || uplink_events(&lab, "tslcd")
            .iter()
            .any(|e| e["state"] == "down")),
        "TSLCD not judged down"
    );
    // Government prefixes are unreachable now, and not one packet went out an ISP.
    for _ in 0..20 {
        assert!(!lab.can_connect("staff-1", GOV_SERVER, 443, 1));
        assert!(!lab.can_connect("server-1", GOV_SERVER, 443, 1));
    }
    let route = lab
        .exec("gateway", "ip", &["route", "get", GOV_SERVER])
        .unwrap();
    assert!(
        !route.status.success() || String::from_utf8_lossy(&route.stdout).contains("unreachable"),
        "{}",
        String::from_utf8_lossy(&route.stdout)
    );
    assert_eq!(
        counter(&lab, "isp-1", "gov") + counter(&lab, "isp-2", "gov"),
        0,
        "government traffic leaked to an ISP"
    );
    cut(&lab, "tslcd", false);
    assert!(
        wait_until(Duration::from_secs(20), || lab
            .can_connect("staff-1", GOV_SERVER, 443, 1)),
        "TSLCD not back"
    );
}

#[test]
fn carrier_loss_is_counted_at_once() {
    let Some(lab) = test_lab("car", &profile(5)) else {
        return;
    };
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    // The ISP's side of the cable goes down: the gateway's wan2 loses carrier.
    assert!(
        lab.exec("isp-2", "ip", &["link", "set", "eth-gw", "down"])
            .unwrap()
            .status
            .success()
    );
    assert!(wait_until(Duration::from_secs(3), || uplink_events(
        &lab, "isp2"
    )
    .iter()
    .any(|e| e["state"] == "down")));
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(800),
        "carrier loss took {took:?} to count"
    );
    let ev = uplink_events(&lab, "isp2").pop().unwrap();
    assert!(
        ev["reason"].as_str().unwrap().starts_with("carrier lost"),
        "{ev}"
    );
    // New connections keep working through ISP 1.
    assert!(
        (0..10)
            .all(|_| new_connection(&lab, Duration::from_secs(1)).as_deref() == Some(GATEWAY_WAN1))
    );
    assert!(
        lab.exec("isp-2", "ip", &["link", "set", "eth-gw", "up"])
            .unwrap()
            .status
            .success()
    );
    assert!(wait_until(Duration::from_secs(20), || uplink_events(
        &lab, "isp2"
    )
    .last()
    .is_some_and(|e| e["state"] == "up")));
}

#[test]
fn with_no_isp_left_nothing_is_flushed_and_routing_keeps_trying() {
    let Some(lab) = test_lab("all", &profile(5)) else {
        return;
    };
    assert!(wait_until(Duration::from_secs(5), || new_connection(
        &lab,
        Duration::from_secs(1)
    )
    .is_some()));
    cut(&lab, "isp-1", true);
    assert!(wait_until(Duration::from_secs(6), || uplink_events(
        &lab, "isp1"
    )
    .iter()
    .any(|e| e["state"] == "down")));
    cut(&lab, "isp-2", true);
    assert!(wait_until(Duration::from_secs(6), || uplink_events(
        &lab, "isp2"
    )
    .iter()
    .any(|e| e["state"] == "down")));
    let isp1 = uplink_events(&lab, "isp1").pop().unwrap();
    assert!(
        isp1["reason"]
            .as_str()
            .unwrap()
            .contains("connections flushed"),
        "{isp1}"
    );
    let isp2 = uplink_events(&lab, "isp2").pop().unwrap();
    assert!(
        isp2["reason"].as_str().unwrap().contains("nothing flushed"),
        "{isp2}"
    );
    // Both ISPs stay in the default route and the balancing: the first one back carries traffic.
    let routes = String::from_utf8_lossy(
        &lab.exec("gateway", "ip", &["route", "show", "default"])
            .unwrap()
            .stdout,
    )
    .into_owned();
    assert!(
        routes.contains("wan1") && routes.contains("wan2"),
        "{routes}"
    );
    cut(&lab, "isp-2", false);
    // Both ISPs stay in the shares while neither is judged up, so some new connections get
    // through ISP 2 at once; once it is judged up again (hold time), all of them do.
    assert!(
        wait_until(Duration::from_secs(10), || new_connection(
            &lab,
            Duration::from_millis(500)
        )
        .as_deref()
            == Some(GATEWAY_WAN2)),
        "ISP 2 carries no traffic after it forwards again"
    );
    assert!(wait_until(Duration::from_secs(20), || uplink_events(
        &lab, "isp2"
    )
    .last()
    .is_some_and(|e| e["state"] == "up")));
    assert!(
        (0..10)
            .all(|_| new_connection(&lab, Duration::from_secs(1)).as_deref() == Some(GATEWAY_WAN2)),
        "once ISP 2 is up, every new connection uses it"
    );
}
