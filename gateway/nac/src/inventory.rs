//! Decisions about one device as edits of the configuration's inventory (`[[devices]]`), the
//! rest of the text kept as written: approve (add or update the entry: user, type, zone,
//! serial, note, address), block, quarantine (`move_to` the quarantine zone: cut off from LAN,
//! TSLCD and Internet without renumbering), release from quarantine, remove (its address and
//! rules go with it, 000 §17.2.b). The result is an ordinary configuration change (validated,
//! recorded with author and reason, applied by the daemon as set membership).

use edgeward_config::validate::normalize_mac;
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

/// What is decided about a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Let it in: an inventory entry with these facts (fields left `None` keep their value).
    Approve {
        /// Its zone.
        zone: String,
        /// Họ tên người sử dụng.
        user: String,
        /// Chủng loại (`pc`, `laptop`, …).
        device_type: String,
        /// Mã số thiết bị.
        serial: Option<String>,
        /// Ghi chú.
        note: Option<String>,
        /// A fixed address.
        ip: Option<String>,
        /// A personal device (004 §9.3).
        personal: bool,
        /// The head of unit who consented to a personal device.
        head_of_unit: Option<String>,
        /// The checks attested (`antivirus`, `os-updates`, …).
        checklist: Vec<String>,
        /// Who approved it.
        approved_by: String,
    },
    /// Cut it off everywhere (`status = "blocked"`).
    Block,
    /// Move it into the quarantine zone (`move_to`); a device without a fixed address is pinned
    /// to `ip` (the one it was seen with) so the cut holds.
    Quarantine {
        /// The address it was seen with.
        ip: Option<String>,
        /// Why, kept on the entry for the devices page and the dashboard.
        reason: String,
    },
    /// Back from quarantine.
    Release,
    /// Out of the inventory.
    Remove,
}

/// Why a decision cannot be made on the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    /// Not a MAC.
    #[error("`{0}` is not a MAC address")]
    BadMac(String),
    /// No entry with that MAC.
    #[error("{0} is not in the inventory (approve it first)")]
    NotInInventory(String),
    /// Nowhere to quarantine to.
    #[error("the configuration has no quarantine zone (a zone with kind = \"quarantine\")")]
    NoQuarantineZone,
    /// The text is not TOML.
    #[error("the configuration does not parse as TOML: {0}")]
    Toml(String),
    /// A laptop, phone or tablet approved without every check attested (001 §7.5, 004 §15.5).
    #[error("a {0} must pass every check before it joins; not attested: {1}")]
    Checklist(String, String),
}

fn entry_mac(t: &Table) -> Option<String> {
    t.get("mac").and_then(Item::as_str).and_then(normalize_mac)
}

/// The quarantine zone's name in the text.
fn quarantine_zone(doc: &DocumentMut) -> Option<String> {
    doc.get("zones")?
        .as_array_of_tables()?
        .iter()
        .find(|z| z.get("kind").and_then(Item::as_str) == Some("quarantine"))
        .and_then(|z| z.get("name").and_then(Item::as_str).map(str::to_string))
}

/// The checks of [`edgeward_config::APPROVAL_CHECKLIST`] not in `checklist`, for a device type
/// that must pass them before joining (laptops, phones, tablets: 001 §7.5, 004 §15.5); none for
/// other types.
pub fn missing_checks(device_type: &str, checklist: &[String]) -> Vec<&'static str> {
    if !matches!(device_type, "laptop" | "phone" | "tablet") {
        return Vec::new();
    }
    edgeward_config::APPROVAL_CHECKLIST
        .into_iter()
        .filter(|c| !checklist.iter().any(|x| x == c))
        .collect()
}

