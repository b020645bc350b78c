//! Signed system updates for the edgeward appliance (issue 18).
//!
//! An update bundle (`*.ewu`) is a tar file: `manifest.json`, `manifest.sig` (the vendor's
//! Ed25519 signature over the manifest's bytes), then the root filesystem (erofs), the kernel
//! and the initrd, each pinned by size and SHA-256 in the manifest. [`bundle::open`] checks all
//! of it before anything is written — a bundle that is unsigned, signed by another key,
//! tampered with, truncated or padded is refused, and there is no option to force it.
//! [`install::install`] then writes the inactive root slot (A or B) and a boot loader entry with
//! a try counter, so systemd-boot boots the new version at most three times before falling back
//! to the slot that worked.

pub mod bundle;
pub mod install;
pub mod log;
pub mod manifest;
pub mod slots;

pub mod queue;

use std::path::Path;

pub use manifest::{ImageVersion, Manifest};

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("{0}")]
    Io(String),
    #[error("`{0}` is not an image version (dot-separated numbers such as 0.1.523)")]
    BadVersion(String),
    #[error("not an update bundle: {0}")]
    Malformed(String),
    #[error(
        "the bundle's signature does not verify with the vendor's update key (tampered with, or signed by another key): nothing was written"
    )]
    BadSignature,
    #[error("part {part}: {why} (the bundle was altered after signing): nothing was written")]
    PartMismatch { part: String, why: String },
    #[error(
        "version {offered} is not newer than the running version {running}; only a bundle the vendor signed as a rollback may go back"
    )]
    NotNewer {
        offered: ImageVersion,
        running: ImageVersion,
    },
    #[error("{0}")]
    Slot(String),
    #[error("writing {what}: {why}")]
    Write { what: String, why: String },
    #[error("an update (edgeward {0}) is already queued or being installed; wait for it to finish")]
    Busy(String),
}

impl UpdateError {
    pub(crate) fn io(path: &Path, e: &std::io::Error) -> Self {
        UpdateError::Io(format!("{}: {e}", path.display()))
    }

    /// A short stable code for events and the API.
    pub fn code(&self) -> &'static str {
        match self {
            UpdateError::Io(_) => "io",
            UpdateError::BadVersion(_) => "bad-version",
            UpdateError::Malformed(_) => "malformed",
            UpdateError::BadSignature => "bad-signature",
            UpdateError::PartMismatch { .. } => "part-mismatch",
            UpdateError::NotNewer { .. } => "not-newer",
            UpdateError::Slot(_) => "slot",
            UpdateError::Write { .. } => "write",
            UpdateError::Busy(_) => "busy",
        }
    }
}
