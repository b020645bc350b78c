//! Installing a verified bundle into the inactive slot, rolling back to the other slot, and the
//! status both show.
//!
//! Order of an install, so that a power cut at any point leaves a bootable box: the boot
//! entries of the version that sits in the inactive slot are removed first (nothing boots a slot
//! being written), then the root filesystem is written to the slot and read back against the
//! signed hash, then the kernel and initrd go to the ESP, and last the entry file is renamed
//! into place with `+TRIES` — the only step that makes the new version bootable. systemd-boot
//! then boots it up to TRIES times; `systemd-bless-boot` drops the counter once the health
//! check passes, and an entry whose tries are spent sorts after the old one, which boots again.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::UpdateError;
use crate::bundle::{self, Verified};
use crate::manifest::{ImageVersion, Part};
use crate::slots::{Entry, Slot, System};

/// How far an install is, for the UI and the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub phase: &'static str,
    pub done: u64,
    pub total: u64,
}

/// The outcome of an install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Installed {
    pub version: ImageVersion,
    pub slot: Slot,
    pub entry: String,
}

/// Install `verified` into the slot the running system did not boot from. The bundle is read
/// again while writing and every part is checked against the signed manifest a second time.
pub fn install(
    system: &System,
    verified: &Verified,
    progress: &mut dyn FnMut(Progress),
) -> Result<Installed, UpdateError> {
    let running = system.running_slot()?;
    let target = running.other();
    let version = verified.manifest.version.clone();
    // Nothing may boot the slot while it is written.
    for entry in system.entries() {
        if entry.slot == target {
            remove_entry(system, &entry)?;
        }
    }
    let file = File::open(&verified.path).map_err(|e| UpdateError::io(&verified.path, &e))?;
    let mut archive = tar::Archive::new(BufReader::new(file));
    let mut entries = archive
        .entries()
        .map_err(|e| UpdateError::Malformed(e.to_string()))?;
    let keys = crate::manifest::trusted_keys(&system.keys)?;
    let manifest = bundle::read_manifest(&mut entries, &keys)?;
    if manifest != verified.manifest {
        return Err(UpdateError::PartMismatch {
            part: "manifest.json".into(),
            why: "the bundle changed after it was verified".into(),
        });
    }
    let [root, kernel, initrd] = &manifest.parts[..] else {
        return Err(UpdateError::Malformed("three parts expected".into()));
    };
    let total = manifest.parts.iter().map(|p| p.size).sum::<u64>();
    let device = system.device(target);
    {
        let mut entry = bundle::expect_part(&mut entries, root)?;
        write_slot(&device, root, &mut entry, &mut |done| {
            progress(Progress {
                phase: "writing the root filesystem",
                done,
                total,
            });
        })?;
    }
    progress(Progress {
        phase: "reading the slot back",
        done: root.size,
        total,
    });
    verify_slot(&device, root)?;
    let dir_rel = format!("edgeward/{version}");
    let dir = system.esp.join(&dir_rel);
    std::fs::create_dir_all(&dir).map_err(|e| UpdateError::io(&dir, &e))?;
    for (part, name) in [(kernel, "vmlinuz"), (initrd, "initrd")] {
        let mut entry = bundle::expect_part(&mut entries, part)?;
        write_file_checked(&dir.join(name), part, &mut entry)?;
    }
    progress(Progress {
        phase: "writing the boot entry",
        done: total,
        total,
    });
    let entries_dir = system.esp.join("loader/entries");
    std::fs::create_dir_all(&entries_dir).map_err(|e| UpdateError::io(&entries_dir, &e))?;
    let name = format!("edgeward_{version}+{}.conf", system.tries);
    let text = format!(
        "title edgeward {version}\nsort-key edgeward\nversion {version}\nlinux /{dir_rel}/vmlinuz\ninitrd /{dir_rel}/initrd\noptions root=PARTLABEL={} {}\n",
        target.label(),
        manifest.cmdline
    );
    let tmp = entries_dir.join(".edgeward-entry.tmp");
    write_synced(&tmp, text.as_bytes())?;
    let path = entries_dir.join(&name);
    std::fs::rename(&tmp, &path).map_err(|e| UpdateError::io(&path, &e))?;
    sync_dir(&entries_dir);
    Ok(Installed {
        version,
        slot: target,
        entry: name,
    })
}

/// Remove a boot entry and, for an update entry, its kernel directory.
fn remove_entry(system: &System, entry: &Entry) -> Result<(), UpdateError> {
    std::fs::remove_file(&entry.path).map_err(|e| UpdateError::io(&entry.path, &e))?;
    if entry.kind == crate::slots::EntryKind::Update {
        let dir = system.esp.join(format!("edgeward/{}", entry.version));
        if dir.is_dir() {
            std::fs::remove_dir_all(&dir).map_err(|e| UpdateError::io(&dir, &e))?;
        }
    }
    if let Some(parent) = entry.path.parent() {
        sync_dir(parent);
    }
    Ok(())
}

