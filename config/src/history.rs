//! Versioned history of applied configurations: who applied what, when and why, kept on disk.
//!
//! Layout: `DIR/v000001.toml` (the exact text applied) and `DIR/v000001.json` (its metadata).
//! The metadata file is written last, so a version exists only once both are complete.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("history directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("history entry {path} is damaged: {reason}")]
    Damaged { path: PathBuf, reason: String },
    #[error("version {0} is not in the history")]
    NoSuchVersion(u64),
}

/// Metadata of one applied configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub version: u64,
    pub applied_at: DateTime<Utc>,
    pub author: String,
    pub reason: String,
    /// SHA-256 of the text, hex.
    pub sha256: String,
    /// For a rollback: the version whose text was restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_from: Option<u64>,
}

/// The history store of one gateway.
pub struct History {
    dir: PathBuf,
}

/// Hex SHA-256 of a configuration text.
pub fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A unified diff between two configuration texts, labelled with their names.
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}

impl History {
    pub fn open(dir: impl Into<PathBuf>) -> Result<History, HistoryError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|source| HistoryError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(History { dir })
    }

    fn io(&self, source: std::io::Error) -> HistoryError {
        HistoryError::Io {
            path: self.dir.clone(),
            source,
        }
    }

    fn text_path(&self, v: u64) -> PathBuf {
        self.dir.join(format!("v{v:06}.toml"))
    }
    fn meta_path(&self, v: u64) -> PathBuf {
        self.dir.join(format!("v{v:06}.json"))
    }

    /// All complete entries, oldest first.
    pub fn list(&self) -> Result<Vec<Entry>, HistoryError> {
        let mut out = Vec::new();
        for item in fs::read_dir(&self.dir).map_err(|e| self.io(e))? {
            let path = item.map_err(|e| self.io(e))?.path();
            let is_meta = path.extension().is_some_and(|e| e == "json")
                && path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('v'));
            if !is_meta {
                continue;
            }
            let raw = fs::read_to_string(&path).map_err(|e| self.io(e))?;
            let entry: Entry = serde_json::from_str(&raw).map_err(|e| HistoryError::Damaged {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            out.push(entry);
        }
        out.sort_by_key(|e| e.version);
        Ok(out)
    }

    pub fn latest(&self) -> Result<Option<Entry>, HistoryError> {
        Ok(self.list()?.pop())
    }

    /// The entry and exact text of a version, checked against its digest.
    pub fn get(&self, version: u64) -> Result<(Entry, String), HistoryError> {
        let meta = self.meta_path(version);
        let raw = match fs::read_to_string(&meta) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(HistoryError::NoSuchVersion(version));
            }
            Err(e) => return Err(self.io(e)),
        };
        let entry: Entry = serde_json::from_str(&raw).map_err(|e| HistoryError::Damaged {
            path: meta.clone(),
            reason: e.to_string(),
        })?;
        let text = fs::read_to_string(self.text_path(version)).map_err(|e| self.io(e))?;
        if digest(&text) != entry.sha256 {
            return Err(HistoryError::Damaged {
                path: self.text_path(version),
                reason: "content does not match its recorded SHA-256".into(),
            });
        }
        Ok((entry, text))
    }

    /// Record `text` as applied. If it is identical to the latest version, nothing is written and
    /// that version is returned.
    pub fn record(
        &self,
        text: &str,
        author: &str,
        reason: &str,
        restored_from: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<Entry, HistoryError> {
        let sha = digest(text);
        let latest = self.latest()?;
        if let Some(l) = &latest {
            if l.sha256 == sha && restored_from.is_none() {
                return Ok(l.clone());
            }
        }
        let version = latest.map_or(1, |l| l.version + 1);
        let entry = Entry {
            version,
            applied_at: now,
            author: author.to_string(),
            reason: reason.to_string(),
            sha256: sha,
            restored_from,
        };
        write_atomic(&self.text_path(version), text.as_bytes()).map_err(|e| self.io(e))?;
        let meta = serde_json::to_vec_pretty(&entry).map_err(|e| HistoryError::Damaged {
            path: self.meta_path(version),
            reason: e.to_string(),
        })?;
        write_atomic(&self.meta_path(version), &meta).map_err(|e| self.io(e))?;
        Ok(entry)
    }
}

/// Write a file so that readers see either the old or the new content, never a torn one.
/// Write `path` atomically (temporary file, fsync, rename, fsync of the directory), owner-only
/// (0600) from the moment it exists: configurations hold Wi-Fi passphrases, and every other
/// file the daemon keeps (accounts, keys, cursors) is nobody else's business either.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_mode(path, bytes, 0o600)
}

/// As [`write_atomic`], created with `mode` (0644 only for public material: certificates,
/// public keys).
pub fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    {
        let _ = fs::remove_file(&tmp);
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        // The umask may have taken bits away; never added any.
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Configuration texts hold Wi-Fi passphrases: no other local user may read them, not
    /// even between creation and a later chmod.
    #[test]
    fn files_are_owner_only_from_creation() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(dir.path()).unwrap();
        h.record("a = 1\n", "alice", "first", None, Utc::now())
            .unwrap();
        let p = dir.path().join("plain.toml");
        write_atomic(&p, b"x").unwrap();
        for entry in fs::read_dir(dir.path()).unwrap() {
            let mode = entry.unwrap().metadata().unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
        write_atomic_mode(&p, b"y", 0o644).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }

    #[test]
    fn records_lists_and_dedups() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(dir.path()).unwrap();
        let now = Utc::now();
        let a = h.record("a = 1\n", "alice", "first", None, now).unwrap();
        let same = h.record("a = 1\n", "bob", "again", None, now).unwrap();
        assert_eq!(a, same);
        let b = h.record("a = 2\n", "bob", "change", None, now).unwrap();
        assert_eq!(b.version, 2);
        let list = h.list().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].author, "bob");
        let (_, text) = h.get(1).unwrap();
        assert_eq!(text, "a = 1\n");
        let rb = h.record(&text, "carol", "rollback", Some(1), now).unwrap();
        assert_eq!((rb.version, rb.restored_from), (3, Some(1)));
        assert!(matches!(h.get(9), Err(HistoryError::NoSuchVersion(9))));
    }

    #[test]
    fn tampered_text_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(dir.path()).unwrap();
        h.record("a = 1\n", "alice", "first", None, Utc::now())
            .unwrap();
        fs::write(dir.path().join("v000001.toml"), "a = 666\n").unwrap();
        assert!(matches!(h.get(1), Err(HistoryError::Damaged { .. })));
    }

    #[test]
    fn diff_shows_changed_lines() {
        let d = unified_diff("a = 1\nb = 2\n", "a = 1\nb = 3\n", "v1", "v2");
        assert!(d.contains("-b = 2"));
        assert!(d.contains("+b = 3"));
    }
}
