//! Login, the first-login steps (new password, TOTP enrolment), the second factor, logout and
//! the language switch.

use edgeward_config::say;
use edgeward_event::Outcome;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{Markup, html};
use serde::Deserialize;

use crate::accounts::{AccountError, LoginOutcome, Reauth, Stage, Takeover};
use crate::guard::{Caller, Visitor, cookie, session_cookie};
use crate::i18n::Lang;
use crate::layout::{auth_page, csrf_field};
use crate::session::{PRELOGIN_COOKIE, csrf_matches, random_token};
use crate::{AdminContext, lock, totp};

#[derive(Debug, Deserialize, Default)]
pub struct LoginQuery {
    pub expired: Option<String>,
}

fn login_form(lang: Lang, pre: &str, error: Option<&str>, username: &str) -> Markup {
    auth_page(
        lang,
        lang.t("login.title"),
        "/login",
        html! {
            @if let Some(e) = error { p.flash.err #error { (e) } }
            form method="post" action="/login" #login-form {
                input type="hidden" name="_pre" value=(pre);
                label for="username" { (lang.t("login.username")) }
                input type="text" id="username" name="username" value=(username) autocomplete="username" autofocus required;
                label for="password" { (lang.t("login.password")) }
                input type="password" id="password" name="password" autocomplete="current-password" required;
                button.primary type="submit" #login-submit { (lang.t("login.submit")) }
            }
            p.muted { (lang.t("login.factory_hint")) }
        },
    )
}

