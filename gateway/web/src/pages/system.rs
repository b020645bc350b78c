//! System: the HTTPS certificate (view, replace by upload), time synchronisation, software
//! version, open sessions, and encrypted configuration backup export and restore.

use edgeward_config::say;
use edgeward_event::Outcome;
use std::sync::Arc;

use axum::extract::{Multipart, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Msg, done};
use crate::backup;
use crate::guard::Caller;
use crate::layout::{csrf_field, page};
use crate::roles::Permission;
use crate::{AdminContext, ApplyOutcome, lock};

fn system_page(
    ctx: &AdminContext,
    caller: &Caller,
    msg: Option<&'static str>,
    error: Option<String>,
) -> Markup {
    let lang = caller.lang;
    let cert = ctx.certs.info().ok();
    let sessions = lock(&ctx.sessions).active().count();
    let body = html! {
        @if let Some(e) = &error { p.flash.err #system-error { (crate::i18n::prose(lang, e)) } }
        table {
            tr { th { (lang.t("sys.version")) } td { "edgeward " (env!("CARGO_PKG_VERSION")) } }
            tr { th { (lang.t("sys.host")) } td { (ctx.host_id) } }
            tr { th { (lang.t("sys.time_now")) } td #clock { (ctx.now().format("%Y-%m-%d %H:%M:%S")) } }
            tr { th { (lang.t("sys.ntp")) } td #ntp-state { (crate::i18n::prose(lang, &crate::sysinfo::ntp_state(&ctx.state_dir, lang))) } }
            tr { th { (lang.t("sys.sessions")) } td { (sessions) } }
        }
        h2 { (lang.t("sys.cert")) }
        @if let Some(c) = &cert {
            table #certificate {
                tr { th { (lang.t("cert.subject")) } td { code { (c.subject) } @if c.self_signed { br; span.muted { (lang.t("sys.self_signed")) } } } }
                tr { th { (lang.t("cert.issuer")) } td { code { (c.issuer) } } }
                tr { th { (lang.t("cert.valid")) } td { (c.not_before) " → " (c.not_after) } }
                tr { th { (lang.t("cert.names")) } td { (c.names.join(", ")) } }
                tr { th { "SHA-256" } td { code { (c.sha256) } } }
            }
        }
        @if caller.can(Permission::ManageCertificates) {
            form.stack method="post" action={ "/system/certificate?_csrf=" (caller.csrf) } enctype="multipart/form-data" #cert-form {
                label { (lang.t("sys.cert_file")) } input type="file" name="cert" required;
                label { (lang.t("sys.key_file")) } input type="file" name="key" required;
                p { button.primary type="submit" { (lang.t("sys.cert_upload")) } }
            }
        }
        (update_section(ctx, caller))
        @if caller.can(Permission::ManageBackups) {
            h2 { (lang.t("sys.backup")) }
            form.stack method="post" action="/system/backup/export" #backup-export {
                (csrf_field(caller))
                label for="passphrase" { (lang.t("sys.backup_pass")) }
                input type="password" id="passphrase" name="passphrase" minlength="12" required;
                p { button.primary type="submit" { (lang.t("sys.backup_export")) } }
            }
            form.stack method="post" action={ "/system/backup/import?_csrf=" (caller.csrf) } enctype="multipart/form-data" #backup-import {
                label { (lang.t("sys.backup_file")) } input type="file" name="file" required;
                label { (lang.t("sys.backup_pass")) } input type="password" name="passphrase" required;
                label { (lang.t("cfg.reason")) } input type="text" name="reason" required;
                p { button type="submit" { (lang.t("sys.backup_import")) } }
            }
        }
    };
    page(ctx, caller, "/system", lang.t("sys.title"), msg, body)
}

/// Versions and slots, the installer's progress, the upload form, the latest update records.
fn update_section(ctx: &AdminContext, caller: &Caller) -> Markup {
    let lang = caller.lang;
    let view = crate::update::view(&ctx.update);
    let state = |s: &str| match s {
        "good" => lang.t("sys.update_good"),
        "trying" => lang.t("sys.update_trying"),
        _ => lang.t("sys.update_bad"),
    };
    html! {
        h2 { (lang.t("sys.update")) }
        p.muted { (lang.t("sys.update_intro")) }
        table #update-status {
            tr { th { (lang.t("sys.update_running")) } td #update-running {
                (view.status.running_version.as_deref().unwrap_or("—"))
            } }
            tr { th { (lang.t("sys.update_slot")) } td #update-slot {
                @if let Some(slot) = view.status.running_slot { (slot.label()) }
                @else { span.muted { (view.status.problem.as_deref().unwrap_or("—")) } }
            } }
        }
        @if !view.status.entries.is_empty() {
            h3 { (lang.t("sys.update_entries")) }
            table #update-entries {
                tr { th { (lang.t("sys.update_running")) } th { (lang.t("sys.update_slot")) } th { (lang.t("sys.update_state")) } th { (lang.t("sys.update_next")) } }
                @for e in &view.status.entries {
                    tr { td { (e.version) } td { (e.slot.label()) } td { (state(e.state)) } td { @if e.default { "✓" } } }
                }
            }
        }
        @if let Some(p) = &view.progress {
            p #update-progress { (lang.t("sys.update_installing")) ": " (lang.lookup(&format!("update_phase.{}", p.phase)).unwrap_or(&p.phase)) " — " (p.done * 100 / p.total.max(1)) " %" }
        }
        @if caller.can(Permission::ManageSystem) {
            form.stack method="post" action={ "/system/update?_csrf=" (caller.csrf) } enctype="multipart/form-data" #update-form {
                label { (lang.t("sys.update_file")) } input type="file" name="bundle" accept=".ewu" required;
                p { button.primary type="submit" { (lang.t("sys.update_upload")) } }
            }
        }
        @if !view.recent.is_empty() {
            h3 { (lang.t("sys.update_history")) }
            table #update-history {
                @for r in &view.recent {
                    tr {
                        td { (r.at.format("%Y-%m-%d %H:%M:%S")) }
                        td { (lang.lookup(&format!("update_action.{}", r.action)).unwrap_or(&r.action)) }
                        td { (r.version.as_deref().unwrap_or("")) }
                        td { (r.by) }
                        td {
                            @if let Some(why) = lang.lookup(&format!("update_code.{}", r.code)) { (why) ": " }
                            @if !r.reason.is_empty() { code { (r.reason) } }
                        }
                    }
                }
            }
        }
    }
}