fn write_slot(
    device: &Path,
    part: &Part,
    reader: &mut dyn Read,
    progress: &mut dyn FnMut(u64),
) -> Result<(), UpdateError> {
    let what = || device.display().to_string();
    let mut out = OpenOptions::new()
        .write(true)
        .open(device)
        .map_err(|e| UpdateError::Write {
            what: what(),
            why: e.to_string(),
        })?;
    let capacity = out.seek(SeekFrom::End(0)).map_err(|e| UpdateError::Write {
        what: what(),
        why: e.to_string(),
    })?;
    if part.size > capacity {
        return Err(UpdateError::Slot(format!(
            "the root filesystem ({} bytes) does not fit the slot {} ({capacity} bytes)",
            part.size,
            device.display()
        )));
    }
    out.seek(SeekFrom::Start(0))
        .map_err(|e| UpdateError::Write {
            what: what(),
            why: e.to_string(),
        })?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(|e| UpdateError::Write {
            what: "the bundle".into(),
            why: e.to_string(),
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| UpdateError::Write {
            what: what(),
            why: e.to_string(),
        })?;
        done += n as u64;
        if done % (64 << 20) < n as u64 {
            progress(done);
        }
    }
    out.sync_all().map_err(|e| UpdateError::Write {
        what: what(),
        why: e.to_string(),
    })?;
    if done != part.size || hex::encode(hasher.finalize()) != part.sha256 {
        return Err(UpdateError::PartMismatch {
            part: part.name.clone(),
            why: "the bundle changed while it was written; the slot holds no bootable version"
                .into(),
        });
    }
    Ok(())
}

/// Read the slot's first `part.size` bytes back and compare with the signed hash.
fn verify_slot(device: &Path, part: &Part) -> Result<(), UpdateError> {
    let file = File::open(device).map_err(|e| UpdateError::io(device, &e))?;
    let (size, sha256) = bundle::hash_reader(&mut BufReader::new(file).take(part.size))
        .map_err(|e| UpdateError::io(device, &e))?;
    if size != part.size || sha256 != part.sha256 {
        return Err(UpdateError::Write {
            what: device.display().to_string(),
            why: "what was read back differs from what was written (failing storage?)".into(),
        });
    }
    Ok(())
}

fn write_file_checked(path: &Path, part: &Part, reader: &mut dyn Read) -> Result<(), UpdateError> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| UpdateError::io(path, &e))?;
    if bytes.len() as u64 != part.size || hex::encode(Sha256::digest(&bytes)) != part.sha256 {
        return Err(UpdateError::PartMismatch {
            part: part.name.clone(),
            why: "the bundle changed while it was written".into(),
        });
    }
    write_synced(path, &bytes)?;
    let (size, sha256) =
        bundle::hash_reader(&mut File::open(path).map_err(|e| UpdateError::io(path, &e))?)
            .map_err(|e| UpdateError::io(path, &e))?;
    if size != part.size || sha256 != part.sha256 {
        return Err(UpdateError::Write {
            what: path.display().to_string(),
            why: "what was read back differs from what was written".into(),
        });
    }
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), UpdateError> {
    let mut file = File::create(path).map_err(|e| UpdateError::io(path, &e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| UpdateError::io(path, &e))
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// What a rollback did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RolledBack {
    pub from: ImageVersion,
    pub to: ImageVersion,
    pub slot: Slot,
}

/// Boot the other slot's version from the next boot on: the running version's entries are
/// marked spent (`+0-TRIES`), so systemd-boot boots the other slot. Refused when the other
/// slot holds no version that could boot.
pub fn rollback(system: &System) -> Result<RolledBack, UpdateError> {
    let running_slot = system.running_slot()?;
    let running_version = system.running_version()?;
    let entries = system.entries();
    let Some(target) = entries
        .iter()
        .find(|e| e.slot == running_slot.other() && !e.bad())
    else {
        return Err(UpdateError::Slot(format!(
            "slot {} holds no version that can boot: nothing to roll back to",
            running_slot.other().label()
        )));
    };
    for entry in entries
        .iter()
        .filter(|e| e.slot == running_slot && !e.bad())
    {
        let to = entry.path_marked_bad(system.tries);
        std::fs::rename(&entry.path, &to).map_err(|e| UpdateError::io(&entry.path, &e))?;
        if let Some(parent) = to.parent() {
            sync_dir(parent);
        }
    }
    Ok(RolledBack {
        from: running_version,
        to: target.version.clone(),
        slot: target.slot,
    })
}

/// The update state for the system page, the API and `edgeward update status`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub running_version: Option<String>,
    pub running_slot: Option<Slot>,
    /// Why the running slot or version is unknown (not an appliance).
    pub problem: Option<String>,
    pub entries: Vec<EntryStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryStatus {
    pub version: String,
    pub slot: Slot,
    /// `good`, `trying`, `bad`.
    pub state: &'static str,
    pub tries_left: Option<u32>,
    /// The entry systemd-boot starts next time.
    pub default: bool,
}

pub fn status(system: &System) -> Status {
    let slot = system.running_slot();
    let version = system.running_version();
    let problem = slot
        .as_ref()
        .err()
        .or(version.as_ref().err())
        .map(ToString::to_string);
    let entries = system.entries();
    Status {
        running_version: version.ok().map(|v| v.to_string()),
        running_slot: slot.ok(),
        problem,
        entries: entries
            .iter()
            .enumerate()
            .map(|(i, e)| EntryStatus {
                version: e.version.to_string(),
                slot: e.slot,
                state: e.state(),
                tries_left: e.tries_left,
                default: i == 0,
            })
            .collect(),
    }
}
