//! The configuration change protocol's records on disk, shared by everything that changes the
//! configuration (the CLI, the admin plane) and the daemon that applies it: who asked and why
//! (`pending-change.json`), a change awaiting confirmation (`awaiting-confirm.json`), a
//! confirmation (`confirm.json`), and where each lives in the state directory. A change is made
//! by writing who/why, then the text ([`write_change`]); the daemon applies the text and records
//! that author and reason in the history.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::history::{self, write_atomic};

/// Who asked for the next configuration change, written by `edgeward config apply|rollback`
/// and read by the daemon when it applies the matching text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingChange {
    pub sha256: String,
    pub author: String,
    pub reason: String,
    #[serde(default)]
    pub restored_from: Option<u64>,
    /// Roll back unless confirmed within the config's `firewall.commit_confirm_seconds`.
    #[serde(default)]
    pub confirm: bool,
}

/// A change that is running but not yet confirmed (kept on disk so it survives a restart).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Awaiting {
    pub version: u64,
    pub deadline: DateTime<Utc>,
    pub rollback_version: u64,
    pub author: String,
}

/// Written by `edgeward config confirm`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Confirmation {
    pub version: u64,
    pub author: String,
    /// Where the confirmation came from (`cli`, or the admin's address).
    #[serde(default = "cli_source")]
    pub source: String,
}

fn cli_source() -> String {
    "cli".into()
}

pub fn pending_path(state_dir: &Path) -> PathBuf {
    state_dir.join("pending-change.json")
}
pub fn awaiting_path(state_dir: &Path) -> PathBuf {
    state_dir.join("awaiting-confirm.json")
}
pub fn confirm_path(state_dir: &Path) -> PathBuf {
    state_dir.join("confirm.json")
}
pub fn pid_path(state_dir: &Path) -> PathBuf {
    state_dir.join("edgeward.pid")
}
pub fn history_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("history")
}
/// Where a change goes: the configuration file and the state directory.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config: PathBuf,
    pub state_dir: PathBuf,
}

/// Leave who/why for the daemon and put the (already validated) text in place. The daemon
/// applies it on its next reconcile; the CLI and the admin UI both change configuration this way.
pub fn write_change(
    paths: &Paths,
    text: &str,
    author: &str,
    reason: &str,
    restored_from: Option<u64>,
    confirm: bool,
) -> std::io::Result<()> {
    std::fs::create_dir_all(&paths.state_dir)?;
    let pending = PendingChange {
        sha256: history::digest(text),
        author: author.to_string(),
        reason: reason.to_string(),
        restored_from,
        confirm,
    };
    write_atomic(
        &pending_path(&paths.state_dir),
        &serde_json::to_vec_pretty(&pending).map_err(std::io::Error::other)?,
    )?;
    if let Some(dir) = paths.config.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_atomic(&paths.config, text.as_bytes()).map_err(|e| {
        std::io::Error::new(e.kind(), format!("writing {}: {e}", paths.config.display()))
    })
}