fn with_pre_cookie(pre: &str, body: Markup, status: StatusCode) -> Response {
    let mut resp = (status, body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{PRELOGIN_COOKIE}={pre}; Path=/; Secure; HttpOnly; SameSite=Strict"
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

pub async fn login_page(Extension(v): Extension<Visitor>, Query(q): Query<LoginQuery>) -> Response {
    let pre = random_token();
    let error = q.expired.is_some().then(|| v.lang.t("login.expired"));
    with_pre_cookie(&pre, login_form(v.lang, &pre, error, ""), StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
    #[serde(rename = "_pre", default)]
    pub pre: String,
}

/// What a login attempt came to, shared by the page and the API.
pub enum LoginResult {
    Session {
        id: String,
        csrf: String,
        stage: Stage,
    },
    Refused(&'static str, StatusCode),
}

/// Longest user name accepted at login (account names are at most 32).
pub const MAX_USERNAME_BYTES: usize = 64;
/// Longest password accepted at login.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Check credentials, record the attempt, open a session on success. Audited.
pub async fn attempt(
    ctx: &Arc<AdminContext>,
    v: &Visitor,
    username: &str,
    password: &str,
) -> LoginResult {
    let source = v.source.to_string();
    let now = ctx.now();
    if !lock(&ctx.limiter).allow(v.source, now) {
        ctx.audit(
            &edgeward_event::clip(username, MAX_USERNAME_BYTES),
            &source,
            "auth.login",
            Outcome::Failure,
            say!(
                "rate limit of the source address",
                "vượt giới hạn số lần thử từ địa chỉ nguồn"
            ),
            None,
        )
        .await;
        return LoginResult::Refused("login.rate", StatusCode::TOO_MANY_REQUESTS);
    }
    // No account has a longer name, and no password needs more: refuse before hashing or
    // auditing anything of that size (an event's text is also capped by the bus).
    if username.len() > MAX_USERNAME_BYTES || password.len() > MAX_PASSWORD_BYTES {
        ctx.audit(
            &edgeward_event::clip(username, 64),
            &source,
            "auth.login",
            Outcome::Failure,
            say!(
                "over-long credentials refused (user name {} bytes, password {} bytes)",
                "từ chối thông tin đăng nhập quá dài (tên {} byte, mật khẩu {} byte)",
                username.len(),
                password.len()
            ),
            None,
        )
        .await;
        return LoginResult::Refused("login.refused", StatusCode::UNAUTHORIZED);
    }
    ctx.refresh_accounts().await;
    let policy = ctx.policy();
    let (c, user, pw) = (
        ctx.clone(),
        username.trim().to_string(),
        password.to_string(),
    );
    let p2 = policy.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let mut accounts = lock(&c.accounts);
        let o = accounts.attempt_login(&user, &pw, &p2, now);
        if let Err(e) = accounts.save() {
            tracing::error!(error = %e, "cannot save accounts");
        }
        o
    })
    .await
    .unwrap_or(LoginOutcome::Refused {
        failures_in_window: 0,
    });
    let user = username.trim();
    match outcome {
        LoginOutcome::Accepted(stage) => {
            let s = lock(&ctx.sessions).create(user, stage, v.source, now);
            let detail = match stage {
                Stage::Full => say!("logged in", "đã đăng nhập"),
                other => edgeward_config::Text::new(
                    format!("password accepted; next step: {other:?}"),
                    format!(
                        "mật khẩu đúng; bước tiếp theo: {}",
                        match other {
                            Stage::ChangePassword => "đổi mật khẩu",
                            Stage::EnrolTotp => "đăng ký xác thực hai yếu tố",
                            _ => "nhập mã xác thực hai yếu tố",
                        }
                    ),
                ),
            };
            let action = if stage == Stage::Full {
                "auth.login"
            } else {
                "auth.password"
            };
            ctx.audit(user, &source, action, Outcome::Success, detail, None)
                .await;
            LoginResult::Session {
                id: s.id,
                csrf: s.csrf,
                stage,
            }
        }
        refused => {
            // One refusal for every reason (no account enumeration); the audit event says which.
            let detail = match refused {
                LoginOutcome::Refused { failures_in_window } => say!(
                    "wrong user name or password ({failures_in_window} in window)",
                    "sai tên đăng nhập hoặc mật khẩu (lần sai thứ {failures_in_window} trong khoảng đếm)"
                ),
                LoginOutcome::NowLocked => say!("wrong password", "sai mật khẩu"),
                LoginOutcome::Locked => say!("account is locked", "tài khoản đang bị khóa"),
                LoginOutcome::Suspended => say!(
                    "account is suspended (unused)",
                    "tài khoản bị tạm ngưng (lâu không dùng)"
                ),
                _ => say!("account is disabled", "tài khoản đã bị vô hiệu hóa"),
            };
            let (key, status) = ("login.refused", StatusCode::UNAUTHORIZED);
            ctx.audit(user, &source, "auth.login", Outcome::Failure, detail, None)
                .await;
            if refused == LoginOutcome::NowLocked {
                let why = say!(
                    "account locked after {} failures in {} minutes",
                    "khóa tài khoản sau {} lần sai trong {} phút",
                    policy.lockout_failures,
                    policy.lockout_window_minutes
                );
                ctx.audit(user, &source, "auth.lockout", Outcome::Success, why, None)
                    .await;
            }
            LoginResult::Refused(key, status)
        }
    }
}

pub fn stage_path(stage: Stage) -> &'static str {
    match stage {
        Stage::ChangePassword => "/password",
        Stage::EnrolTotp => "/totp/enrol",
        Stage::VerifyTotp => "/totp/verify",
        Stage::Full => "/dashboard",
    }
}

fn redirect_with_session(path: &str, id: &str) -> Response {
    let mut resp = Redirect::to(path).into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, session_cookie(Some(id)));
    resp
}

pub async fn login_submit(
    State(ctx): State<Arc<AdminContext>>,
    Extension(v): Extension<Visitor>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let expected = cookie(&headers, PRELOGIN_COOKIE).unwrap_or_default();
    if !csrf_matches(&expected, Some(&f.pre)) {
        let pre = random_token();
        return with_pre_cookie(
            &pre,
            login_form(v.lang, &pre, Some(v.lang.t("login.csrf")), &f.username),
            StatusCode::FORBIDDEN,
        );
    }
    match attempt(&ctx, &v, &f.username, &f.password).await {
        LoginResult::Session { id, stage, .. } => redirect_with_session(stage_path(stage), &id),
        LoginResult::Refused(key, status) => {
            let pre = random_token();
            with_pre_cookie(
                &pre,
                login_form(v.lang, &pre, Some(v.lang.t(key)), &f.username),
                status,
            )
        }
    }
}

