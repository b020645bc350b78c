//! The machines waiting for a decision (000 §5.4, 003 §23.3): every machine the gateway has
//! heard on its segments or leased an address to whose MAC is not approved in the inventory —
//! absent from it, or listed as pending — with what was learned about it, newest first. What
//! the devices page and the dashboard list.

use std::path::Path;

use edgeward_config::{Device, DeviceStatus};

use crate::leases::{self, Leases};
use crate::seen::{SeenDevice, SeenTable};

/// The learned table and the leases from the daemon's state directory (`state/dhcp`).
pub fn load(state_dir: &Path) -> (SeenTable, Leases) {
    let dir = state_dir.join("dhcp");
    let seen =
        SeenTable::from_json(&std::fs::read_to_string(dir.join("seen.json")).unwrap_or_default());
    let leases = leases::parse(&std::fs::read_to_string(dir.join("leases")).unwrap_or_default());
    (seen, leases)
}

/// Machines not approved, with their learned facts (a lease without a DHCP exchange heard
/// still counts: its address and hostname are what is known).
pub fn waiting(seen: &SeenTable, leases: &Leases, devices: &[Device]) -> Vec<SeenDevice> {
    let approved = |mac: &str| {
        devices
            .iter()
            .any(|d| d.mac.eq_ignore_ascii_case(mac) && d.status != DeviceStatus::Pending)
    };
    let mut out: Vec<SeenDevice> = seen
        .devices
        .values()
        .filter(|d| !approved(&d.mac))
        .cloned()
        .collect();
    for l in leases.by_key.values() {
        if approved(&l.mac) {
            continue;
        }
        if let Some(d) = out.iter_mut().find(|d| d.mac == l.mac) {
            d.ip = d.ip.or(Some(l.ip));
            continue;
        }
        let mut table = SeenTable::default();
        let expiry = i64::try_from(l.expiry).unwrap_or(0);
        table.lease(expiry, &l.mac, l.ip, l.hostname.as_deref(), None);
        out.extend(table.devices.into_values());
    }
    out.sort_by(|a, b| {
        b.last_seen
            .cmp(&a.last_seen)
            .then_with(|| a.mac.cmp(&b.mac))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oui::OuiTable;
    use crate::wire::{Role, Seen};

    fn heard(t: &mut SeenTable, at: i64, mac: &str) {
        let s = Seen {
            src_mac: mac.into(),
            src_ip: std::net::Ipv4Addr::UNSPECIFIED,
            message: "DISCOVER",
            role: Role::Client,
            client_mac: mac.into(),
            xid: 1,
            your_ip: std::net::Ipv4Addr::UNSPECIFIED,
            server_id: None,
            params: "1,3,6".into(),
            vendor_class: None,
            hostname: None,
        };
        t.observe(at, "lan0", Some("staff"), &s, &OuiTable::default());
    }

    #[test]
    fn approved_machines_are_not_waiting_and_pending_entries_are() {
        let config = edgeward_config::parse(
            edgeward_config::AGENCY_DEFAULT_PROFILE,
            "p.toml",
            edgeward_config::today(),
        )
        .unwrap();
        let mut devices = config.devices.clone();
        let approved_mac = devices[0].mac.clone();
        let mut pending = devices[0].clone();
        pending.mac = "02:ed:00:00:00:88".into();
        pending.ip = None;
        pending.status = DeviceStatus::Pending;
        devices.push(pending);
        let mut seen = SeenTable::default();
        heard(&mut seen, 10, &approved_mac);
        heard(&mut seen, 20, "02:ed:00:00:00:77");
        heard(&mut seen, 30, "02:ed:00:00:00:88");
        let leases = leases::parse(
            "1700000000 02:ed:00:00:00:77 10.10.0.150 visitor-1 *\n1700000100 02:ed:00:00:00:99 10.10.0.151 cam *\n",
        );
        let w = waiting(&seen, &leases, &devices);
        let macs: Vec<&str> = w.iter().map(|d| d.mac.as_str()).collect();
        assert_eq!(
            macs,
            [
                "02:ed:00:00:00:99",
                "02:ed:00:00:00:88",
                "02:ed:00:00:00:77"
            ]
        );
        assert_eq!(w[2].ip, Some("10.10.0.150".parse().unwrap()));
        assert_eq!(w[0].hostname.as_deref(), Some("cam"));
    }
}
