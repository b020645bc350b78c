//! Pure renderer: config model → one nftables ruleset in the `inet edgeward` table.
//!
//! Shape of the ruleset:
//! - `input` / `forward` base chains with policy drop, an established/related fast path, invalid
//!   dropped, then a jump per ingress interface to the zone's chain (`in_<zone>`, `fwd_<zone>`).
//! - zone chains start with anti-spoofing (source must belong to the zone), then the zone's
//!   policies in order; whatever falls through is dropped by the base chain's policy.
//! - government prefixes never leave through an ISP (a guard rule before any policy).
//! - `postrouting` masquerades on uplinks that ask for it; `prerouting` DNATs published servers.

use std::borrow::Cow;

use edgeward_config::{
    Action, Config, GATEWAY_ZONE, PortForward, TransportProtocol, UplinkKind, ZoneKind, services,
};
use ipnetwork::IpNetwork;
use nftables::expr::{Expression, MetaKey};
use nftables::schema::{NfCmd, NfListObject, NfObject, Nftables};
use nftables::stmt::{NAT, NATFamily, Statement};
use nftables::types::{NfChainPolicy, NfChainType, NfHook};

use crate::nft::*;

/// Why a config could not be rendered (only reachable with an unvalidated config).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("policy[{index}] refers to unknown service `{service}`")]
    UnknownService { index: usize, service: String },
    #[error("policy[{index}] refers to unknown zone `{zone}`")]
    UnknownZone { index: usize, zone: String },
}

/// A rendered ruleset: the objects of one atomic nft transaction that replaces the edgeward table.
#[derive(Debug, Clone, PartialEq)]
pub struct Ruleset {
    /// Table, sets, chains and rules, in creation order.
    pub objects: Vec<NfListObject<'static>>,
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
}

fn zone_set(zone: &str, v6: bool) -> String {
    format!("zone_{zone}_{}", if v6 { "v6" } else { "v4" })
}
const GOV_V4: &str = "gov_v4";
const GOV_V6: &str = "gov_v6";

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
        tcp.extend(def.tcp.iter().map(|r| range(r.first, r.last)));
        udp.extend(def.udp.iter().map(|r| range(r.first, r.last)));
        echo |= def.icmp_echo;
    }
    dedup(&mut tcp);
    dedup(&mut udp);
    let mut out = Vec::new();
    if !tcp.is_empty() {
        out.push(L4::Ports {
            proto: "tcp",
            ports: tcp,
        });
    }
    if !udp.is_empty() {
        out.push(L4::Ports {
            proto: "udp",
            ports: udp,
        });
    }
    if echo {
        out.push(L4::Echo { v6: false });
        out.push(L4::Echo { v6: true });
    }
    Ok(out)
}