/// Move the session to `stage` under a new id (no fixation across privilege steps).
fn advance(ctx: &AdminContext, caller: &Caller, stage: Stage) -> Response {
    let rotated = {
        let mut sessions = lock(&ctx.sessions);
        sessions.update(&caller.session_id, |s| {
            s.stage = stage;
            s.pending_totp = None;
        });
        sessions.rotate(&caller.session_id)
    };
    match rotated {
        Some(s) => redirect_with_session(stage_path(stage), &s.id),
        None => Redirect::to("/login").into_response(),
    }
}

fn password_form(ctx: &AdminContext, caller: &Caller, errors: &[String]) -> Markup {
    let lang = caller.lang;
    let (is_admin, factory) = lock(&ctx.accounts)
        .get(&caller.username)
        .map_or((true, false), |a| (a.role.is_admin(), a.factory));
    let forced = caller.stage == Stage::ChangePassword;
    let body = html! {
        @if forced { p.flash.err #forced { (lang.t("pw.forced")) } }
        @if factory { p { (lang.t("pw.factory")) } }
        @if !errors.is_empty() {
            ul.problems #password-problems { @for e in errors { li { (e) } } }
        }
        form method="post" action="/password" #password-form {
            (csrf_field(caller))
            @if factory {
                label for="full_name" { (lang.t("pw.full_name")) }
                input type="text" id="full_name" name="full_name" maxlength="100" required;
                label for="person_id" { (lang.t("pw.person_id")) }
                input type="text" id="person_id" name="person_id" maxlength="100" required;
            }
            @if !forced {
                label for="current" { (lang.t("pw.current")) }
                input type="password" id="current" name="current" autocomplete="current-password" required;
            }
            label for="new_password" { (lang.t("pw.new")) }
            input type="password" id="new_password" name="new_password" autocomplete="new-password" required;
            label for="confirm" { (lang.t("pw.confirm")) }
            input type="password" id="confirm" name="confirm" autocomplete="new-password" required;
            p.muted { (lang.t(if is_admin { "pw.rules_admin" } else { "pw.rules_user" })) }
            button.primary type="submit" #password-submit { (lang.t("pw.submit")) }
        }
    };
    auth_page(lang, lang.t("pw.title"), "/password", body)
}

pub async fn password_page(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
) -> Markup {
    password_form(&ctx, &caller, &[])
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub current: String,
    pub new_password: String,
    pub confirm: String,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub person_id: Option<String>,
}

/// Change the caller's own password; on a forced change, go on to the next first-login step.
pub async fn change_own_password(
    ctx: &Arc<AdminContext>,
    caller: &Caller,
    f: PasswordForm,
) -> Result<Stage, Vec<String>> {
    let lang = caller.lang;
    let policy = ctx.policy();
    let forced = caller.stage == Stage::ChangePassword;
    let (c, user, pol) = (ctx.clone(), caller.username.clone(), policy.clone());
    let now = ctx.now();
    let result = tokio::task::spawn_blocking(move || {
        let mut accounts = lock(&c.accounts);
        if !forced {
            let ok = accounts
                .get(&user)
                .is_some_and(|a| super::super::password::verify(&f.current, &a.password_hash));
            if !ok {
                return Err(None);
            }
        }
        let takeover = f.full_name.as_deref().map(|full_name| Takeover {
            full_name,
            person_id: f.person_id.as_deref().unwrap_or(""),
        });
        let r = accounts.change_password(&user, &f.new_password, &f.confirm, takeover, &pol, now);
        match r {
            Ok(()) => {
                let next = accounts
                    .get(&user)
                    .map_or(Stage::Full, |a| a.stage_after_change(&pol));
                accounts
                    .save()
                    .map_err(|e| Some(AccountError::Internal(e.to_string())))?;
                Ok(next)
            }
            Err(e) => Err(Some(e)),
        }
    })
    .await
    .unwrap_or(Err(Some(AccountError::Internal("interrupted".into()))));
    match result {
        Ok(next) => {
            let ended = lock(&ctx.sessions).end_others_of(&caller.username, &caller.session_id);
            ctx.audit(
                &caller.username,
                &caller.source_str(),
                "account.password_change",
                Outcome::Success,
                if forced {
                    say!(
                        "forced change at login; {ended} other session(s) ended",
                        "đổi bắt buộc khi đăng nhập; đã kết thúc {ended} phiên khác"
                    )
                } else {
                    say!(
                        "changed by the owner; {ended} other session(s) ended",
                        "chủ tài khoản tự đổi; đã kết thúc {ended} phiên khác"
                    )
                },
                None,
            )
            .await;
            Ok(if forced { next } else { caller.stage })
        }
        Err(e) => {
            ctx.audit(
                &caller.username,
                &caller.source_str(),
                "account.password_change",
                Outcome::Failure,
                match e.as_ref() {
                    None => say!("wrong current password", "sai mật khẩu hiện tại"),
                    Some(weak @ AccountError::WeakPassword(_)) => edgeward_config::Text::new(
                        weak.to_string(),
                        "mật khẩu mới không đạt chính sách mật khẩu",
                    ),
                    Some(other) => say!("{other}", "không đổi được mật khẩu: {other}"),
                },
                None,
            )
            .await;
            Err(match e {
                None => vec![lang.t("pw.wrong_current").to_string()],
                Some(AccountError::WeakPassword(issues)) => issues
                    .iter()
                    .map(|i| match i {
                        super::super::password::PasswordIssue::TooShort { min } => format!(
                            "{} {} {min}.",
                            lang.t("pw.too_short"),
                            lang.t("pw.min_chars")
                        ),
                        other => lang.t(other.key()).to_string(),
                    })
                    .collect(),
                Some(AccountError::Invalid { field, .. })
                    if field == "full_name" || field == "person_id" =>
                {
                    vec![format!(
                        "{}: {}",
                        lang.t(if field == "full_name" {
                            "pw.full_name"
                        } else {
                            "pw.person_id"
                        }),
                        lang.t("err.bad_request")
                    )]
                }
                Some(AccountError::PersonHasAccount(_)) => {
                    vec![lang.t("pw.person_taken").to_string()]
                }
                Some(other) => vec![other.to_string()],
            })
        }
    }
}

