//! Accounts (system administrators only): list with status, create for a named person, unlock
//! (never one's own), reset password and TOTP, change role, disable/enable. Every change is an
//! audit event and ends the account's open sessions where it changes what they may do.

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
use crate::accounts::{AccountError, AccountRequest, NewAccount};
use crate::guard::Caller;
use crate::layout::{csrf_field, page, role_key};
use crate::roles::Role;
use crate::{AdminContext, lock};

fn status_key(s: crate::accounts::Status) -> &'static str {
    use crate::accounts::Status::{Active, Disabled, Locked, PasswordExpired, Suspended};
    match s {
        Active => "acc.status.active",
        Locked => "acc.status.locked",
        Suspended => "acc.status.suspended",
        Disabled => "acc.status.disabled",
        PasswordExpired => "acc.status.password_expired",
    }
}

fn accounts_page(
    ctx: &AdminContext,
    caller: &Caller,
    msg: Option<&'static str>,
    error: Option<String>,
) -> Markup {
    let lang = caller.lang;
    let policy = ctx.policy();
    let now = ctx.now();
    let list: Vec<_> = lock(&ctx.accounts)
        .list()
        .map(|a| a.summary(&policy, now))
        .collect();
    let body = html! {
        p.muted { (lang.t("acc.one_person")) }
        @if let Some(e) = &error { p.flash.err #account-error { (crate::i18n::prose(lang, e)) } }
        table #accounts {
            tr { th { (lang.t("acc.username")) } th { (lang.t("acc.full_name")) } th { (lang.t("acc.role")) } th { (lang.t("acc.status")) } th { (lang.t("acc.totp")) } th { (lang.t("acc.expires")) } th { (lang.t("acc.last_active")) } th {} }
            @for a in &list {
                @let status = format!("{:?}", a.status).to_lowercase();
                tr id={ "account-" (a.username) } {
                    td { strong { (a.username) } } td { (a.full_name) br; span.muted { (a.person_id) } @if !a.department.is_empty() { br; span.muted.request { (a.department) " · " (lang.t("acc.approved_by")) " " (a.approved_by) } } @if let Some(e) = a.expires_at { br; span.muted.expires { (lang.t("acc.ends")) " " (e.format("%Y-%m-%d")) } } }
                    td { (lang.t(role_key(a.role))) }
                    td { span class={ "pill " (status) } { (lang.t(status_key(a.status))) } }
                    td { (if a.totp_enrolled { lang.t("common.yes") } else { lang.t("common.no") }) }
                    td { @if let Some(e) = a.password_expires_at { (e.format("%Y-%m-%d")) } }
                    td { @if let Some(l) = a.last_active { (l.format("%Y-%m-%d %H:%M")) } @else { (lang.t("common.never")) } }
                    td {
                        @if a.username != caller.username {
                            @if matches!(a.status, crate::accounts::Status::Locked | crate::accounts::Status::Suspended) {
                                form.inline method="post" action={ "/accounts/" (a.username) "/unlock" } { (csrf_field(caller)) button.primary type="submit" id={ "unlock-" (a.username) } { (lang.t("acc.unlock")) } }
                            }
                            form.inline method="post" action={ "/accounts/" (a.username) "/role" } {
                                (csrf_field(caller))
                                select name="role" { @for r in Role::ALL { option value=(r.as_str()) selected[r == a.role] { (lang.t(role_key(r))) } } }
                                button type="submit" { (lang.t("acc.set_role")) }
                            }
                            form.inline method="post" action={ "/accounts/" (a.username) "/reset" } {
                                (csrf_field(caller))
                                input type="password" name="password" placeholder=(lang.t("acc.temp_short")) required;
                                button type="submit" { (lang.t("acc.reset")) }
                            }
                            @let disable = a.status != crate::accounts::Status::Disabled;
                            form.inline method="post" action={ "/accounts/" (a.username) "/" (if disable { "disable" } else { "enable" }) } {
                                (csrf_field(caller))
                                button.danger[disable] type="submit" { (lang.t(if disable { "acc.disable" } else { "acc.enable" })) }
                            }
                        }
                    }
                }
            }
        }
        h2 { (lang.t("acc.create")) }
        form.stack method="post" action="/accounts" #create-account {
            (csrf_field(caller))
            label for="username" { (lang.t("acc.username")) } input type="text" id="username" name="username" required;
            label for="full_name" { (lang.t("acc.full_name")) } input type="text" id="full_name" name="full_name" required;
            label for="person_id" { (lang.t("acc.person_id")) } input type="text" id="person_id" name="person_id" required;
            label for="role" { (lang.t("acc.role")) }
            select id="role" name="role" { @for r in Role::ALL { option value=(r.as_str()) { (lang.t(role_key(r))) } } }
            label for="password" { (lang.t("acc.temp_password")) } input type="password" id="password" name="password" required;
            fieldset #account-request {
                legend { (lang.t("acc.request")) }
                p.muted { (lang.t("acc.request_hint")) }
                label for="citizen_id" { (lang.t("acc.citizen_id")) } input type="text" id="citizen_id" name="citizen_id" inputmode="numeric" maxlength="12";
                label for="phone" { (lang.t("acc.phone")) } input type="tel" id="phone" name="phone" maxlength="20";
                label for="department" { (lang.t("acc.department")) } input type="text" id="department" name="department" maxlength="200";
                label for="purpose" { (lang.t("acc.purpose")) } input type="text" id="purpose" name="purpose" maxlength="200";
                label for="scope" { (lang.t("acc.scope")) } input type="text" id="scope" name="scope" maxlength="200";
                label for="expires_on" { (lang.t("acc.expires_on")) } input type="date" id="expires_on" name="expires_on";
            }
            p { button.primary type="submit" #create-account-submit { (lang.t("acc.create")) } }
        }
    };
    page(ctx, caller, "/accounts", lang.t("acc.title"), msg, body)
}

