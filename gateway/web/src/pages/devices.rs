//! The device inventory (seed 000 Phụ lục I): list, add, approve, block, remove, CSV export and
//! import. Each change rewrites the `devices` section and goes through the same validation and
//! history as any configuration change (only set members change in the firewall).

use edgeward_config::say;
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
use crate::i18n::{plain, prose, show};
use crate::inventory::{self, enum_name, enum_value};
use crate::layout::{csrf_field, page, urlencode};
use crate::roles::Permission;
use edgeward_config::history::reason_text;

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

/// The inventory and the machines waiting for a decision: what the dashboard, the devices page
/// and the status API all count.
pub struct DeviceOverview {
    pub devices: Vec<Device>,
    pub waiting: Vec<edgeward_nac::seen::SeenDevice>,
}

impl DeviceOverview {
    pub fn load(ctx: &AdminContext) -> Self {
        let devices = current_devices(ctx);
        let (seen, leases) = edgeward_nac::pending::load(&ctx.state_dir);
        let waiting = edgeward_nac::pending::waiting(&seen, &leases, &devices);
        Self { devices, waiting }
    }

    /// Inventoried devices moved to quarantine, with their reasons.
    pub fn quarantined(&self) -> Vec<&Device> {
        self.devices
            .iter()
            .filter(|d| d.move_to.is_some())
            .collect()
    }
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
    /// `on` when the device is personal (004 §9.3).
    #[serde(default)]
    pub personal: String,
    #[serde(default)]
    pub head_of_unit: String,
    /// The attested checks, one checkbox each (`on`).
    #[serde(default)]
    pub chk_antivirus: String,
    #[serde(default)]
    pub chk_os_updates: String,
    #[serde(default)]
    pub chk_licensed_software: String,
    #[serde(default)]
    pub chk_screen_lock: String,
}