pub async fn password_submit(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Form(f): Form<PasswordForm>,
) -> Response {
    match change_own_password(&ctx, &caller, f).await {
        Ok(next) if caller.stage == Stage::ChangePassword => advance(&ctx, &caller, next),
        Ok(_) => super::done("/dashboard", "pw.saved"),
        Err(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            password_form(&ctx, &caller, &errors),
        )
            .into_response(),
    }
}

fn enrol_form(ctx: &AdminContext, caller: &Caller, secret: &str, error: bool) -> Markup {
    let lang = caller.lang;
    let reenrol = lock(&ctx.accounts)
        .get(&caller.username)
        .is_some_and(|a| a.totp_secret.is_some());
    let issuer = format!("edgeward {}", ctx.host_id);
    let url = totp::otpauth_url(secret, &issuer, &caller.username).unwrap_or_default();
    let svg = totp::qr_svg(&url).unwrap_or_default();
    auth_page(
        lang,
        lang.t("totp.title"),
        "/totp/enrol",
        html! {
            p { (lang.t("totp.enrol_intro")) }
            @if error { p.flash.err #error { (lang.t("totp.wrong")) } }
            div.qr { (crate::layout::raw(svg)) }
            p.muted { (lang.t("totp.manual")) }
            p { code.secret #totp-secret { (secret) } }
            form method="post" action="/totp/enrol" #totp-form {
                (csrf_field(caller))
                @if reenrol {
                    p.flash #reenrol { (lang.t("totp.reenrol")) }
                    label for="current" { (lang.t("pw.current")) }
                    input type="password" id="current" name="current" autocomplete="current-password" required;
                    label for="current_code" { (lang.t("totp.current_code")) }
                    input type="text" id="current_code" name="current_code" inputmode="numeric" autocomplete="off" pattern="[0-9]{6}" required;
                }
                label for="code" { (lang.t("totp.code")) }
                input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required;
                button.primary type="submit" #totp-submit { (lang.t("totp.verify")) }
            }
        },
    )
}

pub async fn enrol_page(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let secret = {
        let mut sessions = lock(&ctx.sessions);
        let existing = sessions
            .active()
            .find(|s| s.id == caller.session_id)
            .and_then(|s| s.pending_totp.clone());
        match existing {
            Some(s) => s,
            None => match totp::new_secret() {
                Ok(s) => {
                    sessions.update(&caller.session_id, |x| x.pending_totp = Some(s.clone()));
                    s
                }
                Err(e) => {
                    return super::failed_page(caller.lang, StatusCode::INTERNAL_SERVER_ERROR, &e);
                }
            },
        }
    };
    enrol_form(&ctx, &caller, &secret, false).into_response()
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    pub code: String,
}

/// The enrolment form: the new secret's code, and proof of both current factors when the
/// account already has a second factor.
#[derive(Debug, Deserialize)]
pub struct EnrolForm {
    pub code: String,
    #[serde(default)]
    pub current: Option<String>,
    #[serde(default)]
    pub current_code: Option<String>,
}

pub async fn enrol_submit(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Form(f): Form<EnrolForm>,
) -> Response {
    let pending = lock(&ctx.sessions)
        .active()
        .find(|s| s.id == caller.session_id)
        .and_then(|s| s.pending_totp.clone());
    let Some(secret) = pending else {
        return Redirect::to("/totp/enrol").into_response();
    };
    let now = ctx.now();
    let policy = ctx.policy();
    let reauth = match (&f.current, &f.current_code) {
        (Some(password), Some(code)) => Some(Reauth { password, code }),
        _ => None,
    };
    let r = {
        let mut accounts = lock(&ctx.accounts);
        let r = accounts.enrol_totp(&caller.username, &secret, &f.code, reauth, &policy, now);
        // A refused re-enrolment may have counted a failure: keep it.
        if let Err(e) = accounts.save() {
            tracing::error!(error = %e, "cannot save accounts");
        }
        r
    };
    match r {
        Ok(()) => {
            lock(&ctx.sessions).end_others_of(&caller.username, &caller.session_id);
            ctx.audit(
                &caller.username,
                &caller.source_str(),
                "account.totp_enrol",
                Outcome::Success,
                say!("TOTP enrolled", "đã đăng ký xác thực hai yếu tố"),
                None,
            )
            .await;
            if caller.stage != Stage::Full {
                ctx.audit(
                    &caller.username,
                    &caller.source_str(),
                    "auth.login",
                    Outcome::Success,
                    say!(
                        "logged in (first login completed)",
                        "đã đăng nhập (hoàn tất lần đăng nhập đầu tiên)"
                    ),
                    None,
                )
                .await;
            }
            advance(&ctx, &caller, Stage::Full)
        }
        Err(e) => {
            ctx.audit(
                &caller.username,
                &caller.source_str(),
                "account.totp_enrol",
                Outcome::Failure,
                edgeward_config::Text::new(
                    e.to_string(),
                    format!("không đăng ký được xác thực hai yếu tố: `{e}`"),
                ),
                None,
            )
            .await;
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                enrol_form(&ctx, &caller, &secret, true),
            )
                .into_response()
        }
    }
}

