//! One device's history (000 §17.2.b, 003 §23.1: the inventory kept up to date, who changed
//! what): read from the configuration history — every applied version's entry for its MAC —
//! as the steps where something about it changed (added, approved, blocked, moved into or out
//! of quarantine, re-assigned, removed), each with the version, time, author and reason of the
//! change that did it.

use edgeward_config::{Device, Text};

/// One applied version as the timeline needs it: its number, time, author, reason, and the
/// device's entry in it (none: not in the inventory then).
#[derive(Debug, Clone)]
pub struct Version {
    /// Version number.
    pub version: u64,
    /// When it was applied (RFC 3339).
    pub applied_at: String,
    /// Who made the change.
    pub author: String,
    /// Why.
    pub reason: String,
    /// The device's entry then.
    pub device: Option<Device>,
}

/// A change to the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The version that made it.
    pub version: u64,
    /// When.
    pub applied_at: String,
    /// Who.
    pub author: String,
    /// Why (the change's reason).
    pub reason: String,
    /// What changed, in words (`added (approved)`, `status: pending → approved`, …), in both
    /// UI languages.
    pub what: Vec<Text>,
}

/// A device status in both languages.
fn status_text(status: edgeward_config::DeviceStatus) -> Text {
    use edgeward_config::DeviceStatus::{Approved, Blocked, Pending};
    match status {
        Approved => Text::new("approved", "đã phê duyệt"),
        Pending => Text::new("pending", "chờ phê duyệt"),
        Blocked => Text::new("blocked", "bị chặn"),
    }
}

fn differences(before: &Device, after: &Device) -> Vec<Text> {
    let mut out = Vec::new();
    let mut field = |name: (&str, &str), a: Text, b: Text| {
        if a != b {
            let dash = |t: &str| {
                if t.is_empty() {
                    "-".to_string()
                } else {
                    t.to_string()
                }
            };
            out.push(Text::new(
                format!("{}: {} → {}", name.0, dash(&a.en), dash(&b.en)),
                format!("{}: {} → {}", name.1, dash(&a.vi), dash(&b.vi)),
            ));
        }
    };
    let same = |s: String| Text::new(s.clone(), s);
    field(
        ("status", "trạng thái"),
        status_text(before.status),
        status_text(after.status),
    );
    field(
        ("zone", "vùng mạng"),
        same(before.zone.clone()),
        same(after.zone.clone()),
    );
    field(
        ("quarantine", "cách ly"),
        same(before.move_to.clone().unwrap_or_default()),
        same(after.move_to.clone().unwrap_or_default()),
    );
    field(
        ("user", "người sử dụng"),
        same(before.user.clone()),
        same(after.user.clone()),
    );
    field(
        ("ip", "địa chỉ IP"),
        same(before.ip.map(|i| i.to_string()).unwrap_or_default()),
        same(after.ip.map(|i| i.to_string()).unwrap_or_default()),
    );
    field(
        ("serial", "mã số thiết bị"),
        same(before.serial.clone()),
        same(after.serial.clone()),
    );
    field(
        ("approved by", "người phê duyệt"),
        same(before.approved_by.clone()),
        same(after.approved_by.clone()),
    );
    field(
        ("head of unit", "thủ trưởng đơn vị"),
        same(before.head_of_unit.clone()),
        same(after.head_of_unit.clone()),
    );
    field(
        ("checklist", "danh mục kiểm tra"),
        same(before.checklist.join(",")),
        same(after.checklist.join(",")),
    );
    field(
        ("note", "ghi chú"),
        same(before.note.clone()),
        same(after.note.clone()),
    );
    out
}

/// The steps of the device across `versions` (oldest first).
pub fn timeline(versions: &[Version]) -> Vec<Step> {
    let mut out = Vec::new();
    let mut previous: Option<&Device> = None;
    for v in versions {
        let what = match (previous, &v.device) {
            (None, Some(d)) => {
                let status = status_text(d.status);
                vec![Text::new(
                    format!("added ({}, zone {})", status.en, d.zone),
                    format!("thêm vào danh mục ({}, vùng {})", status.vi, d.zone),
                )]
            }
            (Some(_), None) => vec![Text::new("removed from the inventory", "xóa khỏi danh mục")],
            (Some(a), Some(b)) => differences(a, b),
            (None, None) => Vec::new(),
        };
        if !what.is_empty() {
            out.push(Step {
                version: v.version,
                applied_at: v.applied_at.clone(),
                author: v.author.clone(),
                reason: v.reason.clone(),
                what,
            });
        }
        previous = v.device.as_ref();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeward_config::DeviceStatus;

    fn device() -> Device {
        let c = edgeward_config::parse(
            edgeward_config::AGENCY_DEFAULT_PROFILE,
            "p.toml",
            edgeward_config::today(),
        )
        .unwrap();
        c.devices[0].clone()
    }

    fn v(version: u64, reason: &str, device: Option<Device>) -> Version {
        Version {
            version,
            applied_at: format!("2026-12-01T08:0{version}:00Z"),
            author: "it-officer".into(),
            reason: reason.into(),
            device,
        }
    }

    /// 000 §17.2.b: the device's life — added, quarantined, released, removed — with who and why.
    #[test]
    fn each_change_to_the_device_is_a_step_and_other_changes_are_not() {
        let d = device();
        let mut pending = d.clone();
        pending.status = DeviceStatus::Pending;
        let mut quarantined = d.clone();
        quarantined.move_to = Some("quarantine".into());
        let steps = timeline(&[
            v(1, "initial", None),
            v(2, "seen", Some(pending)),
            v(3, "approved", Some(d.clone())),
            v(4, "firewall rule changed", Some(d.clone())),
            v(5, "C2 alert", Some(quarantined)),
            v(6, "cleaned", Some(d.clone())),
            v(7, "returned", None),
        ]);
        let got: Vec<(u64, Vec<String>)> = steps
            .iter()
            .map(|s| (s.version, s.what.iter().map(|t| t.en.clone()).collect()))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, vec![format!("added (pending, zone {})", d.zone)]),
                (3, vec!["status: pending → approved".to_string()]),
                (5, vec!["quarantine: - → quarantine".to_string()]),
                (6, vec!["quarantine: quarantine → -".to_string()]),
                (7, vec!["removed from the inventory".to_string()]),
            ]
        );
        assert_eq!(steps[2].reason, "C2 alert");
    }
}
