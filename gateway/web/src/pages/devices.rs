//! The device inventory (seed 000 Phụ lục I): list, add, approve, block, remove, CSV export and
//! import. Each change rewrites the `devices` section and goes through the same validation and
//! history as any configuration change (only set members change in the firewall).

use std::sync::Arc;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use edgeward_config::{Device, DeviceStatus, DeviceType};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Msg, done};
use crate::AdminContext;
use crate::changes;
use crate::guard::Caller;
use crate::inventory::{self, enum_name, enum_value};
use crate::layout::{csrf_field, page, urlencode};
use crate::roles::Permission;

pub const TYPES: [&str; 15] = [
    "pc",
    "laptop",
    "server",
    "printer",
    "scanner",
    "camera",
    "ip-phone",
    "phone",
    "tablet",
    "switch",
    "router",
    "firewall",
    "access-point",
    "storage",
    "other",
];

fn status_key(s: DeviceStatus) -> &'static str {
    match s {
        DeviceStatus::Approved => "dev.status.approved",
        DeviceStatus::Pending => "dev.status.pending",
        DeviceStatus::Blocked => "dev.status.blocked",
    }
}

pub use crate::changes::FormChangeError as DevicesError;

/// Validate and apply a new inventory. Shared by the page and the API.
pub async fn apply_devices(
    ctx: &AdminContext,
    caller: &Caller,
    devices: &[Device],
    reason: &str,
) -> Result<u64, DevicesError> {
    changes::apply_list(ctx, caller, "devices", devices, reason).await
}

