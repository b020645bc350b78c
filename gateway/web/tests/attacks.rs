//! Attacks on the admin plane, performed through its router as an attacker on the management
//! LAN (or a user of a lesser role) would, each asserting that it fails. The trust boundaries
//! they guard are listed in `docs/THREAT-MODEL.md`.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Utc;
use common::*;
use edgeward_event::EventBody;
use edgeward_web::accounts::Stage;
use edgeward_web::roles::Role;
use edgeward_web::{LiveState, backup, lock, totp};

/// The value of `name` in the response's `Set-Cookie` headers.
fn set_cookie(resp: &axum::response::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

fn location(resp: &axum::response::Response) -> String {
    resp.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

async fn body_text(resp: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(resp.into_body(), 8 << 20)
        .await
        .unwrap();
    String::from_utf8_lossy(&bytes).to_string()
}

fn encode(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).unwrap()
}

/// A browser's GET with the session cookie.
async fn get(f: &Fixture, path: &str, session: &str) -> axum::response::Response {
    f.send(
        Request::builder()
            .uri(path)
            .header(header::HOST, "10.10.99.1")
            .header(header::COOKIE, format!("ew_session={session}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// A browser's form POST with the session cookie and its CSRF token.
async fn post_form(
    f: &Fixture,
    path: &str,
    session: &str,
    csrf: &str,
    fields: &[(&str, &str)],
) -> axum::response::Response {
    f.send(
        Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::HOST, "10.10.99.1")
            .header(header::COOKIE, format!("ew_session={session}"))
            .header("x-csrf-token", csrf)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(encode(fields)))
            .unwrap(),
    )
    .await
}

/// The CSRF token of a session at any stage.
async fn csrf_of(f: &Fixture, session: &str) -> String {
    let resp = get(f, "/api/v1/session", session).await;
    let v: serde_json::Value = serde_json::from_str(&body_text(resp).await).unwrap();
    v["csrf_token"].as_str().unwrap_or_default().to_string()
}

/// The login form as a browser submits it; returns the redirect target and the session.
async fn page_login(f: &Fixture, user: &str, password: &str) -> (String, Option<String>) {
    let page = f
        .send(
            Request::builder()
                .uri("/login")
                .header(header::HOST, "10.10.99.1")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let pre = set_cookie(&page, "ew_pre").unwrap();
    let resp = f
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/login")
                .header(header::HOST, "10.10.99.1")
                .header(header::COOKIE, format!("ew_pre={pre}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(encode(&[
                    ("username", user),
                    ("password", password),
                    ("_pre", &pre),
                ])))
                .unwrap(),
        )
        .await;
    (location(&resp), set_cookie(&resp, "ew_session"))
}

fn secret_in(page: &str) -> String {
    let start = page.find("id=\"totp-secret\">").unwrap() + "id=\"totp-secret\">".len();
    page[start..start + page[start..].find('<').unwrap()].to_string()
}

fn code_now(secret: &str, offset: i64) -> String {
    totp::code_at(secret, (Utc::now().timestamp() + offset) as u64).unwrap()
}

/// The factory account taken over at first login (password and TOTP); returns the secret.
async fn take_over_factory(f: &Fixture, new_password: &str) -> String {
    let (to, session) = page_login(f, "admin", "edgeward").await;
    assert_eq!(to, "/password");
    let session = session.unwrap();
    let csrf = csrf_of(f, &session).await;
    let resp = post_form(
        f,
        "/password",
        &session,
        &csrf,
        &[
            ("full_name", "Trần Văn Quản"),
            ("person_id", "quan@so.gov.vn"),
            ("new_password", new_password),
            ("confirm", new_password),
        ],
    )
    .await;
    assert_eq!(location(&resp), "/totp/enrol");
    let session = set_cookie(&resp, "ew_session").unwrap();
    let page = body_text(get(f, "/totp/enrol", &session).await).await;
    let secret = secret_in(&page);
    let csrf = csrf_of(f, &session).await;
    let resp = post_form(
        f,
        "/totp/enrol",
        &session,
        &csrf,
        &[("code", &code_now(&secret, -30))],
    )
    .await;
    assert_eq!(location(&resp), "/dashboard");
    secret
}

/// 003 §21.3.a, 000 §8.1.h: a stolen password alone never opens a full session. At the "verify
/// TOTP" stage the attacker can neither enrol a second factor of his own, nor change the
/// password, nor reach any page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stolen_password_alone_never_opens_a_full_session() {
    let f = fixture().await;
    let password = "Quan-Tri-Moi-2026!";
    let secret = take_over_factory(&f, password).await;

    // The attacker knows the password only.
    let (to, session) = page_login(&f, "admin", password).await;
    assert_eq!(to, "/totp/verify");
    let session = session.unwrap();
    let csrf = csrf_of(&f, &session).await;
    let enrol = get(&f, "/totp/enrol", &session).await;
    assert_eq!(enrol.status(), StatusCode::SEE_OTHER, "no enrolment page");
    assert_eq!(location(&enrol), "/totp/verify");
    let own = totp::new_secret().unwrap();
    let resp = post_form(
        &f,
        "/totp/enrol",
        &session,
        &csrf,
        &[("code", &code_now(&own, 0))],
    )
    .await;
    assert_eq!(location(&resp), "/totp/verify", "enrolment refused");
    assert!(set_cookie(&resp, "ew_session").is_none(), "no new session");
    let resp = post_form(
        &f,
        "/password",
        &session,
        &csrf,
        &[
            ("new_password", "Ke-Tan-Cong-2026!"),
            ("confirm", "Ke-Tan-Cong-2026!"),
        ],
    )
    .await;
    assert_eq!(location(&resp), "/totp/verify", "password change refused");
    for path in ["/dashboard", "/config", "/accounts"] {
        let resp = get(&f, path, &session).await;
        assert_eq!(location(&resp), "/totp/verify", "{path}");
    }
    let api = get(&f, "/api/v1/status", &session).await;
    assert_eq!(api.status(), StatusCode::FORBIDDEN);
    {
        let accounts = lock(&f.ctx.accounts);
        let a = accounts.get("admin").unwrap();
        assert_eq!(a.totp_secret.as_deref(), Some(secret.as_str()));
    }
    // The password is still the owner's.
    let (to, _) = page_login(&f, "admin", password).await;
    assert_eq!(to, "/totp/verify");
}

