//! Pure part: from the config model, the interface addresses, routes and kernel settings the
//! gateway must have. Nothing here touches the system.

use std::net::IpAddr;

use edgeward_config::{Config, UplinkKind};
use ipnetwork::IpNetwork;

/// Routing protocol number that tags every route edgeward installs, so a reconcile can find and
/// remove its own stale routes without touching anyone else's.
pub const ROUTE_PROTO: u8 = 252;

/// Metric of the fallback `unreachable` routes for government prefixes: used only when the TSLCD
/// route is gone, so that traffic is dropped instead of following the default route to an ISP.
pub const GOV_FALLBACK_METRIC: u32 = 4000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPlan {
    pub name: String,
    pub addresses: Vec<IpNetwork>,
    pub mtu: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    pub via: IpAddr,
    pub dev: String,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteKind {
    /// Forward through these next hops (several = weighted multipath).
    Unicast(Vec<NextHop>),
    /// Refuse with ICMP unreachable.
    Unreachable,
}

/// The main routing table.
pub const MAIN_TABLE: u32 = 254;
/// Priority of the rule that consults the main table without its default route, so specific
/// routes (LAN, government prefixes) win over an uplink's mark.
pub const SUPPRESS_DEFAULT_PRIORITY: u32 = 1000;
/// Probes of an uplink carry this bit with the uplink's mark; their rules come first, so a probe
/// always leaves through its uplink — even while the main table routes that uplink's prefixes
/// to `unreachable` because it is down.
pub const PROBE_MARK_BIT: u32 = 0x100;
/// Priority of the probe rules (plus the uplink's mark).
pub const PROBE_RULE_PRIORITY: u32 = 900;
/// Rules edgeward owns live in this priority range.
pub const RULE_PRIORITIES: std::ops::RangeInclusive<u32> = 900..=1099;

/// The socket mark of an uplink's probes.
pub fn probe_mark(uplink_mark: u32) -> u32 {
    PROBE_MARK_BIT | uplink_mark
}

/// The routing mark of an uplink (its position in the config, from 1); the firewall marks
/// connections with it and the routing rules send marked packets to the uplink's table.
pub fn uplink_mark(config: &Config, name: &str) -> Option<u32> {
    config.uplink_mark(name)
}

/// The routing table of the uplink with mark `mark`.
pub fn uplink_table(mark: u32) -> u32 {
    100 + mark
}

/// A policy-routing rule edgeward installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    pub priority: u32,
    pub v6: bool,
    /// `Some((mark, mask, table))`: marked packets use that table; `None`: main without its
    /// default route.
    pub fwmark: Option<(u32, u32, u32)>,
}

