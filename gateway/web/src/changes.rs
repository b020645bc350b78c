//! Configuration changes from the admin plane: which sections a candidate changes and whether
//! the caller's role may change them, validation with each problem placed on the line of the
//! section being edited, the diff against what runs, and submission to the daemon.

use edgeward_event::Outcome;
use std::collections::BTreeSet;

use edgeward_config::history::{self, History};
use edgeward_config::secrets;
use edgeward_config::{Code, Problems};
use serde::Serialize;

use super::caller::Caller;
use super::roles::{Permission, Role, section_permission};
use super::{AdminContext, ApplyOutcome, DaemonRequest};
use edgeward_config::change::history_dir;
use edgeward_config::change::{self as config_cmd, Paths};

/// One validation problem as the UI shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ShownProblem {
    #[serde(skip)]
    pub code: Code,
    pub code_name: String,
    /// Field path, e.g. `policies[3].to`.
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
    /// The same in both UI languages.
    #[serde(skip)]
    pub text: edgeward_config::Text,
    #[serde(skip)]
    pub hint_text: Option<edgeward_config::Text>,
    /// Line and column in the whole candidate file.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Line inside the edited section, when the problem lies there.
    pub edit_line: Option<usize>,
}

/// What a check of a candidate found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub valid: bool,
    pub problems: Vec<ShownProblem>,
    /// Unified diff against the running configuration.
    pub diff: String,
    pub changed_sections: Vec<String>,
    /// Changed sections the caller's role may not change.
    pub forbidden_sections: Vec<String>,
}

impl CheckReport {
    pub fn acceptable(&self) -> bool {
        self.valid && self.forbidden_sections.is_empty() && !self.changed_sections.is_empty()
    }
}

/// Top-level sections whose values differ between two texts (all of the candidate's when
/// either side is not TOML).
pub fn changed_sections(old: &str, new: &str) -> Vec<String> {
    let parse = |t: &str| t.parse::<toml::Table>().ok();
    let (Some(a), Some(b)) = (parse(old), parse(new)) else {
        return section_names_lossy(new);
    };
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut changed = Vec::new();
    for k in keys.into_iter().filter(|k| a.get(*k) != b.get(*k)) {
        // Where the admin UI answers is a network decision (it opens the firewall): that key
        // of `management` has its own owner.
        if k == "management" {
            let field = |t: &toml::Table, f: &str| {
                t.get(k)
                    .and_then(|m| m.as_table())
                    .and_then(|m| m.get(f))
                    .cloned()
            };
            let strip = |t: &toml::Table| {
                let mut m = t.get(k).and_then(|m| m.as_table()).cloned();
                if let Some(m) = m.as_mut() {
                    m.remove("admin_zones");
                }
                m
            };
            if field(&a, "admin_zones") != field(&b, "admin_zones") {
                changed.push(ADMIN_ZONES.to_string());
            }
            if strip(&a) != strip(&b) {
                changed.push(k.clone());
            }
            continue;
        }
        changed.push(k.clone());
    }
    changed
}

/// The pseudo-section for `management.admin_zones` (owned by the network role).
pub const ADMIN_ZONES: &str = "management.admin_zones";

/// Section names of a text that may not parse: every `[x]` / `[[x]]` header.
fn section_names_lossy(s: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    for line in s.lines() {
        let l = line.trim();
        let header = l.strip_prefix("[[").or_else(|| l.strip_prefix('['));
        if let Some(n) = header.and_then(|r| r.split([']', '.']).next()) {
            out.insert(n.trim().trim_matches('"').to_string());
        }
    }
    out.into_iter().collect()
}

pub fn forbidden_sections(role: Role, changed: &[String]) -> Vec<String> {
    changed
        .iter()
        .filter(|s| !role.can(section_permission(s)))
        .cloned()
        .collect()
}

