//! Every page of the admin UI, and its main error paths, in Vietnamese: no English word from the
//! product's own vocabulary or from common UI English may appear in what a person reads, and no
//! translation key may show up untranslated. The agency's IT officers read Vietnamese (issue 20);
//! config syntax the admin types (inside `<code>`, `<pre>`, `<textarea>`) is exempt, and user
//! data (names the agency chose) is given Vietnamese names here so it cannot hide a leak.

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Utc;
use common::{call, fixture_with};
use edgeward_event::{AuditEvent, Event, EventBody, Outcome};
use edgeward_web::roles::Role;

/// Serde names of the model's enums and states: a raw one on a Vietnamese page is a leak.
/// Matched case-sensitively, as whole words.
const IDENTIFIERS: &[&str] = &[
    "lan",
    "servers",
    "mgmt",
    "guest",
    "quarantine",
    "internet",
    "tslcd",
    "allow",
    "deny",
    "pc",
    "laptop",
    "printer",
    "scanner",
    "camera",
    "ip-phone",
    "tablet",
    "access-point",
    "storage",
    "approved",
    "pending",
    "blocked",
    "success",
    "failure",
    "wan-internet",
    "wan-tslcd",
    "icmp",
    "dns",
    "tcp",
    "udp",
    "http",
    "https",
    "healthy",
    "degraded",
    "down",
    "probing",
    "wpa2",
    "wpa3",
    "wpa2-wpa3",
    "open",
    "ids",
    "ips",
    "allowed",
    "alert",
    "drop",
    "reject",
    "viewer",
    "operator",
    "security_admin",
    "system_admin",
    "active",
    "locked",
    "suspended",
    "disabled",
    "expired",
    "synced",
    "unsynchronised",
    "unknown",
    "none",
    "off",
    "on",
    "true",
    "false",
    "slaac",
    "dhcpv6",
    "guest-only",
];

/// Common English words of a UI; none belongs on a Vietnamese page (case-insensitive). Words
/// that are also Vietnamese syllables without marks (an, in, do, to, can, hay, than…) are left
/// out.
const ENGLISH: &[&str] = &[
    "the",
    "and",
    "or",
    "of",
    "is",
    "are",
    "not",
    "with",
    "for",
    "from",
    "by",
    "this",
    "that",
    "your",
    "you",
    "has",
    "have",
    "was",
    "were",
    "been",
    "will",
    "cannot",
    "must",
    "should",
    "error",
    "failed",
    "failure",
    "success",
    "invalid",
    "enabled",
    "save",
    "saved",
    "delete",
    "remove",
    "add",
    "edit",
    "cancel",
    "apply",
    "applied",
    "confirm",
    "confirmed",
    "rollback",
    "rolled",
    "login",
    "logout",
    "logged",
    "password",
    "user",
    "username",
    "account",
    "accounts",
    "role",
    "status",
    "state",
    "zone",
    "zones",
    "policy",
    "policies",
    "uplink",
    "uplinks",
    "device",
    "devices",
    "alerts",
    "severity",
    "high",
    "medium",
    "low",
    "critical",
    "warning",
    "health",
    "loss",
    "latency",
    "targets",
    "target",
    "failing",
    "carrier",
    "lost",
    "since",
    "never",
    "today",
    "days",
    "hours",
    "minutes",
    "seconds",
    "ago",
    "version",
    "history",
    "reason",
    "author",
    "changes",
    "change",
    "file",
    "line",
    "column",
    "field",
    "value",
    "expected",
    "missing",
    "required",
    "name",
    "type",
    "phone",
    "server",
    "router",
    "other",
    "internal",
    "external",
    "certificate",
    "subject",
    "issuer",
    "valid",
    "expires",
    "fingerprint",
    "running",
    "stopped",
    "slot",
    "booted",
    "installed",
    "update",
    "upload",
    "backup",
    "restore",
    "import",
    "export",
    "row",
    "total",
    "closed",
    "acknowledged",
    "resolved",
    "rule",
    "rules",
    "ruleset",
    "signature",
    "category",
    "action",
    "outcome",
    "detail",
    "time",
    "date",
    "search",
    "filter",
    "show",
    "all",
    "any",
    "only",
    "each",
    "every",
    "per",
    "at",
    "it",
    "its",
    "as",
    "if",
    "when",
    "which",
    "who",
    "what",
    "where",
    "out",
    "over",
    "after",
    "before",
    "between",
    "into",
    "about",
    "refused",
    "accepted",
    "denied",
    "forbidden",
    "wrong",
    "new",
    "old",
    "current",
    "previous",
    "first",
    "last",
    "left",
    "least",
    "recent",
    "page",
    "found",
    "request",
    "token",
    "reload",
    "missed",
    "period",
    "sources",
    "source",
    "offset",
    "clock",
    "sync",
    "waiting",
    "seen",
    "learned",
    "yes",
    "ok",
];

