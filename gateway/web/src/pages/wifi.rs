//! Wi-Fi networks: the operator's everyday tasks without the section editor — see when each
//! passphrase must change (004 §7.2: every 6 months), change it (typed or generated), add a
//! guest or staff network, remove one. Each change rewrites the `wifi` section through the same
//! validation, history and audit as any configuration change; passphrases are shown only to
//! roles that manage Wi-Fi and never enter audit events.

use edgeward_config::say;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use chrono::NaiveDate;
use edgeward_config::{PassphraseProblem, WifiNetwork, WifiSecurity, ZoneKind};
use maud::{Markup, html};
use ring::rand::SecureRandom;
use serde::{Deserialize, Serialize};

use crate::AdminContext;
use crate::changes::{self, FormChangeError};
use crate::guard::Caller;
use crate::i18n::{Lang, known_key};
use crate::inventory::{enum_name, enum_value};
use crate::layout::{csrf_field, page, urlencode};
use crate::roles::Permission;

/// A passphrase due within this many days is flagged on the page and the dashboard.
pub const DUE_SOON_DAYS: i64 = WifiNetwork::DUE_SOON_DAYS;
/// Generated passphrases: groups of letters and digits that cannot be misread when spoken or
/// written on a card (no 0/o, 1/l/i).
const PASSPHRASE_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const GENERATED_GROUPS: usize = 4;
const GENERATED_GROUP_LEN: usize = 4;

/// One symbol of the alphabet, uniformly: bytes past the largest multiple of its size are
/// drawn again (rejection sampling).
fn random_symbol(rng: &ring::rand::SystemRandom) -> char {
    let limit = 256 - 256 % PASSPHRASE_ALPHABET.len();
    loop {
        let mut byte = [0u8; 1];
        // SystemRandom only fails when the OS has no randomness; then nothing here is safe.
        assert!(
            rng.fill(&mut byte).is_ok(),
            "the operating system gives no randomness"
        );
        let b = usize::from(byte[0]);
        if b < limit {
            return char::from(PASSPHRASE_ALPHABET[b % PASSPHRASE_ALPHABET.len()]);
        }
    }
}