/// The text of just `sections` of `text`, in the file's own formatting.
pub fn extract_sections(text: &str, sections: &[&str]) -> String {
    let Some(doc) = edgeward_config::tomldoc::document_mut(text) else {
        return String::new();
    };
    let mut out = toml_edit::DocumentMut::new();
    for s in sections {
        if let Some(item) = doc.get(s) {
            out.insert(s, item.clone());
        }
    }
    out.to_string().trim_start().to_string()
}

/// `running` with `sections` replaced by `edited`; returns the candidate and the line at which
/// the edited text starts (1-based), so problems can be placed in the editor.
pub fn splice(running: &str, sections: &[&str], edited: &str) -> (String, usize) {
    let mut base = match edgeward_config::tomldoc::document_mut(running) {
        Some(mut doc) => {
            for s in sections {
                doc.remove(s);
            }
            doc.to_string()
        }
        None => running.to_string(),
    };
    while base.ends_with("\n\n") {
        base.pop();
    }
    if !base.is_empty() && !base.ends_with('\n') {
        base.push('\n');
    }
    let edited = edited.replace("\r\n", "\n");
    let edited = edited.trim_end();
    // Keys outside any table (`devices = []`) belong before the first table header, or TOML
    // would read them as part of the last table; tables go at the end as usual.
    if starts_with_bare_key(edited)
        && let Some(at) = first_table_line(&base)
    {
        let start = base[..at].lines().count() + 1;
        let candidate = format!("{}{edited}\n\n{}", &base[..at], &base[at..]);
        return (candidate, start);
    }
    base.push('\n');
    let start = base.lines().count() + 1;
    let mut candidate = base;
    candidate.push_str(edited);
    candidate.push('\n');
    (candidate, start)
}

/// Whether the first statement of a TOML text is a key/value pair rather than a table header.
fn starts_with_bare_key(text: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| !l.starts_with('['))
}

/// The byte offset of the start of the line holding the first table header of `text`.
fn first_table_line(text: &str) -> Option<usize> {
    let doc = edgeward_config::tomldoc::document(text)?;
    let first = doc
        .as_table()
        .iter()
        .filter_map(|(_, item)| match item {
            toml_edit::Item::Table(t) => t.span().map(|s| s.start),
            toml_edit::Item::ArrayOfTables(a) => a
                .iter()
                .filter_map(toml_edit::Table::span)
                .map(|s| s.start)
                .min(),
            _ => None,
        })
        .min()?;
    Some(text[..first].rfind('\n').map_or(0, |i| i + 1))
}

/// Validate `candidate` against what runs, for a caller of `role`. `edit_start` is where an
/// edited section begins in the candidate (problems after it get an `edit_line`).
pub fn check(running: &str, candidate: &str, role: Role, edit_start: Option<usize>) -> CheckReport {
    let problems = match edgeward_config::parse_change(
        candidate,
        "edgeward.toml",
        edgeward_config::today(),
        running,
    ) {
        Ok(_) => Vec::new(),
        Err(Problems { problems, .. }) => problems
            .into_iter()
            .map(|p| {
                let line = p.position.map(|pos| pos.line);
                ShownProblem {
                    code: p.code,
                    code_name: format!("{:?}", p.code),
                    path: p.path.to_string(),
                    message: p.message,
                    hint: p.hint,
                    text: p.text,
                    hint_text: p.hint_text,
                    line,
                    column: p.position.map(|pos| pos.column),
                    edit_line: match (line, edit_start) {
                        (Some(l), Some(s)) if l >= s => Some(l - s + 1),
                        _ => None,
                    },
                }
            })
            .collect(),
    };
    // A text that is not even TOML changes nothing that could be applied: report the syntax
    // problem, not a guess at the sections it touches.
    let changed = if candidate.parse::<toml::Table>().is_ok() {
        changed_sections(running, candidate)
    } else {
        Vec::new()
    };
    let forbidden = not_owned(role, &changed, running, candidate);
    CheckReport {
        valid: problems.is_empty(),
        problems,
        diff: shown_diff(role, running, candidate, "running", "candidate"),
        forbidden_sections: forbidden,
        changed_sections: changed,
    }
}

