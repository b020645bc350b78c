//! Configuration: the running text and its history, the section editor (edit → check → diff →
//! apply with commit-confirm), confirmation, rollback now, and rollback to any version.

use edgeward_config::say;
use edgeward_event::Outcome;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Msg, done};
use crate::changes::{self, CheckReport};
use crate::guard::Caller;
use crate::i18n::{Lang, problem_kind};
use crate::layout::{csrf_field, diff_view, page};
use crate::roles::SECTIONS;
use crate::{AdminContext, ApplyOutcome};

pub async fn overview(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Query(m): Query<Msg>,
) -> Markup {
    let lang = caller.lang;
    ctx.audit_view(
        &caller,
        say!("configuration and history", "cấu hình và lịch sử"),
    )
    .await;
    let live = ctx.live.load();
    let history = changes::history_entries(&ctx).unwrap_or_default();
    let can_change = crate::guard::Access::AnyChange.allows(caller.role);
    let body = html! {
        p { (lang.t("dash.config_version")) ": " strong #running-version { "v" (live.version) } }
        @if can_change {
            p { (lang.t("cfg.edit")) ": "
                @for group in EDIT_GROUPS.iter().filter(|g| g.iter().all(|s| caller.can(crate::roles::section_permission(s)))) {
                    a href={ "/config/edit?sections=" (group.join(",")) } { (group.join(", ")) } " · "
                }
            }
        }
        details { summary { (lang.t("cfg.view_full")) } pre.code #config-text { (caller.shown(&live.text)) } }
        h2 { (lang.t("cfg.history")) }
        table #history {
            tr { th { (lang.t("cfg.version")) } th { (lang.t("cfg.when")) } th { (lang.t("cfg.author")) } th { (lang.t("cfg.reason")) } th {} }
            @for e in history.iter().take(100) {
                tr {
                    td { a href={ "/config/history/" (e.version) } { "v" (e.version) } @if e.version == live.version { " " span.pill.active { (lang.t("cfg.running")) } } }
                    td { (e.applied_at.format("%Y-%m-%d %H:%M:%S")) }
                    td { (e.author) }
                    td { (crate::i18n::show(lang, &edgeward_config::history::reason_text(&e.reason))) @if let Some(r) = e.restored_from { span.muted { " (← v" (r) ")" } } }
                    td { a href={ "/config/history/" (e.version) } { (lang.t("cfg.diff")) } }
                }
            }
        }
    };
    page(&ctx, &caller, "/config", lang.t("cfg.title"), m.key(), body)
}

/// Sections edited together.
pub const EDIT_GROUPS: [&[&str]; 7] = [
    &["zones", "policies", "services", "address_groups"],
    &["firewall", "port_forwards", "interfaces"],
    &["uplinks"],
    &["ids", "soc"],
    &["wifi"],
    &["devices"],
    &["gateway", "management", "admin", "logs"],
];

#[derive(Debug, Deserialize)]
pub struct EditQuery {
    #[serde(default)]
    pub sections: String,
}

fn parse_sections(s: &str) -> Result<Vec<&'static str>, String> {
    let mut out = Vec::new();
    for name in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
        match SECTIONS.iter().find(|k| **k == name) {
            Some(k) => out.push(*k),
            None => return Err(format!("unknown section '{name}'")),
        }
    }
    if out.is_empty() {
        return Err("no section named".into());
    }
    Ok(out)
}

#[derive(Debug, Default)]
struct EditorState {
    text: String,
    reason: String,
    confirm: bool,
    report: Option<CheckReport>,
    error: Option<String>,
}

