//! What the gateway has learned about each machine on its internal segments, whether or not it
//! is in the inventory: its DHCP fingerprint (option 55 and vendor class), hostname, maker (OUI),
//! whether its MAC is randomised, where it was heard (interface, zone), its address, and when it
//! was first and last seen. The devices page lists the machines waiting for approval from this;
//! the daemon keeps it in `state/dhcp/seen.json`. Bounded: the longest-silent entries go first.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::oui::{OuiTable, is_locally_administered};
use crate::wire::{Role, Seen};

/// Machines remembered at most.
pub const MAX_SEEN: usize = 8192;

/// One machine's learned facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenDevice {
    /// Its MAC, lowercase.
    pub mac: String,
    /// The address it asked for or was given.
    #[serde(default)]
    pub ip: Option<IpAddr>,
    /// DHCP option 12.
    #[serde(default)]
    pub hostname: Option<String>,
    /// DHCP option 55 (`1,3,6,15,…`), a fingerprint of its operating system.
    #[serde(default)]
    pub params: String,
    /// DHCP option 60 (`MSFT 5.0`, `android-dhcp-13`, …).
    #[serde(default)]
    pub vendor_class: Option<String>,
    /// The card's maker from the OUI registry.
    #[serde(default)]
    pub vendor: Option<String>,
    /// A locally administered (randomised) MAC.
    #[serde(default)]
    pub random_mac: bool,
    /// The gateway interface it was heard on.
    pub interface: String,
    /// That interface's zone.
    #[serde(default)]
    pub zone: Option<String>,
    /// First heard, Unix seconds.
    pub first_seen: i64,
    /// Last heard, Unix seconds.
    pub last_seen: i64,
}

/// All machines heard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenTable {
    /// By MAC.
    pub devices: BTreeMap<String, SeenDevice>,
}

impl SeenTable {
    /// The table from its JSON; empty when it does not parse (a lost table is relearned from
    /// the next DHCP exchange).
    pub fn from_json(text: &str) -> SeenTable {
        serde_json::from_str(text).unwrap_or_default()
    }