/// The agency profile with Vietnamese names for everything the agency names itself, so a raw
/// zone kind (`guest`) cannot pass for the zone's name.
fn profile() -> String {
    let renames = [
        ("\"staff\"", "\"nhan-vien\""),
        ("\"servers\"", "\"may-chu\""),
        ("\"mgmt\"", "\"quan-tri\""),
        ("\"guest\"", "\"khach\""),
        ("\"quarantine\"", "\"cach-ly\""),
        ("\"internet\"", "\"mang-ngoai\""),
        ("\"tslcd\"", "\"so-lieu\""),
        ("\"isp1\"", "\"vnpt\""),
        ("\"isp2\"", "\"viettel\""),
    ];
    let mut out = String::new();
    // A radio, and the guest zone a bridge its Wi-Fi can join.
    let base = edgeward_config::AGENCY_DEFAULT_PROFILE.replacen(
        "name = \"guest0\"",
        "name = \"guest0\"\nports = [\"guest-port\"]",
        1,
    ) + "\n[[radios]]\nname = \"radio0\"\ninterface = \"wlan0\"\n";
    for line in base.lines() {
        let key = line.trim_start();
        let mut l = line.to_string();
        if !(key.starts_with("kind") || key.starts_with("role") || key.starts_with("security")) {
            for (from, to) in renames {
                l = l.replace(from, to);
            }
        }
        out.push_str(&l);
        out.push('\n');
    }
    edgeward_config::parse(&out, "vi.toml", edgeward_config::today())
        .unwrap_or_else(|p| panic!("the renamed profile must stay valid: {p}"));
    out
}

/// The text a person reads: text nodes and the attributes shown on screen, without scripts,
/// styles and config syntax (`code`, `pre`, `textarea`, `kbd`).
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    let skip = ["script", "style", "code", "pre", "textarea", "kbd"];
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        out.push(' ');
        let Some(gt) = rest[lt..].find('>') else {
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        rest = &rest[lt + gt + 1..];
        let name: String = tag
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        // Text marked as English on purpose (a Suricata signature's own words) is data.
        let marked_english = tag.contains(" lang=\"en\"");
        if (skip.contains(&name.as_str()) || marked_english) && !tag.ends_with('/') {
            let close = format!("</{name}");
            match rest.to_ascii_lowercase().find(&close) {
                Some(end) => {
                    rest = &rest[end..];
                    continue;
                }
                None => break,
            }
        }
        for attr in ["placeholder", "title", "aria-label", "alt"] {
            if let Some(v) = attribute(tag, attr) {
                out.push_str(&v);
                out.push(' ');
            }
        }
        if name == "input"
            && matches!(attribute(tag, "type").as_deref(), Some("submit" | "button"))
            && let Some(v) = attribute(tag, "value")
        {
            out.push_str(&v);
            out.push(' ');
        }
    }
    out.push_str(rest);
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let at = tag.find(&format!(" {name}=\""))?;
    let v = &tag[at + name.len() + 3..];
    Some(v[..v.find('"')?].to_string())
}

