//! The A/B layout as the running system sees it: which root slot booted (the kernel command
//! line's `root=PARTLABEL=edgeward-a|b`), which version runs (`IMAGE_VERSION` in os-release),
//! and the boot loader entries on the ESP with their systemd-boot try counters
//! (`name+LEFT-DONE`): the factory's unified kernel images in `EFI/Linux/` (slot A) and the
//! entries updates add in `loader/entries/`, which name their slot in `options`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::UpdateError;
use crate::manifest::ImageVersion;

/// Where the system's pieces are; [`System::appliance`] on the box, temporary paths in tests.
#[derive(Debug, Clone)]
pub struct System {
    /// The EFI system partition's mount point.
    pub esp: PathBuf,
    /// The directory holding `edgeward-a` and `edgeward-b` (`/dev/disk/by-partlabel`).
    pub partitions: PathBuf,
    /// The running kernel's command line (`/proc/cmdline`).
    pub cmdline: PathBuf,
    /// The running system's os-release.
    pub os_release: PathBuf,
    /// Directory of trusted vendor update keys (`*.pub`).
    pub keys: PathBuf,
    /// Update state on the data partition: the log, uploaded bundles.
    pub state: PathBuf,
    /// How many times systemd-boot tries a new entry before falling back.
    pub tries: u32,
}

impl System {
    /// The appliance itself.
    pub fn appliance(state_dir: &Path) -> System {
        System::rooted(Path::new("/"), state_dir)
    }

    /// The appliance's paths under `root` (`/` on the box; a directory laid out like it in lab
    /// tests), with the update state in `state_dir/update`.
    pub fn rooted(root: &Path, state_dir: &Path) -> System {
        System {
            esp: root.join("efi"),
            partitions: root.join("dev/disk/by-partlabel"),
            cmdline: root.join("proc/cmdline"),
            os_release: root.join("usr/lib/os-release"),
            keys: root.join("usr/share/edgeward/update-keys"),
            state: state_dir.join("update"),
            tries: 3,
        }
    }

    /// The slot the running system booted from.
    pub fn running_slot(&self) -> Result<Slot, UpdateError> {
        let cmdline = std::fs::read_to_string(&self.cmdline)
            .map_err(|e| UpdateError::io(&self.cmdline, &e))?;
        cmdline
            .split_whitespace()
            .find_map(|w| w.strip_prefix("root=PARTLABEL="))
            .and_then(Slot::from_label)
            .ok_or_else(|| {
                UpdateError::Slot(
                    "this system did not boot from an edgeward root slot (no root=PARTLABEL=edgeward-a|b on the kernel command line): updates install only on the appliance".into(),
                )
            })
    }

    /// The version the running system carries.
    pub fn running_version(&self) -> Result<ImageVersion, UpdateError> {
        let text = std::fs::read_to_string(&self.os_release)
            .map_err(|e| UpdateError::io(&self.os_release, &e))?;
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix("IMAGE_VERSION="))
            .map(|v| v.trim().trim_matches('"').to_string())
            .ok_or_else(|| {
                UpdateError::Slot(format!(
                    "{}: no IMAGE_VERSION (not an edgeward image)",
                    self.os_release.display()
                ))
            })?;
        value.parse()
    }

    /// The partition device of `slot`.
    pub fn device(&self, slot: Slot) -> PathBuf {
        self.partitions.join(slot.label())
    }

    /// Every edgeward boot entry on the ESP.
    pub fn entries(&self) -> Vec<Entry> {
        let mut found = Vec::new();
        for (dir, kind) in [
            (self.esp.join("EFI/Linux"), EntryKind::FactoryImage),
            (self.esp.join("loader/entries"), EntryKind::Update),
        ] {
            let Ok(list) = std::fs::read_dir(&dir) else {
                continue;
            };
            for item in list.flatten() {
                let path = item.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let Some(parsed) = EntryName::parse(name) else {
                    continue;
                };
                let slot = match kind {
                    EntryKind::FactoryImage => Some(Slot::A),
                    EntryKind::Update => std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|text| entry_slot(&text)),
                };
                let Some(slot) = slot else { continue };
                found.push(Entry {
                    path,
                    kind,
                    version: parsed.version,
                    slot,
                    tries_left: parsed.tries_left,
                    tries_done: parsed.tries_done,
                });
            }
        }
        // systemd-boot's order: entries with tries left before spent ones, newest version first.
        found.sort_by(|a, b| {
            a.bad()
                .cmp(&b.bad())
                .then_with(|| b.version.cmp(&a.version))
        });
        found
    }
}