fn verify_form(caller: &Caller, error: Option<&'static str>) -> Markup {
    let lang = caller.lang;
    auth_page(
        lang,
        lang.t("totp.title"),
        "/totp/verify",
        html! {
            p { (lang.t("totp.ask")) }
            @if let Some(e) = error { p.flash.err #error { (lang.t(e)) } }
            form method="post" action="/totp/verify" #totp-form {
                (csrf_field(caller))
                label for="code" { (lang.t("totp.code")) }
                input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" autofocus required;
                button.primary type="submit" #totp-submit { (lang.t("totp.verify")) }
            }
        },
    )
}

pub async fn verify_page(Extension(caller): Extension<Caller>) -> Response {
    if caller.stage != Stage::VerifyTotp {
        return Redirect::to(stage_path(caller.stage)).into_response();
    }
    verify_form(&caller, None).into_response()
}

pub async fn verify_submit(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Form(f): Form<CodeForm>,
) -> Response {
    if caller.stage != Stage::VerifyTotp {
        return Redirect::to(stage_path(caller.stage)).into_response();
    }
    let policy = ctx.policy();
    let now = ctx.now();
    let outcome = {
        let mut accounts = lock(&ctx.accounts);
        let o = accounts.verify_totp(&caller.username, &f.code, &policy, now);
        let _ = accounts.save();
        o
    };
    let source = caller.source_str();
    match outcome {
        Ok(LoginOutcome::Accepted(next)) => {
            let detail = match next {
                Stage::Full => say!(
                    "logged in (password + TOTP)",
                    "đã đăng nhập (mật khẩu và mã xác thực hai yếu tố)"
                ),
                _ => say!(
                    "password + TOTP accepted; the password must be changed next",
                    "mật khẩu và mã xác thực hai yếu tố đúng; tiếp theo phải đổi mật khẩu"
                ),
            };
            ctx.audit(
                &caller.username,
                &source,
                "auth.login",
                Outcome::Success,
                detail,
                None,
            )
            .await;
            advance(&ctx, &caller, next)
        }
        Ok(LoginOutcome::NowLocked | LoginOutcome::Locked) => {
            ctx.audit(
                &caller.username,
                &source,
                "auth.login",
                Outcome::Failure,
                say!("wrong TOTP code", "sai mã xác thực hai yếu tố"),
                None,
            )
            .await;
            ctx.audit(
                &caller.username,
                &source,
                "auth.lockout",
                Outcome::Success,
                say!(
                    "account locked after repeated failures",
                    "khóa tài khoản sau nhiều lần sai"
                ),
                None,
            )
            .await;
            lock(&ctx.sessions).remove(&caller.session_id);
            let pre = random_token();
            with_pre_cookie(
                &pre,
                login_form(
                    caller.lang,
                    &pre,
                    Some(caller.lang.t("login.locked")),
                    &caller.username,
                ),
                StatusCode::FORBIDDEN,
            )
        }
        _ => {
            ctx.audit(
                &caller.username,
                &source,
                "auth.login",
                Outcome::Failure,
                say!("wrong TOTP code", "sai mã xác thực hai yếu tố"),
                None,
            )
            .await;
            (
                StatusCode::UNAUTHORIZED,
                verify_form(&caller, Some("totp.wrong")),
            )
                .into_response()
        }
    }
}

