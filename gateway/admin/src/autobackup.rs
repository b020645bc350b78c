//! Automatic configuration backups (000 §10.7, 004 §16.1.b, 003 §11.3–11.4): every confirmed
//! configuration is sealed — encrypted and authenticated with ChaCha20-Poly1305 under the
//! gateway's backup key (32 random bytes in the key directory, 0600, made on first use) — and
//! written to `STATE/backups/v<VERSION>.ewb`, then read back and opened to verify it. The SOC
//! link ships each file to the hub. Opening checks the authentication tag, so a backup changed
//! by a single byte, or sealed by another gateway, is refused.

use std::path::{Path, PathBuf};

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use ring::rand::SecureRandom;

use crate::backup::{BackupError, Contents};

const HEADER: &str = "EDGEWARD-CONFIG-AUTOBACKUP v1";
/// Backups kept on the box (the oldest go first); the SOC keeps every one.
pub const KEEP: usize = 500;

/// The gateway's backup key file in `key_dir`.
pub fn key_path(key_dir: &Path) -> PathBuf {
    key_dir.join("config-backup.key")
}

/// Load the backup key, making it (0600) on first use.
pub fn load_or_create_key(key_dir: &Path) -> Result<[u8; 32], BackupError> {
    let path = key_path(key_dir);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let bytes = hex::decode(text.trim())
            .map_err(|_| BackupError::Internal(format!("{}: not a hex key", path.display())))?;
        return bytes
            .try_into()
            .map_err(|_| BackupError::Internal(format!("{}: not a 32-byte key", path.display())));
    }
    let mut key = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| BackupError::Internal("rng".into()))?;
    std::fs::create_dir_all(key_dir).map_err(|e| BackupError::Internal(e.to_string()))?;
    edgeward_config::history::write_atomic_mode(&path, hex::encode(key).as_bytes(), 0o600)
        .map_err(|e| BackupError::Internal(format!("{}: {e}", path.display())))?;
    Ok(key)
}

fn aead(key: &[u8; 32]) -> Result<LessSafeKey, BackupError> {
    let unbound = UnboundKey::new(&CHACHA20_POLY1305, key)
        .map_err(|_| BackupError::Internal("key".into()))?;
    Ok(LessSafeKey::new(unbound))
}

/// The sealed file: the header, then base64 of nonce and ciphertext with its tag.
pub fn seal(contents: &Contents, key: &[u8; 32]) -> Result<String, BackupError> {
    let mut nonce = [0u8; 12];
    ring::rand::SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| BackupError::Internal("rng".into()))?;
    let mut data =
        serde_json::to_vec(contents).map_err(|e| BackupError::Internal(e.to_string()))?;
    aead(key)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(HEADER),
            &mut data,
        )
        .map_err(|_| BackupError::Internal("seal".into()))?;
    let mut blob = nonce.to_vec();
    blob.extend_from_slice(&data);
    Ok(crate::backup::armor(HEADER, &blob))
}

/// Open a sealed backup; refused when it is not one, or when it was changed or sealed under
/// another key.
pub fn open(file: &[u8], key: &[u8; 32]) -> Result<Contents, BackupError> {
    let blob = crate::backup::unarmor(HEADER, file)?;
    if blob.len() < 12 + 16 {
        return Err(BackupError::CannotOpen);
    }
    let (nonce, sealed) = blob.split_at(12);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| BackupError::CannotOpen)?;
    let mut data = sealed.to_vec();
    let plain = aead(key)?
        .open_in_place(nonce, Aad::from(HEADER), &mut data)
        .map_err(|_| BackupError::CannotOpen)?;
    serde_json::from_slice(plain).map_err(|_| BackupError::CannotOpen)
}

/// The directory of the box's backups.
pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("backups")
}

/// The file of `version`'s backup.
pub fn file_name(version: u64) -> String {
    format!("v{version:08}.ewb")
}

/// Seal `contents`, write it (0600), read it back and open it; the path, or why not.
pub fn write_verified(
    state_dir: &Path,
    key: &[u8; 32],
    contents: &Contents,
) -> Result<PathBuf, BackupError> {
    let dir = dir(state_dir);
    std::fs::create_dir_all(&dir)
        .map_err(|e| BackupError::Internal(format!("{}: {e}", dir.display())))?;
    let path = dir.join(file_name(contents.version));
    let sealed = seal(contents, key)?;
    edgeward_config::history::write_atomic_mode(&path, sealed.as_bytes(), 0o600)
        .map_err(|e| BackupError::Internal(format!("{}: {e}", path.display())))?;
    let back = std::fs::read(&path)
        .map_err(|e| BackupError::Internal(format!("{}: {e}", path.display())))?;
    let reopened = open(&back, key)?;
    if reopened != *contents {
        return Err(BackupError::Internal(format!(
            "{}: what was read back differs from what was written",
            path.display()
        )));
    }
    prune(&dir);
    Ok(path)
}

/// The versions backed up on the box, oldest first.
pub fn versions(state_dir: &Path) -> Vec<u64> {
    let mut found: Vec<u64> = std::fs::read_dir(dir(state_dir))
        .map(|r| {
            r.flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.strip_prefix('v')?.strip_suffix(".ewb")?.parse().ok()
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort_unstable();
    found
}

fn prune(dir: &Path) {
    let Some(state) = dir.parent() else { return };
    let all = versions(state);
    if all.len() > KEEP {
        for v in &all[..all.len() - KEEP] {
            let _ = std::fs::remove_file(dir.join(file_name(*v)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn sample(version: u64) -> Contents {
        Contents {
            host_id: "gw1".into(),
            version,
            created_at: Utc::now(),
            created_by: "minh".into(),
            config: edgeward_config::AGENCY_DEFAULT_PROFILE.into(),
            secrets_included: true,
        }
    }

    /// 000 §10.7: a written backup is verified, and a changed one is refused on restore.
    #[test]
    fn written_verified_and_refused_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        let key = load_or_create_key(&dir.path().join("keys")).unwrap();
        assert_eq!(
            load_or_create_key(&dir.path().join("keys")).unwrap(),
            key,
            "the key is kept"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(key_path(&dir.path().join("keys")))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let contents = sample(7);
        let path = write_verified(dir.path(), &key, &contents).unwrap();
        let file = std::fs::read(&path).unwrap();
        assert!(
            !String::from_utf8_lossy(&file).contains("[[zones]]"),
            "encrypted"
        );
        assert_eq!(open(&file, &key).unwrap(), contents);
        for i in [40, file.len() / 2, file.len() - 5] {
            let mut changed = file.clone();
            changed[i] = if changed[i] == b'A' { b'B' } else { b'A' };
            assert!(
                open(&changed, &key).is_err(),
                "a change at byte {i} is refused"
            );
        }
        let other = [7u8; 32];
        assert_eq!(
            open(&file, &other),
            Err(BackupError::CannotOpen),
            "another gateway's key"
        );
        assert_eq!(versions(dir.path()), vec![7]);
    }
}
