//! The configuration change protocol's records on disk, shared by everything that changes the
//! configuration (the CLI, the admin plane) and the daemon that applies it: who asked and why
//! (`pending-change.json`), a change awaiting confirmation (`awaiting-confirm.json`), a
//! confirmation (`confirm.json`), and where each lives in the state directory. A change is made
//! by writing who/why, then the text ([`write_change`]); the daemon applies the text and records
//! that author and reason in the history.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::history::{self, write_atomic};

/// Who asked for the next configuration change, written by `edgeward config apply|rollback`
/// and read by the daemon when it applies the matching text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingChange {
    pub sha256: String,
    pub author: String,
    pub reason: String,
    #[serde(default)]
    pub restored_from: Option<u64>,
    /// Roll back unless confirmed within the config's `firewall.commit_confirm_seconds`.
    #[serde(default)]
    pub confirm: bool,
}

/// A change that is running but not yet confirmed (kept on disk so it survives a restart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Awaiting {
    pub version: u64,
    pub deadline: DateTime<Utc>,
    pub rollback_version: u64,
    pub author: String,
}

/// Written by `edgeward config confirm`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Confirmation {
    pub version: u64,
    pub author: String,
    /// Where the confirmation came from (`cli`, or the admin's address).
    #[serde(default = "cli_source")]
    pub source: String,
}

fn cli_source() -> String {
    "cli".into()
}

pub fn pending_path(state_dir: &Path) -> PathBuf {
    state_dir.join("pending-change.json")
}
pub fn awaiting_path(state_dir: &Path) -> PathBuf {
    state_dir.join("awaiting-confirm.json")
}
pub fn confirm_path(state_dir: &Path) -> PathBuf {
    state_dir.join("confirm.json")
}
pub fn pid_path(state_dir: &Path) -> PathBuf {
    state_dir.join("edgeward.pid")
}
pub fn history_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("history")
}
/// Where a change goes: the configuration file and the state directory.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config: PathBuf,
    pub state_dir: PathBuf,
}

/// Leave who/why for the daemon and put the (already validated) text in place. The daemon
/// applies it on its next reconcile; the CLI and the admin UI both change configuration this way.
pub fn write_change(
    paths: &Paths,
    text: &str,
    author: &str,
    reason: &str,
    restored_from: Option<u64>,
    confirm: bool,
) -> std::io::Result<()> {
    std::fs::create_dir_all(&paths.state_dir)?;
    let pending = PendingChange {
        sha256: history::digest(text),
        author: author.to_string(),
        reason: reason.to_string(),
        restored_from,
        confirm,
    };
    write_atomic(
        &pending_path(&paths.state_dir),
        &serde_json::to_vec_pretty(&pending).map_err(std::io::Error::other)?,
    )?;
    if let Some(dir) = paths.config.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_atomic(&paths.config, text.as_bytes()).map_err(|e| {
        std::io::Error::new(e.kind(), format!("writing {}: {e}", paths.config.display()))
    })
}

/// Why a confirmation was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfirmRefusal {
    #[error("no change is waiting for confirmation")]
    NothingAwaits,
    #[error("version {asked} is not the one awaiting confirmation (v{awaiting})")]
    OtherVersion { asked: u64, awaiting: u64 },
}

/// What an applied version means for commit-confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterApply {
    /// Nothing awaits confirmation: the applied version is the new last good one.
    Confirmed,
    /// The version awaits confirmation until its deadline, else it is rolled back.
    Awaiting(Awaiting),
    /// A change applied without commit-confirm while another awaited confirmation: it joins it
    /// (confirming keeps both; the deadline rolls both back). Never a confirmation by side effect.
    Joined { joined: u64, awaiting: Awaiting },
}

/// The commit-confirm protocol as a pure state machine, handed the time (like
/// `wan::health::LinkJudge`): at most one change — possibly joined by later ones — awaits
/// confirmation, with the version to roll back to and a deadline. The daemon feeds it what it
/// applied, confirmations and the clock, and carries out what it answers (persist, roll back).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitConfirm {
    awaiting: Option<Awaiting>,
}

impl CommitConfirm {
    /// The state as persisted (after a restart).
    pub fn restore(awaiting: Option<Awaiting>) -> CommitConfirm {
        CommitConfirm { awaiting }
    }

    pub fn awaiting(&self) -> Option<&Awaiting> {
        self.awaiting.as_ref()
    }