pub async fn logout(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    lock(&ctx.sessions).remove(&caller.session_id);
    ctx.audit(
        &caller.username,
        &caller.source_str(),
        "auth.logout",
        Outcome::Success,
        say!("logged out", "đã đăng xuất"),
        None,
    )
    .await;
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, session_cookie(None));
    resp
}

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    pub to: String,
    #[serde(default)]
    pub back: String,
}

/// Whether `back` is a path of this UI to return to: one of the UI's own pages (not the API),
/// spelled only with characters no browser reinterprets (no `%`, `\\`, whitespace or `//`), so
/// it can never turn into another host.
pub fn safe_return_path(back: &str) -> bool {
    let (path, query) = back.split_once('?').unwrap_or((back, ""));
    let plain =
        |c: char, extra: &str| c.is_ascii_alphanumeric() || "/-_.".contains(c) || extra.contains(c);
    if !path.starts_with('/')
        || path.contains("//")
        || path.starts_with("/api/")
        || !path.chars().all(|c| plain(c, ":"))
        || !query.chars().all(|c| plain(c, "=&"))
    {
        return false;
    }
    // The UI's GET paths, taken from the route table once.
    static PAGES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        super::super::routes::specs()
            .into_iter()
            .filter(|r| r.method == axum::http::Method::GET)
            .map(|r| r.path)
            .collect()
    });
    let segments: Vec<&str> = path.split('/').collect();
    PAGES.iter().any(|page| {
        let pattern: Vec<&str> = page.split('/').collect();
        pattern.len() == segments.len()
            && pattern
                .iter()
                .zip(&segments)
                .all(|(p, s)| p == s || (p.starts_with('{') && !s.is_empty() && *s != ".."))
    })
}

/// Switch the UI language (a preference cookie) and go back where the user was.
pub async fn switch_lang(Query(q): Query<LangQuery>) -> Response {
    let lang = Lang::parse(&q.to).unwrap_or_default();
    let back = if safe_return_path(&q.back) {
        q.back.as_str()
    } else {
        "/dashboard"
    };
    let mut resp = Redirect::to(back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "ew_lang={}; Path=/; Secure; SameSite=Strict; Max-Age=31536000",
        lang.code()
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

pub async fn root() -> Redirect {
    Redirect::to("/dashboard")
}

pub async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        crate::layout::CSS,
    )
        .into_response()
}

pub async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        crate::layout::JS,
    )
        .into_response()
}
