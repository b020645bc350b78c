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
use crate::text::Text;

/// Check a configuration as of `today` (Wi-Fi passphrase age depends on the date).
pub fn validate(config: &Config, today: NaiveDate) -> Vec<Problem> {
    validate_change(config, today, &[])
}

/// As [`validate`], for a change from a configuration whose Wi-Fi networks were `running`: a
/// network the change leaves exactly as it runs is not refused for an overdue passphrase (that
/// is the running box's event, 004 §7.2, not the change's fault); one it adds or edits is.
pub fn validate_change(
    config: &Config,
    today: NaiveDate,
    running: &[crate::model::WifiNetwork],
) -> Vec<Problem> {
    let mut v = Validator {
        config,
        problems: Vec::new(),
        running_wifi: running,
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
    v.radios();
    v.time();
    v.ssh();
    v.problems
}

struct Validator<'a> {
    config: &'a Config,
    problems: Vec<Problem>,
    /// The running configuration's Wi-Fi networks (for a change).
    running_wifi: &'a [crate::model::WifiNetwork],
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

    fn zone_names_hint(&self) -> Text {
        let names = self
            .config
            .zones
            .iter()
            .map(|z| format!("`{}`", z.name))
            .collect::<Vec<_>>()
            .join(", ");
        say!("known zones: {names}", "các vùng mạng hiện có: {names}")
    }

    /// Names of one section are valid and unique; `what` names an entry in both languages.
    fn check_names<'n>(
        &mut self,
        section: &str,
        names: impl Iterator<Item = &'n str>,
        what: (&str, &str),
    ) {
        let (what_en, what_vi) = what;
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, name) in names.enumerate() {
            let path = FieldPath::at(section).index(i).key("name");
            if !valid_name(name) {
                self.push(
                    Problem::new(
                        Code::InvalidName,
                        path.clone(),
                        say!(
                            "{what_en} name `{name}` is not valid",
                            "tên {what_vi} `{name}` không hợp lệ"
                        ),
                    )
                    .hint(say!(
                        "use 1–63 characters from a–z, 0–9, `-` and `_`",
                        "dùng 1–63 ký tự trong a–z, 0–9, `-` và `_`"
                    )),
                );
            }
            if let Some(first) = seen.insert(name, i) {
                self.push(
                    Problem::new(
                        Code::DuplicateName,
                        path,
                        say!(
                            "{what_en} `{name}` is defined twice",
                            "{what_vi} `{name}` được khai báo hai lần"
                        ),
                    )
                    .hint(say!(
                        "the first definition is `{section}[{first}]`; names must be unique",
                        "khai báo đầu tiên là `{section}[{first}]`; mỗi tên chỉ dùng một lần"
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
                    say!(
                        "host_id `{}` is not valid",
                        "mã thiết bị `{}` không hợp lệ",
                        g.host_id
                    ),
                )
                .hint(say!(
                    "the SOC identifies this gateway by host_id: 1–63 characters from a–z, 0–9, `-`",
                    "trung tâm giám sát (SOC) nhận biết thiết bị này qua `host_id`: 1–63 ký tự trong a–z, 0–9, `-`"
                )),
            );
        }
    }

    /// A DHCP range lies in one of the zone's prefixes, on an interface of the zone that has
    /// an address there (the router the clients get), in order, and not over that address.
    fn dhcp_range(&mut self, i: usize, z: &crate::model::Zone, d: &crate::model::ZoneDhcp) {
        let path = FieldPath::at("zones").index(i).key("dhcp");
        let problem =
            |why: Text, hint: Text| Problem::new(Code::DhcpRange, path.clone(), why).hint(hint);
        let mut found = Vec::new();
        if !z.kind.is_internal() {
            found.push(problem(
                say!(
                    "zone `{}` is an uplink zone: the gateway hands out no addresses there",
                    "vùng `{}` là vùng đường truyền: thiết bị không cấp địa chỉ ở đó",
                    z.name
                ),
                say!(
                    "DHCP ranges belong to internal zones",
                    "dải cấp phát địa chỉ (DHCP) chỉ đặt cho vùng nội bộ"
                ),
            ));
        } else if !z
            .prefixes
            .iter()
            .any(|p| p.contains(d.from) && p.contains(d.to))
        {
            found.push(problem(
                say!(
                    "{} – {} is not inside one of zone `{}`'s prefixes",
                    "{} – {} không nằm trong một dải địa chỉ của vùng `{}`",
                    d.from,
                    d.to,
                    z.name
                ),
                say!(
                    "both ends of the range lie in the same prefix of the zone",
                    "hai đầu của dải phải cùng nằm trong một dải địa chỉ của vùng"
                ),
            ));
        } else if d.from > d.to {
            found.push(problem(
                say!(
                    "the range starts at {} after it ends at {}",
                    "dải bắt đầu ở {} sau địa chỉ kết thúc {}",
                    d.from,
                    d.to
                ),
                say!("from is the lower address", "`from` là địa chỉ nhỏ hơn"),
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
                    say!(
                        "no interface of zone `{}` has an address in {}'s prefix",
                        "không giao diện mạng nào của vùng `{}` có địa chỉ trong dải chứa {}",
                        z.name,
                        d.from
                    ),
                    say!(
                        "give the zone's interface an address in that prefix: it is the clients' router",
                        "đặt cho giao diện mạng của vùng một địa chỉ trong dải đó: đó là cổng ra của các máy"
                    ),
                )),
                Some(gw) if d.from <= gw && gw <= d.to => found.push(problem(
                    say!(
                        "the range includes the gateway's own address {gw}",
                        "dải chứa cả địa chỉ của chính thiết bị {gw}"
                    ),
                    say!(
                        "start the range above (or end it below) the gateway's address",
                        "bắt đầu dải trên (hoặc kết thúc dưới) địa chỉ của thiết bị"
                    ),
                )),
                Some(_) => {}
            }
        }
        if d.lease_minutes < 2 {
            found.push(problem(
                say!(
                    "lease time {} minutes is too short",
                    "thời hạn cấp địa chỉ {} phút là quá ngắn",
                    d.lease_minutes
                ),
                say!(
                    "at least 2 minutes; 720 (12 hours) is the default",
                    "ít nhất 2 phút; mặc định là 720 (12 giờ)"
                ),
            ));
        }
        for p in found {
            self.push(p);
        }
    }

    fn zones(&mut self) {
        let cfg = self.config;
        self.check_names(
            "zones",
            cfg.zones.iter().map(|z| z.name.as_str()),
            ("zone", "vùng mạng"),
        );
        if cfg.zone(GATEWAY_ZONE).is_some() {
            let i = cfg
                .zones
                .iter()
                .position(|z| z.name == GATEWAY_ZONE)
                .unwrap_or(0);
            self.push(
                Problem::new(
                    Code::InvalidName,
                    FieldPath::at("zones").index(i).key("name"),
                    say!("`gateway` is reserved", "tên `gateway` đã được dành riêng"),
                )
                .hint(say!(
                    "policies use `to = \"gateway\"` for the appliance itself; pick another zone name",
                    "chính sách dùng `to = \"gateway\"` để chỉ chính thiết bị; hãy chọn tên vùng khác"
                )),
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
                        say!(
                            "zone `{}` is an uplink zone (`{}`) and cannot list prefixes",
                            "vùng `{}` là vùng đường truyền (`{}`), không được khai báo dải địa chỉ",
                            z.name,
                            word(&z.kind)
                        ),
                    )
                    .hint(say!(
                        "uplink zones are everything outside; TSLCD prefixes belong in the uplink's government_prefixes",
                        "vùng đường truyền là toàn bộ phía ngoài; dải địa chỉ của mạng TSLCD khai báo ở `government_prefixes` của đường truyền"
                    )),
                );
            }
            if z.kind.is_internal() && z.prefixes.is_empty() {
                self.push(
                    Problem::new(
                        Code::InternalZoneWithoutPrefixes,
                        FieldPath::at("zones").index(i).key("prefixes"),
                        say!(
                            "internal zone `{}` has no prefixes",
                            "vùng nội bộ `{}` chưa có dải địa chỉ",
                            z.name
                        ),
                    )
                    .hint(say!(
                        "anti-spoofing and policies need the zone's address ranges, e.g. `prefixes = [\"10.10.0.0/24\"]`",
                        "chống giả mạo địa chỉ và các chính sách cần dải địa chỉ của vùng, ví dụ `prefixes = [\"10.10.0.0/24\"]`"
                    )),
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
                            say!(
                                "prefix {} of zone `{}` overlaps {} of zone `{}`",
                                "dải {} của vùng `{}` chồng lấn dải {} của vùng `{}`",
                                b.3,
                                b.2.name,
                                a.3,
                                a.2.name
                            ),
                        )
                        .hint(say!(
                            "each address must belong to exactly one zone (003 §3.1.a); split or renumber the ranges",
                            "mỗi địa chỉ chỉ thuộc đúng một vùng mạng (003 §3.1.a); hãy chia nhỏ hoặc đánh lại địa chỉ"
                        )),
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
                        say!(
                            "`{}` is not a Linux interface name",
                            "`{}` không phải tên giao diện mạng Linux hợp lệ",
                            itf.name
                        ),
                    )
                    .hint(say!(
                        "1–15 characters, no `/` or spaces",
                        "1–15 ký tự, không có `/` hay dấu cách"
                    )),
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
                    Some(say!(
                        "`{port}` is not a Linux interface name",
                        "`{port}` không phải tên giao diện mạng Linux hợp lệ"
                    ))
                } else if itf.role.is_uplink() {
                    Some(say!(
                        "uplink `{}` cannot bridge LAN ports",
                        "đường truyền `{}` không được nối cầu các cổng LAN",
                        itf.name
                    ))
                } else if clash {
                    Some(say!(
                        "port `{port}` is already an interface or another bridge's port",
                        "cổng `{port}` đã là một giao diện mạng hoặc thuộc cầu nối khác"
                    ))
                } else {
                    None
                };
                if let Some(why) = why {
                    self.push(
                        Problem::new(Code::InvalidName, path.clone().key("ports").index(pi), why)
                            .hint(say!(
                                "each of the appliance's LAN ports belongs to at most one internal interface",
                                "mỗi cổng LAN của thiết bị thuộc nhiều nhất một giao diện mạng nội bộ"
                            )),
                    );
                }
            }
            if let Some(first) = seen.insert(itf.name.as_str(), i) {
                self.push(
                    Problem::new(
                        Code::DuplicateName,
                        path.clone().key("name"),
                        say!(
                            "interface `{}` is defined twice",
                            "giao diện mạng `{}` được khai báo hai lần",
                            itf.name
                        ),
                    )
                    .hint(say!(
                        "the first definition is `interfaces[{first}]`",
                        "khai báo đầu tiên là `interfaces[{first}]`"
                    )),
                );
            }
            let Some(zone) = cfg.zone(&itf.zone) else {
                self.push(
                    Problem::new(
                        Code::UnknownZone,
                        path.key("zone"),
                        say!(
                            "interface `{}` is in unknown zone `{}`",
                            "giao diện mạng `{}` thuộc vùng `{}` không tồn tại",
                            itf.name,
                            itf.zone
                        ),
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
                        say!(
                            "interface `{}` has role `{}` but zone `{}` is of kind `{}`",
                            "giao diện mạng `{}` có vai trò `{}` nhưng vùng `{}` thuộc loại `{}`",
                            itf.name,
                            word(&itf.role),
                            zone.name,
                            word(&zone.kind)
                        ),
                    )
                    .hint(say!(
                        "an interface's role and its zone's kind must agree, e.g. `role = \"guest\"` in a zone of `kind = \"guest\"`",
                        "vai trò của giao diện mạng phải khớp loại vùng, ví dụ `role = \"guest\"` trong vùng có `kind = \"guest\"`"
                    )),
                );
            }
            if zone.kind.is_internal() {
                for (ai, addr) in itf.addresses.iter().enumerate() {
                    if !zone.prefixes.iter().any(|p| p.contains(addr.ip())) {
                        self.push(
                            Problem::new(
                                Code::AddressOutsideZone,
                                path.clone().key("addresses").index(ai),
                                say!(
                                    "address {} of interface `{}` is outside zone `{}`",
                                    "địa chỉ {} của giao diện mạng `{}` nằm ngoài vùng `{}`",
                                    addr,
                                    itf.name,
                                    zone.name
                                ),
                            )
                            .hint(zone_has(zone)),
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
            ("address group", "nhóm địa chỉ"),
        );
        for (i, g) in cfg.address_groups.iter().enumerate() {
            if g.prefixes.is_empty() {
                self.push(
                    Problem::new(
                        Code::UnknownAddressGroup,
                        FieldPath::at("address_groups").index(i).key("prefixes"),
                        say!(
                            "address group `{}` is empty",
                            "nhóm địa chỉ `{}` đang trống",
                            g.name
                        ),
                    )
                    .hint(say!(
                        "list at least one prefix, or remove the group",
                        "khai báo ít nhất một dải địa chỉ, hoặc xóa nhóm"
                    )),
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
                        say!(
                            "unknown address group `{name}`",
                            "nhóm địa chỉ `{name}` không tồn tại"
                        ),
                    )
                    .hint(if known.is_empty() {
                        say!(
                            "define it under `[[address_groups]]`",
                            "khai báo nhóm trong mục `[[address_groups]]`"
                        )
                    } else {
                        let known = known.join("`, `");
                        say!("known groups: `{known}`", "các nhóm hiện có: `{known}`")
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
                None => Some(say!("no zone named `{z}`", "không có vùng mạng tên `{z}`")),
                Some(zone) if !zone.kind.is_internal() => Some(say!(
                    "`{z}` is an uplink zone",
                    "`{z}` là vùng đường truyền"
                )),
                Some(zone) if zone.kind == crate::model::ZoneKind::Mgmt => Some(say!(
                    "`{z}` is the management zone: unapproved machines there would include the admin's own",
                    "`{z}` là vùng quản trị: máy chưa phê duyệt ở đó sẽ gồm cả máy của quản trị viên"
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
                    .hint(say!(
                        "name internal zones (staff, guest …) whose unknown machines wait for approval",
                        "ghi tên các vùng nội bộ (cán bộ, khách …) mà máy lạ phải chờ phê duyệt"
                    )),
                );
            }
        }
        for (i, k) in nac.quarantine_on.iter().enumerate() {
            if !["c2", "scan", "mining", "rogue-dhcp", "guessing"].contains(&k.as_str()) {
                self.push(
                    Problem::new(
                        Code::NacSettings,
                        FieldPath::at("nac").key("quarantine_on").index(i),
                        say!(
                            "`{k}` is not a kind of security event",
                            "`{k}` không phải một loại sự kiện an toàn thông tin"
                        ),
                    )
                    .hint(say!(
                        "`c2`, `scan`, `mining`, `rogue-dhcp` or `guessing`",
                        "`c2`, `scan`, `mining`, `rogue-dhcp` hoặc `guessing`"
                    )),
                );
            }
        }
        for (i, a) in nac.allowed_dhcp_servers.iter().enumerate() {
            if normalize_mac(a).is_none() && a.parse::<IpAddr>().is_err() {
                self.push(
                    Problem::new(
                        Code::NacSettings,
                        FieldPath::at("nac").key("allowed_dhcp_servers").index(i),
                        say!(
                            "`{a}` is neither a MAC nor an IP address",
                            "`{a}` không phải địa chỉ MAC hay địa chỉ IP"
                        ),
                    )
                    .hint(say!(
                        "the server's MAC (aa:bb:cc:dd:ee:ff) or address",
                        "địa chỉ MAC (aa:bb:cc:dd:ee:ff) hoặc địa chỉ IP của máy chủ DHCP"
                    )),
                );
            }
        }
        if nac.portal_port < 1024 && nac.portal_port != 80 {
            self.push(
                Problem::new(
                    Code::NacSettings,
                    FieldPath::at("nac").key("portal_port"),
                    say!(
                        "port {} is reserved",
                        "cổng {} đã được dành riêng",
                        nac.portal_port
                    ),
                )
                .hint(say!("8081 is the default", "mặc định là 8081")),
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
                    say!(
                        "severity {s} does not exist",
                        "không có mức nghiêm trọng {s}"
                    ),
                )
                .hint(say!(
                    "1 (high) to 4 (informational): rules of that severity or higher drop",
                    "từ 1 (cao) đến 4 (thông tin): luật ở mức đó hoặc cao hơn sẽ chặn gói tin"
                )),
            );
        }
        for (i, u) in ids.uplinks.iter().enumerate() {
            if self.config.uplink(u).is_none() {
                self.push(
                    Problem::new(
                        Code::IdsSettings,
                        base.clone().key("uplinks").index(i),
                        say!(
                            "no uplink named `{u}`",
                            "không có đường truyền tên `{u}`"
                        ),
                    )
                    .hint(say!(
                        "name uplinks from `[[uplinks]]`, or leave the list empty for all",
                        "ghi tên đường truyền trong `[[uplinks]]`, hoặc để trống để áp dụng cho tất cả"
                    )),
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
                        say!(
                            "no internal zone named `{z}`",
                            "không có vùng nội bộ tên `{z}`"
                        ),
                    )
                    .hint(say!(
                        "name internal zones from `[[zones]]` (not the Internet or the TSLCD), or leave the list empty for all",
                        "ghi tên vùng nội bộ trong `[[zones]]` (không phải Internet hay mạng TSLCD), hoặc để trống để áp dụng cho tất cả"
                    )),
                );
            }
        }
        for u in ids.fail_open_by_uplink.keys() {
            if self.config.uplink(u).is_none() {
                self.push(
                    Problem::new(
                        Code::IdsSettings,
                        base.clone().key("fail_open_by_uplink").key(u),
                        say!(
                            "no uplink named `{u}`",
                            "không có đường truyền tên `{u}`"
                        ),
                    )
                    .hint(say!(
                        "name uplinks from `[[uplinks]]`: `true` lets packets pass when the IPS cannot judge them, `false` drops them",
                        "ghi tên đường truyền trong `[[uplinks]]`: `true` cho gói tin đi qua khi IPS không kịp xét, `false` thì chặn"
                    )),
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
                    say!(
                        "denied packets are logged at 0 per second",
                        "gói tin bị chặn được ghi nhật ký với tốc độ 0 mỗi giây"
                    ),
                )
                .hint(say!(
                    "abnormal connections must be logged (001 §6.2); use e.g. 20",
                    "kết nối bất thường phải được ghi nhật ký (001 §6.2); ví dụ dùng 20"
                )),
            );
        }
        if fw.new_connections_per_second == 0 {
            self.push(
                Problem::new(
                    Code::FirewallSettings,
                    base.clone().key("new_connections_per_second"),
                    say!(
                        "0 new connections per second would cut the gateway off",
                        "giới hạn 0 kết nối mới mỗi giây sẽ cắt mọi truy cập qua thiết bị"
                    ),
                )
                .hint(say!("use e.g. 50", "ví dụ dùng 50")),
            );
        }
        if !(10..=3600).contains(&fw.commit_confirm_seconds) {
            self.push(
                Problem::new(
                    Code::FirewallSettings,
                    base.key("commit_confirm_seconds"),
                    say!(
                        "{} s is not a usable confirmation window",
                        "{} giây không phải thời hạn xác nhận dùng được",
                        fw.commit_confirm_seconds
                    ),
                )
                .hint(say!(
                    "between 10 and 3600 seconds; the default is 120",
                    "từ 10 đến 3600 giây; mặc định là 120"
                )),
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
                        say!(
                            "policy source zone `{}` does not exist",
                            "vùng nguồn `{}` của chính sách không tồn tại",
                            pol.from
                        ),
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
                        say!(
                            "policy destination zone `{}` does not exist",
                            "vùng đích `{}` của chính sách không tồn tại",
                            pol.to
                        ),
                    )
                    .hint({
                        let known = self.zone_names_hint();
                        Text::new(
                            format!("{}; or `gateway` for the appliance itself", known.en),
                            format!("{}; hoặc `gateway` để chỉ chính thiết bị", known.vi),
                        )
                    }),
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
                            say!(
                                "unknown service `{s}`",
                                "dịch vụ `{s}` không tồn tại"
                            ),
                        )
                        .hint({
                            let names = names.join("`, `");
                            say!(
                                "built-in services: `{names}`, `any`; or define it under `[[services]]`",
                                "các dịch vụ có sẵn: `{names}`, `any`; hoặc khai báo trong `[[services]]`"
                            )
                        }),
                    );
                }
            }
            if pol.action != Action::Allow {
                continue;
            }
            match (from, to) {
                (Some(ZoneKind::Guest), Some(ZoneKind::Tslcd)) => self.push(
                    Problem::new(
                        Code::GuestToTslcd,
                        path.clone().key("to"),
                        say!(
                            "guest zone `{}` may not reach the TSLCD",
                            "vùng khách `{}` không được truy cập mạng TSLCD",
                            pol.from
                        ),
                    )
                    .hint(say!(
                        "computers on the TSLCD must not share a network with Wi-Fi guests (000 §5.6.b); remove this policy",
                        "máy tính nối mạng TSLCD không được dùng chung mạng với khách Wi-Fi (000 §5.6.b); hãy xóa chính sách này"
                    )),
                ),
                (Some(ZoneKind::Guest), Some(k)) if k.is_internal() && pol.to != pol.from => self.push(
                    Problem::new(
                        Code::GuestToInternal,
                        path.clone().key("to"),
                        say!(
                            "guest zone `{}` may not reach internal zone `{}`",
                            "vùng khách `{}` không được truy cập vùng nội bộ `{}`",
                            pol.from,
                            pol.to
                        ),
                    )
                    .hint(say!(
                        "guests reach only the Internet and the gateway's DHCP/DNS (000 §5.6.b)",
                        "khách chỉ được ra Internet và dùng DHCP/DNS của thiết bị (000 §5.6.b)"
                    )),
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
                            Problem::new(
                                Code::UplinkToGateway,
                                path.clone().key("services"),
                                say!(
                                    "uplink zone `{}` may not reach the gateway's admin services",
                                    "vùng đường truyền `{}` không được truy cập các dịch vụ quản trị của thiết bị",
                                    pol.from
                                ),
                            )
                            .hint(say!(
                                "the admin UI and SSH answer only on the management zone (003 §20.2.b); use a VPN to the management zone",
                                "giao diện quản trị và SSH chỉ trả lời trong vùng quản trị (003 §20.2.b); hãy dùng VPN vào vùng quản trị"
                            )),
                        );
                    }
                    if k == ZoneKind::Guest && touches_admin {
                        self.push(
                            Problem::new(
                                Code::GuestToInternal,
                                path.clone().key("services"),
                                say!(
                                    "guest zone `{}` may not reach the gateway's admin services",
                                    "vùng khách `{}` không được truy cập các dịch vụ quản trị của thiết bị",
                                    pol.from
                                ),
                            )
                            .hint(say!(
                                "guests may use only `dhcp`, `dns` and `ntp` on the gateway",
                                "khách chỉ được dùng `dhcp`, `dns` và `ntp` của thiết bị"
                            )),
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
            ("uplink", "đường truyền"),
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
                Problem::new(
                    Code::TooFewIsps,
                    path,
                    say!(
                        "{isps} Internet uplink(s) configured; at least two are required",
                        "mới có {isps} đường Internet; cần ít nhất hai"
                    ),
                )
                .hint(say!(
                    "two ISPs on different domestic infrastructure, with load sharing (000 §8.1.k, 003 §8.1.đ)",
                    "hai nhà cung cấp trên hạ tầng trong nước khác nhau, có chia tải (000 §8.1.k, 003 §8.1.đ)"
                )),
            );
        }
        for (i, up) in cfg.uplinks.iter().enumerate() {
            let path = FieldPath::at("uplinks").index(i);
            match cfg.interface(&up.interface) {
                None => self.push(
                    Problem::new(
                        Code::UnknownInterface,
                        path.clone().key("interface"),
                        say!(
                            "uplink `{}` uses unknown interface `{}`",
                            "đường truyền `{}` dùng giao diện mạng `{}` không tồn tại",
                            up.name,
                            up.interface
                        ),
                    )
                    .hint(say!(
                        "declare it under `[[interfaces]]` with role `wan-internet` or `wan-tslcd`",
                        "khai báo giao diện trong `[[interfaces]]` với vai trò `wan-internet` hoặc `wan-tslcd`"
                    )),
                ),
                Some(itf) => {
                    let want = match up.kind {
                        UplinkKind::Internet => Role::WanInternet,
                        UplinkKind::Tslcd => Role::WanTslcd,
                    };
                    if itf.role != want {
                        self.push(
                            Problem::new(
                                Code::UplinkNotWanInterface,
                                path.clone().key("interface"),
                                say!(
                                    "uplink `{}` of kind `{}` uses interface `{}` whose role is `{}`",
                                    "đường truyền `{}` loại `{}` dùng giao diện mạng `{}` có vai trò `{}`",
                                    up.name,
                                    word(&up.kind),
                                    itf.name,
                                    word(&itf.role)
                                ),
                            )
                            .hint(say!(
                                "give interface `{}` role `{}`",
                                "đặt vai trò `{1}` cho giao diện mạng `{0}`",
                                itf.name,
                                word(&want)
                            )),
                        );
                    }
                }
            }
            if up.kind == UplinkKind::Internet && up.weight == 0 {
                self.push(
                    Problem::new(
                        Code::ZeroWeight,
                        path.clone().key("weight"),
                        say!(
                            "uplink `{}` has weight 0",
                            "đường truyền `{}` có trọng số 0",
                            up.name
                        ),
                    )
                    .hint(say!(
                        "weights share new connections between ISPs; use 1 or more (a weight of 0 would never carry traffic)",
                        "trọng số chia kết nối mới giữa các nhà cung cấp; dùng 1 trở lên (trọng số 0 sẽ không bao giờ mang lưu lượng)"
                    )),
                );
            }
            if up.probes.is_empty() {
                self.push(
                    Problem::new(
                        Code::UplinkWithoutProbes,
                        path.clone().key("probes"),
                        say!(
                            "uplink `{}` has no health probes",
                            "đường truyền `{}` chưa có mục tiêu kiểm tra",
                            up.name
                        ),
                    )
                    .hint(say!(
                        "add at least two targets, e.g. `{{ kind = \"icmp\", target = \"…\" }}`, so failover can judge the link",
                        "thêm ít nhất hai mục tiêu, ví dụ `{{ kind = \"icmp\", target = \"…\" }}`, để việc chuyển đường truyền đánh giá được đường này"
                    )),
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
                    Problem::new(
                        Code::HealthThresholds,
                        path.clone().key("health"),
                        say!(
                            "health policy of uplink `{}` is inconsistent",
                            "các ngưỡng kiểm tra tình trạng của đường truyền `{}` mâu thuẫn nhau",
                            up.name
                        ),
                    )
                    .hint(say!(
                        "need `up_loss_percent` ≤ `down_loss_percent` ≤ 100, 1 ≤ `min_healthy_targets` ≤ number of probes, `window` ≥ 4, `interval_ms` ≥ 50, `timeout_ms` ≥ 1, 1 ≤ `fast_down_losses` ≤ `window`",
                        "cần `up_loss_percent` ≤ `down_loss_percent` ≤ 100, 1 ≤ `min_healthy_targets` ≤ số mục tiêu, `window` ≥ 4, `interval_ms` ≥ 50, `timeout_ms` ≥ 1, 1 ≤ `fast_down_losses` ≤ `window`"
                    )),
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
                            say!(
                                "`{z}` is not an internal zone",
                                "`{z}` không phải vùng nội bộ"
                            ),
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
                        say!(
                            "the TSLCD carries only government prefixes; nothing can be pinned to it",
                            "mạng TSLCD chỉ mang các dải địa chỉ của cơ quan nhà nước; không thể gắn cố định lưu lượng khác vào đó"
                        ),
                    )
                    .hint(say!(
                        "pin to an Internet uplink",
                        "hãy gắn vào một đường Internet"
                    )),
                );
            }
            match up.kind {
                UplinkKind::Tslcd => {
                    if up.government_prefixes.is_empty() {
                        self.push(
                            Problem::new(
                                Code::TslcdWithoutPrefixes,
                                path.clone().key("government_prefixes"),
                                say!(
                                    "TSLCD uplink `{}` lists no government prefixes",
                                    "đường TSLCD `{}` chưa khai báo dải địa chỉ của cơ quan nhà nước",
                                    up.name
                                ),
                            )
                            .hint(say!(
                                "list the provincial data centre and shared-application prefixes reachable over the TSLCD (003 §9)",
                                "khai báo dải địa chỉ của trung tâm dữ liệu tỉnh và các ứng dụng dùng chung đi qua mạng TSLCD (003 §9)"
                            )),
                        );
                    }
                    for (pi, gp) in up.government_prefixes.iter().enumerate() {
                        if let Some(clash) = internal.iter().find(|p| prefixes_overlap(p, gp)) {
                            self.push(
                                Problem::new(
                                    Code::TslcdPrefixOverlapsInternal,
                                    path.clone().key("government_prefixes").index(pi),
                                    say!(
                                        "government prefix {gp} overlaps internal prefix {clash}",
                                        "dải của cơ quan nhà nước {gp} chồng lấn dải nội bộ {clash}"
                                    ),
                                )
                                .hint(say!(
                                    "government prefixes route only via the TSLCD; an overlap would send LAN traffic out or leak TSLCD traffic",
                                    "dải của cơ quan nhà nước chỉ đi qua mạng TSLCD; chồng lấn sẽ đưa lưu lượng LAN ra ngoài hoặc làm lộ lưu lượng TSLCD"
                                )),
                            );
                        }
                    }
                }
                UplinkKind::Internet => {
                    if !up.government_prefixes.is_empty() {
                        self.push(
                            Problem::new(
                                Code::TslcdWithoutPrefixes,
                                path.clone().key("government_prefixes"),
                                say!(
                                    "Internet uplink `{}` cannot carry government prefixes",
                                    "đường Internet `{}` không được mang dải địa chỉ của cơ quan nhà nước",
                                    up.name
                                ),
                            )
                            .hint(say!(
                                "government prefixes belong to the TSLCD uplink only (never leaked through an ISP)",
                                "dải của cơ quan nhà nước chỉ thuộc đường TSLCD (không bao giờ đi qua nhà cung cấp Internet)"
                            )),
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
            ("port forward", "chuyển tiếp cổng"),
        );
        for (i, fw) in cfg.port_forwards.iter().enumerate() {
            let path = FieldPath::at("port_forwards").index(i);
            if cfg.uplink(&fw.uplink).is_none() {
                self.push(Problem::new(
                    Code::UnknownUplink,
                    path.clone().key("uplink"),
                    say!(
                        "unknown uplink `{}`",
                        "đường truyền `{}` không tồn tại",
                        fw.uplink
                    ),
                ));
            }
            let in_servers = cfg
                .zones
                .iter()
                .filter(|z| z.kind == ZoneKind::Servers)
                .any(|z| z.prefixes.iter().any(|p| p.contains(fw.to_address)));
            if !in_servers {
                self.push(
                    Problem::new(
                        Code::PortForwardTarget,
                        path.key("to_address"),
                        say!(
                            "published address {} is not in a servers zone",
                            "địa chỉ công bố {} không thuộc vùng máy chủ",
                            fw.to_address
                        ),
                    )
                    .hint(say!(
                        "publish only servers (004 §8.1.h); move the host to the servers zone first",
                        "chỉ công bố máy chủ (004 §8.1.h); hãy chuyển máy vào vùng máy chủ trước"
                    )),
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
                    say!(
                        "personal device of {} is approved without the head of unit's consent",
                        "thiết bị cá nhân của {} được phê duyệt khi chưa có sự đồng ý của thủ trưởng đơn vị",
                        d.user
                    ),
                )
                .hint(say!(
                    "name the head of unit who agreed (`head_of_unit`), or leave it pending",
                    "ghi tên thủ trưởng đơn vị đã đồng ý (`head_of_unit`), hoặc để chờ phê duyệt"
                )),
            );
        }
        for (j, c) in d.checklist.iter().enumerate() {
            if !crate::model::APPROVAL_CHECKLIST.contains(&c.as_str()) {
                self.push(
                    Problem::new(
                        Code::DeviceApproval,
                        path.clone().key("checklist").index(j),
                        say!("`{c}` is not a check", "`{c}` không phải một mục kiểm tra"),
                    )
                    .hint({
                        let all = crate::model::APPROVAL_CHECKLIST.join("`, `");
                        say!("the checks: `{all}`", "các mục kiểm tra: `{all}`")
                    }),
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
                    say!(
                        "{} is a randomised (locally administered) MAC, allowed only in guest zones here",
                        "{} là địa chỉ MAC ngẫu nhiên (quản lý cục bộ), ở đây chỉ được dùng trong vùng khách",
                        d.mac
                    ),
                )
                .hint(say!(
                    "ask the user to turn off MAC randomisation for this network, or put the device in a guest zone",
                    "đề nghị người dùng tắt MAC ngẫu nhiên cho mạng này, hoặc đưa thiết bị vào vùng khách"
                )),
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
                        say!(
                            "`{}` is not a MAC address",
                            "`{}` không phải địa chỉ MAC",
                            d.mac
                        ),
                    )
                    .hint(say!(
                        "write it as aa:bb:cc:dd:ee:ff",
                        "viết theo dạng aa:bb:cc:dd:ee:ff"
                    )),
                ),
                Some(mac) => {
                    if let Some(first) = macs.insert(mac.clone(), i) {
                        self.push(
                            Problem::new(
                                Code::DuplicateMac,
                                path.clone().key("mac"),
                                say!(
                                    "MAC {mac} is already used by `devices[{first}]` ({})",
                                    "địa chỉ MAC {mac} đã dùng cho `devices[{first}]` ({})",
                                    cfg.devices[first].user
                                ),
                            )
                            .hint(say!(
                                "each device is listed once (000 Annex I); remove the duplicate or correct the MAC",
                                "mỗi thiết bị chỉ có một dòng (000 Phụ lục I); hãy xóa dòng trùng hoặc sửa địa chỉ MAC"
                            )),
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
                            say!(
                                "a device cannot be moved into uplink zone `{target}` (`{}`)",
                                "không thể chuyển thiết bị vào vùng đường truyền `{target}` (`{}`)",
                                word(&k)
                            ),
                        )
                        .hint(say!(
                            "move it to an internal zone, e.g. the quarantine zone",
                            "hãy chuyển vào một vùng nội bộ, ví dụ vùng cách ly"
                        )),
                    ),
                    None => self.push(
                        Problem::new(
                            Code::UnknownZone,
                            path.clone().key("move_to"),
                            say!(
                                "unknown zone `{target}`",
                                "vùng mạng `{target}` không tồn tại"
                            ),
                        )
                        .hint(self.zone_names_hint()),
                    ),
                }
                if d.ip.is_none() {
                    self.push(
                        Problem::new(
                            Code::AddressOutsideZone,
                            path.clone().key("move_to"),
                            say!(
                                "a device without an IP address cannot be moved",
                                "không thể chuyển vùng thiết bị chưa có địa chỉ IP"
                            ),
                        )
                        .hint(say!(
                            "give it a fixed `ip` first",
                            "hãy đặt địa chỉ `ip` cố định trước"
                        )),
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
                        say!(
                            "device of {} is in unknown zone `{}`",
                            "thiết bị của {} thuộc vùng `{}` không tồn tại",
                            d.user,
                            d.zone
                        ),
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
                                say!(
                                    "address {ip} is outside zone `{}`",
                                    "địa chỉ {ip} nằm ngoài vùng `{}`",
                                    z.name
                                ),
                            )
                            .hint(zone_has(z)),
                        );
                    }
                }
                if let Some(first) = ips.insert(ip, i) {
                    self.push(
                        Problem::new(
                            Code::DuplicateAddress,
                            path.key("ip"),
                            say!(
                                "address {ip} is already assigned to `devices[{first}]`",
                                "địa chỉ {ip} đã được gán cho `devices[{first}]`"
                            ),
                        )
                        .hint(say!(
                            "two devices cannot share one address",
                            "hai thiết bị không được dùng chung một địa chỉ"
                        )),
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
                    Problem::new(
                        Code::UnknownZone,
                        path,
                        say!(
                            "admin zone `{z}` does not exist",
                            "vùng quản trị `{z}` không tồn tại"
                        ),
                    )
                    .hint(self.zone_names_hint()),
                ),
                Some(k) if !matches!(k, ZoneKind::Mgmt | ZoneKind::Lan) => self.push(
                    Problem::new(
                        Code::AdminOnUplink,
                        path,
                        say!(
                            "the admin UI may not answer on zone `{z}` (`{}`)",
                            "giao diện quản trị không được mở trong vùng `{z}` (`{}`)",
                            word(&k)
                        ),
                    )
                    .hint(say!(
                        "admin access only from the management zone, optionally the staff LAN (003 §20.2.b)",
                        "chỉ quản trị từ vùng quản trị, có thể thêm mạng LAN cán bộ (003 §20.2.b)"
                    )),
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
                Problem::new(
                    Code::SshSettings,
                    base.clone().key("enabled"),
                    say!(
                        "SSH is enabled but no public key may log in",
                        "SSH đang bật nhưng chưa có khóa công khai nào được đăng nhập"
                    ),
                )
                .hint(say!(
                    "add the administrators' public keys to `authorized_keys`; SSH never accepts passwords",
                    "thêm khóa công khai của quản trị viên vào `authorized_keys`; SSH không bao giờ nhận mật khẩu"
                )),
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
                        say!(
                            "not an OpenSSH public key",
                            "không phải khóa công khai OpenSSH"
                        ),
                    )
                    .hint(say!(
                        "one line `ssh-ed25519 AAAA… name` (or ecdsa, ssh-rsa), without options",
                        "một dòng `ssh-ed25519 AAAA… tên` (hoặc ecdsa, ssh-rsa), không kèm tùy chọn"
                    )),
                );
            } else if kind == "ssh-rsa" && blob.len() < 500 {
                self.push(
                    Problem::new(
                        Code::SshSettings,
                        base.clone().key("authorized_keys").index(i),
                        say!(
                            "an RSA key shorter than 3072 bits",
                            "khóa RSA ngắn hơn 3072 bit"
                        ),
                    )
                    .hint(say!(
                        "use ssh-ed25519, or RSA of 3072 bits or more",
                        "dùng ssh-ed25519, hoặc RSA từ 3072 bit trở lên"
                    )),
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
                    Problem::new(
                        Code::TimeSettings,
                        base.clone().key("servers").index(i),
                        say!(
                            "`{server}` is not an address or host name",
                            "`{server}` không phải địa chỉ hay tên máy"
                        ),
                    )
                    .hint(say!(
                        "an IPv4/IPv6 address or a host name, e.g. the SOC's or the TSLCD's NTP server",
                        "một địa chỉ IPv4/IPv6 hoặc tên máy, ví dụ máy chủ thời gian (NTP) của SOC hay của mạng TSLCD"
                    )),
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
                        say!(
                            "zone `{z}` does not exist",
                            "vùng mạng `{z}` không tồn tại"
                        ),
                    )
                    .hint(self.zone_names_hint()),
                ),
                Some(k) if !k.is_internal() => self.push(
                    Problem::new(
                        Code::TimeSettings,
                        path,
                        say!(
                            "the gateway may not serve time to zone `{z}` (`{}`)",
                            "thiết bị không được cấp thời gian cho vùng `{z}` (`{}`)",
                            word(&k)
                        ),
                    )
                    .hint(say!(
                        "serve NTP to internal zones only (staff, servers, guests, management)",
                        "chỉ cấp thời gian (NTP) cho các vùng nội bộ (cán bộ, máy chủ, khách, quản trị)"
                    )),
                ),
                Some(_) => {}
            }
        }
        if !(1..=60_000).contains(&t.max_offset_ms) {
            self.push(
                Problem::new(
                    Code::TimeSettings,
                    base.key("max_offset_ms"),
                    say!(
                        "{} ms is not an offset limit",
                        "{} ms không phải ngưỡng lệch giờ dùng được",
                        t.max_offset_ms
                    ),
                )
                .hint(say!(
                    "between 1 and 60000 milliseconds; 1000 is usual",
                    "từ 1 đến 60000 mili giây; thường dùng 1000"
                )),
            );
        }
    }

    fn logs(&mut self) {
        let l = &self.config.logs;
        let base = FieldPath::at("logs");
        if l.retention_days < 183 {
            self.push(
                Problem::new(
                    Code::LogRetention,
                    base.clone().key("retention_days"),
                    say!(
                        "logs kept {} days is less than the required six months",
                        "lưu nhật ký {} ngày là ít hơn sáu tháng theo quy định",
                        l.retention_days
                    ),
                )
                .hint(say!(
                    "keep monitoring logs at least 6 months: 183 days or more (000 §8.2.c, 003 §30.7.a)",
                    "lưu nhật ký giám sát ít nhất 6 tháng: từ 183 ngày trở lên (000 §8.2.c, 003 §30.7.a)"
                )),
            );
        }
        if l.segment_mb == 0 || l.max_disk_mb < l.segment_mb.saturating_mul(4) {
            self.push(
                Problem::new(
                    Code::LogRetention,
                    base.key("max_disk_mb"),
                    say!(
                        "a {} MB cap with {} MB segments cannot hold the logs",
                        "giới hạn {} MB với các đoạn {} MB không đủ chứa nhật ký",
                        l.max_disk_mb,
                        l.segment_mb
                    ),
                )
                .hint(say!(
                    "`segment_mb` ≥ 1 and `max_disk_mb` ≥ 4 × `segment_mb`",
                    "`segment_mb` ≥ 1 và `max_disk_mb` ≥ 4 × `segment_mb`"
                )),
            );
        }
    }

    fn admin(&mut self) {
        let a = &self.config.admin;
        let base = FieldPath::at("admin");
        let mut weak = |field: &str, msg: Text, hint: Text| {
            self.problems.push(
                Problem::new(Code::WeakAccountPolicy, base.clone().key(field), msg).hint(hint),
            );
        };
        if a.admin_min_length < 11 {
            weak(
                "admin_min_length",
                say!(
                    "administrator passwords of {} characters are too short",
                    "mật khẩu quản trị viên dài {} ký tự là quá ngắn",
                    a.admin_min_length
                ),
                say!(
                    "at least 11 characters (003 §15.1)",
                    "ít nhất 11 ký tự (003 §15.1)"
                ),
            );
        }
        if a.user_min_length < 8 {
            weak(
                "user_min_length",
                say!(
                    "user passwords of {} characters are too short",
                    "mật khẩu người dùng dài {} ký tự là quá ngắn",
                    a.user_min_length
                ),
                say!(
                    "at least 8 characters (000 §6.2.đ)",
                    "ít nhất 8 ký tự (000 §6.2.đ)"
                ),
            );
        }
        if !a.require_all_classes {
            weak(
                "require_all_classes",
                say!(
                    "passwords must mix character classes",
                    "mật khẩu phải kết hợp các loại ký tự"
                ),
                say!(
                    "lower, upper, digit and special are required (000 §6.2.đ, 003 §15.1)",
                    "cần chữ thường, chữ hoa, chữ số và ký tự đặc biệt (000 §6.2.đ, 003 §15.1)"
                ),
            );
        }
        if a.admin_max_age_days == 0 || a.admin_max_age_days > 60 {
            weak(
                "admin_max_age_days",
                say!(
                    "administrator passwords must expire; {} days is not allowed",
                    "mật khẩu quản trị viên phải có thời hạn; {} ngày là không được phép",
                    a.admin_max_age_days
                ),
                say!(
                    "at most 60 days (003 §15.1.c)",
                    "tối đa 60 ngày (003 §15.1.c)"
                ),
            );
        }
        if a.user_max_age_days == 0 || a.user_max_age_days > 90 {
            weak(
                "user_max_age_days",
                say!(
                    "user passwords must expire; {} days is not allowed",
                    "mật khẩu người dùng phải có thời hạn; {} ngày là không được phép",
                    a.user_max_age_days
                ),
                say!(
                    "at most 3 months (001 §5.1.đ)",
                    "tối đa 3 tháng (001 §5.1.đ)"
                ),
            );
        }
        if a.lockout_failures == 0 || a.lockout_failures > 5 {
            weak(
                "lockout_failures",
                say!(
                    "lock after {} failures is not allowed",
                    "khóa sau {} lần sai là không được phép",
                    a.lockout_failures
                ),
                say!(
                    "lock after 3–5 failures (001 §5.2.b, 003 §16.2)",
                    "khóa sau 3–5 lần sai (001 §5.2.b, 003 §16.2)"
                ),
            );
        }
        if a.lockout_window_minutes < 30 {
            weak(
                "lockout_window_minutes",
                say!(
                    "a {}-minute failure window is too short",
                    "khoảng đếm lần sai {} phút là quá ngắn",
                    a.lockout_window_minutes
                ),
                say!(
                    "count failures over at least 30 minutes (003 §16.2)",
                    "đếm số lần sai trong ít nhất 30 phút (003 §16.2)"
                ),
            );
        }
        if a.suspend_unused_days == 0 || a.suspend_unused_days > 30 {
            weak(
                "suspend_unused_days",
                say!(
                    "suspending unused accounts after {} days is not allowed",
                    "tạm ngưng tài khoản không dùng sau {} ngày là không được phép",
                    a.suspend_unused_days
                ),
                say!("at most 30 days (003 §16.3)", "tối đa 30 ngày (003 §16.3)"),
            );
        }
        if !a.mfa_for_admins {
            weak(
                "mfa_for_admins",
                say!(
                    "two-factor authentication cannot be turned off for administrators",
                    "không được tắt xác thực hai yếu tố đối với quản trị viên"
                ),
                say!(
                    "two-factor authentication is mandatory on important network devices (000 §8.1.h)",
                    "xác thực hai yếu tố là bắt buộc trên thiết bị mạng quan trọng (000 §8.1.h)"
                ),
            );
        }
        if a.session_idle_minutes == 0 || a.session_max_hours == 0 {
            weak(
                "session_idle_minutes",
                say!("sessions must time out", "phiên đăng nhập phải có thời hạn"),
                say!(
                    "set `session_idle_minutes` and `session_max_hours` above 0",
                    "đặt `session_idle_minutes` và `session_max_hours` lớn hơn 0"
                ),
            );
        } else if a.session_idle_minutes > 10 {
            weak(
                "session_idle_minutes",
                say!(
                    "idle sessions lock after {} minutes",
                    "phiên không hoạt động bị khóa sau {} phút",
                    a.session_idle_minutes
                ),
                say!(
                    "at most 10 minutes (004 §8.1.c, 004 §13.1.c)",
                    "tối đa 10 phút (004 §8.1.c, 004 §13.1.c)"
                ),
            );
        }
    }

    /// Radios: names, interfaces, channels for their band, the country; and each served
    /// network's radio, its zone's bridge, and no Wi-Fi zone routed to the TSLCD.
    fn radios(&mut self) {
        let cfg = self.config;
        self.check_names(
            "radios",
            cfg.radios.iter().map(|r| r.name.as_str()),
            ("radio", "bộ phát Wi-Fi"),
        );
        for (i, r) in cfg.radios.iter().enumerate() {
            let path = FieldPath::at("radios").index(i);
            let clash = cfg
                .interfaces
                .iter()
                .any(|itf| itf.name == r.interface || itf.ports.contains(&r.interface))
                || cfg.radios[..i].iter().any(|o| o.interface == r.interface);
            if r.interface.is_empty()
                || r.interface.len() > 12
                || r.interface.contains(['/', ' ', '-'])
                || clash
            {
                self.push(
                    Problem::new(
                        Code::WifiRadio,
                        path.clone().key("interface"),
                        say!(
                            "`{}` cannot be a radio's interface",
                            "`{}` không dùng được làm giao diện của bộ phát Wi-Fi",
                            r.interface
                        ),
                    )
                    .hint(say!(
                        "the wireless interface (e.g. `wlan0`): 1–12 characters without `-`, used by no other interface or radio",
                        "giao diện không dây (ví dụ `wlan0`): 1–12 ký tự, không có `-`, không trùng giao diện hay bộ phát khác"
                    )),
                );
            }
            let ok = match r.band {
                crate::model::WifiBand::Ghz24 => (1..=13).contains(&r.channel),
                crate::model::WifiBand::Ghz5 => {
                    (r.channel % 4 == 0
                        && ((36..=64).contains(&r.channel) || (100..=144).contains(&r.channel)))
                        || (r.channel % 4 == 1 && (149..=165).contains(&r.channel))
                }
            };
            if !ok {
                self.push(
                    Problem::new(
                        Code::WifiRadio,
                        path.clone().key("channel"),
                        say!(
                            "channel {} is not a channel of band `{}`",
                            "kênh {} không thuộc băng tần `{}`",
                            r.channel,
                            word(&r.band)
                        ),
                    )
                    .hint(say!(
                        "2.4 GHz: 1–13; 5 GHz: 36–64 or 100–144 in steps of 4, or 149–165",
                        "2,4 GHz: 1–13; 5 GHz: 36–64 hoặc 100–144 (bước 4), hoặc 149–165"
                    )),
                );
            }
            if r.country.len() != 2 || !r.country.chars().all(|c| c.is_ascii_uppercase()) {
                self.push(
                    Problem::new(
                        Code::WifiRadio,
                        path.key("country"),
                        say!(
                            "`{}` is not a country code",
                            "`{}` không phải mã quốc gia",
                            r.country
                        ),
                    )
                    .hint(say!(
                        "two capital letters, `VN` in Viet Nam (it sets the allowed channels and power)",
                        "hai chữ cái in hoa, `VN` tại Việt Nam (quy định kênh và công suất được phép)"
                    )),
                );
            }
        }
        let mut per_radio: HashMap<&str, usize> = HashMap::new();
        for (i, w) in cfg.wifi.iter().enumerate() {
            let path = FieldPath::at("wifi").index(i);
            let radio = if w.radio.is_empty() {
                cfg.radios.first()
            } else {
                let found = cfg.radios.iter().find(|r| r.name == w.radio);
                if found.is_none() {
                    let known = cfg
                        .radios
                        .iter()
                        .map(|r| r.name.as_str())
                        .collect::<Vec<_>>()
                        .join("`, `");
                    self.push(
                        Problem::new(
                            Code::WifiRadio,
                            path.clone().key("radio"),
                            say!(
                                "no radio named `{}`",
                                "không có bộ phát Wi-Fi tên `{}`",
                                w.radio
                            ),
                        )
                        .hint(say!(
                            "radios: `{known}` (under `[[radios]]`)",
                            "các bộ phát: `{known}` (trong `[[radios]]`)"
                        )),
                    );
                }
                found
            };
            // 000 §5.6.b: computers on the TSLCD are never on Wi-Fi.
            for (pi, pol) in cfg.policies.iter().enumerate() {
                if pol.from == w.zone
                    && pol.action == Action::Allow
                    && self.zone_kind(&pol.to) == Some(ZoneKind::Tslcd)
                {
                    self.push(
                        Problem::new(
                            Code::WifiToTslcd,
                            FieldPath::at("policies").index(pi).key("to"),
                            say!(
                                "zone `{}` has Wi-Fi `{}` and may not reach the TSLCD",
                                "vùng `{}` có Wi-Fi `{}` nên không được truy cập mạng TSLCD",
                                w.zone,
                                w.ssid
                            ),
                        )
                        .hint(say!(
                            "computers on the TSLCD must not be on Wi-Fi (000 §5.6.b): put Wi-Fi in its own zone, or remove this policy",
                            "máy tính nối mạng TSLCD không được dùng Wi-Fi (000 §5.6.b): hãy đặt Wi-Fi trong một vùng riêng, hoặc xóa chính sách này"
                        )),
                    );
                }
            }
            let Some(radio) = radio else {
                continue;
            };
            let n = per_radio.entry(radio.name.as_str()).or_default();
            *n += 1;
            if *n == crate::model::Radio::MAX_SSIDS + 1 {
                self.push(Problem::new(
                    Code::WifiRadio,
                    path.clone().key("radio"),
                    say!(
                        "radio `{}` serves at most {} SSIDs",
                        "bộ phát `{}` phục vụ tối đa {} mạng Wi-Fi",
                        radio.name,
                        crate::model::Radio::MAX_SSIDS
                    ),
                ));
            }
            // A served network joins its zone's bridge.
            let bridge = cfg
                .interfaces
                .iter()
                .find(|itf| itf.zone == w.zone && !itf.role.is_uplink());
            match bridge {
                Some(itf) if !itf.ports.is_empty() => {}
                Some(itf) => self.push(
                    Problem::new(
                        Code::WifiRadio,
                        path.clone().key("zone"),
                        say!(
                            "interface `{}` of zone `{}` is not a bridge, so Wi-Fi `{}` cannot join it",
                            "giao diện mạng `{}` của vùng `{}` không phải cầu nối, nên Wi-Fi `{}` không gắn vào được",
                            itf.name,
                            w.zone,
                            w.ssid
                        ),
                    )
                    .hint(say!(
                        "make it a bridge of the zone's wired ports: `ports = [\"…\"]` under its `[[interfaces]]`",
                        "biến nó thành cầu nối của các cổng có dây trong vùng: `ports = [\"…\"]` trong `[[interfaces]]`"
                    )),
                ),
                None => self.push(Problem::new(
                    Code::WifiRadio,
                    path.clone().key("zone"),
                    say!(
                        "zone `{}` has no interface for Wi-Fi `{}` to join",
                        "vùng `{}` chưa có giao diện mạng để Wi-Fi `{}` gắn vào",
                        w.zone,
                        w.ssid
                    ),
                )),
            }
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
                    say!(
                        "SSID `{}` is empty, longer than 32 bytes or used twice",
                        "tên mạng Wi-Fi `{}` trống, dài quá 32 byte hoặc bị dùng hai lần",
                        w.ssid
                    ),
                ));
            }
            if self.zone_kind(&w.zone).is_none() {
                self.push(
                    Problem::new(
                        Code::UnknownZone,
                        path.clone().key("zone"),
                        say!(
                            "Wi-Fi `{}` is in unknown zone `{}`",
                            "mạng Wi-Fi `{}` thuộc vùng `{}` không tồn tại",
                            w.ssid,
                            w.zone
                        ),
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
                        say!(
                            "Wi-Fi `{}` is in zone `{}` of kind `{}`",
                            "mạng Wi-Fi `{}` thuộc vùng `{}` loại `{}`",
                            w.ssid,
                            w.zone,
                            word(&kind)
                        ),
                    )
                    .hint(say!(
                        "Wi-Fi serves a staff LAN or a guest zone; servers, management and uplinks stay wired (000 §5.6)",
                        "Wi-Fi chỉ phục vụ mạng LAN cán bộ hoặc vùng khách; máy chủ, quản trị và đường truyền phải dùng mạng có dây (000 §5.6)"
                    )),
                );
            }
            if w.security == WifiSecurity::Open {
                self.push(
                    Problem::new(
                        Code::WifiInsecure,
                        path.clone().key("security"),
                        say!(
                            "Wi-Fi `{}` is open",
                            "mạng Wi-Fi `{}` không đặt mật khẩu",
                            w.ssid
                        ),
                    )
                    .hint(say!(
                        "Wi-Fi needs a password with WPA2 or WPA3 (004 §7.2, 001 §5.1.d)",
                        "Wi-Fi phải có mật khẩu và mã hóa WPA2 hoặc WPA3 (004 §7.2, 001 §5.1.d)"
                    )),
                );
            }
            if w.passphrase == crate::secrets::HIDDEN {
                self.push(
                    Problem::new(
                        Code::WifiInsecure,
                        path.clone().key("passphrase"),
                        say!(
                            "the passphrase of `{0}` is the hidden placeholder, and no running network `{0}` has one to keep",
                            "mật khẩu của `{0}` là giá trị ẩn, nhưng không có mạng `{0}` đang chạy để giữ mật khẩu cũ",
                            w.ssid
                        ),
                    )
                    .hint(say!(
                        "write the passphrase itself (a hidden value is kept only for an SSID that already exists)",
                        "hãy nhập chính mật khẩu (giá trị ẩn chỉ giữ được cho mạng Wi-Fi đã có)"
                    )),
                );
            } else {
                match WifiNetwork::passphrase_problem(&w.ssid, &w.passphrase) {
                    None => {}
                    Some(PassphraseProblem::NotAscii) => self.push(
                        Problem::new(
                            Code::WifiInsecure,
                            path.clone().key("passphrase"),
                            say!(
                                "the passphrase of `{}` has characters other than printable ASCII",
                                "mật khẩu của `{}` có ký tự ngoài bảng ASCII in được",
                                w.ssid
                            ),
                        )
                        .hint(say!(
                            "WPA2/WPA3 passphrases are printable ASCII: letters without accents, digits, punctuation, spaces",
                            "mật khẩu WPA2/WPA3 chỉ gồm ký tự ASCII in được: chữ không dấu, chữ số, dấu câu, dấu cách"
                        )),
                    ),
                    Some(PassphraseProblem::Length(len)) => self.push(
                        Problem::new(
                            Code::WifiInsecure,
                            path.clone().key("passphrase"),
                            say!(
                                "the passphrase of `{}` has {len} characters",
                                "mật khẩu của `{}` có {len} ký tự",
                                w.ssid
                            ),
                        )
                        .hint(say!(
                            "a strong Wi-Fi passphrase has 12–63 characters (004 §7.2)",
                            "mật khẩu Wi-Fi mạnh có 12–63 ký tự (004 §7.2)"
                        )),
                    ),
                    Some(PassphraseProblem::ContainsSsid) => self.push(
                        Problem::new(
                            Code::WifiInsecure,
                            path.clone().key("passphrase"),
                            say!(
                                "the passphrase of `{}` contains the network's name",
                                "mật khẩu của `{}` chứa tên mạng",
                                w.ssid
                            ),
                        )
                        .hint(say!(
                            "a passphrase that contains the SSID is guessed first (004 §7.2)",
                            "mật khẩu chứa tên mạng Wi-Fi sẽ bị đoán ra đầu tiên (004 §7.2)"
                        )),
                    ),
                }
            }
            match w.changed_on() {
                None => self.push(
                    Problem::new(
                        Code::Schema,
                        path.key("passphrase_changed"),
                        say!(
                            "`{}` is not a date",
                            "`{}` không phải ngày tháng",
                            w.passphrase_changed
                        ),
                    )
                    .hint(say!(
                        "write YYYY-MM-DD",
                        "viết theo dạng NNNN-TT-NN (năm-tháng-ngày)"
                    )),
                ),
                Some(changed) => {
                    let max = w.rotation_period_days();
                    let age = (today - changed).num_days();
                    if age > i64::from(max) && !self.running_wifi.contains(w) {
                        self.push(
                            Problem::new(
                                Code::WifiStalePassphrase,
                                path.key("passphrase_changed"),
                                say!(
                                    "the passphrase of `{}` was last changed {age} days ago",
                                    "mật khẩu của `{}` được đổi lần cuối cách đây {age} ngày",
                                    w.ssid
                                ),
                            )
                            .hint(say!(
                                "change it at least every {max} days (004 §7.2: every 6 months)",
                                "đổi ít nhất {max} ngày một lần (004 §7.2: 6 tháng một lần)"
                            )),
                        );
                    }
                }
            }
        }
    }
}

/// "zone `x` has 10.0.0.0/24, …" in both languages.
fn zone_has(zone: &Zone) -> Text {
    if zone.prefixes.is_empty() {
        return say!(
            "zone `{}` has no prefixes",
            "vùng `{}` chưa có dải địa chỉ",
            zone.name
        );
    }
    let list = zone
        .prefixes
        .iter()
        .map(std::string::ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    say!(
        "zone `{}` has {list}",
        "vùng `{}` có các dải {list}",
        zone.name
    )
}

/// A model value as it is written in the configuration file (`wan-internet`, `guest`).
pub fn word<T: serde::Serialize>(value: &T) -> String {
    match toml::Value::try_from(value) {
        Ok(toml::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}