/// What of a change from `before` to `after` (whose sections `changed`) `role` does not own:
/// whole sections, and what it may not do to a device. The one ownership rule for edits,
/// imports, rollbacks and confirmations.
fn not_owned(role: Role, changed: &[String], before: &str, after: &str) -> Vec<String> {
    let mut forbidden = forbidden_sections(role, changed);
    if changed.iter().any(|c| c == "devices") {
        forbidden.extend(device_limits(role, before, after));
    }
    forbidden
}

/// What a role that manages devices but not the network may not do to a device: move it into
/// any zone but a quarantine zone, or let it out to the Internet against the security
/// policy. Each entry names the device and the field (as a forbidden "section").
pub fn device_limits(role: Role, running: &str, candidate: &str) -> Vec<String> {
    if role.can(Permission::ManageNetwork) {
        return Vec::new();
    }
    let today = edgeward_config::today();
    let (Ok(run), Ok(cand)) = (
        edgeward_config::parse_change(running, "running", today, running),
        edgeward_config::parse_change(candidate, "candidate", today, running),
    ) else {
        return Vec::new();
    };
    let quarantine = |zone: &str| {
        cand.zone(zone)
            .is_some_and(|z| z.kind == edgeward_config::ZoneKind::Quarantine)
    };
    let mut out = Vec::new();
    for d in &cand.devices {
        let before = run
            .devices
            .iter()
            .find(|r| r.mac.eq_ignore_ascii_case(&d.mac));
        let label = format!("devices[{}]", d.mac);
        if let Some(to) = &d.move_to {
            let unchanged = before.is_some_and(|b| b.move_to.as_deref() == Some(to));
            if !unchanged && !quarantine(to) {
                out.push(format!("{label}.move_to = {to} (only quarantine)"));
            }
        }
        if d.internet == Some(true) {
            let unchanged = before.is_some_and(|b| b.internet == Some(true));
            if !unchanged && !d.internet_allowed_by_policy(&cand.firewall) {
                out.push(format!(
                    "{label}.internet = true (against the security policy)"
                ));
            }
        }
        let zone_changed = before.is_none_or(|b| b.zone != d.zone);
        let privileged = cand.zone(&d.zone).is_some_and(|z| {
            matches!(
                z.kind,
                edgeward_config::ZoneKind::Mgmt | edgeward_config::ZoneKind::Servers
            )
        });
        if zone_changed && privileged {
            out.push(format!(
                "{label}.zone = {} (management and server zones belong to the network role)",
                d.zone
            ));
        }
    }
    out
}

impl Caller {
    /// A configuration text or diff as this caller may see it ([`shown_to`]).
    pub fn shown(&self, text: &str) -> String {
        shown_to(self.role, text)
    }
}

/// A configuration text or diff as `role` may see it: secret values (Wi-Fi passphrases) only
/// for roles that manage them.
pub fn shown_to(role: Role, text: &str) -> String {
    if role.can(Permission::ManageWifi) {
        text.to_string()
    } else {
        secrets::redact(text)
    }
}

/// The diff of two configuration texts as `role` may see it: a role that may not see secret
/// values gets the diff of the redacted texts ([`secrets::redacted_diff`]).
pub fn shown_diff(role: Role, old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    if role.can(Permission::ManageWifi) {
        history::unified_diff(old, new, old_name, new_name)
    } else {
        secrets::redacted_diff(old, new, old_name, new_name)
    }
}

/// Audit a change refused because the caller's role does not own everything it changes.
pub async fn audit_forbidden(
    ctx: &AdminContext,
    caller: &Caller,
    action: &str,
    forbidden: &[String],
) {
    ctx.audit(
        &caller.username,
        &caller.source_str(),
        action,
        Outcome::Failure,
        edgeward_config::Text::new(
            format!(
                "role {} may not change {}",
                caller.role.as_str(),
                forbidden.join(", ")
            ),
            format!(
                "vai trò {} không được thay đổi `{}`",
                crate::i18n::Lang::Vi.t(crate::layout::role_key(caller.role)),
                forbidden.join("`, `")
            ),
        ),
        None,
    )
    .await;
}

