//! Pure renderer: config model → one nftables ruleset in the `inet edgeward` table.
//!
//! Shape of the ruleset:
//! - `input` / `forward` base chains with policy drop, blocked devices dropped first, then an
//!   established/related fast path, invalid dropped, then a jump per ingress interface (or per
//!   moved device) to the zone's chain (`in_<zone>`, `fwd_<zone>`).
//! - zone chains start with anti-spoofing (source must belong to the zone), the no-Internet rule
//!   for non-computer devices, published services, then the zone's policies in order; what falls
//!   through is logged (rate-limited, NFLOG) and dropped.
//! - government prefixes never leave through an ISP (a guard rule before any policy).
//! - `mangle` clamps MSS on uplinks; `rpf` drops packets that fail the reverse-path check.
//! - `postrouting` masquerades on uplinks that ask for it; `prerouting` DNATs published servers
//!   (also from inside: hairpin).
//!
//! Devices and address groups live in named sets, so their membership can change without a
//! reload (see [`Ruleset::element_sets`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use edgeward_config::validate::normalize_mac;
use edgeward_config::{
    Action, Config, DeviceStatus, GATEWAY_ZONE, TransportProtocol, UplinkKind, ZoneKind, services,
};
use ipnetwork::IpNetwork;
use nftables::expr::{Expression, MetaKey};
use nftables::schema::{NfCmd, NfListObject, NfObject, Nftables};
use nftables::stmt::{NAT, NATFamily, Statement};
use nftables::types::{NfChainPolicy, NfChainType, NfHook};

use crate::nft::{
    Expr, Stmt, accept, addr, address_set, anon_set, base_chain, clamp_mss, counter, ct, drop, eq,
    fib_reverse_path_missing, host_set, is_in, jump, limit, mac_set, mangle, masquerade, meta,
    meter_over, ne, nflog, nfproto, num, payload, prefix, range, raw_prefix, rule, s, set_ref,
    table_obj, tcp_syn, tcp_syn_only,
};

/// NFLOG group for denied packets.
pub const LOG_GROUP_DENY: u32 = 1;
/// NFLOG group for rate-limited packets.
pub const LOG_GROUP_RATE: u32 = 2;
/// NFLOG group for connection attempts from the internal zones, read by the gateway's own
/// scan and password-guessing counters (the daemon's `connwatch`).
pub const LOG_GROUP_CONN: u32 = 3;
/// Log prefix of a routed connection attempt (`inet` table); the bridge table's is
/// [`crate::bridge::CONN_PREFIX_BRIDGED`].
pub const CONN_PREFIX: &str = "ew-conn";
/// Connection attempts logged per second and rule, at most (a flood from one machine cannot
/// swamp the daemon; the counters need a few dozen attempts a minute to see a scan).
pub const CONN_LOG_RATE: u32 = 2_000;
/// UDP ports of everyday traffic not logged as connection attempts (DNS, DHCP, NTP, NetBIOS,
/// mDNS): they are most of a LAN's new UDP flows and would spend the rate on nothing.
pub const CONN_UDP_QUIET_PORTS: [u16; 7] = [53, 67, 68, 123, 137, 138, 5353];

/// Why a config could not be rendered (only reachable with an unvalidated config).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("policy[{index}] refers to unknown service `{service}`")]
    UnknownService { index: usize, service: String },
    #[error("policy[{index}] refers to unknown zone `{zone}`")]
    UnknownZone { index: usize, zone: String },
    #[error("unknown address group `{0}`")]
    UnknownGroup(String),
}

/// What a logged packet means: the daemon maps an NFLOG prefix back to this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRule {
    pub description: String,
    pub zone: Option<String>,
    pub action: &'static str,
}

/// A rendered ruleset: the objects of one atomic nft transaction that replaces the edgeward table.
#[derive(Debug, Clone, PartialEq)]
pub struct Ruleset {
    /// Table, sets, chains and rules, in creation order.
    pub objects: Vec<NfListObject<'static>>,
    /// NFLOG prefix → meaning.
    pub log_rules: BTreeMap<String, LogRule>,
    /// Sets whose members may change without a reload (devices, address groups).
    pub element_sets: BTreeSet<String>,
}

impl Ruleset {
    /// The transaction: make sure the table exists, delete it, create it anew with everything in it.
    /// The kernel applies the whole batch or none of it, so traffic never sees a half ruleset.
    pub fn transaction(&self) -> Nftables<'static> {
        let mut cmds = vec![
            NfObject::CmdObject(NfCmd::Add(table_obj())),
            NfObject::CmdObject(NfCmd::Delete(table_obj())),
        ];
        cmds.extend(
            self.objects
                .iter()
                .cloned()
                .map(|o| NfObject::CmdObject(NfCmd::Add(o))),
        );
        Nftables {
            objects: Cow::Owned(cmds),
        }
    }

    /// JSON for `nft -j -f -`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.transaction()).unwrap_or_default()
    }

    pub fn rules(&self) -> impl Iterator<Item = &nftables::schema::Rule<'static>> {
        self.objects.iter().filter_map(|o| match o {
            NfListObject::Rule(r) => Some(r),
            _ => None,
        })
    }

    pub fn chain_names(&self) -> impl Iterator<Item = &str> {
        self.objects.iter().filter_map(|o| match o {
            NfListObject::Chain(c) => Some(c.name.as_ref()),
            _ => None,
        })
    }

    /// Members of each element set, as JSON strings (comparable, and ready for `add element`).
    pub fn set_members(&self) -> BTreeMap<String, Vec<Expression<'static>>> {
        self.objects
            .iter()
            .filter_map(|o| match o {
                NfListObject::Set(s) if self.element_sets.contains(s.name.as_ref()) => Some((
                    s.name.to_string(),
                    s.elem.as_ref().map(|e| e.to_vec()).unwrap_or_default(),
                )),
                _ => None,
            })
            .collect()
    }

    /// Everything but the members of element sets: when this is equal for two rulesets, the
    /// change between them is only set membership.
    pub fn structure(&self) -> Vec<NfListObject<'static>> {
        self.objects
            .iter()
            .map(|o| match o {
                NfListObject::Set(s) if self.element_sets.contains(s.name.as_ref()) => {
                    let mut s = s.clone();
                    s.elem = None;
                    NfListObject::Set(s)
                }
                other => other.clone(),
            })
            .collect()
    }
}