pub async fn list(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Query(m): Query<Msg>,
) -> Markup {
    accounts_page(&ctx, &caller, m.key(), None)
}

/// The account store's reasons (edgeward-admin) in Vietnamese; `{}` stands for a value.
const REASONS_VI: &[(&str, &str)] = &[
    ("at most 200 characters", "tối đa 200 ký tự"),
    (
        "a citizen ID has 12 digits (CCCD) or 9 (CMND)",
        "số định danh có 12 chữ số (CCCD) hoặc 9 chữ số (CMND)",
    ),
    (
        "a phone number has at least 9 digits",
        "số điện thoại có ít nhất 9 chữ số",
    ),
    (
        "an administrator account records who asked for it, why and for what (000 §9.1.g)",
        "tài khoản quản trị phải ghi rõ ai đề nghị, để làm gì và phạm vi nào (000 §9.1.g)",
    ),
    ("no TOTP enrolled", "chưa đăng ký xác thực hai yếu tố"),
    (
        "a second factor is enrolled: replacing it needs the current password and a current code",
        "đã có xác thực hai yếu tố: muốn thay phải nhập mật khẩu hiện tại và mã hiện tại",
    ),
    (
        "wrong current password or code",
        "sai mật khẩu hiện tại hoặc sai mã",
    ),
    ("wrong code", "sai mã"),
    (
        "the person who takes over the factory account must be named",
        "phải ghi tên người nhận bàn giao tài khoản xuất xưởng",
    ),
    (
        "the person who takes over the factory account must be named (3–100 characters)",
        "phải ghi tên người nhận bàn giao tài khoản xuất xưởng (3–100 ký tự)",
    ),
    (
        "an e-mail or staff number that identifies the person is required (3–100 characters)",
        "cần thư điện tử hoặc mã cán bộ xác định người dùng (3–100 ký tự)",
    ),
    (
        "the account would be over before it starts",
        "ngày hết hạn đứng trước ngày bắt đầu",
    ),
    (
        "2–32 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter",
        "2–32 ký tự: chữ thường, chữ số, `.`, `_` hoặc `-`, bắt đầu bằng một chữ cái",
    ),
    (
        "'{}' names no one: accounts are personal (one account per person)",
        "`{}` không phải tên một người: tài khoản là của từng cá nhân (mỗi người một tài khoản)",
    ),
    (
        "the person's full name is required (3–100 characters)",
        "cần họ tên đầy đủ của người dùng (3–100 ký tự)",
    ),
    (
        "an account cannot unlock itself: another administrator must (003 §16.2)",
        "tài khoản không tự mở khóa được: phải do quản trị viên khác mở (003 §16.2)",
    ),
    (
        "use “change password” for your own account",
        "với tài khoản của chính mình, hãy dùng “Đổi mật khẩu”",
    ),
    (
        "you cannot change your own role",
        "bạn không thể tự đổi vai trò của mình",
    ),
    (
        "you cannot disable your own account",
        "bạn không thể tự vô hiệu hóa tài khoản của mình",
    ),
    (
        "at least one enabled system administrator must remain",
        "phải còn ít nhất một quản trị hệ thống đang hoạt động",
    ),
];