/// 000 §8.1.h: from a full session, replacing the second factor needs the current password
/// and a current code; a successful change ends the account's other sessions (also after a
/// password change).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacing_a_factor_needs_both_and_ends_other_sessions() {
    let f = fixture().await;
    let password = "Quan-Tri-Moi-2026!";
    let secret = take_over_factory(&f, password).await;
    let now = Utc::now();
    let full =
        lock(&f.ctx.sessions).create("admin", Stage::Full, "127.0.0.1".parse().unwrap(), now);
    let other =
        lock(&f.ctx.sessions).create("admin", Stage::Full, "127.0.0.2".parse().unwrap(), now);
    let page = body_text(get(&f, "/totp/enrol", &full.id).await).await;
    assert!(page.contains("id=\"reenrol\""), "asks for both factors");
    let fresh = secret_in(&page);
    // Only a code of the new secret (a hijacked session): refused.
    let resp = post_form(
        &f,
        "/totp/enrol",
        &full.id,
        &full.csrf,
        &[("code", &code_now(&fresh, 0))],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The password but a wrong current code: refused.
    let resp = post_form(
        &f,
        "/totp/enrol",
        &full.id,
        &full.csrf,
        &[
            ("code", &code_now(&fresh, 0)),
            ("current", password),
            ("current_code", "000000"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        lock(&f.ctx.accounts)
            .get("admin")
            .unwrap()
            .totp_secret
            .as_deref(),
        Some(secret.as_str())
    );
    // Both factors: replaced, and the other session is over.
    let resp = post_form(
        &f,
        "/totp/enrol",
        &full.id,
        &full.csrf,
        &[
            ("code", &code_now(&fresh, 0)),
            ("current", password),
            ("current_code", &code_now(&secret, 30)),
        ],
    )
    .await;
    assert_eq!(location(&resp), "/dashboard");
    assert_eq!(
        lock(&f.ctx.accounts)
            .get("admin")
            .unwrap()
            .totp_secret
            .as_deref(),
        Some(fresh.as_str())
    );
    let gone = get(&f, "/api/v1/session", &other.id).await;
    assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);

    // A password change ends the other sessions too.
    let mine = set_cookie(&resp, "ew_session").unwrap();
    let csrf = csrf_of(&f, &mine).await;
    let third = lock(&f.ctx.sessions).create(
        "admin",
        Stage::Full,
        "127.0.0.3".parse().unwrap(),
        Utc::now(),
    );
    let resp = post_form(
        &f,
        "/password",
        &mine,
        &csrf,
        &[
            ("current", password),
            ("new_password", "Quan-Tri-Khac-2026!"),
            ("confirm", "Quan-Tri-Khac-2026!"),
        ],
    )
    .await;
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let gone = get(&f, "/api/v1/session", &third.id).await;
    assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);
    let kept = get(&f, "/api/v1/session", &mine).await;
    assert_eq!(kept.status(), StatusCode::OK, "the changing session stays");
}

