//! Read-mostly pages: dashboard, zones and policies, uplinks, IDS with alert acknowledgement,
//! and the audit log.

use edgeward_config::say;
use edgeward_event::Outcome;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::Msg;
use crate::AdminContext;
use crate::guard::Caller;
use crate::i18n::Lang;
use crate::layout::{csrf_field, page};
use crate::roles::Permission;
use edgeward_event::{Event, EventBody};

/// An audit action (`auth.login`) as a person says it; an action without a name keeps its
/// dotted form as code.
fn audit_action(lang: Lang, action: &str) -> Markup {
    if let Some(name) = lang.lookup(&format!("audit_action.{action}")) {
        html! { (name) }
    } else {
        html! { code { (action) } }
    }
}

fn state_key(state: &str) -> &'static str {
    match state {
        "up" => "uplink.state.up",
        "down" => "uplink.state.down",
        _ => "uplink.state.unknown",
    }
}

fn uplink_table(ctx: &AdminContext, lang: Lang) -> Markup {
    let live = ctx.live.load();
    let board = ctx.board.read().map(|b| b.clone()).unwrap_or_default();
    let uplinks = live
        .config
        .as_ref()
        .map(|c| c.uplinks.clone())
        .unwrap_or_default();
    html! {
        table #uplinks {
            tr { th { (lang.t("uplink.name")) } th { (lang.t("uplink.kind")) } th { (lang.t("uplink.interface")) } th { (lang.t("uplink.state")) } th { (lang.t("uplink.loss")) } th { (lang.t("uplink.latency")) } th { (lang.t("uplink.weight")) } }
            @for u in &uplinks {
                @let st = board.get(&u.name);
                @let state = st.map_or("unknown", |s| s.state.as_str());
                @let loss = st.map(|s| s.targets.iter().map(|t| t.loss_percent).fold(0.0, f64::max));
                @let p95 = st.and_then(|s| s.targets.iter().filter_map(|t| t.p95_ms).reduce(f64::max));
                tr {
                    td { strong { (u.name) } }
                    td { (lang.value("uplink_kind", &u.kind)) }
                    td { (u.interface) }
                    td { span class={ "pill " (state) } { (lang.t(state_key(state))) } }
                    td { @if let Some(l) = loss { (format!("{l:.0} %")) } @else { "—" } }
                    td { @if let Some(p) = p95 { (format!("{p:.1} ms")) } @else { "—" } }
                    td { (u.weight) }
                }
            }
        }
    }
}

