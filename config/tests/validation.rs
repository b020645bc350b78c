//! Bad configurations: each is refused with the right problem code, a position that points at the
//! offending line, and a hint. The default profile itself must be clean.

use chrono::NaiveDate;
use edgeward_config::{AGENCY_DEFAULT_PROFILE, Code, Problems, parse};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

/// Replace exactly one occurrence of `from` in the default profile.
fn edit(from: &str, to: &str) -> String {
    assert_eq!(
        AGENCY_DEFAULT_PROFILE.matches(from).count(),
        1,
        "`{from}` must occur exactly once in the profile"
    );
    AGENCY_DEFAULT_PROFILE.replacen(from, to, 1)
}

fn problems(text: &str) -> Problems {
    match parse(text, "test.toml", today()) {
        Ok(_) => panic!("config should be refused, but it was accepted"),
        Err(p) => p,
    }
}

/// Assert that `text` is refused with `code` at a line whose text contains `line_has`.
fn refused(text: &str, code: Code, line_has: &str) -> Problems {
    let probs = problems(text);
    let hit = probs
        .problems
        .iter()
        .find(|p| p.code == code)
        .unwrap_or_else(|| {
            panic!("expected {code:?}, got:\n{probs}");
        });
    let pos = hit
        .position
        .unwrap_or_else(|| panic!("{code:?} has no position:\n{probs}"));
    let line = text.lines().nth(pos.line - 1).unwrap();
    assert!(
        line.contains(line_has),
        "{code:?} points at line {} `{line}`, expected a line with `{line_has}`\n{probs}",
        pos.line
    );
    assert!(hit.hint.is_some(), "{code:?} has no hint");
    probs
}

#[test]
fn default_profile_is_valid() {
    parse(AGENCY_DEFAULT_PROFILE, "agency-default.toml", today()).unwrap_or_else(|p| panic!("{p}"));
}

#[test]
fn toml_syntax_error_has_line_and_column() {
    let text = edit("hostname = \"edgeward\"", "hostname = \"edgeward");
    let p = problems(&text);
    assert_eq!(p.codes(), vec![Code::Syntax]);
    let pos = p.problems[0].position.unwrap();
    assert!(text.lines().nth(pos.line - 1).unwrap().contains("hostname"));
}

#[test]
fn unknown_field_is_a_schema_error() {
    let text = edit("weight = 3", "weigth = 3");
    let p = problems(&text);
    assert_eq!(p.codes(), vec![Code::Schema]);
    assert!(p.to_string().contains("weigth"), "{p}");
    let pos = p.problems[0].position.unwrap();
    assert!(text.lines().nth(pos.line - 1).unwrap().contains("weigth"));
}

#[test]
fn wrong_type_is_a_schema_error() {
    let p = problems(&edit("weight = 3", "weight = \"three\""));
    assert_eq!(p.codes(), vec![Code::Schema]);
}

#[test]
fn bad_prefix_is_a_schema_error() {
    let p = problems(&edit("\"10.10.66.0/24\"]", "\"10.10.666.0/24\"]"));
    assert_eq!(p.codes(), vec![Code::Schema]);
}

#[test]
fn overlapping_prefixes() {
    refused(
        &edit(
            "prefixes = [\"10.10.66.0/24\"]",
            "prefixes = [\"10.10.0.128/25\"]",
        ),
        Code::OverlappingPrefixes,
        "10.10.0.128/25",
    );
}

#[test]
fn duplicate_zone_name() {
    refused(
        &edit("name = \"quarantine\"", "name = \"guest\""),
        Code::DuplicateName,
        "name = \"guest\"",
    );
}

#[test]
fn unknown_zone_in_policy() {
    let text = edit(
        "from = \"quarantine\"\nto = \"gateway\"",
        "from = \"quarantin\"\nto = \"gateway\"",
    );
    let p = refused(&text, Code::UnknownZone, "quarantin");
    assert!(p.to_string().contains("known zones"), "{p}");
}

