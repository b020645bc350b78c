//! Enforcement between machines on the appliance's own LAN ports (an interface with `ports` is a
//! bridge of them): the `bridge edgeward_br` table's forward hook sees frames switched from one
//! port to another, which never reach the routed `inet` table. Blocked and quarantined devices
//! (by MAC) are cut off from their neighbours there too, and in onboarding zones a machine not
//! approved reaches no neighbour (only the gateway itself, through the bridge's input, where the
//! `inet` table keeps it to DHCP, DNS and the waiting page). Machines behind one external switch
//! talk through that switch and are out of reach: the devices page says so.
//!
//! Pure: the model renders to an `nft -f` script; [`BridgeTable::update`] gives the script that
//! changes set members only when that is all that changed (an approval or a quarantine takes
//! effect without reloading rules).

use edgeward_config::validate::normalize_mac;
use edgeward_config::{Config, DeviceStatus};

/// The table's name (family `bridge`).
pub const BRIDGE_TABLE: &str = "edgeward_br";
/// Log prefix of a TCP connection attempt between neighbours on the appliance's ports (the
/// gateway's scan and password-guessing counters; UDP is not followed here: without
/// connection tracking every datagram would be logged).
pub const CONN_PREFIX_BRIDGED: &str = "ew-conn-br";

/// What the bridge table holds: its structure (bridges and their onboarding) and its sets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BridgeTable {
    /// Ports of bridges whose unapproved machines reach no neighbour.
    pub onboarding_ports: Vec<String>,
    /// Bridges (interfaces with ports) at all (none: no table).
    pub bridges: Vec<String>,
    /// Their ports (the kernel here matches bridge ports, not bridge names: `meta ibrname` is
    /// not in every kernel), Wi-Fi BSS interfaces included: NAC applies to Wi-Fi clients too.
    pub ports: Vec<String>,
    /// Wi-Fi ports whose clients are isolated: no frame between two of them, whatever the
    /// driver does with `ap_isolate` or bridge port isolation.
    pub isolated_wifi: Vec<String>,
    /// MACs cut off everywhere.
    pub blocked: Vec<String>,
    /// MACs moved into quarantine.
    pub quarantined: Vec<String>,
    /// Approved MACs.
    pub known: Vec<String>,
}