/// The English and untranslated keys in `html`, each with a little context.
fn leaks(html: &str) -> Vec<String> {
    let text = visible_text(html);
    let keys: BTreeSet<&str> = edgeward_web::i18n::WORDS.iter().map(|w| w.0).collect();
    let mut found = Vec::new();
    // An internal reference (`004 §7.2`) instead of the regulation's name.
    for (i, _) in text.match_indices('§') {
        let around: String = text[..i]
            .chars()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .chain(text[i..].chars().take(10))
            .collect();
        found.push(format!("internal reference in: {around}"));
    }
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || "._-".contains(c)))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, raw) in words.iter().enumerate() {
        let token = raw.trim_matches(|c| "._-".contains(c));
        let context = words[i.saturating_sub(4)..(i + 5).min(words.len())].join(" ");
        if keys.contains(token) {
            found.push(format!("untranslated key `{token}` in: {context}"));
            continue;
        }
        // Dotted names (file names, addresses) and interface names are data, not words.
        if token.contains('.') {
            continue;
        }
        if IDENTIFIERS.contains(&token) {
            found.push(format!("identifier `{token}` in: {context}"));
            continue;
        }
        for part in token.split(['-', '_']) {
            if ENGLISH.contains(&part.to_lowercase().as_str()) {
                found.push(format!("English `{part}` in: {context}"));
                break;
            }
        }
    }
    found
}

async fn get(f: &common::Fixture, session: &(String, String), path: &str) -> (StatusCode, String) {
    let req = Request::builder()
        .method("GET")
        .uri(path)
        .header(header::HOST, "10.10.99.1")
        .header(
            header::COOKIE,
            format!("ew_session={}; ew_lang=vi", session.0),
        )
        .body(Body::empty())
        .unwrap();
    read(f.send(req).await).await
}

async fn post(
    f: &common::Fixture,
    session: Option<&(String, String)>,
    path: &str,
    body: &str,
) -> (StatusCode, String) {
    let mut b = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::HOST, "10.10.99.1")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let body = if let Some(s) = session {
        b = b.header(header::COOKIE, format!("ew_session={}; ew_lang=vi", s.0));
        format!("_csrf={}&{body}", s.1)
    } else {
        // A login form carries the pre-login token its page set.
        b = b.header(header::COOKIE, "ew_lang=vi; ew_pre=t0k3n-t0k3n-t0k3n");
        format!("_pre=t0k3n-t0k3n-t0k3n&{body}")
    };
    read(f.send(b.body(Body::from(body)).unwrap()).await).await
}

async fn upload(
    f: &common::Fixture,
    session: &(String, String),
    path: &str,
    file: &str,
) -> (StatusCode, String) {
    upload_as(f, session, path, "file", "thiet-bi.csv", file).await
}

async fn upload_as(
    f: &common::Fixture,
    session: &(String, String),
    path: &str,
    field: &str,
    filename: &str,
    file: &str,
) -> (StatusCode, String) {
    let boundary = "xBOUNDARYx";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n{file}\r\n--{boundary}--\r\n"
    );
    let req = Request::builder()
        .method("POST")
        .uri(format!("{path}?_csrf={}", session.1))
        .header(header::HOST, "10.10.99.1")
        .header(
            header::COOKIE,
            format!("ew_session={}; ew_lang=vi", session.0),
        )
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap();
    read(f.send(req).await).await
}