#[test]
fn unknown_service_in_policy() {
    refused(
        &edit(
            "services = [\"ssh\", \"https\", \"rdp\", \"smb\", \"ping\"]",
            "services = [\"ssh\", \"htps\"]",
        ),
        Code::UnknownService,
        "htps",
    );
}

#[test]
fn guest_to_tslcd_allow() {
    let text = format!(
        "{AGENCY_DEFAULT_PROFILE}\n[[policies]]\nfrom = \"guest\"\nto = \"tslcd\"\nservices = [\"https\"]\naction = \"allow\"\n"
    );
    let p = refused(&text, Code::GuestToTslcd, "to = \"tslcd\"");
    assert!(p.to_string().contains("000 §5.6.b"));
}

#[test]
fn guest_to_internal_allow() {
    let text = format!(
        "{AGENCY_DEFAULT_PROFILE}\n[[policies]]\nfrom = \"guest\"\nto = \"staff\"\nservices = [\"smb\"]\naction = \"allow\"\n"
    );
    refused(&text, Code::GuestToInternal, "to = \"staff\"");
}

#[test]
fn guest_deny_to_internal_is_fine() {
    let text = format!(
        "{AGENCY_DEFAULT_PROFILE}\n[[policies]]\nfrom = \"guest\"\nto = \"staff\"\nservices = [\"any\"]\naction = \"deny\"\n"
    );
    parse(&text, "t", today()).unwrap_or_else(|p| panic!("{p}"));
}

#[test]
fn admin_services_from_internet() {
    let text = format!(
        "{AGENCY_DEFAULT_PROFILE}\n[[policies]]\nfrom = \"internet\"\nto = \"gateway\"\nservices = [\"ssh\"]\naction = \"allow\"\n"
    );
    refused(&text, Code::UplinkToGateway, "services = [\"ssh\"]");
}

#[test]
fn admin_ui_on_uplink_zone() {
    refused(
        &edit(
            "admin_zones = [\"mgmt\"]",
            "admin_zones = [\"mgmt\", \"internet\"]",
        ),
        Code::AdminOnUplink,
        "admin_zones",
    );
}

/// 003 §20.2.b: the admin UI answers only on the management zone, optionally the staff LAN —
/// never on a server, guest or quarantine zone.
#[test]
fn admin_ui_only_on_management_or_lan_zones() {
    for zone in ["servers", "guest", "quarantine"] {
        refused(
            &edit(
                "admin_zones = [\"mgmt\"]",
                &format!("admin_zones = [\"mgmt\", \"{zone}\"]"),
            ),
            Code::AdminOnUplink,
            "admin_zones",
        );
    }
    parse(
        &edit(
            "admin_zones = [\"mgmt\"]",
            "admin_zones = [\"mgmt\", \"staff\"]",
        ),
        "t",
        today(),
    )
    .unwrap();
}

/// 004 §8.1.c, §13.1.c: an idle session locks after at most 10 minutes.
#[test]
fn idle_sessions_lock_after_ten_minutes_at_most() {
    let p = refused(
        &edit("session_idle_minutes = 10", "session_idle_minutes = 15"),
        Code::WeakAccountPolicy,
        "session_idle_minutes = 15",
    );
    assert!(p.to_string().contains("004 §8.1.c"), "{p}");
}

#[test]
fn duplicate_mac() {
    refused(
        &edit("mac = \"02:ed:00:00:00:12\"", "mac = \"02:ED:00:00:00:11\""),
        Code::DuplicateMac,
        "02:ED:00:00:00:11",
    );
}

#[test]
fn invalid_mac() {
    refused(
        &edit("mac = \"02:ed:00:00:00:12\"", "mac = \"02:ed:00:00:00\""),
        Code::InvalidMac,
        "02:ed:00:00:00\"",
    );
}

#[test]
fn device_address_outside_its_zone() {
    refused(
        &edit("ip = \"10.10.0.50\"", "ip = \"10.10.10.50\""),
        Code::AddressOutsideZone,
        "10.10.10.50",
    );
}