impl DeviceForm {
    /// The checks ticked, by their configuration names.
    pub fn checklist(&self) -> Vec<String> {
        [
            (&self.chk_antivirus, "antivirus"),
            (&self.chk_os_updates, "os-updates"),
            (&self.chk_licensed_software, "licensed-software"),
            (&self.chk_screen_lock, "screen-lock"),
        ]
        .into_iter()
        .filter(|(v, _)| !v.is_empty())
        .map(|(_, n)| n.to_string())
        .collect()
    }

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
            quarantine_reason: String::new(),
            note: self.note.trim().to_string(),
            personal: !self.personal.is_empty(),
            approved_by: String::new(),
            head_of_unit: self.head_of_unit.trim().to_string(),
            checklist: self.checklist(),
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
    let DeviceOverview { devices, waiting } = DeviceOverview::load(ctx);
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
                @for e in err_for(name) { span.field-error id={ "err-" (name) } { (prose(lang, &e)) } }
            }
        }
    };
    let port = port_of(ctx);
    let where_label = |mac: &str| -> Markup {
        match port(mac) {
            Some((p, true)) => html! { br; small.port { (lang.t("dev.port_bridged")) " " (p) } },
            Some((p, false)) => {
                html! { br; small.port { (lang.t("dev.port_switch")) " (" (p) ")" } }
            }
            None => html! {},
        }
    };
    let body = html! {
        p {
            a href="/devices/export.csv" #export-csv { (lang.t("dev.export")) }
            " · "
            a href="/devices/annex.csv" #export-annex { (lang.t("dev.export_annex")) }
            " · "
            a href="/devices/annex.xlsx" #export-xlsx { (lang.t("dev.export_xlsx")) }
            " · " a href="/wifi" { "Wi-Fi" }
        }
        h2 #waiting-title { (lang.t("dev.waiting")) " (" (waiting.len()) ")" }
        p.muted { (lang.t("dev.waiting_hint")) }
        @if !waiting.is_empty() {
            table #waiting {
                tr { th { (lang.t("dev.mac")) } th { (lang.t("dev.vendor")) } th { (lang.t("dev.hostname")) } th { (lang.t("dev.fingerprint")) } th { (lang.t("dev.ip")) } th { (lang.t("dev.where")) } th { (lang.t("dev.first_seen")) } th { (lang.t("dev.last_seen")) } @if can_edit { th {} } }
                @for w in &waiting {
                    tr data-mac=(w.mac) {
                        td { a href={ "/devices/" (urlencode(&w.mac)) } { code { (w.mac) } } @if w.random_mac { " " span.pill.pending { (lang.t("dev.random_mac")) } } }
                        td { (w.vendor.clone().unwrap_or_default()) }
                        td { (w.hostname.clone().unwrap_or_default()) }
                        td { code { (w.params) } @if let Some(v) = &w.vendor_class { br; small { (v) } } }
                        td { @if let Some(ip) = w.ip { (ip) } }
                        td { (w.interface) @if let Some(z) = &w.zone { " / " (z) } (where_label(&w.mac)) }
                        td { (when(w.first_seen)) }
                        td { (when(w.last_seen)) }
                        @if can_edit {
                            td {
                                a.button href={ "/devices?approve=" (urlencode(&w.mac)) "#add-device" } { (lang.t("dev.approve")) }
                                " "
                                form.inline method="post" action={ "/devices/" (urlencode(&w.mac)) "/block-unknown" } { (csrf_field(caller)) button.danger type="submit" { (lang.t("dev.block")) } }
                            }
                        }
                    }
                }
            }
        }
        details #enforcement { summary { (lang.t("dev.enforce_title")) } p { (lang.t("dev.enforce_text")) } }
        table #devices {
            tr { th { (lang.t("dev.user")) } th { (lang.t("dev.type")) } th { (lang.t("dev.brand")) } th { (lang.t("dev.serial")) } th { (lang.t("dev.mac")) } th { (lang.t("dev.ip")) } th { (lang.t("dev.zone")) } th { (lang.t("dev.status")) } th { (lang.t("dev.note")) } @if can_edit { th {} } }
            @for d in &devices {
                tr {
                    td { (d.user) } td { (lang.value("device_type", &d.device_type)) } td { (d.brand) } td { (d.serial) } td { a href={ "/devices/" (urlencode(&d.mac)) } { code { (d.mac) } } @if edgeward_nac::oui::is_locally_administered(&d.mac) { " " span.pill.pending { (lang.t("dev.random_mac")) } } }
                    td { @if let Some(ip) = d.ip { (ip) } } td { (d.zone) (where_label(&d.mac)) }
                    td {
                        span class={ "pill " (format!("{:?}", d.status).to_lowercase()) } { (lang.t(status_key(d.status))) }
                        @if d.move_to.is_some() { " " span.pill.blocked.quarantined title=(plain(lang, reason_text(&d.quarantine_reason).get(lang.cfg()))) { (lang.t("dev.quarantined")) } br; small.quarantine-reason { (show(lang, &reason_text(&d.quarantine_reason))) } }
                    }
                    td { (d.note) }
                    @if can_edit {
                        td {
                            @if d.status != DeviceStatus::Approved {
                                form.inline method="post" action={ "/devices/" (urlencode(&d.mac)) "/status" } { (csrf_field(caller)) input type="hidden" name="status" value="approved"; button type="submit" { (lang.t("dev.approve")) } }
                            }
                            @if d.status != DeviceStatus::Blocked {
                                form.inline method="post" action={ "/devices/" (urlencode(&d.mac)) "/status" } { (csrf_field(caller)) input type="hidden" name="status" value="blocked"; button.danger type="submit" { (lang.t("dev.block")) } }
                            }
                            @if d.move_to.is_none() {
                                form.inline method="post" action={ "/devices/" (urlencode(&d.mac)) "/quarantine" } { (csrf_field(caller)) button.danger type="submit" { (lang.t("dev.quarantine")) } }
                            } @else {
                                form.inline method="post" action={ "/devices/" (urlencode(&d.mac)) "/release" } { (csrf_field(caller)) button type="submit" { (lang.t("dev.release")) } }
                            }
                            form.inline method="post" action={ "/devices/" (urlencode(&d.mac)) "/delete" } data-confirm={ (lang.t("dev.remove")) " " (d.mac) "?" } { (csrf_field(caller)) button.danger type="submit" { (lang.t("dev.remove")) } }
                        }
                    }
                }
            }
        }
        @if can_edit {
            h2 { (lang.t("dev.add")) }
            @if let Some(g) = &general { p.flash.err #device-error { (prose(lang, g)) } }
            form.row method="post" action="/devices" #add-device {
                (csrf_field(caller))
                (field("user", "dev.user", &form.user))
                label { (lang.t("dev.type")) select name="type" id="dev-type" { @for t in TYPES { option value=(t) selected[form.device_type == t] { (lang.lookup(&format!("device_type.{t}")).unwrap_or(t)) } } } @for e in err_for("type") { span.field-error { (prose(lang, &e)) } } }
                (field("brand", "dev.brand", &form.brand))
                (field("serial", "dev.serial", &form.serial))
                (field("mac", "dev.mac", &form.mac))
                (field("ip", "dev.ip", &form.ip))
                label { (lang.t("dev.zone")) select name="zone" id="dev-zone" { @for z in &zones { option value=(z) selected[&form.zone == z] { (z) } } } @for e in err_for("zone") { span.field-error { (prose(lang, &e)) } } }
                label { (lang.t("dev.status")) select name="status" { @for s in ["approved", "pending", "blocked"] { option value=(s) selected[form.status == s] { (lang.lookup(&format!("dev.status.{s}")).unwrap_or(s)) } } } }
                (field("note", "dev.note", &form.note))
                label { input type="checkbox" name="personal" id="dev-personal" checked[!form.personal.is_empty()]; " " (lang.t("dev.personal")) }
                (field("head_of_unit", "dev.head_of_unit", &form.head_of_unit))
                fieldset #dev-checklist {
                    legend { (lang.t("dev.checklist")) }
                    @for (name, key, value) in [("chk_antivirus", "dev.chk.antivirus", &form.chk_antivirus), ("chk_os_updates", "dev.chk.os_updates", &form.chk_os_updates), ("chk_licensed_software", "dev.chk.licensed_software", &form.chk_licensed_software), ("chk_screen_lock", "dev.chk.screen_lock", &form.chk_screen_lock)] {
                        label { input type="checkbox" name=(name) id={ "dev-" (name) } checked[!value.is_empty()]; " " (lang.t(key)) }
                    }
                    @for e in err_for("checklist") { span.field-error id="err-checklist" { (prose(lang, &e)) } }
                }
                button.primary type="submit" #add-device-submit { (lang.t("dev.add")) }
            }
            h2 { (lang.t("dev.import")) }
            p.muted { (prose(lang, lang.t("dev.import_hint"))) }
            form method="post" action={ "/devices/import?_csrf=" (caller.csrf) } enctype="multipart/form-data" #import-csv {
                input type="file" name="file" accept=".csv,text/csv" required;
                " "
                button type="submit" { (lang.t("dev.import")) }
            }
        }
    };
    page(ctx, caller, "/devices", lang.t("dev.title"), msg, body)
}