/// One problem, with the edited line it points at quoted under it.
fn problem_line(lang: Lang, p: &changes::ShownProblem, edited: &str) -> Markup {
    let quoted = p
        .edit_line
        .and_then(|l| edited.lines().nth(l.saturating_sub(1)))
        .map(str::trim)
        .filter(|l| !l.is_empty());
    html! {
        li {
            @if let Some(q) = quoted { code.quoted { (q) } br; }
            @if let Some(l) = p.edit_line { strong { (lang.t("cfg.line")) " " (l) ": " } }
            @else { strong { (lang.t("cfg.elsewhere")) @if let Some(l) = p.line { " (" (lang.t("cfg.line")) " " (l) ")" } ": " } }
            (problem_kind(lang, p.code)) " — "
            @if !p.path.is_empty() { code { (p.path) } ": " }
            (crate::i18n::show(lang, &p.text))
            @if let Some(h) = &p.hint_text { br; span.muted { (crate::i18n::show(lang, h)) } }
        }
    }
}

fn editor(ctx: &AdminContext, caller: &Caller, sections: &[&str], st: &EditorState) -> Markup {
    let lang = caller.lang;
    let joined = sections.join(",");
    let window = ctx
        .live
        .load()
        .config
        .as_ref()
        .map_or(120, |c| c.firewall.commit_confirm_seconds);
    let body = html! {
        p.muted { (lang.t("cfg.section")) ": " code { (joined) } }
        @if let Some(e) = &st.error { p.flash.err #apply-error { (e) } }
        form.stack method="post" action="/config/edit" #editor {
            (csrf_field(caller))
            input type="hidden" name="sections" value=(joined);
            input type="hidden" name="base_version" value=(ctx.live.load().version);
            textarea name="text" id="config-editor" spellcheck="false" { (st.text) }
            @if let Some(r) = &st.report {
                @if !r.problems.is_empty() {
                    div.editor-problems {
                        p.flash.err #invalid { (lang.t("cfg.invalid")) }
                        ul.problems #problems { @for p in &r.problems { (problem_line(lang, p, &st.text)) } }
                    }
                }
                @if !r.forbidden_sections.is_empty() {
                    p.flash.err #forbidden { (lang.t("cfg.forbidden_sections")) " " (r.forbidden_sections.join(", ")) }
                }
                @if r.valid && r.changed_sections.is_empty() { p.flash.ok #no-change { (lang.t("cfg.no_change")) } }
                @if r.acceptable() {
                    p.flash.ok #valid { (lang.t("cfg.valid")) }
                    h2 { (lang.t("cfg.diff")) }
                    (diff_view(&r.diff))
                }
            }
            label for="reason" { (lang.t("cfg.reason")) }
            input type="text" id="reason" name="reason" value=(st.reason);
            label.check { input type="checkbox" name="confirm" value="1" id="commit-confirm" checked[st.confirm]; " " (lang.t("cfg.commit_confirm")) " (" (window) " " (lang.t("cfg.seconds")) ")" }
            p {
                button type="submit" name="action" value="check" #check { (lang.t("cfg.check")) }
                " "
                @if st.report.as_ref().is_some_and(super::super::changes::CheckReport::acceptable) {
                    button.primary type="submit" name="action" value="apply" #apply { (lang.t("cfg.apply")) }
                }
            }
        }
    };
    page(ctx, caller, "/config", lang.t("cfg.title"), None, body)
}

pub async fn edit_page(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<EditQuery>,
) -> Response {
    let sections = match parse_sections(&q.sections) {
        Ok(s) => s,
        Err(e) => return super::failed_page(caller.lang, StatusCode::BAD_REQUEST, &e),
    };
    let owned: Vec<String> = sections
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    let forbidden = changes::forbidden_sections(caller.role, &owned);
    if !forbidden.is_empty() {
        ctx.audit(
            &caller.username,
            &caller.source_str(),
            "auth.forbidden",
            Outcome::Failure,
            say!(
                "editor of {} needs another role",
                "mở trình sửa `{}` cần vai trò khác",
                forbidden.join(", ")
            ),
            None,
        )
        .await;
        return crate::guard::deny(false, caller.lang, StatusCode::FORBIDDEN, "err.forbidden");
    }
    ctx.audit_view(
        &caller,
        say!("editor: {}", "trình sửa cấu hình: `{}`", sections.join(",")),
    )
    .await;
    let text = changes::extract_sections(&ctx.live.load().text, &sections);
    editor(
        &ctx,
        &caller,
        &sections,
        &EditorState {
            text,
            confirm: true,
            ..Default::default()
        },
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
pub struct EditForm {
    pub sections: String,
    pub text: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub confirm: Option<String>,
    #[serde(default)]
    pub action: String,
    /// The version the editor was opened on.
    #[serde(default)]
    pub base_version: Option<u64>,
}

/// The result of an apply, as the editor and the API say it.
pub fn outcome_message(lang: Lang, o: &Result<ApplyOutcome, String>) -> Option<String> {
    match o {
        Ok(ApplyOutcome::Applied { .. }) => None,
        Ok(ApplyOutcome::Unchanged) => Some(lang.t("cfg.no_change").to_string()),
        Ok(ApplyOutcome::Refused { stage, message }) => {
            Some(format!("{} [{stage}] {message}", lang.t("cfg.refused")))
        }
        Err(e) => Some(format!("{}: {e}", lang.t("common.error"))),
    }
}

pub async fn edit_submit(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Form(f): Form<EditForm>,
) -> Response {
    let lang = caller.lang;
    let sections = match parse_sections(&f.sections) {
        Ok(s) => s,
        Err(e) => return super::failed_page(caller.lang, StatusCode::BAD_REQUEST, &e),
    };
    let live = ctx.live.load_full();
    let running = live.text.clone();
    let base = f.base_version.unwrap_or(live.version);
    let (candidate, start) = changes::splice(&running, &sections, &f.text);
    let report = changes::check(&running, &candidate, caller.role, Some(start));
    let mut st = EditorState {
        text: f.text.clone(),
        reason: f.reason.clone(),
        confirm: f.confirm.is_some(),
        report: None,
        error: None,
    };
    let forbidden = !report.forbidden_sections.is_empty();
    if f.action == "apply" && report.acceptable() {
        if f.reason.trim().is_empty() {
            st.error = Some(lang.t("cfg.reason_required").into());
            st.report = Some(report);
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                editor(&ctx, &caller, &sections, &st),
            )
                .into_response();
        }
        let outcome = changes::submit(
            &ctx,
            &caller.username,
            &candidate,
            f.reason.trim(),
            None,
            st.confirm,
            base,
        )
        .await;
        if let Ok(ApplyOutcome::Applied { .. }) = outcome {
            return done("/config", "cfg.applied");
        }
        st.error = outcome_message(lang, &outcome);
        st.report = Some(report);
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            editor(&ctx, &caller, &sections, &st),
        )
            .into_response();
    }
    if forbidden {
        crate::changes::audit_forbidden(&ctx, &caller, "config.apply", &report.forbidden_sections)
            .await;
    }
    if !forbidden {
        ctx.audit_view(
            &caller,
            say!(
                "editor check of {} (diff shown)",
                "kiểm tra bản sửa `{}` (đã xem khác biệt)",
                sections.join(",")
            ),
        )
        .await;
    }
    let status = if forbidden {
        StatusCode::FORBIDDEN
    } else if report.valid {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    st.report = Some(report);
    (status, editor(&ctx, &caller, &sections, &st)).into_response()
}

fn daemon_answer(
    caller: &Caller,
    r: Result<u64, changes::DecideError>,
    msg: &'static str,
) -> Response {
    match r {
        Ok(_) => done("/config", msg),
        Err(e) => (
            e.status(),
            crate::layout::bare_page(caller.lang, caller.lang.t("common.error"), &e.to_string()),
        )
            .into_response(),
    }
}

pub async fn confirm(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let r = changes::confirm(&ctx, &caller).await;
    daemon_answer(&caller, r, "cfg.confirmed")
}

pub async fn rollback_now(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let r = changes::reject(&ctx, &caller).await;
    daemon_answer(&caller, r, "cfg.rolled_back")
}

pub async fn version_page(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(version): Path<u64>,
) -> Response {
    let lang = caller.lang;
    let (entry, before, text) = match changes::history_version(&ctx, version) {
        Ok(x) => x,
        Err(e) => return super::failed_page(caller.lang, StatusCode::NOT_FOUND, &e),
    };
    let diff = changes::version_diff(caller.role, &before, &text, version);
    ctx.audit_view(
        &caller,
        say!("history v{version}", "lịch sử, phiên bản {version}"),
    )
    .await;
    let can_change = crate::guard::Access::AnyChange.allows(caller.role);
    let body = html! {
        p { (entry.applied_at.format("%Y-%m-%d %H:%M:%S")) " · " (lang.t("cfg.author")) ": " strong { (entry.author) } " · " (crate::i18n::show(lang, &edgeward_config::history::reason_text(&entry.reason))) }
        h2 { (lang.t("cfg.diff")) }
        (diff_view(&diff))
        @if can_change && entry.version != ctx.live.load().version {
            form.stack method="post" action={ "/config/history/" (version) "/rollback" } #rollback-form {
                (csrf_field(&caller))
                label for="reason" { (lang.t("cfg.reason")) }
                input type="text" id="reason" name="reason" value={ (lang.t("cfg.rollback_to")) " v" (version) } required;
                button.primary type="submit" #rollback { (lang.t("cfg.rollback_to")) " v" (version) }
            }
        }
        details { summary { (lang.t("cfg.view_full")) } pre.code { (caller.shown(&text)) } }
    };
    page(
        &ctx,
        &caller,
        "/config",
        &format!("{} v{version}", lang.t("cfg.version")),
        None,
        body,
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    pub reason: String,
}

/// Roll back to `version` with commit-confirm; the caller's role must own every section that
/// differs. Shared by the page and the API.
pub async fn roll_back_to(
    ctx: &AdminContext,
    caller: &Caller,
    version: u64,
    reason: &str,
) -> Result<ApplyOutcome, (StatusCode, String)> {
    let (_, text, _) =
        changes::history_version(ctx, version).map_err(|e| (StatusCode::NOT_FOUND, e))?;
    let running = ctx.live.load().text.clone();
    // The same ownership rules as any change (sections, and what an operator may do to a
    // device).
    let forbidden = changes::check(&running, &text, caller.role, None).forbidden_sections;
    if !forbidden.is_empty() {
        crate::changes::audit_forbidden(ctx, caller, "config.rollback", &forbidden).await;
        return Err((
            StatusCode::FORBIDDEN,
            format!(
                "{} {}",
                caller.lang.t("cfg.forbidden_sections"),
                forbidden.join(", ")
            ),
        ));
    }
    let reason = if reason.trim().is_empty() {
        format!("rollback to v{version}")
    } else {
        reason.trim().to_string()
    };
    changes::submit(
        ctx,
        &caller.username,
        &text,
        &reason,
        Some(version),
        true,
        caller.seen_version,
    )
    .await
    .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e))
}

pub async fn rollback_to(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(version): Path<u64>,
    Form(f): Form<ReasonForm>,
) -> Response {
    match roll_back_to(&ctx, &caller, version, &f.reason).await {
        Ok(ApplyOutcome::Applied { .. }) => done("/config", "cfg.applied"),
        Ok(other) => (
            StatusCode::CONFLICT,
            crate::layout::bare_page(
                caller.lang,
                caller.lang.t("common.error"),
                &outcome_message(caller.lang, &Ok(other)).unwrap_or_default(),
            ),
        )
            .into_response(),
        Err((s, m)) => (
            s,
            crate::layout::bare_page(caller.lang, caller.lang.t("common.error"), &m),
        )
            .into_response(),
    }
}