#[test]
fn duplicate_device_address() {
    refused(
        &edit("ip = \"10.10.0.50\"", "ip = \"10.10.0.11\""),
        Code::DuplicateAddress,
        "ip = \"10.10.0.11\"",
    );
}

#[test]
fn interface_address_outside_its_zone() {
    refused(
        &edit(
            "addresses = [\"10.10.66.1/24\"]",
            "addresses = [\"10.10.67.1/24\"]",
        ),
        Code::AddressOutsideZone,
        "10.10.67.1/24",
    );
}

#[test]
fn interface_role_does_not_match_zone() {
    refused(
        &edit(
            "role = \"guest\"\nzone = \"guest\"",
            "role = \"lan\"\nzone = \"guest\"",
        ),
        Code::RoleZoneMismatch,
        "role = \"lan\"",
    );
}

#[test]
fn weight_zero() {
    let p = refused(
        &edit("weight = 3", "weight = 0"),
        Code::ZeroWeight,
        "weight = 0",
    );
    assert!(p.to_string().contains("isp1"));
}

#[test]
fn only_one_isp() {
    // Turn ISP 2 into a second TSLCD-less internet uplink name clash: simply drop it.
    let start = AGENCY_DEFAULT_PROFILE
        .find("[[uplinks]]\nname = \"isp2\"")
        .unwrap();
    let end = AGENCY_DEFAULT_PROFILE
        .find("[[uplinks]]\nname = \"tslcd\"")
        .unwrap();
    let text = format!(
        "{}{}",
        &AGENCY_DEFAULT_PROFILE[..start],
        &AGENCY_DEFAULT_PROFILE[end..]
    );
    let p = refused(&text, Code::TooFewIsps, "[[uplinks]]");
    assert!(p.to_string().contains("000 §8.1.k"));
}

#[test]
fn tslcd_prefix_overlaps_lan() {
    refused(
        &edit(
            "government_prefixes = [\"10.251.0.0/16\"]",
            "government_prefixes = [\"10.251.0.0/16\", \"10.10.0.0/16\"]",
        ),
        Code::TslcdPrefixOverlapsInternal,
        "10.10.0.0/16",
    );
}

#[test]
fn tslcd_without_prefixes() {
    refused(
        &edit(
            "government_prefixes = [\"10.251.0.0/16\"]",
            "government_prefixes = []",
        ),
        Code::TslcdWithoutPrefixes,
        "government_prefixes",
    );
}

#[test]
fn uplink_on_unknown_interface() {
    refused(
        &edit("interface = \"wan2\"", "interface = \"wan9\""),
        Code::UnknownInterface,
        "wan9",
    );
}

#[test]
fn uplink_on_a_lan_interface() {
    refused(
        &edit("interface = \"wan2\"", "interface = \"lan0\""),
        Code::UplinkNotWanInterface,
        "interface = \"lan0\"",
    );
}

#[test]
fn weak_admin_passwords() {
    let p = refused(
        &edit("admin_min_length = 11", "admin_min_length = 8"),
        Code::WeakAccountPolicy,
        "admin_min_length = 8",
    );
    assert!(p.to_string().contains("003 §15.1"));
}

#[test]
fn mfa_off() {
    refused(
        &edit("mfa_for_admins = true", "mfa_for_admins = false"),
        Code::WeakAccountPolicy,
        "mfa_for_admins",
    );
}

#[test]
fn lockout_too_lenient() {
    refused(
        &edit("lockout_failures = 5", "lockout_failures = 10"),
        Code::WeakAccountPolicy,
        "lockout_failures = 10",
    );
}

#[test]
fn open_wifi_and_stale_passphrase() {
    let text = format!(
        "{AGENCY_DEFAULT_PROFILE}\n[[wifi]]\nssid = \"Khach\"\nzone = \"guest\"\nsecurity = \"open\"\npassphrase = \"short\"\npassphrase_changed = \"2025-01-01\"\n"
    );
    refused(&text, Code::WifiInsecure, "security = \"open\"");
    refused(&text, Code::WifiStalePassphrase, "passphrase_changed");
}