/// The slot named in an update entry's `options root=PARTLABEL=…`.
fn entry_slot(text: &str) -> Option<Slot> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("options"))
        .flat_map(str::split_whitespace)
        .find_map(|w| w.strip_prefix("root=PARTLABEL="))
        .and_then(Slot::from_label)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Slot {
    A,
    B,
}

impl Slot {
    pub fn label(self) -> &'static str {
        match self {
            Slot::A => "edgeward-a",
            Slot::B => "edgeward-b",
        }
    }

    pub fn from_label(label: &str) -> Option<Slot> {
        match label {
            "edgeward-a" => Some(Slot::A),
            "edgeward-b" => Some(Slot::B),
            _ => None,
        }
    }

    pub fn other(self) -> Slot {
        match self {
            Slot::A => Slot::B,
            Slot::B => Slot::A,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// The unified kernel image the factory image boots (slot A).
    FactoryImage,
    /// A Boot Loader Specification entry an update wrote.
    Update,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub path: PathBuf,
    pub kind: EntryKind,
    pub version: ImageVersion,
    pub slot: Slot,
    /// `None`: blessed (no counter), the entry boots by default.
    pub tries_left: Option<u32>,
    pub tries_done: u32,
}

impl Entry {
    /// Every try spent without a good boot: systemd-boot sorts it last.
    pub fn bad(&self) -> bool {
        self.tries_left == Some(0)
    }

    /// `good`, `trying` or `bad`.
    pub fn state(&self) -> &'static str {
        match self.tries_left {
            None => "good",
            Some(0) => "bad",
            Some(_) => "trying",
        }
    }

    /// This entry's file renamed with counter `+0-DONE`: spent, so systemd-boot boots another.
    pub fn path_marked_bad(&self, tries: u32) -> PathBuf {
        let name = self
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
        let base = stem.split_once('+').map_or(stem, |(b, _)| b);
        self.path
            .with_file_name(format!("{base}+0-{}.{ext}", self.tries_done.max(tries)))
    }
}

/// `edgeward_<version>[+LEFT[-DONE]].conf|.efi`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryName {
    pub version: ImageVersion,
    pub tries_left: Option<u32>,
    pub tries_done: u32,
}

impl EntryName {
    pub fn parse(name: &str) -> Option<EntryName> {
        let stem = name
            .strip_suffix(".conf")
            .or_else(|| name.strip_suffix(".efi"))?;
        let rest = stem.strip_prefix("edgeward_")?;
        let (version, counter) = match rest.split_once('+') {
            Some((v, c)) => (v, Some(c)),
            None => (rest, None),
        };
        let version = version.parse().ok()?;
        let (tries_left, tries_done) = match counter {
            None => (None, 0),
            Some(c) => {
                let (left, done) = c.split_once('-').unwrap_or((c, "0"));
                (Some(left.parse().ok()?), done.parse().ok()?)
            }
        };
        Some(EntryName {
            version,
            tries_left,
            tries_done,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_carry_version_and_counter() {
        let n = EntryName::parse("edgeward_0.1.5+2-1.conf").unwrap();
        assert_eq!(n.version.to_string(), "0.1.5");
        assert_eq!((n.tries_left, n.tries_done), (Some(2), 1));
        let n = EntryName::parse("edgeward_0.1.5+3.efi").unwrap();
        assert_eq!((n.tries_left, n.tries_done), (Some(3), 0));
        let n = EntryName::parse("edgeward_0.1.5.efi").unwrap();
        assert_eq!(n.tries_left, None);
        for bad in [
            "linux.efi",
            "edgeward_x.conf",
            "edgeward_1+a.conf",
            "edgeward_1.txt",
        ] {
            assert!(EntryName::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn marking_bad_keeps_the_name_and_spends_the_tries() {
        let e = Entry {
            path: PathBuf::from("/efi/loader/entries/edgeward_0.1.5+2-1.conf"),
            kind: EntryKind::Update,
            version: "0.1.5".parse().unwrap(),
            slot: Slot::B,
            tries_left: Some(2),
            tries_done: 1,
        };
        assert_eq!(
            e.path_marked_bad(3),
            PathBuf::from("/efi/loader/entries/edgeward_0.1.5+0-3.conf")
        );
    }
}
