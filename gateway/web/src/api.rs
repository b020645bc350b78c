//! The JSON API under `/api/v1`: the same sessions, roles and CSRF rules as the pages (send the
//! session cookie and `X-CSRF-Token` on state-changing requests). Documented in
//! `docs/openapi.yaml`.

use edgeward_config::say;
use edgeward_event::Outcome;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use super::accounts::{AccountError, NewAccount, Stage};
use super::guard::{Caller, Visitor, session_cookie};
use super::pages::{
    accounts as acc_pages, auth, config as cfg_pages, devices as dev_pages, status, system,
    wifi as wifi_pages,
};
use super::{AdminContext, ApplyOutcome, changes, lock};
use edgeward_event::EventBody;

fn err(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

#[derive(Debug, Deserialize)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub totp: Option<String>,
}

/// Log in with password (and TOTP for accounts that have it). First-login steps (new password,
/// enrolment) are done in the web UI.
pub async fn login(
    State(ctx): State<Arc<AdminContext>>,
    Extension(v): Extension<Visitor>,
    Json(b): Json<LoginBody>,
) -> Response {
    let (id, csrf, stage) = match auth::attempt(&ctx, &v, &b.username, &b.password).await {
        auth::LoginResult::Session { id, csrf, stage } => (id, csrf, stage),
        auth::LoginResult::Refused(key, status) => {
            return err(status, super::i18n::Lang::En.t(key));
        }
    };
    let username = b.username.trim().to_string();
    let stage = if stage == Stage::VerifyTotp {
        let Some(code) = b.totp.as_deref() else {
            lock(&ctx.sessions).remove(&id);
            return err(
                StatusCode::UNAUTHORIZED,
                "this account needs a TOTP code: send \"totp\"",
            );
        };
        let policy = ctx.policy();
        let now = ctx.now();
        let outcome = {
            let mut accounts = lock(&ctx.accounts);
            let o = accounts.verify_totp(&username, code, &policy, now);
            let _ = accounts.save();
            o
        };
        let Ok(super::accounts::LoginOutcome::Accepted(next)) = outcome else {
            lock(&ctx.sessions).remove(&id);
            ctx.audit(
                &username,
                &v.source.to_string(),
                "auth.login",
                Outcome::Failure,
                say!("wrong TOTP code (API)", "sai mã xác thực hai yếu tố (API)"),
                None,
            )
            .await;
            return err(StatusCode::UNAUTHORIZED, "wrong or reused TOTP code");
        };
        lock(&ctx.sessions).update(&id, |s| s.stage = next);
        ctx.audit(
            &username,
            &v.source.to_string(),
            "auth.login",
            Outcome::Success,
            if next == Stage::Full {
                say!(
                    "logged in (password + TOTP, API)",
                    "đã đăng nhập (mật khẩu và mã xác thực hai yếu tố, API)"
                )
            } else {
                say!(
                    "password + TOTP accepted (API); the password must be changed in the web UI",
                    "mật khẩu và mã xác thực hai yếu tố đúng (API); phải đổi mật khẩu trên giao diện web"
                )
            },
            None,
        )
        .await;
        next
    } else {
        stage
    };
    let mut resp =
        Json(json!({ "username": username, "stage": stage, "csrf_token": csrf })).into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, session_cookie(Some(&id)));
    resp
}

pub async fn logout(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
) -> Response {
    lock(&ctx.sessions).remove(&c.session_id);
    ctx.audit(
        &c.username,
        &c.source_str(),
        "auth.logout",
        Outcome::Success,
        say!("logged out (API)", "đã đăng xuất (API)"),
        None,
    )
    .await;
    let mut resp = Json(json!({ "logged_out": true })).into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, session_cookie(None));
    resp
}

pub async fn session(Extension(c): Extension<Caller>) -> Json<serde_json::Value> {
    Json(json!({
        "username": c.username,
        "role": c.role,
        "stage": c.stage,
        "permissions": c.role.permissions(),
        "csrf_token": c.csrf,
    }))
}

pub async fn status(State(ctx): State<Arc<AdminContext>>) -> Json<serde_json::Value> {
    let live = ctx.live.load();
    let board = ctx.board.read().map(|b| b.clone()).unwrap_or_default();
    let sev = ctx.recent.open_alerts_by_severity();
    let overview = super::pages::devices::DeviceOverview::load(&ctx);
    Json(json!({
        "host_id": ctx.host_id,
        "config_version": live.version,
        "awaiting_confirmation": live.awaiting,
        "uplinks": board,
        "open_alerts_by_severity": { "high": sev[0], "medium": sev[1], "low": sev[2] },
        "devices_pending": overview.waiting.len(),
        "devices_quarantined": overview.quarantined().len(),
    }))
}