fn zone_set(zone: &str, v6: bool) -> String {
    format!("zone_{zone}_{}", fam(v6))
}
fn devzone_set(zone: &str, v6: bool) -> String {
    format!("devzone_{zone}_{}", fam(v6))
}
fn devout_set(zone: &str, v6: bool) -> String {
    format!("devout_{zone}_{}", fam(v6))
}
fn group_set(group: &str, v6: bool) -> String {
    format!("grp_{group}_{}", fam(v6))
}
fn fam(v6: bool) -> &'static str {
    if v6 { "v6" } else { "v4" }
}
const GOV: &str = "gov";
const INTERNAL: &str = "internal";
const BLOCKED: &str = "dev_blocked";
const BLOCKED_MAC: &str = "dev_blocked_mac";
/// MACs approved in the inventory: machines in onboarding zones without one wait for approval.
const KNOWN_MAC: &str = "dev_known_mac";
const NO_INTERNET: &str = "dev_nointernet";
const NO_INTERNET_ALLOW: &str = "nointernet_allow";

/// One layer-4 selector of a service.
#[derive(Debug, Clone)]
enum L4 {
    Any,
    Ports {
        proto: &'static str,
        ports: Vec<Expr>,
    },
    Echo {
        v6: bool,
    },
}

impl L4 {
    fn family(&self) -> Option<bool> {
        match self {
            L4::Echo { v6 } => Some(*v6),
            _ => None,
        }
    }
    fn stmts(&self) -> Vec<Stmt> {
        match self {
            L4::Any => vec![],
            L4::Ports { proto, ports } => vec![
                eq(meta(MetaKey::L4proto), s(*proto)),
                port_match("th", "dport", ports),
            ],
            L4::Echo { v6: false } => vec![
                eq(meta(MetaKey::L4proto), s("icmp")),
                eq(payload("icmp", "type"), s("echo-request")),
            ],
            L4::Echo { v6: true } => vec![
                eq(meta(MetaKey::L4proto), s("ipv6-icmp")),
                eq(payload("icmpv6", "type"), s("echo-request")),
            ],
        }
    }
}

fn port_match(proto: &str, field: &str, ports: &[Expr]) -> Stmt {
    if ports.len() == 1 {
        eq(payload(proto, field), ports[0].clone())
    } else {
        eq(payload(proto, field), anon_set(ports.to_vec()))
    }
}

/// Expand named services into layer-4 selectors.
fn selectors(config: &Config, index: usize, names: &[String]) -> Result<Vec<L4>, RenderError> {
    if names.iter().any(|n| n == services::ANY) {
        return Ok(vec![L4::Any]);
    }
    let (mut tcp, mut udp, mut echo) = (Vec::new(), Vec::new(), false);
    for name in names {
        let def = services::resolve(config, name).ok_or_else(|| RenderError::UnknownService {
            index,
            service: name.clone(),
        })?;
        for r in &def.tcp {
            if !tcp.contains(r) {
                tcp.push(*r);
            }
        }
        for r in &def.udp {
            if !udp.contains(r) {
                udp.push(*r);
            }
        }
        echo |= def.icmp_echo;
    }
    let mut out = Vec::new();
    for (proto, list) in [("tcp", tcp), ("udp", udp)] {
        if !list.is_empty() {
            out.push(L4::Ports {
                proto,
                ports: list.iter().map(|r| range(r.first, r.last)).collect(),
            });
        }
    }
    if echo {
        out.push(L4::Echo { v6: false });
        out.push(L4::Echo { v6: true });
    }
    Ok(out)
}

fn ifname_match(key: MetaKey, names: Vec<String>) -> Stmt {
    if names.len() == 1 {
        eq(meta(key), s(names[0].clone()))
    } else {
        eq(meta(key), anon_set(names.into_iter().map(s).collect()))
    }
}

/// A destination constraint for one family, or none.
type DestVariant = (Option<bool>, Option<Expr>);

struct Renderer<'a> {
    config: &'a Config,
    objects: Vec<NfListObject<'static>>,
    log_rules: BTreeMap<String, LogRule>,
    element_sets: BTreeSet<String>,
}

/// Render the whole ruleset for `config` with every uplink healthy.
pub fn render(config: &Config) -> Result<Ruleset, RenderError> {
    render_for(config, &|_| true)
}

/// Render the ruleset for `config` given which uplinks are healthy (the load-balancing shares
/// and pinning follow the healthy set).
pub fn render_for(config: &Config, healthy: &dyn Fn(&str) -> bool) -> Result<Ruleset, RenderError> {
    let _span = tracing::debug_span!(
        "render",
        zones = config.zones.len(),
        policies = config.policies.len(),
        devices = config.devices.len()
    )
    .entered();
    let mut r = Renderer {
        config,
        objects: vec![table_obj()],
        log_rules: BTreeMap::new(),
        element_sets: BTreeSet::new(),
    };
    r.sets()?;
    r.base_chains();
    r.prefilter();
    r.uplink_marks(healthy);
    r.input()?;
    r.forward()?;
    r.nat();
    // Sets and chains must exist before any rule refers to them.
    let rank = |o: &NfListObject| match o {
        NfListObject::Table(_) => 0,
        NfListObject::Set(_) => 1,
        NfListObject::Chain(_) => 2,
        _ => 3,
    };
    r.objects.sort_by_key(rank);
    Ok(Ruleset {
        objects: r.objects,
        log_rules: r.log_rules,
        element_sets: r.element_sets,
    })
}

