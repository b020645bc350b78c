//! The update log on the data partition (`update/log.jsonl`): one record per install, refusal
//! and rollback, written by whoever did it (the console command or the installer unit) and read
//! by the daemon, which turns new records into events for the store and the SOC.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::UpdateError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub at: DateTime<Utc>,
    /// `install`, `refuse`, `rollback`, `boot`, `fallback`.
    pub action: String,
    /// The version the record is about (offered, installed, rolled back to, booted).
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub slot: Option<String>,
    /// Who asked: an admin user, `console`, `soc`.
    pub by: String,
    /// Why it was refused or what went wrong (empty on success).
    #[serde(default)]
    pub reason: String,
    /// The refusal's stable code (`bad-signature`, `not-newer`, …).
    #[serde(default)]
    pub code: String,
    /// Already audited by whoever wrote it (the admin UI's upload): not reported again.
    #[serde(default)]
    pub audited: bool,
}

/// Append `record` to the log in `state`.
pub fn append(state: &Path, record: &Record) -> Result<(), UpdateError> {
    std::fs::create_dir_all(state).map_err(|e| UpdateError::io(state, &e))?;
    let path = state.join("log.jsonl");
    let mut line = serde_json::to_vec(record).map_err(|e| UpdateError::Io(e.to_string()))?;
    line.push(b'\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| UpdateError::io(&path, &e))?;
    file.write_all(&line)
        .and_then(|()| file.sync_all())
        .map_err(|e| UpdateError::io(&path, &e))
}

/// The records from byte `offset` on, and the offset after the last complete line.
pub fn read_from(state: &Path, offset: u64) -> (Vec<Record>, u64) {
    let Ok(bytes) = std::fs::read(state.join("log.jsonl")) else {
        return (Vec::new(), offset);
    };
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let tail = &bytes[start..];
    let complete = tail.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let records = tail[..complete]
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect();
    (records, (start + complete) as u64)
}
