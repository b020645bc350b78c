//! Evidence pcaps of IDS alerts (002 §7.2.g), kept next to the event store and encrypted with
//! its keys: one file per recording, `<day>/<id>.pcap.ewb` = `EWBLOB01`, key id (u32), nonce
//! (12), AES-256-GCM of the pcap with the id as associated data (a file renamed to another id
//! does not open). The alert event carries the id and the SHA-256 of the plain pcap, so a
//! downloaded copy can be checked against what the SOC received. Retention: at least the
//! monitoring period, within a disk budget, oldest first.

use std::path::{Path, PathBuf};

use ring::aead::{Aad, Nonce};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

use crate::store::{Keyring, StoreError};

const MAGIC: &[u8; 8] = b"EWBLOB01";
const SUFFIX: &str = ".pcap.ewb";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where evidence is kept for the event store at `store_dir`: beside its segments.
pub fn dir(store_dir: &Path) -> PathBuf {
    store_dir.join("evidence")
}

/// Whether `id` is a well-formed evidence id (`YYYYMMDDTHHMMSSZ-<hex>-<n>`, nothing that could
/// leave the directory).
pub fn valid_id(id: &str) -> bool {
    id.len() >= 18
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && id.as_bytes()[8] == b'T'
}

/// A kept evidence file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Kept {
    pub id: String,
    pub bytes: u64,
    pub modified: chrono::DateTime<chrono::Utc>,
}

/// The evidence directory.
#[derive(Clone)]
pub struct EvidenceStore {
    dir: PathBuf,
    keys: Keyring,
}

impl EvidenceStore {
    /// Evidence under `dir`, sealed with `keys`.
    pub fn new(dir: &Path, keys: Keyring) -> EvidenceStore {
        EvidenceStore {
            dir: dir.to_path_buf(),
            keys,
        }
    }

    fn path(&self, id: &str) -> PathBuf {
        // The day is the id's first 8 characters (its UTC date).
        self.dir.join(&id[..8]).join(format!("{id}{SUFFIX}"))
    }

    /// SHA-256 (hex) of a pcap, as the alert event carries it.
    pub fn digest(pcap: &[u8]) -> String {
        hex::encode(Sha256::digest(pcap))
    }