impl Renderer<'_> {
    /// The names of the interfaces that face the agency (every one but the uplinks).
    fn internal_interfaces(&self) -> Vec<String> {
        self.config
            .interfaces
            .iter()
            .filter(|i| !i.role.is_uplink())
            .map(|i| i.name.clone())
            .collect()
    }

    fn add(&mut self, obj: NfListObject<'static>) {
        self.objects.push(obj);
    }

    fn rule(&mut self, chain: &str, mut stmts: Vec<Stmt>, comment: impl Into<String>) {
        // Every rule counts what it matches, so per-rule counters are always readable.
        let verdict_at = stmts.iter().position(|s| {
            matches!(
                s,
                Statement::Accept(_) | Statement::Drop(_) | Statement::Jump(_)
            )
        });
        if let Some(i) = verdict_at {
            if !stmts.iter().any(|s| matches!(s, Statement::Counter(_))) {
                stmts.insert(i, counter());
            }
        }
        self.objects.push(rule(chain, stmts, Some(comment.into())));
    }

    /// A rate-limited NFLOG rule; `key` becomes the log prefix the daemon maps back.
    fn log_rule(
        &mut self,
        chain: &str,
        mut matches: Vec<Stmt>,
        key: String,
        meaning: LogRule,
        group: u32,
    ) {
        let fw = &self.config.firewall;
        if !fw.log_denied {
            return;
        }
        let rate = fw.log_rate_per_second.max(1);
        matches.push(limit(rate, rate.saturating_mul(2), false));
        matches.push(nflog(group, &key));
        let comment = format!("log {}", meaning.description);
        self.log_rules.insert(key, meaning);
        self.objects.push(rule(chain, matches, Some(comment)));
    }

    /// The shape of every logged drop: a rate-limited log rule, then the same match dropping.
    fn logged_drop(
        &mut self,
        chain: &str,
        matches: Vec<Stmt>,
        key: String,
        description: String,
        zone: Option<String>,
        comment: String,
    ) {
        self.log_rule(
            chain,
            matches.clone(),
            key,
            LogRule {
                description,
                zone,
                action: "drop",
            },
            LOG_GROUP_DENY,
        );
        let mut m = matches;
        m.push(drop());
        self.rule(chain, m, comment);
    }

    fn element_set(&mut self, obj: NfListObject<'static>) {
        if let NfListObject::Set(s) = &obj {
            self.element_sets.insert(s.name.to_string());
        }
        self.add(obj);
    }

    fn internal_zones(&self) -> Vec<String> {
        self.config
            .zones
            .iter()
            .filter(|z| z.kind.is_internal())
            .map(|z| z.name.clone())
            .collect()
    }

    fn sets(&mut self) -> Result<(), RenderError> {
        let config = self.config;
        for z in config.zones.iter().filter(|z| z.kind.is_internal()) {
            for v6 in [false, true] {
                self.add(address_set(&zone_set(&z.name, v6), v6, &z.prefixes));
            }
        }
        let gov = config.government_prefixes();
        let internal = config.internal_prefixes();
        for v6 in [false, true] {
            self.add(address_set(&format!("{GOV}_{}", fam(v6)), v6, &gov));
            self.add(address_set(
                &format!("{INTERNAL}_{}", fam(v6)),
                v6,
                &internal,
            ));
        }
        for g in &config.address_groups {
            for v6 in [false, true] {
                self.element_set(address_set(&group_set(&g.name, v6), v6, &g.prefixes));
            }
        }

        // Device sets: membership changes (NAC, inventory edits) need no reload.
        let host = |ip: std::net::IpAddr| IpNetwork::from(ip);
        let blocked: Vec<IpNetwork> = config
            .devices
            .iter()
            .filter(|d| d.status == DeviceStatus::Blocked)
            .filter_map(|d| d.ip.map(host))
            .collect();
        let blocked_macs: Vec<String> = config
            .devices
            .iter()
            .filter(|d| d.status == DeviceStatus::Blocked)
            .filter_map(|d| normalize_mac(&d.mac))
            .collect();
        let no_internet: Vec<IpNetwork> = config
            .devices
            .iter()
            .filter(|d| !d.internet_allowed(&config.firewall))
            .filter_map(|d| d.ip.map(host))
            .collect();
        let mut allow: Vec<IpNetwork> = Vec::new();
        for name in &config.firewall.non_computer_update_groups {
            let g = config
                .address_group(name)
                .ok_or_else(|| RenderError::UnknownGroup(name.clone()))?;
            allow.extend(g.prefixes.iter().copied());
        }
        for v6 in [false, true] {
            self.element_set(address_set(&format!("{BLOCKED}_{}", fam(v6)), v6, &blocked));
            self.element_set(address_set(
                &format!("{NO_INTERNET}_{}", fam(v6)),
                v6,
                &no_internet,
            ));
            self.element_set(address_set(
                &format!("{NO_INTERNET_ALLOW}_{}", fam(v6)),
                v6,
                &allow,
            ));
        }
        self.element_set(mac_set(BLOCKED_MAC, &blocked_macs));
        let known_macs: Vec<String> = config
            .devices
            .iter()
            .filter(|d| d.status == DeviceStatus::Approved)
            .filter_map(|d| normalize_mac(&d.mac))
            .collect();
        self.element_set(mac_set(KNOWN_MAC, &known_macs));
        for zone in self.internal_zones() {
            let moved_in: Vec<IpNetwork> = config
                .devices
                .iter()
                .filter(|d| d.move_to.as_deref() == Some(zone.as_str()))
                .filter_map(|d| d.ip.map(host))
                .collect();
            let moved_out: Vec<IpNetwork> = config
                .devices
                .iter()
                .filter(|d| d.zone == zone && d.move_to.as_deref().is_some_and(|m| m != zone))
                .filter_map(|d| d.ip.map(host))
                .collect();
            for v6 in [false, true] {
                self.element_set(host_set(&devzone_set(&zone, v6), v6, &moved_in));
                self.element_set(host_set(&devout_set(&zone, v6), v6, &moved_out));
            }
        }
        Ok(())
    }

    fn base_chains(&mut self) {
        use NfChainPolicy::{Accept, Drop};
        self.add(base_chain(
            "rpf",
            NfChainType::Filter,
            NfHook::Prerouting,
            -150,
            Accept,
        ));
        self.add(base_chain(
            "input",
            NfChainType::Filter,
            NfHook::Input,
            0,
            Drop,
        ));
        self.add(base_chain(
            "forward",
            NfChainType::Filter,
            NfHook::Forward,
            0,
            Drop,
        ));
        self.add(base_chain(
            "mangle_fwd",
            NfChainType::Filter,
            NfHook::Forward,
            -150,
            Accept,
        ));
        self.add(base_chain(
            "uplinks",
            NfChainType::Filter,
            NfHook::Prerouting,
            -140,
            Accept,
        ));
        self.add(base_chain(
            "prerouting",
            NfChainType::NAT,
            NfHook::Prerouting,
            -100,
            Accept,
        ));
        self.add(base_chain(
            "postrouting",
            NfChainType::NAT,
            NfHook::Postrouting,
            100,
            Accept,
        ));
    }

    /// Reverse-path check on internal interfaces and MSS clamping on uplinks.
    fn prefilter(&mut self) {
        let config = self.config;
        let internal_ifs: Vec<String> = self.internal_interfaces();
        if config.firewall.reverse_path_check && !internal_ifs.is_empty() {
            for v6 in [false, true] {
                // DHCP/DAD clients have no address yet; link-local is on-link by definition.
                let unspecified = if v6 { "::" } else { "0.0.0.0" };
                let mut m = vec![
                    ifname_match(MetaKey::Iifname, internal_ifs.clone()),
                    nfproto(v6),
                    ne(addr(v6, "saddr"), s(unspecified)),
                ];
                if v6 {
                    m.push(ne(addr(true, "saddr"), raw_prefix("fe80::", 10)));
                }
                m.push(fib_reverse_path_missing());
                self.logged_drop(
                    "rpf",
                    m,
                    "ew:rpf".into(),
                    "reverse-path check failed (spoofed source)".into(),
                    None,
                    format!("reverse path {}", if v6 { "IPv6" } else { "IPv4" }),
                );
            }
        }
        let uplink_ifs: Vec<String> = config.uplinks.iter().map(|u| u.interface.clone()).collect();
        // Anti-spoofing on the uplinks: nothing from outside carries an address of the inside
        // (a zone's prefixes, so also every inventoried device).
        if !uplink_ifs.is_empty() {
            for v6 in [false, true] {
                self.logged_drop(
                    "rpf",
                    vec![
                        ifname_match(MetaKey::Iifname, uplink_ifs.clone()),
                        nfproto(v6),
                        eq(
                            addr(v6, "saddr"),
                            set_ref(&format!("{INTERNAL}_{}", fam(v6))),
                        ),
                    ],
                    "ew:spoof:uplink".into(),
                    "internal source address on an uplink (spoofed)".into(),
                    None,
                    format!("uplink anti-spoof {}", if v6 { "IPv6" } else { "IPv4" }),
                );
            }
        }
        if config.firewall.mss_clamp && !uplink_ifs.is_empty() {
            for key in [MetaKey::Oifname, MetaKey::Iifname] {
                self.rule(
                    "mangle_fwd",
                    vec![
                        ifname_match(key, uplink_ifs.clone()),
                        eq(meta(MetaKey::L4proto), s("tcp")),
                        tcp_syn(),
                        clamp_mss(),
                    ],
                    "clamp MSS to route MTU on uplinks",
                );
            }
        }
    }

    /// Which uplink a connection uses: a mark chosen on its first packet (pinning, then a
    /// weighted random share over the healthy ISPs), kept in conntrack and restored on every
    /// later packet, so a connection never changes uplink. The routing rules map marks to the
    /// uplinks' tables.
    fn uplink_marks(&mut self, healthy: &dyn Fn(&str) -> bool) {
        let config = self.config;
        if config.uplinks.is_empty() {
            return;
        }
        let set_marks = |m: u32| {
            vec![
                mangle(meta(MetaKey::Mark), num(m)),
                mangle(ct("mark"), meta(MetaKey::Mark)),
            ]
        };
        self.rule(
            "uplinks",
            vec![
                ne(ct("mark"), num(0)),
                mangle(meta(MetaKey::Mark), ct("mark")),
            ],
            "restore the connection's uplink",
        );
        for up in &config.uplinks {
            let Some(mark) = config.uplink_mark(&up.name) else {
                continue;
            };
            let mut m = vec![
                eq(meta(MetaKey::Iifname), s(&up.interface)),
                is_in(ct("state"), Expression::List(vec![s("new")])),
            ];
            m.extend(set_marks(mark));
            self.rule(
                "uplinks",
                m,
                format!("connections arriving on {} stay on it", up.name),
            );
        }
        let internal_ifs: Vec<String> = self.internal_interfaces();
        let in_use = config.isps_in_use(healthy);
        if internal_ifs.is_empty() || in_use.is_empty() {
            return;
        }
        self.add(crate::nft::chain("lb_new"));
        for v6 in [false, true] {
            self.rule(
                "uplinks",
                vec![
                    ifname_match(MetaKey::Iifname, internal_ifs.clone()),
                    nfproto(v6),
                    is_in(ct("state"), Expression::List(vec![s("new")])),
                    eq(meta(MetaKey::Mark), num(0)),
                    ne(
                        addr(v6, "daddr"),
                        set_ref(&format!("{INTERNAL}_{}", fam(v6))),
                    ),
                    ne(addr(v6, "daddr"), set_ref(&format!("{GOV}_{}", fam(v6)))),
                    jump("lb_new"),
                ],
                "new Internet connections choose an uplink",
            );
        }
        for up in &in_use {
            let Some(mark) = config.uplink_mark(&up.name) else {
                continue;
            };
            // (address field, set name without family, label) of each pin of this uplink.
            let pins = up
                .pinned_zones
                .iter()
                .map(|z| ("saddr", format!("zone_{z}"), format!("zone {z}")))
                .chain(
                    up.pinned_destination_groups
                        .iter()
                        .map(|g| ("daddr", format!("grp_{g}"), g.clone())),
                );
            for (field, set, label) in pins {
                for v6 in [false, true] {
                    let mut m = vec![
                        nfproto(v6),
                        eq(addr(v6, field), set_ref(&format!("{set}_{}", fam(v6)))),
                    ];
                    m.extend(set_marks(mark));
                    m.push(Statement::Return(None));
                    self.rule("lb_new", m, format!("{label} pinned to {}", up.name));
                }
            }
        }
        // Weighted share: numgen over the sum of the weights, each ISP owning a range.
        let total: u32 = in_use.iter().map(|u| u.weight.max(1)).sum();
        let mut next = 0;
        let mut entries = Vec::new();
        let mut shares = Vec::new();
        for up in &in_use {
            let Some(mark) = config.uplink_mark(&up.name) else {
                continue;
            };
            let w = up.weight.max(1);
            let key = if w == 1 {
                num(next)
            } else {
                Expression::Range(Box::new(nftables::expr::Range {
                    range: [num(next), num(next + w - 1)],
                }))
            };
            entries.push(nftables::expr::SetItem::Mapping(key, num(mark)));
            shares.push(format!("{} {w}/{total}", up.name));
            next += w;
        }
        let choice = Expression::Named(nftables::expr::NamedExpression::Map(Box::new(
            nftables::expr::Map {
                key: Expression::Named(nftables::expr::NamedExpression::Numgen(
                    nftables::expr::Numgen {
                        mode: nftables::expr::NgMode::Random,
                        ng_mod: total,
                        offset: None,
                    },
                )),
                data: Expression::Named(nftables::expr::NamedExpression::Set(entries)),
            },
        )));
        self.rule(
            "lb_new",
            vec![
                mangle(meta(MetaKey::Mark), choice),
                mangle(ct("mark"), meta(MetaKey::Mark)),
            ],
            format!("share: {}", shares.join(", ")),
        );
    }

    /// Blocked devices are dropped before anything else, established flows included.
    /// The interfaces of the onboarding zones (`nac.onboarding_zones`).
    fn onboarding_ifs(&self) -> Vec<String> {
        let nac = &self.config.nac;
        self.config
            .interfaces
            .iter()
            .filter(|i| !i.role.is_uplink() && nac.onboarding_zones.contains(&i.zone))
            .map(|i| i.name.clone())
            .collect()
    }

    /// Machines in an onboarding zone whose MAC is not approved (000 §5.4): nothing forwarded;
    /// to the gateway only DHCP, DNS and the waiting page (`input`); their web requests are
    /// sent to that page (`prerouting`). Approval is set membership: no reload.
    fn onboarding(&mut self, chain: &str) {
        let ifs = self.onboarding_ifs();
        if ifs.is_empty() {
            return;
        }
        let unknown = || {
            vec![
                ifname_match(MetaKey::Iifname, ifs.clone()),
                ne(payload("ether", "saddr"), set_ref(KNOWN_MAC)),
            ]
        };
        let portal = u32::from(self.config.nac.portal_port);
        match chain {
            "forward" => {
                let mut m = unknown();
                m.push(drop());
                self.rule(chain, m, "unapproved device waiting (NAC onboarding)");
            }
            "input" => {
                for (proto, ports) in [
                    ("udp", vec![num(53), num(67)]),
                    ("tcp", vec![num(53), num(portal)]),
                ] {
                    let mut m = unknown();
                    m.push(eq(meta(MetaKey::L4proto), s(proto)));
                    m.push(eq(payload("th", "dport"), anon_set(ports)));
                    m.push(accept());
                    self.rule(
                        chain,
                        m,
                        format!("unapproved device: DHCP, DNS, waiting page ({proto})"),
                    );
                }
                let mut m = unknown();
                m.push(drop());
                self.rule(chain, m, "unapproved device: nothing else to the gateway");
            }
            "prerouting" => {
                let mut m = unknown();
                m.push(eq(meta(MetaKey::L4proto), s("tcp")));
                m.push(eq(payload("th", "dport"), num(80)));
                m.push(Statement::Redirect(Some(NAT {
                    addr: None,
                    family: None,
                    port: Some(num(portal)),
                    flags: None,
                })));
                self.rule(
                    chain,
                    m,
                    "unapproved device: web requests to the waiting page",
                );
            }
            _ => {}
        }
    }

    fn blocked_devices(&mut self, chain: &str) {
        let lan_ifs: Vec<String> = self.internal_interfaces();
        for v6 in [false, true] {
            let set = format!("{BLOCKED}_{}", fam(v6));
            for field in ["saddr", "daddr"] {
                self.rule(
                    chain,
                    vec![nfproto(v6), eq(addr(v6, field), set_ref(&set)), drop()],
                    format!("blocked device ({field})"),
                );
            }
        }
        if !lan_ifs.is_empty() {
            self.rule(
                chain,
                vec![
                    ifname_match(MetaKey::Iifname, lan_ifs),
                    eq(payload("ether", "saddr"), set_ref(BLOCKED_MAC)),
                    drop(),
                ],
                "blocked device (MAC)",
            );
        }
    }

    /// New connections from the internal zones — a TCP SYN, the first datagram of a UDP flow —
    /// are logged to [`LOG_GROUP_CONN`] for the gateway's own scan and password-guessing
    /// counters, which stand in for the IDS where it does not watch (000 §5.10.b). Placed after
    /// the conntrack fast path (only new flows get here) and before any verdict (a scan of
    /// closed or forbidden ports counts too); rate-limited per rule.
    fn connection_attempts(&mut self, chain: &str) {
        let ifs: Vec<String> = self.internal_interfaces();
        if ifs.is_empty() {
            return;
        }
        let quiet: Vec<Expr> = CONN_UDP_QUIET_PORTS
            .iter()
            .map(|p| num(u32::from(*p)))
            .collect();
        for (proto, first_packet) in [
            ("tcp", tcp_syn_only()),
            ("udp", ne(payload("udp", "dport"), anon_set(quiet.clone()))),
        ] {
            self.objects.push(rule(
                chain,
                vec![
                    ifname_match(MetaKey::Iifname, ifs.clone()),
                    eq(meta(MetaKey::L4proto), s(proto)),
                    first_packet,
                    limit(CONN_LOG_RATE, CONN_LOG_RATE.saturating_mul(2), false),
                    nflog(LOG_GROUP_CONN, CONN_PREFIX),
                ],
                Some(format!(
                    "connection attempt ({proto}) to the scan and password-guessing counters"
                )),
            ));
        }
    }

    fn conntrack_fast_path(&mut self, chain: &str) {
        self.rule(
            chain,
            vec![
                is_in(
                    ct("state"),
                    Expression::List(vec![s("established"), s("related")]),
                ),
                accept(),
            ],
            "established/related",
        );
        self.rule(
            chain,
            vec![
                is_in(ct("state"), Expression::List(vec![s("invalid")])),
                drop(),
            ],
            "invalid",
        );
    }

    /// Source addresses must belong to the zone (its prefixes, or devices moved into it).
    fn anti_spoof(&mut self, chain: &str, zone: &str) {
        let Some(z) = self.config.zone(zone) else {
            return;
        };
        if !z.kind.is_internal() {
            return;
        }
        for v6 in [false, true] {
            let mut m = vec![nfproto(v6)];
            if v6 {
                // Link-local sources are legitimate towards the gateway (ND, DHCPv6).
                m.push(ne(addr(true, "saddr"), raw_prefix("fe80::", 10)));
            }
            m.push(ne(addr(v6, "saddr"), set_ref(&zone_set(zone, v6))));
            m.push(ne(addr(v6, "saddr"), set_ref(&devzone_set(zone, v6))));
            self.logged_drop(
                chain,
                m,
                format!("ew:spoof:{chain}"),
                format!("source not in zone {zone} (spoofed)"),
                Some(zone.into()),
                format!("anti-spoof {zone}"),
            );
        }
    }

    /// Rate-limited log, then drop: the end of every zone chain.
    fn default_deny(&mut self, chain: &str, zone: &str, direction: &str) {
        self.logged_drop(
            chain,
            vec![],
            format!("ew:deny:{chain}"),
            format!("default deny {direction} from {zone}"),
            Some(zone.into()),
            format!("default deny {zone}"),
        );
    }

    fn dispatch(&mut self, chain: &str, prefix_name: &str) {
        let config = self.config;
        // Devices moved to another zone are handled by that zone's chain — only when their
        // packets come in on an interface of the zone their address belongs to (their home
        // zone), never from an uplink or another zone with a forged source address. The rules
        // depend on the zones alone, so moving a device changes set elements only.
        let homes: Vec<(String, Vec<String>)> = self
            .internal_zones()
            .into_iter()
            .map(|z| {
                let ifs = config.zone_interfaces(&z).map(|i| i.name.clone()).collect();
                (z, ifs)
            })
            .filter(|(z, ifs): &(String, Vec<String>)| {
                !ifs.is_empty() && config.zone(z).is_some_and(|z| !z.prefixes.is_empty())
            })
            .collect();
        for zone in self.internal_zones() {
            for (home, ifs) in homes.iter().filter(|(h, _)| *h != zone) {
                for v6 in [false, true] {
                    self.rule(
                        chain,
                        vec![
                            ifname_match(MetaKey::Iifname, ifs.clone()),
                            nfproto(v6),
                            eq(addr(v6, "saddr"), set_ref(&zone_set(home, v6))),
                            eq(addr(v6, "saddr"), set_ref(&devzone_set(&zone, v6))),
                            jump(&format!("{prefix_name}_{zone}")),
                        ],
                        format!("devices of {home} moved to {zone}"),
                    );
                }
            }
        }
        for itf in &config.interfaces {
            self.rule(
                chain,
                vec![
                    eq(meta(MetaKey::Iifname), s(&itf.name)),
                    jump(&format!("{prefix_name}_{}", itf.zone)),
                ],
                format!("from {} ({})", itf.name, itf.zone),
            );
        }
        self.log_rule(
            chain,
            vec![],
            format!("ew:deny:{chain}"),
            LogRule {
                description: format!("{chain}: unknown interface"),
                zone: None,
                action: "drop",
            },
            LOG_GROUP_DENY,
        );
    }

    /// Zones that have a chain: every zone with an interface, and internal zones devices are moved to.
    fn chain_zones(&self) -> Vec<String> {
        let mut zones: Vec<String> = Vec::new();
        for itf in &self.config.interfaces {
            if !zones.contains(&itf.zone) {
                zones.push(itf.zone.clone());
            }
        }
        for d in &self.config.devices {
            if let Some(z) = &d.move_to {
                if !zones.contains(z) {
                    zones.push(z.clone());
                }
            }
        }
        for z in self.internal_zones() {
            if !zones.contains(&z) {
                zones.push(z);
            }
        }
        zones
    }

    fn input(&mut self) -> Result<(), RenderError> {
        let config = self.config;
        self.blocked_devices("input");
        self.onboarding("input");
        self.conntrack_fast_path("input");
        self.connection_attempts("input");
        self.rule(
            "input",
            vec![eq(meta(MetaKey::Iifname), s("lo")), accept()],
            "loopback",
        );
        // ICMPv6 the network cannot work without (RFC 4890), and ICMP errors.
        let icmp6 = [
            "destination-unreachable",
            "packet-too-big",
            "time-exceeded",
            "parameter-problem",
            "nd-router-solicit",
            "nd-router-advert",
            "nd-neighbor-solicit",
            "nd-neighbor-advert",
        ];
        self.rule(
            "input",
            vec![
                eq(meta(MetaKey::L4proto), s("ipv6-icmp")),
                eq(
                    payload("icmpv6", "type"),
                    anon_set(icmp6.into_iter().map(s).collect()),
                ),
                accept(),
            ],
            "icmpv6 essentials",
        );
        self.rule(
            "input",
            vec![
                eq(meta(MetaKey::L4proto), s("icmp")),
                eq(
                    payload("icmp", "type"),
                    anon_set(
                        [
                            "destination-unreachable",
                            "time-exceeded",
                            "parameter-problem",
                        ]
                        .into_iter()
                        .map(s)
                        .collect(),
                    ),
                ),
                accept(),
            ],
            "icmp essentials",
        );
        // New connections to the gateway itself, per source: a flood is throttled and logged.
        let rate = config.firewall.new_connections_per_second.max(1);
        self.add(crate::nft::chain("rate_limited"));
        self.log_rule(
            "rate_limited",
            vec![],
            "ew:rate:input".into(),
            LogRule {
                description: format!(
                    "more than {rate} new connections/s to the gateway from one source"
                ),
                zone: None,
                action: "drop",
            },
            LOG_GROUP_RATE,
        );
        self.rule("rate_limited", vec![drop()], "rate limited");
        for v6 in [false, true] {
            self.rule(
                "input",
                vec![
                    nfproto(v6),
                    is_in(ct("state"), Expression::List(vec![s("new")])),
                    meter_over(
                        &format!("conn_rate_{}", fam(v6)),
                        addr(v6, "saddr"),
                        rate,
                        rate.saturating_mul(2),
                    ),
                    jump("rate_limited"),
                ],
                "new-connection rate limit per source",
            );
        }
        self.dispatch("input", "in");
        for zone in self.chain_zones() {
            let chain = format!("in_{zone}");
            self.add(crate::nft::chain(&chain));
            let zone_policies: Vec<(usize, &edgeward_config::Policy)> = config
                .policies
                .iter()
                .enumerate()
                .filter(|(_, p)| p.from == zone && p.to == GATEWAY_ZONE)
                .collect();
            // DHCP clients have no address yet: answer them before anti-spoofing.
            if zone_policies.iter().any(|(_, p)| {
                p.action == Action::Allow
                    && p.services.iter().any(|s| s == "dhcp" || s == services::ANY)
            }) {
                self.rule(
                    &chain,
                    vec![
                        eq(meta(MetaKey::L4proto), s("udp")),
                        eq(payload("udp", "dport"), anon_set(vec![num(67), num(547)])),
                        accept(),
                    ],
                    format!("dhcp from {zone}"),
                );
            }
            self.anti_spoof(&chain, &zone);
            if config.management.admin_zones.contains(&zone) {
                let m = &config.management;
                self.rule(
                    &chain,
                    vec![
                        eq(meta(MetaKey::L4proto), s("tcp")),
                        eq(
                            payload("tcp", "dport"),
                            anon_set(
                                [m.ui_port, m.metrics_port]
                                    .into_iter()
                                    .chain(m.ssh.enabled.then_some(m.ssh_port))
                                    .map(|p| num(p.into()))
                                    .collect(),
                            ),
                        ),
                        accept(),
                    ],
                    format!("admin access from {zone}"),
                );
            }
            for (i, p) in zone_policies {
                for l4 in selectors(config, i, &p.services)? {
                    let mut stmts = Vec::new();
                    if let Some(v6) = l4.family() {
                        stmts.push(nfproto(v6));
                    }
                    stmts.extend(l4.stmts());
                    self.policy_verdict(&chain, stmts, i, p);
                }
            }
            self.default_deny(&chain, &zone, "to the gateway");
        }
        Ok(())
    }

    fn policy_verdict(
        &mut self,
        chain: &str,
        stmts: Vec<Stmt>,
        index: usize,
        p: &edgeward_config::Policy,
    ) {
        let desc = format!("policy[{index}] {}->{}", p.from, p.to);
        let desc = if p.comment.is_empty() {
            desc
        } else {
            format!("{desc} ({})", p.comment)
        };
        match p.action {
            Action::Allow => {
                let mut s = stmts;
                if p.log {
                    self.log_rule(
                        chain,
                        s.clone(),
                        format!("ew:policy:{index}"),
                        LogRule {
                            description: desc.clone(),
                            zone: Some(p.from.clone()),
                            action: "allow",
                        },
                        LOG_GROUP_DENY,
                    );
                }
                s.push(accept());
                self.rule(chain, s, desc);
            }
            Action::Deny => self.logged_drop(
                chain,
                stmts,
                format!("ew:policy:{index}"),
                desc.clone(),
                Some(p.from.clone()),
                desc,
            ),
        }
    }

    /// Destination constraints per family for a policy towards `to_kind`.
    fn destination_variants(
        &self,
        to_kind: ZoneKind,
        p: &edgeward_config::Policy,
    ) -> Result<Vec<DestVariant>, RenderError> {
        let config = self.config;
        if !p.destinations.is_empty() || !p.destination_groups.is_empty() {
            let mut out = Vec::new();
            for v6 in [false, true] {
                let explicit: Vec<Expr> = p
                    .destinations
                    .iter()
                    .filter(|n| n.is_ipv6() == v6)
                    .map(prefix)
                    .collect();
                if !explicit.is_empty() {
                    out.push((Some(v6), Some(anon_set(explicit))));
                }
                // A group is referenced as a set even when it has no member of this family today:
                // its members may change without a reload.
                for g in &p.destination_groups {
                    config
                        .address_group(g)
                        .ok_or_else(|| RenderError::UnknownGroup(g.clone()))?;
                    out.push((Some(v6), Some(set_ref(&group_set(g, v6)))));
                }
            }
            return Ok(out);
        }
        if to_kind == ZoneKind::Tslcd {
            let prefixes = config.government_prefixes();
            let gov: Vec<bool> = [false, true]
                .into_iter()
                .filter(|v6| prefixes.iter().any(|n| n.is_ipv6() == *v6))
                .collect();
            return Ok(gov
                .into_iter()
                .map(|v6| (Some(v6), Some(set_ref(&format!("{GOV}_{}", fam(v6))))))
                .collect());
        }
        Ok(vec![(None, None)])
    }

    fn forward(&mut self) -> Result<(), RenderError> {
        let config = self.config;
        self.blocked_devices("forward");
        self.onboarding("forward");
        self.conntrack_fast_path("forward");
        self.connection_attempts("forward");
        // Government prefixes leave only through the TSLCD, whatever the routing says.
        let isp_ifs: Vec<String> = config
            .uplinks
            .iter()
            .filter(|u| u.kind == UplinkKind::Internet)
            .map(|u| u.interface.clone())
            .collect();
        let gov = config.government_prefixes();
        if !isp_ifs.is_empty() {
            for v6 in [false, true] {
                if gov.iter().any(|g| g.is_ipv6() == v6) {
                    let m = vec![
                        ifname_match(MetaKey::Oifname, isp_ifs.clone()),
                        nfproto(v6),
                        eq(addr(v6, "daddr"), set_ref(&format!("{GOV}_{}", fam(v6)))),
                    ];
                    self.logged_drop(
                        "forward",
                        m,
                        format!("ew:govleak:{}", fam(v6)),
                        "government prefix towards an ISP (never leaked)".into(),
                        None,
                        "government prefixes never via an ISP".into(),
                    );
                }
            }
        }
        self.dispatch("forward", "fwd");
        for zone in self.chain_zones() {
            let chain = format!("fwd_{zone}");
            self.add(crate::nft::chain(&chain));
            self.anti_spoof(&chain, &zone);
            let kind = config.zone(&zone).map(|z| z.kind);
            // Non-computer devices: no Internet except the update groups (003 §21.3.c).
            if kind.is_some_and(edgeward_config::ZoneKind::is_internal) && !isp_ifs.is_empty() {
                for v6 in [false, true] {
                    let m = vec![
                        ifname_match(MetaKey::Oifname, isp_ifs.clone()),
                        nfproto(v6),
                        eq(
                            addr(v6, "saddr"),
                            set_ref(&format!("{NO_INTERNET}_{}", fam(v6))),
                        ),
                        ne(
                            addr(v6, "daddr"),
                            set_ref(&format!("{NO_INTERNET_ALLOW}_{}", fam(v6))),
                        ),
                    ];
                    self.logged_drop(
                        &chain,
                        m,
                        format!("ew:nointernet:{chain}_{}", fam(v6)),
                        "device without Internet access (003 §21.3.c)".into(),
                        Some(zone.clone()),
                        "no Internet for this device (003 §21.3.c)".into(),
                    );
                }
            }
            self.published_services(&chain, &zone);
            let policies: Vec<(usize, &edgeward_config::Policy)> = config
                .policies
                .iter()
                .enumerate()
                .filter(|(_, p)| p.from == zone && p.to != GATEWAY_ZONE)
                .collect();
            for (i, p) in policies {
                let to_kind =
                    config
                        .zone(&p.to)
                        .map(|z| z.kind)
                        .ok_or_else(|| RenderError::UnknownZone {
                            index: i,
                            zone: p.to.clone(),
                        })?;
                let out_ifs: Vec<String> = config
                    .zone_interfaces(&p.to)
                    .map(|i| i.name.clone())
                    .collect();
                if to_kind.is_uplink() && out_ifs.is_empty() {
                    continue; // an uplink zone without an interface cannot be reached
                }
                let dests = self.destination_variants(to_kind, p)?;
                for l4 in selectors(config, i, &p.services)? {
                    for (family, dest) in &dests {
                        let f = match (l4.family(), *family) {
                            (Some(a), Some(b)) if a != b => continue,
                            (a, b) => a.or(b),
                        };
                        if to_kind.is_internal() {
                            // Internal zones are matched by address, so moved devices follow their zone.
                            let fams = match f {
                                Some(v6) => vec![v6],
                                None => vec![false, true],
                            };
                            for v6 in fams {
                                let extra: Vec<Stmt> = dest
                                    .clone()
                                    .filter(|_| *family == Some(v6))
                                    .map(|d| eq(addr(v6, "daddr"), d))
                                    .into_iter()
                                    .collect();
                                let home = [
                                    eq(addr(v6, "daddr"), set_ref(&zone_set(&p.to, v6))),
                                    ne(addr(v6, "daddr"), set_ref(&devout_set(&p.to, v6))),
                                ];
                                let moved_in =
                                    [eq(addr(v6, "daddr"), set_ref(&devzone_set(&p.to, v6)))];
                                for target in [&home[..], &moved_in[..]] {
                                    let mut st = vec![nfproto(v6)];
                                    st.extend_from_slice(target);
                                    st.extend(extra.iter().cloned());
                                    st.extend(l4.stmts());
                                    self.policy_verdict(&chain, st, i, p);
                                }
                            }
                        } else {
                            let mut st = vec![ifname_match(MetaKey::Oifname, out_ifs.clone())];
                            if let Some(v6) = f {
                                st.push(nfproto(v6));
                                if let Some(d) = dest.clone() {
                                    st.push(eq(addr(v6, "daddr"), d));
                                }
                            }
                            st.extend(l4.stmts());
                            self.policy_verdict(&chain, st, i, p);
                        }
                    }
                }
            }
            let direction = if kind.is_some_and(edgeward_config::ZoneKind::is_uplink) {
                "inbound"
            } else {
                "forwarded"
            };
            self.default_deny(&chain, &zone, direction);
        }
        Ok(())
    }

    /// DNATed connections to published servers: from the uplink they are published on, and from
    /// internal zones that may reach that uplink's zone (hairpin).
    fn published_services(&mut self, chain: &str, zone: &str) {
        let config = self.config;
        let Some(kind) = config.zone(zone).map(|z| z.kind) else {
            return;
        };
        for f in &config.port_forwards {
            let Some(up) = config.uplink(&f.uplink) else {
                continue;
            };
            let Some(up_zone) = config.interface(&up.interface).map(|i| i.zone.clone()) else {
                continue;
            };
            // Hairpin: only for a zone that may reach that uplink's zone without a destination
            // restriction (a policy limited to, say, the update mirrors does not cover the
            // gateway's own public address), and never from quarantine.
            let applies = if kind.is_uplink() {
                up_zone == zone
            } else {
                kind != edgeward_config::ZoneKind::Quarantine
                    && config.policies.iter().any(|p| {
                        p.from == zone
                            && p.to == up_zone
                            && p.action == Action::Allow
                            && p.destinations.is_empty()
                            && p.destination_groups.is_empty()
                    })
            };
            if !applies {
                continue;
            }
            let v6 = f.to_address.is_ipv6();
            let mut stmts = vec![
                nfproto(v6),
                eq(meta(MetaKey::L4proto), s(proto_name(f.protocol))),
                eq(addr(v6, "daddr"), s(f.to_address.to_string())),
                eq(
                    payload("th", "dport"),
                    num(f.to_port.unwrap_or(f.port).into()),
                ),
            ];
            if kind.is_uplink() && !f.allow_from.is_empty() {
                stmts.push(eq(
                    addr(v6, "saddr"),
                    anon_set(
                        f.allow_from
                            .iter()
                            .filter(|n| n.is_ipv6() == v6)
                            .map(prefix)
                            .collect(),
                    ),
                ));
            }
            stmts.push(is_in(ct("status"), Expression::List(vec![s("dnat")])));
            stmts.push(accept());
            let label = if kind.is_uplink() {
                "published"
            } else {
                "published (hairpin)"
            };
            self.rule(chain, stmts, format!("{label} {}", f.name));
        }
    }

    fn nat(&mut self) {
        let config = self.config;
        self.onboarding("prerouting");
        for up in config.uplinks.iter().filter(|u| u.masquerade) {
            self.rule(
                "postrouting",
                vec![eq(meta(MetaKey::Oifname), s(&up.interface)), masquerade()],
                format!("masquerade {}", up.name),
            );
        }
        for f in &config.port_forwards {
            let Some(up) = config.uplink(&f.uplink) else {
                continue;
            };
            let v6 = f.to_address.is_ipv6();
            let dnat = Statement::DNAT(Some(NAT {
                addr: Some(s(f.to_address.to_string())),
                family: Some(if v6 { NATFamily::IP6 } else { NATFamily::IP }),
                port: Some(num(f.to_port.unwrap_or(f.port).into())),
                flags: None,
            }));
            let l4 = [
                nfproto(v6),
                eq(meta(MetaKey::L4proto), s(proto_name(f.protocol))),
                eq(payload("th", "dport"), num(f.port.into())),
            ];
            let mut from_uplink = vec![eq(meta(MetaKey::Iifname), s(&up.interface))];
            from_uplink.extend(l4.clone());
            from_uplink.push(dnat.clone());
            self.rule("prerouting", from_uplink, format!("publish {}", f.name));
            // Hairpin: internal clients using the public address reach the server too.
            let wan_addrs: Vec<Expr> = config
                .interface(&up.interface)
                .map(|i| {
                    i.addresses
                        .iter()
                        .filter(|a| a.is_ipv6() == v6)
                        .map(|a| s(a.ip().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            let internal_ifs: Vec<String> = config
                .interfaces
                .iter()
                .filter(|i| !i.role.is_uplink())
                .map(|i| i.name.clone())
                .collect();
            if !wan_addrs.is_empty() && !internal_ifs.is_empty() {
                let mut hairpin = vec![ifname_match(MetaKey::Iifname, internal_ifs)];
                hairpin.extend(l4.clone());
                hairpin.push(eq(addr(v6, "daddr"), anon_set(wan_addrs)));
                hairpin.push(dnat);
                self.rule(
                    "prerouting",
                    hairpin,
                    format!("publish {} (hairpin)", f.name),
                );
                // Replies from a server to a client in its own zone must come back through us.
                if let Some(server_if) = config.interfaces.iter().find(|i| {
                    i.addresses
                        .iter()
                        .any(|a| a.contains(f.to_address) && a.prefix() < if v6 { 128 } else { 32 })
                }) {
                    self.rule(
                        "postrouting",
                        vec![
                            eq(meta(MetaKey::Oifname), s(&server_if.name)),
                            nfproto(v6),
                            eq(addr(v6, "daddr"), s(f.to_address.to_string())),
                            is_in(ct("status"), Expression::List(vec![s("dnat")])),
                            eq(meta(MetaKey::Iifname), s(&server_if.name)),
                            masquerade(),
                        ],
                        format!("hairpin masquerade {}", f.name),
                    );
                }
            }
        }
    }
}

fn proto_name(p: TransportProtocol) -> &'static str {
    match p {
        TransportProtocol::Tcp => "tcp",
        TransportProtocol::Udp => "udp",
    }
}