fn macs<'a>(it: impl Iterator<Item = &'a edgeward_config::Device>) -> Vec<String> {
    let mut v: Vec<String> = it.filter_map(|d| normalize_mac(&d.mac)).collect();
    v.sort();
    v.dedup();
    v
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn set_body(kind: &str, elements: &[String]) -> String {
    if elements.is_empty() {
        format!("type {kind};")
    } else {
        format!("type {kind}; elements = {{ {} }};", elements.join(", "))
    }
}

impl BridgeTable {
    /// The table for `config`.
    pub fn from_config(config: &Config) -> BridgeTable {
        let bridges: Vec<String> = config
            .interfaces
            .iter()
            .filter(|i| !i.ports.is_empty() && !i.role.is_uplink())
            .map(|i| i.name.clone())
            .collect();
        let served = config.served_wifi();
        let ports_of = |onboarding: bool| -> Vec<String> {
            config
                .interfaces
                .iter()
                .filter(|i| bridges.contains(&i.name))
                .filter(|i| !onboarding || config.nac.onboarding_zones.contains(&i.zone))
                .flat_map(|i| {
                    i.ports.iter().cloned().chain(
                        served
                            .iter()
                            .filter(|s| s.bridge == i.name)
                            .map(|s| s.ifname.clone()),
                    )
                })
                .collect()
        };
        let (ports, onboarding_ports) = (ports_of(false), ports_of(true));
        let isolated_wifi = served
            .iter()
            .filter(|s| s.isolate && bridges.contains(&s.bridge))
            .map(|s| s.ifname.clone())
            .collect();
        BridgeTable {
            onboarding_ports,
            bridges,
            ports,
            isolated_wifi,
            blocked: macs(
                config
                    .devices
                    .iter()
                    .filter(|d| d.status == DeviceStatus::Blocked),
            ),
            quarantined: macs(config.devices.iter().filter(|d| d.move_to.is_some())),
            known: macs(
                config
                    .devices
                    .iter()
                    .filter(|d| d.status == DeviceStatus::Approved),
            ),
        }
    }

    /// Whether there is anything to enforce (any bridged ports).
    pub fn is_empty(&self) -> bool {
        self.bridges.is_empty()
    }

    /// The whole table as an `nft -f` script that replaces it atomically (or removes it when
    /// there are no bridges).
    pub fn script(&self) -> String {
        let mut s = format!("table bridge {BRIDGE_TABLE}\ndelete table bridge {BRIDGE_TABLE}\n");
        if self.is_empty() {
            return s;
        }
        s.push_str(&format!("table bridge {BRIDGE_TABLE} {{\n"));
        for (name, elements) in [
            ("blocked", &self.blocked),
            ("quarantined", &self.quarantined),
            ("known", &self.known),
        ] {
            s.push_str(&format!(
                "  set {name} {{ {} }}\n",
                set_body("ether_addr", elements)
            ));
        }
        s.push_str("  chain forward {\n    type filter hook forward priority 0; policy accept;\n");
        let on = format!("iifname {{ {} }}", quoted(&self.ports));
        let out = format!("oifname {{ {} }}", quoted(&self.ports));
        s.push_str(&format!(
            "    {on} ether saddr @blocked counter drop comment \"blocked device\"\n"
        ));
        s.push_str(&format!(
            "    {out} ether daddr @blocked counter drop comment \"to a blocked device\"\n"
        ));
        s.push_str(&format!("    {on} ether saddr @quarantined counter drop comment \"quarantined: not even to neighbours (001 7.8)\"\n"));
        s.push_str(&format!(
            "    {out} ether daddr @quarantined counter drop comment \"to a quarantined device\"\n"
        ));
        if !self.onboarding_ports.is_empty() {
            s.push_str(&format!(
                "    iifname {{ {} }} ether saddr != @known counter drop comment \"waiting for approval: the gateway only (000 5.4)\"\n",
                quoted(&self.onboarding_ports)
            ));
        }
        if !self.isolated_wifi.is_empty() {
            let wifi = quoted(&self.isolated_wifi);
            s.push_str(&format!(
                "    iifname {{ {wifi} }} oifname {{ {wifi} }} counter drop comment \"Wi-Fi clients isolated from each other\"\n"
            ));
        }
        s.push_str(&format!(
            "    {on} tcp flags & (syn | ack) == syn limit rate {rate}/second burst {burst} packets log group {group} prefix \"{CONN_PREFIX_BRIDGED}\" comment \"connection attempt to the scan and password-guessing counters\"\n",
            rate = crate::render::CONN_LOG_RATE,
            burst = crate::render::CONN_LOG_RATE * 2,
            group = crate::render::LOG_GROUP_CONN,
        ));
        s.push_str("  }\n}\n");
        s
    }

    /// The script taking the kernel from `old` to `self`: set members only when only they
    /// changed, else the whole table.
    pub fn update(&self, old: Option<&BridgeTable>) -> String {
        let same_shape = old.is_some_and(|o| {
            o.ports == self.ports
                && o.onboarding_ports == self.onboarding_ports
                && o.isolated_wifi == self.isolated_wifi
        });
        if !same_shape || self.is_empty() {
            return self.script();
        }
        let mut s = String::new();
        for (name, elements) in [
            ("blocked", &self.blocked),
            ("quarantined", &self.quarantined),
            ("known", &self.known),
        ] {
            s.push_str(&format!("flush set bridge {BRIDGE_TABLE} {name}\n"));
            if !elements.is_empty() {
                s.push_str(&format!(
                    "add element bridge {BRIDGE_TABLE} {name} {{ {} }}\n",
                    elements.join(", ")
                ));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(ports: bool) -> Config {
        let mut c = edgeward_config::parse(
            edgeward_config::AGENCY_DEFAULT_PROFILE,
            "p.toml",
            edgeward_config::today(),
        )
        .unwrap();
        for i in &mut c.interfaces {
            if i.name == "lan0" {
                i.ports = if ports {
                    vec!["lan0-up".into(), "lan1".into()]
                } else {
                    Vec::new()
                };
            }
        }
        c
    }

    #[test]
    fn no_bridged_ports_no_table() {
        let t = BridgeTable::from_config(&config(false));
        assert!(t.is_empty());
        assert_eq!(
            t.script(),
            "table bridge edgeward_br\ndelete table bridge edgeward_br\n"
        );
    }

    /// 001 §7.8, 000 §5.4: on the appliance's own ports, a quarantined or blocked device
    /// reaches no neighbour and an unapproved one only the gateway.
    #[test]
    fn quarantined_blocked_and_unknown_machines_are_kept_from_neighbours() {
        let mut c = config(true);
        c.devices[1].move_to = Some("quarantine".into());
        c.devices[2].status = DeviceStatus::Blocked;
        let t = BridgeTable::from_config(&c);
        assert_eq!(t.bridges, ["lan0"]);
        assert_eq!(
            t.onboarding_ports,
            ["lan0-up", "lan1"],
            "staff is an onboarding zone"
        );
        assert_eq!(t.quarantined, [normalize_mac(&c.devices[1].mac).unwrap()]);
        assert_eq!(t.blocked, [normalize_mac(&c.devices[2].mac).unwrap()]);
        assert!(!t.known.contains(&t.blocked[0]));
        let s = t.script();
        assert!(
            s.contains("iifname { \"lan0-up\", \"lan1\" } ether saddr @quarantined counter drop"),
            "{s}"
        );
        assert!(s.contains("ether saddr != @known counter drop"), "{s}");
    }

    /// An approval or a quarantine changes set members only: no rule is reloaded.
    #[test]
    fn a_device_decision_is_a_set_update() {
        let c = config(true);
        let before = BridgeTable::from_config(&c);
        let mut c2 = c.clone();
        c2.devices[0].move_to = Some("quarantine".into());
        let after = BridgeTable::from_config(&c2);
        let s = after.update(Some(&before));
        assert!(
            s.starts_with("flush set bridge edgeward_br blocked\n"),
            "{s}"
        );
        assert!(!s.contains("chain"), "{s}");
        assert!(
            s.contains("add element bridge edgeward_br quarantined"),
            "{s}"
        );
        assert!(after.update(None).contains("chain forward"));
    }

    /// The rendered script is accepted by the kernel's nft (checked without applying).
    #[test]
    fn nft_accepts_the_script() {
        let mut c = config(true);
        c.devices[1].move_to = Some("quarantine".into());
        let script = BridgeTable::from_config(&c).script();
        if let Err(e) = crate::apply::nft_script(&script, true) {
            panic!("{e} (scripts/setup.sh installs nftables)\n{script}");
        }
    }

    /// A guest zone with two SSIDs on a radio, bridged with a wired guest port.
    fn with_guest_wifi() -> Config {
        let mut c = config(true);
        for i in &mut c.interfaces {
            if i.name == "guest0" {
                i.ports = vec!["guest-port".into()];
            }
        }
        c.radios.push(edgeward_config::Radio {
            name: "radio0".into(),
            interface: "wlan0".into(),
            band: edgeward_config::WifiBand::Ghz24,
            channel: 6,
            country: "VN".into(),
        });
        for ssid in ["Khach-1", "Khach-2"] {
            c.wifi.push(edgeward_config::WifiNetwork {
                ssid: ssid.into(),
                zone: "guest".into(),
                security: edgeward_config::WifiSecurity::Wpa2Wpa3,
                radio: String::new(),
                isolate_clients: None,
                passphrase: "Hoa-Sen-Vang-2026".into(),
                passphrase_changed: edgeward_config::today().to_string(),
                rotate_days: 182,
                block_when_overdue: false,
            });
        }
        c
    }

    /// Guests never reach each other: the Wi-Fi ports of isolated SSIDs exchange no frame on
    /// the bridge (beside hostapd's `ap_isolate`, which some drivers ignore), and Wi-Fi
    /// clients are bridge ports NAC applies to like wired ones; nft accepts the script.
    #[test]
    fn wifi_guests_are_isolated_on_the_bridge_and_under_nac() {
        let c = with_guest_wifi();
        let t = BridgeTable::from_config(&c);
        assert_eq!(t.bridges, ["lan0", "guest0"]);
        assert!(t.ports.contains(&"wlan0".to_string()) && t.ports.contains(&"wlan0-1".to_string()));
        assert_eq!(t.isolated_wifi, ["wlan0", "wlan0-1"]);
        let s = t.script();
        assert!(
            s.contains(
                "iifname { \"wlan0\", \"wlan0-1\" } oifname { \"wlan0\", \"wlan0-1\" } counter drop"
            ),
            "{s}"
        );
        if let Err(e) = crate::apply::nft_script(&s, true) {
            panic!("{e}\n{s}");
        }
        // Clients of a staff SSID that chose not to isolate are left to talk.
        let mut open_staff = c.clone();
        for w in &mut open_staff.wifi {
            w.isolate_clients = Some(false);
        }
        let t2 = BridgeTable::from_config(&open_staff);
        assert!(t2.isolated_wifi.is_empty());
        assert!(
            !t2.update(Some(&t)).starts_with("flush set"),
            "a shape change reloads the table"
        );
    }
}