async fn read(resp: axum::response::Response) -> (StatusCode, String) {
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 8 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn event(seq: u64, body: EventBody) -> std::sync::Arc<Event> {
    std::sync::Arc::new(Event {
        timestamp: Utc::now(),
        host: "gw-test".into(),
        seq,
        body,
    })
}

fn alert(seq: u64, severity: u8, action: &str) -> std::sync::Arc<Event> {
    use edgeward_event::eve::{AlertInfo, EveAlert};
    event(
        seq,
        EventBody::Alert(EveAlert {
            flow_id: seq,
            in_iface: Some("wan1".into()),
            src_ip: "10.10.0.11".parse().unwrap(),
            src_port: Some(40000),
            dest_ip: "192.0.2.80".parse().unwrap(),
            dest_port: Some(80),
            proto: "TCP".into(),
            app_proto: Some("http".into()),
            alert: AlertInfo {
                action: action.into(),
                gid: 1,
                signature_id: 2_013_028 + seq as u32,
                rev: 1,
                signature: "ET POLICY curl User-Agent Outbound".into(),
                category: "Attempted Information Leak".into(),
                severity,
            },
            evidence: None,
        }),
    )
}

/// Uplinks in each state, with the reasons the link judge itself gives.
fn uplinks_on_the_board(f: &common::Fixture) {
    use edgeward_wan::health::LinkJudge;
    use edgeward_wan::status::{TargetStatus, UplinkStatus};
    use std::time::{Duration, Instant};
    let targets = vec!["1.1.1.1".to_string(), "8.8.8.8".to_string()];
    let start = Instant::now();
    // Down: every probe lost.
    let mut failing = LinkJudge::new(edgeward_config::HealthPolicy::default(), targets.clone());
    for _ in 0..20 {
        failing.record(0, None);
        failing.record(1, None);
    }
    let down = failing.evaluate(start).expect("all probes lost: down");
    // Carrier lost.
    let mut unplugged = LinkJudge::new(edgeward_config::HealthPolicy::default(), targets.clone());
    unplugged.set_carrier(false);
    let cut = unplugged.evaluate(start).expect("carrier lost: down");
    // Back up after the hold time.
    for _ in 0..20 {
        failing.record(0, Some(Duration::from_millis(12)));
        failing.record(1, Some(Duration::from_millis(15)));
    }
    let _ = failing.evaluate(start);
    let up = failing
        .evaluate(start + Duration::from_secs(3600))
        .expect("all probes answer: up");
    let mut board = f.ctx.board.write().unwrap();
    for (name, kind, iface, state, t) in [
        ("vnpt", "internet", "wan1", "up", up),
        ("viettel", "internet", "wan2", "down", down),
        ("so-lieu", "tslcd", "tslcd0", "down", cut),
    ] {
        board.insert(
            name.into(),
            UplinkStatus {
                name: name.into(),
                kind: kind.into(),
                interface: iface.into(),
                state: state.into(),
                since: Utc::now(),
                carrier: true,
                last_reason: t.reason_text.en.clone(),
                last_reason_vi: t.reason_text.vi.clone(),
                probes_per_second: 2.0,
                targets: vec![TargetStatus {
                    kind: "icmp".into(),
                    target: "1.1.1.1".into(),
                    samples: 20,
                    loss_percent: 5.0,
                    p95_ms: Some(31.0),
                }],
            },
        );
    }
}

/// 003 §20.2, 001 §5.1: every page and the main refusals, rendered for a Vietnamese reader by a
/// system administrator (who sees every page), an operator and a viewer, have no English word
/// and no untranslated key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_and_refusal_reads_in_vietnamese() {
    let f = fixture_with(profile()).await;
    uplinks_on_the_board(&f);
    let admin = f.session(Role::SystemAdmin);
    let security = f.session(Role::SecurityAdmin);
    let viewer = f.session(Role::Viewer);
    // State the pages show: alerts of each severity and action, one acknowledged; audit events
    // of many kinds (made by really doing things below); devices of each status.
    for (seq, sev, action) in [(1, 1, "allowed"), (2, 2, "blocked"), (3, 3, "allowed")] {
        f.ctx.recent.record(alert(seq, sev, action));
    }
    let (s, _) = post(&f, Some(&security), "/ids/alerts/1/ack", "").await;
    assert!(s.is_redirection() || s.is_success(), "{s}");
    for (mac, ty, status) in [
        ("00:11:22:33:44:01", "pc", "approved"),
        ("00:11:22:33:44:02", "printer", "pending"),
        ("00:11:22:33:44:03", "ip-phone", "blocked"),
    ] {
        let body = format!(
            "user=Nguy%E1%BB%85n+V%C4%83n+A&type={ty}&brand=Dell&serial=SN{}&mac={mac}&ip=10.10.0.{}&zone=nhan-vien&status={status}&note=&chk_antivirus=on&chk_os_updates=on&chk_licensed_software=on&chk_screen_lock=on&approved_by=Tr%C6%B0%E1%BB%9Fng+ph%C3%B2ng",
            &mac[15..],
            50 + u8::from_str_radix(&mac[15..], 16).unwrap()
        );
        let (s, page) = post(&f, Some(&security), "/devices", &body).await;
        assert!(s.is_redirection(), "adding {mac}: {s} {page}");
    }
    f.ctx.recent.record(event(
        10,
        EventBody::Audit(AuditEvent::said(
            "console",
            "console",
            "account.console_change",
            Outcome::Success,
            edgeward_config::say!(
                "the accounts file was changed outside the admin UI and reloaded",
                "tệp tài khoản được sửa ngoài giao diện quản trị và đã được nạp lại"
            ),
            None,
        )),
    ));
    // A Wi-Fi network, and a device in quarantine.
    let (s, _, body) = call(
        &f,
        "POST",
        "/api/v1/wifi",
        &f.session(Role::Operator),
        Some(serde_json::json!({ "ssid": "Khach-SoVD", "zone": "khach", "security": "wpa2-wpa3" })),
    )
    .await;
    assert!(s.is_success(), "{s} {body}");
    std::fs::write(
        f.ctx.state_dir.join("wifi-stations.json"),
        r#"{"Khach-SoVD":[{"mac":"02:00:00:00:01:00","signal_dbm":-41,"connected_seconds":620,"rx_bytes":123456,"tx_bytes":65432}]}"#,
    )
    .unwrap();
    let (s, page) = post(
        &f,
        Some(&security),
        "/devices/00:11:22:33:44:01/quarantine",
        "reason=nghi+nhi%E1%BB%85m+m%C3%A3+%C4%91%E1%BB%99c",
    )
    .await;
    assert!(s.is_redirection(), "{s} {page}");
    let mut problems = Vec::new();
    let mut check = |what: &str, html: &str| {
        for l in leaks(html) {
            problems.push(format!("{what}: {l}"));
        }
    };
    // The printable sheet, by the operator who manages Wi-Fi (before that account is locked).
    let (s, page) = get(&f, &f.session(Role::Operator), "/wifi/Khach-SoVD/sheet").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    check("the printable Wi-Fi sheet", &page);

    // Error paths first, so their audit events show on the audit page.
    let (s, page) = post(
        &f,
        Some(&security),
        "/config/edit",
        &format!(
            "sections=zones&base_version=1&reason=th%E1%BB%AD&action=check&text={}",
            urlencode(
                "[[zones]]\nname = \"khach\"\nkind = \"guest\"\nprefixes = [\"10.20.0.0/24\", \"10.20.0.0/25\"]\n"
            )
        ),
    )
    .await;
    assert!(!s.is_server_error(), "{s}");
    assert!(
        page.contains("chồng lấn") && page.contains("Quy chế"),
        "the refusal is shown in Vietnamese, citing the regulation by name: {page}"
    );
    check("a refused configuration", &page);
    let (s, page) = upload(
        &f,
        &security,
        "/devices/import",
        "mac,type,user,ip,zone\n00:11:22:33:44:09,toaster,Lê Thị B,10.10.0.30,nhan-vien\n00:11:22:33:44:0a,pc,Lê Thị C,10.10.0.300,nhan-vien\n",
    )
    .await;
    assert!(!s.is_server_error(), "{s}");
    assert!(
        page.contains("không phải chủng loại thiết bị"),
        "the refused row is explained in Vietnamese: {page}"
    );
    check("a refused import row", &page);
    let locked = f.account(Role::Operator);
    for _ in 0..6 {
        let (_, page) = post(
            &f,
            None,
            "/login",
            &format!("username={locked}&password=sai-mat-khau"),
        )
        .await;
        check("a wrong password", &page);
    }
    let (_, page) = post(
        &f,
        None,
        "/login",
        &format!("username={locked}&password={}", common::PASSWORD),
    )
    .await;
    assert!(page.contains("Không đăng nhập được"), "{page}");
    check("a locked account", &page);
    for body in [
        // A name that is no one's, an ID that is not a citizen ID.
        "username=admin&full_name=Nguy%E1%BB%85n+V%C4%83n+C&person_id=c%40so.gov.vn&role=viewer&password=Mat-Khau-Dai-2026%21&citizen_id=&phone=&department=&purpose=&scope=",
        "username=lan.nv&full_name=Nguy%E1%BB%85n+V%C4%83n+L&person_id=l%40so.gov.vn&role=system_admin&password=Mat-Khau-Dai-2026%21&citizen_id=123&phone=0912345678&department=CNTT&purpose=x&scope=y",
    ] {
        let (s, page) = post(&f, Some(&admin), "/accounts", body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        check("a refused account", &page);
    }
    let (s, page) = upload_as(
        &f,
        &admin,
        "/system/update",
        "bundle",
        "edgeward_9.9.9.ewu",
        "khong phai goi cap nhat",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    check("a refused update bundle", &page);
    let (s, page) = get(&f, &admin, "/khong-co-trang-nay").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    check("page not found", &page);
    let (s, page) = get(&f, &viewer, "/accounts").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    check("forbidden page", &page);
    let (s, page) = post(
        &f,
        Some(&(admin.0.clone(), "sai".into())),
        "/devices",
        "x=1",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    check("CSRF refusal", &page);

    let (s, page) = get(&f, &admin, "/config/edit").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    check("bad request", &page);

    let (_, _, running) = call(&f, "GET", "/api/v1/config/history", &admin, None).await;
    let version = running.len().max(1);
    let mut pages = vec![
        "/dashboard".to_string(),
        "/zones".into(),
        "/uplinks".into(),
        "/ids".into(),
        "/audit".into(),
        "/devices".into(),
        "/devices/00:11:22:33:44:02".into(),
        "/wifi".into(),
        "/config".into(),
        "/config/edit?sections=zones".into(),
        "/accounts".into(),
        "/system".into(),
        "/password".into(),
    ];
    for v in 1..=version + 1 {
        pages.push(format!("/config/history/{v}"));
    }
    for path in &pages {
        let (mut s, mut html) = get(&f, &admin, path).await;
        if s == StatusCode::FORBIDDEN {
            (s, html) = get(&f, &security, path).await;
        }
        if s == StatusCode::NOT_FOUND && path.starts_with("/config/history/") {
            continue;
        }
        assert_eq!(s, StatusCode::OK, "{path}");
        check(path, &html);
    }
    for path in ["/dashboard", "/devices", "/ids"] {
        let (_, html) = get(&f, &viewer, path).await;
        check(&format!("{path} (viewer)"), &html);
    }
    let (_, html) = read(
        f.send(
            Request::builder()
                .uri("/login")
                .header(header::HOST, "10.10.99.1")
                .body(Body::empty())
                .unwrap(),
        )
        .await,
    )
    .await;
    check("/login", &html);
    assert!(
        problems.is_empty(),
        "{} English words or untranslated keys on Vietnamese pages:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The checker itself finds what it must: English words, raw identifiers and keys, but not
/// config syntax or Vietnamese.
#[test]
fn the_checker_catches_english_and_spares_config_syntax() {
    assert!(leaks("<p>Vùng mạng <code>guest</code> của bạn</p>").is_empty());
    assert!(leaks("<p>Trạng thái: Đã phê duyệt</p>").is_empty());
    assert_eq!(leaks("<p>Trạng thái: approved</p>").len(), 1);
    assert_eq!(leaks("<td>The uplink is down</td>").len(), 4);
    assert_eq!(leaks("<p>nav.dashboard</p>").len(), 1);
    assert_eq!(leaks("<input type=\"submit\" value=\"Save\">").len(), 1);
    assert!(leaks("<script>var save = 1;</script><p>Lưu</p>").is_empty());
    assert_eq!(leaks("<p>Đổi mật khẩu (004 §7.2)</p>").len(), 1);
}