/// A reason from the account store in `lang`: English as it is, Vietnamese from the table
/// (with the one value of a `{}` pattern kept), or quoted as it came if it is not there.
fn reason_in(lang: crate::i18n::Lang, reason: &str) -> String {
    if lang == crate::i18n::Lang::En {
        return reason.to_string();
    }
    for (en, vi) in REASONS_VI {
        if *en == reason {
            return (*vi).to_string();
        }
        if let Some((head, tail)) = en.split_once("{}")
            && let Some(value) = reason.strip_prefix(head).and_then(|r| r.strip_suffix(tail))
        {
            return vi.replace("{}", value);
        }
    }
    format!("`{reason}`")
}

/// Describe an account error in the caller's language.
pub fn explain(lang: crate::i18n::Lang, e: &AccountError) -> String {
    let vi = lang == crate::i18n::Lang::Vi;
    match e {
        AccountError::WeakPassword(issues) => issues
            .iter()
            .map(|i| lang.t(i.key()))
            .collect::<Vec<_>>()
            .join(" "),
        AccountError::Invalid { field, reason } => {
            let label = lang
                .lookup(&format!("acc.{field}"))
                .map_or_else(|| format!("`{field}`"), str::to_string);
            if vi {
                format!("{label}: {}", reason_in(lang, reason))
            } else {
                format!("invalid {field}: {reason}")
            }
        }
        AccountError::Refused(reason) if vi => reason_in(lang, reason),
        AccountError::NoSuchAccount(name) if vi => format!("không có tài khoản `{name}`"),
        AccountError::Exists(name) if vi => format!("tài khoản `{name}` đã tồn tại"),
        AccountError::PersonHasAccount(who) if vi => {
            format!("{who} đã có tài khoản (mỗi người một tài khoản)")
        }
        AccountError::File { .. } | AccountError::Internal(_) if vi => {
            format!("lỗi hệ thống khi lưu tài khoản: `{e}`")
        }
        other => other.to_string(),
    }
}

/// Run an account change as `caller`, save, audit; shared by the page and the API.
pub async fn change(
    ctx: &Arc<AdminContext>,
    caller: &Caller,
    action: &str,
    target: &str,
    f: impl FnOnce(&mut crate::accounts::AccountStore) -> Result<(), AccountError> + Send + 'static,
    end_sessions: bool,
) -> Result<(), AccountError> {
    let c = ctx.clone();
    let r = tokio::task::spawn_blocking(move || {
        let mut store = lock(&c.accounts);
        match f(&mut store) {
            Ok(()) => store.save(),
            Err(e) => Err(e),
        }
    })
    .await
    .unwrap_or_else(|_| Err(AccountError::Internal("interrupted".into())));
    let outcome = Outcome::of(r.is_ok());
    let verb = match action {
        "create" => "tạo tài khoản",
        "unlock" => "mở khóa tài khoản",
        "reset" => "đặt lại mật khẩu của",
        "role" => "đổi vai trò của",
        "disable" => "vô hiệu hóa tài khoản",
        "enable" => "kích hoạt lại tài khoản",
        _ => action,
    };
    let detail = match &r {
        Ok(()) => say!("{action} {target}", "{verb} {target}"),
        Err(e) => edgeward_config::Text::new(
            format!("{action} {target}: {e}"),
            format!(
                "{verb} {target}: không thực hiện được ({})",
                explain(crate::i18n::Lang::Vi, e)
            ),
        ),
    };
    ctx.audit(
        &caller.username,
        &caller.source_str(),
        &format!("account.{action}"),
        outcome,
        detail,
        None,
    )
    .await;
    if r.is_ok() && end_sessions {
        lock(&ctx.sessions).end_all_of(target);
    }
    r
}

