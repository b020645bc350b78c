//! Shipping the gateway's configuration backups (`STATE/backups/v*.ewb`, sealed by
//! `edgeward-admin`) to the hub, off the box (000 §10.7, 004 §16.1.b): every backup above the
//! last one the hub acknowledged is sent, in order; `backups/shipped` keeps that version, so a
//! reconnect resends only what the hub has not stored.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::proto::Msg;

/// Largest sealed backup sent (a configuration is a few tens of kilobytes).
pub const MAX_BACKUP: u64 = 4 << 20;

fn shipped_path(state: &Path) -> PathBuf {
    state.join("backups").join("shipped")
}

/// The last version the hub acknowledged.
pub fn shipped(state: &Path) -> u64 {
    std::fs::read_to_string(shipped_path(state))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

/// The hub stored `version`.
pub fn acknowledged(state: &Path, version: u64) {
    if version > shipped(state) {
        let _ = edgeward_config::history::write_atomic(
            &shipped_path(state),
            version.to_string().as_bytes(),
        );
    }
}

/// Every two seconds, send the backups above what was sent in this session (starting from what
/// the hub acknowledged before).
pub fn spawn(
    state: PathBuf,
    out: tokio::sync::mpsc::UnboundedSender<Msg>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut sent = shipped(&state);
        loop {
            let waiting: Vec<u64> = edgeward_admin::autobackup::versions(&state)
                .into_iter()
                .filter(|v| *v > sent)
                .collect();
            for version in waiting {
                let path = edgeward_admin::autobackup::dir(&state)
                    .join(edgeward_admin::autobackup::file_name(version));
                let too_big = std::fs::metadata(&path).map_or(true, |m| m.len() > MAX_BACKUP);
                let Ok(sealed) = std::fs::read_to_string(&path) else {
                    continue;
                };
                if too_big {
                    continue;
                }
                if out.send(Msg::Backup { version, sealed }).is_err() {
                    return;
                }
                sent = version;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    })
}
