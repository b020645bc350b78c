//! Semantic validation of a parsed [`Config`]: every problem at once, each with its field path
//! and a hint. Rules that come from the regulations name their article.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use chrono::NaiveDate;
use ipnetwork::IpNetwork;

use crate::diagnostic::{Code, FieldPath, Problem};
use crate::model::{
    Action, Config, GATEWAY_ZONE, PassphraseProblem, Role, UplinkKind, WifiNetwork, WifiSecurity,
    Zone, ZoneKind,
};
use crate::services;

/// Check a configuration as of `today` (Wi-Fi passphrase age depends on the date).
pub fn validate(config: &Config, today: NaiveDate) -> Vec<Problem> {
    let mut v = Validator {
        config,
        problems: Vec::new(),
    };
    v.gateway();
    v.zones();
    v.interfaces();
    v.address_groups();
    v.policies();
    v.firewall();
    v.uplinks();
    v.port_forwards();
    v.devices();
    v.management();
    v.admin();
    v.logs();
    v.ids();
    v.nac();
    v.wifi(today);
    v.time();
    v.ssh();
    v.problems
}

struct Validator<'a> {
    config: &'a Config,
    problems: Vec<Problem>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && !name.starts_with('-')
}

/// Whether two prefixes share any address (same family only).
pub fn prefixes_overlap(a: &IpNetwork, b: &IpNetwork) -> bool {
    match (a, b) {
        (IpNetwork::V4(x), IpNetwork::V4(y)) => x.contains(y.network()) || y.contains(x.network()),
        (IpNetwork::V6(x), IpNetwork::V6(y)) => x.contains(y.network()) || y.contains(x.network()),
        _ => false,
    }
}

/// Normalise a MAC address to lower-case colon form, or `None` if it is not one.
pub fn normalize_mac(mac: &str) -> Option<String> {
    let hex: String = mac
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let seps = mac.chars().filter(|c| matches!(c, ':' | '-' | '.')).count();
    if !(seps == 0 || seps == 5 || (seps == 2 && mac.contains('.'))) {
        return None;
    }
    let lower = hex.to_ascii_lowercase();
    Some(
        lower
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(":"),
    )
}

