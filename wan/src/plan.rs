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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub dst: IpNetwork,
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
        match &self.kind {
            RouteKind::Unreachable => format!(
                "unreachable {dst} metric {} proto {ROUTE_PROTO}",
                self.metric
            ),
            RouteKind::Unicast(hops) if hops.len() == 1 => format!(
                "{dst} via {} dev {} metric {} proto {ROUTE_PROTO}",
                hops[0].via, hops[0].dev, self.metric
            ),
            RouteKind::Unicast(hops) => {
                let mut s = format!("{dst} metric {} proto {ROUTE_PROTO}", self.metric);
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
    for v6 in [false, true] {
        let hops: Vec<NextHop> = config
            .uplinks
            .iter()
            .filter(|u| u.kind == UplinkKind::Internet && healthy(&u.name))
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
            let dst: IpNetwork = if v6 {
                IpNetwork::new(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED), 0)
            } else {
                IpNetwork::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0)
            }
            .unwrap_or_else(|_| unreachable_default());
            routes.push(RouteSpec {
                dst,
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
                metric: GOV_FALLBACK_METRIC,
                kind: RouteKind::Unreachable,
                purpose: "government prefix never falls back to an ISP".into(),
            });
        }
    }

    let sysctls = [
        ("net.ipv4.ip_forward", "1"),
        ("net.ipv6.conf.all.forwarding", "1"),
        // Hash multipath on the 5-tuple, so each connection sticks to one ISP.
        ("net.ipv4.fib_multipath_hash_policy", "1"),
        ("net.ipv6.fib_multipath_hash_policy", "1"),
        // Anti-spoofing is done by the firewall per zone; loose mode keeps multipath replies working.
        ("net.ipv4.conf.all.rp_filter", "2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();

    NetPlan {
        links,
        routes,
        sysctls,
    }
}

fn unreachable_default() -> IpNetwork {
    IpNetwork::V4(ipnetwork::Ipv4Network::from(
        std::net::Ipv4Addr::UNSPECIFIED,
    ))
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
            .map(|r| r.ip_args())
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