fn respond(ctx: &AdminContext, caller: &Caller, r: Result<(), AccountError>) -> Response {
    match r {
        Ok(()) => done("/accounts", "acc.done"),
        Err(e) => {
            let status = match e {
                AccountError::NoSuchAccount(_) => StatusCode::NOT_FOUND,
                AccountError::Refused(_) => StatusCode::FORBIDDEN,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            (
                status,
                accounts_page(ctx, caller, None, Some(explain(caller.lang, &e))),
            )
                .into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    pub username: String,
    pub full_name: String,
    pub person_id: String,
    pub role: String,
    pub password: String,
    /// Who asked for the account and why (`approved_by` is set from the caller, not the form).
    #[serde(flatten)]
    pub request: AccountRequest,
    /// `YYYY-MM-DD`, empty for an account without an end.
    #[serde(default)]
    pub expires_on: String,
}

pub async fn create(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Form(f): Form<CreateForm>,
) -> Response {
    let Some(role) = Role::parse(&f.role) else {
        return super::refused_page(
            caller.lang,
            StatusCode::BAD_REQUEST,
            &edgeward_config::say!(
                "role: viewer, operator, security_admin or system_admin",
                "vai trò không hợp lệ: chọn Người xem, Vận hành viên, Quản trị an toàn thông tin hoặc Quản trị hệ thống"
            ),
        );
    };
    let expires_on = match f.expires_on.trim() {
        "" => None,
        d => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                return respond(
                    &ctx,
                    &caller,
                    Err(AccountError::Invalid {
                        field: "expires_on",
                        reason: "a date as YYYY-MM-DD".into(),
                    }),
                );
            }
        },
    };
    let new = NewAccount {
        username: f.username.trim().to_string(),
        full_name: f.full_name,
        person_id: f.person_id,
        role,
        password: f.password,
        request: f.request,
        expires_on,
    };
    let approver = caller.username.clone();
    let (policy, now, target) = (ctx.policy(), ctx.now(), new.username.clone());
    let r = change(
        &ctx,
        &caller,
        "create",
        &target,
        move |s| s.create(&new, &approver, &policy, now),
        false,
    )
    .await;
    respond(&ctx, &caller, r)
}

pub async fn unlock(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
) -> Response {
    let (actor, now, u) = (caller.username.clone(), ctx.now(), user.clone());
    let r = change(
        &ctx,
        &caller,
        "unlock",
        &user,
        move |s| s.unlock(&actor, &u, now),
        false,
    )
    .await;
    respond(&ctx, &caller, r)
}

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    pub password: String,
}

pub async fn reset(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
    Form(f): Form<ResetForm>,
) -> Response {
    let (actor, now, u, policy) = (
        caller.username.clone(),
        ctx.now(),
        user.clone(),
        ctx.policy(),
    );
    let r = change(
        &ctx,
        &caller,
        "reset",
        &user,
        move |s| s.reset(&actor, &u, &f.password, &policy, now),
        true,
    )
    .await;
    respond(&ctx, &caller, r)
}

#[derive(Debug, Deserialize)]
pub struct RoleForm {
    pub role: String,
}

pub async fn set_role(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
    Form(f): Form<RoleForm>,
) -> Response {
    let Some(role) = Role::parse(&f.role) else {
        return super::refused_page(
            caller.lang,
            StatusCode::BAD_REQUEST,
            &edgeward_config::say!(
                "role: viewer, operator, security_admin or system_admin",
                "vai trò không hợp lệ: chọn Người xem, Vận hành viên, Quản trị an toàn thông tin hoặc Quản trị hệ thống"
            ),
        );
    };
    let (actor, u) = (caller.username.clone(), user.clone());
    let r = change(
        &ctx,
        &caller,
        "role",
        &format!("{user} → {}", role.as_str()),
        move |s| s.set_role(&actor, &u, role),
        false,
    )
    .await;
    if r.is_ok() {
        lock(&ctx.sessions).end_all_of(&user);
    }
    respond(&ctx, &caller, r)
}

async fn set_disabled(
    ctx: Arc<AdminContext>,
    caller: Caller,
    user: String,
    disabled: bool,
) -> Response {
    let (actor, u) = (caller.username.clone(), user.clone());
    let action = if disabled { "disable" } else { "enable" };
    let r = change(
        &ctx,
        &caller,
        action,
        &user,
        move |s| s.set_disabled(&actor, &u, disabled),
        disabled,
    )
    .await;
    respond(&ctx, &caller, r)
}

pub async fn disable(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
) -> Response {
    set_disabled(ctx, caller, user, true).await
}

pub async fn enable(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
) -> Response {
    set_disabled(ctx, caller, user, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_create_form_carries_the_request() {
        let f: CreateForm = serde_urlencoded::from_str(
            "username=minh&full_name=L%C3%AA+Minh&person_id=m%40so.gov.vn&role=security_admin&password=x\
             &citizen_id=001090012345&phone=0912345678&department=CNTT&purpose=p&scope=s&expires_on=",
        )
        .unwrap();
        assert_eq!(f.request.citizen_id, "001090012345");
        assert_eq!(f.request.scope, "s");
        assert_eq!(f.full_name, "Lê Minh");
    }
}