impl Validator<'_> {
    fn push(&mut self, p: Problem) {
        self.problems.push(p);
    }

    fn zone_kind(&self, name: &str) -> Option<ZoneKind> {
        self.config.zone(name).map(|z| z.kind)
    }

    fn zone_names_hint(&self) -> String {
        let names: Vec<&str> = self.config.zones.iter().map(|z| z.name.as_str()).collect();
        format!("known zones: {}", names.join(", "))
    }

    fn check_names<'n>(&mut self, section: &str, names: impl Iterator<Item = &'n str>, what: &str) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, name) in names.enumerate() {
            let path = FieldPath::at(section).index(i).key("name");
            if !valid_name(name) {
                self.push(
                    Problem::new(
                        Code::InvalidName,
                        path.clone(),
                        format!("{what} name `{name}` is not valid"),
                    )
                    .hint("use 1–63 characters from a–z, 0–9, `-` and `_`"),
                );
            }
            if let Some(first) = seen.insert(name, i) {
                self.push(
                    Problem::new(
                        Code::DuplicateName,
                        path,
                        format!("{what} `{name}` is defined twice"),
                    )
                    .hint(format!(
                        "the first definition is {section}[{first}]; names must be unique"
                    )),
                );
            }
        }
    }

    fn gateway(&mut self) {
        let g = &self.config.gateway;
        if !valid_name(&g.host_id) {
            self.push(
                Problem::new(
                    Code::InvalidName,
                    FieldPath::at("gateway").key("host_id"),
                    format!("host_id `{}` is not valid", g.host_id),
                )
                .hint("the SOC identifies this gateway by host_id: 1–63 characters from a–z, 0–9, `-`"),
            );
        }
    }

    /// A DHCP range lies in one of the zone's prefixes, on an interface of the zone that has
    /// an address there (the router the clients get), in order, and not over that address.
    fn dhcp_range(&mut self, i: usize, z: &crate::model::Zone, d: &crate::model::ZoneDhcp) {
        let path = FieldPath::at("zones").index(i).key("dhcp");
        let problem = |why: String, hint: &str| {
            Problem::new(Code::DhcpRange, path.clone(), why).hint(hint.to_string())
        };
        let mut found = Vec::new();
        if !z.kind.is_internal() {
            found.push(problem(
                format!(
                    "zone `{}` is an uplink zone: the gateway hands out no addresses there",
                    z.name
                ),
                "DHCP ranges belong to internal zones",
            ));
        } else if !z
            .prefixes
            .iter()
            .any(|p| p.contains(d.from) && p.contains(d.to))
        {
            found.push(problem(
                format!(
                    "{} – {} is not inside one of zone `{}`'s prefixes",
                    d.from, d.to, z.name
                ),
                "both ends of the range lie in the same prefix of the zone",
            ));
        } else if d.from > d.to {
            found.push(problem(
                format!("the range starts at {} after it ends at {}", d.from, d.to),
                "from is the lower address",
            ));
        } else {
            let router = self
                .config
                .interfaces
                .iter()
                .filter(|itf| itf.zone == z.name)
                .find_map(|itf| {
                    itf.addresses
                        .iter()
                        .find(|a| a.contains(d.from))
                        .map(ipnetwork::IpNetwork::ip)
                });
            match router {
                None => found.push(problem(
                    format!("no interface of zone `{}` has an address in {}'s prefix", z.name, d.from),
                    "give the zone's interface an address in that prefix: it is the clients' router",
                )),
                Some(gw) if d.from <= gw && gw <= d.to => found.push(problem(
                    format!("the range includes the gateway's own address {gw}"),
                    "start the range above (or end it below) the gateway's address",
                )),
                Some(_) => {}
            }
        }
        if d.lease_minutes < 2 {
            found.push(problem(
                format!("lease time {} minutes is too short", d.lease_minutes),
                "at least 2 minutes; 720 (12 hours) is the default",
            ));
        }
        for p in found {
            self.push(p);
        }
    }

    fn zones(&mut self) {
        let cfg = self.config;
        self.check_names("zones", cfg.zones.iter().map(|z| z.name.as_str()), "zone");
        if cfg.zone(GATEWAY_ZONE).is_some() {
            let i = cfg
                .zones
                .iter()
                .position(|z| z.name == GATEWAY_ZONE)
                .unwrap_or(0);
            self.push(
                Problem::new(Code::InvalidName, FieldPath::at("zones").index(i).key("name"), "`gateway` is reserved")
                    .hint("policies use `to = \"gateway\"` for the appliance itself; pick another zone name"),
            );
        }
        for (i, z) in cfg.zones.iter().enumerate() {
            if let Some(d) = &z.dhcp {
                self.dhcp_range(i, z, d);
            }
            if z.kind.is_uplink() && !z.prefixes.is_empty() {
                self.push(
                    Problem::new(
                        Code::UplinkZoneHasPrefixes,
                        FieldPath::at("zones").index(i).key("prefixes"),
                        format!("zone `{}` is an uplink zone ({:?}) and cannot list prefixes", z.name, z.kind),
                    )
                    .hint("uplink zones are everything outside; TSLCD prefixes belong in the uplink's government_prefixes"),
                );
            }
            if z.kind.is_internal() && z.prefixes.is_empty() {
                self.push(
                    Problem::new(
                        Code::InternalZoneWithoutPrefixes,
                        FieldPath::at("zones").index(i).key("prefixes"),
                        format!("internal zone `{}` has no prefixes", z.name),
                    )
                    .hint("anti-spoofing and policies need the zone's address ranges, e.g. prefixes = [\"10.10.0.0/24\"]"),
                );
            }
        }
        // Overlaps between prefixes of different zones (and within one zone).
        let all: Vec<(usize, usize, &Zone, &IpNetwork)> = cfg
            .zones
            .iter()
            .enumerate()
            .flat_map(|(zi, z)| {
                z.prefixes
                    .iter()
                    .enumerate()
                    .map(move |(pi, p)| (zi, pi, z, p))
            })
            .collect();
        for (a_idx, a) in all.iter().enumerate() {
            for b in &all[a_idx + 1..] {
                if prefixes_overlap(a.3, b.3) {
                    self.push(
                        Problem::new(
                            Code::OverlappingPrefixes,
                            FieldPath::at("zones").index(b.0).key("prefixes").index(b.1),
                            format!(
                                "prefix {} of zone `{}` overlaps {} of zone `{}`",
                                b.3, b.2.name, a.3, a.2.name
                            ),
                        )
                        .hint("each address must belong to exactly one zone (003 §3.1.a); split or renumber the ranges"),
                    );
                }
            }
        }
    }

    fn interfaces(&mut self) {
        let cfg = self.config;
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, itf) in cfg.interfaces.iter().enumerate() {
            let path = FieldPath::at("interfaces").index(i);
            if itf.name.is_empty() || itf.name.len() > 15 || itf.name.contains(['/', ' ']) {
                self.push(
                    Problem::new(
                        Code::InvalidName,
                        path.clone().key("name"),
                        format!("`{}` is not a Linux interface name", itf.name),
                    )
                    .hint("1–15 characters, no `/` or spaces"),
                );
            }
            for (pi, port) in itf.ports.iter().enumerate() {
                let clash = cfg.interfaces.iter().any(|o| &o.name == port)
                    || cfg.interfaces.iter().enumerate().any(|(j, o)| {
                        o.ports
                            .iter()
                            .enumerate()
                            .any(|(pj, p)| p == port && (j, pj) < (i, pi))
                    });
                let why = if port.is_empty() || port.len() > 15 || port.contains(['/', ' ']) {
                    Some(format!("`{port}` is not a Linux interface name"))
                } else if itf.role.is_uplink() {
                    Some(format!("uplink `{}` cannot bridge LAN ports", itf.name))
                } else if clash {
                    Some(format!(
                        "port `{port}` is already an interface or another bridge's port"
                    ))
                } else {
                    None
                };
                if let Some(why) = why {
                    self.push(
                        Problem::new(Code::InvalidName, path.clone().key("ports").index(pi), why)
                            .hint("each of the appliance's LAN ports belongs to at most one internal interface"),
                    );
                }
            }
            if let Some(first) = seen.insert(itf.name.as_str(), i) {
                self.push(
                    Problem::new(
                        Code::DuplicateName,
                        path.clone().key("name"),
                        format!("interface `{}` is defined twice", itf.name),
                    )
                    .hint(format!("the first definition is interfaces[{first}]")),
                );
            }
            let Some(zone) = cfg.zone(&itf.zone) else {
                self.push(
                    Problem::new(
                        Code::UnknownZone,
                        path.key("zone"),
                        format!("interface `{}` is in unknown zone `{}`", itf.name, itf.zone),
                    )
                    .hint(self.zone_names_hint()),
                );
                continue;
            };
            if itf.role.zone_kind() != zone.kind {
                self.push(
                    Problem::new(
                        Code::RoleZoneMismatch,
                        path.clone().key("role"),
                        format!("interface `{}` has role {:?} but zone `{}` is of kind {:?}", itf.name, itf.role, zone.name, zone.kind),
                    )
                    .hint("an interface's role and its zone's kind must agree, e.g. role \"guest\" in a zone of kind \"guest\""),
                );
            }
            if zone.kind.is_internal() {
                for (ai, addr) in itf.addresses.iter().enumerate() {
                    if !zone.prefixes.iter().any(|p| p.contains(addr.ip())) {
                        self.push(
                            Problem::new(
                                Code::AddressOutsideZone,
                                path.clone().key("addresses").index(ai),
                                format!(
                                    "address {} of interface `{}` is outside zone `{}`",
                                    addr, itf.name, zone.name
                                ),
                            )
                            .hint(format!(
                                "zone `{}` has {}",
                                zone.name,
                                list(&zone.prefixes)
                            )),
                        );
                    }
                }
            }
        }
    }

    fn address_groups(&mut self) {
        let cfg = self.config;
        self.check_names(
            "address_groups",
            cfg.address_groups.iter().map(|g| g.name.as_str()),
            "address group",
        );
        for (i, g) in cfg.address_groups.iter().enumerate() {
            if g.prefixes.is_empty() {
                self.push(
                    Problem::new(
                        Code::UnknownAddressGroup,
                        FieldPath::at("address_groups").index(i).key("prefixes"),
                        format!("address group `{}` is empty", g.name),
                    )
                    .hint("list at least one prefix, or remove the group"),
                );
            }
        }
    }

    fn group_refs(&mut self, path: FieldPath, names: &[String]) {
        for (i, name) in names.iter().enumerate() {
            if self.config.address_group(name).is_none() {
                let known: Vec<&str> = self
                    .config
                    .address_groups
                    .iter()
                    .map(|g| g.name.as_str())
                    .collect();
                self.push(
                    Problem::new(
                        Code::UnknownAddressGroup,
                        path.clone().index(i),
                        format!("unknown address group `{name}`"),
                    )
                    .hint(if known.is_empty() {
                        "define it under [[address_groups]]".to_string()
                    } else {
                        format!("known groups: {}", known.join(", "))
                    }),
                );
            }
        }
    }

    fn nac(&mut self) {
        let nac = &self.config.nac;
        for (i, z) in nac.onboarding_zones.iter().enumerate() {
            let zone = self.config.zones.iter().find(|zone| &zone.name == z);
            let why = match zone {
                None => Some(format!("no zone named `{z}`")),
                Some(zone) if !zone.kind.is_internal() => Some(format!("`{z}` is an uplink zone")),
                Some(zone) if zone.kind == crate::model::ZoneKind::Mgmt => Some(format!(
                    "`{z}` is the management zone: unapproved machines there would include the admin's own"
                )),
                Some(_) => None,
            };
            if let Some(why) = why {
                self.push(
                    Problem::new(
                        Code::NacSettings,
                        FieldPath::at("nac").key("onboarding_zones").index(i),
                        why,
                    )
                    .hint("name internal zones (staff, guest …) whose unknown machines wait for approval"),
                );
            }
        }
        for (i, k) in nac.quarantine_on.iter().enumerate() {
            if !["c2", "scan", "mining", "rogue-dhcp", "guessing"].contains(&k.as_str()) {
                self.push(
                    Problem::new(
                        Code::NacSettings,
                        FieldPath::at("nac").key("quarantine_on").index(i),
                        format!("`{k}` is not a kind of security event"),
                    )
                    .hint("c2, scan, mining, rogue-dhcp or guessing"),
                );
            }
        }
        for (i, a) in nac.allowed_dhcp_servers.iter().enumerate() {
            if normalize_mac(a).is_none() && a.parse::<IpAddr>().is_err() {
                self.push(
                    Problem::new(
                        Code::NacSettings,
                        FieldPath::at("nac").key("allowed_dhcp_servers").index(i),
                        format!("`{a}` is neither a MAC nor an IP address"),
                    )
                    .hint("the server's MAC (aa:bb:cc:dd:ee:ff) or address"),
                );
            }
        }
        if nac.portal_port < 1024 && nac.portal_port != 80 {
            self.push(
                Problem::new(
                    Code::NacSettings,
                    FieldPath::at("nac").key("portal_port"),
                    format!("port {} is reserved", nac.portal_port),
                )
                .hint("8081 is the default"),
            );
        }
    }

    fn ids(&mut self) {
        let ids = &self.config.ids;
        let base = FieldPath::at("ids");
        if let Some(s) = ids.drop_severity
            && !(1..=4).contains(&s)
        {
            self.push(
                Problem::new(
                    Code::IdsSettings,
                    base.clone().key("drop_severity"),
                    format!("severity {s} does not exist"),
                )
                .hint("1 (high) to 4 (informational): rules of that severity or higher drop"),
            );
        }
        for (i, u) in ids.uplinks.iter().enumerate() {
            if self.config.uplink(u).is_none() {
                self.push(
                    Problem::new(
                        Code::IdsSettings,
                        base.clone().key("uplinks").index(i),
                        format!("no uplink named `{u}`"),
                    )
                    .hint("name uplinks from [[uplinks]], or leave the list empty for all"),
                );
            }
        }
        for (i, z) in ids.zones.iter().enumerate() {
            if !self
                .config
                .zones
                .iter()
                .any(|zone| &zone.name == z && zone.kind.is_internal())
            {
                self.push(
                    Problem::new(
                        Code::IdsSettings,
                        base.clone().key("zones").index(i),
                        format!("no internal zone named `{z}`"),
                    )
                    .hint("name internal zones from [[zones]] (not internet or tslcd), or leave the list empty for all"),
                );
            }
        }
        for u in ids.fail_open_by_uplink.keys() {
            if self.config.uplink(u).is_none() {
                self.push(
                    Problem::new(
                        Code::IdsSettings,
                        base.clone().key("fail_open_by_uplink").key(u),
                        format!("no uplink named `{u}`"),
                    )
                    .hint("name uplinks from [[uplinks]]: true lets packets pass when the IPS cannot judge them, false drops them"),
                );
            }
        }
    }

    fn firewall(&mut self) {
        let fw = &self.config.firewall;
        let base = FieldPath::at("firewall");
        self.group_refs(
            base.clone().key("non_computer_update_groups"),
            &fw.non_computer_update_groups.clone(),
        );
        if fw.log_rate_per_second == 0 && fw.log_denied {
            self.push(
                Problem::new(
                    Code::FirewallSettings,
                    base.clone().key("log_rate_per_second"),
                    "denied packets are logged at 0 per second",
                )
                .hint("abnormal connections must be logged (001 §6.2); use e.g. 20"),
            );
        }
        if fw.new_connections_per_second == 0 {
            self.push(
                Problem::new(
                    Code::FirewallSettings,
                    base.clone().key("new_connections_per_second"),
                    "0 new connections per second would cut the gateway off",
                )
                .hint("use e.g. 50"),
            );
        }
        if !(10..=3600).contains(&fw.commit_confirm_seconds) {
            self.push(
                Problem::new(
                    Code::FirewallSettings,
                    base.key("commit_confirm_seconds"),
                    format!(
                        "{} s is not a usable confirmation window",
                        fw.commit_confirm_seconds
                    ),
                )
                .hint("between 10 and 3600 seconds; the default is 120"),
            );
        }
    }

    fn policies(&mut self) {
        let cfg = self.config;
        for (i, pol) in cfg.policies.iter().enumerate() {
            let path = FieldPath::at("policies").index(i);
            let from = self.zone_kind(&pol.from);
            if from.is_none() {
                self.push(
                    Problem::new(
                        Code::UnknownZone,
                        path.clone().key("from"),
                        format!("policy source zone `{}` does not exist", pol.from),
                    )
                    .hint(self.zone_names_hint()),
                );
            }
            let to = if pol.to == GATEWAY_ZONE {
                None
            } else {
                self.zone_kind(&pol.to)
            };
            if pol.to != GATEWAY_ZONE && to.is_none() {
                self.push(
                    Problem::new(
                        Code::UnknownZone,
                        path.clone().key("to"),
                        format!("policy destination zone `{}` does not exist", pol.to),
                    )
                    .hint(format!(
                        "{}; or `gateway` for the appliance itself",
                        self.zone_names_hint()
                    )),
                );
            }
            self.group_refs(
                path.clone().key("destination_groups"),
                &pol.destination_groups,
            );
            self.group_refs(
                path.clone().key("destination_groups"),
                &pol.destination_groups,
            );
            for (si, s) in pol.services.iter().enumerate() {
                if !services::is_known(cfg, s) {
                    let names: Vec<&str> = services::builtin_names().collect();
                    self.push(
                        Problem::new(
                            Code::UnknownService,
                            path.clone().key("services").index(si),
                            format!("unknown service `{s}`"),
                        )
                        .hint(format!(
                            "built-in services: {}, any; or define it under [[services]]",
                            names.join(", ")
                        )),
                    );
                }
            }
            if pol.action != Action::Allow {
                continue;
            }
            match (from, to) {
                (Some(ZoneKind::Guest), Some(ZoneKind::Tslcd)) => self.push(
                    Problem::new(Code::GuestToTslcd, path.clone().key("to"), format!("guest zone `{}` may not reach the TSLCD", pol.from))
                        .hint("computers on the TSLCD must not share a network with Wi-Fi guests (000 §5.6.b); remove this policy"),
                ),
                (Some(ZoneKind::Guest), Some(k)) if k.is_internal() && pol.to != pol.from => self.push(
                    Problem::new(Code::GuestToInternal, path.clone().key("to"), format!("guest zone `{}` may not reach internal zone `{}`", pol.from, pol.to))
                        .hint("guests reach only the Internet and the gateway's DHCP/DNS (REQUIREMENTS §6, 000 §5.6.b)"),
                ),
                _ => {}
            }
            if pol.to == GATEWAY_ZONE {
                let admin_services = ["ssh", "https", "http", services::ANY];
                let touches_admin = pol
                    .services
                    .iter()
                    .any(|s| admin_services.contains(&s.as_str()));
                if let Some(k) = from {
                    if k.is_uplink() && touches_admin {
                        self.push(
                            Problem::new(Code::UplinkToGateway, path.clone().key("services"), format!("uplink zone `{}` may not reach the gateway's admin services", pol.from))
                                .hint("the admin UI and SSH answer only on the management zone (003 §20.2.b); use a VPN to the mgmt zone"),
                        );
                    }
                    if k == ZoneKind::Guest && touches_admin {
                        self.push(
                            Problem::new(
                                Code::GuestToInternal,
                                path.clone().key("services"),
                                format!(
                                    "guest zone `{}` may not reach the gateway's admin services",
                                    pol.from
                                ),
                            )
                            .hint("guests may use only dhcp, dns and ntp on the gateway"),
                        );
                    }
                }
            }
        }
    }

    fn uplinks(&mut self) {
        let cfg = self.config;
        self.check_names(
            "uplinks",
            cfg.uplinks.iter().map(|u| u.name.as_str()),
            "uplink",
        );
        let internal = cfg.internal_prefixes();
        let isps = cfg
            .uplinks
            .iter()
            .filter(|u| u.kind == UplinkKind::Internet)
            .count();
        if isps < 2 {
            let path = if cfg.uplinks.is_empty() {
                FieldPath::root()
            } else {
                FieldPath::at("uplinks")
            };
            self.push(
                Problem::new(Code::TooFewIsps, path, format!("{isps} Internet uplink(s) configured; at least two are required"))
                    .hint("two ISPs on different domestic infrastructure, with load sharing (000 §8.1.k, 003 §8.1.đ)"),
            );
        }
        for (i, up) in cfg.uplinks.iter().enumerate() {
            let path = FieldPath::at("uplinks").index(i);
            match cfg.interface(&up.interface) {
                None => self.push(
                    Problem::new(
                        Code::UnknownInterface,
                        path.clone().key("interface"),
                        format!(
                            "uplink `{}` uses unknown interface `{}`",
                            up.name, up.interface
                        ),
                    )
                    .hint("declare it under [[interfaces]] with role wan-internet or wan-tslcd"),
                ),
                Some(itf) => {
                    let want = match up.kind {
                        UplinkKind::Internet => Role::WanInternet,
                        UplinkKind::Tslcd => Role::WanTslcd,
                    };
                    if itf.role != want {
                        self.push(
                            Problem::new(Code::UplinkNotWanInterface, path.clone().key("interface"), format!("uplink `{}` of kind {:?} uses interface `{}` whose role is {:?}", up.name, up.kind, itf.name, itf.role))
                                .hint(format!("give interface `{}` role {:?}", itf.name, want)),
                        );
                    }
                }
            }
            if up.kind == UplinkKind::Internet && up.weight == 0 {
                self.push(
                    Problem::new(Code::ZeroWeight, path.clone().key("weight"), format!("uplink `{}` has weight 0", up.name))
                        .hint("weights share new connections between ISPs; use 1 or more (a weight of 0 would never carry traffic)"),
                );
            }
            if up.probes.is_empty() {
                self.push(
                    Problem::new(Code::UplinkWithoutProbes, path.clone().key("probes"), format!("uplink `{}` has no health probes", up.name))
                        .hint("add at least two targets, e.g. { kind = \"icmp\", target = \"…\" }, so failover can judge the link"),
                );
            }
            let h = &up.health;
            if h.up_loss_percent > h.down_loss_percent
                || h.down_loss_percent > 100
                || h.min_healthy_targets == 0
                || h.min_healthy_targets as usize > up.probes.len().max(1)
                || h.window < 4
                || h.interval_ms < 50
                || h.timeout_ms == 0
                || h.fast_down_losses == 0
                || h.fast_down_losses > h.window
            {
                self.push(
                    Problem::new(Code::HealthThresholds, path.clone().key("health"), format!("health policy of uplink `{}` is inconsistent", up.name))
                        .hint("need up_loss_percent ≤ down_loss_percent ≤ 100, 1 ≤ min_healthy_targets ≤ number of probes, window ≥ 4, interval_ms ≥ 50, timeout_ms ≥ 1, 1 ≤ fast_down_losses ≤ window"),
                );
            }
            for (zi, z) in up.pinned_zones.iter().enumerate() {
                if !self
                    .zone_kind(z)
                    .is_some_and(super::model::ZoneKind::is_internal)
                {
                    self.push(
                        Problem::new(
                            Code::UnknownZone,
                            path.clone().key("pinned_zones").index(zi),
                            format!("`{z}` is not an internal zone"),
                        )
                        .hint(self.zone_names_hint()),
                    );
                }
            }
            self.group_refs(
                path.clone().key("pinned_destination_groups"),
                &up.pinned_destination_groups,
            );
            if up.kind == UplinkKind::Tslcd
                && (!up.pinned_zones.is_empty() || !up.pinned_destination_groups.is_empty())
            {
                self.push(
                    Problem::new(
                        Code::HealthThresholds,
                        path.clone().key("pinned_zones"),
                        "the TSLCD carries only government prefixes; nothing can be pinned to it",
                    )
                    .hint("pin to an Internet uplink"),
                );
            }
            match up.kind {
                UplinkKind::Tslcd => {
                    if up.government_prefixes.is_empty() {
                        self.push(
                            Problem::new(Code::TslcdWithoutPrefixes, path.clone().key("government_prefixes"), format!("TSLCD uplink `{}` lists no government prefixes", up.name))
                                .hint("list the provincial data centre and shared-application prefixes reachable over the TSLCD (003 §9)"),
                        );
                    }
                    for (pi, gp) in up.government_prefixes.iter().enumerate() {
                        if let Some(clash) = internal.iter().find(|p| prefixes_overlap(p, gp)) {
                            self.push(
                                Problem::new(Code::TslcdPrefixOverlapsInternal, path.clone().key("government_prefixes").index(pi), format!("government prefix {gp} overlaps internal prefix {clash}"))
                                    .hint("government prefixes route only via the TSLCD; an overlap would send LAN traffic out or leak TSLCD traffic"),
                            );
                        }
                    }
                }
                UplinkKind::Internet => {
                    if !up.government_prefixes.is_empty() {
                        self.push(
                            Problem::new(Code::TslcdWithoutPrefixes, path.clone().key("government_prefixes"), format!("Internet uplink `{}` cannot carry government prefixes", up.name))
                                .hint("government prefixes belong to the TSLCD uplink only (never leaked through an ISP)"),
                        );
                    }
                }
            }
        }
    }

    fn port_forwards(&mut self) {
        let cfg = self.config;
        self.check_names(
            "port_forwards",
            cfg.port_forwards.iter().map(|f| f.name.as_str()),
            "port forward",
        );
        for (i, fw) in cfg.port_forwards.iter().enumerate() {
            let path = FieldPath::at("port_forwards").index(i);
            if cfg.uplink(&fw.uplink).is_none() {
                self.push(Problem::new(
                    Code::UnknownUplink,
                    path.clone().key("uplink"),
                    format!("unknown uplink `{}`", fw.uplink),
                ));
            }
            let in_servers = cfg
                .zones
                .iter()
                .filter(|z| z.kind == ZoneKind::Servers)
                .any(|z| z.prefixes.iter().any(|p| p.contains(fw.to_address)));
            if !in_servers {
                self.push(
                    Problem::new(Code::PortForwardTarget, path.key("to_address"), format!("published address {} is not in a servers zone", fw.to_address))
                        .hint("publish only servers (004 §8.1.h); move the host to the servers zone first"),
                );
            }
        }
    }

    /// A personal device needs its head of unit's consent (004 §9.3); the checklist names only
    /// known checks; a randomised MAC only where the policy lets one in.
    fn device_approval(&mut self, i: usize, d: &crate::model::Device) {
        let path = FieldPath::at("devices").index(i);
        if d.personal
            && d.status == crate::model::DeviceStatus::Approved
            && d.head_of_unit.trim().is_empty()
        {
            self.push(
                Problem::new(
                    Code::DeviceApproval,
                    path.clone().key("personal"),
                    format!(
                        "personal device of {} is approved without the head of unit's consent",
                        d.user
                    ),
                )
                .hint("name the head of unit who agreed (head_of_unit), or leave it pending"),
            );
        }
        for (j, c) in d.checklist.iter().enumerate() {
            if !crate::model::APPROVAL_CHECKLIST.contains(&c.as_str()) {
                self.push(
                    Problem::new(
                        Code::DeviceApproval,
                        path.clone().key("checklist").index(j),
                        format!("`{c}` is not a check"),
                    )
                    .hint(crate::model::APPROVAL_CHECKLIST.join(", ")),
                );
            }
        }
        let random = normalize_mac(&d.mac)
            .and_then(|m| u8::from_str_radix(&m[..2], 16).ok())
            .is_some_and(|b| b & 0x02 != 0);
        if random
            && self.config.nac.random_mac == crate::model::RandomMacPolicy::GuestOnly
            && d.status == crate::model::DeviceStatus::Approved
            && self.zone_kind(&d.zone) != Some(crate::model::ZoneKind::Guest)
        {
            self.push(
                Problem::new(
                    Code::DeviceApproval,
                    path.key("mac"),
                    format!("{} is a randomised (locally administered) MAC, allowed only in guest zones here", d.mac),
                )
                .hint("ask the user to turn off MAC randomisation for this network, or put the device in a guest zone"),
            );
        }
    }

    fn devices(&mut self) {
        let cfg = self.config;
        let mut macs: HashMap<String, usize> = HashMap::new();
        let mut ips: HashMap<IpAddr, usize> = HashMap::new();
        for (i, d) in cfg.devices.iter().enumerate() {
            let path = FieldPath::at("devices").index(i);
            match normalize_mac(&d.mac) {
                None => self.push(
                    Problem::new(
                        Code::InvalidMac,
                        path.clone().key("mac"),
                        format!("`{}` is not a MAC address", d.mac),
                    )
                    .hint("write it as aa:bb:cc:dd:ee:ff"),
                ),
                Some(mac) => {
                    if let Some(first) = macs.insert(mac.clone(), i) {
                        self.push(
                            Problem::new(Code::DuplicateMac, path.clone().key("mac"), format!("MAC {mac} is already used by devices[{first}] ({})", cfg.devices[first].user))
                                .hint("each device is listed once (000 Phụ lục I); remove the duplicate or correct the MAC"),
                        );
                    }
                }
            }
            if let Some(target) = &d.move_to {
                match self.zone_kind(target) {
                    Some(k) if k.is_internal() => {}
                    Some(k) => self.push(
                        Problem::new(
                            Code::UnknownZone,
                            path.clone().key("move_to"),
                            format!("a device cannot be moved into uplink zone `{target}` ({k:?})"),
                        )
                        .hint("move it to an internal zone, e.g. quarantine"),
                    ),
                    None => self.push(
                        Problem::new(
                            Code::UnknownZone,
                            path.clone().key("move_to"),
                            format!("unknown zone `{target}`"),
                        )
                        .hint(self.zone_names_hint()),
                    ),
                }
                if d.ip.is_none() {
                    self.push(
                        Problem::new(
                            Code::AddressOutsideZone,
                            path.clone().key("move_to"),
                            "a device without an IP address cannot be moved",
                        )
                        .hint("give it a fixed `ip` first"),
                    );
                }
            }
            self.device_approval(i, d);
            let zone = cfg.zone(&d.zone);
            if zone.is_none() {
                self.push(
                    Problem::new(
                        Code::UnknownZone,
                        path.clone().key("zone"),
                        format!("device of {} is in unknown zone `{}`", d.user, d.zone),
                    )
                    .hint(self.zone_names_hint()),
                );
            }
            if let Some(ip) = d.ip {
                if let Some(z) = zone {
                    if !z.prefixes.iter().any(|p| p.contains(ip)) {
                        self.push(
                            Problem::new(
                                Code::AddressOutsideZone,
                                path.clone().key("ip"),
                                format!("address {ip} is outside zone `{}`", z.name),
                            )
                            .hint(format!(
                                "zone `{}` has {}",
                                z.name,
                                list(&z.prefixes)
                            )),
                        );
                    }
                }
                if let Some(first) = ips.insert(ip, i) {
                    self.push(
                        Problem::new(
                            Code::DuplicateAddress,
                            path.key("ip"),
                            format!("address {ip} is already assigned to devices[{first}]"),
                        )
                        .hint("two devices cannot share one address"),
                    );
                }
            }
        }
    }

    fn management(&mut self) {
        let cfg = self.config;
        for (i, z) in cfg.management.admin_zones.iter().enumerate() {
            let path = FieldPath::at("management").key("admin_zones").index(i);
            match self.zone_kind(z) {
                None => self.push(
                    Problem::new(Code::UnknownZone, path, format!("admin zone `{z}` does not exist")).hint(self.zone_names_hint()),
                ),
                Some(k) if !matches!(k, ZoneKind::Mgmt | ZoneKind::Lan) => self.push(
                    Problem::new(Code::AdminOnUplink, path, format!("the admin UI may not answer on zone `{z}` ({k:?})"))
                        .hint("admin access only from the management zone, optionally the staff LAN (003 §20.2.b)"),
                ),
                Some(_) => {}
            }
        }
    }

    fn ssh(&mut self) {
        let ssh = &self.config.management.ssh;
        let base = FieldPath::at("management").key("ssh");
        if ssh.enabled && ssh.authorized_keys.is_empty() {
            self.push(
                Problem::new(Code::SshSettings, base.clone().key("enabled"), "SSH is enabled but no public key may log in")
                    .hint("add the administrators' public keys to authorized_keys; SSH never accepts passwords"),
            );
        }
        for (i, key) in ssh.authorized_keys.iter().enumerate() {
            let mut words = key.split_whitespace();
            let kind = words.next().unwrap_or("");
            let blob = words.next().unwrap_or("");
            let known = matches!(
                kind,
                "ssh-ed25519"
                    | "ecdsa-sha2-nistp256"
                    | "ecdsa-sha2-nistp384"
                    | "ecdsa-sha2-nistp521"
                    | "sk-ssh-ed25519@openssh.com"
                    | "ssh-rsa"
            );
            let blob_ok = blob.len() >= 16
                && blob
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='));
            if !known || !blob_ok || key.contains(['\n', '\r']) {
                self.push(
                    Problem::new(
                        Code::SshSettings,
                        base.clone().key("authorized_keys").index(i),
                        "not an OpenSSH public key",
                    )
                    .hint("one line `ssh-ed25519 AAAA… name` (or ecdsa, ssh-rsa), without options"),
                );
            } else if kind == "ssh-rsa" && blob.len() < 500 {
                self.push(
                    Problem::new(
                        Code::SshSettings,
                        base.clone().key("authorized_keys").index(i),
                        "an RSA key shorter than 3072 bits",
                    )
                    .hint("use ssh-ed25519, or RSA of 3072 bits or more"),
                );
            }
        }
    }

    fn time(&mut self) {
        let t = &self.config.time;
        let base = FieldPath::at("time");
        for (i, server) in t.servers.iter().enumerate() {
            let ok = !server.is_empty()
                && server.len() <= 253
                && server
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
            if !ok {
                self.push(
                    Problem::new(Code::TimeSettings, base.clone().key("servers").index(i), format!("`{server}` is not an address or host name"))
                        .hint("an IPv4/IPv6 address or a host name, e.g. the SOC's or the TSLCD's NTP server"),
                );
            }
        }
        for (i, z) in t.serve_zones.iter().enumerate() {
            let path = base.clone().key("serve_zones").index(i);
            match self.zone_kind(z) {
                None => self.push(
                    Problem::new(
                        Code::UnknownZone,
                        path,
                        format!("zone `{z}` does not exist"),
                    )
                    .hint(self.zone_names_hint()),
                ),
                Some(k) if !k.is_internal() => self.push(
                    Problem::new(
                        Code::TimeSettings,
                        path,
                        format!("the gateway may not serve time to zone `{z}` ({k:?})"),
                    )
                    .hint("serve NTP to internal zones only (staff, servers, guests, management)"),
                ),
                Some(_) => {}
            }
        }
        if !(1..=60_000).contains(&t.max_offset_ms) {
            self.push(
                Problem::new(
                    Code::TimeSettings,
                    base.key("max_offset_ms"),
                    format!("{} ms is not an offset limit", t.max_offset_ms),
                )
                .hint("between 1 and 60000 milliseconds; 1000 is usual"),
            );
        }
    }

    fn logs(&mut self) {
        let l = &self.config.logs;
        let base = FieldPath::at("logs");
        if l.retention_days < 183 {
            self.push(
                Problem::new(Code::LogRetention, base.clone().key("retention_days"), format!("logs kept {} days is less than the required six months", l.retention_days))
                    .hint("keep monitoring logs at least 6 months: 183 days or more (000 §8.2.c, 003 §30.7.a)"),
            );
        }
        if l.segment_mb == 0 || l.max_disk_mb < l.segment_mb.saturating_mul(4) {
            self.push(
                Problem::new(
                    Code::LogRetention,
                    base.key("max_disk_mb"),
                    format!(
                        "a {} MB cap with {} MB segments cannot hold the logs",
                        l.max_disk_mb, l.segment_mb
                    ),
                )
                .hint("segment_mb ≥ 1 and max_disk_mb ≥ 4 × segment_mb"),
            );
        }
    }

    fn admin(&mut self) {
        let a = &self.config.admin;
        let base = FieldPath::at("admin");
        let mut weak = |field: &str, msg: String, hint: &str| {
            self.problems.push(
                Problem::new(Code::WeakAccountPolicy, base.clone().key(field), msg).hint(hint),
            );
        };
        if a.admin_min_length < 11 {
            weak(
                "admin_min_length",
                format!(
                    "administrator passwords of {} characters are too short",
                    a.admin_min_length
                ),
                "at least 11 characters (003 §15.1)",
            );
        }
        if a.user_min_length < 8 {
            weak(
                "user_min_length",
                format!(
                    "user passwords of {} characters are too short",
                    a.user_min_length
                ),
                "at least 8 characters (000 §6.2.đ)",
            );
        }
        if !a.require_all_classes {
            weak(
                "require_all_classes",
                "passwords must mix character classes".into(),
                "lower, upper, digit and special are required (000 §6.2.đ, 003 §15.1)",
            );
        }
        if a.admin_max_age_days == 0 || a.admin_max_age_days > 60 {
            weak(
                "admin_max_age_days",
                format!(
                    "administrator passwords must expire; {} days is not allowed",
                    a.admin_max_age_days
                ),
                "at most 60 days (003 §15.1.c)",
            );
        }
        if a.user_max_age_days == 0 || a.user_max_age_days > 90 {
            weak(
                "user_max_age_days",
                format!(
                    "user passwords must expire; {} days is not allowed",
                    a.user_max_age_days
                ),
                "at most 3 months (001 §5.1.đ)",
            );
        }
        if a.lockout_failures == 0 || a.lockout_failures > 5 {
            weak(
                "lockout_failures",
                format!("lock after {} failures is not allowed", a.lockout_failures),
                "lock after 3–5 failures (001 §5.2.b, 003 §16.2)",
            );
        }
        if a.lockout_window_minutes < 30 {
            weak(
                "lockout_window_minutes",
                format!(
                    "a {}-minute failure window is too short",
                    a.lockout_window_minutes
                ),
                "count failures over at least 30 minutes (003 §16.2)",
            );
        }
        if a.suspend_unused_days == 0 || a.suspend_unused_days > 30 {
            weak(
                "suspend_unused_days",
                format!(
                    "suspending unused accounts after {} days is not allowed",
                    a.suspend_unused_days
                ),
                "at most 30 days (003 §16.3)",
            );
        }
        if !a.mfa_for_admins {
            weak(
                "mfa_for_admins",
                "multi-factor authentication cannot be turned off for administrators".into(),
                "MFA is mandatory on important network devices (000 §8.1.h)",
            );
        }
        if a.session_idle_minutes == 0 || a.session_max_hours == 0 {
            weak(
                "session_idle_minutes",
                "sessions must time out".into(),
                "set session_idle_minutes and session_max_hours above 0",
            );
        } else if a.session_idle_minutes > 10 {
            weak(
                "session_idle_minutes",
                format!(
                    "idle sessions lock after {} minutes",
                    a.session_idle_minutes
                ),
                "at most 10 minutes (004 §8.1.c, §13.1.c)",
            );
        }
    }

    fn wifi(&mut self, today: NaiveDate) {
        let cfg = self.config;
        let mut ssids = HashSet::new();
        for (i, w) in cfg.wifi.iter().enumerate() {
            let path = FieldPath::at("wifi").index(i);
            if !ssids.insert(w.ssid.as_str()) || w.ssid.is_empty() || w.ssid.len() > 32 {
                self.push(Problem::new(
                    Code::DuplicateName,
                    path.clone().key("ssid"),
                    format!(
                        "SSID `{}` is empty, longer than 32 bytes or used twice",
                        w.ssid
                    ),
                ));
            }
            if self.zone_kind(&w.zone).is_none() {
                self.push(
                    Problem::new(
                        Code::UnknownZone,
                        path.clone().key("zone"),
                        format!("Wi-Fi `{}` is in unknown zone `{}`", w.ssid, w.zone),
                    )
                    .hint(self.zone_names_hint()),
                );
            }
            if let Some(kind) = self.zone_kind(&w.zone)
                && !matches!(kind, ZoneKind::Lan | ZoneKind::Guest)
            {
                self.push(
                    Problem::new(
                        Code::WifiInsecure,
                        path.clone().key("zone"),
                        format!("Wi-Fi `{}` is in zone `{}` of kind {kind:?}", w.ssid, w.zone),
                    )
                    .hint("Wi-Fi serves a staff LAN or a guest zone; servers, management and uplinks stay wired (000 §5.6)"),
                );
            }
            if w.security == WifiSecurity::Open {
                self.push(
                    Problem::new(
                        Code::WifiInsecure,
                        path.clone().key("security"),
                        format!("Wi-Fi `{}` is open", w.ssid),
                    )
                    .hint("Wi-Fi needs a password with WPA2 or WPA3 (004 §7.2, 001 §5.1.d)"),
                );
            }
            if w.passphrase == crate::secrets::HIDDEN {
                self.push(
                    Problem::new(
                        Code::WifiInsecure,
                        path.clone().key("passphrase"),
                        format!(
                            "the passphrase of `{}` is the hidden placeholder, and no running network `{}` has one to keep",
                            w.ssid, w.ssid
                        ),
                    )
                    .hint("write the passphrase itself (a hidden value is kept only for an SSID that already exists)"),
                );
            } else {
                match WifiNetwork::passphrase_problem(&w.ssid, &w.passphrase) {
                    None => {}
                    Some(PassphraseProblem::NotAscii) => self.push(
                        Problem::new(
                            Code::WifiInsecure,
                            path.clone().key("passphrase"),
                            format!("the passphrase of `{}` has characters other than printable ASCII", w.ssid),
                        )
                        .hint("WPA2/WPA3 passphrases are printable ASCII: letters without accents, digits, punctuation, spaces"),
                    ),
                    Some(PassphraseProblem::Length(len)) => self.push(
                        Problem::new(
                            Code::WifiInsecure,
                            path.clone().key("passphrase"),
                            format!("the passphrase of `{}` has {len} characters", w.ssid),
                        )
                        .hint("a strong Wi-Fi passphrase has 12–63 characters (004 §7.2)"),
                    ),
                    Some(PassphraseProblem::ContainsSsid) => self.push(
                        Problem::new(
                            Code::WifiInsecure,
                            path.clone().key("passphrase"),
                            format!("the passphrase of `{}` contains the network's name", w.ssid),
                        )
                        .hint("a passphrase that contains the SSID is guessed first (004 §7.2)"),
                    ),
                }
            }
            match w.changed_on() {
                None => self.push(
                    Problem::new(
                        Code::Schema,
                        path.key("passphrase_changed"),
                        format!("`{}` is not a date", w.passphrase_changed),
                    )
                    .hint("write YYYY-MM-DD"),
                ),
                Some(changed) => {
                    let max = w.rotation_period_days();
                    let age = (today - changed).num_days();
                    if age > i64::from(max) {
                        self.push(
                            Problem::new(
                                Code::WifiStalePassphrase,
                                path.key("passphrase_changed"),
                                format!(
                                    "the passphrase of `{}` was last changed {age} days ago",
                                    w.ssid
                                ),
                            )
                            .hint(format!(
                                "change it at least every {max} days (004 §7.2: every 6 months)"
                            )),
                        );
                    }
                }
            }
        }
    }
}

fn list(prefixes: &[IpNetwork]) -> String {
    if prefixes.is_empty() {
        return "no prefixes".into();
    }
    prefixes
        .iter()
        .map(std::string::ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