/// The diff of history version `version` against the one before it, as `role` may see it.
pub fn version_diff(role: Role, before: &str, text: &str, version: u64) -> String {
    shown_diff(
        role,
        before,
        text,
        &format!("v{}", version.saturating_sub(1)),
        &format!("v{version}"),
    )
}

/// Why a change made through a form (devices, Wi-Fi) did not happen.
#[derive(Debug)]
pub enum FormChangeError {
    /// The candidate does not validate, or touches a section the role does not own.
    Invalid(Box<CheckReport>),
    /// It could not be written or the daemon refused to apply it.
    Failed(String),
}

/// The TOML text of one list section (`devices`, `wifi`) holding `items`.
pub fn list_section_toml<T: Serialize>(key: &str, items: &[T]) -> Result<String, String> {
    if items.is_empty() {
        return Ok(format!("{key} = []\n"));
    }
    let mut wrapper = std::collections::BTreeMap::new();
    wrapper.insert(key, items);
    toml::to_string(&wrapper).map_err(|e| e.to_string())
}

/// Replace the list section `key` with `items`, validate the whole configuration for the
/// caller's role and apply it (without commit-confirm: a list edit cannot cut the admin off).
/// Shared by the pages and the API; returns the applied version.
pub async fn apply_list<T: Serialize>(
    ctx: &AdminContext,
    caller: &Caller,
    key: &'static str,
    items: &[T],
    reason: &str,
) -> Result<u64, FormChangeError> {
    let live = ctx.live.load_full();
    if live.version != caller.seen_version {
        return Err(FormChangeError::Failed(conflict(
            caller.seen_version,
            live.version,
        )));
    }
    let running = live.text.clone();
    let section = list_section_toml(key, items).map_err(FormChangeError::Failed)?;
    let (candidate, start) = splice(&running, &[key], &section);
    let report = check(&running, &candidate, caller.role, Some(start));
    if !report.valid || !report.forbidden_sections.is_empty() {
        return Err(FormChangeError::Invalid(Box::new(report)));
    }
    match submit(
        ctx,
        &caller.username,
        &candidate,
        reason,
        None,
        false,
        caller.seen_version,
    )
    .await
    {
        Ok(ApplyOutcome::Applied { version }) => Ok(version),
        Ok(ApplyOutcome::Unchanged) => Ok(ctx.live.load().version),
        Ok(ApplyOutcome::Refused { stage, message }) => {
            Err(FormChangeError::Failed(format!("[{stage}] {message}")))
        }
        Err(e) => Err(FormChangeError::Failed(e)),
    }
}

/// A candidate read from a redacted view, with each hidden Wi-Fi passphrase put back from the
/// running configuration (see [`secrets::restore`]).
pub fn with_running_secrets(ctx: &AdminContext, candidate: &str) -> String {
    secrets::restore(candidate, ctx.live.load().config.as_deref())
}

/// Why a change made from version `base` is not applied on top of `now`.
pub fn conflict(base: u64, now: u64) -> String {
    format!(
        "the configuration changed (v{base} → v{now}) while this change was being made; nothing was applied: reload and try again"
    )
}

/// Write the change as the CLI does and have the daemon apply it now — only if what runs is
/// still `base_version`, the version the change was made from and checked against (another
/// admin's change applied in between would otherwise be silently reverted).
pub async fn submit(
    ctx: &AdminContext,
    author: &str,
    text: &str,
    reason: &str,
    restored_from: Option<u64>,
    confirm: bool,
    base_version: u64,
) -> Result<ApplyOutcome, String> {
    let _one_at_a_time = ctx.change_lock.lock().await;
    let now = ctx.live.load().version;
    if now != base_version {
        return Err(conflict(base_version, now));
    }
    let paths = Paths {
        config: ctx.config_path.clone(),
        state_dir: ctx.state_dir.clone(),
    };
    config_cmd::write_change(&paths, text, author, reason, restored_from, confirm)
        .map_err(|e| format!("{e:#}"))?;
    ctx.ask_daemon(|reply| DaemonRequest::Reconcile {
        origin: "web".into(),
        reply,
    })
    .await
}

