//! `edgeward config check|diff|history|apply|rollback`: the CLI side of managed configuration
//! changes. Changes go through the daemon: the CLI validates, leaves who/why for it, puts the text
//! in place and signals it; the daemon applies and records the history entry.

use std::path::Path;

use anyhow::{Context, bail};
use edgeward_config::history::{self, History, write_atomic};

use edgeward_config::change::{
    Awaiting, Confirmation, awaiting_path, confirm_path, history_dir, pid_path,
};

pub use edgeward_config::change::{Paths, write_change};

/// Exit status for `config check`: 0 valid, 1 invalid.
pub fn check(file: &Path) -> anyhow::Result<u8> {
    match edgeward_config::load(file, edgeward_config::today()) {
        Ok((cfg, _)) => {
            println!(
                "{}: valid ({} zones, {} policies, {} uplinks, {} devices)",
                file.display(),
                cfg.zones.len(),
                cfg.policies.len(),
                cfg.uplinks.len(),
                cfg.devices.len()
            );
            Ok(0)
        }
        Err(e) => {
            eprint!("{e}");
            Ok(1)
        }
    }
}

/// Diff a candidate file against the running (last applied) configuration or a given version.
pub fn diff(paths: &Paths, candidate: Option<&Path>, against: Option<u64>) -> anyhow::Result<u8> {
    let hist = History::open(history_dir(&paths.state_dir))?;
    let (old_name, old_text) = match against {
        Some(v) => (format!("v{v}"), hist.get(v)?.1),
        None => match hist.latest()? {
            Some(e) => (format!("v{} (running)", e.version), hist.get(e.version)?.1),
            None => ("(nothing applied yet)".to_string(), String::new()),
        },
    };
    let file = candidate.unwrap_or(&paths.config);
    let new_text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let d = history::unified_diff(&old_text, &new_text, &old_name, &file.display().to_string());
    if d.is_empty() {
        println!("no differences");
    } else {
        print!("{d}");
    }
    Ok(0)
}

pub fn history_list(paths: &Paths) -> anyhow::Result<u8> {
    let hist = History::open(history_dir(&paths.state_dir))?;
    let entries = hist.list()?;
    if entries.is_empty() {
        println!("no configuration has been applied yet");
        return Ok(0);
    }
    println!(
        "{:<8} {:<25} {:<16} {:<14} reason",
        "version", "applied (UTC)", "author", "sha256"
    );
    for e in entries {
        let reason = match e.restored_from {
            Some(v) => format!("{} (rollback to v{v})", e.reason),
            None => e.reason.clone(),
        };
        println!(
            "v{:<7} {:<25} {:<16} {:<14} {}",
            e.version,
            e.applied_at.format("%Y-%m-%d %H:%M:%S"),
            e.author,
            &e.sha256[..12.min(e.sha256.len())],
            reason
        );
    }
    Ok(0)
}

/// `edgeward devices approve|block|quarantine|release|remove MAC`: the decision made on the
/// configuration file's inventory and submitted like `config apply --no-confirm` (validated,
/// recorded with author and reason, applied by the running daemon as set membership).
pub fn device_decision(
    paths: &Paths,
    mac: &str,
    decision: &edgeward_nac::inventory::Decision,
    author: &str,
    reason: &str,
) -> anyhow::Result<u8> {
    let text = std::fs::read_to_string(&paths.config)
        .with_context(|| format!("reading {}", paths.config.display()))?;
    let changed = edgeward_nac::inventory::decide(&text, mac, decision)?;
    submit(paths, &changed, author, reason, None, false)
}

/// Validate `text`, leave who/why for the daemon, put it in place and tell the daemon.
fn submit(
    paths: &Paths,
    text: &str,
    author: &str,
    reason: &str,
    restored_from: Option<u64>,
    confirm: bool,
) -> anyhow::Result<u8> {
    let running = std::fs::read_to_string(&paths.config).unwrap_or_default();
    if let Err(p) = edgeward_config::parse_change(
        text,
        &paths.config.display().to_string(),
        edgeward_config::today(),
        &running,
    ) {
        eprint!("{p}");
        eprintln!("refused: nothing was changed");
        return Ok(1);
    }
    if author.trim().is_empty() || reason.trim().is_empty() {
        bail!(
            "--author and --reason are required: every change is recorded with who and why (000 §8.1.c)"
        );
    }
    write_change(paths, text, author, reason, restored_from, confirm)?;
    match signal_daemon(&paths.state_dir) {
        Ok(pid) if confirm => println!(
            "submitted to the daemon (pid {pid}); confirm with `edgeward config confirm --author …` once you have checked it still works, or it is rolled back"
        ),
        Ok(pid) => println!("submitted to the daemon (pid {pid}); see `edgeward config history`"),
        Err(why) => println!(
            "written to {}; the daemon is not running ({why}), it applies at next start",
            paths.config.display()
        ),
    }
    Ok(0)
}