/// The configuration text with `decision` made about the device with `mac`.
pub fn decide(text: &str, mac: &str, decision: &Decision) -> Result<String, DecisionError> {
    let mac = normalize_mac(mac).ok_or_else(|| DecisionError::BadMac(mac.to_string()))?;
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| DecisionError::Toml(e.to_string()))?;
    let quarantine = quarantine_zone(&doc);
    if doc.get("devices").is_none() {
        doc.insert("devices", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    let devices = doc
        .get_mut("devices")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| DecisionError::Toml("`devices` is not a list of tables".into()))?;
    let index = devices
        .iter()
        .position(|t| entry_mac(t).as_deref() == Some(mac.as_str()));
    match decision {
        Decision::Approve {
            zone,
            user,
            device_type,
            serial,
            note,
            ip,
            personal,
            head_of_unit,
            checklist,
            approved_by,
        } => {
            let missing = missing_checks(device_type, checklist);
            if !missing.is_empty() {
                return Err(DecisionError::Checklist(
                    device_type.clone(),
                    missing.join(", "),
                ));
            }
            let i = if let Some(i) = index {
                i
            } else {
                let mut t = Table::new();
                t.insert("mac", value(mac.clone()));
                devices.push(t);
                devices.len() - 1
            };
            let t = devices
                .get_mut(i)
                .ok_or_else(|| DecisionError::NotInInventory(mac.clone()))?;
            t.insert("user", value(user.clone()));
            t.insert("type", value(device_type.clone()));
            t.insert("zone", value(zone.clone()));
            if let Some(s) = serial {
                t.insert("serial", value(s.clone()));
            }
            if let Some(n) = note {
                t.insert("note", value(n.clone()));
            }
            if let Some(ip) = ip {
                t.insert("ip", value(ip.clone()));
            }
            if *personal {
                t.insert("personal", value(true));
            }
            if let Some(h) = head_of_unit {
                t.insert("head_of_unit", value(h.clone()));
            }
            if !checklist.is_empty() {
                let mut a = toml_edit::Array::new();
                for c in checklist {
                    a.push(c.as_str());
                }
                t.insert("checklist", value(a));
            }
            t.insert("approved_by", value(approved_by.clone()));
            t.insert("status", value("approved"));
        }
        Decision::Block | Decision::Quarantine { .. } | Decision::Release | Decision::Remove => {
            let i = index.ok_or_else(|| DecisionError::NotInInventory(mac.clone()))?;
            if *decision == Decision::Remove {
                devices.remove(i);
            } else {
                let t = devices
                    .get_mut(i)
                    .ok_or_else(|| DecisionError::NotInInventory(mac.clone()))?;
                match decision {
                    Decision::Block => {
                        t.insert("status", value("blocked"));
                    }
                    Decision::Quarantine { ip, reason } => {
                        let q = quarantine.ok_or(DecisionError::NoQuarantineZone)?;
                        t.insert("move_to", value(q));
                        t.insert("quarantine_reason", value(reason.clone()));
                        if let Some(ip) = ip
                            && t.get("ip").is_none()
                        {
                            t.insert("ip", value(ip.clone()));
                        }
                    }
                    _ => {
                        t.remove("move_to");
                        t.remove("quarantine_reason");
                    }
                }
            }
        }
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> edgeward_config::Config {
        edgeward_config::parse(t, "t.toml", edgeward_config::today())
            .unwrap_or_else(|p| panic!("{p}"))
    }

    #[test]
    fn approve_quarantine_release_block_and_remove_are_valid_configurations() {
        let base = edgeward_config::AGENCY_DEFAULT_PROFILE;
        let approved = decide(
            base,
            "02-ED-00-00-00-77",
            &Decision::Approve {
                zone: "staff".into(),
                user: "Nguyễn Văn Khách".into(),
                device_type: "laptop".into(),
                serial: Some("SN-1".into()),
                note: None,
                personal: false,
                head_of_unit: None,
                checklist: edgeward_config::APPROVAL_CHECKLIST
                    .iter()
                    .map(|c| (*c).to_string())
                    .collect(),
                approved_by: "it-officer".into(),
                ip: None,
            },
        )
        .unwrap();
        let c = parse(&approved);
        let d = c
            .devices
            .iter()
            .find(|d| d.mac == "02:ed:00:00:00:77")
            .expect("added");
        assert_eq!(d.zone, "staff");
        assert_eq!(d.serial, "SN-1");
        assert!(approved.contains("# "), "comments kept");
        let q = parse(
            &decide(
                &approved,
                "02:ed:00:00:00:77",
                &Decision::Quarantine {
                    ip: Some("10.10.0.150".into()),
                    reason: "malware suspected".into(),
                },
            )
            .unwrap(),
        );
        assert_eq!(
            q.devices
                .iter()
                .find(|d| d.mac == "02:ed:00:00:00:77")
                .unwrap()
                .move_to
                .as_deref(),
            Some("quarantine")
        );
        let quarantined = decide(
            &approved,
            "02:ed:00:00:00:77",
            &Decision::Quarantine {
                ip: Some("10.10.0.150".into()),
                reason: "malware suspected".into(),
            },
        )
        .unwrap();
        let r = parse(&decide(&quarantined, "02:ed:00:00:00:77", &Decision::Release).unwrap());
        assert_eq!(
            r.devices
                .iter()
                .find(|d| d.mac == "02:ed:00:00:00:77")
                .unwrap()
                .move_to,
            None
        );
        let b = parse(&decide(&approved, "02:ed:00:00:00:77", &Decision::Block).unwrap());
        assert_eq!(
            b.devices
                .iter()
                .find(|d| d.mac == "02:ed:00:00:00:77")
                .unwrap()
                .status,
            edgeward_config::DeviceStatus::Blocked
        );
        let gone = parse(&decide(&approved, "02:ed:00:00:00:77", &Decision::Remove).unwrap());
        assert!(!gone.devices.iter().any(|d| d.mac == "02:ed:00:00:00:77"));
        assert_eq!(gone.devices.len(), parse(base).devices.len());
    }

    #[test]
    fn decisions_about_unknown_or_malformed_macs_are_refused() {
        let base = edgeward_config::AGENCY_DEFAULT_PROFILE;
        assert_eq!(
            decide(
                base,
                "02:ed:00:00:00:99",
                &Decision::Quarantine {
                    ip: None,
                    reason: "test".into()
                }
            ),
            Err(DecisionError::NotInInventory("02:ed:00:00:00:99".into()))
        );
        assert!(matches!(
            decide(base, "zz", &Decision::Block),
            Err(DecisionError::BadMac(_))
        ));
    }
}
