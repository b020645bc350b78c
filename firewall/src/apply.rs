//! Thin kernel part: hands a rendered ruleset to `nft` as one transaction and reports `nft`'s own
//! error text when the kernel refuses it. When only set membership changed, the transaction
//! updates those sets and leaves every rule in place (no reload).

use std::borrow::Cow;
use std::io::Write;
use std::process::{Command, Stdio};

use nftables::schema::{Element, FlushObject, NfCmd, NfListObject, NfObject, Nftables};
use serde::Deserialize;

use crate::nft::{FAMILY, TABLE};
use crate::render::Ruleset;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("cannot run `{program}`: {source} (is the nftables package installed?)")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("nft refused the ruleset (nothing was changed): {stderr}")]
    Refused { stderr: String },
    #[error("nft printed JSON we cannot read: {0}")]
    Json(#[from] serde_json::Error),
}

/// How a change reached the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The edgeward table was replaced as a whole.
    Full,
    /// Only the members of this many sets changed; rules were not touched.
    SetsOnly(usize),
    /// Nothing differed.
    Unchanged,
}

fn spawn_err(program: &str) -> impl FnOnce(std::io::Error) -> ApplyError + '_ {
    move |source| ApplyError::Spawn {
        program: program.to_string(),
        source,
    }
}

/// Run `program args` with `input` on standard input; the output, or nft's error text.
fn run_with_input(program: &str, args: &[&str], input: &str) -> Result<String, ApplyError> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_err(program))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .map_err(spawn_err(program))?;
    }
    let out = child.wait_with_output().map_err(spawn_err(program))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(ApplyError::Refused {
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

fn nft_json(json: &str, check_only: bool) -> Result<(), ApplyError> {
    let args: &[&str] = if check_only {
        &["-c", "-j", "-f", "-"]
    } else {
        &["-j", "-f", "-"]
    };
    run_with_input("nft", args, json).map(|_| ())
}

/// Replace the edgeward table atomically with `ruleset`.
pub fn apply(ruleset: &Ruleset) -> Result<(), ApplyError> {
    let _span = tracing::info_span!("nft_apply", objects = ruleset.objects.len()).entered();
    nft_json(&ruleset.to_json(), false)
}

/// Apply `new` given that `old` is what the kernel runs: set membership only when that is all
/// that changed (and the live table exists), otherwise the whole table.
pub fn apply_change(old: Option<&Ruleset>, new: &Ruleset) -> Result<Applied, ApplyError> {
    let Some(old) = old else {
        apply(new)?;
        return Ok(Applied::Full);
    };
    if old.structure() != new.structure() || !table_exists()? {
        apply(new)?;
        return Ok(Applied::Full);
    }
    let (old_m, new_m) = (old.set_members(), new.set_members());
    let mut cmds = Vec::new();
    let mut changed = 0;
    for (name, members) in &new_m {
        if old_m.get(name) == Some(members) {
            continue;
        }
        changed += 1;
        let set = nftables::schema::Set {
            family: FAMILY,
            table: Cow::Borrowed(TABLE),
            name: Cow::Owned(name.clone()),
            ..Default::default()
        };
        cmds.push(NfObject::CmdObject(NfCmd::Flush(FlushObject::Set(
            Box::new(set),
        ))));
        if !members.is_empty() {
            cmds.push(NfObject::CmdObject(NfCmd::Add(NfListObject::Element(
                Element {
                    family: FAMILY,
                    table: Cow::Borrowed(TABLE),
                    name: Cow::Owned(name.clone()),
                    elem: Cow::Owned(members.clone()),
                },
            ))));
        }
    }
    if changed == 0 {
        return Ok(Applied::Unchanged);
    }
    let _span = tracing::info_span!("nft_sets", changed).entered();
    // Flush and refill in one transaction: packets see the old or the new members, never none.
    nft_json(
        &serde_json::to_string(&Nftables {
            objects: Cow::Owned(cmds),
        })?,
        false,
    )?;
    Ok(Applied::SetsOnly(changed))
}

/// Ask the kernel whether it would accept `ruleset`, without changing anything.
pub fn check(ruleset: &Ruleset) -> Result<(), ApplyError> {
    nft_json(&ruleset.to_json(), true)
}

fn table_exists() -> Result<bool, ApplyError> {
    let out = Command::new("nft")
        .args(["list", "table", "inet", TABLE])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(spawn_err("nft"))?;
    Ok(out.success())
}

/// The live edgeward table as `nft` prints it (text), or `None` if it does not exist.
pub fn current_text() -> Result<Option<String>, ApplyError> {
    let out = Command::new("nft")
        .args(["list", "table", "inet", TABLE])
        .output()
        .map_err(spawn_err("nft"))?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// `ruleset` as the kernel would print it, obtained by loading it into a throw-away network
/// namespace (`unshare --net`): exact nft syntax, without touching the running firewall.
pub fn kernel_text(ruleset: &Ruleset) -> Result<String, ApplyError> {
    run_with_input(
        "unshare",
        &[
            "--net",
            "--",
            "sh",
            "-c",
            "nft -j -f - && nft list table inet edgeward",
        ],
        &ruleset.to_json(),
    )
}

/// Packets and bytes one rule has matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCounter {
    pub chain: String,
    pub comment: String,
    pub packets: u64,
    pub bytes: u64,
}

#[derive(Deserialize)]
struct Listing {
    nftables: Vec<serde_json::Value>,
}

/// Per-rule counters of the live table (rules without a comment or counter are skipped).
pub fn counters() -> Result<Vec<RuleCounter>, ApplyError> {
    let out = Command::new("nft")
        .args(["-j", "list", "table", "inet", TABLE])
        .output()
        .map_err(spawn_err("nft"))?;
    if !out.status.success() {
        return Err(ApplyError::Refused {
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    parse_counters(&out.stdout)
}

/// Parse `nft -j list table` output into per-rule counters.
pub fn parse_counters(json: &[u8]) -> Result<Vec<RuleCounter>, ApplyError> {
    let listing: Listing = serde_json::from_slice(json)?;
    let mut out = Vec::new();
    for obj in listing.nftables {
        let Some(rule) = obj.get("rule") else {
            continue;
        };
        let comment = rule
            .get("comment")
            .and_then(|c| c.as_str())
            .unwrap_or_default();
        let chain = rule
            .get("chain")
            .and_then(|c| c.as_str())
            .unwrap_or_default();
        let counter = rule
            .get("expr")
            .and_then(|e| e.as_array())
            .and_then(|stmts| stmts.iter().find_map(|s| s.get("counter")));
        if let Some(c) = counter {
            out.push(RuleCounter {
                chain: chain.to_string(),
                comment: comment.to_string(),
                packets: c.get("packets").and_then(|v| v.as_u64()).unwrap_or(0),
                bytes: c.get("bytes").and_then(|v| v.as_u64()).unwrap_or(0),
            });
        }
    }
    Ok(out)
}
