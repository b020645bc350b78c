//! The page shell: header with the appliance's name, navigation by role, the commit-confirm
//! banner with its countdown, the language switch; plus the stylesheet and the one small
//! script (countdown, confirmation prompts), served from the appliance itself (no CDN).

use chrono::Utc;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::AdminContext;
use super::caller::{Access, Caller};
use super::i18n::Lang;
use super::roles::Permission;

/// Navigation entries: path, i18n key, permission to see it.
const NAV: [(&str, &str, Permission); 10] = [
    ("/dashboard", "nav.dashboard", Permission::ViewStatus),
    ("/zones", "nav.zones", Permission::ViewConfig),
    ("/uplinks", "nav.uplinks", Permission::ViewStatus),
    ("/ids", "nav.ids", Permission::ViewStatus),
    ("/devices", "nav.devices", Permission::ViewConfig),
    ("/wifi", "nav.wifi", Permission::ViewConfig),
    ("/config", "nav.config", Permission::ViewConfig),
    ("/accounts", "nav.accounts", Permission::ManageAccounts),
    ("/audit", "nav.audit", Permission::ViewAudit),
    ("/system", "nav.system", Permission::ViewConfig),
];

fn head(lang: Lang, title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " — edgeward" }
            link rel="stylesheet" href="/static/app.css";
            script src="/static/app.js" defer {}
        }
        @if lang == Lang::En {}
    }
}

pub fn csrf_field(caller: &Caller) -> Markup {
    html! { input type="hidden" name="_csrf" value=(caller.csrf); }
}

fn lang_switch(lang: Lang, back: &str) -> Markup {
    let other = match lang {
        Lang::Vi => "en",
        Lang::En => "vi",
    };
    html! {
        a.lang href={ "/lang?to=" (other) "&back=" (urlencode(back)) } id="lang-switch" { (lang.t("nav.language")) }
    }
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)])
        .map(|v| v.trim_start_matches("x=").to_string())
        .unwrap_or_default()
}

/// A page for a logged-in caller. `active` is the navigation path to highlight.
pub fn page(
    ctx: &AdminContext,
    caller: &Caller,
    active: &str,
    title: &str,
    msg: Option<&'static str>,
    body: Markup,
) -> Markup {
    let lang = caller.lang;
    let live = ctx.live.load();
    let can_change = Access::AnyChange.allows(caller.role);
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body {
                header.top {
                    div.brand { span.logo { "◆" } " " (lang.t("app.title")) " · " span.host { (ctx.host_id) } }
                    div.user {
                        (lang.t("common.signed_in_as")) " " strong #whoami { (caller.username) }
                        " (" (lang.t(role_key(caller.role))) ") · "
                        a href="/password" { (lang.t("nav.password")) } " · "
                        (lang_switch(lang, active))
                        " · "
                        form.inline method="post" action="/logout" {
                            (csrf_field(caller))
                            button.link type="submit" #logout { (lang.t("nav.logout")) }
                        }
                    }
                }
                @if let Some(a) = &live.awaiting {
                    div.banner.warn #awaiting {
                        (lang.t("cfg.awaiting")) " "
                        strong #countdown data-deadline=(a.deadline.timestamp()) { ((a.deadline - Utc::now()).num_seconds().max(0)) }
                        " " (lang.t("cfg.seconds")) " (v" (a.version) " → v" (a.rollback_version) ")."
                        @if can_change {
                            form.inline method="post" action="/config/confirm" {
                                (csrf_field(caller))
                                button.primary type="submit" #confirm-change { (lang.t("cfg.confirm")) }
                            }
                            form.inline method="post" action="/config/rollback-now" {
                                (csrf_field(caller))
                                button type="submit" #rollback-now { (lang.t("cfg.rollback_now")) }
                            }
                        }
                    }
                }
                div.shell {
                    nav.side {
                        ul {
                            @for (path, key, perm) in NAV {
                                @if caller.can(perm) {
                                    li { a href=(path) class=[(active == path).then_some("active")] { (lang.t(key)) } }
                                }
                            }
                        }
                    }
                    main {
                        h1 { (title) }
                        @if let Some(m) = msg { p.flash.ok #flash { (lang.t(m)) } }
                        (body)
                    }
                }
            }
        }
    }
}