pub fn apply(
    paths: &Paths,
    file: &Path,
    author: &str,
    reason: &str,
    confirm: bool,
) -> anyhow::Result<u8> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    submit(paths, &text, author, reason, None, confirm)
}

/// Restore from an automatic backup: opened with the gateway's backup key (a changed file or
/// another gateway's does not open), then submitted like any change.
pub fn restore_backup(
    paths: &Paths,
    file: &Path,
    key_dir: &Path,
    author: &str,
    reason: &str,
    confirm: bool,
) -> anyhow::Result<u8> {
    let raw = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let key_file = edgeward_admin::autobackup::key_path(key_dir);
    anyhow::ensure!(
        key_file.exists(),
        "{}: no backup key here (is --key-dir the daemon's?)",
        key_file.display()
    );
    let key = edgeward_admin::autobackup::load_or_create_key(key_dir)?;
    let contents = edgeward_admin::autobackup::open(&raw, &key).map_err(|e| {
        anyhow::anyhow!(
            "{}: refused: {e} — the backup was changed after it was sealed, or it is another gateway's",
            file.display()
        )
    })?;
    println!(
        "{}: configuration v{} of {} by {} ({})",
        file.display(),
        contents.version,
        contents.host_id,
        contents.created_by,
        contents.created_at.to_rfc3339()
    );
    let reason = format!("{reason} (restored from backup v{})", contents.version);
    submit(paths, &contents.config, author, &reason, None, confirm)
}

pub fn rollback(
    paths: &Paths,
    version: u64,
    author: &str,
    reason: &str,
    confirm: bool,
) -> anyhow::Result<u8> {
    let hist = History::open(history_dir(&paths.state_dir))?;
    let (_, text) = hist.get(version)?;
    submit(paths, &text, author, reason, Some(version), confirm)
}

/// Confirm the change that is waiting for confirmation; waits for the daemon to take it.
pub fn confirm(paths: &Paths, author: &str) -> anyhow::Result<u8> {
    let Some(awaiting) = std::fs::read(awaiting_path(&paths.state_dir))
        .ok()
        .and_then(|raw| serde_json::from_slice::<Awaiting>(&raw).ok())
    else {
        println!("no change is waiting for confirmation");
        return Ok(1);
    };
    let c = Confirmation {
        version: awaiting.version,
        author: author.to_string(),
        source: "cli".into(),
    };
    write_atomic(&confirm_path(&paths.state_dir), &serde_json::to_vec(&c)?)?;
    for _ in 0..100 {
        if !confirm_path(&paths.state_dir).exists() {
            if awaiting_path(&paths.state_dir).exists() {
                eprintln!("the daemon did not accept the confirmation; see its events");
                return Ok(1);
            }
            println!("version {} confirmed", awaiting.version);
            return Ok(0);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    eprintln!("the daemon has not picked up the confirmation (is it running?)");
    Ok(1)
}

pub fn signal_daemon(state_dir: &Path) -> Result<i32, String> {
    let raw = std::fs::read_to_string(pid_path(state_dir)).map_err(|e| e.to_string())?;
    let pid: i32 = raw
        .trim()
        .parse()
        .map_err(|_| "pid file is damaged".to_string())?;
    // SAFETY: kill(2) with a pid read from our own pid file; no memory is shared.
    let rc = unsafe { libc::kill(pid, libc::SIGHUP) };
    if rc == 0 {
        Ok(pid)
    } else {
        Err(std::io::Error::last_os_error().to_string())
    }
}

/// `edgeward firewall diff`: the running configuration's ruleset against a candidate's, both as
/// the kernel prints them (loaded into throw-away namespaces), as a unified diff.
pub fn firewall_diff(paths: &Paths, candidate: Option<&Path>) -> anyhow::Result<u8> {
    let hist = History::open(history_dir(&paths.state_dir))?;
    let today = edgeward_config::today();
    let running = match hist.latest()? {
        Some(e) => {
            let (_, text) = hist.get(e.version)?;
            let cfg = edgeward_config::parse(&text, &format!("v{}", e.version), today)?;
            Some((
                format!("v{} (running)", e.version),
                edgeward_firewall::render(&cfg)?,
            ))
        }
        None => None,
    };
    let file = candidate.unwrap_or(&paths.config);
    let (cfg, _) = edgeward_config::load(file, today)?;
    let new = edgeward_firewall::render(&cfg)?;
    let new_text = edgeward_firewall::kernel_text(&new)
        .context("rendering the candidate in a scratch namespace (needs root and `unshare`)")?;
    let (old_name, old_text) = match &running {
        Some((name, rs)) => (name.clone(), edgeward_firewall::kernel_text(rs)?),
        None => ("(no firewall applied yet)".to_string(), String::new()),
    };
    let d = history::unified_diff(&old_text, &new_text, &old_name, &file.display().to_string());
    if d.is_empty() {
        println!("the firewall would not change");
    } else {
        print!("{d}");
    }
    if let Some((_, rs)) = &running {
        if rs.structure() == new.structure() {
            println!("(only set members differ: the change is applied without reloading any rule)");
        }
    }
    Ok(0)
}
