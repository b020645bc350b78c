//! `edgeward update status|check|install|rollback`: the console side of signed system updates
//! (the installer unit runs `install --queued` for bundles uploaded in the UI or pushed by the
//! SOC). Every install, refusal and rollback is written to the update log, which the daemon turns
//! into audit events for the store and the SOC.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;
use edgeward_update::install::{self, Progress};
use edgeward_update::log::{self, Record};
use edgeward_update::queue::{PROGRESS, QUEUED, QUEUED_BY};
use edgeward_update::slots::System;
use edgeward_update::{UpdateError, bundle, manifest};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueuedBy {
    pub by: String,
    pub source: String,
}

pub fn status(system: &System, json: bool) -> anyhow::Result<u8> {
    let status = install::status(system);
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(0);
    }
    match (&status.running_version, status.running_slot) {
        (Some(v), Some(s)) => println!("running: edgeward {v} from slot {}", s.label()),
        _ => println!(
            "running: unknown ({})",
            status.problem.as_deref().unwrap_or("not an appliance")
        ),
    }
    println!(
        "{:<12} {:<12} {:<8} {:<10} next boot",
        "version", "slot", "state", "tries left"
    );
    for e in &status.entries {
        println!(
            "{:<12} {:<12} {:<8} {:<10} {}",
            e.version,
            e.slot.label(),
            e.state,
            e.tries_left.map_or("-".to_string(), |t| t.to_string()),
            if e.default { "yes" } else { "" }
        );
    }
    Ok(0)
}

/// Verify a bundle without installing it.
pub fn check(system: &System, file: &Path) -> anyhow::Result<u8> {
    let keys = manifest::trusted_keys(&system.keys)?;
    let verified = bundle::open(file, &keys)?;
    let m = &verified.manifest;
    println!(
        "{}: signed by a trusted vendor key; version {}{}; parts {}",
        file.display(),
        m.version,
        if m.rollback { " (signed rollback)" } else { "" },
        m.parts
            .iter()
            .map(|p| format!("{} {} bytes", p.name, p.size))
            .collect::<Vec<_>>()
            .join(", ")
    );
    match system.running_version() {
        Ok(running) => match bundle::check_version(m, &running) {
            Ok(()) => println!("installable over the running version {running}"),
            Err(e) => println!("not installable here: {e}"),
        },
        Err(e) => println!("not installable here: {e}"),
    }
    Ok(0)
}

fn record(
    system: &System,
    action: &str,
    version: Option<String>,
    slot: Option<String>,
    by: &str,
    err: Option<&UpdateError>,
) {
    let r = Record {
        at: Utc::now(),
        action: action.into(),
        version,
        slot,
        by: by.into(),
        reason: err.map(ToString::to_string).unwrap_or_default(),
        code: err.map(|e| e.code().to_string()).unwrap_or_default(),
        audited: false,
    };
    if let Err(e) = log::append(&system.state, &r) {
        eprintln!("edgeward: could not write the update log: {e}");
    }
}

/// Install `file` (or the queued bundle) into the inactive slot; reboot into it if asked.
pub fn install_cmd(
    system: &System,
    file: Option<PathBuf>,
    queued: bool,
    by: &str,
    reboot: bool,
) -> anyhow::Result<u8> {
    let (file, by) = if queued {
        let who: QueuedBy = std::fs::read(system.state.join(QUEUED_BY))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(QueuedBy {
                by: "unknown".into(),
                source: "upload".into(),
            });
        (
            system.state.join(QUEUED),
            format!("{} ({})", who.by, who.source),
        )
    } else {
        let file = file.context("name the bundle file, or --queued")?;
        (file, by.to_string())
    };
    let result = install_file(system, &file);
    if queued {
        let _ = std::fs::remove_file(&file);
        let _ = std::fs::remove_file(system.state.join(QUEUED_BY));
    }
    let _ = std::fs::remove_file(system.state.join(PROGRESS));
    match result {
        Ok(done) => {
            record(
                system,
                "install",
                Some(done.version.to_string()),
                Some(done.slot.label().into()),
                &by,
                None,
            );
            println!(
                "installed edgeward {} into slot {} (boot entry {}); it boots next, {} tries before falling back",
                done.version,
                done.slot.label(),
                done.entry,
                system.tries
            );
            if reboot {
                println!("rebooting");
                let status = std::process::Command::new("systemctl")
                    .arg("reboot")
                    .status()?;
                anyhow::ensure!(status.success(), "systemctl reboot failed");
            }
            Ok(0)
        }
        Err((version, e)) => {
            record(system, "refuse", version, None, &by, Some(&e));
            eprintln!("edgeward: update refused: {e}");
            Ok(1)
        }
    }
}

fn install_file(
    system: &System,
    file: &Path,
) -> Result<install::Installed, (Option<String>, UpdateError)> {
    let keys = manifest::trusted_keys(&system.keys).map_err(|e| (None, e))?;
    let verified = bundle::open(file, &keys).map_err(|e| (None, e))?;
    let version = Some(verified.manifest.version.to_string());
    let running = system.running_version().map_err(|e| (version.clone(), e))?;
    bundle::check_version(&verified.manifest, &running).map_err(|e| (version.clone(), e))?;
    let progress_path = system.state.join(PROGRESS);
    let mut last_phase = "";
    install::install(system, &verified, &mut |p: Progress| {
        if p.phase != last_phase {
            eprintln!("{}", p.phase);
            last_phase = p.phase;
        }
        if let Ok(bytes) = serde_json::to_vec(&p) {
            let _ = edgeward_config::history::write_atomic(&progress_path, &bytes);
        }
    })
    .map_err(|e| (version, e))
}

pub fn rollback_cmd(system: &System, by: &str, reboot: bool) -> anyhow::Result<u8> {
    match install::rollback(system) {
        Ok(back) => {
            record(
                system,
                "rollback",
                Some(back.to.to_string()),
                Some(back.slot.label().into()),
                by,
                None,
            );
            println!(
                "edgeward {} (slot {}) boots next; {} is no longer started",
                back.to,
                back.slot.label(),
                back.from
            );
            if reboot {
                let status = std::process::Command::new("systemctl")
                    .arg("reboot")
                    .status()?;
                anyhow::ensure!(status.success(), "systemctl reboot failed");
            }
            Ok(0)
        }
        Err(e) => {
            record(system, "rollback", None, None, by, Some(&e));
            eprintln!("edgeward: rollback refused: {e}");
            Ok(1)
        }
    }
}
