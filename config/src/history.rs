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

/// The reasons edgeward itself writes into the history (and onto devices), as English
/// patterns with `{}` for each value and their Vietnamese with `{0}`, `{1}`… in any order. A
/// reason an administrator typed is none of these and is shown as typed.
const SYSTEM_REASONS: &[(&str, &str)] = &[
    ("first start", "khởi động lần đầu"),
    ("rolled back", "đã quay lui"),
    ("applied from {}", "áp dụng từ {0}"),
    (
        "v{} not confirmed in time: automatic rollback to v{}",
        "phiên bản {0} không được xác nhận kịp thời hạn: tự động quay lui về phiên bản {1}",
    ),
    (
        "v{} rejected by {}: automatic rollback to v{}",
        "phiên bản {0} bị {1} từ chối: tự động quay lui về phiên bản {2}",
    ),
    (
        "device {} ({}) approved for {}",
        "phê duyệt thiết bị {0} (`{1}`) cho {2}",
    ),
    (
        "device {} ({}) added for {}",
        "thêm thiết bị {0} (`{1}`) cho {2}",
    ),
    ("device {} set to approved", "phê duyệt thiết bị {0}"),
    (
        "device {} set to pending",
        "chuyển thiết bị {0} về chờ phê duyệt",
    ),
    ("device {} set to blocked", "chặn thiết bị {0}"),
    ("device {} removed", "xóa thiết bị {0}"),
    ("device {} updated (API)", "cập nhật thiết bị {0} (API)"),
    ("device {} added (API)", "thêm thiết bị {0} (API)"),
    (
        "inventory imported from {} ({} devices)",
        "nhập danh mục thiết bị từ tệp {0} ({1} thiết bị)",
    ),
    (
        "device {} quarantined by {} from the devices page",
        "{1} cách ly thiết bị {0} từ trang Thiết bị",
    ),
    (
        "quarantined by {} from the devices page",
        "{0} cách ly từ trang Thiết bị",
    ),
    (
        "device {} quarantined by {}: {}",
        "{1} cách ly thiết bị {0}: {2}",
    ),
    ("quarantined by {}: {}", "{0} cách ly: {1}"),
    (
        "device {} released from quarantine by {}: {}",
        "{1} thôi cách ly thiết bị {0}: {2}",
    ),
    (
        "device {} released from quarantine by {}",
        "{1} thôi cách ly thiết bị {0}",
    ),
    (
        "unknown device {} blocked by {}",
        "{1} chặn thiết bị lạ {0}",
    ),
    (
        "quarantined automatically ({}): {} (sid {}) {} → {}",
        "tự động cách ly ({0}): cảnh báo `{1}` (sid {2}) {3} → {4}",
    ),
    (
        "quarantined automatically (rogue-dhcp): {}",
        "tự động cách ly (máy chủ DHCP giả mạo): {0}",
    ),
    (
        "Wi-Fi `{}`: passphrase changed (generated)",
        "Wi-Fi `{0}`: đổi mật khẩu (mật khẩu do thiết bị tạo)",
    ),
    (
        "Wi-Fi `{}`: passphrase changed (typed)",
        "Wi-Fi `{0}`: đổi mật khẩu (mật khẩu do người dùng nhập)",
    ),
    (
        "Wi-Fi `{}` added in zone {} ({})",
        "thêm Wi-Fi `{0}` vào vùng {1} (`{2}`)",
    ),
    ("Wi-Fi `{}` removed", "xóa Wi-Fi `{0}`"),
    (
        "IDS page: rule sid {} set to {}",
        "trang Phát hiện xâm nhập: đặt luật sid {0} thành `{1}`",
    ),
    (
        "restore of backup v{} from {}",
        "khôi phục bản sao lưu phiên bản {0} của {1}",
    ),
    (
        "{} (restored from backup v{})",
        "{0} (khôi phục từ bản sao lưu phiên bản {1})",
    ),
];

/// A history or device reason in both languages: edgeward's own reasons are translated, a
/// reason someone typed is kept as it is in both.
pub fn reason_text(reason: &str) -> crate::text::Text {
    for (en, vi) in SYSTEM_REASONS {
        if let Some(values) = match_pattern(en, reason) {
            let mut out = (*vi).to_string();
            for (i, v) in values.iter().enumerate() {
                out = out.replace(&format!("{{{i}}}"), &reason_text(v).vi);
            }
            return crate::text::Text::new(reason, out);
        }
    }
    crate::text::Text::new(reason, reason)
}

/// The values of `{}` in `pattern` if `text` has its shape (each value non-empty; the last
/// literal anchors at the end).
fn match_pattern<'t>(pattern: &str, text: &'t str) -> Option<Vec<&'t str>> {
    let literals: Vec<&str> = pattern.split("{}").collect();
    let mut rest = text.strip_prefix(literals[0])?;
    let mut values = Vec::new();
    for (i, lit) in literals.iter().enumerate().skip(1) {
        let last = i == literals.len() - 1;
        let at = if lit.is_empty() {
            if !last {
                return None;
            }
            rest.len()
        } else if last {
            rest.strip_suffix(lit)?.len()
        } else {
            rest.find(lit)?
        };
        if at == 0 {
            return None;
        }
        values.push(&rest[..at]);
        rest = &rest[at + lit.len()..];
    }
    (rest.is_empty()).then_some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edgeward_reasons_are_translated_and_typed_ones_kept() {
        assert_eq!(reason_text("first start").vi, "khởi động lần đầu");
        assert_eq!(
            reason_text("v7 not confirmed in time: automatic rollback to v6").vi,
            "phiên bản 7 không được xác nhận kịp thời hạn: tự động quay lui về phiên bản 6"
        );
        assert_eq!(
            reason_text("device aa:bb:cc:dd:ee:ff released from quarantine by an: đã sạch").vi,
            "an thôi cách ly thiết bị aa:bb:cc:dd:ee:ff: đã sạch"
        );
        assert_eq!(
            reason_text("Thay đổi theo yêu cầu của phòng").vi,
            "Thay đổi theo yêu cầu của phòng"
        );
        assert_eq!(
            reason_text("first start (restored from backup v3)").vi,
            "khởi động lần đầu (khôi phục từ bản sao lưu phiên bản 3)"
        );
    }

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
