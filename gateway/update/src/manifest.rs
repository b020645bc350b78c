//! The signed manifest at the head of an update bundle: which image version it carries, whether
//! it is a signed rollback, and the size and SHA-256 of every part. The signature (Ed25519, the
//! vendor's update key) covers the manifest's exact bytes, and the manifest pins every byte that
//! follows, so one signature check plus the part hashes authenticate the whole bundle.

use std::cmp::Ordering;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

use crate::UpdateError;

/// The parts a bundle carries, in this order after the manifest and its signature.
pub const PARTS: [&str; 3] = ["root.erofs", "vmlinuz", "initrd"];

/// The longest manifest a gateway reads (it is a few hundred bytes).
pub const MAX_MANIFEST: u64 = 64 * 1024;

/// An image version: dot-separated numbers (`0.1.523`), compared number by number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageVersion(Vec<u64>);

impl FromStr for ImageVersion {
    type Err = UpdateError;
    fn from_str(text: &str) -> Result<Self, UpdateError> {
        let bad = || UpdateError::BadVersion(text.to_string());
        if text.is_empty() || text.len() > 32 {
            return Err(bad());
        }
        let numbers = text
            .split('.')
            .map(|n| {
                if n.is_empty() || n.len() > 12 || !n.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                n.parse::<u64>().map_err(|_| bad())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ImageVersion(numbers))
    }
}

impl TryFrom<String> for ImageVersion {
    type Error = UpdateError;
    fn try_from(text: String) -> Result<Self, UpdateError> {
        text.parse()
    }
}

impl From<ImageVersion> for String {
    fn from(v: ImageVersion) -> String {
        v.to_string()
    }
}

impl fmt::Display for ImageVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u64::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

impl Ord for ImageVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.0.len().max(other.0.len());
        (0..len)
            .map(|i| {
                let a = self.0.get(i).copied().unwrap_or(0);
                let b = other.0.get(i).copied().unwrap_or(0);
                a.cmp(&b)
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl PartialOrd for ImageVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One part of the bundle as the manifest pins it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub name: String,
    pub size: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Bundle format (1).
    pub format: u32,
    pub version: ImageVersion,
    pub created: DateTime<Utc>,
    /// A signed rollback may install a version older than the running one.
    #[serde(default)]
    pub rollback: bool,
    /// The kernel command line after `root=…` (the installer names the slot itself).
    pub cmdline: String,
    pub parts: Vec<Part>,
}

impl Manifest {
    /// The manifest's part called `name`.
    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }

    /// Check the shape: format 1, exactly the expected parts in order, sane hashes, a command
    /// line that does not try to choose the root itself.
    pub fn check_shape(&self) -> Result<(), UpdateError> {
        if self.format != 1 {
            return Err(UpdateError::Malformed(format!(
                "bundle format {} is not 1",
                self.format
            )));
        }
        let names: Vec<&str> = self.parts.iter().map(|p| p.name.as_str()).collect();
        if names != PARTS {
            return Err(UpdateError::Malformed(format!(
                "the manifest lists parts {names:?}, expected {PARTS:?}"
            )));
        }
        for p in &self.parts {
            let hex_ok = p.sha256.len() == 64
                && p.sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !hex_ok {
                return Err(UpdateError::Malformed(format!(
                    "part {}: sha256 is not 64 lower-case hex digits",
                    p.name
                )));
            }
        }
        let bad_word = self
            .cmdline
            .split_whitespace()
            .find(|w| w.starts_with("root=") || w.starts_with("init="));
        if let Some(word) = bad_word {
            return Err(UpdateError::Malformed(format!(
                "the command line may not set `{word}`: the installer names the slot"
            )));
        }
        if self.cmdline.len() > 1024 || self.cmdline.contains(['\n', '\r']) {
            return Err(UpdateError::Malformed(
                "the command line is longer than 1024 bytes or spans lines".into(),
            ));
        }
        Ok(())
    }
}

/// The vendor's update signing key pair, `update-signing.key` (PKCS#8, hex, 0600) and
/// `update-signing.pub` (hex), in `dir`.
pub fn make_signing_key(dir: &Path) -> Result<(), UpdateError> {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
        .map_err(|_| UpdateError::Io("cannot generate a key".into()))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|_| UpdateError::Io("cannot generate a key".into()))?;
    std::fs::create_dir_all(dir).map_err(|e| UpdateError::io(dir, &e))?;
    let key = dir.join("update-signing.key");
    edgeward_config::history::write_atomic_mode(
        &key,
        hex::encode(pkcs8.as_ref()).as_bytes(),
        0o600,
    )
    .map_err(|e| UpdateError::io(&key, &e))?;
    let public = dir.join("update-signing.pub");
    edgeward_config::history::write_atomic_mode(
        &public,
        hex::encode(pair.public_key().as_ref()).as_bytes(),
        0o644,
    )
    .map_err(|e| UpdateError::io(&public, &e))
}

/// Sign `manifest_bytes` with the PKCS#8 key in `key_file`; the signature in hex.
pub fn sign(key_file: &Path, manifest_bytes: &[u8]) -> Result<String, UpdateError> {
    let text = std::fs::read_to_string(key_file).map_err(|e| UpdateError::io(key_file, &e))?;
    let pkcs8 = hex::decode(text.trim())
        .map_err(|_| UpdateError::Io(format!("{}: not a hex key", key_file.display())))?;
    let pair = Ed25519KeyPair::from_pkcs8(&pkcs8)
        .map_err(|_| UpdateError::Io(format!("{}: not an Ed25519 key", key_file.display())))?;
    Ok(hex::encode(pair.sign(manifest_bytes).as_ref()))
}

/// The trusted vendor keys: every `*.pub` file (hex Ed25519) in `dir`.
pub fn trusted_keys(dir: &Path) -> Result<Vec<Vec<u8>>, UpdateError> {
    let entries = std::fs::read_dir(dir).map_err(|e| UpdateError::io(dir, &e))?;
    let mut keys = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "pub") {
            let text = std::fs::read_to_string(&path).map_err(|e| UpdateError::io(&path, &e))?;
            match hex::decode(text.trim()) {
                Ok(key) if key.len() == 32 => keys.push(key),
                _ => {
                    return Err(UpdateError::Io(format!(
                        "{}: not a hex Ed25519 public key",
                        path.display()
                    )));
                }
            }
        }
    }
    if keys.is_empty() {
        return Err(UpdateError::Io(format!(
            "{}: no trusted update key (*.pub) — every bundle would be refused",
            dir.display()
        )));
    }
    Ok(keys)
}

/// Whether `signature_hex` over `manifest_bytes` verifies with one of `keys`.
pub fn verify(keys: &[Vec<u8>], manifest_bytes: &[u8], signature_hex: &str) -> bool {
    let Ok(signature) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    keys.iter().any(|key| {
        UnparsedPublicKey::new(&ED25519, key)
            .verify(manifest_bytes, &signature)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_number_by_number() {
        let v = |t: &str| t.parse::<ImageVersion>().unwrap();
        assert!(v("0.1.10") > v("0.1.9"));
        assert!(v("1.0") > v("0.99.99"));
        assert_eq!(v("0.1.0").cmp(&v("0.1")), Ordering::Equal);
        assert_eq!(v("0.1.523").to_string(), "0.1.523");
        for bad in [
            "",
            "1..2",
            "1.a",
            "-1",
            "1.2.",
            " 1",
            "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15",
        ] {
            assert!(bad.parse::<ImageVersion>().is_err(), "{bad:?} accepted");
        }
    }
}