fn alerts_table(ctx: &AdminContext, caller: &Caller, events: &[Arc<Event>]) -> Markup {
    let lang = caller.lang;
    let can_ack = caller.can(Permission::AckAlerts);
    let can_override = caller.can(Permission::ManageNetwork);
    html! {
        @if events.is_empty() { p.muted #no-alerts { (lang.t("dash.no_alerts")) } } @else {
            table #alerts {
                tr { th { (lang.t("ids.time")) } th { (lang.t("ids.severity")) } th { (lang.t("ids.signature")) } th { (lang.t("ids.source")) } th { (lang.t("ids.destination")) } th { (lang.t("ids.action")) } th { (lang.t("ids.evidence")) } th { (lang.t("ids.ack")) } @if can_override { th { (lang.t("ids.rule")) } } }
                @for ev in events {
                    @if let EventBody::Alert(a) = &ev.body {
                        tr.alert data-sid=(a.alert.signature_id) {
                            td { (ev.timestamp.format("%Y-%m-%d %H:%M:%S")) }
                            td { span class={ "pill sev" (a.alert.severity) } { (lang.t(match a.alert.severity { 1 => "sev.1", 2 => "sev.2", _ => "sev.3" })) } }
                            td { span lang="en" { (a.alert.signature) } br; span.muted { "sid " (a.alert.signature_id) " · " span lang="en" { (a.alert.category) } } }
                            td { (a.src_ip) @if let Some(p) = a.src_port { ":" (p) } }
                            td { (a.dest_ip) @if let Some(p) = a.dest_port { ":" (p) } }
                            td { @if a.alert.action == "blocked" { span.pill.down { (lang.t("ids.action.blocked")) } } @else { (lang.t("ids.action.allowed")) } }
                            td {
                                @if let Some(e) = &a.evidence {
                                    @if can_ack {
                                        a.evidence href={ "/ids/evidence/" (e.id) } title={ "SHA-256 " (e.sha256) } { "pcap (" (e.packets) ")" }
                                    } @else { span title={ "SHA-256 " (e.sha256) } { "pcap (" (e.packets) ")" } }
                                } @else { span.muted { (lang.t("ids.evidence_none")) } }
                            }
                            td {
                                @if let Some(ack) = ctx.recent.ack_of(ev.seq) {
                                    span.muted { "✓ " (lang.t("ids.acked")) " " (ack.by) }
                                } @else if can_ack {
                                    form method="post" action={ "/ids/alerts/" (ev.seq) "/ack" } {
                                        (csrf_field(caller))
                                        button type="submit" { (lang.t("ids.ack")) }
                                    }
                                }
                            }
                            @if can_override {
                                td {
                                    form.override method="post" action={ "/ids/rules/" (a.alert.signature_id) } {
                                        (csrf_field(caller))
                                        select name="action" {
                                            option value="drop" { (lang.t("ids.rule.drop")) }
                                            option value="alert" { (lang.t("ids.rule.alert")) }
                                            option value="disable" { (lang.t("ids.rule.disable")) }
                                            option value="clear" { (lang.t("ids.rule.clear")) }
                                        }
                                        button type="submit" { (lang.t("ids.rule_set")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The IDS page's alert filters (`?sev=1&action=blocked&q=…&unacked=1`).
#[derive(Debug, Default, Deserialize)]
pub struct AlertFilter {
    pub sev: Option<u8>,
    pub action: Option<String>,
    pub q: Option<String>,
    pub unacked: Option<String>,
    pub msg: Option<String>,
}

impl AlertFilter {
    fn keeps(&self, ctx: &AdminContext, ev: &Event) -> bool {
        let EventBody::Alert(a) = &ev.body else {
            return false;
        };
        if let Some(s) = self.sev.filter(|s| (1..=3).contains(s))
            && a.alert.severity.clamp(1, 3) != s
        {
            return false;
        }
        if let Some(act) = self.action.as_deref().filter(|a| !a.is_empty())
            && a.alert.action != act
        {
            return false;
        }
        if self.unacked.as_deref().is_some_and(|v| !v.is_empty())
            && ctx.recent.ack_of(ev.seq).is_some()
        {
            return false;
        }
        match self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            None => true,
            Some(q) => {
                let q = q.to_lowercase();
                a.alert.signature.to_lowercase().contains(&q)
                    || a.alert.signature_id.to_string() == q
                    || a.src_ip.to_string().contains(&q)
                    || a.dest_ip.to_string().contains(&q)
                    || a.alert.category.to_lowercase().contains(&q)
            }
        }
    }
}

fn filter_form(lang: Lang, f: &AlertFilter) -> Markup {
    let sel = |v: &str, cur: Option<&str>| cur.unwrap_or("") == v;
    let sev = f.sev.map(|s| s.to_string());
    html! {
        form #alert-filter method="get" action="/ids" {
            label { (lang.t("ids.severity")) " "
                select name="sev" {
                    option value="" selected[sel("", sev.as_deref())] { (lang.t("ids.filter_all")) }
                    @for (v, k) in [("1", "sev.1"), ("2", "sev.2"), ("3", "sev.3")] {
                        option value=(v) selected[sel(v, sev.as_deref())] { (lang.t(k)) }
                    }
                }
            }
            " "
            label { (lang.t("ids.action")) " "
                select name="action" {
                    option value="" selected[sel("", f.action.as_deref())] { (lang.t("ids.filter_all")) }
                    option value="blocked" selected[sel("blocked", f.action.as_deref())] { (lang.t("ids.action.blocked")) }
                    option value="allowed" selected[sel("allowed", f.action.as_deref())] { (lang.t("ids.action.allowed")) }
                }
            }
            " "
            input type="search" name="q" placeholder=(lang.t("ids.filter_text")) value=(f.q.clone().unwrap_or_default());
            " "
            label { input type="checkbox" name="unacked" value="1" checked[f.unacked.as_deref().is_some_and(|v| !v.is_empty())]; " " (lang.t("ids.filter_unacked")) }
            " "
            button type="submit" { (lang.t("ids.filter")) }
        }
    }
}

/// The overrides in force, from the running configuration.
fn overrides(lang: Lang, c: Option<&edgeward_config::Config>) -> Markup {
    let Some(c) = c else { return html! {} };
    let ids = &c.ids;
    let list = |v: &[u32]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let none = ids.drop_sids.is_empty()
        && ids.alert_only_sids.is_empty()
        && ids.disabled_sids.is_empty()
        && ids.drop_classtypes.is_empty()
        && ids.drop_severity.is_none();
    html! {
        h2 { (lang.t("ids.overrides")) }
        @if none { p.muted #ids-overrides { (lang.t("ids.overrides_none")) } } @else {
            table #ids-overrides {
                @if !ids.drop_sids.is_empty() { tr { th { (lang.t("ids.rule.drop")) } td { "sid " (list(&ids.drop_sids)) } } }
                @if !ids.drop_classtypes.is_empty() { tr { th { (lang.t("ids.rule.drop")) } td { (ids.drop_classtypes.join(", ")) } } }
                @if let Some(s) = ids.drop_severity { tr { th { (lang.t("ids.rule.drop")) } td { (lang.t("ids.severity")) " ≤ " (s) } } }
                @if !ids.alert_only_sids.is_empty() { tr { th { (lang.t("ids.rule.alert")) } td { "sid " (list(&ids.alert_only_sids)) } } }
                @if !ids.disabled_sids.is_empty() { tr { th { (lang.t("ids.rule.disable")) } td { "sid " (list(&ids.disabled_sids)) } } }
            }
        }
    }
}

pub async fn dashboard(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Query(m): Query<Msg>,
) -> Markup {
    let lang = caller.lang;
    let live = ctx.live.load();
    let sev = ctx.recent.open_alerts_by_severity();
    let overview = super::devices::DeviceOverview::load(&ctx);
    let pending = &overview.waiting;
    let quarantined = overview.quarantined();
    let wifi_due = live.config.as_ref().map_or(0, |c| {
        super::wifi::due_count(&c.wifi, edgeward_config::today())
    });
    let body = html! {
        div.grid {
            div.tile #tile-version { div.muted { (lang.t("dash.config_version")) } div.big { "v" (live.version) } }
            div.tile #tile-sev1 { div.muted { (lang.t("dash.open_alerts")) " · " (lang.t("sev.1")) } div.big { (sev[0]) } }
            div.tile #tile-sev2 { div.muted { (lang.t("dash.open_alerts")) " · " (lang.t("sev.2")) } div.big { (sev[1]) } }
            div.tile #tile-sev3 { div.muted { (lang.t("dash.open_alerts")) " · " (lang.t("sev.3")) } div.big { (sev[2]) } }
            a.tile #tile-pending href="/devices#waiting-title" { div.muted { (lang.t("dash.pending_devices")) } div.big { (pending.len()) } }
            a.tile #tile-quarantined href="/devices" { div.muted { (lang.t("dev.quarantined")) } div.big { (quarantined.len()) } }
            a.tile #tile-wifi href="/wifi" { div.muted { (lang.t("dash.wifi_due")) } div.big { (wifi_due) } }
        }
        h2 { (lang.t("dash.uplinks")) }
        (uplink_table(&ctx, lang))
        h2 { (lang.t("dash.pending_devices")) }
        @if pending.is_empty() { p.muted { (lang.t("dash.none")) } } @else {
            table #dash-waiting { @for d in pending.iter().take(10) { tr { td { code { (d.mac) } } td { (d.vendor.clone().unwrap_or_default()) } td { (d.hostname.clone().unwrap_or_default()) } td { (d.zone.clone().unwrap_or_default()) } td { a href={ "/devices?approve=" (crate::layout::urlencode(&d.mac)) "#add-device" } { (lang.t("dev.approve")) " →" } } } } }
        }
        @if !quarantined.is_empty() {
            h2 { (lang.t("dev.quarantined")) }
            table #dash-quarantined { @for d in &quarantined { tr { td { code { (d.mac) } } td { (d.user) } td { @if let Some(ip) = d.ip { (ip) } } td.quarantine-reason { (crate::i18n::show(lang, &edgeward_config::history::reason_text(&d.quarantine_reason))) } } } }
        }
        h2 { (lang.t("dash.alerts")) }
        (alerts_table(&ctx, &caller, &ctx.recent.alerts(10)))
    };
    page(
        &ctx,
        &caller,
        "/dashboard",
        lang.t("dash.title"),
        m.key(),
        body,
    )
}

pub async fn uplinks(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
) -> Markup {
    let lang = caller.lang;
    let board = ctx.board.read().map(|b| b.clone()).unwrap_or_default();
    let mut names: Vec<_> = board.keys().cloned().collect();
    names.sort();
    let can_edit = caller.can(Permission::ManageNetwork);
    let body = html! {
        (uplink_table(&ctx, lang))
        @for n in &names {
            @if let Some(s) = board.get(n) {
                h2 { (s.name) " — " (if lang == Lang::Vi && !s.last_reason_vi.is_empty() { &s.last_reason_vi } else { &s.last_reason }) }
                table {
                    tr { th { (lang.t("uplink.probe")) } th { (lang.t("uplink.target")) } th { (lang.t("uplink.samples")) } th { (lang.t("uplink.loss")) } th { (lang.t("uplink.latency")) } }
                    @for t in &s.targets {
                        tr { td { (lang.lookup(&format!("probe_kind.{}", t.kind)).unwrap_or(&t.kind)) } td { (t.target) } td { (t.samples) } td { (format!("{:.0} %", t.loss_percent)) } td { @if let Some(p) = t.p95_ms { (format!("{p:.1} ms")) } @else { "—" } } }
                    }
                }
            }
        }
        @if can_edit { p { a.button href="/config/edit?sections=uplinks" #edit-uplinks { (lang.t("cfg.edit")) " — " (lang.t("nav.uplinks")) } } }
    };
    page(&ctx, &caller, "/uplinks", lang.t("nav.uplinks"), None, body)
}

pub async fn zones(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Query(m): Query<Msg>,
) -> Markup {
    let lang = caller.lang;
    ctx.audit_view(
        &caller,
        say!("zones and policies", "vùng mạng và chính sách"),
    )
    .await;
    let live = ctx.live.load();
    let can_edit = caller.can(Permission::ManageNetwork);
    let body = html! {
        @if let Some(c) = &live.config {
            h2 { (lang.t("zones.zones")) }
            table #zones {
                tr { th { (lang.t("zones.name")) } th { (lang.t("zones.kind")) } th { (lang.t("zones.prefixes")) } th { (lang.t("zones.description")) } }
                @for z in &c.zones {
                    tr { td { strong { (z.name) } } td { (lang.value("zone_kind", &z.kind)) } td { (z.prefixes.iter().map(std::string::ToString::to_string).collect::<Vec<_>>().join(", ")) } td { (crate::i18n::prose(lang, &z.description)) } }
                }
            }
            h2 { (lang.t("zones.policies")) }
            p.muted { (lang.t("zones.default_deny")) }
            table #policies {
                tr { th { "#" } th { (lang.t("pol.from")) } th { (lang.t("pol.to")) } th { (lang.t("pol.services")) } th { (lang.t("pol.action")) } th { (lang.t("pol.comment")) } }
                @for (i, p) in c.policies.iter().enumerate() {
                    tr {
                        td { (i) } td { (p.from) } td { (if p.to == edgeward_config::GATEWAY_ZONE { lang.t("pol.gateway").to_string() } else { p.to.clone() }) }
                        td { (if p.services.is_empty() { lang.service("any") } else { p.services.iter().map(|s| lang.service(s)).collect::<Vec<_>>().join(", ") }) }
                        td { (lang.value("action", &p.action)) }
                        td { (crate::i18n::prose(lang, &p.comment)) }
                    }
                }
            }
        }
        @if can_edit {
            p { a href="/config/edit?sections=zones,policies,services,address_groups" #edit-policies { (lang.t("cfg.edit")) " — " (lang.t("nav.zones")) } " · "
                a href="/config/edit?sections=firewall,port_forwards,interfaces" { (lang.t("cfg.edit")) " — " (lang.t("zones.firewall_sections")) } }
        }
    };
    page(&ctx, &caller, "/zones", lang.t("nav.zones"), m.key(), body)
}

/// Rule files and their enabled rule counts in a directory.
fn rule_files(dir: &std::path::Path) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "rules") {
            let n = std::fs::read_to_string(&p).map_or(0, |t| {
                t.lines()
                    .filter(|l| {
                        let l = l.trim_start();
                        l.starts_with("alert")
                            || l.starts_with("drop")
                            || l.starts_with("pass")
                            || l.starts_with("reject")
                    })
                    .count()
            });
            out.push((p.display().to_string(), n));
        }
    }
    out.sort();
    out
}

pub async fn ids(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Query(filter): Query<AlertFilter>,
) -> Markup {
    let m = Msg {
        msg: filter.msg.clone(),
    };
    let lang = caller.lang;
    let live = ctx.live.load();
    let can_edit = caller.can(Permission::ManageNetwork);
    let (mode, dir) = live
        .config
        .as_ref()
        .map(|c| {
            (
                format!("{:?}", c.ids.mode).to_uppercase()
                    + if c.ids.enabled { "" } else { lang.t("ids.off") },
                c.ids.rules_dir.clone(),
            )
        })
        .unwrap_or_default();
    let mut files = rule_files(std::path::Path::new(&dir));
    files.extend(rule_files(&ctx.state_dir.join("rules").join("current")));
    // Written by the daemon's IDS every 2 s while it runs (gateway/src/subsystems/ids.rs).
    let status: Option<serde_json::Value> = std::fs::read(ctx.state_dir.join("ids-status.json"))
        .ok()
        .and_then(|raw| serde_json::from_slice(&raw).ok());
    let num = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or(0);
    let body = html! {
        p { (lang.t("ids.mode")) ": " strong #ids-mode { (mode) } }
        @match &status {
            Some(st) => {
                table #ids-status {
                    tr { th { (lang.t("ids.state")) } td { strong { (lang.t("ids.running")) } " — " (st["mode"].as_str().unwrap_or("").to_uppercase()) } }
                    tr { th { (lang.t("ids.interfaces")) } td { (st["interfaces"].as_array().map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default()) } }
                    tr { th { (lang.t("ids.rules_in_force")) } td { (num(st, "rules")) " — " (st["rules_source"].as_str().unwrap_or("")) } }
                    tr { th { (lang.t("ids.packets")) } td #ids-packets { (num(st, "packets")) } }
                    tr { th { (lang.t("ids.alerts_total")) } td { (num(st, "alerts")) } }
                    @if st["mode"] == "ips" {
                        tr { th { (lang.t("ids.blocked")) } td { (num(st, "dropped")) } }
                        tr { th { (lang.t("ids.fail_policy")) } td { (if st["fail_open"] == true { lang.t("ids.fail_open") } else { lang.t("ids.fail_closed") }) } }
                        tr { th { (lang.t("ids.overflows")) } td { (num(st, "queue_overflows")) } }
                        tr { th { (lang.t("ids.bypassed")) } td { (num(st, "bypassed")) } }
                        tr { th { (lang.t("ids.resets")) } td { (num(st, "resets")) } }
                        tr { th { (lang.t("ids.latency")) } td { (num(st, "latency_p50_us")) " / " (num(st, "latency_p99_us")) " µs" } }
                    }
                    tr { th { (lang.t("ids.evidence_kept")) } td { (num(st, "evidence_recorded")) " / " (num(st, "evidence_skipped")) } }
                    tr { th { (lang.t("ids.kernel_drops")) } td { (num(st, "kernel_drops")) } }
                    tr #ids-bundle { th { (lang.t("ids.bundle")) } td {
                        @match st["bundle"]["bundle_version"].as_u64() {
                            Some(v) => {
                                "v" (v) " · " (st["bundle"]["bundle_mode"].as_str().unwrap_or("").to_uppercase()) " · "
                                strong { (lang.t(match st["bundle"]["bundle_state"].as_str().unwrap_or("") {
                                    "canary" => "ids.bundle.canary",
                                    "enforcing" => "ids.bundle.enforcing",
                                    _ => "ids.bundle.alert_only",
                                })) }
                                @if let Some(t) = st["bundle"]["canary_until"].as_str() { " (" (lang.t("ids.bundle.until")) " " (t) ")" }
                            }
                            None => { (lang.t("ids.bundle.none")) }
                        }
                    } }
                    @if let Some(r) = st["reverted"].as_object() {
                        tr #ids-reverted { th { (lang.t("ids.bundle.reverted")) } td { "v" (r.get("version").and_then(serde_json::Value::as_u64).unwrap_or(0)) " — " (r.get("at").and_then(|v| v.as_str()).unwrap_or("")) ": " (r.get("reason").and_then(|v| v.as_str()).unwrap_or("")) } }
                    }
                    @if st["mode"] == "ips" {
                        tr #ids-drop-sids { th { (lang.t("ids.drop_rules")) } td {
                            (num(&st["bundle"], "drop_rules"))
                            @let sids: Vec<String> = st["bundle"]["drop_sids"].as_array().map(|a| a.iter().take(50).map(ToString::to_string).collect()).unwrap_or_default();
                            @if !sids.is_empty() { br; span.muted { "sid " (sids.join(", ")) @if num(&st["bundle"], "drop_rules") > 50 { " …" } } }
                        } }
                    }
                    tr { th { (lang.t("ids.restarts")) } td { (num(st, "restarts")) } }
                }
            }
            None => { p.muted #ids-status { (lang.t("ids.state")) ": " (lang.t("ids.not_running")) } }
        }
        h2 { (lang.t("ids.rulesets")) }
        @if files.is_empty() { p.muted { code { (dir) } ": " (lang.t("dash.none")) } } @else {
            table { @for (f, n) in &files { tr { td { (f) } td { (n) } } } }
        }
        @if can_edit { p { a href="/config/edit?sections=ids,soc" #edit-ids { (lang.t("cfg.edit")) " — IDS" } } }
        (overrides(lang, live.config.as_deref()))
        h2 { (lang.t("ids.recent")) }
        (filter_form(lang, &filter))
        @let shown: Vec<Arc<Event>> = ctx.recent.alerts(2000).into_iter().filter(|e| filter.keeps(&ctx, e)).take(200).collect();
        (alerts_table(&ctx, &caller, &shown))
    };
    page(&ctx, &caller, "/ids", lang.t("nav.ids"), m.key(), body)
}

/// Acknowledge an alert (operators and security admins). Shared by the page and the API.
pub async fn acknowledge(
    ctx: &AdminContext,
    caller: &Caller,
    seq: u64,
) -> Result<bool, (StatusCode, String)> {
    if !ctx.recent.has_alert(seq) {
        return Err((
            StatusCode::NOT_FOUND,
            format!("no recent alert with sequence number {seq}"),
        ));
    }
    let fresh = ctx
        .recent
        .acknowledge(seq, &caller.username, ctx.now())
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e))?;
    if fresh {
        ctx.audit(
            &caller.username,
            &caller.source_str(),
            "alert.ack",
            Outcome::Success,
            say!(
                "alert seq {seq} acknowledged",
                "đã ghi nhận cảnh báo số {seq}"
            ),
            None,
        )
        .await;
    }
    Ok(fresh)
}

pub async fn ack(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(seq): Path<u64>,
) -> Response {
    match acknowledge(&ctx, &caller, seq).await {
        Ok(_) => super::done("/ids", "common.saved"),
        Err((s, m)) => super::failed_page(caller.lang, s, &m),
    }
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    pub days: Option<u32>,
}

/// Audit events of the last `days` days from the encrypted store, newest first (bounded).
pub async fn audit_events(
    ctx: &Arc<AdminContext>,
    days: u32,
    limit: usize,
) -> Vec<edgeward_event::Event> {
    let store_dir = ctx.store_dir.clone();
    let key_dir = ctx.key_dir.clone();
    let since = ctx.now() - chrono::Duration::days(days.clamp(1, 400).into());
    let from_store = tokio::task::spawn_blocking(move || -> Option<Vec<edgeward_event::Event>> {
        let keys = edgeward_store::store::Keyring::open(&key_dir).ok()?;
        let mut out = Vec::new();
        let q = edgeward_store::store::Query {
            since: Some(since),
            kind: Some("audit".into()),
            ..Default::default()
        };
        edgeward_store::store::query(&store_dir, &keys, &q, &mut out).ok()?;
        Some(
            String::from_utf8_lossy(&out)
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect(),
        )
    })
    .await
    .ok()
    .flatten()
    .unwrap_or_default();
    let mut events = from_store;
    // Events not yet flushed to the store: from the in-memory ring.
    let last = events.last().map_or(0, |e| e.seq);
    for ev in ctx.recent.audit_events() {
        if ev.seq > last && ev.timestamp >= since {
            events.push((*ev).clone());
        }
    }
    events.reverse();
    events.truncate(limit);
    events
}

pub async fn audit(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<AuditQuery>,
) -> Markup {
    let lang = caller.lang;
    let days = q.days.unwrap_or(7);
    let events = audit_events(&ctx, days, 1000).await;
    let body = html! {
        form.row method="get" action="/audit" {
            label { (lang.t("audit.days")) input type="number" name="days" value=(days) min="1" max="400"; }
            button type="submit" { (lang.t("audit.show")) }
        }
        table #audit {
            tr { th { (lang.t("audit.time")) } th { (lang.t("audit.actor")) } th { (lang.t("audit.source")) } th { (lang.t("audit.action")) } th { (lang.t("audit.outcome")) } th { (lang.t("audit.detail")) } }
            @for ev in &events {
                @if let EventBody::Audit(a) = &ev.body {
                    tr {
                        td { (ev.timestamp.format("%Y-%m-%d %H:%M:%S")) }
                        td { (a.actor) } td { (a.source) } td { (audit_action(lang, &a.action)) }
                        td { span class={ "pill " (if a.outcome == Outcome::Success { "active" } else { "blocked" }) } { (lang.value("outcome", &a.outcome)) } }
                        td { (crate::i18n::prose(lang, a.detail_in(lang.cfg()))) @if let Some(d) = &a.diff { details { summary { (lang.t("cfg.diff")) } (crate::layout::diff_view(d)) } } }
                    }
                }
            }
        }
    };
    page(&ctx, &caller, "/audit", lang.t("audit.title"), None, body)
}