/// The sections of the change awaiting confirmation (from the version it rolls back to, up to
/// the awaiting version) that `role` may not change; confirming or rejecting that change needs
/// the permissions of every section it changes.
pub fn pending_forbidden(ctx: &AdminContext, role: Role) -> Result<Vec<String>, String> {
    let Some(awaiting) = ctx.live.load().awaiting.clone() else {
        return Err("no change is waiting for confirmation".into());
    };
    let h = History::open(history_dir(&ctx.state_dir)).map_err(|e| e.to_string())?;
    let (_, pending) = h.get(awaiting.version).map_err(|e| e.to_string())?;
    let (_, before) = h
        .get(awaiting.rollback_version)
        .map_err(|e| e.to_string())?;
    let changed = changed_sections(&before, &pending);
    Ok(not_owned(role, &changed, &before, &pending))
}

/// Why a pending change was not confirmed or rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    /// The caller's role does not own every section the pending change touches.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing is pending, or the daemon did not do it.
    #[error("{0}")]
    Failed(String),
}

impl DecideError {
    pub fn status(&self) -> axum::http::StatusCode {
        match self {
            DecideError::Forbidden(_) => axum::http::StatusCode::FORBIDDEN,
            DecideError::Failed(_) => axum::http::StatusCode::CONFLICT,
        }
    }
}

/// Refuse a confirmation or rejection by a caller whose role does not own the pending change.
async fn may_decide(ctx: &AdminContext, caller: &Caller, action: &str) -> Result<(), DecideError> {
    let forbidden = pending_forbidden(ctx, caller.role).map_err(DecideError::Failed)?;
    if forbidden.is_empty() {
        return Ok(());
    }
    let why = edgeward_config::Text::new(
        format!(
            "role {} may not {action} the pending change: it changes {}",
            caller.role.as_str(),
            forbidden.join(", ")
        ),
        format!(
            "vai trò {} không được quyết định thay đổi đang chờ: thay đổi đó chạm tới `{}`",
            crate::i18n::Lang::Vi.t(crate::layout::role_key(caller.role)),
            forbidden.join("`, `")
        ),
    );
    ctx.audit(
        &caller.username,
        &caller.source_str(),
        if action == "confirm" {
            "config.confirm"
        } else {
            "config.rollback"
        },
        Outcome::Failure,
        why.clone(),
        None,
    )
    .await;
    Err(DecideError::Forbidden(why.en))
}

/// Keep the change awaiting confirmation; returns its version.
pub async fn confirm(ctx: &AdminContext, caller: &Caller) -> Result<u64, DecideError> {
    decide(ctx, caller, "confirm", |author, source, reply| {
        DaemonRequest::Confirm {
            author,
            source,
            reply,
        }
    })
    .await
}

/// Roll the change awaiting confirmation back now; returns the version restored.
pub async fn reject(ctx: &AdminContext, caller: &Caller) -> Result<u64, DecideError> {
    decide(ctx, caller, "reject", |author, source, reply| {
        DaemonRequest::RollBackNow {
            author,
            source,
            reply,
        }
    })
    .await
}

/// Check the caller may decide on the pending change, then ask the daemon to.
async fn decide(
    ctx: &AdminContext,
    caller: &Caller,
    action: &str,
    request: impl FnOnce(
        String,
        String,
        tokio::sync::oneshot::Sender<Result<u64, String>>,
    ) -> DaemonRequest,
) -> Result<u64, DecideError> {
    may_decide(ctx, caller, action).await?;
    let (author, source) = (caller.username.clone(), caller.source_str());
    ctx.ask_daemon(|reply| request(author, source, reply))
        .await
        .map_err(DecideError::Failed)?
        .map_err(DecideError::Failed)
}