/// Unix seconds as the admin reads them (UTC+7, the agencies' time).
fn when(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|t| {
            (t + chrono::Duration::hours(7))
                .format("%d/%m/%Y %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// Where each machine sits on the gateway's own bridged LAN ports (`state/bridge-fdb.json`,
/// written by the daemon: MAC → port): alone on a port, the gateway can cut it off from its
/// neighbours; on a port shared with other machines (an external switch), not from those.
fn port_of(ctx: &AdminContext) -> impl Fn(&str) -> Option<(String, bool)> + use<> {
    let map: std::collections::BTreeMap<String, String> =
        std::fs::read_to_string(ctx.state_dir.join("bridge-fdb.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
    move |mac: &str| {
        let port = map.get(&mac.to_ascii_lowercase())?;
        let alone = map.values().filter(|p| *p == port).count() == 1;
        Some((port.clone(), alone))
    }
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

/// `?msg=…` after a change, `?approve=MAC` to fill the form from a waiting machine.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub msg: Option<String>,
    pub approve: Option<String>,
}

pub async fn list(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<ListQuery>,
) -> Markup {
    ctx.audit_view(&caller, say!("device inventory", "danh mục thiết bị"))
        .await;
    let mut form = DeviceForm {
        device_type: "pc".into(),
        status: "approved".into(),
        ..Default::default()
    };
    if let Some(mac) = q
        .approve
        .as_deref()
        .and_then(edgeward_config::validate::normalize_mac)
    {
        let (seen, _) = edgeward_nac::pending::load(&ctx.state_dir);
        let pending = current_devices(&ctx)
            .into_iter()
            .find(|d| d.mac.eq_ignore_ascii_case(&mac));
        if let Some(d) = pending {
            form.user = d.user;
            form.device_type = enum_name(&d.device_type);
            form.brand = d.brand;
            form.serial = d.serial;
            form.zone = d.zone;
            form.note = d.note;
        } else if let Some(s) = seen.get(&mac) {
            form.zone = s.zone.clone().unwrap_or_default();
            form.brand = s.vendor.clone().unwrap_or_default();
            form.note = s.hostname.clone().unwrap_or_default();
        }
        form.mac = mac;
    }
    let m = Msg { msg: q.msg };
    devices_page(&ctx, &caller, m.key(), &form, &Vec::new(), None)
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
    let mut device = device;
    if device.status == DeviceStatus::Approved {
        if !edgeward_nac::inventory::missing_checks(
            &enum_name(&device.device_type),
            &device.checklist,
        )
        .is_empty()
        {
            return refused(
                &ctx,
                &caller,
                &f,
                &vec![(
                    "checklist".to_string(),
                    lang.t("dev.checklist_required").to_string(),
                )],
                None,
            );
        }
        device.approved_by.clone_from(&caller.username);
    }
    let mut devices = current_devices(&ctx);
    // Approving a machine listed as pending replaces its entry.
    let existing = devices
        .iter()
        .position(|d| d.mac.eq_ignore_ascii_case(&device.mac) && d.status == DeviceStatus::Pending);
    let index = existing.unwrap_or(devices.len());
    let reason = format!(
        "device {} ({}) {} for {}",
        device.mac,
        enum_name(&device.device_type),
        if device.status == DeviceStatus::Approved {
            "approved"
        } else {
            "added"
        },
        device.user
    );
    match existing {
        Some(i) => devices[i] = device,
        None => devices.push(device),
    }
    match apply_devices(&ctx, &caller, &devices, &reason).await {
        Ok(_) => done("/devices", "common.saved"),
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
        return super::refused_page(
            caller.lang,
            StatusCode::BAD_REQUEST,
            &say!(
                "status: approved, pending or blocked",
                "trạng thái phải là Đã phê duyệt, Chờ phê duyệt hoặc Bị chặn"
            ),
        );
    };
    let mut devices = current_devices(&ctx);
    let Some(d) = devices
        .iter_mut()
        .find(|d| d.mac.eq_ignore_ascii_case(&mac))
    else {
        return super::refused_page(
            caller.lang,
            StatusCode::NOT_FOUND,
            &say!("no device {mac}", "không có thiết bị {mac}"),
        );
    };
    d.status = status;
    if status == DeviceStatus::Approved {
        d.approved_by.clone_from(&caller.username);
    }
    let reason = format!("device {mac} set to {}", f.status);
    match apply_devices(&ctx, &caller, &devices, &reason).await {
        Ok(_) => done("/devices", "common.saved"),
        Err(DevicesError::Invalid(r)) => refused(
            &ctx,
            &caller,
            &DeviceForm::default(),
            &Vec::new(),
            Some(
                r.problems
                    .iter()
                    .map(|p| p.text.get(caller.lang.cfg()).to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ),
        Err(DevicesError::Failed(m)) => {
            super::failed_page(caller.lang, StatusCode::UNPROCESSABLE_ENTITY, &m)
        }
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
        Ok(_) => done("/devices", "common.saved"),
        Err((s, m)) => super::failed_page(caller.lang, s, &m),
    }
}

/// GET `/devices/annex.csv`: the inventory as seed 000 Phụ lục I's table (exactly its columns).
pub async fn export_annex(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    ctx.audit_view(
        &caller,
        say!(
            "device inventory exported as Phụ lục I",
            "xuất danh mục thiết bị theo Phụ lục I"
        ),
    )
    .await;
    let name = format!("phu-luc-I-{}.csv", ctx.host_id);
    attachment(
        CSV,
        &name,
        inventory::export_annex(&current_devices(&ctx)).map(with_bom),
    )
}

pub async fn export_csv(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    ctx.audit_view(
        &caller,
        say!(
            "device inventory exported as CSV",
            "xuất danh mục thiết bị ra tệp CSV"
        ),
    )
    .await;
    let name = format!("devices-{}.csv", ctx.host_id);
    attachment(
        CSV,
        &name,
        inventory::export(&current_devices(&ctx)).map(with_bom),
    )
}

const CSV: &str = "text/csv; charset=utf-8";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// CSV text with a byte-order mark, so Excel reads the Vietnamese as UTF-8.
fn with_bom(csv: String) -> Vec<u8> {
    format!("\u{feff}{csv}").into_bytes()
}

/// A download: `body` as the file `filename` of `content_type`, or the export's error.
fn attachment(content_type: &str, filename: &str, body: Result<Vec<u8>, String>) -> Response {
    match body {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, content_type.to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => super::failed_page(crate::i18n::Lang::Vi, StatusCode::INTERNAL_SERVER_ERROR, &e),
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
        Err(e) => return super::failed_page(caller.lang, StatusCode::BAD_REQUEST, &e),
    };
    let text = String::from_utf8_lossy(&data);
    let devices = match inventory::import(&text, &current_devices(&ctx)) {
        Ok(d) => d,
        Err(problems) => {
            let msg = problems
                .iter()
                .map(|p| format!("{name}:{}: {}", p.line, p.text.get(caller.lang.cfg())))
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
        Ok(_) => done("/devices", "common.saved"),
        Err(DevicesError::Invalid(r)) => {
            let msg = problems_text(&r.problems)
                .get(caller.lang.cfg())
                .to_string();
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

/// The running configuration's quarantine zone.
fn quarantine_zone(ctx: &AdminContext) -> Option<String> {
    ctx.live.load().config.as_ref().and_then(|c| {
        c.zones
            .iter()
            .find(|z| z.kind == edgeward_config::ZoneKind::Quarantine)
            .map(|z| z.name.clone())
    })
}

/// A refused device decision as a page with the problems, in the reader's language.
fn decision_refused(lang: crate::i18n::Lang, e: DevicesError) -> Response {
    match e {
        DevicesError::Invalid(r) => super::refused_page(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            &problems_text(&r.problems),
        ),
        DevicesError::Failed(m) => super::failed_page(lang, StatusCode::UNPROCESSABLE_ENTITY, &m),
    }
}

/// Validation problems as one text: `field: message; …` in both languages.
pub fn problems_text(problems: &[changes::ShownProblem]) -> edgeward_config::Text {
    let join = |pick: fn(&edgeward_config::Text) -> &String| {
        problems
            .iter()
            .map(|p| format!("`{}`: {}", p.path, pick(&p.text)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    edgeward_config::Text::new(join(|t| &t.en), join(|t| &t.vi))
}

/// Why, from a form (`reason`, optional).
#[derive(Debug, Default, Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    pub reason: String,
}

/// POST `/devices/{mac}/quarantine` (001 §7.8, 004 §15.8): one step — the device moves into
/// the quarantine zone (no LAN across the gateway, no TSLCD, no Internet; only the gateway's
/// page and the update mirrors), pinned to the address it was last seen with when the
/// inventory has none; audited as a change like any other.
pub async fn quarantine(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(mac): Path<String>,
    Form(f): Form<ReasonForm>,
) -> Response {
    let Some(zone) = quarantine_zone(&ctx) else {
        return super::refused_page(
            caller.lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            &say!(
                "the configuration has no quarantine zone",
                "cấu hình chưa có vùng cách ly"
            ),
        );
    };
    let mut devices = current_devices(&ctx);
    let Some(d) = devices
        .iter_mut()
        .find(|d| d.mac.eq_ignore_ascii_case(&mac))
    else {
        return super::refused_page(
            caller.lang,
            StatusCode::NOT_FOUND,
            &say!("no device {mac}", "không có thiết bị {mac}"),
        );
    };
    if d.ip.is_none() {
        let (seen, leases) = edgeward_nac::pending::load(&ctx.state_dir);
        d.ip = seen.get(&mac).and_then(|s| s.ip).or_else(|| {
            leases
                .by_key
                .values()
                .find(|l| l.mac.eq_ignore_ascii_case(&mac))
                .map(|l| l.ip)
        });
    }
    let why = if f.reason.trim().is_empty() {
        format!("quarantined by {} from the devices page", caller.username)
    } else {
        format!("quarantined by {}: {}", caller.username, f.reason.trim())
    };
    d.move_to = Some(zone);
    d.quarantine_reason.clone_from(&why);
    match apply_devices(&ctx, &caller, &devices, &format!("device {mac} {why}")).await {
        Ok(_) => done("/devices", "common.saved"),
        Err(e) => decision_refused(caller.lang, e),
    }
}

/// POST `/devices/{mac}/release`: back from quarantine, as an audited decision.
pub async fn release(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(mac): Path<String>,
    Form(f): Form<ReasonForm>,
) -> Response {
    let mut devices = current_devices(&ctx);
    let Some(d) = devices
        .iter_mut()
        .find(|d| d.mac.eq_ignore_ascii_case(&mac))
    else {
        return super::refused_page(
            caller.lang,
            StatusCode::NOT_FOUND,
            &say!("no device {mac}", "không có thiết bị {mac}"),
        );
    };
    d.move_to = None;
    d.quarantine_reason.clear();
    let reason = format!(
        "device {mac} released from quarantine by {}{}",
        caller.username,
        if f.reason.trim().is_empty() {
            String::new()
        } else {
            format!(": {}", f.reason.trim())
        }
    );
    match apply_devices(&ctx, &caller, &devices, &reason).await {
        Ok(_) => done("/devices", "common.saved"),
        Err(e) => decision_refused(caller.lang, e),
    }
}

/// POST `/devices/{mac}/block-unknown`: a waiting machine refused — listed in the inventory as
/// blocked, with what was learned about it, so it stays cut off and the refusal is recorded.
pub async fn block_unknown(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(mac): Path<String>,
) -> Response {
    let Some(mac) = edgeward_config::validate::normalize_mac(&mac) else {
        return (StatusCode::BAD_REQUEST, "not a MAC address").into_response();
    };
    let (seen, _) = edgeward_nac::pending::load(&ctx.state_dir);
    let learned = seen.get(&mac);
    let mut devices = current_devices(&ctx);
    if let Some(d) = devices
        .iter_mut()
        .find(|d| d.mac.eq_ignore_ascii_case(&mac))
    {
        d.status = DeviceStatus::Blocked;
    } else {
        let zone = learned
            .and_then(|s| s.zone.clone())
            .or_else(|| {
                ctx.live
                    .load()
                    .config
                    .as_ref()
                    .and_then(|c| c.nac.onboarding_zones.first().cloned())
            })
            .unwrap_or_default();
        devices.push(Device {
            user: "Chưa xác định".into(),
            device_type: DeviceType::Other,
            brand: learned.and_then(|s| s.vendor.clone()).unwrap_or_default(),
            serial: String::new(),
            mac: mac.clone(),
            ip: None,
            zone,
            status: DeviceStatus::Blocked,
            internet: None,
            move_to: None,
            quarantine_reason: String::new(),
            note: learned
                .and_then(|s| s.hostname.clone())
                .map(|h| format!("tên máy {h}"))
                .unwrap_or_default(),
            personal: false,
            approved_by: String::new(),
            head_of_unit: String::new(),
            checklist: Vec::new(),
        });
    }
    let reason = format!("unknown device {mac} blocked by {}", caller.username);
    match apply_devices(&ctx, &caller, &devices, &reason).await {
        Ok(_) => done("/devices", "common.saved"),
        Err(e) => decision_refused(caller.lang, e),
    }
}

/// GET `/devices/{mac}`: one device — its inventory entry, what the gateway learned about it,
/// and its history (every change to it, with who and why).
pub async fn detail(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(mac): Path<String>,
) -> Response {
    let lang = caller.lang;
    let Some(mac) = edgeward_config::validate::normalize_mac(&mac) else {
        return (StatusCode::BAD_REQUEST, "not a MAC address").into_response();
    };
    ctx.audit_view(&caller, say!("device {mac}", "thiết bị {mac}"))
        .await;
    let device = current_devices(&ctx)
        .into_iter()
        .find(|d| d.mac.eq_ignore_ascii_case(&mac));
    let (seen, _) = edgeward_nac::pending::load(&ctx.state_dir);
    let learned = seen.get(&mac).cloned();
    let steps = device_history(&ctx, &mac);
    let body = html! {
        p { a href="/devices" { "← " (lang.t("dev.title")) } }
        @if let Some(d) = &device {
            table #device {
                tr { th { (lang.t("dev.user")) } td { (d.user) } }
                tr { th { (lang.t("dev.type")) } td { (lang.value("device_type", &d.device_type)) } }
                tr { th { (lang.t("dev.serial")) } td { (d.serial) } }
                tr { th { (lang.t("dev.zone")) } td { (d.zone) } }
                tr { th { (lang.t("dev.status")) } td { (lang.t(status_key(d.status))) @if d.move_to.is_some() { " · " (lang.t("dev.quarantined")) ": " (show(lang, &reason_text(&d.quarantine_reason))) } } }
                tr { th { (lang.t("dev.approved_by")) } td { (d.approved_by) } }
                @if d.personal { tr { th { (lang.t("dev.head_of_unit")) } td { (d.head_of_unit) } } }
                tr { th { (lang.t("dev.checklist")) } td { (d.checklist.iter().map(|c| lang.lookup(&format!("dev.chk.{}", c.replace('-', "_"))).map_or_else(|| c.clone(), str::to_string)).collect::<Vec<_>>().join(", ")) } }
            }
        }
        h2 { (lang.t("dev.learned")) }
        @if let Some(s) = &learned {
            table #learned {
                tr { th { (lang.t("dev.mac")) } td { code { (s.mac) } @if s.random_mac { " " (lang.t("dev.random_mac")) } } }
                tr { th { (lang.t("dev.vendor")) } td { (s.vendor.clone().unwrap_or_default()) } }
                tr { th { (lang.t("dev.hostname")) } td { (s.hostname.clone().unwrap_or_default()) } }
                tr { th { (lang.t("dev.fingerprint")) } td { code { (s.params) } " " (s.vendor_class.clone().unwrap_or_default()) } }
                tr { th { (lang.t("dev.ip")) } td { @if let Some(ip) = s.ip { (ip) } } }
                tr { th { (lang.t("dev.where")) } td { (s.interface) " / " (s.zone.clone().unwrap_or_default()) } }
                tr { th { (lang.t("dev.first_seen")) } td { (when(s.first_seen)) } }
                tr { th { (lang.t("dev.last_seen")) } td { (when(s.last_seen)) } }
            }
        } @else { p.muted { (lang.t("dash.none")) } }
        h2 { (lang.t("dev.history")) }
        table #device-history {
            @for s in steps.iter().rev() {
                tr { td { "v" (s.version) } td { (s.applied_at) } td { (s.author) } td { (s.what.iter().map(|t| t.get(lang.cfg()).to_string()).collect::<Vec<_>>().join("; ")) } td { (show(lang, &reason_text(&s.reason))) } }
            }
        }
    };
    page(&ctx, &caller, "/devices", lang.t("dev.title"), None, body).into_response()
}

/// Every change to the device with `mac`, from the configuration history (the last 500
/// versions).
fn device_history(ctx: &AdminContext, mac: &str) -> Vec<edgeward_nac::timeline::Step> {
    let Ok(entries) = changes::history_entries(ctx) else {
        return Vec::new();
    };
    let today = edgeward_config::today();
    let mut versions: Vec<edgeward_nac::timeline::Version> = entries
        .iter()
        .take(500)
        .filter_map(|e| {
            let (_, _, text) = changes::history_version(ctx, e.version).ok()?;
            // Parsing a version is the expensive part; most versions do not name this device.
            let device = contains_ignore_case(&text, mac)
                .then(|| edgeward_config::parse(&text, "history", today).ok())
                .flatten()
                .and_then(|c| {
                    c.devices
                        .into_iter()
                        .find(|d| d.mac.eq_ignore_ascii_case(mac))
                });
            Some(edgeward_nac::timeline::Version {
                version: e.version,
                applied_at: e.applied_at.to_rfc3339(),
                author: e.author.clone(),
                reason: e.reason.clone(),
                device,
            })
        })
        .collect();
    versions.reverse();
    edgeward_nac::timeline::timeline(&versions)
}

/// Whether `haystack` contains `needle`, ASCII letters compared without case (MACs).
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    let needle = needle.to_ascii_lowercase();
    haystack.to_ascii_lowercase().contains(&needle)
}

/// GET `/devices/annex.xlsx`: Phụ lục I as an Excel workbook (its table, then the gateway's
/// own facts on a second sheet).
pub async fn export_annex_xlsx(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    ctx.audit_view(
        &caller,
        say!(
            "device inventory exported as Phụ lục I (Excel)",
            "xuất danh mục thiết bị theo Phụ lục I (Excel)"
        ),
    )
    .await;
    let (seen, _) = edgeward_nac::pending::load(&ctx.state_dir);
    let name = format!("phu-luc-I-{}.xlsx", ctx.host_id);
    attachment(
        XLSX,
        &name,
        inventory::export_annex_xlsx(&current_devices(&ctx), &seen),
    )
}
