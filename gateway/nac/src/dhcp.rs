//! dnsmasq's configuration from the model: for every internal zone with a `dhcp` range, the
//! interface it serves, the range and lease time, the gateway's address on that interface as
//! router and DNS server; static leases (the `dhcp-hostsfile`) from the inventory: a device
//! with a MAC and an address always gets that address, a blocked one is ignored. The main file
//! changes only with the zones (dnsmasq restarts, its lease file keeps the leases); the hosts
//! file changes with the inventory (dnsmasq re-reads it on SIGHUP, nothing restarts). Where a
//! zone asks for it (`dhcp.ipv6`) and its interface has an IPv6 /64, router advertisements with
//! SLAAC or stateful DHCPv6 in that prefix.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;

use edgeward_config::{Config, DeviceStatus};

/// The two files dnsmasq runs from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpFiles {
    /// The main configuration (`dnsmasq.conf`); `None` when no zone has a DHCP range.
    pub main: Option<String>,
    /// The static leases (`hosts`).
    pub hosts: String,
}

/// Render the files, with dnsmasq's state (lease file, hosts file) under `dir`.
pub fn render(config: &Config, dir: &Path) -> DhcpFiles {
    let mut main = String::new();
    let _ = writeln!(
        main,
        "# edgeward: generated from the configuration; edits are overwritten\n\
         bind-dynamic\nexcept-interface=lo\ndhcp-authoritative\n\
         dhcp-leasefile={}\ndhcp-hostsfile={}\npid-file={}",
        dir.join("leases").display(),
        dir.join("hosts").display(),
        dir.join("dnsmasq.pid").display()
    );
    let mut served = 0;
    let mut ra = false;
    for zone in config.zones.iter().filter(|z| z.kind.is_internal()) {
        let Some(dhcp) = &zone.dhcp else { continue };
        // The interface of the zone holding an address in the range's prefix: its address is
        // the router and the DNS server the clients are given.
        let Some((ifname, gw, prefix)) = config
            .interfaces
            .iter()
            .filter(|i| i.zone == zone.name && !i.role.is_uplink())
            .find_map(|i| {
                i.addresses
                    .iter()
                    .find(|a| a.contains(dhcp.from))
                    .map(|a| (i.name.clone(), a.ip(), *a))
            })
        else {
            continue;
        };
        served += 1;
        let tag = &zone.name;
        let _ = writeln!(main, "interface={ifname}");
        match (dhcp.from, prefix) {
            (IpAddr::V4(from), ipnetwork::IpNetwork::V4(net)) => {
                let _ = writeln!(
                    main,
                    "dhcp-range=set:{tag},{from},{},{},{}m",
                    dhcp.to,
                    net.mask(),
                    dhcp.lease_minutes
                );
                let _ = writeln!(main, "dhcp-option=tag:{tag},option:router,{gw}");
                let dns: Vec<String> = if dhcp.dns.is_empty() {
                    vec![gw.to_string()]
                } else {
                    dhcp.dns.iter().map(ToString::to_string).collect()
                };
                let _ = writeln!(
                    main,
                    "dhcp-option=tag:{tag},option:dns-server,{}",
                    dns.join(",")
                );
            }
            (IpAddr::V6(from), _) => {
                let _ = writeln!(
                    main,
                    "dhcp-range=set:{tag},{from},{},{}m",
                    dhcp.to, dhcp.lease_minutes
                );
            }
            _ => {}
        }
        // IPv6 on the same interface, where it has an IPv6 prefix and the zone asks for it.
        let v6 = config
            .interfaces
            .iter()
            .filter(|i| i.name == ifname)
            .flat_map(|i| i.addresses.iter())
            .find(|a| a.is_ipv6() && a.prefix() == 64);
        if let (Some(v6), true) = (v6, dhcp.ipv6 != edgeward_config::Ipv6Assign::Off) {
            if !ra {
                let _ = writeln!(main, "enable-ra");
                ra = true;
            }
            let lease = dhcp.lease_minutes;
            let _ = match dhcp.ipv6 {
                edgeward_config::Ipv6Assign::Slaac => writeln!(
                    main,
                    "dhcp-range=set:{tag}6,::,constructor:{ifname},ra-stateless,64,{lease}m"
                ),
                _ => writeln!(
                    main,
                    "dhcp-range=set:{tag}6,::1000,::1fff,constructor:{ifname},64,{lease}m"
                ),
            };
            let _ = writeln!(
                main,
                "dhcp-option=tag:{tag}6,option6:dns-server,[{}]",
                v6.ip()
            );
            // Advertise every 10 s (router lifetime 30 min): a machine whose router
            // solicitations went unanswered (plugged in while the gateway restarted) has its
            // address within seconds, not after dnsmasq's default interval of up to 10 minutes.
            let _ = writeln!(main, "ra-param={ifname},10,1800");
        }
    }
    let mut hosts = String::from("# edgeward: static leases from the inventory\n");
    for d in &config.devices {
        if d.mac.is_empty() {
            continue;
        }
        let mac = d.mac.to_ascii_lowercase();
        if d.status == DeviceStatus::Blocked {
            let _ = writeln!(hosts, "{mac},ignore");
        } else if let Some(ip) = d.ip {
            let _ = writeln!(hosts, "{mac},{ip}");
        }
    }
    DhcpFiles {
        main: (served > 0).then_some(main),
        hosts,
    }
}

