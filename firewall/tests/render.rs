//! Renderer unit tests (no root): every policy kind produces the rules it should, and nothing
//! more. Rules are inspected as nft JSON.

use edgeward_config::{AGENCY_DEFAULT_PROFILE, Config, parse};
use edgeward_firewall::{Ruleset, render};

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn config(extra: &str) -> Config {
    let text = format!("{AGENCY_DEFAULT_PROFILE}\n{extra}");
    parse(&text, "t.toml", today()).unwrap_or_else(|p| panic!("{p}"))
}

fn edited(from: &str, to: &str) -> Config {
    assert_eq!(AGENCY_DEFAULT_PROFILE.matches(from).count(), 1, "{from}");
    parse(
        &AGENCY_DEFAULT_PROFILE.replacen(from, to, 1),
        "t.toml",
        today(),
    )
    .unwrap_or_else(|p| panic!("{p}"))
}

/// (chain, comment, JSON of the statements) of every rule.
fn rules(rs: &Ruleset) -> Vec<(String, String, String)> {
    rs.rules()
        .map(|r| {
            (
                r.chain.to_string(),
                r.comment.as_deref().unwrap_or_default().to_string(),
                serde_json::to_string(&r.expr).unwrap(),
            )
        })
        .collect()
}

fn with_comment<'a>(
    rs: &'a [(String, String, String)],
    needle: &str,
) -> Vec<&'a (String, String, String)> {
    rs.iter().filter(|r| r.1.contains(needle)).collect()
}

