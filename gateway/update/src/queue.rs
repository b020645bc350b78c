//! Handing a received bundle to the installer unit. The receivers (the admin UI's upload, the SOC
//! link) write the bundle into the update state directory, check its signed manifest and version
//! at once (so the sender learns of a refusal straight away) and queue it; the installer unit
//! (`edgeward update install --queued`) checks every part again before it writes anything.

use std::path::Path;

use serde::Serialize;

use crate::slots::System;
use crate::{UpdateError, bundle, manifest};

/// A bundle whose manifest was checked, waiting for the installer unit.
pub const QUEUED: &str = "queued.ewu";
/// Who queued it (`{"by": …, "source": …}`).
pub const QUEUED_BY: &str = "queued.json";
/// The installer's progress while it runs.
pub const PROGRESS: &str = "progress.json";
/// An upload from the admin UI being received.
pub const INCOMING: &str = "incoming.ewu";
/// A bundle from the SOC link being received.
pub const INCOMING_SOC: &str = "incoming-soc.ewu";

/// What was queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Queued {
    pub version: String,
    pub rollback: bool,
    pub bytes: u64,
}

/// Check `incoming`'s signed manifest and version against the running system, then move it into
/// the queue for the installer. On a refusal `incoming` is removed and nothing is queued.
pub fn check_and_queue(
    system: &System,
    incoming: &Path,
    by: &str,
    source: &str,
) -> Result<Queued, UpdateError> {
    let result = check_and_queue_inner(system, incoming, by, source);
    if result.is_err() {
        let _ = std::fs::remove_file(incoming);
    }
    result
}

fn check_and_queue_inner(
    system: &System,
    incoming: &Path,
    by: &str,
    source: &str,
) -> Result<Queued, UpdateError> {
    let keys = manifest::trusted_keys(&system.keys)?;
    let queued = system.state.join(QUEUED);
    if queued.exists() {
        // The installer reads the queued file and removes it when done: replacing it now would
        // lose one of the two bundles.
        let waiting = bundle::open_manifest(&queued, &keys)
            .map_or_else(|_| "?".to_string(), |m| m.version.to_string());
        return Err(UpdateError::Busy(waiting));
    }
    let manifest = bundle::open_manifest(incoming, &keys)?;
    let running = system.running_version()?;
    system.running_slot()?;
    bundle::check_version(&manifest, &running)?;
    let who = serde_json::json!({ "by": by, "source": source });
    let who_path = system.state.join(QUEUED_BY);
    edgeward_config::history::write_atomic_mode(&who_path, who.to_string().as_bytes(), 0o600)
        .map_err(|e| UpdateError::io(&who_path, &e))?;
    let bytes = std::fs::metadata(incoming).map(|m| m.len()).unwrap_or(0);
    std::fs::rename(incoming, &queued).map_err(|e| UpdateError::io(&queued, &e))?;
    Ok(Queued {
        version: manifest.version.to_string(),
        rollback: manifest.rollback,
        bytes,
    })
}
