//! Receiving a system update bundle the SOC pushes over the link: chunks are appended in order to
//! the update state directory; once the last one is in, the bundle's signed manifest and version
//! are checked and it is queued for the installer unit (which checks every part again). The hub
//! is not trusted with the bundle's content: only the vendor's signature counts.

use base64::Engine;
use std::io::Write;

use edgeward_update::queue::{INCOMING_SOC, Queued, check_and_queue};
use edgeward_update::slots::System;

/// The largest bundle accepted over the link.
pub const MAX_BUNDLE: u64 = 3 << 30;

/// Append one chunk; `Ok(Some(_))` when the bundle is complete and queued, `Ok(None)` while more
/// is expected, `Err` (and the partial file removed) on anything wrong.
pub fn receive_chunk(
    system: Option<&System>,
    offset: u64,
    total: u64,
    data: &str,
) -> Result<Option<Queued>, String> {
    let Some(system) = system else {
        return Err(
            "this gateway does not take system updates (not booted from an edgeward slot)".into(),
        );
    };
    let path = system.state.join(INCOMING_SOC);
    let result = append(system, offset, total, data);
    match result {
        Ok(true) => check_and_queue(system, &path, "soc", "soc-link")
            .map(Some)
            .map_err(|e| e.to_string()),
        Ok(false) => Ok(None),
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            Err(e)
        }
    }
}

/// Append; `true` once `total` bytes are in.
fn append(system: &System, offset: u64, total: u64, data: &str) -> Result<bool, String> {
    if total > MAX_BUNDLE {
        return Err(format!("{total} bytes is over the {MAX_BUNDLE}-byte limit"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| format!("chunk at {offset}: not base64: {e}"))?;
    std::fs::create_dir_all(&system.state).map_err(|e| e.to_string())?;
    let path = system.state.join(INCOMING_SOC);
    let have = if offset == 0 {
        0
    } else {
        std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
    };
    if have != offset {
        return Err(format!(
            "chunk at {offset} does not follow the {have} bytes received (a chunk was lost; the SOC must send the bundle again)"
        ));
    }
    if offset + bytes.len() as u64 > total {
        return Err(format!(
            "chunk at {offset} runs past the announced {total} bytes"
        ));
    }
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(offset != 0)
        .truncate(offset == 0)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(&bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let done = offset + bytes.len() as u64 == total;
    if done {
        file.sync_all().map_err(|e| e.to_string())?;
    }
    Ok(done)
}