/// A page without navigation (login, first-login steps, errors before login).
pub fn auth_page(lang: Lang, title: &str, back: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body.auth {
                div.card {
                    div.brand { span.logo { "◆" } " " (lang.t("app.title")) }
                    div.right { (lang_switch(lang, back)) }
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

pub fn bare_page(lang: Lang, title: &str, message: &str) -> Markup {
    bare_page_markup(lang, title, html! { (message) })
}

/// A page with one error message (already rendered) and a way back.
pub fn bare_page_markup(lang: Lang, title: &str, message: Markup) -> Markup {
    auth_page(
        lang,
        title,
        "/dashboard",
        html! {
            p.flash.err #error { (message) }
            p { a href="/dashboard" { (lang.t("common.back")) } }
        },
    )
}

pub fn role_key(role: super::roles::Role) -> &'static str {
    match role {
        super::roles::Role::Viewer => "role.viewer",
        super::roles::Role::Operator => "role.operator",
        super::roles::Role::SecurityAdmin => "role.security_admin",
        super::roles::Role::SystemAdmin => "role.system_admin",
    }
}

/// A unified diff with added and removed lines marked for colour.
pub fn diff_view(diff: &str) -> Markup {
    html! {
        pre.diff {
            @for line in diff.lines() {
                @if line.starts_with("+++") || line.starts_with("---") {
                    span.meta { (line) "\n" }
                } @else if line.starts_with('+') {
                    span.add { (line) "\n" }
                } @else if line.starts_with('-') {
                    span.del { (line) "\n" }
                } @else if line.starts_with("@@") {
                    span.meta { (line) "\n" }
                } @else {
                    (line) "\n"
                }
            }
        }
    }
}

pub fn raw(s: String) -> PreEscaped<String> {
    PreEscaped(s)
}

pub const CSS: &str = r#"
:root { --fg:#1d2733; --muted:#5d6b7a; --line:#d8dee6; --bg:#f4f6f9; --card:#fff; --accent:#0b5cad; --ok:#1d7f3a; --warn:#a15c00; --err:#b3261e; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.45 "DejaVu Sans", "Noto Sans", system-ui, sans-serif; color:var(--fg); background:var(--bg); }
a { color: var(--accent); }
header.top { display:flex; justify-content:space-between; align-items:center; padding:10px 18px; background:#12324f; color:#fff; }
header.top a, header.top button.link { color:#cfe3ff; }
.brand { font-weight:bold; font-size:17px; }
.logo { color:#6fb2ff; }
.host { font-weight:normal; opacity:.8; }
.shell { display:flex; min-height: calc(100vh - 46px); }
nav.side { width: 230px; background:#fff; border-right:1px solid var(--line); padding-top:10px; }
nav.side ul { list-style:none; margin:0; padding:0; }
nav.side a { display:block; padding:9px 18px; text-decoration:none; color:var(--fg); }
nav.side a.active { background:#e6f0fb; border-left:4px solid var(--accent); padding-left:14px; font-weight:bold; }
main { flex:1; padding: 18px 26px 40px; max-width: 1200px; }
h1 { font-size: 22px; margin: 4px 0 16px; }
h2 { font-size: 17px; margin: 22px 0 10px; }
table { border-collapse: collapse; width:100%; background:var(--card); border:1px solid var(--line); }
th, td { text-align:left; padding:7px 9px; border-bottom:1px solid var(--line); vertical-align: top; }
th { background:#eef2f6; font-size: 13px; color: var(--muted); }
.grid { display:grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 14px; }
.tile { background:var(--card); border:1px solid var(--line); border-radius:6px; padding: 12px 14px; }
.tile .big { font-size: 28px; font-weight: bold; }
a.tile { display:block; color:inherit; text-decoration:none; }
a.tile:hover { border-color: var(--accent); }
code.passphrase { white-space: nowrap; font-size: 15px; }
.pill { display:inline-block; padding: 1px 8px; border-radius: 10px; font-size: 13px; background:#e9edf2; }
.pill.up, .pill.approved, .pill.active { background:#dcf3e3; color:var(--ok); }
.pill.down, .pill.blocked, .pill.locked, .pill.disabled, .pill.sev1 { background:#fbe0de; color:var(--err); }
.pill.pending, .pill.suspended, .pill.password_expired, .pill.sev2 { background:#fff0d6; color:var(--warn); }
.flash { padding: 9px 12px; border-radius:5px; }
.flash.ok { background:#dcf3e3; color:var(--ok); }
.flash.err { background:#fbe0de; color:var(--err); }
.banner { padding: 10px 18px; }
.banner.warn { background:#fff0d6; color:#5a3400; border-bottom:1px solid #f0c98a; }
form.inline { display:inline; margin-left: 8px; }
form.stack label { display:block; margin: 10px 0 3px; font-weight: bold; }
form.stack input[type=text], form.stack input[type=password], form.stack input[type=number], form.stack select { width: 100%; max-width: 420px; padding: 7px; border:1px solid #b9c3ce; border-radius:4px; font: inherit; }
form.row { display:flex; flex-wrap:wrap; gap:8px; align-items:flex-end; }
form.row label { display:flex; flex-direction:column; font-size:13px; color:var(--muted); }
form.row input, form.row select { padding: 6px; border:1px solid #b9c3ce; border-radius:4px; font: inherit; }
textarea { width:100%; min-height: 360px; font: 13px/1.4 "DejaVu Sans Mono", monospace; padding: 8px; border:1px solid #b9c3ce; border-radius:4px; }
button { font: inherit; padding: 7px 14px; border-radius: 4px; border:1px solid #9aa7b5; background:#fff; cursor:pointer; }
button.primary { background: var(--accent); color:#fff; border-color: var(--accent); }
button.danger { color: var(--err); border-color: var(--err); }
button.link { background:none; border:none; padding:0; text-decoration:underline; cursor:pointer; }
.field-error { color: var(--err); font-size: 13px; margin: 3px 0 0; }
ul.problems { background:#fff6f5; border:1px solid #f1c4bf; border-radius:5px; padding: 10px 10px 10px 30px; }
ul.problems li { margin: 4px 0; }
.muted { color: var(--muted); font-size: 13px; }
pre.diff, pre.code { background:#0f1720; color:#d7e0ea; padding: 10px; border-radius:5px; overflow:auto; font-size: 13px; }
pre.diff .add { color:#7ee787; } pre.diff .del { color:#ff9b92; } pre.diff .meta { color:#8fb8ff; }
body.auth { display:flex; align-items:center; justify-content:center; min-height:100vh; background: linear-gradient(#12324f, #1f4f7a); }
.card { background:#fff; padding: 26px 30px; border-radius: 8px; width: 440px; box-shadow: 0 8px 30px rgba(0,0,0,.25); }
.card .right { text-align:right; font-size: 13px; }
.card input[type=text], .card input[type=password] { width:100%; padding: 9px; margin: 4px 0 12px; border:1px solid #b9c3ce; border-radius:4px; font: inherit; }
.card label { font-weight: bold; font-size: 14px; }
.qr svg { width: 220px; height: 220px; }
body.sheet { background:#fff; }
#wifi-sheet { max-width: 640px; margin: 2em auto; }
#wifi-sheet td.big { font-size: 1.8em; font-weight: 600; }
#wifi-sheet .qr svg { width: 320px; height: 320px; }
@media print { .noprint { display: none; } }
code.secret { font-size: 15px; letter-spacing: 1px; word-break: break-all; }
.editor-problems { margin-top: 6px; }
code.quoted { background:#fbe0de; color:#5a1410; padding: 1px 6px; border-radius: 3px; }
"#;

pub const JS: &str = r"
// Countdown of an unconfirmed change; reload when the deadline passes.
function tick() {
  document.querySelectorAll('[data-deadline]').forEach(function (el) {
    var left = Math.max(0, Math.round(Number(el.dataset.deadline) - Date.now() / 1000));
    el.textContent = String(left);
    if (left === 0 && !el.dataset.reloading) { el.dataset.reloading = '1'; setTimeout(function () { location.reload(); }, 3000); }
  });
}
document.addEventListener('DOMContentLoaded', function () {
  if (document.querySelector('[data-deadline]')) { tick(); setInterval(tick, 1000); }
  document.querySelectorAll('form[data-confirm]').forEach(function (f) {
    f.addEventListener('submit', function (e) { if (!window.confirm(f.dataset.confirm)) { e.preventDefault(); } });
  });
});
";