pub async fn uplinks(State(ctx): State<Arc<AdminContext>>) -> Json<serde_json::Value> {
    let board = ctx.board.read().map(|b| b.clone()).unwrap_or_default();
    Json(json!(board))
}

pub async fn config(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
) -> Json<serde_json::Value> {
    ctx.audit_view(
        &c,
        say!("configuration text (API)", "nội dung cấu hình (API)"),
    )
    .await;
    let live = ctx.live.load();
    Json(
        json!({ "version": live.version, "text": c.shown(&live.text), "awaiting_confirmation": live.awaiting }),
    )
}

#[derive(Debug, Deserialize)]
pub struct CandidateBody {
    pub text: String,
    #[serde(default)]
    pub reason: String,
    /// Commit-confirm (default true).
    #[serde(default)]
    pub confirm: Option<bool>,
    /// The version the text was made from; the change is refused (409) if another was applied
    /// since. Without it, the version running when the request came in.
    #[serde(default)]
    pub base_version: Option<u64>,
}

pub async fn config_check(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
    Json(b): Json<CandidateBody>,
) -> Response {
    // The report carries a diff against what runs: a view of the configuration (001 §6.2).
    ctx.audit_view(
        &c,
        say!(
            "candidate checked against the running configuration (API)",
            "kiểm tra bản cấu hình đề xuất so với cấu hình đang chạy (API)"
        ),
    )
    .await;
    let running = ctx.live.load().text.clone();
    let text = changes::with_running_secrets(&ctx, &b.text);
    let report = changes::check(&running, &text, c.role, None);
    let status = if report.forbidden_sections.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    (status, Json(report)).into_response()
}