/// The page's upload form: queue the bundle for the installer or say why it was refused.
pub async fn update_upload(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    mp: Multipart,
) -> Response {
    match crate::update::upload(&ctx, &caller, mp).await {
        Ok(_) => done("/system", "sys.update_queued"),
        Err(e) => {
            let code = match &e {
                crate::update::UploadError::Refused(r) => r.code(),
                _ => "request",
            };
            let why = caller
                .lang
                .lookup(&format!("update_code.{code}"))
                .unwrap_or("");
            let message = format!(
                "{}: {why} `{}`",
                caller.lang.t("sys.update_refused"),
                e.to_string().replace('`', "'")
            );
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                system_page(&ctx, &caller, None, Some(message)),
            )
                .into_response()
        }
    }
}

pub async fn show(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Query(m): Query<Msg>,
) -> Markup {
    system_page(&ctx, &caller, m.key(), None)
}

/// Collect the named parts of a multipart form (bounded by the router's body limit).
async fn parts(mut mp: Multipart) -> Result<std::collections::HashMap<String, Vec<u8>>, String> {
    let mut out = std::collections::HashMap::new();
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                let data = field.bytes().await.map_err(|e| e.to_string())?;
                out.insert(name, data.to_vec());
            }
            Ok(None) => return Ok(out),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Replace the serving certificate. Shared by the page and the API.
pub async fn replace_certificate(
    ctx: &AdminContext,
    caller: &Caller,
    cert: &[u8],
    key: &[u8],
) -> Result<crate::tls::CertInfo, String> {
    let r = ctx.certs.replace(cert, key).map_err(|e| e.to_string());
    let detail = match &r {
        Ok(i) => say!(
            "HTTPS certificate replaced: {} (sha256 {})",
            "đã thay chứng thư số HTTPS: {} (sha256 {})",
            i.subject,
            i.sha256
        ),
        Err(e) => say!("certificate refused: {e}", "chứng thư số bị từ chối: `{e}`"),
    };
    ctx.audit(
        &caller.username,
        &caller.source_str(),
        "system.certificate",
        Outcome::of(r.is_ok()),
        detail,
        None,
    )
    .await;
    r
}

pub async fn upload_certificate(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    mp: Multipart,
) -> Response {
    let p = match parts(mp).await {
        Ok(p) => p,
        Err(e) => return super::failed_page(caller.lang, StatusCode::BAD_REQUEST, &e),
    };
    let (Some(cert), Some(key)) = (p.get("cert"), p.get("key")) else {
        return super::refused_page(
            caller.lang,
            StatusCode::BAD_REQUEST,
            &edgeward_config::say!(
                "fields 'cert' and 'key' are required",
                "cần chọn cả tệp chứng thư số và tệp khóa"
            ),
        );
    };
    match replace_certificate(&ctx, &caller, cert, key).await {
        Ok(_) => done("/system", "sys.cert_replaced"),
        Err(e) => {
            let message = format!(
                "{}: `{}`",
                caller.lang.t("sys.cert_refused"),
                e.replace('`', "'")
            );
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                system_page(&ctx, &caller, None, Some(message)),
            )
                .into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ExportForm {
    pub passphrase: String,
}

/// The running configuration as an encrypted backup file. Shared by the page and the API.
pub async fn export_backup(
    ctx: &AdminContext,
    caller: &Caller,
    passphrase: &str,
) -> Result<(String, String), (StatusCode, String)> {
    let live = ctx.live.load();
    // A backup carries secrets only for a role that may see them (the passphrase of the
    // backup is the exporter's, so it would be a way around the redaction otherwise).
    let secrets_included = caller.can(Permission::ManageWifi);
    let contents = backup::Contents {
        host_id: ctx.host_id.clone(),
        version: live.version,
        created_at: ctx.now(),
        created_by: caller.username.clone(),
        config: caller.shown(&live.text),
        secrets_included,
    };
    let pass = passphrase.to_string();
    let sealed = tokio::task::spawn_blocking(move || backup::seal(&contents, &pass))
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| {
            let vi = match e {
                backup::BackupError::WeakPassphrase => format!(
                    "mật khẩu bảo vệ bản sao lưu phải có ít nhất {} ký tự",
                    backup::MIN_PASSPHRASE
                ),
                _ => format!("không tạo được bản sao lưu: `{e}`"),
            };
            let text = edgeward_config::Text::new(e.to_string(), vi);
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                text.get(caller.lang.cfg()).to_string(),
            )
        })?;
    ctx.audit(
        &caller.username,
        &caller.source_str(),
        "system.backup_export",
        Outcome::Success,
        if secrets_included {
            say!(
                "encrypted backup of v{}",
                "sao lưu mã hóa phiên bản {}",
                live.version
            )
        } else {
            say!(
                "encrypted backup of v{} (Wi-Fi passphrases left out: the role may not see them)",
                "sao lưu mã hóa phiên bản {} (không gồm mật khẩu Wi-Fi: vai trò này không được xem)",
                live.version
            )
        },
        None,
    )
    .await;
    let name = format!(
        "edgeward-{}-v{}-{}.ewbackup",
        ctx.host_id,
        live.version,
        ctx.now().format("%Y%m%d")
    );
    Ok((name, sealed))
}

