//! Rogue DHCP servers (000 §5.10.b: machines must not hand out addresses): any DHCP OFFER, ACK
//! or NAK on an internal segment from a server other than the gateway's own dnsmasq — told by
//! the frame's source MAC and the server identifier — or one the configuration allows
//! (`nac.allowed_dhcp_servers`, a MAC or an address). Each rogue server is reported once, then
//! again only after `repeat_after` seconds of being heard, so a server answering every probe
//! makes one finding, not one a second. A state machine handed the time.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use crate::wire::{Role, Seen};

/// A server that should not be there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RogueServer {
    /// Its MAC (the frame's source).
    pub mac: String,
    /// Its address (the frame's source, else its server identifier).
    pub ip: Ipv4Addr,
    /// The gateway interface it was heard on.
    pub interface: String,
    /// The message it sent (`OFFER`, `ACK`, `NAK`).
    pub message: &'static str,
    /// The address it offered.
    pub offered: Ipv4Addr,
}

/// The watch over one gateway's segments.
#[derive(Debug, Default)]
pub struct RogueWatch {
    own_macs: Vec<String>,
    own_ips: Vec<IpAddr>,
    allowed: Vec<String>,
    repeat_after: f64,
    reported: HashMap<String, f64>,
}

impl RogueWatch {
    /// A watch knowing the gateway's own MACs and addresses and the allowed servers (MACs or
    /// addresses as text).
    pub fn new(
        own_macs: Vec<String>,
        own_ips: Vec<IpAddr>,
        allowed: Vec<String>,
        repeat_after: f64,
    ) -> Self {
        RogueWatch {
            own_macs: own_macs
                .into_iter()
                .map(|m| m.to_ascii_lowercase())
                .collect(),
            own_ips,
            allowed: allowed
                .into_iter()
                .map(|a| a.to_ascii_lowercase())
                .collect(),
            repeat_after,
            reported: HashMap::new(),
        }
    }

    fn legitimate(&self, seen: &Seen) -> bool {
        let mac = seen.src_mac.to_ascii_lowercase();
        let ip = IpAddr::V4(seen.src_ip);
        let sid = seen.server_id.map(IpAddr::V4);
        self.own_macs.contains(&mac)
            || self.allowed.contains(&mac)
            || self.allowed.iter().any(|a| a.parse::<IpAddr>().ok().is_some_and(|x| x == ip || Some(x) == sid))
            // The gateway's own address as source: its dnsmasq (or a relay it runs).
            || (self.own_ips.contains(&ip) && sid.is_none_or(|s| self.own_ips.contains(&s)))
    }

    /// A DHCP message heard on `interface` at `now`: the rogue server it shows, when it is one
    /// not reported within `repeat_after`.
    pub fn message(&mut self, now: f64, interface: &str, seen: &Seen) -> Option<RogueServer> {
        if seen.role != Role::Server || self.legitimate(seen) {
            return None;
        }
        let key = seen.src_mac.to_ascii_lowercase();
        if self
            .reported
            .get(&key)
            .is_some_and(|at| now - at < self.repeat_after)
        {
            return None;
        }
        self.reported.insert(key.clone(), now);
        if self.reported.len() > 1024 {
            let limit = self.repeat_after;
            self.reported.retain(|_, at| now - *at < limit);
        }
        let ip = if seen.src_ip.is_unspecified() {
            seen.server_id.unwrap_or(seen.src_ip)
        } else {
            seen.src_ip
        };
        Some(RogueServer {
            mac: key,
            ip,
            interface: interface.to_string(),
            message: seen.message,
            offered: seen.your_ip,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(mac: &str, ip: [u8; 4], message: &'static str) -> Seen {
        Seen {
            src_mac: mac.into(),
            src_ip: Ipv4Addr::from(ip),
            message,
            role: Role::Server,
            client_mac: "02:ed:00:00:00:77".into(),
            xid: 5,
            your_ip: Ipv4Addr::new(10, 10, 0, 51),
            server_id: Some(Ipv4Addr::from(ip)),
            params: String::new(),
            vendor_class: None,
            hostname: None,
        }
    }

    fn watch() -> RogueWatch {
        RogueWatch::new(
            vec!["02:ED:00:00:00:01".into()],
            vec!["10.10.0.1".parse().unwrap()],
            vec!["10.10.0.5".into(), "02:aa:00:00:00:06".into()],
            600.0,
        )
    }

    /// 000 §5.10.b: a machine handing out addresses is found, named by MAC, address and port.
    #[test]
    fn a_foreign_offer_is_a_rogue_server_reported_once_per_period() {
        let mut w = watch();
        let r = w
            .message(
                10.0,
                "lan0",
                &server("02:ed:00:00:00:21", [10, 10, 0, 21], "OFFER"),
            )
            .unwrap();
        assert_eq!(r.mac, "02:ed:00:00:00:21");
        assert_eq!(r.ip, Ipv4Addr::new(10, 10, 0, 21));
        assert_eq!(r.interface, "lan0");
        assert_eq!(r.offered, Ipv4Addr::new(10, 10, 0, 51));
        assert!(
            w.message(
                20.0,
                "lan0",
                &server("02:ed:00:00:00:21", [10, 10, 0, 21], "ACK")
            )
            .is_none()
        );
        assert!(
            w.message(
                700.0,
                "lan0",
                &server("02:ed:00:00:00:21", [10, 10, 0, 21], "OFFER")
            )
            .is_some()
        );
    }

    #[test]
    fn the_gateways_own_and_allowed_servers_and_clients_are_not_rogues() {
        let mut w = watch();
        assert!(
            w.message(
                1.0,
                "lan0",
                &server("02:ed:00:00:00:01", [10, 10, 0, 1], "OFFER")
            )
            .is_none()
        );
        assert!(
            w.message(
                1.0,
                "lan0",
                &server("02:ed:00:00:00:09", [10, 10, 0, 5], "OFFER")
            )
            .is_none()
        );
        assert!(
            w.message(
                1.0,
                "lan0",
                &server("02:AA:00:00:00:06", [10, 10, 0, 6], "OFFER")
            )
            .is_none()
        );
        let mut client = server("02:ed:00:00:00:33", [0, 0, 0, 0], "DISCOVER");
        client.role = Role::Client;
        assert!(w.message(1.0, "lan0", &client).is_none());
        // Our address as source but another server's identifier: someone spoofing us.
        let mut spoof = server("02:ed:00:00:00:44", [10, 10, 0, 1], "OFFER");
        spoof.server_id = Some(Ipv4Addr::new(10, 10, 0, 44));
        assert!(w.message(1.0, "lan0", &spoof).is_some());
    }
}