/// 000 §6.3.b: the factory account is taken over by a named person with an id, stops being
/// the factory account, and a person who already holds an account cannot take it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_factory_account_is_bound_to_one_person() {
    let f = fixture().await;
    f.account(Role::SecurityAdmin); // person usecurityadmin@so.gov.vn
    let (_, session) = page_login(&f, "admin", "edgeward").await;
    let session = session.unwrap();
    let csrf = csrf_of(&f, &session).await;
    let resp = post_form(
        &f,
        "/password",
        &session,
        &csrf,
        &[
            ("full_name", "Lê Văn An Ninh"),
            ("person_id", "USECURITYADMIN@so.gov.vn"),
            ("new_password", "Quan-Tri-Moi-2026!"),
            ("confirm", "Quan-Tri-Moi-2026!"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(lock(&f.ctx.accounts).get("admin").unwrap().factory);
    take_over_factory(&f, "Quan-Tri-Moi-2026!").await;
    let accounts = lock(&f.ctx.accounts);
    let a = accounts.get("admin").unwrap();
    assert!(
        !a.factory,
        "no longer the factory account (suspended when unused)"
    );
    assert_eq!(a.person_id, "quan@so.gov.vn");
    assert_eq!(a.full_name, "Trần Văn Quản");
}

/// An operator adds a guest Wi-Fi network (004 §7.2); returns its passphrase.
async fn add_guest_wifi(f: &Fixture) -> String {
    let operator = f.session(Role::Operator);
    let secret = "Hoa-Sen-Vang-2026";
    let (s, _, text) = call(
        f,
        "POST",
        "/api/v1/wifi",
        &operator,
        Some(serde_json::json!({ "ssid": "Khach-SoVD", "zone": "guest", "security": "wpa2-wpa3", "passphrase": secret })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{text}");
    secret.to_string()
}

/// 004 §7.2, 000 §6.3.b: roles without `manage_wifi` never read a passphrase: not by respelling the key in a
/// candidate (`'passphrase'`, `"pass\u0070hrase"`), not in the history, the audit trail or
/// a backup they export.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_spelling_or_backup_reveals_a_passphrase() {
    let f = fixture().await;
    let mut events = f.bus.subscribe();
    let secret = add_guest_wifi(&f).await;
    let security = f.session(Role::SecurityAdmin);
    let (_, cfg, _) = call(&f, "GET", "/api/v1/config", &security, None).await;
    let shown = cfg["text"].as_str().unwrap().to_string();
    assert!(!shown.contains(&secret));
    for spelling in ["'passphrase'", "\"passphrase\"", "\"pass\\u0070hrase\""] {
        let respelled = shown.replace("passphrase = ", &format!("{spelling} = "));
        let (_, report, text) = call(
            &f,
            "POST",
            "/api/v1/config/check",
            &security,
            Some(serde_json::json!({ "text": respelled })),
        )
        .await;
        assert!(!text.contains(&secret), "{spelling}: {report}");
        // And applied with a firewall change (the security admin's own section).
        let change = respelled.replace(
            "commit_confirm_seconds = 120",
            "commit_confirm_seconds = 110",
        );
        let (s, _, text) = call(
            &f,
            "POST",
            "/api/v1/config/apply",
            &security,
            Some(serde_json::json!({ "text": change, "reason": "test", "confirm": false })),
        )
        .await;
        assert!(!text.contains(&secret), "{text}");
        assert_eq!(s, StatusCode::OK, "{text}");
        let version = f.ctx.live.load().version;
        for role in [Role::Viewer, Role::SecurityAdmin, Role::SystemAdmin] {
            let who = f.session(role);
            let (_, _, text) = call(
                &f,
                "GET",
                &format!("/api/v1/config/history/{version}"),
                &who,
                None,
            )
            .await;
            assert!(!text.contains(&secret), "{role:?} {spelling}: {text}");
            let (_, _, text) = call(&f, "GET", "/api/v1/config", &who, None).await;
            assert!(!text.contains(&secret), "{role:?} {spelling}");
        }
        // The running passphrase was kept.
        let live = f.ctx.live.load();
        assert_eq!(live.config.as_ref().unwrap().wifi[0].passphrase, secret);
        // Put the spelling back for the next round.
        let (s, _, text) = call(
            &f,
            "POST",
            "/api/v1/config/apply",
            &security,
            Some(serde_json::json!({ "text": shown, "reason": "back", "confirm": false })),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{text}");
    }
    // A system admin's backup leaves the passphrase out (a restore keeps the running one); an
    // operator, who may see it, may not export backups at all.
    for (role, status) in [
        (Role::SystemAdmin, StatusCode::OK),
        (Role::Operator, StatusCode::FORBIDDEN),
    ] {
        let who = f.session(role);
        let (s, _, sealed) = call(
            &f,
            "POST",
            "/api/v1/system/backup",
            &who,
            Some(serde_json::json!({ "passphrase": "Sao-Luu-Cau-2026" })),
        )
        .await;
        assert_eq!(s, status, "{role:?}");
        if s == StatusCode::OK {
            let opened = backup::open(sealed.as_bytes(), "Sao-Luu-Cau-2026").unwrap();
            assert!(!opened.secrets_included);
            assert!(!opened.config.contains(&secret));
        }
    }
    // No event on the bus carries it.
    while let Ok(Ok(ev)) =
        tokio::time::timeout(std::time::Duration::from_millis(200), events.recv()).await
    {
        let line = serde_json::to_string(&*ev).unwrap();
        assert!(!line.contains(&secret), "{line}");
    }
}

fn multipart(fields: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----edgewardtestboundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Upload `file` to the backup import form as `session`.
async fn import_backup(
    f: &Fixture,
    session: &(String, String),
    file: &str,
) -> axum::response::Response {
    let (ct, body) = multipart(&[
        ("file", file.as_bytes()),
        ("passphrase", b"Sao-Luu-Cau-2026"),
        ("reason", b"restore"),
    ]);
    f.send(
        Request::builder()
            .method(Method::POST)
            .uri(format!("/system/backup/import?_csrf={}", session.1))
            .header(header::HOST, "10.10.99.1")
            .header(header::COOKIE, format!("ew_session={}", session.0))
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

/// 000 §6.3.b: a system admin cannot change the firewall by importing a backup he made
/// himself; the import is held to the same section ownership as any change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_import_cannot_change_sections_the_role_does_not_own() {
    let f = fixture().await;
    let running = f.ctx.live.load().text.clone();
    let before = f.ctx.live.load().version;
    let forged = backup::Contents {
        host_id: "gw-test".into(),
        version: 99,
        created_at: Utc::now(),
        created_by: "usystemadmin".into(),
        config: running.replace(
            "commit_confirm_seconds = 120",
            "commit_confirm_seconds = 90",
        ),
        secrets_included: true,
    };
    let file = backup::seal(&forged, "Sao-Luu-Cau-2026").unwrap();
    let system = f.session(Role::SystemAdmin);
    let resp = import_backup(&f, &system, &file).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(body_text(resp).await.contains("firewall"));
    assert_eq!(f.ctx.live.load().version, before, "nothing applied");
    // A backup that changes only the system admin's own sections is restored.
    let own = backup::Contents {
        config: running.replace("retention_days = 183", "retention_days = 200"),
        ..forged
    };
    let file = backup::seal(&own, "Sao-Luu-Cau-2026").unwrap();
    let resp = import_backup(&f, &system, &file).await;
    assert!(resp.status().is_redirection(), "{}", resp.status());
    assert_eq!(f.ctx.live.load().version, before + 1);
}

/// An operator manages devices but cannot use them to reach the management or server zones,
/// or to let a device out to the Internet against the security admin's policy; quarantining
/// is his to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_can_only_quarantine_devices() {
    let f = fixture().await;
    let operator = f.session(Role::Operator);
    let live = f.ctx.live.load();
    let config = live.config.as_ref().unwrap();
    let printer = config
        .devices
        .iter()
        .find(|d| !d.internet_allowed(&config.firewall) && d.ip.is_some())
        .expect("the profile has a device kept off the Internet")
        .clone();
    let pc = config
        .devices
        .iter()
        .find(|d| d.ip.is_some() && d.mac != printer.mac)
        .unwrap()
        .clone();
    drop(live);
    let put = |d: &edgeward_config::Device| serde_json::to_value(d).unwrap();
    for (device, what) in [
        (
            edgeward_config::Device {
                move_to: Some("mgmt".into()),
                ..pc.clone()
            },
            "move_to",
        ),
        (
            edgeward_config::Device {
                move_to: Some("servers".into()),
                ..pc.clone()
            },
            "move_to",
        ),
        (
            edgeward_config::Device {
                internet: Some(true),
                ..printer.clone()
            },
            "internet",
        ),
        (
            edgeward_config::Device {
                zone: "mgmt".into(),
                mac: "02:ed:00:00:99:77".into(),
                ip: Some("10.10.99.77".parse().unwrap()),
                ..pc.clone()
            },
            "zone",
        ),
    ] {
        let (s, report, text) =
            call(&f, "PUT", "/api/v1/devices", &operator, Some(put(&device))).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{what}: {text}");
        assert!(
            report["forbidden_sections"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x.as_str().unwrap().contains(what)),
            "{report}"
        );
    }
    let version = f.ctx.live.load().version;
    let quarantined = edgeward_config::Device {
        move_to: Some("quarantine".into()),
        ..pc.clone()
    };
    let (s, _, text) = call(
        &f,
        "PUT",
        "/api/v1/devices",
        &operator,
        Some(put(&quarantined)),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{text}");
    assert_eq!(f.ctx.live.load().version, version + 1);
    // The security admin may do what the operator may not.
    let security = f.session(Role::SecurityAdmin);
    let opened = edgeward_config::Device {
        internet: Some(true),
        ..printer
    };
    let (s, _, text) = call(&f, "PUT", "/api/v1/devices", &security, Some(put(&opened))).await;
    assert_eq!(s, StatusCode::OK, "{text}");
}

/// A pending commit-confirm change can be confirmed or rejected only by a role that owns every
/// section it changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_of_a_pending_change_confirms_or_rejects_it() {
    let f = fixture().await;
    let running = f.ctx.live.load().text.clone();
    let firewall_change = running.replace(
        "commit_confirm_seconds = 120",
        "commit_confirm_seconds = 90",
    );
    let history = edgeward_config::history::History::open(f.ctx.state_dir.join("history")).unwrap();
    let v2 = history
        .record(&firewall_change, "usecurityadmin", "test", None, Utc::now())
        .unwrap()
        .version;
    let config = edgeward_config::parse(&firewall_change, "t", edgeward_config::today()).unwrap();
    f.ctx.live.store(std::sync::Arc::new(LiveState {
        version: v2,
        text: firewall_change,
        config: Some(std::sync::Arc::new(config)),
        awaiting: Some(edgeward_config::change::Awaiting {
            version: v2,
            deadline: Utc::now() + chrono::Duration::seconds(100),
            rollback_version: 1,
            author: "usecurityadmin".into(),
        }),
    }));
    for role in [Role::Operator, Role::SystemAdmin] {
        let who = f.session(role);
        for path in ["/api/v1/config/confirm"] {
            let (s, e, text) = call(&f, "POST", path, &who, None).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{role:?} {path}: {text}");
            assert!(e["error"].as_str().unwrap().contains("firewall"), "{e}");
        }
        let (id, csrf) = who;
        let resp = post_form(&f, "/config/rollback-now", &id, &csrf, &[]).await;
        let text = body_text(resp).await;
        assert!(text.contains("firewall"), "{role:?} rejecting: {text}");
    }
    // The owner gets through to the daemon (here a stand-in that has nothing pending).
    let owner = f.session(Role::SecurityAdmin);
    let (s, _, text) = call(&f, "POST", "/api/v1/config/confirm", &owner, None).await;
    assert_ne!(s, StatusCode::FORBIDDEN, "{text}");
}

/// 003 §30.6 (logs reach the SOC): a flood of logins with huge user names is refused before
/// anything of that size is audited, and no event on the bus is larger than one frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_login_names_never_become_huge_events() {
    let f = fixture().await;
    let mut events = f.bus.subscribe();
    let huge = "A".repeat(1_900_000);
    for _ in 0..3 {
        let (s, _) = api_login(&f, &huge, "x", None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let mut seen = 0;
    while let Ok(Ok(ev)) =
        tokio::time::timeout(std::time::Duration::from_millis(300), events.recv()).await
    {
        let line = serde_json::to_string(&*ev).unwrap();
        assert!(line.len() < 4096, "{} bytes", line.len());
        if let EventBody::Audit(a) = &ev.body {
            seen += usize::from(a.detail.contains("over-long"));
        }
    }
    assert_eq!(seen, 3, "each attempt is audited, small");
}

/// The language switch returns only to the UI's own pages (no open redirect).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_switch_is_no_open_redirect() {
    let f = fixture().await;
    for (back, expected) in [
        ("/%09/evil.example", "/dashboard"),
        ("//evil.example", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
        ("https://evil.example/", "/dashboard"),
        ("/devices/../../evil", "/dashboard"),
        ("/api/v1/config", "/dashboard"),
        ("/devices", "/devices"),
        ("/config/history/3", "/config/history/3"),
        (
            "/config/edit?sections=policies",
            "/config/edit?sections=policies",
        ),
    ] {
        let uri = format!("/lang?to=en&back={}", urlencode(back));
        let resp = f
            .send(
                Request::builder()
                    .uri(uri)
                    .header(header::HOST, "10.10.99.1")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(location(&resp), expected, "{back}");
    }
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_string()
}

/// Two admins working at once never silently revert each other: a change made from an older
/// version (an editor opened earlier, a device list read before another edit) is refused with
/// 409 and nothing is applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_from_an_older_version_is_refused() {
    let f = fixture().await;
    let security = f.session(Role::SecurityAdmin);
    let (_, cfg, _) = call(&f, "GET", "/api/v1/config", &security, None).await;
    let opened = cfg["version"].as_u64().unwrap();
    let text = cfg["text"].as_str().unwrap().to_string();
    // Meanwhile an operator edits a device.
    let operator = f.session(Role::Operator);
    let (_, devices, _) = call(&f, "GET", "/api/v1/devices", &operator, None).await;
    let mut d = devices[0].clone();
    d["note"] = serde_json::json!("đã chuyển phòng");
    let (s, _, text_op) = call(&f, "PUT", "/api/v1/devices", &operator, Some(d)).await;
    assert_eq!(s, StatusCode::OK, "{text_op}");
    let after_operator = f.ctx.live.load().version;
    // The security admin applies what he read before: refused, the device edit stays.
    let change = text.replace(
        "commit_confirm_seconds = 120",
        "commit_confirm_seconds = 90",
    );
    let (s, e, _) = call(
        &f,
        "POST",
        "/api/v1/config/apply",
        &security,
        Some(serde_json::json!({ "text": change, "reason": "r", "confirm": false, "base_version": opened })),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(f.ctx.live.load().version, after_operator);
    assert!(f.ctx.live.load().text.contains("đã chuyển phòng"));
    // A form edit prepared on an older version is refused the same way.
    let mut stale = edgeward_web::guard::Caller {
        session_id: String::new(),
        username: "uoperator".into(),
        role: Role::Operator,
        stage: Stage::Full,
        csrf: String::new(),
        lang: edgeward_web::i18n::Lang::En,
        source: "127.0.0.1".parse().unwrap(),
        seen_version: opened,
    };
    let live = f.ctx.live.load_full();
    let list = live.config.as_ref().unwrap().devices.clone();
    let r = edgeward_web::changes::apply_list(&f.ctx, &stale, "devices", &list[1..], "r").await;
    assert!(
        matches!(&r, Err(edgeward_web::changes::FormChangeError::Failed(m)) if m.contains("changed")),
        "{r:?}"
    );
    assert_eq!(f.ctx.live.load().version, after_operator);
    stale.seen_version = after_operator;
    let r = edgeward_web::changes::apply_list(&f.ctx, &stale, "devices", &list[1..], "r").await;
    assert!(r.is_ok(), "{r:?}");
}

/// 003 §20.2.b, 000 §6.3.b: where the admin UI answers opens the firewall, so it is the network
/// role's decision — a system admin (who owns the rest of `management`) cannot move it; and
/// checking a candidate or reading the history are configuration views, audited (001 §6.2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_zones_belong_to_the_network_role_and_views_are_audited() {
    let f = fixture().await;
    let mut events = f.bus.subscribe();
    let running = f.ctx.live.load().text.clone();
    let staff_too = running.replace(
        "admin_zones = [\"mgmt\"]",
        "admin_zones = [\"mgmt\", \"staff\"]",
    );
    let system = f.session(Role::SystemAdmin);
    let (s, report, _) = call(
        &f,
        "POST",
        "/api/v1/config/check",
        &system,
        Some(serde_json::json!({ "text": staff_too })),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{report}");
    assert_eq!(
        report["forbidden_sections"],
        serde_json::json!(["management.admin_zones"])
    );
    let security = f.session(Role::SecurityAdmin);
    let (s, report, _) = call(
        &f,
        "POST",
        "/api/v1/config/check",
        &security,
        Some(serde_json::json!({ "text": staff_too })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    let viewer = f.session(Role::Viewer);
    let (s, _, _) = call(&f, "GET", "/api/v1/config/history", &viewer, None).await;
    assert_eq!(s, StatusCode::OK);
    let mut views = Vec::new();
    while let Ok(Ok(ev)) =
        tokio::time::timeout(std::time::Duration::from_millis(300), events.recv()).await
    {
        if let EventBody::Audit(a) = &ev.body {
            if a.action == "config.view" {
                views.push((a.actor.clone(), a.detail.clone()));
            }
        }
    }
    assert!(
        views
            .iter()
            .any(|(who, what)| who == "usecurityadmin" && what.contains("checked")),
        "{views:?}"
    );
    assert!(
        views
            .iter()
            .any(|(who, what)| who == "uviewer" && what.contains("history")),
        "{views:?}"
    );
}

/// Commit-confirm end to end in-process (the daemon's own state machine): a security admin's
/// change awaits confirmation; an operator's device edit meanwhile joins it instead of
/// confirming it and cannot confirm it; the security admin's rejection rolls both back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_edit_never_confirms_a_pending_change_and_only_its_owner_decides() {
    let f = fixture().await;
    let security = f.session(Role::SecurityAdmin);
    let operator = f.session(Role::Operator);
    let running = f.ctx.live.load().text.clone();
    let change = running.replace(
        "commit_confirm_seconds = 120",
        "commit_confirm_seconds = 100",
    );
    let (s, _, text) = call(
        &f,
        "POST",
        "/api/v1/config/apply",
        &security,
        Some(serde_json::json!({ "text": change, "reason": "firewall", "confirm": true })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{text}");
    let pending = f
        .ctx
        .live
        .load()
        .awaiting
        .clone()
        .expect("awaits confirmation");
    assert_eq!((pending.version, pending.rollback_version), (2, 1));
    // The operator edits a device: it joins the pending change.
    let (_, devices, _) = call(&f, "GET", "/api/v1/devices", &operator, None).await;
    let mut d = devices[0].clone();
    d["note"] = serde_json::json!("chuyển phòng");
    let (s, _, text) = call(&f, "PUT", "/api/v1/devices", &operator, Some(d)).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    let joined = f.ctx.live.load().awaiting.clone().expect("still awaits");
    assert_eq!((joined.version, joined.rollback_version), (3, 1));
    // The operator may not confirm it (it changes the firewall).
    let (s, _, _) = call(&f, "POST", "/api/v1/config/confirm", &operator, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(f.ctx.live.load().awaiting.is_some());
    // The owner rejects it: both changes are gone.
    let (id, csrf) = security.clone();
    let resp = f
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/config/rollback-now")
                .header(header::HOST, "10.10.99.1")
                .header(header::COOKIE, format!("ew_session={id}"))
                .header("x-csrf-token", csrf)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let now = f.ctx.live.load();
    assert!(now.awaiting.is_none());
    assert_eq!(now.text, running, "rolled back to v1, device edit included");
}