    /// Its JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    fn entry(
        &mut self,
        now: i64,
        mac: &str,
        interface: &str,
        zone: Option<&str>,
    ) -> &mut SeenDevice {
        let mac = mac.to_ascii_lowercase();
        if !self.devices.contains_key(&mac) && self.devices.len() >= MAX_SEEN {
            let oldest = self
                .devices
                .values()
                .min_by_key(|d| d.last_seen)
                .map(|d| d.mac.clone());
            if let Some(o) = oldest {
                self.devices.remove(&o);
            }
        }
        let d = self
            .devices
            .entry(mac.clone())
            .or_insert_with(|| SeenDevice {
                random_mac: is_locally_administered(&mac),
                mac,
                ip: None,
                hostname: None,
                params: String::new(),
                vendor_class: None,
                vendor: None,
                interface: interface.to_string(),
                zone: zone.map(str::to_string),
                first_seen: now,
                last_seen: now,
            });
        d.last_seen = now;
        d.interface = interface.to_string();
        if zone.is_some() {
            d.zone = zone.map(str::to_string);
        }
        d
    }

    /// A client's DHCP message heard on `interface` (in `zone`) at `now`; whether the machine
    /// is new to the table. Server messages teach nothing about clients.
    pub fn observe(
        &mut self,
        now: i64,
        interface: &str,
        zone: Option<&str>,
        seen: &Seen,
        oui: &OuiTable,
    ) -> bool {
        if seen.role != Role::Client || seen.client_mac.len() != 17 {
            return false;
        }
        let new = !self.devices.contains_key(&seen.client_mac);
        let d = self.entry(now, &seen.client_mac, interface, zone);
        if !seen.params.is_empty() {
            d.params.clone_from(&seen.params);
        }
        if seen.vendor_class.is_some() {
            d.vendor_class.clone_from(&seen.vendor_class);
        }
        if seen.hostname.is_some() {
            d.hostname.clone_from(&seen.hostname);
        }
        d.vendor = oui.vendor(&d.mac).map(str::to_string);
        new
    }

    /// A lease dnsmasq gave: its address (and hostname) for the machine.
    pub fn lease(
        &mut self,
        now: i64,
        mac: &str,
        ip: IpAddr,
        hostname: Option<&str>,
        zone: Option<&str>,
    ) {
        let interface = self
            .devices
            .get(&mac.to_ascii_lowercase())
            .map(|d| d.interface.clone())
            .unwrap_or_default();
        let d = self.entry(now, mac, &interface, zone);
        d.ip = Some(ip);
        if let Some(h) = hostname {
            d.hostname = Some(h.to_string());
        }
    }

    /// The machine with `mac`.
    pub fn get(&self, mac: &str) -> Option<&SeenDevice> {
        self.devices.get(&mac.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn client(mac: &str, params: &str, host: Option<&str>) -> Seen {
        Seen {
            src_mac: mac.into(),
            src_ip: Ipv4Addr::UNSPECIFIED,
            message: "DISCOVER",
            role: Role::Client,
            client_mac: mac.into(),
            xid: 1,
            your_ip: Ipv4Addr::UNSPECIFIED,
            server_id: None,
            params: params.into(),
            vendor_class: Some("MSFT 5.0".into()),
            hostname: host.map(str::to_string),
        }
    }

    #[test]
    fn facts_accumulate_and_first_seen_stays() {
        let oui = OuiTable::parse_csv("Registry,Assignment,Organization Name\nMA-L,00000C,Cisco\n");
        let mut t = SeenTable::default();
        assert!(t.observe(
            100,
            "lan0",
            Some("staff"),
            &client("00:00:0c:01:02:03", "1,3,6", None),
            &oui
        ));
        assert!(!t.observe(
            160,
            "lan0",
            Some("staff"),
            &client("00:00:0c:01:02:03", "", Some("pc-01")),
            &oui
        ));
        t.lease(
            170,
            "00:00:0C:01:02:03",
            "10.10.0.150".parse().unwrap(),
            None,
            Some("staff"),
        );
        let d = t.get("00:00:0c:01:02:03").unwrap();
        assert_eq!((d.first_seen, d.last_seen), (100, 170));
        assert_eq!(d.params, "1,3,6");
        assert_eq!(d.hostname.as_deref(), Some("pc-01"));
        assert_eq!(d.vendor.as_deref(), Some("Cisco"));
        assert!(!d.random_mac);
        assert_eq!(d.ip, Some("10.10.0.150".parse().unwrap()));
        assert_eq!(d.interface, "lan0");
        let back = SeenTable::from_json(&t.to_json());
        assert_eq!(back, t);
    }

    #[test]
    fn a_randomised_mac_is_labelled_and_servers_teach_nothing() {
        let oui = OuiTable::default();
        let mut t = SeenTable::default();
        t.observe(
            1,
            "lan0",
            None,
            &client("da:a1:19:00:00:01", "1", None),
            &oui,
        );
        assert!(t.get("da:a1:19:00:00:01").unwrap().random_mac);
        let mut offer = client("02:00:00:00:00:09", "", None);
        offer.role = Role::Server;
        assert!(!t.observe(2, "lan0", None, &offer, &oui));
        assert!(t.get("02:00:00:00:00:09").is_none());
    }

    #[test]
    fn the_table_is_bounded_by_forgetting_the_longest_silent() {
        let oui = OuiTable::default();
        let mut t = SeenTable::default();
        for i in 0..(MAX_SEEN + 10) {
            let mac = format!(
                "00:00:00:{:02x}:{:02x}:{:02x}",
                (i >> 16) & 0xff,
                (i >> 8) & 0xff,
                i & 0xff
            );
            t.observe(i as i64, "lan0", None, &client(&mac, "", None), &oui);
        }
        assert_eq!(t.devices.len(), MAX_SEEN);
        assert!(t.get("00:00:00:00:00:00").is_none());
        assert!(t.get("00:00:00:00:20:09").is_some());
        assert_eq!(SeenTable::from_json("not json"), SeenTable::default());
    }
}
