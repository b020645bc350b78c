//! Encrypted configuration backups (000 §8.2.a): the running configuration and its version,
//! sealed with ChaCha20-Poly1305 under a key derived from the admin's passphrase by argon2id.
//! The file is ASCII (a header line and base64), so it survives e-mail and USB sticks alike.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use chrono::{DateTime, Utc};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use ring::rand::SecureRandom;
use serde::{Deserialize, Serialize};

const HEADER: &str = "EDGEWARD-CONFIG-BACKUP v1";
pub const MIN_PASSPHRASE: usize = 12;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contents {
    pub host_id: String,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub config: String,
    /// False when the exporter's role may not see secrets: the Wi-Fi passphrases read
    /// `••••••••` and a restore keeps the running ones (by SSID).
    #[serde(default = "yes")]
    pub secrets_included: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BackupError {
    #[error("the passphrase must have at least {MIN_PASSPHRASE} characters")]
    WeakPassphrase,
    #[error("this is not an edgeward configuration backup")]
    NotABackup,
    #[error("wrong passphrase or damaged backup")]
    CannotOpen,
    #[error("{0}")]
    Internal(String),
}

fn key(passphrase: &str, salt: &[u8]) -> Result<LessSafeKey, BackupError> {
    let params =
        Params::new(64 * 1024, 3, 1, Some(32)).map_err(|e| BackupError::Internal(e.to_string()))?;
    let mut k = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, &mut k)
        .map_err(|e| BackupError::Internal(e.to_string()))?;
    let unbound =
        UnboundKey::new(&CHACHA20_POLY1305, &k).map_err(|_| BackupError::Internal("key".into()))?;
    Ok(LessSafeKey::new(unbound))
}

pub fn seal(contents: &Contents, passphrase: &str) -> Result<String, BackupError> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        return Err(BackupError::WeakPassphrase);
    }
    let rng = ring::rand::SystemRandom::new();
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rng.fill(&mut salt)
        .map_err(|_| BackupError::Internal("rng".into()))?;
    rng.fill(&mut nonce)
        .map_err(|_| BackupError::Internal("rng".into()))?;
    let mut data =
        serde_json::to_vec(contents).map_err(|e| BackupError::Internal(e.to_string()))?;
    key(passphrase, &salt)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(HEADER),
            &mut data,
        )
        .map_err(|_| BackupError::Internal("seal".into()))?;
    let mut blob = salt.to_vec();
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&data);
    Ok(armor(HEADER, &blob))
}

/// `header`, then `blob` in base64 lines of 76: a file that survives e-mail and USB sticks.
pub(crate) fn armor(header: &str, blob: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(blob);
    let mut out = format!("{header}\n");
    for chunk in b64.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

/// The blob of an [`armor`]ed file with `header`; `NotABackup` when the header differs,
/// `CannotOpen` when the base64 is damaged.
pub(crate) fn unarmor(header: &str, file: &[u8]) -> Result<Vec<u8>, BackupError> {
    let text = std::str::from_utf8(file).map_err(|_| BackupError::NotABackup)?;
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some(header) {
        return Err(BackupError::NotABackup);
    }
    let b64: String = lines.map(str::trim).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| BackupError::CannotOpen)
}

pub fn open(file: &[u8], passphrase: &str) -> Result<Contents, BackupError> {
    let blob = unarmor(HEADER, file).map_err(|_| BackupError::NotABackup)?;
    if blob.len() < 16 + 12 + 16 {
        return Err(BackupError::NotABackup);
    }
    let (salt, rest) = blob.split_at(16);
    let (nonce, sealed) = rest.split_at(12);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| BackupError::NotABackup)?;
    let mut data = sealed.to_vec();
    let plain = key(passphrase, salt)?
        .open_in_place(nonce, Aad::from(HEADER), &mut data)
        .map_err(|_| BackupError::CannotOpen)?;
    serde_json::from_slice(plain).map_err(|_| BackupError::CannotOpen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Contents {
        Contents {
            host_id: "gw1".into(),
            version: 7,
            created_at: Utc::now(),
            created_by: "minh".into(),
            config: edgeward_config::AGENCY_DEFAULT_PROFILE.into(),
            secrets_included: true,
        }
    }

    #[test]
    fn round_trip_and_refusals() {
        let c = sample();
        let file = seal(&c, "mot-cau-rat-dai-2026").unwrap();
        assert!(file.starts_with(HEADER));
        assert!(!file.contains("[[zones]]"), "encrypted");
        assert_eq!(open(file.as_bytes(), "mot-cau-rat-dai-2026").unwrap(), c);
        assert_eq!(
            open(file.as_bytes(), "mot-cau-rat-dai-2027"),
            Err(BackupError::CannotOpen)
        );
        let mut tampered = file.clone().into_bytes();
        let i = tampered.len() - 10;
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        assert!(open(&tampered, "mot-cau-rat-dai-2026").is_err());
        assert_eq!(open(b"hello", "x"), Err(BackupError::NotABackup));
        assert_eq!(seal(&c, "short"), Err(BackupError::WeakPassphrase));
    }
}
