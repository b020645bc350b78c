//! Update events: at start the daemon records which version booted from which slot and whether
//! a newer version failed its tries (the appliance fell back); then it follows the update log
//! the console command and the installer unit write, and turns each new record into an audit or
//! system event for the store and the SOC.

use std::time::Duration;

use chrono::Utc;
use edgeward_event::bus::Bus;
use edgeward_event::model::{AuditEvent, EventBody, Level, Outcome};
use edgeward_update::log::{self, Record};
use edgeward_update::slots::System;
use tokio::task::JoinHandle;

/// How often the update log is read.
const POLL: Duration = Duration::from_secs(2);

/// Record the boot (and a fallback) in the log, then report new records as events.
pub fn spawn(system: System, bus: Bus) -> JoinHandle<()> {
    tokio::spawn(async move {
        let offset_path = system.state.join("log.reported");
        let sys = system.clone();
        let _ = tokio::task::spawn_blocking(move || record_boot(&sys)).await;
        let mut offset: u64 = std::fs::read_to_string(&offset_path)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0);
        loop {
            let (records, next) = log::read_from(&system.state, offset);
            for r in records {
                if let Some(body) = event_of(&r) {
                    bus.emit(body).await;
                }
            }
            if next != offset {
                offset = next;
                let _ = edgeward_config::history::write_atomic(
                    &offset_path,
                    offset.to_string().as_bytes(),
                );
            }
            tokio::time::sleep(POLL).await;
        }
    })
}

/// On an appliance: a `boot` record when the running version or slot changed since the last
/// one, and a `fallback` record for every newer version whose tries are spent (once each).
pub fn record_boot(system: &System) {
    let (Ok(version), Ok(slot)) = (system.running_version(), system.running_slot()) else {
        return;
    };
    let (records, _) = log::read_from(&system.state, 0);
    let version_text = version.to_string();
    let slot_text = slot.label().to_string();
    let last_boot = records.iter().rev().find(|r| r.action == "boot");
    let changed = last_boot.is_none_or(|r| {
        r.version.as_deref() != Some(&version_text) || r.slot.as_deref() != Some(&slot_text)
    });
    let mut new = Vec::new();
    for entry in system.entries() {
        let reported = records.iter().any(|r| {
            r.action == "fallback" && r.version.as_deref() == Some(&entry.version.to_string())
        });
        if entry.bad() && entry.version > version && !reported {
            new.push(record(
                "fallback",
                &entry.version.to_string(),
                entry.slot.label(),
                format!(
                    "edgeward {} (slot {}) did not pass its health check in {} boots; the appliance went back to edgeward {version_text} (slot {slot_text})",
                    entry.version,
                    entry.slot.label(),
                    entry.tries_done.max(system.tries)
                ),
            ));
        }
    }
    if changed {
        new.push(record("boot", &version_text, &slot_text, String::new()));
    }
    for r in new {
        let _ = log::append(&system.state, &r);
    }
}

fn record(action: &str, version: &str, slot: &str, reason: String) -> Record {
    Record {
        at: Utc::now(),
        action: action.into(),
        version: Some(version.into()),
        slot: Some(slot.into()),
        by: "edgeward".into(),
        reason,
        code: String::new(),
        audited: false,
    }
}

/// The event a record stands for (`None`: already audited).
pub fn event_of(r: &Record) -> Option<EventBody> {
    if r.audited {
        return None;
    }
    let version = r.version.as_deref().unwrap_or("?");
    let slot = r.slot.as_deref().unwrap_or("?");
    let audit = |action: &str, ok: bool, detail: edgeward_config::Text| {
        Some(EventBody::Audit(AuditEvent::said(
            &r.by,
            "console",
            action,
            Outcome::of(ok),
            detail,
            None,
        )))
    };
    match r.action.as_str() {
        "install" => audit(
            "system.update.install",
            true,
            edgeward_config::say!(
                "edgeward {version} installed into slot {slot}; it boots next",
                "đã cài edgeward {version} vào phân vùng {slot}; lần khởi động tới sẽ chạy bản này"
            ),
        ),
        "refuse" => audit(
            "system.update.install",
            false,
            edgeward_config::say!(
                "update refused ({}): {}",
                "bản cập nhật bị từ chối ({}): `{}`",
                r.code,
                r.reason
            ),
        ),
        "rollback" if r.reason.is_empty() => audit(
            "system.update.rollback",
            true,
            edgeward_config::say!(
                "edgeward {version} (slot {slot}) boots next",
                "lần khởi động tới sẽ chạy edgeward {version} (phân vùng {slot})"
            ),
        ),
        "rollback" => audit(
            "system.update.rollback",
            false,
            edgeward_config::say!(
                "rollback refused: {}",
                "không quay về được phiên bản trước: `{}`",
                r.reason
            ),
        ),
        "fallback" => Some(EventBody::system(Level::Error, "update", r.reason.clone())),
        "boot" => Some(EventBody::system(
            Level::Info,
            "update",
            format!("running edgeward {version} from slot {slot}"),
        )),
        _ => None,
    }
}