/// The leases to free after the inventory went from `before` to `after` (000 §17.2.b: a device
/// removed or blocked gives back its address at once, not when its lease runs out): for every
/// MAC that was in `before` and is now absent or blocked, each of its leases as (interface
/// serving the address, address, MAC) — `served` maps the zones' prefixes to their interfaces.
pub fn leases_to_free(
    before: &[edgeward_config::Device],
    after: &[edgeward_config::Device],
    leases: &crate::leases::Leases,
    served: &[(ipnetwork::IpNetwork, String)],
) -> Vec<(String, IpAddr, String)> {
    let still_in = |mac: &str| {
        after
            .iter()
            .any(|d| d.mac.eq_ignore_ascii_case(mac) && d.status != DeviceStatus::Blocked)
    };
    let revoked: Vec<String> = before
        .iter()
        .filter(|d| d.status != DeviceStatus::Blocked && !still_in(&d.mac))
        .map(|d| d.mac.to_ascii_lowercase())
        .collect();
    leases
        .by_key
        .values()
        .filter(|l| revoked.contains(&l.mac))
        .filter_map(|l| {
            let (_, iface) = served.iter().find(|(p, _)| p.contains(l.ip))?;
            Some((iface.clone(), l.ip, l.mac.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default profile with the staff zone's `dhcp` line replaced by `line` ("" removes it).
    fn config(line: &str) -> Config {
        let profile = edgeward_config::AGENCY_DEFAULT_PROFILE;
        let start = profile
            .find("dhcp = {")
            .expect("the profile serves the staff zone");
        let end = start + profile[start..].find('\n').unwrap_or(0);
        let text = format!("{}{line}{}", &profile[..start], &profile[end..]);
        edgeward_config::parse(&text, "t.toml", edgeward_config::today())
            .unwrap_or_else(|p| panic!("{p}"))
    }

    /// IPv6 where the zone asks: RA with SLAAC, or DHCPv6 addresses from the interface's /64.
    #[test]
    fn ipv6_by_router_advertisement_or_dhcpv6() {
        let base = "dhcp = { from = \"10.10.0.100\", to = \"10.10.0.199\", lease_minutes = 60";
        let off = render(&config(&format!("{base} }}")), Path::new("/d"))
            .main
            .unwrap();
        assert!(!off.contains("enable-ra") && !off.contains("::"), "{off}");
        let slaac = render(
            &config(&format!("{base}, ipv6 = \"slaac\" }}")),
            Path::new("/d"),
        )
        .main
        .unwrap();
        assert!(slaac.contains("enable-ra\n"), "{slaac}");
        assert!(slaac.contains("ra-param=lan0,10,1800\n"), "{slaac}");
        assert!(
            slaac.contains("dhcp-range=set:staff6,::,constructor:lan0,ra-stateless,64,60m"),
            "{slaac}"
        );
        assert!(
            slaac.contains("dhcp-option=tag:staff6,option6:dns-server,[fd00:10::1]"),
            "{slaac}"
        );
        let v6 = render(
            &config(&format!("{base}, ipv6 = \"dhcpv6\" }}")),
            Path::new("/d"),
        )
        .main
        .unwrap();
        assert!(
            v6.contains("dhcp-range=set:staff6,::1000,::1fff,constructor:lan0,64,60m"),
            "{v6}"
        );
    }

    /// 000 §17.2.b: a removed or blocked device's lease is freed; others keep theirs.
    #[test]
    fn removed_and_blocked_devices_give_back_their_leases() {
        let c = config("");
        let before = c.devices.clone();
        let mut after = before.clone();
        let removed = after.remove(0);
        after[0].status = DeviceStatus::Blocked;
        let blocked = after[0].mac.clone();
        let kept = after[1].mac.clone();
        let leases = crate::leases::parse(&format!(
            "1 {} 10.10.0.150 a *\n1 {} 10.10.0.151 b *\n1 {} 10.10.0.152 c *\n1 02:ed:00:00:00:77 10.10.0.153 v *\n",
            removed.mac, blocked, kept
        ));
        let served = vec![("10.10.0.0/24".parse().unwrap(), "lan0".to_string())];
        let mut got = leases_to_free(&before, &after, &leases, &served);
        got.sort();
        let mut want = vec![
            (
                "lan0".to_string(),
                "10.10.0.150".parse().unwrap(),
                removed.mac.to_ascii_lowercase(),
            ),
            (
                "lan0".to_string(),
                "10.10.0.151".parse().unwrap(),
                blocked.to_ascii_lowercase(),
            ),
        ];
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn a_zone_with_a_range_is_served_on_its_interface_with_the_gateway_as_router() {
        let c =
            config("dhcp = { from = \"10.10.0.100\", to = \"10.10.0.199\", lease_minutes = 60 }");
        let f = render(&c, Path::new("/var/lib/edgeward/dhcp"));
        let main = f.main.expect("served");
        assert!(main.contains("interface=lan0\n"), "{main}");
        assert!(
            main.contains("dhcp-range=set:staff,10.10.0.100,10.10.0.199,255.255.255.0,60m"),
            "{main}"
        );
        assert!(main.contains("dhcp-option=tag:staff,option:router,10.10.0.1"));
        assert!(main.contains("dhcp-option=tag:staff,option:dns-server,10.10.0.1"));
        assert!(main.contains("dhcp-leasefile=/var/lib/edgeward/dhcp/leases"));
        assert!(
            !main.contains("interface=srv0"),
            "zones without a range are not served"
        );
    }

    #[test]
    fn no_range_no_server_and_the_inventory_gives_static_and_ignored_leases() {
        let c = config("");
        let f = render(&c, Path::new("/tmp/d"));
        assert_eq!(f.main, None);
        for d in &c.devices {
            if let Some(ip) = d.ip
                && d.status != DeviceStatus::Blocked
                && !d.mac.is_empty()
            {
                assert!(
                    f.hosts
                        .contains(&format!("{},{ip}", d.mac.to_ascii_lowercase())),
                    "{}",
                    f.hosts
                );
            }
        }
    }
}