/// A random passphrase such as `k7mp-3xqa-wd9e-hu4t` (16 symbols of 31: about 79 bits).
pub fn generate_passphrase() -> String {
    let rng = ring::rand::SystemRandom::new();
    (0..GENERATED_GROUPS)
        .map(|_| {
            (0..GENERATED_GROUP_LEN)
                .map(|_| random_symbol(&rng))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Why a new passphrase is not accepted, as a text key: the model's rule
/// ([`WifiNetwork::passphrase_problem`]), and a change must change it.
pub fn check_new_passphrase(ssid: &str, old: Option<&str>, new: &str) -> Result<(), &'static str> {
    match WifiNetwork::passphrase_problem(ssid, new) {
        Some(PassphraseProblem::NotAscii) => Err("wifi.err.ascii"),
        Some(PassphraseProblem::Length(_)) => Err("wifi.err.length"),
        Some(PassphraseProblem::ContainsSsid) => Err("wifi.err.ssid"),
        None if old == Some(new) => Err("wifi.err.same"),
        None => Ok(()),
    }
}

pub use edgeward_config::model::{Rotation, RotationState};

/// The rotation of one network's passphrase as of `today` (the model's rule).
pub fn rotation(w: &WifiNetwork, today: NaiveDate) -> Rotation {
    w.rotation(today)
}

/// Networks whose passphrase is due soon or overdue (for the dashboard).
pub fn due_count(networks: &[WifiNetwork], today: NaiveDate) -> usize {
    networks
        .iter()
        .filter(|w| {
            matches!(
                rotation(w, today).state,
                RotationState::DueSoon | RotationState::Overdue
            )
        })
        .count()
}

fn networks(ctx: &AdminContext) -> Vec<WifiNetwork> {
    ctx.live
        .load()
        .config
        .as_ref()
        .map(|c| c.wifi.clone())
        .unwrap_or_default()
}

/// Zones a Wi-Fi network may serve (the validator refuses others).
fn wifi_zones(ctx: &AdminContext) -> Vec<String> {
    ctx.live
        .load()
        .config
        .as_ref()
        .map(|c| {
            c.zones
                .iter()
                .filter(|z| matches!(z.kind, ZoneKind::Guest | ZoneKind::Lan))
                .map(|z| z.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Why a Wi-Fi change did not happen.
#[derive(Debug)]
pub enum WifiChangeError {
    /// A field of the request is wrong: (field, text key of the reason).
    Field(&'static str, &'static str),
    /// The configuration refused it: (field or "", message).
    Refused(Vec<(String, String)>),
    NotFound(String),
    Failed(String),
}

impl WifiChangeError {
    fn from_form(e: FormChangeError, index: usize, lang: Lang) -> WifiChangeError {
        match e {
            FormChangeError::Failed(m) => WifiChangeError::Failed(m),
            FormChangeError::Invalid(report) => {
                let mut problems = super::field_problems(&report, "wifi", index, lang);
                if !report.forbidden_sections.is_empty() {
                    problems.push((
                        String::new(),
                        format!(
                            "{} {}",
                            lang.t("cfg.forbidden_sections"),
                            report.forbidden_sections.join(", ")
                        ),
                    ));
                }
                WifiChangeError::Refused(problems)
            }
        }
    }

    /// One line for the API or a flash.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            WifiChangeError::Field(field, key) => format!("{field}: {}", lang.t(key)),
            WifiChangeError::Refused(p) => p
                .iter()
                .map(|(f, m)| {
                    if f.is_empty() {
                        m.clone()
                    } else {
                        format!("{f}: {m}")
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
            WifiChangeError::NotFound(ssid) => format!("{}: {ssid}", lang.t("wifi.err.unknown")),
            WifiChangeError::Failed(m) => m.clone(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            WifiChangeError::NotFound(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

/// A passphrase set through the UI or API, and whether it was generated.
struct Chosen {
    passphrase: String,
    generated: bool,
}

/// The passphrase to use: the one given (checked), or a generated one when left empty.
fn chosen_passphrase(
    ssid: &str,
    old: Option<&str>,
    given: Option<&str>,
) -> Result<Chosen, WifiChangeError> {
    match given.map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(Chosen {
            passphrase: generate_passphrase(),
            generated: true,
        }),
        Some(p) => {
            check_new_passphrase(ssid, old, p)
                .map_err(|key| WifiChangeError::Field("passphrase", key))?;
            Ok(Chosen {
                passphrase: p.to_string(),
                generated: false,
            })
        }
    }
}

/// What a passphrase change or a new network applied.
#[derive(Debug, Serialize)]
pub struct PassphraseApplied {
    pub version: u64,
    pub ssid: String,
    pub passphrase: String,
    pub passphrase_changed: String,
}

/// Set a new passphrase for `ssid` (generated when `given` is empty). Shared by the page and
/// the API.
pub async fn set_passphrase(
    ctx: &AdminContext,
    caller: &Caller,
    ssid: &str,
    given: Option<&str>,
) -> Result<PassphraseApplied, WifiChangeError> {
    let mut list = networks(ctx);
    let Some(index) = list.iter().position(|w| w.ssid == ssid) else {
        return Err(WifiChangeError::NotFound(ssid.to_string()));
    };
    let chosen = chosen_passphrase(ssid, Some(&list[index].passphrase), given)?;
    let changed = edgeward_config::today().format("%Y-%m-%d").to_string();
    list[index].passphrase.clone_from(&chosen.passphrase);
    list[index].passphrase_changed.clone_from(&changed);
    let how = if chosen.generated {
        "generated"
    } else {
        "typed"
    };
    let reason = format!("Wi-Fi `{ssid}`: passphrase changed ({how})");
    changes::apply_list(ctx, caller, "wifi", &list, &reason)
        .await
        .map(|version| PassphraseApplied {
            version,
            ssid: ssid.to_string(),
            passphrase: chosen.passphrase,
            passphrase_changed: changed,
        })
        .map_err(|e| WifiChangeError::from_form(e, index, caller.lang))
}

/// A network to add, as the form and the API send it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewNetwork {
    #[serde(default)]
    pub ssid: String,
    #[serde(default)]
    pub zone: String,
    #[serde(default)]
    pub security: String,
    #[serde(default)]
    pub passphrase: Option<String>,
}

/// Add a network (passphrase generated when none is given). Shared by the page and the API.
pub async fn add_network(
    ctx: &AdminContext,
    caller: &Caller,
    new: &NewNetwork,
) -> Result<PassphraseApplied, WifiChangeError> {
    let ssid = new.ssid.trim();
    if ssid.is_empty() {
        return Err(WifiChangeError::Field("ssid", "wifi.err.ssid_empty"));
    }
    let Some(security) = enum_value::<WifiSecurity>(new.security.trim()) else {
        return Err(WifiChangeError::Field("security", "wifi.err.security"));
    };
    let passphrase = chosen_passphrase(ssid, None, new.passphrase.as_deref())?.passphrase;
    let changed = edgeward_config::today().format("%Y-%m-%d").to_string();
    let mut list = networks(ctx);
    let index = list.len();
    list.push(WifiNetwork {
        ssid: ssid.to_string(),
        zone: new.zone.trim().to_string(),
        security,
        radio: String::new(),
        isolate_clients: None,
        passphrase: passphrase.clone(),
        passphrase_changed: changed.clone(),
        rotate_days: WifiNetwork::DEFAULT_ROTATE_DAYS,
        block_when_overdue: false,
    });
    let reason = format!(
        "Wi-Fi `{ssid}` added in zone {} ({})",
        new.zone.trim(),
        enum_name(&security)
    );
    changes::apply_list(ctx, caller, "wifi", &list, &reason)
        .await
        .map(|version| PassphraseApplied {
            version,
            ssid: ssid.to_string(),
            passphrase,
            passphrase_changed: changed,
        })
        .map_err(|e| WifiChangeError::from_form(e, index, caller.lang))
}

/// Whether `ssid` is taken off the air while its passphrase is overdue (004 §7.2). Shared by
/// the page and the API.
pub async fn set_block_when_overdue(
    ctx: &AdminContext,
    caller: &Caller,
    ssid: &str,
    block: bool,
) -> Result<u64, WifiChangeError> {
    let mut list = networks(ctx);
    let Some(index) = list.iter().position(|w| w.ssid == ssid) else {
        return Err(WifiChangeError::NotFound(ssid.to_string()));
    };
    list[index].block_when_overdue = block;
    let reason = if block {
        format!("Wi-Fi `{ssid}`: blocked when its passphrase is overdue")
    } else {
        format!("Wi-Fi `{ssid}`: still served when its passphrase is overdue")
    };
    changes::apply_list(ctx, caller, "wifi", &list, &reason)
        .await
        .map_err(|e| WifiChangeError::from_form(e, index, caller.lang))
}

/// Remove the network `ssid`. Shared by the page and the API.
pub async fn remove_network(
    ctx: &AdminContext,
    caller: &Caller,
    ssid: &str,
) -> Result<u64, WifiChangeError> {
    let mut list = networks(ctx);
    let before = list.len();
    list.retain(|w| w.ssid != ssid);
    if list.len() == before {
        return Err(WifiChangeError::NotFound(ssid.to_string()));
    }
    changes::apply_list(
        ctx,
        caller,
        "wifi",
        &list,
        &format!("Wi-Fi `{ssid}` removed"),
    )
    .await
    .map_err(|e| WifiChangeError::from_form(e, usize::MAX, caller.lang))
}

/// One network as the API shows it; the passphrase only to roles that manage Wi-Fi.
#[derive(Debug, Serialize)]
pub struct NetworkView {
    pub ssid: String,
    pub zone: String,
    pub security: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passphrase: Option<String>,
    pub passphrase_changed: String,
    pub rotate_days: u32,
    pub rotation: Rotation,
    /// The radio interface that serves it (none: defined, not served — no radio).
    pub served_on: Option<String>,
    /// Its connected clients, as hostapd last listed them.
    pub stations: Vec<edgeward_wifi::ctrl::Station>,
    /// Taken off the air while its passphrase is overdue.
    pub block_when_overdue: bool,
    /// Off the air now: overdue and set to be blocked.
    pub withheld: bool,
}

/// The connected clients of every SSID, from the daemon's Wi-Fi subsystem.
fn stations(
    ctx: &AdminContext,
) -> std::collections::BTreeMap<String, Vec<edgeward_wifi::ctrl::Station>> {
    std::fs::read(ctx.state_dir.join("wifi-stations.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

pub fn views(ctx: &AdminContext, caller: &Caller) -> Vec<NetworkView> {
    let today = edgeward_config::today();
    let show = caller.can(Permission::ManageWifi);
    let live = ctx.live.load();
    let served: Vec<(String, String)> = live
        .config
        .as_ref()
        .map(|c| {
            c.served_wifi()
                .iter()
                .map(|s| {
                    (
                        s.network.ssid.clone(),
                        format!("{} ({})", s.radio.name, s.ifname),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut clients = stations(ctx);
    networks(ctx)
        .into_iter()
        .map(|w| NetworkView {
            served_on: served
                .iter()
                .find(|(ssid, _)| *ssid == w.ssid)
                .map(|(_, on)| on.clone()),
            stations: clients.remove(&w.ssid).unwrap_or_default(),
            rotation: rotation(&w, today),
            block_when_overdue: w.block_when_overdue,
            withheld: w.withheld(today),
            security: enum_name(&w.security),
            passphrase: show.then(|| w.passphrase.clone()),
            ssid: w.ssid,
            zone: w.zone,
            passphrase_changed: w.passphrase_changed,
            rotate_days: w.rotate_days,
        })
        .collect()
}

fn rotation_pill(lang: Lang, r: &Rotation) -> Markup {
    let (class, key) = match r.state {
        RotationState::Ok => ("approved", "wifi.state.ok"),
        RotationState::DueSoon => ("pending", "wifi.state.soon"),
        RotationState::Overdue => ("blocked", "wifi.state.overdue"),
        RotationState::Unknown => ("pending", "wifi.state.unknown"),
    };
    html! {
        span class={ "pill " (class) } { (lang.t(key)) }
        @if let Some(d) = r.days_left { " " span.muted { "(" (d) " " (lang.t("wifi.days")) ")" } }
    }
}

/// What the page shows after a refused form: the form's values and the problems per field.
#[derive(Default)]
struct Refusal {
    /// The network the problem belongs to ("" for the add form).
    ssid: Option<String>,
    form: NewNetwork,
    problems: Vec<(String, String)>,
}

fn wifi_page(
    ctx: &AdminContext,
    caller: &Caller,
    msg: Option<&'static str>,
    opened: Option<&str>,
    refusal: &Refusal,
) -> Markup {
    let lang = caller.lang;
    let list = views(ctx, caller);
    let can_edit = caller.can(Permission::ManageWifi);
    let errors_for = |ssid: Option<&str>, field: &str| -> Vec<String> {
        if refusal.ssid.as_deref() != ssid {
            return Vec::new();
        }
        refusal
            .problems
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
            .collect()
    };
    let general: Vec<String> = refusal
        .problems
        .iter()
        .filter(|(f, _)| !["ssid", "zone", "security", "passphrase"].contains(&f.as_str()))
        .map(|(_, m)| m.clone())
        .collect();
    let zones = wifi_zones(ctx);
    let body = html! {
        p.muted { (lang.t("wifi.intro")) }
        @if !general.is_empty() { p.flash.err #wifi-error { (general.join("; ")) } }
        @if list.is_empty() { p #no-wifi { (lang.t("wifi.none")) } }
        @else {
            table #wifi {
                tr { th { "SSID" } th { (lang.t("dev.zone")) } th { (lang.t("wifi.security")) } th { (lang.t("wifi.served")) } th { (lang.t("wifi.passphrase")) } th { (lang.t("wifi.changed")) } th { (lang.t("wifi.due")) } th { (lang.t("wifi.rotation")) } @if can_edit { th {} } }
                @for n in &list {
                    tr data-ssid=(n.ssid) {
                        td { strong { (n.ssid) } }
                        td { (n.zone) }
                        td { (lang.lookup(&format!("wifi_security.{}", n.security)).unwrap_or(&n.security)) }
                        td.served { @if let Some(on) = &n.served_on { (on) } @else { span.muted { (lang.t("wifi.not_served")) } } }
                        td {
                            @if let Some(p) = &n.passphrase {
                                details open[opened == Some(n.ssid.as_str())] {
                                    summary { (lang.t("wifi.show")) }
                                    code.secret.passphrase { (p) }
                                }
                            } @else { span.muted { "••••••••" } }
                        }
                        td { (n.passphrase_changed) }
                        td { @if let Some(d) = n.rotation.due { (d.format("%Y-%m-%d")) } @else { "—" } }
                        td.rotation {
                            (rotation_pill(lang, &n.rotation))
                            @if n.withheld { br; span.pill.blocked.withheld { (lang.t("wifi.withheld")) } }
                            @if can_edit {
                                form.inline.overdue-block method="post" action={ "/wifi/" (urlencode(&n.ssid)) "/overdue" } {
                                    (csrf_field(caller))
                                    input type="hidden" name="block" value=(if n.block_when_overdue { "0" } else { "1" });
                                    button type="submit" title=(lang.t("wifi.block_help")) {
                                        (if n.block_when_overdue { lang.t("wifi.block_off") } else { lang.t("wifi.block_on") })
                                    }
                                }
                            } @else if n.block_when_overdue {
                                br; span.muted { (lang.t("wifi.block_set")) }
                            }
                        }
                        @if can_edit {
                            td {
                                form.inline.change-passphrase method="post" action={ "/wifi/" (urlencode(&n.ssid)) "/passphrase" } {
                                    (csrf_field(caller))
                                    input type="text" name="passphrase" autocomplete="off" placeholder=(lang.t("wifi.new_placeholder")) size="22";
                                    button.primary type="submit" { (lang.t("wifi.change")) }
                                    @for e in errors_for(Some(&n.ssid), "passphrase") { span.field-error { (crate::i18n::prose(lang, &e)) } }
                                }
                                a.sheet-link href={ "/wifi/" (urlencode(&n.ssid)) "/sheet" } target="_blank" { (lang.t("wifi.sheet")) } " "
                                form.inline method="post" action={ "/wifi/" (urlencode(&n.ssid)) "/delete" } data-confirm={ (lang.t("wifi.remove")) " " (n.ssid) "?" } {
                                    (csrf_field(caller))
                                    button.danger type="submit" { (lang.t("wifi.remove")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if list.iter().any(|n| n.served_on.is_some()) {
            h2 { (lang.t("wifi.clients")) }
            table #wifi-clients {
                tr { th { "SSID" } th { (lang.t("dev.mac")) } th { (lang.t("wifi.signal")) } th { (lang.t("wifi.since")) } th { (lang.t("wifi.bytes")) } @if caller.can(Permission::ManageDevices) { th {} } }
                @for n in &list {
                    @for st in &n.stations {
                        tr {
                            td { (n.ssid) }
                            td { a href={ "/devices/" (urlencode(&st.mac)) } { code { (st.mac) } } }
                            td { @if let Some(dbm) = st.signal_dbm { (dbm) " dBm" } @else { "—" } }
                            td { (st.connected_seconds / 60) " " (lang.t("wifi.minutes")) }
                            td { (st.rx_bytes + st.tx_bytes) }
                            @if caller.can(Permission::ManageDevices) {
                                td { form.inline method="post" action={ "/devices/" (urlencode(&st.mac)) "/block-unknown" } { (csrf_field(caller)) button.danger type="submit" { (lang.t("dev.block")) } } }
                            }
                        }
                    }
                }
            }
            @if list.iter().all(|n| n.stations.is_empty()) { p.muted #no-clients { (lang.t("wifi.no_clients")) } }
        }
        @if can_edit {
            h2 { (lang.t("wifi.add")) }
            form.row method="post" action="/wifi" #add-wifi {
                (csrf_field(caller))
                label { "SSID" input type="text" name="ssid" id="wifi-ssid" maxlength="32" value=(refusal.form.ssid);
                    @for e in errors_for(None, "ssid") { span.field-error { (crate::i18n::prose(lang, &e)) } } }
                label { (lang.t("dev.zone")) select name="zone" id="wifi-zone" {
                    @for z in &zones { option value=(z) selected[refusal.form.zone == *z || (refusal.form.zone.is_empty() && z == "guest")] { (z) } } }
                    @for e in errors_for(None, "zone") { span.field-error { (crate::i18n::prose(lang, &e)) } } }
                label { (lang.t("wifi.security")) select name="security" id="wifi-security" {
                    @for s in ["wpa2-wpa3", "wpa3", "wpa2"] { option value=(s) selected[refusal.form.security == s] { (lang.lookup(&format!("wifi_security.{s}")).unwrap_or(s)) } } }
                    @for e in errors_for(None, "security") { span.field-error { (crate::i18n::prose(lang, &e)) } } }
                label { (lang.t("wifi.passphrase")) input type="text" name="passphrase" id="wifi-passphrase" autocomplete="off" placeholder=(lang.t("wifi.new_placeholder"));
                    @for e in errors_for(None, "passphrase") { span.field-error { (crate::i18n::prose(lang, &e)) } } }
                button.primary type="submit" #add-wifi-submit { (lang.t("wifi.add")) }
            }
            p.muted { (lang.t("wifi.rules")) }
            p.muted #wifi-modes { (lang.t("wifi.modes_note")) }
        }
    };
    page(ctx, caller, "/wifi", lang.t("nav.wifi"), msg, body)
}

/// The printable sheet of one network for the noticeboard (004 §7.2: the passphrase changes,
/// so the sheet is printed again at each rotation): the SSID, the passphrase, a QR code phones
/// scan to join, and when the passphrase changes next. Only for roles that manage Wi-Fi (they
/// see the passphrase anyway); every print is audited like any view of a secret.
pub async fn sheet(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(ssid): Path<String>,
) -> Response {
    let lang = caller.lang;
    let Some(w) = networks(&ctx).into_iter().find(|w| w.ssid == ssid) else {
        return super::refused_page(
            lang,
            StatusCode::NOT_FOUND,
            &say!("no Wi-Fi network `{ssid}`", "không có mạng Wi-Fi `{ssid}`"),
        );
    };
    ctx.audit_view(
        &caller,
        say!(
            "Wi-Fi `{ssid}`: printable sheet with the passphrase",
            "Wi-Fi `{ssid}`: in tờ thông báo có mật khẩu"
        ),
    )
    .await;
    let qr_text = edgeward_wifi::qr::wifi_qr_text(&w.ssid, w.security, &w.passphrase);
    let svg = edgeward_admin::totp::qr_svg(&qr_text).unwrap_or_default();
    let rot = rotation(&w, edgeward_config::today());
    let body = html! {
        (maud::DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                title { (lang.t("wifi.sheet_title")) " — " (w.ssid) }
                link rel="stylesheet" href="/static/app.css";
            }
            body.sheet {
                main #wifi-sheet {
                    h1 { (lang.t("wifi.sheet_title")) }
                    table {
                        tr { th { (lang.t("wifi.sheet_ssid")) } td.big #sheet-ssid { (w.ssid) } }
                        tr { th { (lang.t("wifi.passphrase")) } td.big { code #sheet-passphrase { (w.passphrase) } } }
                        tr { th { (lang.t("wifi.security")) } td { (lang.value("wifi_security", &w.security)) } }
                    }
                    div.qr #sheet-qr data-text=(qr_text) { (crate::layout::raw(svg)) }
                    p { (lang.t("wifi.sheet_scan")) }
                    p.muted {
                        (lang.t("wifi.changed")) ": " (w.passphrase_changed)
                        @if let Some(d) = rot.due { " · " (lang.t("wifi.due")) ": " (d.format("%Y-%m-%d")) }
                    }
                    p.muted { (lang.t("wifi.sheet_rules")) }
                    p.noprint { a href="/wifi" { "← " (lang.t("nav.wifi")) } " · " a href="javascript:window.print()" { (lang.t("wifi.sheet_print")) } }
                }
            }
        }
    };
    body.into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct WifiQuery {
    pub msg: Option<String>,
    /// The network whose new passphrase to show opened.
    pub changed: Option<String>,
}

pub async fn list(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<WifiQuery>,
) -> Markup {
    ctx.audit_view(&caller, say!("Wi-Fi networks", "các mạng Wi-Fi"))
        .await;
    let msg = q.msg.as_deref().and_then(known_key);
    wifi_page(
        &ctx,
        &caller,
        msg,
        q.changed.as_deref(),
        &Refusal::default(),
    )
}

fn refused(
    ctx: &AdminContext,
    caller: &Caller,
    ssid: Option<String>,
    form: NewNetwork,
    e: WifiChangeError,
) -> Response {
    let status = e.status();
    let problems = match e {
        WifiChangeError::Field(field, key) => {
            vec![(field.to_string(), caller.lang.t(key).to_string())]
        }
        WifiChangeError::Refused(p) => p,
        other => vec![(String::new(), other.message(caller.lang))],
    };
    let refusal = Refusal {
        ssid,
        form,
        problems,
    };
    (status, wifi_page(ctx, caller, None, None, &refusal)).into_response()
}

fn shown_after(ssid: &str, msg: &str) -> Response {
    Redirect::to(&format!("/wifi?msg={msg}&changed={}", urlencode(ssid))).into_response()
}

#[derive(Debug, Deserialize)]
pub struct PassphraseForm {
    #[serde(default)]
    pub passphrase: String,
}

pub async fn change_passphrase(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(ssid): Path<String>,
    Form(f): Form<PassphraseForm>,
) -> Response {
    match set_passphrase(&ctx, &caller, &ssid, Some(&f.passphrase)).await {
        Ok(_) => shown_after(&ssid, "wifi.changed_ok"),
        Err(e) => refused(&ctx, &caller, Some(ssid), NewNetwork::default(), e),
    }
}

pub async fn add(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Form(f): Form<NewNetwork>,
) -> Response {
    match add_network(&ctx, &caller, &f).await {
        Ok(_) => shown_after(f.ssid.trim(), "wifi.added_ok"),
        Err(e) => refused(&ctx, &caller, None, f, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct OverdueForm {
    /// "1": block the network while overdue; "0": keep serving it.
    #[serde(default)]
    pub block: String,
}

pub async fn overdue(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(ssid): Path<String>,
    Form(f): Form<OverdueForm>,
) -> Response {
    match set_block_when_overdue(&ctx, &caller, &ssid, f.block == "1").await {
        Ok(_) => shown_after(&ssid, "common.save"),
        Err(e) => refused(&ctx, &caller, Some(ssid), NewNetwork::default(), e),
    }
}

pub async fn remove(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(ssid): Path<String>,
) -> Response {
    match remove_network(&ctx, &caller, &ssid).await {
        Ok(_) => Redirect::to("/wifi?msg=common.save").into_response(),
        Err(e) => refused(&ctx, &caller, Some(ssid), NewNetwork::default(), e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(changed: &str, rotate_days: u32) -> WifiNetwork {
        WifiNetwork {
            ssid: "Khach".into(),
            zone: "guest".into(),
            security: WifiSecurity::Wpa2Wpa3,
            radio: String::new(),
            isolate_clients: None,
            passphrase: "mot-hai-ba-bon".into(),
            passphrase_changed: changed.into(),
            rotate_days,
            block_when_overdue: false,
        }
    }

    #[test]
    fn every_message_key_has_a_text() {
        for key in [
            "wifi.err.length",
            "wifi.err.ascii",
            "wifi.err.ssid",
            "wifi.err.same",
            "wifi.err.ssid_empty",
            "wifi.err.security",
            "wifi.changed_ok",
            "wifi.added_ok",
            "wifi.state.ok",
            "wifi.state.soon",
            "wifi.state.overdue",
            "wifi.state.unknown",
        ] {
            assert!(known_key(key).is_some(), "{key}");
        }
    }

    #[test]
    fn generated_passphrases_are_long_readable_and_different() {
        let a = generate_passphrase();
        let b = generate_passphrase();
        assert_ne!(a, b);
        assert_eq!(a.len(), 19, "{a}");
        assert_eq!(a.matches('-').count(), 3, "{a}");
        assert!(
            a.chars()
                .all(|c| c == '-' || PASSPHRASE_ALPHABET.contains(&(c as u8)))
        );
        assert!(check_new_passphrase("Khach", None, &a).is_ok());
    }

    #[test]
    fn new_passphrases_are_checked() {
        assert_eq!(
            check_new_passphrase("Khach", None, "short-one"),
            Err("wifi.err.length")
        );
        assert_eq!(
            check_new_passphrase("Khach", None, "mật-khẩu-dài-lắm"),
            Err("wifi.err.ascii")
        );
        assert_eq!(
            check_new_passphrase("Khach", None, "wifi-khach-2026"),
            Err("wifi.err.ssid")
        );
        assert_eq!(
            check_new_passphrase("Khach", Some("Mot-Hai-Ba-2026"), "Mot-Hai-Ba-2026"),
            Err("wifi.err.same")
        );
        assert_eq!(
            check_new_passphrase("Khach", None, &"x".repeat(64)),
            Err("wifi.err.length")
        );
        assert!(check_new_passphrase("Khach", Some("old-one-12345"), "Mot Hai Ba 2026").is_ok());
    }

    #[test]
    fn rotation_states_follow_the_period() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let r = rotation(&net("2026-11-01", 182), today);
        assert_eq!(r.state, RotationState::Ok);
        assert_eq!(r.due, NaiveDate::from_ymd_opt(2027, 5, 2));
        assert_eq!(r.days_left, Some(161));
        assert_eq!(
            rotation(&net("2026-06-01", 182), today).state,
            RotationState::DueSoon
        );
        assert_eq!(
            rotation(&net("2026-01-01", 182), today).state,
            RotationState::Overdue
        );
        // A longer period than 6 months is capped (004 §7.2).
        assert_eq!(
            rotation(&net("2026-05-10", 400), today).due,
            NaiveDate::from_ymd_opt(2026, 11, 9)
        );
        assert_eq!(
            rotation(&net("not a date", 182), today).state,
            RotationState::Unknown
        );
        assert_eq!(
            due_count(&[net("2026-01-01", 182), net("2026-11-01", 182)], today),
            1
        );
    }
}