fn current_devices(ctx: &AdminContext) -> Vec<Device> {
    ctx.live
        .load()
        .config
        .as_ref()
        .map(|c| c.devices.clone())
        .unwrap_or_default()
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct DeviceForm {
    #[serde(default)]
    pub user: String,
    #[serde(default, rename = "type")]
    pub device_type: String,
    #[serde(default)]
    pub brand: String,
    #[serde(default)]
    pub serial: String,
    #[serde(default)]
    pub mac: String,
    #[serde(default)]
    pub ip: String,
    #[serde(default)]
    pub zone: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub note: String,
}

impl DeviceForm {
    /// The device, or the field that cannot be read.
    pub fn to_device(&self) -> Result<Device, (&'static str, String)> {
        let device_type: DeviceType = enum_value(&self.device_type).ok_or_else(|| {
            (
                "type",
                format!("'{}' is not a device type", self.device_type),
            )
        })?;
        let status: DeviceStatus = if self.status.is_empty() {
            DeviceStatus::Approved
        } else {
            enum_value(&self.status)
                .ok_or_else(|| ("status", format!("'{}' is not a status", self.status)))?
        };
        let ip = match self.ip.trim() {
            "" => None,
            s => Some(
                s.parse()
                    .map_err(|_| ("ip", format!("'{s}' is not an IP address")))?,
            ),
        };
        Ok(Device {
            user: self.user.trim().to_string(),
            device_type,
            brand: self.brand.trim().to_string(),
            serial: self.serial.trim().to_string(),
            mac: self.mac.trim().to_lowercase(),
            ip,
            zone: self.zone.trim().to_string(),
            status,
            internet: None,
            move_to: None,
            note: self.note.trim().to_string(),
        })
    }
}

/// Field errors of the add form: (field, message).
type FieldErrors = Vec<(String, String)>;

fn devices_page(
    ctx: &AdminContext,
    caller: &Caller,
    msg: Option<&'static str>,
    form: &DeviceForm,
    errors: &FieldErrors,
    general: Option<String>,
) -> Markup {
    let lang = caller.lang;
    let devices = current_devices(ctx);
    let zones: Vec<String> = ctx
        .live
        .load()
        .config
        .as_ref()
        .map(|c| {
            c.zones
                .iter()
                .filter(|z| z.kind.is_internal())
                .map(|z| z.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let can_edit = caller.can(Permission::ManageDevices);
    let err_for = |f: &str| -> Vec<String> {
        errors
            .iter()
            .filter(|(k, _)| k == f)
            .map(|(_, m)| m.clone())
            .collect()
    };
    let field = |name: &'static str, key: &'static str, value: &str| {
        html! {
            label { (lang.t(key))
                input type="text" name=(name) id={ "dev-" (name) } value=(value);
                @for e in err_for(name) { span.field-error id={ "err-" (name) } { (e) } }
            }
        }
    };
    let body = html! {
        p {
            a href="/devices/export.csv" #export-csv { (lang.t("dev.export")) }
            " · "
            a href="/devices/annex.csv" #export-annex { (lang.t("dev.export_annex")) }
            " · " a href="/wifi" { "Wi-Fi" }
        }
        table #devices {
            tr { th { (lang.t("dev.user")) } th { (lang.t("dev.type")) } th { (lang.t("dev.brand")) } th { (lang.t("dev.serial")) } th { (lang.t("dev.mac")) } th { (lang.t("dev.ip")) } th { (lang.t("dev.zone")) } th { (lang.t("dev.status")) } th { (lang.t("dev.note")) } @if can_edit { th {} } }
            @for d in &devices {
                tr {
                    td { (d.user) } td { (enum_name(&d.device_type)) } td { (d.brand) } td { (d.serial) } td { code { (d.mac) } }
                    td { @if let Some(ip) = d.ip { (ip) } } td { (d.zone) }
                    td { span class={ "pill " (format!("{:?}", d.status).to_lowercase()) } { (lang.t(status_key(d.status))) } }
                    td { (d.note) }
                    @if can_edit {
                        td {
                            @if d.status != DeviceStatus::Approved {
                                form.inline method="post" action={ "/devices/" (urlencode(&d.mac)) "/status" } { (csrf_field(caller)) input type="hidden" name="status" value="approved"; button type="submit" { (lang.t("dev.approve")) } }
                            }
                            @if d.status != DeviceStatus::Blocked {
                                form.inline method="post" action={ "/devices/" (urlencode(&d.mac)) "/status" } { (csrf_field(caller)) input type="hidden" name="status" value="blocked"; button.danger type="submit" { (lang.t("dev.block")) } }
                            }
                            form.inline method="post" action={ "/devices/" (urlencode(&d.mac)) "/delete" } data-confirm={ (lang.t("dev.remove")) " " (d.mac) "?" } { (csrf_field(caller)) button.danger type="submit" { (lang.t("dev.remove")) } }
                        }
                    }
                }
            }
        }
        @if can_edit {
            h2 { (lang.t("dev.add")) }
            @if let Some(g) = &general { p.flash.err #device-error { (g) } }
            form.row method="post" action="/devices" #add-device {
                (csrf_field(caller))
                (field("user", "dev.user", &form.user))
                label { (lang.t("dev.type")) select name="type" id="dev-type" { @for t in TYPES { option value=(t) selected[form.device_type == t] { (t) } } } @for e in err_for("type") { span.field-error { (e) } } }
                (field("brand", "dev.brand", &form.brand))
                (field("serial", "dev.serial", &form.serial))
                (field("mac", "dev.mac", &form.mac))
                (field("ip", "dev.ip", &form.ip))
                label { (lang.t("dev.zone")) select name="zone" id="dev-zone" { @for z in &zones { option value=(z) selected[&form.zone == z] { (z) } } } @for e in err_for("zone") { span.field-error { (e) } } }
                label { (lang.t("dev.status")) select name="status" { @for s in ["approved", "pending", "blocked"] { option value=(s) selected[form.status == s] { (s) } } } }
                (field("note", "dev.note", &form.note))
                button.primary type="submit" #add-device-submit { (lang.t("dev.add")) }
            }
            h2 { (lang.t("dev.import")) }
            p.muted { (lang.t("dev.import_hint")) }
            form method="post" action={ "/devices/import?_csrf=" (caller.csrf) } enctype="multipart/form-data" #import-csv {
                input type="file" name="file" accept=".csv,text/csv" required;
                " "
                button type="submit" { (lang.t("dev.import")) }
            }
        }
    };
    page(ctx, caller, "/devices", lang.t("dev.title"), msg, body)
}

/// The page again, with what was wrong, as an unprocessable request.
fn refused(
    ctx: &AdminContext,
    caller: &Caller,
    form: &DeviceForm,
    errors: &FieldErrors,
    general: Option<String>,
) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        devices_page(ctx, caller, None, form, errors, general),
    )
        .into_response()
}

pub async fn list(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Query(m): Query<Msg>,
) -> Markup {
    ctx.audit_view(&caller, "device inventory").await;
    devices_page(
        &ctx,
        &caller,
        m.key(),
        &DeviceForm {
            device_type: "pc".into(),
            status: "approved".into(),
            ..Default::default()
        },
        &Vec::new(),
        None,
    )
}

pub async fn add(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Form(f): Form<DeviceForm>,
) -> Response {
    let lang = caller.lang;
    let device = match f.to_device() {
        Ok(d) => d,
        Err((field, msg)) => {
            return refused(&ctx, &caller, &f, &vec![(field.to_string(), msg)], None);
        }
    };
    let mut devices = current_devices(&ctx);
    let index = devices.len();
    let reason = format!(
        "device {} ({}) added for {}",
        device.mac,
        enum_name(&device.device_type),
        device.user
    );
    devices.push(device);
    match apply_devices(&ctx, &caller, &devices, &reason).await {
        Ok(_) => done("/devices", "common.save"),
        Err(DevicesError::Invalid(r)) => refused(
            &ctx,
            &caller,
            &f,
            &super::field_problems(&r, "devices", index, lang),
            None,
        ),
        Err(DevicesError::Failed(m)) => refused(&ctx, &caller, &f, &Vec::new(), Some(m)),
    }
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    pub status: String,
}