impl RuleSpec {
    pub fn ip_args(&self) -> String {
        match self.fwmark {
            Some((mark, mask, table)) => format!(
                "priority {} fwmark {mark:#x}/{mask:#x} lookup {table}",
                self.priority
            ),
            None => format!(
                "priority {} lookup main suppress_prefixlength 0",
                self.priority
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub dst: IpNetwork,
    /// Routing table ([`MAIN_TABLE`] or an uplink's table).
    pub table: u32,
    pub metric: u32,
    pub kind: RouteKind,
    /// Why this route exists, for logs.
    pub purpose: String,
}

impl RouteSpec {
    pub fn is_v6(&self) -> bool {
        self.dst.is_ipv6()
    }

    /// The route as `ip route replace` arguments (after `route replace`).
    pub fn ip_args(&self) -> String {
        let dst = if self.dst.prefix() == 0 {
            "default".to_string()
        } else {
            self.dst.to_string()
        };
        let table = if self.table == MAIN_TABLE {
            String::new()
        } else {
            format!(" table {}", self.table)
        };
        match &self.kind {
            RouteKind::Unreachable => format!(
                "unreachable {dst}{table} metric {} proto {ROUTE_PROTO}",
                self.metric
            ),
            RouteKind::Unicast(hops) if hops.len() == 1 => format!(
                "{dst} via {} dev {}{table} metric {} proto {ROUTE_PROTO}{}",
                hops[0].via,
                hops[0].dev,
                self.metric,
                if self.table == MAIN_TABLE {
                    ""
                } else {
                    " onlink"
                }
            ),
            RouteKind::Unicast(hops) => {
                let mut s = format!("{dst}{table} metric {} proto {ROUTE_PROTO}", self.metric);
                for h in hops {
                    s.push_str(&format!(
                        " nexthop via {} dev {} weight {}",
                        h.via, h.dev, h.weight
                    ));
                }
                s
            }
        }
    }
}

/// Everything the network layer of the gateway must look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetPlan {
    pub links: Vec<LinkPlan>,
    pub routes: Vec<RouteSpec>,
    pub rules: Vec<RuleSpec>,
    /// `/proc/sys` paths (relative, dotted) and values.
    pub sysctls: Vec<(String, String)>,
}

/// Plan the network layer for `config`, with `healthy` naming the uplinks that may carry traffic
/// (all of them until health probing says otherwise).
pub fn plan(config: &Config, healthy: &dyn Fn(&str) -> bool) -> NetPlan {
    let links = config
        .interfaces
        .iter()
        .map(|i| LinkPlan {
            name: i.name.clone(),
            addresses: i.addresses.clone(),
            mtu: i.mtu,
        })
        .collect();

    let mut routes = Vec::new();
    let isp_in_use: Vec<String> = config
        .isps_in_use(healthy)
        .iter()
        .map(|u| u.name.clone())
        .collect();
    for v6 in [false, true] {
        let hops: Vec<NextHop> = config
            .uplinks
            .iter()
            .filter(|u| u.kind == UplinkKind::Internet && isp_in_use.contains(&u.name))
            .filter_map(|u| {
                let via = if v6 { u.gateway6 } else { Some(u.gateway) };
                via.filter(|a| a.is_ipv6() == v6).map(|via| NextHop {
                    via,
                    dev: u.interface.clone(),
                    weight: u.weight.clamp(1, 256),
                })
            })
            .collect();
        if !hops.is_empty() {
            let dst = default_route(v6);
            routes.push(RouteSpec {
                dst,
                table: MAIN_TABLE,
                metric: 100,
                kind: RouteKind::Unicast(hops),
                purpose: "default route over the healthy ISPs, weighted".into(),
            });
        }
    }
    for up in config
        .uplinks
        .iter()
        .filter(|u| u.kind == UplinkKind::Tslcd)
    {
        for gp in &up.government_prefixes {
            let via = if gp.is_ipv6() {
                up.gateway6
            } else {
                Some(up.gateway)
            };
            if let Some(via) = via.filter(|v| v.is_ipv6() == gp.is_ipv6()) {
                if healthy(&up.name) {
                    routes.push(RouteSpec {
                        dst: *gp,
                        table: MAIN_TABLE,
                        metric: 10,
                        kind: RouteKind::Unicast(vec![NextHop {
                            via,
                            dev: up.interface.clone(),
                            weight: 1,
                        }]),
                        purpose: format!("government prefix via TSLCD uplink {}", up.name),
                    });
                }
            }
            routes.push(RouteSpec {
                dst: *gp,
                table: MAIN_TABLE,
                metric: GOV_FALLBACK_METRIC,
                kind: RouteKind::Unreachable,
                purpose: "government prefix never falls back to an ISP".into(),
            });
        }
    }

    // One table per uplink with its own default route, and the rules that select it by mark.
    let mut rules = Vec::new();
    for v6 in [false, true] {
        rules.push(RuleSpec {
            priority: SUPPRESS_DEFAULT_PRIORITY,
            v6,
            fwmark: None,
        });
    }
    for up in &config.uplinks {
        let Some(mark) = uplink_mark(config, &up.name) else {
            continue;
        };
        let table = uplink_table(mark);
        for v6 in [false, true] {
            let via = if v6 { up.gateway6 } else { Some(up.gateway) };
            if let Some(via) = via.filter(|a| a.is_ipv6() == v6) {
                routes.push(RouteSpec {
                    dst: default_route(v6),
                    table,
                    metric: 100,
                    kind: RouteKind::Unicast(vec![NextHop {
                        via,
                        dev: up.interface.clone(),
                        weight: 1,
                    }]),
                    purpose: format!(
                        "uplink {}'s own table: traffic marked for it, and its probes",
                        up.name
                    ),
                });
            }
            rules.push(RuleSpec {
                priority: SUPPRESS_DEFAULT_PRIORITY + mark,
                v6,
                fwmark: Some((mark, 0xff, table)),
            });
            rules.push(RuleSpec {
                priority: PROBE_RULE_PRIORITY + mark,
                v6,
                fwmark: Some((probe_mark(mark), 0xfff, table)),
            });
        }
    }

    let sysctls = [
        ("net.ipv4.ip_forward", "1"),
        ("net.ipv6.conf.all.forwarding", "1"),
        // Hash multipath on the 5-tuple, so each connection sticks to one ISP.
        ("net.ipv4.fib_multipath_hash_policy", "1"),
        ("net.ipv6.fib_multipath_hash_policy", "1"),
        // Anti-spoofing is the firewall's job (zone sets + its own fib check on internal
        // interfaces). The kernel's filter knows nothing of uplink marks: while an uplink is
        // down it would drop the replies to that uplink's own probes, so it can never recover.
        ("net.ipv4.conf.all.rp_filter", "0"),
        ("net.ipv4.conf.default.rp_filter", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .chain(config.interfaces.iter().map(|i| {
        (
            format!("net.ipv4.conf.{}.rp_filter", i.name),
            "0".to_string(),
        )
    }))
    .collect();

    NetPlan {
        links,
        routes,
        rules,
        sysctls,
    }
}

fn default_route(v6: bool) -> IpNetwork {
    let any: IpAddr = if v6 {
        std::net::Ipv6Addr::UNSPECIFIED.into()
    } else {
        std::net::Ipv4Addr::UNSPECIFIED.into()
    };
    // A zero-length prefix is valid for either family.
    IpNetwork::new(any, 0).unwrap_or(IpNetwork::V4(ipnetwork::Ipv4Network::from(
        std::net::Ipv4Addr::UNSPECIFIED,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Config {
        edgeward_config::parse(
            edgeward_config::AGENCY_DEFAULT_PROFILE,
            "agency-default.toml",
            edgeward_config::today(),
        )
        .unwrap()
    }

    #[test]
    fn default_route_is_weighted_multipath_over_isps() {
        let p = plan(&profile(), &|_| true);
        let v4 = p
            .routes
            .iter()
            .find(|r| r.dst.prefix() == 0 && !r.is_v6())
            .unwrap();
        assert_eq!(
            v4.ip_args(),
            "default metric 100 proto 252 nexthop via 203.0.113.1 dev wan1 weight 3 nexthop via 198.51.100.1 dev wan2 weight 1"
        );
        assert!(p.routes.iter().any(|r| r.dst.prefix() == 0 && r.is_v6()));
    }

    #[test]
    fn unhealthy_isp_leaves_the_default_route() {
        let p = plan(&profile(), &|name| name != "isp1");
        let v4 = p
            .routes
            .iter()
            .find(|r| r.dst.prefix() == 0 && !r.is_v6())
            .unwrap();
        assert_eq!(
            v4.ip_args(),
            "default via 198.51.100.1 dev wan2 metric 100 proto 252"
        );
    }

    #[test]
    fn government_prefixes_go_only_via_tslcd_with_unreachable_fallback() {
        let p = plan(&profile(), &|_| true);
        let gov: Vec<String> = p
            .routes
            .iter()
            .filter(|r| r.dst.to_string() == "10.251.0.0/16")
            .map(super::RouteSpec::ip_args)
            .collect();
        assert_eq!(
            gov,
            vec![
                "10.251.0.0/16 via 10.250.0.1 dev tslcd0 metric 10 proto 252".to_string(),
                "unreachable 10.251.0.0/16 metric 4000 proto 252".to_string(),
            ]
        );
        // With the TSLCD down only the unreachable route remains: nothing leaks to an ISP.
        let down = plan(&profile(), &|name| name != "tslcd");
        let gov: Vec<&RouteSpec> = down
            .routes
            .iter()
            .filter(|r| r.dst.to_string() == "10.251.0.0/16")
            .collect();
        assert_eq!(gov.len(), 1);
        assert_eq!(gov[0].kind, RouteKind::Unreachable);
    }
}