pub async fn config_apply(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
    Json(b): Json<CandidateBody>,
) -> Response {
    let live = ctx.live.load_full();
    let (running, base) = (live.text.clone(), live.version);
    if let Some(given) = b.base_version.filter(|v| *v != base) {
        return err(StatusCode::CONFLICT, changes::conflict(given, base));
    }
    let text = changes::with_running_secrets(&ctx, &b.text);
    let report = changes::check(&running, &text, c.role, None);
    if !report.forbidden_sections.is_empty() {
        crate::changes::audit_forbidden(&ctx, &c, "config.apply", &report.forbidden_sections).await;
        return (StatusCode::FORBIDDEN, Json(report)).into_response();
    }
    if !report.valid {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(report)).into_response();
    }
    if b.reason.trim().is_empty() {
        return err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "field 'reason' is required: every change is recorded with who and why",
        );
    }
    match changes::submit(
        &ctx,
        &c.username,
        &text,
        b.reason.trim(),
        None,
        b.confirm.unwrap_or(true),
        b.base_version.unwrap_or(base),
    )
    .await
    {
        Ok(o @ (ApplyOutcome::Applied { .. } | ApplyOutcome::Unchanged)) => {
            Json(json!({ "outcome": o, "awaiting_confirmation": ctx.live.load().awaiting }))
                .into_response()
        }
        Ok(o) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "outcome": o })),
        )
            .into_response(),
        Err(e) if e.starts_with("the configuration changed") => err(StatusCode::CONFLICT, e),
        Err(e) => err(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

pub async fn config_confirm(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
) -> Response {
    match changes::confirm(&ctx, &c).await {
        Ok(v) => Json(json!({ "confirmed": v })).into_response(),
        Err(e) => err(e.status(), e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
pub struct RollbackBody {
    pub version: u64,
    #[serde(default)]
    pub reason: String,
}

pub async fn config_rollback(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
    Json(b): Json<RollbackBody>,
) -> Response {
    match cfg_pages::roll_back_to(&ctx, &c, b.version, &b.reason).await {
        Ok(o) => Json(json!({ "outcome": o, "awaiting_confirmation": ctx.live.load().awaiting }))
            .into_response(),
        Err((s, m)) => err(s, m),
    }
}

pub async fn history(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
) -> Response {
    ctx.audit_view(
        &c,
        say!("configuration history (API)", "lịch sử cấu hình (API)"),
    )
    .await;
    match changes::history_entries(&ctx) {
        Ok(list) => Json(list).into_response(),
        Err(e) => err(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

pub async fn history_version(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
    Path(version): Path<u64>,
) -> Response {
    match changes::history_version(&ctx, version) {
        Ok((entry, before, text)) => {
            let diff = changes::version_diff(c.role, &before, &text, version);
            ctx.audit_view(
                &c,
                say!(
                    "history v{version} (API)",
                    "lịch sử, phiên bản {version} (API)"
                ),
            )
            .await;
            Json(json!({ "entry": entry, "text": c.shown(&text), "diff": diff })).into_response()
        }
        Err(e) => err(StatusCode::NOT_FOUND, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct Limit {
    pub limit: Option<usize>,
}

pub async fn alerts(
    State(ctx): State<Arc<AdminContext>>,
    Query(q): Query<Limit>,
) -> Json<serde_json::Value> {
    let list: Vec<_> = ctx
        .recent
        .alerts(q.limit.unwrap_or(100).min(2000))
        .into_iter()
        .map(|ev| {
            let mut v = serde_json::to_value(&*ev).unwrap_or_default();
            if let Some(ack) = ctx.recent.ack_of(ev.seq) {
                v["acknowledged"] = json!(ack);
            }
            v
        })
        .collect();
    Json(json!(list))
}

pub async fn alert_ack(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
    Path(seq): Path<u64>,
) -> Response {
    match status::acknowledge(&ctx, &c, seq).await {
        Ok(fresh) => Json(json!({ "acknowledged": seq, "already": !fresh })).into_response(),
        Err((s, m)) => err(s, m),
    }
}

pub async fn devices(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
) -> Json<serde_json::Value> {
    ctx.audit_view(
        &c,
        say!("device inventory (API)", "danh mục thiết bị (API)"),
    )
    .await;
    Json(json!(
        ctx.live
            .load()
            .config
            .as_ref()
            .map(|c| c.devices.clone())
            .unwrap_or_default()
    ))
}

/// Add a device, or replace the one with the same MAC.
pub async fn device_put(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
    Json(d): Json<edgeward_config::Device>,
) -> Response {
    let mut list = ctx
        .live
        .load()
        .config
        .as_ref()
        .map(|c| c.devices.clone())
        .unwrap_or_default();
    let reason = if let Some(x) = list.iter_mut().find(|x| x.mac.eq_ignore_ascii_case(&d.mac)) {
        *x = d.clone();
        format!("device {} updated (API)", d.mac)
    } else {
        list.push(d.clone());
        format!("device {} added (API)", d.mac)
    };
    match dev_pages::apply_devices(&ctx, &c, &list, &reason).await {
        Ok(v) => Json(json!({ "version": v })).into_response(),
        Err(dev_pages::DevicesError::Invalid(r)) => {
            let status = if r.forbidden_sections.is_empty() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::FORBIDDEN
            };
            (status, Json(*r)).into_response()
        }
        Err(dev_pages::DevicesError::Failed(m)) => err(StatusCode::UNPROCESSABLE_ENTITY, m),
    }
}

pub async fn device_delete(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
    Path(mac): Path<String>,
) -> Response {
    match dev_pages::remove_device(&ctx, &c, &mac).await {
        Ok(v) => Json(json!({ "version": v })).into_response(),
        Err((s, m)) => err(s, m),
    }
}

/// A refused Wi-Fi change: the reason in English, and the field when one is at fault.
fn wifi_refused(e: wifi_pages::WifiChangeError) -> Response {
    let field = match &e {
        wifi_pages::WifiChangeError::Field(f, _) => Some(f.to_string()),
        wifi_pages::WifiChangeError::Refused(p) => p
            .iter()
            .find(|(f, _)| !f.is_empty())
            .map(|(f, _)| f.clone()),
        _ => None,
    };
    (
        e.status(),
        Json(json!({ "error": e.message(super::i18n::Lang::En), "field": field })),
    )
        .into_response()
}

pub async fn wifi_list(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
) -> Json<serde_json::Value> {
    ctx.audit_view(&c, say!("Wi-Fi networks (API)", "các mạng Wi-Fi (API)"))
        .await;
    Json(json!(wifi_pages::views(&ctx, &c)))
}

pub async fn wifi_add(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
    Json(b): Json<wifi_pages::NewNetwork>,
) -> Response {
    match wifi_pages::add_network(&ctx, &c, &b).await {
        Ok(applied) => (StatusCode::CREATED, Json(applied)).into_response(),
        Err(e) => wifi_refused(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PassphraseBody {
    /// The new passphrase; absent or empty to have one generated.
    #[serde(default)]
    pub passphrase: Option<String>,
}

pub async fn wifi_passphrase(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
    Path(ssid): Path<String>,
    Json(b): Json<PassphraseBody>,
) -> Response {
    match wifi_pages::set_passphrase(&ctx, &c, &ssid, b.passphrase.as_deref()).await {
        Ok(applied) => Json(applied).into_response(),
        Err(e) => wifi_refused(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct OverdueBody {
    /// Take the network off the air while its passphrase is overdue (004 §7.2).
    pub block: bool,
}

pub async fn wifi_overdue(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
    Path(ssid): Path<String>,
    Json(b): Json<OverdueBody>,
) -> Response {
    match wifi_pages::set_block_when_overdue(&ctx, &c, &ssid, b.block).await {
        Ok(version) => {
            Json(json!({ "version": version, "block_when_overdue": b.block })).into_response()
        }
        Err(e) => wifi_refused(e),
    }
}

pub async fn wifi_delete(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
    Path(ssid): Path<String>,
) -> Response {
    match wifi_pages::remove_network(&ctx, &c, &ssid).await {
        Ok(version) => Json(json!({ "version": version })).into_response(),
        Err(e) => wifi_refused(e),
    }
}

pub async fn accounts(State(ctx): State<Arc<AdminContext>>) -> Json<serde_json::Value> {
    let policy = ctx.policy();
    let now = ctx.now();
    let list: Vec<_> = lock(&ctx.accounts)
        .list()
        .map(|a| a.summary(&policy, now))
        .collect();
    Json(json!(list))
}

fn account_err(e: AccountError) -> Response {
    let status = match &e {
        AccountError::NoSuchAccount(_) => StatusCode::NOT_FOUND,
        AccountError::Refused(_) => StatusCode::FORBIDDEN,
        AccountError::Exists(_) | AccountError::PersonHasAccount(_) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let mut body = json!({ "error": e.to_string() });
    if let AccountError::WeakPassword(issues) = &e {
        body["password_issues"] = json!(
            issues
                .iter()
                .map(edgeward_admin::password::PasswordIssue::key)
                .collect::<Vec<_>>()
        );
    }
    if let AccountError::Invalid { field, .. } = &e {
        body["field"] = json!(field);
    }
    (status, Json(body)).into_response()
}

pub async fn account_create(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
    Json(new): Json<NewAccount>,
) -> Response {
    let (policy, now, target) = (ctx.policy(), ctx.now(), new.username.clone());
    match acc_pages::change(
        &ctx,
        &c,
        "create",
        &target,
        {
            let approver = c.username.clone();
            move |s| s.create(&new, &approver, &policy, now)
        },
        false,
    )
    .await
    {
        Ok(()) => (StatusCode::CREATED, Json(json!({ "created": target }))).into_response(),
        Err(e) => account_err(e),
    }
}

pub async fn account_unlock(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
    Path(user): Path<String>,
) -> Response {
    let (actor, now, u) = (c.username.clone(), ctx.now(), user.clone());
    match acc_pages::change(
        &ctx,
        &c,
        "unlock",
        &user,
        move |s| s.unlock(&actor, &u, now),
        false,
    )
    .await
    {
        Ok(()) => Json(json!({ "unlocked": user })).into_response(),
        Err(e) => account_err(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    pub days: Option<u32>,
    pub limit: Option<usize>,
}

pub async fn audit(
    State(ctx): State<Arc<AdminContext>>,
    Query(q): Query<AuditQuery>,
) -> Json<serde_json::Value> {
    let events = status::audit_events(
        &ctx,
        q.days.unwrap_or(7),
        q.limit.unwrap_or(1000).min(10_000),
    )
    .await;
    Json(json!(
        events
            .into_iter()
            .filter(|e| matches!(e.body, EventBody::Audit(_)))
            .collect::<Vec<_>>()
    ))
}

pub async fn certificate(State(ctx): State<Arc<AdminContext>>) -> Response {
    match ctx.certs.info() {
        Ok(i) => Json(i).into_response(),
        Err(e) => err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
pub struct CertBody {
    pub cert_pem: String,
    pub key_pem: String,
}

pub async fn certificate_put(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
    Json(b): Json<CertBody>,
) -> Response {
    match system::replace_certificate(&ctx, &c, b.cert_pem.as_bytes(), b.key_pem.as_bytes()).await {
        Ok(i) => Json(i).into_response(),
        Err(e) => err(StatusCode::UNPROCESSABLE_ENTITY, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct BackupBody {
    pub passphrase: String,
}

pub async fn backup(
    State(ctx): State<Arc<AdminContext>>,
    Extension(c): Extension<Caller>,
    Json(b): Json<BackupBody>,
) -> Response {
    match system::export_backup(&ctx, &c, &b.passphrase).await {
        Ok((name, body)) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            body,
        )
            .into_response(),
        Err((s, m)) => err(s, m),
    }
}
