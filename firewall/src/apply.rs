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

/// Hand `json` (nft's JSON schema) to `nft -j -f -` as one transaction; with `check_only`, the
/// kernel only checks it (`nft -c`). The one place edgeward runs nft on JSON.
pub fn nft_json(json: &str, check_only: bool) -> Result<(), ApplyError> {
    let args: &[&str] = if check_only {
        &["-c", "-j", "-f", "-"]
    } else {
        &["-j", "-f", "-"]
    };
    run_with_input("nft", args, json).map(|_| ())
}

/// Hand a text `script` (nft's own syntax) to `nft -f -` as one transaction; with `check_only`,
/// the kernel only checks it. The one place edgeward runs nft on a text script (the bridge
/// table, the IPS queue rules).
pub fn nft_script(script: &str, check_only: bool) -> Result<(), ApplyError> {
    let args: &[&str] = if check_only {
        &["-c", "-f", "-"]
    } else {
        &["-f", "-"]
    };
    run_with_input("nft", args, script).map(|_| ())
}

/// Replace the edgeward table atomically with `ruleset`.
///
/// When the table exists with the same base chains, it is rewritten in place (rules flushed,
/// sets emptied, everything re-added, in one transaction): the base chains stay hooked and
/// traffic does not notice. Deleting and re-creating the table instead drops a few packets per
/// apply under load (measured: docs/BENCHMARKS.md), so that is only done when the table is
/// missing or a base chain's hook changes.
pub fn apply(ruleset: &Ruleset) -> Result<(), ApplyError> {
    let _span = tracing::info_span!("nft_apply", objects = ruleset.objects.len()).entered();
    match live_table()? {
        Some(live) if live.base_chains_match(ruleset) => {
            match nft_json(&serde_json::to_string(&live.in_place(ruleset))?, false) {
                Ok(()) => Ok(()),
                // e.g. a set whose type changed cannot be rewritten in place; replace the table.
                Err(e) => {
                    tracing::warn!(error = %e, "in-place rewrite refused; replacing the table");
                    nft_json(&ruleset.to_json(), false)
                }
            }
        }
        _ => nft_json(&ruleset.to_json(), false),
    }
}

/// A base chain's hook: (type, hook, priority, policy).
type HookSpec = (String, String, i64, String);

/// What the live edgeward table holds: chain names with their hook spec, set names.
#[derive(Debug, Default)]
pub struct LiveTable {
    /// (name, Some((type, hook, prio, policy)) for base chains).
    chains: Vec<(String, Option<HookSpec>)>,
    /// (name, dynamic): dynamic sets are the meters' own, re-created by their rules.
    sets: Vec<(String, bool)>,
}

fn live_table() -> Result<Option<LiveTable>, ApplyError> {
    let out = Command::new("nft")
        .args(["-j", "list", "table", "inet", TABLE])
        .output()
        .map_err(spawn_err("nft"))?;
    if !out.status.success() {
        return Ok(None);
    }
    Ok(Some(parse_live_table(&out.stdout)?))
}

/// Parse `nft -j list table` output into a [`LiveTable`].
pub fn parse_live_table(json: &[u8]) -> Result<LiveTable, ApplyError> {
    let listing: Listing = serde_json::from_slice(json)?;
    let mut live = LiveTable::default();
    for obj in listing.nftables {
        if let Some(c) = obj.get("chain") {
            let name = c["name"].as_str().unwrap_or_default().to_string();
            let spec = c.get("hook").map(|h| {
                (
                    c["type"].as_str().unwrap_or_default().to_string(),
                    h.as_str().unwrap_or_default().to_string(),
                    c["prio"].as_i64().unwrap_or_default(),
                    c["policy"].as_str().unwrap_or_default().to_string(),
                )
            });
            live.chains.push((name, spec));
        } else if let Some(s) = obj.get("set") {
            let dynamic = s
                .get("flags")
                .and_then(|f| f.as_array())
                .is_some_and(|f| f.iter().any(|x| x == "dynamic"));
            live.sets
                .push((s["name"].as_str().unwrap_or_default().to_string(), dynamic));
        }
    }
    Ok(live)
}

fn rendered_base_chains(ruleset: &Ruleset) -> Vec<(String, Option<HookSpec>)> {
    ruleset
        .objects
        .iter()
        .filter_map(|o| match o {
            NfListObject::Chain(c) => Some((
                c.name.to_string(),
                c.hook.map(|h| {
                    let v = |x: serde_json::Value| x.as_str().unwrap_or_default().to_string();
                    (
                        v(serde_json::to_value(c._type).unwrap_or_default()),
                        v(serde_json::to_value(h).unwrap_or_default()),
                        i64::from(c.prio.unwrap_or(0)),
                        v(serde_json::to_value(c.policy).unwrap_or_default()),
                    )
                }),
            )),
            _ => None,
        })
        .filter(|(_, spec)| spec.is_some())
        .collect()
}

