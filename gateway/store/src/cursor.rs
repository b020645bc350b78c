//! Cursor files: how far a reader (the SOC link, the syslog forwarder, the hub's SIEM relay) has
//! got, kept as a small JSON file written atomically (0600), so a restart resumes where it
//! stopped. A missing or damaged cursor reads as the reader's default (start from the beginning:
//! receivers de-duplicate by sequence number).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A cursor of type `T` kept at `path`.
#[derive(Debug, Clone)]
pub struct CursorFile {
    path: PathBuf,
}

impl CursorFile {
    pub fn new(path: impl Into<PathBuf>) -> CursorFile {
        CursorFile { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved cursor, or `T::default()` when there is none or it cannot be read.
    pub fn load<T: DeserializeOwned + Default>(&self) -> T {
        std::fs::read(&self.path)
            .ok()
            .and_then(|raw| serde_json::from_slice(&raw).ok())
            .unwrap_or_default()
    }

    /// Save `cursor` atomically; a failure is logged (the reader then resends from the last
    /// saved point, which receivers de-duplicate).
    pub fn save<T: Serialize>(&self, cursor: &T) {
        let written = serde_json::to_vec(cursor)
            .map_err(std::io::Error::other)
            .and_then(|bytes| edgeward_config::history::write_atomic(&self.path, &bytes));
        if let Err(e) = written {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot save a cursor");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Seq {
        acked: Option<u64>,
    }

    #[test]
    fn saves_loads_and_survives_damage() {
        let d = tempfile::tempdir().unwrap();
        let c = CursorFile::new(d.path().join("cursor.json"));
        assert_eq!(c.load::<Seq>(), Seq::default());
        c.save(&Seq { acked: Some(42) });
        assert_eq!(c.load::<Seq>(), Seq { acked: Some(42) });
        std::fs::write(c.path(), "{not json").unwrap();
        assert_eq!(
            c.load::<Seq>(),
            Seq::default(),
            "damaged reads as the default"
        );
    }
}
