//! Every route of the admin plane with what it needs, in one table: the router is built from it
//! and the tests walk it to check every endpoint against every role.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter, on};

use super::AdminContext;
use super::accounts::Stage;
use super::api;
use super::guard::{self, Access};
use super::pages::{accounts, auth, config, devices, ids, status, system, wifi};
use super::roles::Permission::{
    AckAlerts, ManageAccounts, ManageBackups, ManageCertificates, ManageDevices, ManageNetwork,
    ManageSystem, ManageWifi, ViewAudit, ViewConfig, ViewStatus,
};
use super::update;

pub use super::guard::BODY_LIMIT;

#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

type Handler = MethodRouter<Arc<AdminContext>>;

fn spec(method: Method, path: &'static str, access: Access, h: Handler) -> (RouteSpec, Handler) {
    (
        RouteSpec {
            method,
            path,
            access,
        },
        h,
    )
}

fn get(path: &'static str, access: Access, h: Handler) -> (RouteSpec, Handler) {
    spec(Method::GET, path, access, h)
}
fn post(path: &'static str, access: Access, h: Handler) -> (RouteSpec, Handler) {
    spec(Method::POST, path, access, h)
}

/// The table. `Access::Perm` names the permission; `AnyChange` handlers also check sections.
pub fn table() -> Vec<(RouteSpec, Handler)> {
    use Access::{AnyChange, Perm, Public, Session, Stages};
    // Each first-login step answers only at its own stage; a full session may change its own
    // password and re-enrol TOTP (with proof of both factors).
    const OWN_PASSWORD: Access = Stages(&[Stage::ChangePassword, Stage::Full]);
    const ENROL: Access = Stages(&[Stage::EnrolTotp, Stage::Full]);
    const VERIFY: Access = Stages(&[Stage::VerifyTotp]);
    vec![
        get("/", Public, on(MethodFilter::GET, auth::root)),
        get("/static/app.css", Public, on(MethodFilter::GET, auth::css)),
        get("/static/app.js", Public, on(MethodFilter::GET, auth::js)),
        get("/lang", Public, on(MethodFilter::GET, auth::switch_lang)),
        get("/login", Public, on(MethodFilter::GET, auth::login_page)),
        post("/login", Public, on(MethodFilter::POST, auth::login_submit)),
        post("/logout", Session, on(MethodFilter::POST, auth::logout)),
        get(
            "/password",
            OWN_PASSWORD,
            on(MethodFilter::GET, auth::password_page),
        ),
        post(
            "/password",
            OWN_PASSWORD,
            on(MethodFilter::POST, auth::password_submit),
        ),
        get(
            "/totp/enrol",
            ENROL,
            on(MethodFilter::GET, auth::enrol_page),
        ),
        post(
            "/totp/enrol",
            ENROL,
            on(MethodFilter::POST, auth::enrol_submit),
        ),
        get(
            "/totp/verify",
            VERIFY,
            on(MethodFilter::GET, auth::verify_page),
        ),
        post(
            "/totp/verify",
            VERIFY,
            on(MethodFilter::POST, auth::verify_submit),
        ),
        get(
            "/dashboard",
            Perm(ViewStatus),
            on(MethodFilter::GET, status::dashboard),
        ),
        get(
            "/zones",
            Perm(ViewConfig),
            on(MethodFilter::GET, status::zones),
        ),
        get(
            "/uplinks",
            Perm(ViewStatus),
            on(MethodFilter::GET, status::uplinks),
        ),
        get("/ids", Perm(ViewStatus), on(MethodFilter::GET, status::ids)),
        post(
            "/ids/alerts/{seq}/ack",
            Perm(AckAlerts),
            on(MethodFilter::POST, status::ack),
        ),
        get(
            "/ids/evidence/{id}",
            Perm(AckAlerts),
            on(MethodFilter::GET, ids::evidence),
        ),
        post(
            "/ids/rules/{sid}",
            Perm(ManageNetwork),
            on(MethodFilter::POST, ids::set_override),
        ),
        get(
            "/audit",
            Perm(ViewAudit),
            on(MethodFilter::GET, status::audit),
        ),
        get(
            "/devices",
            Perm(ViewConfig),
            on(MethodFilter::GET, devices::list),
        ),
        post(
            "/devices",
            Perm(ManageDevices),
            on(MethodFilter::POST, devices::add),
        ),
        get(
            "/devices/export.csv",
            Perm(ViewConfig),
            on(MethodFilter::GET, devices::export_csv),
        ),
        get(
            "/devices/annex.csv",
            Perm(ViewConfig),
            on(MethodFilter::GET, devices::export_annex),
        ),
        post(
            "/devices/import",
            Perm(ManageDevices),
            on(MethodFilter::POST, devices::import_csv),
        ),
        post(
            "/devices/{mac}/status",
            Perm(ManageDevices),
            on(MethodFilter::POST, devices::set_status),
        ),
        post(
            "/devices/{mac}/delete",
            Perm(ManageDevices),
            on(MethodFilter::POST, devices::remove),
        ),
        post(
            "/devices/{mac}/quarantine",
            Perm(ManageDevices),
            on(MethodFilter::POST, devices::quarantine),
        ),
        post(
            "/devices/{mac}/release",
            Perm(ManageDevices),
            on(MethodFilter::POST, devices::release),
        ),
        post(
            "/devices/{mac}/block-unknown",
            Perm(ManageDevices),
            on(MethodFilter::POST, devices::block_unknown),
        ),
        get(
            "/devices/annex.xlsx",
            Perm(ViewConfig),
            on(MethodFilter::GET, devices::export_annex_xlsx),
        ),
        get(
            "/devices/{mac}",
            Perm(ViewConfig),
            on(MethodFilter::GET, devices::detail),
        ),
        get("/wifi", Perm(ViewConfig), on(MethodFilter::GET, wifi::list)),
        post("/wifi", Perm(ManageWifi), on(MethodFilter::POST, wifi::add)),
        post(
            "/wifi/{ssid}/passphrase",
            Perm(ManageWifi),
            on(MethodFilter::POST, wifi::change_passphrase),
        ),
        get(
            "/wifi/{ssid}/sheet",
            Perm(ManageWifi),
            on(MethodFilter::GET, wifi::sheet),
        ),
        post(
            "/wifi/{ssid}/overdue",
            Perm(ManageWifi),
            on(MethodFilter::POST, wifi::overdue),
        ),
        post(
            "/wifi/{ssid}/delete",
            Perm(ManageWifi),
            on(MethodFilter::POST, wifi::remove),
        ),
        get(
            "/config",
            Perm(ViewConfig),
            on(MethodFilter::GET, config::overview),
        ),
        get(
            "/config/edit",
            AnyChange,
            on(MethodFilter::GET, config::edit_page),
        ),
        post(
            "/config/edit",
            AnyChange,
            on(MethodFilter::POST, config::edit_submit),
        ),
        post(
            "/config/confirm",
            AnyChange,
            on(MethodFilter::POST, config::confirm),
        ),
        post(
            "/config/rollback-now",
            AnyChange,
            on(MethodFilter::POST, config::rollback_now),
        ),
        get(
            "/config/history/{version}",
            Perm(ViewConfig),
            on(MethodFilter::GET, config::version_page),
        ),
        post(
            "/config/history/{version}/rollback",
            AnyChange,
            on(MethodFilter::POST, config::rollback_to),
        ),
        get(
            "/accounts",
            Perm(ManageAccounts),
            on(MethodFilter::GET, accounts::list),
        ),
        post(
            "/accounts",
            Perm(ManageAccounts),
            on(MethodFilter::POST, accounts::create),
        ),
        post(
            "/accounts/{user}/unlock",
            Perm(ManageAccounts),
            on(MethodFilter::POST, accounts::unlock),
        ),
        post(
            "/accounts/{user}/reset",
            Perm(ManageAccounts),
            on(MethodFilter::POST, accounts::reset),
        ),
        post(
            "/accounts/{user}/role",
            Perm(ManageAccounts),
            on(MethodFilter::POST, accounts::set_role),
        ),
        post(
            "/accounts/{user}/disable",
            Perm(ManageAccounts),
            on(MethodFilter::POST, accounts::disable),
        ),
        post(
            "/accounts/{user}/enable",
            Perm(ManageAccounts),
            on(MethodFilter::POST, accounts::enable),
        ),
        get(
            "/system",
            Perm(ViewConfig),
            on(MethodFilter::GET, system::show),
        ),
        post(
            "/system/certificate",
            Perm(ManageCertificates),
            on(MethodFilter::POST, system::upload_certificate),
        ),
        post(
            "/system/backup/export",
            Perm(ManageBackups),
            on(MethodFilter::POST, system::backup_export),
        ),
        post(
            "/system/backup/import",
            Perm(ManageBackups),
            on(MethodFilter::POST, system::backup_import),
        ),
        post(
            "/system/update",
            Perm(ManageSystem),
            on(MethodFilter::POST, system::update_upload)
                .layer(DefaultBodyLimit::max(update::MAX_BUNDLE)),
        ),
        // JSON API
        post("/api/v1/login", Public, on(MethodFilter::POST, api::login)),
        post(
            "/api/v1/logout",
            Session,
            on(MethodFilter::POST, api::logout),
        ),
        get(
            "/api/v1/session",
            Session,
            on(MethodFilter::GET, api::session),
        ),
        get(
            "/api/v1/status",
            Perm(ViewStatus),
            on(MethodFilter::GET, api::status),
        ),
        get(
            "/api/v1/uplinks",
            Perm(ViewStatus),
            on(MethodFilter::GET, api::uplinks),
        ),
        get(
            "/api/v1/alerts",
            Perm(ViewStatus),
            on(MethodFilter::GET, api::alerts),
        ),
        post(
            "/api/v1/alerts/{seq}/ack",
            Perm(AckAlerts),
            on(MethodFilter::POST, api::alert_ack),
        ),
        get(
            "/api/v1/config",
            Perm(ViewConfig),
            on(MethodFilter::GET, api::config),
        ),
        post(
            "/api/v1/config/check",
            AnyChange,
            on(MethodFilter::POST, api::config_check),
        ),
        post(
            "/api/v1/config/apply",
            AnyChange,
            on(MethodFilter::POST, api::config_apply),
        ),
        post(
            "/api/v1/config/confirm",
            AnyChange,
            on(MethodFilter::POST, api::config_confirm),
        ),
        post(
            "/api/v1/config/rollback",
            AnyChange,
            on(MethodFilter::POST, api::config_rollback),
        ),
        get(
            "/api/v1/config/history",
            Perm(ViewConfig),
            on(MethodFilter::GET, api::history),
        ),
        get(
            "/api/v1/config/history/{version}",
            Perm(ViewConfig),
            on(MethodFilter::GET, api::history_version),
        ),
        get(
            "/api/v1/devices",
            Perm(ViewConfig),
            on(MethodFilter::GET, api::devices),
        ),
        spec(
            Method::PUT,
            "/api/v1/devices",
            Perm(ManageDevices),
            on(MethodFilter::PUT, api::device_put),
        ),
        spec(
            Method::DELETE,
            "/api/v1/devices/{mac}",
            Perm(ManageDevices),
            on(MethodFilter::DELETE, api::device_delete),
        ),
        get(
            "/api/v1/wifi",
            Perm(ViewConfig),
            on(MethodFilter::GET, api::wifi_list),
        ),
        post(
            "/api/v1/wifi",
            Perm(ManageWifi),
            on(MethodFilter::POST, api::wifi_add),
        ),
        post(
            "/api/v1/wifi/{ssid}/passphrase",
            Perm(ManageWifi),
            on(MethodFilter::POST, api::wifi_passphrase),
        ),
        spec(
            Method::PUT,
            "/api/v1/wifi/{ssid}/overdue",
            Perm(ManageWifi),
            on(MethodFilter::PUT, api::wifi_overdue),
        ),
        spec(
            Method::DELETE,
            "/api/v1/wifi/{ssid}",
            Perm(ManageWifi),
            on(MethodFilter::DELETE, api::wifi_delete),
        ),
        get(
            "/api/v1/accounts",
            Perm(ManageAccounts),
            on(MethodFilter::GET, api::accounts),
        ),
        post(
            "/api/v1/accounts",
            Perm(ManageAccounts),
            on(MethodFilter::POST, api::account_create),
        ),
        post(
            "/api/v1/accounts/{user}/unlock",
            Perm(ManageAccounts),
            on(MethodFilter::POST, api::account_unlock),
        ),
        get(
            "/api/v1/audit",
            Perm(ViewAudit),
            on(MethodFilter::GET, api::audit),
        ),
        get(
            "/api/v1/system/update",
            Perm(ViewConfig),
            on(MethodFilter::GET, update::api_status),
        ),
        post(
            "/api/v1/system/update",
            Perm(ManageSystem),
            on(MethodFilter::POST, update::api_upload)
                .layer(DefaultBodyLimit::max(update::MAX_BUNDLE)),
        ),
        get(
            "/api/v1/system/certificate",
            Perm(ViewConfig),
            on(MethodFilter::GET, api::certificate),
        ),
        spec(
            Method::PUT,
            "/api/v1/system/certificate",
            Perm(ManageCertificates),
            on(MethodFilter::PUT, api::certificate_put),
        ),
        post(
            "/api/v1/system/backup",
            Perm(ManageBackups),
            on(MethodFilter::POST, api::backup),
        ),
    ]
}

/// The specs alone (for tests and the OpenAPI check).
pub fn specs() -> Vec<RouteSpec> {
    table().into_iter().map(|(s, _)| s).collect()
}

async fn fallback(uri: Uri, headers: HeaderMap) -> Response {
    let api = uri.path().starts_with("/api/");
    guard::deny(
        api,
        guard::lang_of(&headers),
        StatusCode::NOT_FOUND,
        "err.not_found",
    )
}

/// The admin plane's router: every route behind its guard, body and time limits, security
/// headers on every response.
pub fn router(ctx: Arc<AdminContext>) -> Router {
    let mut r: Router<Arc<AdminContext>> = Router::new();
    for (s, h) in table() {
        let layered = h.route_layer(from_fn_with_state((ctx.clone(), s.access), guard::check));
        r = r.route(s.path, layered);
    }
    r.fallback(fallback)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn(guard::time_limit))
        .layer(from_fn(guard::headers))
        .with_state(ctx)
}