pub async fn set_status(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(mac): Path<String>,
    Form(f): Form<StatusForm>,
) -> Response {
    let Some(status) = enum_value::<DeviceStatus>(&f.status) else {
        return (
            StatusCode::BAD_REQUEST,
            "status: approved, pending or blocked",
        )
            .into_response();
    };
    let mut devices = current_devices(&ctx);
    let Some(d) = devices
        .iter_mut()
        .find(|d| d.mac.eq_ignore_ascii_case(&mac))
    else {
        return (StatusCode::NOT_FOUND, format!("no device {mac}")).into_response();
    };
    d.status = status;
    let reason = format!("device {mac} set to {}", f.status);
    match apply_devices(&ctx, &caller, &devices, &reason).await {
        Ok(_) => done("/devices", "common.save"),
        Err(DevicesError::Invalid(r)) => refused(
            &ctx,
            &caller,
            &DeviceForm::default(),
            &Vec::new(),
            Some(
                r.problems
                    .iter()
                    .map(|p| p.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ),
        Err(DevicesError::Failed(m)) => (StatusCode::UNPROCESSABLE_ENTITY, m).into_response(),
    }
}

/// Remove a device by MAC. Shared by the page and the API.
pub async fn remove_device(
    ctx: &AdminContext,
    caller: &Caller,
    mac: &str,
) -> Result<u64, (StatusCode, String)> {
    let mut devices = current_devices(ctx);
    let before = devices.len();
    devices.retain(|d| !d.mac.eq_ignore_ascii_case(mac));
    if devices.len() == before {
        return Err((StatusCode::NOT_FOUND, format!("no device {mac}")));
    }
    apply_devices(ctx, caller, &devices, &format!("device {mac} removed"))
        .await
        .map_err(|e| match e {
            DevicesError::Invalid(r) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                r.problems
                    .iter()
                    .map(|p| format!("{}: {}", p.path, p.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            DevicesError::Failed(m) => (StatusCode::UNPROCESSABLE_ENTITY, m),
        })
}

pub async fn remove(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(mac): Path<String>,
) -> Response {
    match remove_device(&ctx, &caller, &mac).await {
        Ok(_) => done("/devices", "common.save"),
        Err((s, m)) => (s, m).into_response(),
    }
}

/// GET `/devices/annex.csv`: the inventory as seed 000 Phụ lục I's table (exactly its columns).
pub async fn export_annex(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    ctx.audit_view(&caller, "device inventory exported as Phụ lục I")
        .await;
    match inventory::export_annex(&current_devices(&ctx)) {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"phu-luc-I-{}.csv\"", ctx.host_id),
                ),
            ],
            format!("\u{feff}{csv}"),
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

pub async fn export_csv(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    ctx.audit_view(&caller, "device inventory exported as CSV")
        .await;
    match inventory::export(&current_devices(&ctx)) {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"devices-{}.csv\"", ctx.host_id),
                ),
            ],
            format!("\u{feff}{csv}"),
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

/// The first file field of a multipart form, bounded.
pub async fn first_file(mut mp: Multipart) -> Result<(String, Vec<u8>), String> {
    while let Ok(Some(field)) = mp.next_field().await {
        if field.file_name().is_some() || field.name() == Some("file") {
            let name = field.file_name().unwrap_or("upload").to_string();
            let data = field.bytes().await.map_err(|e| e.to_string())?;
            return Ok((name, data.to_vec()));
        }
    }
    Err("no file in the form".into())
}

pub async fn import_csv(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    mp: Multipart,
) -> Response {
    let (name, data) = match first_file(mp).await {
        Ok(x) => x,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    let text = String::from_utf8_lossy(&data);
    let devices = match inventory::import(&text, &current_devices(&ctx)) {
        Ok(d) => d,
        Err(problems) => {
            let msg = problems
                .iter()
                .map(|p| format!("{name}:{}: {}", p.line, p.message))
                .collect::<Vec<_>>()
                .join("; ");
            return refused(
                &ctx,
                &caller,
                &DeviceForm::default(),
                &Vec::new(),
                Some(msg),
            );
        }
    };
    match apply_devices(
        &ctx,
        &caller,
        &devices,
        &format!("inventory imported from {name} ({} devices)", devices.len()),
    )
    .await
    {
        Ok(_) => done("/devices", "common.save"),
        Err(DevicesError::Invalid(r)) => {
            let msg = r
                .problems
                .iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect::<Vec<_>>()
                .join("; ");
            refused(
                &ctx,
                &caller,
                &DeviceForm::default(),
                &Vec::new(),
                Some(msg),
            )
        }
        Err(DevicesError::Failed(m)) => {
            refused(&ctx, &caller, &DeviceForm::default(), &Vec::new(), Some(m))
        }
    }
}