    /// `version` was applied by `author`, replacing `previous` (none at first start), with
    /// commit-confirm when `confirm`, and a confirmation window of `window`.
    pub fn applied(
        &mut self,
        version: u64,
        previous: Option<u64>,
        confirm: bool,
        author: &str,
        window: chrono::Duration,
        now: DateTime<Utc>,
    ) -> AfterApply {
        match (confirm, previous, self.awaiting.as_mut()) {
            (true, Some(previous), pending) => {
                // The way back is to the last confirmed version, not to an unconfirmed one.
                let rollback_version = pending.map_or(previous, |a| a.rollback_version);
                let awaiting = Awaiting {
                    version,
                    deadline: now + window,
                    rollback_version,
                    author: author.to_string(),
                };
                self.awaiting = Some(awaiting.clone());
                AfterApply::Awaiting(awaiting)
            }
            (_, _, Some(pending)) => {
                let joined = pending.version;
                pending.version = version;
                AfterApply::Joined {
                    joined,
                    awaiting: pending.clone(),
                }
            }
            (_, _, None) => AfterApply::Confirmed,
        }
    }

    /// Confirm the awaiting change; `version` names the one the asker saw (`None`: whatever
    /// awaits). Returns what was confirmed.
    pub fn confirm(&mut self, version: Option<u64>) -> Result<Awaiting, ConfirmRefusal> {
        let awaiting_version = self
            .awaiting
            .as_ref()
            .map(|a| a.version)
            .ok_or(ConfirmRefusal::NothingAwaits)?;
        if let Some(asked) = version.filter(|v| *v != awaiting_version) {
            return Err(ConfirmRefusal::OtherVersion {
                asked,
                awaiting: awaiting_version,
            });
        }
        self.awaiting.take().ok_or(ConfirmRefusal::NothingAwaits)
    }

    /// Whether the awaiting change is past its deadline at `now`.
    pub fn due(&self, now: DateTime<Utc>) -> bool {
        self.awaiting.as_ref().is_some_and(|a| now >= a.deadline)
    }

    /// The awaiting change is being rolled back (its deadline passed, or someone rejected it).
    pub fn rolled_back(&mut self) -> Option<Awaiting> {
        self.awaiting.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    const WINDOW: chrono::Duration = chrono::Duration::seconds(120);

    /// The rules of commit-confirm, without a daemon or root: a confirmed apply needs nothing;
    /// an unconfirmed one rolls back to the last confirmed version at its deadline; later
    /// changes join it and never confirm it; only the awaiting version is confirmed.
    #[test]
    fn commit_confirm_rules() {
        let mut cc = CommitConfirm::default();
        assert_eq!(
            cc.applied(1, None, true, "a", WINDOW, t0()),
            AfterApply::Confirmed,
            "first start"
        );
        assert_eq!(
            cc.applied(2, Some(1), false, "a", WINDOW, t0()),
            AfterApply::Confirmed
        );
        let AfterApply::Awaiting(a) = cc.applied(3, Some(2), true, "minh", WINDOW, t0()) else {
            panic!()
        };
        assert_eq!((a.version, a.rollback_version), (3, 2));
        assert_eq!(a.deadline, t0() + WINDOW);
        // Another commit-confirm change on top: the way back stays v2, the clock restarts.
        let later = t0() + chrono::Duration::seconds(60);
        let AfterApply::Awaiting(b) = cc.applied(4, Some(3), true, "minh", WINDOW, later) else {
            panic!()
        };
        assert_eq!(
            (b.version, b.rollback_version, b.deadline),
            (4, 2, later + WINDOW)
        );
        // A device edit without commit-confirm joins it.
        let joined = cc.applied(5, Some(4), false, "hoa", WINDOW, later);
        assert!(
            matches!(joined, AfterApply::Joined { joined: 4, ref awaiting } if awaiting.version == 5 && awaiting.rollback_version == 2)
        );
        assert!(!cc.due(later + WINDOW - chrono::Duration::seconds(1)));
        assert!(cc.due(later + WINDOW));
        // Confirming what the asker did not see is refused; the awaiting one is confirmed.
        assert_eq!(
            cc.confirm(Some(4)),
            Err(ConfirmRefusal::OtherVersion {
                asked: 4,
                awaiting: 5
            })
        );
        assert_eq!(cc.confirm(Some(5)).unwrap().version, 5);
        assert_eq!(cc.confirm(None), Err(ConfirmRefusal::NothingAwaits));
        assert!(!cc.due(later + WINDOW * 10));
        // A rejected change is handed back for rollback once.
        cc.applied(6, Some(5), true, "minh", WINDOW, later);
        assert_eq!(cc.rolled_back().map(|a| a.rollback_version), Some(5));
        assert_eq!(cc.rolled_back(), None);
    }
}