/// 004 §7.2: an overdue passphrase is refused in a network a change adds or edits, but not in
/// one the change leaves as it runs — the box keeps starting, rolling back and taking unrelated
/// changes; the overdue passphrase is its daily event (and may block the network).
#[test]
fn an_aged_passphrase_is_refused_only_where_the_change_touches_it() {
    let stale = format!(
        "{AGENCY_DEFAULT_PROFILE}\n[[wifi]]\nssid = \"Khach\"\nzone = \"guest\"\nsecurity = \"wpa2\"\npassphrase = \"Hoa-Sen-2025-mua-thu\"\npassphrase_changed = \"2025-01-01\"\n"
    );
    let now = today();
    // What runs is accepted on any later day.
    edgeward_config::parse_change(&stale, "t", now, &stale).unwrap_or_else(|p| panic!("{p}"));
    // An unrelated change to it is accepted.
    let unrelated = stale.replace(
        "comment = \"Cán bộ truy cập Internet\"",
        "comment = \"Cán bộ truy cập Internet (giờ hành chính)\"",
    );
    assert_ne!(unrelated, stale);
    edgeward_config::parse_change(&unrelated, "t", now, &stale).unwrap_or_else(|p| panic!("{p}"));
    // Editing the network without rotating its passphrase is refused.
    let edited = stale.replace("security = \"wpa2\"", "security = \"wpa2-wpa3\"");
    let p = edgeward_config::parse_change(&edited, "t", now, &stale).unwrap_err();
    assert_eq!(p.codes(), [Code::WifiStalePassphrase], "{p}");
    // Without a running configuration (a file checked on its own) it is refused as before.
    refused(&stale, Code::WifiStalePassphrase, "passphrase_changed");
}