impl LiveTable {
    /// Whether the live base chains are exactly the rendered ones (names and hook specs).
    pub fn base_chains_match(&self, ruleset: &Ruleset) -> bool {
        let mut live: Vec<_> = self
            .chains
            .iter()
            .filter(|(_, s)| s.is_some())
            .cloned()
            .collect();
        let mut new = rendered_base_chains(ruleset);
        live.sort();
        new.sort();
        live == new
    }

    /// One transaction rewriting the table in place: flush rules and sets, delete what the new
    /// ruleset no longer has, add everything.
    pub fn in_place(&self, ruleset: &Ruleset) -> Nftables<'static> {
        let new_chains: std::collections::HashSet<&str> = ruleset.chain_names().collect();
        let new_sets: std::collections::HashSet<String> = ruleset
            .objects
            .iter()
            .filter_map(|o| match o {
                NfListObject::Set(s) => Some(s.name.to_string()),
                _ => None,
            })
            .collect();
        let set_obj = |name: &str| nftables::schema::Set {
            family: FAMILY,
            table: Cow::Borrowed(TABLE),
            name: Cow::Owned(name.to_string()),
            ..Default::default()
        };
        let mut cmds = vec![NfObject::CmdObject(NfCmd::Flush(FlushObject::Table(
            crate::nft::table_obj_inner(),
        )))];
        for (name, dynamic) in &self.sets {
            if *dynamic {
                continue;
            }
            cmds.push(NfObject::CmdObject(NfCmd::Flush(FlushObject::Set(
                Box::new(set_obj(name)),
            ))));
            if !new_sets.contains(name) {
                cmds.push(NfObject::CmdObject(NfCmd::Delete(NfListObject::Set(
                    Box::new(set_obj(name)),
                ))));
            }
        }
        for (name, spec) in &self.chains {
            if spec.is_none() && !new_chains.contains(name.as_str()) {
                cmds.push(NfObject::CmdObject(NfCmd::Delete(crate::nft::chain(name))));
            }
        }
        cmds.extend(
            ruleset
                .objects
                .iter()
                .cloned()
                .map(|o| NfObject::CmdObject(NfCmd::Add(o))),
        );
        Nftables {
            objects: Cow::Owned(cmds),
        }
    }
}

/// Apply `new` given that `old` is what the kernel runs: set membership only when that is all
/// that changed (and the live table exists), otherwise the whole table.
pub fn apply_change(old: Option<&Ruleset>, new: &Ruleset) -> Result<Applied, ApplyError> {
    let Some(old) = old else {
        apply(new)?;
        return Ok(Applied::Full);
    };
    if old.structure() != new.structure() {
        apply(new)?;
        return Ok(Applied::Full);
    }
    let (old_m, new_m) = (old.set_members(), new.set_members());
    let mut cmds = Vec::new();
    let mut changed = 0;
    let key =
        |e: &nftables::expr::Expression<'static>| serde_json::to_string(e).unwrap_or_default();
    let element = |name: &str, elem: Vec<nftables::expr::Expression<'static>>| {
        NfListObject::Element(Element {
            family: FAMILY,
            table: Cow::Borrowed(TABLE),
            name: Cow::Owned(name.to_string()),
            elem: Cow::Owned(elem),
        })
    };
    for (name, members) in &new_m {
        let before = old_m.get(name).cloned().unwrap_or_default();
        let before_keys: std::collections::HashSet<String> = before.iter().map(key).collect();
        let after_keys: std::collections::HashSet<String> = members.iter().map(key).collect();
        let removed: Vec<_> = before
            .iter()
            .filter(|e| !after_keys.contains(&key(e)))
            .cloned()
            .collect();
        let added: Vec<_> = members
            .iter()
            .filter(|e| !before_keys.contains(&key(e)))
            .cloned()
            .collect();
        if removed.is_empty() && added.is_empty() {
            continue;
        }
        changed += 1;
        // Deletions first: an interval set refuses an element that overlaps one still present.
        if !removed.is_empty() {
            cmds.push(NfObject::CmdObject(NfCmd::Delete(element(name, removed))));
        }
        if !added.is_empty() {
            cmds.push(NfObject::CmdObject(NfCmd::Add(element(name, added))));
        }
    }
    if changed == 0 {
        return Ok(Applied::Unchanged);
    }
    let _span = tracing::info_span!("nft_sets", changed).entered();
    // One transaction: packets see the old or the new members, never a mix.
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
                packets: c
                    .get("packets")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0),
                bytes: c
                    .get("bytes")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0),
            });
        }
    }
    Ok(out)
}