pub async fn backup_export(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Form(f): Form<ExportForm>,
) -> Response {
    match export_backup(&ctx, &caller, &f.passphrase).await {
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
        Err((s, m)) => (s, system_page(&ctx, &caller, None, Some(m))).into_response(),
    }
}

pub async fn backup_import(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    mp: Multipart,
) -> Response {
    let lang = caller.lang;
    let p = match parts(mp).await {
        Ok(p) => p,
        Err(e) => return super::failed_page(caller.lang, StatusCode::BAD_REQUEST, &e),
    };
    let text = |k: &str| {
        p.get(k)
            .map(|v| String::from_utf8_lossy(v).to_string())
            .unwrap_or_default()
    };
    let (file, pass, reason) = (
        p.get("file").cloned().unwrap_or_default(),
        text("passphrase"),
        text("reason"),
    );
    let opened = tokio::task::spawn_blocking(move || backup::open(&file, &pass)).await;
    let Ok(Ok(contents)) = opened else {
        ctx.audit(
            &caller.username,
            &caller.source_str(),
            "system.backup_import",
            Outcome::Failure,
            say!("backup could not be opened", "không mở được bản sao lưu"),
            None,
        )
        .await;
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            system_page(&ctx, &caller, None, Some(lang.t("sys.backup_bad").into())),
        )
            .into_response();
    };
    // The restored text is a change like any other: secrets left out come back from what runs,
    // and the caller's role must own every section it changes.
    let candidate = crate::changes::with_running_secrets(&ctx, &contents.config);
    let live = ctx.live.load_full();
    let (running, base) = (live.text.clone(), live.version);
    let report = crate::changes::check(&running, &candidate, caller.role, None);
    if !report.forbidden_sections.is_empty() {
        crate::changes::audit_forbidden(
            &ctx,
            &caller,
            "system.backup_import",
            &report.forbidden_sections,
        )
        .await;
        return (
            StatusCode::FORBIDDEN,
            system_page(
                &ctx,
                &caller,
                None,
                Some(format!(
                    "{} {}",
                    lang.t("cfg.forbidden_sections"),
                    report.forbidden_sections.join(", ")
                )),
            ),
        )
            .into_response();
    }
    if let Err(problems) = edgeward_config::parse(&candidate, "backup", edgeward_config::today()) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            system_page(
                &ctx,
                &caller,
                None,
                Some(
                    problems
                        .problems
                        .iter()
                        .map(|p| format!("`{}`: {}", p.path, p.message_in(caller.lang.cfg())))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            ),
        )
            .into_response();
    }
    let reason = if reason.trim().is_empty() {
        format!(
            "restore of backup v{} from {}",
            contents.version, contents.host_id
        )
    } else {
        reason
    };
    ctx.audit(
        &caller.username,
        &caller.source_str(),
        "system.backup_import",
        Outcome::Success,
        say!(
            "backup v{} of {} made {} by {}",
            "bản sao lưu phiên bản {} của {} tạo lúc {} bởi {}",
            contents.version,
            contents.host_id,
            contents.created_at.format("%Y-%m-%d %H:%M"),
            contents.created_by
        ),
        None,
    )
    .await;
    match crate::changes::submit(
        &ctx,
        &caller.username,
        &candidate,
        &reason,
        None,
        true,
        base,
    )
    .await
    {
        Ok(ApplyOutcome::Applied { .. }) => done("/config", "cfg.applied"),
        other => (
            StatusCode::UNPROCESSABLE_ENTITY,
            system_page(
                &ctx,
                &caller,
                None,
                super::config::outcome_message(lang, &other),
            ),
        )
            .into_response(),
    }
}