/// The history, newest first.
pub fn history_entries(ctx: &AdminContext) -> Result<Vec<history::Entry>, String> {
    let h = History::open(history_dir(&ctx.state_dir)).map_err(|e| e.to_string())?;
    let mut list = h.list().map_err(|e| e.to_string())?;
    list.reverse();
    Ok(list)
}

/// A version's entry, the text of the version before it (empty for the first) and its text.
pub fn history_version(
    ctx: &AdminContext,
    version: u64,
) -> Result<(history::Entry, String, String), String> {
    let h = History::open(history_dir(&ctx.state_dir)).map_err(|e| e.to_string())?;
    let (entry, text) = h.get(version).map_err(|e| e.to_string())?;
    let before = if version > 1 {
        h.get(version - 1).map(|(_, t)| t).unwrap_or_default()
    } else {
        String::new()
    };
    Ok((entry, before, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNNING: &str = edgeward_config::AGENCY_DEFAULT_PROFILE;

    #[test]
    fn splice_places_bare_keys_before_the_first_table() {
        let with_devices = format!(
            "{RUNNING}\n[[devices]]\nuser = \"A\"\ntype = \"pc\"\nmac = \"aa:bb:cc:dd:ee:01\"\nzone = \"staff\"\n"
        );
        let (candidate, start) = splice(&with_devices, &["devices"], "devices = []\n");
        let cfg = edgeward_config::parse(&candidate, "t", edgeward_config::today()).unwrap();
        assert!(cfg.devices.is_empty());
        assert_eq!(candidate.lines().nth(start - 1), Some("devices = []"));
        // A bare key with a mistake is reported on its own line.
        let (candidate, start) = splice(RUNNING, &["wifi"], "wifi = 5\n");
        let report = check(RUNNING, &candidate, Role::Operator, Some(start));
        assert!(!report.valid);
        assert_eq!(candidate.lines().nth(start - 1), Some("wifi = 5"));
    }

    #[test]
    fn sections_changed_and_owned() {
        let edited = RUNNING.replace(
            "commit_confirm_seconds = 120",
            "commit_confirm_seconds = 90",
        );
        assert_eq!(
            changed_sections(RUNNING, &edited),
            vec!["firewall".to_string()]
        );
        assert_eq!(
            forbidden_sections(Role::Operator, &["firewall".into()]),
            vec!["firewall"]
        );
        assert!(forbidden_sections(Role::SecurityAdmin, &["firewall".into()]).is_empty());
        assert_eq!(
            forbidden_sections(Role::SecurityAdmin, &["admin".into()]),
            vec!["admin"]
        );
        // Unparseable text: every section it names counts as changed.
        assert!(changed_sections(RUNNING, "[firewall\nx=").contains(&"firewall".to_string()));
    }

    #[test]
    fn splice_keeps_other_sections_and_places_problems_in_the_editor() {
        let section = extract_sections(RUNNING, &["uplinks"]);
        assert!(section.contains("[[uplinks]]"), "{section}");
        let (same, _) = splice(RUNNING, &["uplinks"], &section);
        assert!(
            changed_sections(RUNNING, &same).is_empty(),
            "round trip changes nothing"
        );
        let broken = section.replacen("weight = ", "weight = 0 #", 1);
        let (candidate, start) = splice(RUNNING, &["uplinks"], &broken);
        let report = check(RUNNING, &candidate, Role::SecurityAdmin, Some(start));
        assert!(!report.valid);
        let p = report
            .problems
            .iter()
            .find(|p| p.code == Code::ZeroWeight)
            .expect("zero weight reported");
        let edit_line = p.edit_line.expect("inside the editor");
        assert!(
            broken
                .lines()
                .nth(edit_line - 1)
                .unwrap()
                .contains("weight"),
            "{p:?}"
        );
        assert_eq!(report.changed_sections, vec!["uplinks"]);
    }
}