#[test]
fn base_chains_default_deny_with_fast_path_first() {
    let rs = render(&config("")).unwrap();
    let json = rs.to_json();
    assert!(
        json.contains(r#""hook":"forward","prio":0,"policy":"drop""#),
        "{json}"
    );
    assert!(json.contains(r#""hook":"input","prio":0,"policy":"drop""#));
    let all = rules(&rs);
    let fwd: Vec<_> = all.iter().filter(|r| r.0 == "forward").collect();
    // Blocked devices, then established/related, then invalid.
    let pos = |c: &str| fwd.iter().position(|r| r.1 == c).unwrap();
    assert!(pos("blocked device (saddr)") < pos("established/related"));
    assert!(pos("established/related") < pos("invalid"));
    assert!(fwd[pos("invalid")].2.contains("drop"));
}

#[test]
fn allow_policy_to_an_uplink_zone_matches_its_interfaces_and_ports() {
    let all = rules(&render(&config("")).unwrap());
    let staff_inet = with_comment(&all, "policy[0] staff->internet");
    assert!(staff_inet.iter().all(|r| r.0 == "fwd_staff"));
    let tcp = staff_inet
        .iter()
        .find(|r| r.2.contains(r#""tcp""#) && r.2.contains("dport"))
        .unwrap();
    assert!(tcp.2.contains(r#"{"set":["wan1","wan2"]}"#), "{}", tcp.2);
    for port in [80, 443, 25, 993] {
        assert!(
            tcp.2.contains(&port.to_string()),
            "{port} missing: {}",
            tcp.2
        );
    }
    assert!(tcp.2.ends_with(r#"{"accept":null}]"#), "{}", tcp.2);
    assert!(
        staff_inet.iter().any(|r| r.2.contains("echo-request")),
        "ping service renders ICMP echo"
    );
}

#[test]
fn allow_policy_to_an_internal_zone_matches_addresses_and_moved_devices() {
    let all = rules(&render(&config("")).unwrap());
    let r = with_comment(&all, "policy[1] staff->servers");
    assert!(
        r.iter()
            .any(|r| r.2.contains("@zone_servers_v4") && r.2.contains("@devout_servers_v4"))
    );
    assert!(r.iter().any(|r| r.2.contains("@devzone_servers_v4")));
    assert!(r.iter().any(|r| r.2.contains("@zone_servers_v6")));
}

#[test]
fn tslcd_destination_is_limited_to_government_prefixes() {
    let all = rules(&render(&config("")).unwrap());
    let r = with_comment(&all, "policy[2] staff->tslcd");
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(
        r[0].2.contains("@gov_v4") && r[0].2.contains("tslcd0"),
        "{}",
        r[0].2
    );
    // ...and government prefixes never leave through an ISP.
    let guard = with_comment(&all, "government prefixes never via an ISP");
    assert!(
        guard
            .iter()
            .any(|g| g.0 == "forward" && g.2.contains("@gov_v4") && g.2.contains("drop"))
    );
}

#[test]
fn destination_groups_reference_named_sets() {
    let all = rules(&render(&config("")).unwrap());
    let r = with_comment(&all, "policy[4] servers->internet");
    assert!(
        r.iter().all(|r| r.2.contains("@grp_update-mirrors_v")),
        "{r:?}"
    );
    assert!(r.iter().all(|r| !r.2.contains("192.0.2.80")));
}

#[test]
fn explicit_destinations_become_an_anonymous_set() {
    let cfg = config(
        "[[policies]]\nfrom = \"mgmt\"\nto = \"internet\"\nservices = [\"ssh\"]\ndestinations = [\"198.18.0.0/15\", \"2001:db8:99::/48\"]\naction = \"allow\"\n",
    );
    let all = rules(&render(&cfg).unwrap());
    let idx = cfg.policies.len() - 1;
    let r = with_comment(&all, &format!("policy[{idx}] mgmt->internet"));
    assert_eq!(r.len(), 2, "one rule per family: {r:?}");
    assert!(
        r.iter()
            .any(|r| r.2.contains("198.18.0.0") && r.2.contains(r#""len":15"#))
    );
    assert!(
        r.iter()
            .any(|r| r.2.contains("2001:db8:99::") && r.2.contains("ip6"))
    );
}

#[test]
fn deny_policy_logs_then_drops() {
    let cfg = config(
        "[[policies]]\nfrom = \"staff\"\nto = \"servers\"\nservices = [\"rdp\"]\naction = \"deny\"\ncomment = \"no RDP\"\n",
    );
    let rs = render(&cfg).unwrap();
    let all = rules(&rs);
    let idx = cfg.policies.len() - 1;
    let r = with_comment(&all, &format!("policy[{idx}] staff->servers"));
    let logs: Vec<_> = r.iter().filter(|r| r.1.starts_with("log ")).collect();
    let drops: Vec<_> = r.iter().filter(|r| r.2.contains("drop")).collect();
    assert!(!logs.is_empty() && !drops.is_empty());
    assert!(
        logs.iter()
            .all(|r| r.2.contains(&format!("ew:policy:{idx}")) && r.2.contains("limit"))
    );
    assert_eq!(rs.log_rules[&format!("ew:policy:{idx}")].action, "drop");
}

#[test]
fn any_service_has_no_port_match() {
    let all = rules(&render(&config("")).unwrap());
    let r = with_comment(&all, "policy[2] staff->tslcd");
    assert!(!r[0].2.contains("dport"));
}

#[test]
fn gateway_policies_and_admin_access_go_to_input_chains() {
    let all = rules(&render(&config("")).unwrap());
    let admin = with_comment(&all, "admin access from");
    assert_eq!(admin.len(), 1, "only the mgmt zone: {admin:?}");
    assert_eq!(admin[0].0, "in_mgmt");
    // SSH is off by default: its port is not opened (003 §20.2.b).
    assert!(
        admin[0].2.contains("9108") && admin[0].2.contains("443") && !admin[0].2.contains("22")
    );
    let with_ssh = rules(
        &render(&edited(
            "metrics_port = 9108\n",
            "metrics_port = 9108\nssh = { enabled = true, authorized_keys = [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a\"] }\n",
        ))
        .unwrap(),
    );
    let admin = with_comment(&with_ssh, "admin access from");
    assert!(
        admin[0].2.contains("22"),
        "SSH on: its port opens on mgmt: {admin:?}"
    );
    let guest = with_comment(&all, "guest->gateway");
    assert!(
        guest
            .iter()
            .all(|r| r.0 == "in_guest" && !r.2.contains("22,"))
    );
    assert!(with_comment(&all, "dhcp from guest").len() == 1);
    assert!(
        with_comment(&all, "dhcp from servers").is_empty(),
        "servers have no dhcp policy"
    );
}

#[test]
fn every_zone_chain_ends_with_logged_default_deny() {
    let rs = render(&config("")).unwrap();
    let all = rules(&rs);
    for chain in rs
        .chain_names()
        .filter(|c| c.starts_with("fwd_") || c.starts_with("in_"))
    {
        let in_chain: Vec<_> = all.iter().filter(|r| r.0 == chain).collect();
        let last = in_chain.last().unwrap();
        assert!(
            last.1.starts_with("default deny") && last.2.contains("drop"),
            "{chain} ends with {last:?}"
        );
        let log = in_chain[in_chain.len() - 2];
        assert!(
            log.2.contains(&format!("ew:deny:{chain}")),
            "{chain}: {log:?}"
        );
    }
}

#[test]
fn anti_spoofing_in_internal_zones_only() {
    let all = rules(&render(&config("")).unwrap());
    let spoof = with_comment(&all, "anti-spoof");
    assert!(
        spoof
            .iter()
            .any(|r| r.0 == "fwd_guest" && r.2.contains("@zone_guest_v4"))
    );
    assert!(!spoof.iter().any(|r| r.0 == "fwd_internet"));
}

#[test]
fn masquerade_per_uplink_and_port_forward_with_hairpin() {
    let cfg = config(
        "[[port_forwards]]\nname = \"web\"\nuplink = \"isp1\"\nprotocol = \"tcp\"\nport = 443\nto_address = \"10.10.10.10\"\n",
    );
    let all = rules(&render(&cfg).unwrap());
    assert_eq!(with_comment(&all, "masquerade isp").len(), 2);
    let publish = with_comment(&all, "publish web");
    assert!(
        publish
            .iter()
            .any(|r| r.0 == "prerouting" && r.2.contains("wan1") && r.2.contains("dnat"))
    );
    assert!(
        publish
            .iter()
            .any(|r| r.1.contains("hairpin") && r.2.contains("203.0.113.2"))
    );
    let accept = with_comment(&all, "published web");
    assert!(
        accept
            .iter()
            .any(|r| r.0 == "fwd_internet" && r.2.contains("10.10.10.10") && r.2.contains("dnat"))
    );
    assert!(
        with_comment(&all, "published (hairpin) web")
            .iter()
            .any(|r| r.0 == "fwd_staff")
    );
    assert!(
        !with_comment(&all, "published (hairpin) web")
            .iter()
            .any(|r| r.0 == "fwd_quarantine"),
        "quarantine has no Internet"
    );
}

#[test]
fn devices_are_set_members_not_rules() {
    let base = config("");
    let blocked = edited(
        "serial = \"HP-PD-400-0012\"",
        "serial = \"HP-PD-400-0012\"\nstatus = \"blocked\"",
    );
    let (a, b) = (render(&base).unwrap(), render(&blocked).unwrap());
    assert_eq!(
        a.structure(),
        b.structure(),
        "blocking a device must not change any rule"
    );
    let (ma, mb) = (a.set_members(), b.set_members());
    assert!(ma["dev_blocked_v4"].is_empty());
    assert_eq!(
        serde_json::to_string(&mb["dev_blocked_v4"]).unwrap(),
        r#"["10.10.0.12"]"#
    );
    assert_eq!(mb["dev_blocked_mac"].len(), 1);

    // The printer has no Internet by class; an override lets it out.
    assert_eq!(
        serde_json::to_string(&ma["dev_nointernet_v4"]).unwrap(),
        r#"["10.10.0.50"]"#
    );
    let allowed = edited(
        "note = \"Máy in tầng 2\"",
        "note = \"Máy in tầng 2\"\ninternet = true",
    );
    assert!(render(&allowed).unwrap().set_members()["dev_nointernet_v4"].is_empty());

    // Moving a device to quarantine is membership too.
    let moved = edited(
        "serial = \"HP-PD-400-0012\"",
        "serial = \"HP-PD-400-0012\"\nmove_to = \"quarantine\"",
    );
    let m = render(&moved).unwrap();
    assert_eq!(m.structure(), a.structure());
    assert_eq!(
        serde_json::to_string(&m.set_members()["devzone_quarantine_v4"]).unwrap(),
        r#"["10.10.0.12"]"#
    );
    assert_eq!(
        serde_json::to_string(&m.set_members()["devout_staff_v4"]).unwrap(),
        r#"["10.10.0.12"]"#
    );
}

/// A moved device is handled by its new zone's chain only when its packet arrives on an
/// interface of its home zone from an address of that zone; an uplink carrying an inside
/// address is dropped before any of that (003 §20.2.b).
#[test]
fn moved_devices_match_only_on_their_home_zone_interfaces_and_uplinks_drop_inside_sources() {
    let rs = render(&config("")).unwrap();
    let all = rules(&rs);
    let moved = with_comment(&all, "devices of staff moved to mgmt");
    assert_eq!(moved.len(), 4, "v4 and v6, input and forward: {moved:?}");
    for (_, _, expr) in moved {
        assert!(expr.contains("\"lan0\""), "home interface: {expr}");
        assert!(
            expr.contains("zone_staff_v") && expr.contains("devzone_mgmt_v"),
            "{expr}"
        );
        assert!(!expr.contains("wan1"), "{expr}");
    }
    let spoof = with_comment(&all, "uplink anti-spoof");
    assert_eq!(spoof.len(), 2, "{spoof:?}");
    for (chain, _, expr) in spoof {
        assert_eq!(chain, "rpf");
        assert!(
            expr.contains("wan1") && expr.contains("tslcd0") && expr.contains("internal_v"),
            "{expr}"
        );
        assert!(expr.contains("drop"), "{expr}");
    }
}

#[test]
fn address_group_members_change_without_structure_change() {
    let a = render(&config("")).unwrap();
    let b = render(&edited(
        "prefixes = [\"192.0.2.100/32\"]",
        "prefixes = [\"192.0.2.100/32\", \"192.0.2.101/32\"]",
    ))
    .unwrap();
    assert_eq!(a.structure(), b.structure());
    assert_ne!(a.set_members(), b.set_members());
}

#[test]
fn overlapping_group_prefixes_are_merged_for_interval_sets() {
    let rs = render(&edited(
        "prefixes = [\"192.0.2.100/32\"]",
        "prefixes = [\"192.0.2.0/24\", \"192.0.2.100/32\", \"192.0.2.0/24\"]",
    ))
    .unwrap();
    assert_eq!(
        serde_json::to_string(&rs.set_members()["grp_update-mirrors_v4"]).unwrap(),
        r#"[{"prefix":{"addr":"192.0.2.0","len":24}}]"#
    );
}

/// `log_denied = false` stops the log of denied and rate-limited packets; what remains logged
/// is the connection attempts feeding the scan counters (000 §5.10.b), which are not a log.
#[test]
fn logging_can_be_turned_off() {
    let rs = render(&edited("log_denied = true", "log_denied = false")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&rs.to_json()).unwrap();
    let mut groups = Vec::new();
    collect_log_groups(&json, &mut groups);
    assert!(!groups.is_empty());
    assert!(
        groups
            .iter()
            .all(|g| *g == u64::from(edgeward_firewall::LOG_GROUP_CONN)),
        "{groups:?}"
    );
    assert!(rs.log_rules.is_empty());
}

fn collect_log_groups(v: &serde_json::Value, out: &mut Vec<u64>) {
    match v {
        serde_json::Value::Object(o) => {
            if let Some(log) = o.get("log") {
                out.push(log["group"].as_u64().unwrap_or(0));
            }
            o.values().for_each(|x| collect_log_groups(x, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_log_groups(x, out)),
        _ => {}
    }
}

/// 000 §5.10.b: connection attempts from every internal interface — TCP SYNs, new UDP flows
/// but everyday DNS/DHCP/NTP — reach the gateway's own counters from both the input and the
/// forward chain, after the fast path (new flows only) and before any verdict (attempts on
/// forbidden ports count too), rate-limited; nothing from the uplinks.
#[test]
fn connection_attempts_from_the_internal_zones_feed_the_counters() {
    let rs = edgeward_firewall::render(&config("")).unwrap();
    let rules: Vec<serde_json::Value> = rs
        .rules()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect();
    for chain in ["input", "forward"] {
        let in_chain = rules
            .iter()
            .filter(|r| r["chain"] == chain)
            .collect::<Vec<_>>();
        let conn: Vec<usize> = in_chain
            .iter()
            .enumerate()
            .filter(|(_, r)| r["expr"].to_string().contains("\"ew-conn\""))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(conn.len(), 2, "{chain}: tcp and udp");
        let fast_path = in_chain
            .iter()
            .position(|r| r["comment"] == "invalid")
            .unwrap();
        let first_verdict_after = in_chain
            .iter()
            .enumerate()
            .skip(fast_path + 1)
            .find(|(_, r)| {
                let e = r["expr"].to_string();
                e.contains("\"accept\"") || e.contains("\"drop\"") || e.contains("\"jump\"")
            })
            .map(|(i, _)| i)
            .unwrap();
        assert!(
            conn.iter()
                .all(|i| *i > fast_path && *i < first_verdict_after)
        );
        for i in &conn {
            let e = in_chain[*i]["expr"].to_string();
            assert!(e.contains("\"limit\""), "{e}");
            assert!(!e.contains("wan1") && e.contains("lan0"), "{e}");
        }
        let udp = in_chain[conn[1]]["expr"].to_string();
        assert!(udp.contains("53") && udp.contains("\"!=\""), "{udp}");
    }
}

#[test]
fn mss_clamp_and_reverse_path_follow_settings() {
    let on = render(&config("")).unwrap().to_json();
    assert!(on.contains("maxseg") && on.contains(r#""fib""#));
    let off = render(&edited("mss_clamp = true", "mss_clamp = false").clone())
        .unwrap()
        .to_json();
    assert!(!off.contains("maxseg"));
    let off = render(&edited(
        "reverse_path_check = true",
        "reverse_path_check = false",
    ))
    .unwrap()
    .to_json();
    assert!(!off.contains(r#""fib""#));
}

#[test]
fn load_balancing_shares_follow_the_healthy_uplinks() {
    let cfg = config("");
    let all = rules(&render(&cfg).unwrap());
    let share = with_comment(&all, "share:");
    assert_eq!(share.len(), 1);
    assert!(share[0].1.contains("isp1 3/4, isp2 1/4"), "{}", share[0].1);
    assert!(share[0].2.contains(r#""mod":4"#), "{}", share[0].2);
    // isp1 down: everything new goes to isp2.
    let rs = edgeward_firewall::render_for(&cfg, &|u| u != "isp1").unwrap();
    let all = rules(&rs);
    assert!(with_comment(&all, "share:")[0].1.contains("isp2 1/1"));
    // Nothing healthy: keep sharing over every ISP rather than routing nowhere.
    let rs = edgeward_firewall::render_for(&cfg, &|_| false).unwrap();
    assert!(
        with_comment(&rules(&rs), "share:")[0]
            .1
            .contains("isp1 3/4, isp2 1/4")
    );
    // Connections keep their uplink: the mark is restored from conntrack first.
    let restore = with_comment(&all, "restore the connection's uplink");
    assert_eq!(restore[0].0, "uplinks");
}

#[test]
fn pinned_zones_and_groups_use_their_uplink_only_while_it_is_up() {
    let cfg = edited(
        "weight = 3",
        "weight = 3\npinned_zones = [\"servers\"]\npinned_destination_groups = [\"update-mirrors\"]",
    );
    let all = rules(&render(&cfg).unwrap());
    let zone_pin = with_comment(&all, "zone servers pinned to isp1");
    assert_eq!(zone_pin.len(), 2, "v4 and v6");
    assert!(zone_pin.iter().all(|r| r.0 == "lb_new"
        && r.2.contains("@zone_servers_v")
        && r.2.contains(r#""return":null"#)));
    assert_eq!(with_comment(&all, "update-mirrors pinned to isp1").len(), 2);
    // The pinned uplink is down: its pins are gone, the zone is balanced over what is up.
    let down = rules(&edgeward_firewall::render_for(&cfg, &|u| u != "isp1").unwrap());
    assert!(with_comment(&down, "pinned to isp1").is_empty());
}