    /// Seal and write `pcap` as `id` (files 0600, directories 0700).
    pub fn put(&self, id: &str, pcap: &[u8]) -> Result<(), StoreError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        if !valid_id(id) {
            return Err(StoreError::Encode(format!("bad evidence id `{id}`")));
        }
        let key_id = self.keys.current_id();
        let key = self
            .keys
            .key(key_id)
            .ok_or_else(|| StoreError::Encode(format!("key {key_id} unusable")))?;
        let mut nonce = [0u8; 12];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| StoreError::Encode("no randomness".into()))?;
        let mut sealed = pcap.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(id.as_bytes()),
            &mut sealed,
        )
        .map_err(|_| StoreError::Encode("encryption failed".into()))?;
        let path = self.path(id);
        if let Some(day) = path.parent() {
            std::fs::create_dir_all(day).map_err(io(day))?;
            for d in [self.dir.as_path(), day] {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700));
            }
        }
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io(&tmp))?;
        f.write_all(MAGIC).map_err(io(&tmp))?;
        f.write_all(&key_id.to_be_bytes()).map_err(io(&tmp))?;
        f.write_all(&nonce).map_err(io(&tmp))?;
        f.write_all(&sealed).map_err(io(&tmp))?;
        f.sync_data().map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(())
    }

    /// The plain pcap of `id`.
    pub fn get(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        if !valid_id(id) {
            return Err(StoreError::Encode(format!("bad evidence id `{id}`")));
        }
        let path = self.path(id);
        let raw = std::fs::read(&path).map_err(io(&path))?;
        let bad = |why: &str| StoreError::Keys(path.clone(), why.to_string());
        if raw.len() < 8 + 4 + 12 + 16 || &raw[..8] != MAGIC {
            return Err(bad("not an evidence file"));
        }
        let key_id = u32::from_be_bytes([raw[8], raw[9], raw[10], raw[11]]);
        let key = self
            .keys
            .key(key_id)
            .ok_or_else(|| bad(&format!("key {key_id} is not in the keyring")))?;
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&raw[12..24]);
        let mut sealed = raw[24..].to_vec();
        let plain = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(id.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| bad("does not decrypt (changed, or not this id)"))?;
        Ok(plain.to_vec())
    }

    /// Every kept file, oldest first.
    pub fn list(&self) -> Vec<Kept> {
        let mut out = Vec::new();
        let Ok(days) = std::fs::read_dir(&self.dir) else {
            return out;
        };
        for day in days.flatten() {
            let Ok(files) = std::fs::read_dir(day.path()) else {
                continue;
            };
            for f in files.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                let Some(id) = name.strip_suffix(SUFFIX) else {
                    continue;
                };
                if let Ok(meta) = f.metadata() {
                    out.push(Kept {
                        id: id.to_string(),
                        bytes: meta.len(),
                        modified: meta
                            .modified()
                            .map_or_else(|_| chrono::Utc::now(), chrono::DateTime::from),
                    });
                }
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Remove files older than `max_age_days`, then the oldest while the total is over
    /// `max_bytes`; returns what was removed (the caller reports it).
    pub fn enforce(&self, max_age_days: u32, max_bytes: u64) -> Vec<Kept> {
        let kept = self.list();
        let cutoff = chrono::Utc::now() - chrono::Duration::days(max_age_days.into());
        let mut total: u64 = kept.iter().map(|k| k.bytes).sum();
        let mut removed = Vec::new();
        for k in kept {
            if k.modified >= cutoff && total <= max_bytes {
                continue;
            }
            if std::fs::remove_file(self.path(&k.id)).is_ok() {
                total = total.saturating_sub(k.bytes);
                removed.push(k);
            }
        }
        // Empty day directories go too.
        if let Ok(days) = std::fs::read_dir(&self.dir) {
            for d in days.flatten() {
                let _ = std::fs::remove_dir(d.path());
            }
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, EvidenceStore) {
        let t = tempfile::tempdir().unwrap();
        let keys = Keyring::open_or_create(&t.path().join("keys")).unwrap();
        let s = EvidenceStore::new(&t.path().join("evidence"), keys);
        (t, s)
    }

    #[test]
    fn a_pcap_is_sealed_at_rest_and_opens_only_under_its_own_id() {
        let (t, s) = store();
        let pcap = b"\xd4\xc3\xb2\xa1 GET /secret HTTP/1.1".to_vec();
        let id = "20261201T050000Z-1f-1";
        s.put(id, &pcap).unwrap();
        let path = t
            .path()
            .join("evidence/20261201")
            .join(format!("{id}.pcap.ewb"));
        let raw = std::fs::read(&path).unwrap();
        assert!(!raw.windows(6).any(|w| w == b"secret"), "encrypted at rest");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(s.get(id).unwrap(), pcap);
        // Renamed to another id: refused.
        let other = "20261201T050000Z-1f-2";
        std::fs::copy(&path, path.with_file_name(format!("{other}.pcap.ewb"))).unwrap();
        assert!(s.get(other).is_err());
        // Changed: refused.
        let mut bad = raw.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        std::fs::write(&path, bad).unwrap();
        assert!(s.get(id).is_err());
        assert_eq!(EvidenceStore::digest(&pcap).len(), 64, "hex SHA-256");
    }

    #[test]
    fn ids_that_could_leave_the_directory_are_refused() {
        let (_t, s) = store();
        for id in [
            "../../etc/passwd",
            "20261201T0/../x",
            "",
            "20261201X050000Z-1-1",
        ] {
            assert!(!valid_id(id), "{id}");
            assert!(s.put(id, b"x").is_err());
            assert!(s.get(id).is_err());
        }
    }

    #[test]
    fn the_budget_removes_the_oldest_first() {
        let (_t, s) = store();
        for i in 0..5 {
            s.put(&format!("2026120{}T050000Z-1-{i}", i + 1), &vec![0u8; 1000])
                .unwrap();
        }
        let total: u64 = s.list().iter().map(|k| k.bytes).sum();
        let removed = s.enforce(183, total - 1500);
        let ids: Vec<_> = removed.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(ids, ["20261201T050000Z-1-0", "20261202T050000Z-1-1"]);
        assert_eq!(s.list().len(), 3);
    }
}