#[test]
fn wifi_in_a_wired_zone_or_with_a_non_ascii_passphrase() {
    let text = format!(
        "{AGENCY_DEFAULT_PROFILE}\n[[wifi]]\nssid = \"Quan-tri\"\nzone = \"mgmt\"\nsecurity = \"wpa3\"\npassphrase = \"mật-khẩu-quản-trị\"\npassphrase_changed = \"{}\"\n",
        edgeward_config::today()
    );
    refused(&text, Code::WifiInsecure, "zone = \"mgmt\"");
    let lines: Vec<String> = problems(&text)
        .problems
        .iter()
        .filter(|p| p.code == Code::WifiInsecure)
        .map(|p| {
            text.lines()
                .nth(p.position.unwrap().line - 1)
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        lines,
        ["zone = \"mgmt\"", "passphrase = \"mật-khẩu-quản-trị\""],
        "one problem on each line"
    );
}

/// 004 §7.2: a strong Wi-Fi passphrase — the same rule in the model as on the Wi-Fi page: 12–63
/// printable ASCII characters, not containing the network's name.
#[test]
fn weak_wifi_passphrases() {
    for (passphrase, why) in [
        ("Ngan-2026", "9 characters"),
        ("Khach-Moi-2026", "contains the network's name"),
    ] {
        let text = format!(
            "{AGENCY_DEFAULT_PROFILE}\n[[wifi]]\nssid = \"Khach\"\nzone = \"guest\"\nsecurity = \"wpa3\"\npassphrase = \"{passphrase}\"\npassphrase_changed = \"{}\"\n",
            edgeward_config::today()
        );
        let p = refused(&text, Code::WifiInsecure, "passphrase = ");
        assert!(p.to_string().contains(why), "{p}");
    }
}

#[test]
fn invalid_host_id() {
    refused(
        &edit("host_id = \"lc-agency-gw1\"", "host_id = \"LC Agency\""),
        Code::InvalidName,
        "host_id",
    );
}

#[test]
fn uplink_zone_with_prefixes() {
    refused(
        &edit(
            "name = \"internet\"\nkind = \"internet\"",
            "name = \"internet\"\nkind = \"internet\"\nprefixes = [\"0.0.0.0/0\"]",
        ),
        Code::UplinkZoneHasPrefixes,
        "0.0.0.0/0",
    );
}

#[test]
fn publishing_a_non_server() {
    let text = format!(
        "{AGENCY_DEFAULT_PROFILE}\n[[port_forwards]]\nname = \"web\"\nuplink = \"isp1\"\nprotocol = \"tcp\"\nport = 443\nto_address = \"10.10.0.11\"\n"
    );
    refused(&text, Code::PortForwardTarget, "to_address");
}

#[test]
fn every_problem_is_reported_at_once() {
    let text =
        edit("weight = 3", "weight = 0").replace("lockout_failures = 5", "lockout_failures = 9");
    let p = problems(&text);
    assert!(p.codes().contains(&Code::ZeroWeight));
    assert!(p.codes().contains(&Code::WeakAccountPolicy));
    // Rendered as file:line:col so editors can jump to it.
    assert!(
        p.to_string()
            .lines()
            .any(|l| l.starts_with("test.toml:") && l.contains("weight"))
    );
}

#[test]
fn pinning_to_an_unknown_zone_or_group() {
    let p = problems(&edit(
        "weight = 3",
        "weight = 3\npinned_zones = [\"internet\"]\npinned_destination_groups = [\"nope\"]",
    ));
    assert!(p.codes().contains(&Code::UnknownZone), "{p}");
    assert!(p.codes().contains(&Code::UnknownAddressGroup), "{p}");
}

#[test]
fn inconsistent_health_policy() {
    refused(
        &edit(
            "weight = 3",
            "weight = 3\nhealth = { up_loss_percent = 50, down_loss_percent = 20 }",
        ),
        Code::HealthThresholds,
        "health",
    );
}

#[test]
fn unknown_address_group_in_a_policy() {
    refused(
        &edit(
            "destination_groups = [\"update-mirrors\"]   # updates only",
            "destination_groups = [\"update-mirors\"]   # updates only",
        ),
        Code::UnknownAddressGroup,
        "update-mirors",
    );
}

#[test]
fn log_retention_under_six_months() {
    let p = refused(
        &edit("retention_days = 183", "retention_days = 90"),
        Code::LogRetention,
        "retention_days = 90",
    );
    assert!(p.to_string().contains("000 §8.2.c"));
}

/// IDS settings are checked where they are written: a severity that does not exist and an
/// uplink the configuration does not have.
#[test]
fn ids_enforcement_and_uplinks_are_checked_with_their_line() {
    refused(
        &edit("mode = \"ids\"", "mode = \"ips\"\ndrop_severity = 9"),
        Code::IdsSettings,
        "drop_severity = 9",
    );
    refused(
        &edit(
            "uplinks = []                      # every uplink",
            "uplinks = [\"isp9\"]                      # every uplink",
        ),
        Code::IdsSettings,
        "isp9",
    );
    refused(
        &edit(
            "mode = \"ids\"",
            "mode = \"ips\"\nfail_open_by_uplink = { isp7 = false }",
        ),
        Code::IdsSettings,
        "isp7",
    );
    refused(
        &edit(
            "mode = \"ids\"",
            "mode = \"ids\"\nzones = [\"staff\", \"internet\"]",
        ),
        Code::IdsSettings,
        "internet",
    );
    let per_uplink = parse(
        &edit(
            "mode = \"ids\"",
            "mode = \"ips\"\nfail_open_by_uplink = { tslcd = false }",
        ),
        "t.toml",
        today(),
    )
    .expect("a per-uplink failure policy");
    assert!(!per_uplink.ids.uplink_fails_open("tslcd"));
    assert!(
        per_uplink.ids.uplink_fails_open("isp1"),
        "the default policy elsewhere"
    );
    // A valid policy is accepted.
    parse(
        &edit(
            "mode = \"ids\"",
            "mode = \"ips\"\ndrop_sids = [2013028]\ndrop_classtypes = [\"trojan-activity\"]\ndrop_severity = 1\nalert_only_sids = [1]\ndisabled_sids = [2]",
        ),
        "t.toml",
        today(),
    )
    .expect("valid IDS policy");
}

/// A DHCP range is checked where it is written: inside the zone's prefix, in order, on an
/// interface that has an address there, not over the gateway's own address.
#[test]
fn dhcp_ranges_are_checked_with_their_line() {
    let staff = "dhcp = { from = \"10.10.0.100\", to = \"10.10.0.199\", lease_minutes = 720 }";
    assert!(AGENCY_DEFAULT_PROFILE.contains(staff));
    for (bad, why) in [
        (
            "dhcp = { from = \"10.99.0.100\", to = \"10.99.0.199\" }",
            "not inside",
        ),
        (
            "dhcp = { from = \"10.10.0.199\", to = \"10.10.0.100\" }",
            "after it ends",
        ),
        (
            "dhcp = { from = \"10.10.0.1\", to = \"10.10.0.50\" }",
            "gateway's own address",
        ),
        (
            "dhcp = { from = \"10.10.0.100\", to = \"10.10.0.199\", lease_minutes = 1 }",
            "too short",
        ),
    ] {
        let p = refused(&edit(staff, bad), Code::DhcpRange, "dhcp = {");
        assert!(p.to_string().contains(why), "{bad}: {p}");
    }
}

/// 004 §9.3: a personal device is approved only with the head of unit's consent named.
#[test]
fn a_personal_device_needs_the_head_of_unit() {
    let text = edit(
        "serial = \"DL-OPT-7090-0011\"\n",
        "serial = \"DL-OPT-7090-0011\"\npersonal = true\n",
    );
    refused(&text, Code::DeviceApproval, "personal = true");
    let ok = edit(
        "serial = \"DL-OPT-7090-0011\"\n",
        "serial = \"DL-OPT-7090-0011\"\npersonal = true\nhead_of_unit = \"Trần Văn Trưởng\"\n",
    );
    assert!(parse(&ok, "t.toml", today()).is_ok());
}

/// 001 §7.5: the attested checklist names only known checks.
#[test]
fn the_checklist_names_known_checks() {
    let text = edit(
        "serial = \"DL-OPT-7090-0011\"\n",
        "serial = \"DL-OPT-7090-0011\"\nchecklist = [\"antivirus\", \"vibes\"]\n",
    );
    refused(&text, Code::DeviceApproval, "checklist");
}

/// A randomised MAC outside guest zones, where the policy allows them only there; a DHCP
/// server allowed by something that is neither a MAC nor an address.
#[test]
fn random_macs_where_only_guests_may_have_them_and_bad_allowed_servers() {
    let text = edit(
        "portal_port = 8081\n",
        "portal_port = 8081\nrandom_mac = \"guest-only\"\n",
    );
    refused(&text, Code::DeviceApproval, "mac = \"02:ed:00:00:00:50\"");
    let text = edit(
        "portal_port = 8081\n",
        "portal_port = 8081\nallowed_dhcp_servers = [\"10.10.0.5\", \"not-a-server\"]\n",
    );
    refused(&text, Code::NacSettings, "allowed_dhcp_servers");
    let text = edit(
        "portal_port = 8081\n",
        "portal_port = 8081\nallowed_dhcp_servers = [\"10.10.0.5\", \"02:aa:00:00:00:06\"]\n",
    );
    assert!(parse(&text, "t.toml", today()).is_ok());
}

/// 003 §30.8: the time section names real servers, serves internal zones only, with a sane limit.
#[test]
fn time_settings_are_checked() {
    let base = format!("{AGENCY_DEFAULT_PROFILE}\n[time]\n");
    refused(
        &format!("{base}servers = [\"ntp server; rm -rf\"]\n"),
        Code::TimeSettings,
        "servers",
    );
    refused(
        &format!("{base}servers = [\"10.251.9.10\"]\nserve_zones = [\"internet\"]\n"),
        Code::TimeSettings,
        "serve_zones",
    );
    refused(
        &format!("{base}serve_zones = [\"nowhere\"]\n"),
        Code::UnknownZone,
        "serve_zones",
    );
    refused(
        &format!("{base}max_offset_ms = 0\n"),
        Code::TimeSettings,
        "max_offset_ms",
    );
    parse(
        &format!(
            "{base}servers = [\"10.251.9.10\", \"ntp.tslcd.gov.vn\"]\nserve_zones = [\"staff\"]\n"
        ),
        "t.toml",
        today(),
    )
    .expect("a good time section is accepted");
}

/// A guest network on a radio, in a zone whose interface is a bridge (what a served SSID needs).
fn served_wifi(extra: &str) -> String {
    let base = AGENCY_DEFAULT_PROFILE.replacen(
        "name = \"guest0\"",
        "name = \"guest0\"\nports = [\"guest-port\"]",
        1,
    );
    format!(
        "{base}\n[[radios]]\nname = \"radio0\"\ninterface = \"wlan0\"\n{extra}\n[[wifi]]\nssid = \"Khach\"\nzone = \"guest\"\nsecurity = \"wpa2-wpa3\"\npassphrase = \"Hoa-Sen-Vang-2026\"\npassphrase_changed = \"{}\"\n",
        today()
    )
}

/// 004 §7.2, 001 §5.1.d: no cipher can be chosen at all — TKIP (or WEP) written into a
/// network is refused at its line, like an open network; only WPA2/WPA3 with CCMP is served.
#[test]
fn tkip_or_an_open_network_is_refused_at_its_line() {
    parse(&served_wifi(""), "t", today()).unwrap_or_else(|p| panic!("{p}"));
    let tkip = served_wifi("").replace(
        "security = \"wpa2-wpa3\"",
        "security = \"wpa2\"\npairwise = \"TKIP\"",
    );
    refused(&tkip, Code::Schema, "pairwise = \"TKIP\"");
    let open = served_wifi("").replace("security = \"wpa2-wpa3\"", "security = \"open\"");
    refused(&open, Code::WifiInsecure, "security = \"open\"");
}

/// Radios: a channel outside the band, a radio interface that is already a LAN port, a
/// network on a radio that does not exist, a served network whose zone is not a bridge.
#[test]
fn radio_settings_and_served_networks_are_checked() {
    refused(
        &served_wifi("channel = 14\n"),
        Code::WifiRadio,
        "channel = 14",
    );
    refused(
        &served_wifi("band = \"5ghz\"\nchannel = 37\n"),
        Code::WifiRadio,
        "channel = 37",
    );
    parse(
        &served_wifi("band = \"5ghz\"\nchannel = 149\n"),
        "t",
        today(),
    )
    .unwrap_or_else(|p| panic!("{p}"));
    refused(
        &served_wifi("country = \"vn\"\n"),
        Code::WifiRadio,
        "country = \"vn\"",
    );
    let clash = served_wifi("").replace("interface = \"wlan0\"", "interface = \"guest-port\"");
    refused(&clash, Code::WifiRadio, "interface = \"guest-port\"");
    let unknown = served_wifi("").replace(
        "zone = \"guest\"\nsecurity",
        "zone = \"guest\"\nradio = \"radio9\"\nsecurity",
    );
    refused(&unknown, Code::WifiRadio, "radio = \"radio9\"");
    let not_bridged = served_wifi("").replace("\nports = [\"guest-port\"]", "");
    refused(&not_bridged, Code::WifiRadio, "zone = \"guest\"");
}

/// 000 §5.6.b: computers on the TSLCD are never on Wi-Fi, so a zone with Wi-Fi is never
/// routed to the TSLCD — a staff SSID in the zone that reaches the TSLCD is refused at the
/// policy that would let it.
#[test]
fn a_wifi_zone_is_never_routed_to_the_tslcd() {
    let staff = served_wifi("").replace("zone = \"guest\"\nsecurity", "zone = \"staff\"\nsecurity");
    let p = refused(&staff, Code::WifiToTslcd, "to = \"tslcd\"");
    assert!(p.to_string().contains("000 §5.6.b"), "{p}");
}