fn dedup(v: &mut Vec<Expr>) {
    let mut seen = Vec::new();
    v.retain(|e| {
        let key = serde_json::to_string(e).unwrap_or_default();
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
}

fn ifnames(config: &Config, zone: &str) -> Expr {
    let names: Vec<Expr> = config.zone_interfaces(zone).map(|i| s(&i.name)).collect();
    if names.len() == 1 {
        names.into_iter().next().unwrap_or_else(|| s(""))
    } else {
        anon_set(names)
    }
}

/// Destination constraint per family: `None` = no constraint for that family, `Some(expr)` =
/// `daddr` must be in it; a family absent from the list is not allowed at all.
fn destination_variants(
    config: &Config,
    to_kind: Option<ZoneKind>,
    dests: &[IpNetwork],
) -> Vec<(Option<bool>, Option<Expr>)> {
    let gov = config
        .uplinks
        .iter()
        .filter(|u| u.kind == UplinkKind::Tslcd)
        .flat_map(|u| u.government_prefixes.iter().copied())
        .collect::<Vec<_>>();
    let by_family = |list: &[IpNetwork], v6: bool| -> Vec<Expr> {
        list.iter()
            .filter(|n| n.is_ipv6() == v6)
            .map(prefix)
            .collect()
    };
    if !dests.is_empty() {
        return [false, true]
            .into_iter()
            .filter_map(|v6| {
                let items = by_family(dests, v6);
                (!items.is_empty()).then(|| (Some(v6), Some(anon_set(items))))
            })
            .collect();
    }
    if to_kind == Some(ZoneKind::Tslcd) {
        return [false, true]
            .into_iter()
            .filter(|v6| gov.iter().any(|n| n.is_ipv6() == *v6))
            .map(|v6| (Some(v6), Some(set_ref(if v6 { GOV_V6 } else { GOV_V4 }))))
            .collect();
    }
    vec![(None, None)]
}

struct Renderer<'a> {
    config: &'a Config,
    objects: Vec<NfListObject<'static>>,
}

/// Render the whole ruleset for `config`.
pub fn render(config: &Config) -> Result<Ruleset, RenderError> {
    let mut r = Renderer {
        config,
        objects: vec![table_obj()],
    };
    r.sets();
    r.base_chains();
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
    Ok(Ruleset { objects: r.objects })
}

impl Renderer<'_> {
    fn add(&mut self, obj: NfListObject<'static>) {
        self.objects.push(obj);
    }
    fn rule(&mut self, chain: &str, stmts: Vec<Stmt>, comment: impl Into<Option<String>>) {
        self.objects.push(rule(chain, stmts, comment.into()));
    }

    fn sets(&mut self) {
        for z in self.config.zones.iter().filter(|z| z.kind.is_internal()) {
            for v6 in [false, true] {
                self.objects
                    .push(address_set(&zone_set(&z.name, v6), v6, &z.prefixes));
            }
        }
        let gov: Vec<IpNetwork> = self
            .config
            .uplinks
            .iter()
            .filter(|u| u.kind == UplinkKind::Tslcd)
            .flat_map(|u| u.government_prefixes.iter().copied())
            .collect();
        self.objects.push(address_set(GOV_V4, false, &gov));
        self.objects.push(address_set(GOV_V6, true, &gov));
    }

    fn base_chains(&mut self) {
        use NfChainPolicy::{Accept, Drop};
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
            "established/related".to_string(),
        );
        self.rule(
            chain,
            vec![
                is_in(ct("state"), Expression::List(vec![s("invalid")])),
                counter(),
                drop(),
            ],
            "invalid".to_string(),
        );
    }

    /// Source addresses must belong to the ingress zone.
    fn anti_spoof(&mut self, chain: &str, zone: &str) {
        let Some(z) = self.config.zone(zone) else {
            return;
        };
        if !z.kind.is_internal() {
            return;
        }
        for v6 in [false, true] {
            if z.prefixes.iter().any(|p| p.is_ipv6() == v6) {
                let mut stmts = vec![nfproto(v6)];
                if v6 {
                    // Link-local sources are legitimate towards the gateway (ND, DHCPv6).
                    stmts.push(ne(addr(true, "saddr"), raw_prefix("fe80::", 10)));
                }
                stmts.push(ne(addr(v6, "saddr"), set_ref(&zone_set(zone, v6))));
                stmts.extend([counter(), drop()]);
                self.rule(chain, stmts, format!("anti-spoof {zone}"));
            } else if !v6 || chain.starts_with("fwd_") {
                self.rule(
                    chain,
                    vec![nfproto(v6), counter(), drop()],
                    format!(
                        "anti-spoof {zone}: no {} prefixes",
                        if v6 { "IPv6" } else { "IPv4" }
                    ),
                );
            }
        }
    }

    fn dispatch(&mut self, chain: &str, prefix_name: &str) {
        let config = self.config;
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
    }

    fn used_zones(&self) -> Vec<String> {
        let mut zones: Vec<String> = Vec::new();
        for itf in &self.config.interfaces {
            if !zones.contains(&itf.zone) {
                zones.push(itf.zone.clone());
            }
        }
        zones
    }

    fn input(&mut self) -> Result<(), RenderError> {
        let config = self.config;
        self.conntrack_fast_path("input");
        self.rule(
            "input",
            vec![eq(meta(MetaKey::Iifname), s("lo")), accept()],
            "loopback".to_string(),
        );
        // ICMPv6 the network cannot work without (RFC 4890), and ICMP errors.
        self.rule(
            "input",
            vec![
                eq(meta(MetaKey::L4proto), s("ipv6-icmp")),
                eq(
                    payload("icmpv6", "type"),
                    anon_set(
                        [
                            "destination-unreachable",
                            "packet-too-big",
                            "time-exceeded",
                            "parameter-problem",
                            "nd-router-solicit",
                            "nd-router-advert",
                            "nd-neighbor-solicit",
                            "nd-neighbor-advert",
                        ]
                        .into_iter()
                        .map(s)
                        .collect(),
                    ),
                ),
                accept(),
            ],
            "icmpv6 essentials".to_string(),
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
            "icmp essentials".to_string(),
        );
        self.dispatch("input", "in");
        for zone in self.used_zones() {
            let chain = format!("in_{zone}");
            self.add(crate::nft::chain(&chain));
            let zone_policies: Vec<(usize, &edgeward_config::Policy)> = config
                .policies
                .iter()
                .enumerate()
                .filter(|(_, p)| p.from == zone && p.to == GATEWAY_ZONE)
                .collect();
            // DHCP clients have no address yet: answer them before anti-spoofing.
            if zone_policies
                .iter()
                .any(|(_, p)| p.action == Action::Allow && p.services.iter().any(|s| s == "dhcp"))
            {
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
                            anon_set(vec![
                                num(m.ui_port.into()),
                                num(m.ssh_port.into()),
                                num(m.metrics_port.into()),
                            ]),
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
                    stmts.push(if p.action == Action::Allow {
                        accept()
                    } else {
                        drop()
                    });
                    self.rule(&chain, stmts, format!("policy[{i}] {}->gateway", p.from));
                }
            }
        }
        Ok(())
    }

    fn forward(&mut self) -> Result<(), RenderError> {
        let config = self.config;
        self.conntrack_fast_path("forward");
        // Government prefixes leave only through the TSLCD, whatever the routing says.
        let isp_ifs: Vec<Expr> = config
            .uplinks
            .iter()
            .filter(|u| u.kind == UplinkKind::Internet)
            .map(|u| s(&u.interface))
            .collect();
        let gov: Vec<IpNetwork> = config
            .uplinks
            .iter()
            .filter(|u| u.kind == UplinkKind::Tslcd)
            .flat_map(|u| u.government_prefixes.iter().copied())
            .collect();
        if !isp_ifs.is_empty() {
            for v6 in [false, true] {
                if gov.iter().any(|g| g.is_ipv6() == v6) {
                    self.rule(
                        "forward",
                        vec![
                            eq(meta(MetaKey::Oifname), anon_set(isp_ifs.clone())),
                            nfproto(v6),
                            eq(addr(v6, "daddr"), set_ref(if v6 { GOV_V6 } else { GOV_V4 })),
                            counter(),
                            drop(),
                        ],
                        "government prefixes never via an ISP".to_string(),
                    );
                }
            }
        }
        self.dispatch("forward", "fwd");
        for zone in self.used_zones() {
            let chain = format!("fwd_{zone}");
            self.add(crate::nft::chain(&chain));
            self.anti_spoof(&chain, &zone);
            if config.zone(&zone).is_some_and(|z| z.kind.is_uplink()) {
                let forwards: Vec<&PortForward> = config
                    .port_forwards
                    .iter()
                    .filter(|f| {
                        config.uplink(&f.uplink).is_some_and(|u| {
                            config
                                .interface(&u.interface)
                                .is_some_and(|i| i.zone == zone)
                        })
                    })
                    .collect();
                for f in forwards {
                    let v6 = f.to_address.is_ipv6();
                    let proto = proto_name(f.protocol);
                    let mut stmts = vec![nfproto(v6), eq(meta(MetaKey::L4proto), s(proto))];
                    stmts.push(eq(addr(v6, "daddr"), s(f.to_address.to_string())));
                    stmts.push(eq(
                        payload("th", "dport"),
                        num(f.to_port.unwrap_or(f.port).into()),
                    ));
                    if !f.allow_from.is_empty() {
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
                    self.rule(&chain, stmts, format!("published {}", f.name));
                }
            }
            for (i, p) in config
                .policies
                .iter()
                .enumerate()
                .filter(|(_, p)| p.from == zone && p.to != GATEWAY_ZONE)
            {
                let to_kind =
                    config
                        .zone(&p.to)
                        .map(|z| z.kind)
                        .ok_or_else(|| RenderError::UnknownZone {
                            index: i,
                            zone: p.to.clone(),
                        })?;
                if config.zone_interfaces(&p.to).next().is_none() {
                    continue; // a zone with no interface cannot be reached
                }
                for l4 in selectors(config, i, &p.services)? {
                    for (family, dest) in
                        destination_variants(config, Some(to_kind), &p.destinations)
                    {
                        let fam = match (l4.family(), family) {
                            (Some(a), Some(b)) if a != b => continue,
                            (a, b) => a.or(b),
                        };
                        let mut stmts = vec![eq(meta(MetaKey::Oifname), ifnames(config, &p.to))];
                        if let Some(v6) = fam {
                            stmts.push(nfproto(v6));
                        }
                        if let (Some(d), Some(v6)) = (dest, fam) {
                            stmts.push(eq(addr(v6, "daddr"), d));
                        }
                        stmts.extend(l4.stmts());
                        stmts.push(if p.action == Action::Allow {
                            accept()
                        } else {
                            drop()
                        });
                        self.rule(&chain, stmts, format!("policy[{i}] {}->{}", p.from, p.to));
                    }
                }
            }
        }
        Ok(())
    }

    fn nat(&mut self) {
        let config = self.config;
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
            self.rule(
                "prerouting",
                vec![
                    eq(meta(MetaKey::Iifname), s(&up.interface)),
                    nfproto(v6),
                    eq(meta(MetaKey::L4proto), s(proto_name(f.protocol))),
                    eq(payload("th", "dport"), num(f.port.into())),
                    Statement::DNAT(Some(NAT {
                        addr: Some(s(f.to_address.to_string())),
                        family: Some(if v6 { NATFamily::IP6 } else { NATFamily::IP }),
                        port: Some(num(f.to_port.unwrap_or(f.port).into())),
                        flags: None,
                    })),
                ],
                format!("publish {}", f.name),
            );
        }
    }
}

fn proto_name(p: TransportProtocol) -> &'static str {
    match p {
        TransportProtocol::Tcp => "tcp",
        TransportProtocol::Udp => "udp",
    }
}
