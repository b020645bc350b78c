//! The admin plane's router without TLS or a daemon: every endpoint against every role, CSRF,
//! session expiry, lockout and rate limit through the real login, TOTP replay, security headers,
//! body limit, and the OpenAPI file against the route table.

mod common;

use common::*;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, Utc};
use edgeward_event::EventBody;
use edgeward_web::guard::Access;
use edgeward_web::roles::Role;
use edgeward_web::{lock, routes, totp};

fn concrete(path: &str) -> String {
    path.replace("{seq}", "1")
        .replace("{mac}", "aa:bb:cc:dd:ee:99")
        .replace("{user}", "nobody")
        .replace("{version}", "1")
        .replace("{ssid}", "Khach-SoVD")
        .replace("{id}", "20261201T050000Z-2a-1")
        .replace("{sid}", "2013028")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_enforces_its_role() {
    let f = fixture().await;
    let specs = routes::specs();
    assert!(specs.len() > 60, "the route table lists every endpoint");
    let mut checked = 0;
    for spec in &specs {
        if spec.access == Access::Public {
            continue;
        }
        let path = concrete(spec.path);
        let json = spec.path.starts_with("/api/").then_some("{}");
        // Without a session: 401 for the API, a redirect to the login page for pages.
        let resp = f.send(request(&spec.method, &path, None, json)).await;
        if spec.path.starts_with("/api/") {
            assert_eq!(
                resp.status(),
                StatusCode::UNAUTHORIZED,
                "{} {path} without a session",
                spec.method
            );
        } else {
            assert_eq!(
                resp.status(),
                StatusCode::SEE_OTHER,
                "{} {path} without a session",
                spec.method
            );
            assert!(
                resp.headers()[header::LOCATION]
                    .to_str()
                    .unwrap()
                    .starts_with("/login")
            );
        }
        for role in Role::ALL {
            let (id, csrf) = f.session(role);
            let resp = f
                .send(request(&spec.method, &path, Some((&id, &csrf)), json))
                .await;
            let status = resp.status();
            if spec.access.allows(role) {
                assert!(
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                    "{role:?} is allowed {} {path} but got {status}",
                    spec.method
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role:?} must be refused {} {path}",
                    spec.method
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 200, "{checked} checks");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sections_outside_the_role_are_refused_even_on_allowed_endpoints() {
    let f = fixture().await;
    let running = f.ctx.live.load().text.clone();
    let firewall_change = running.replace(
        "commit_confirm_seconds = 120",
        "commit_confirm_seconds = 90",
    );
    let body = serde_json::json!({ "text": firewall_change, "reason": "test", "confirm": false })
        .to_string();
    // An operator may change devices but not the firewall; a system admin neither.
    for role in [Role::Operator, Role::SystemAdmin] {
        let (id, csrf) = f.session(role);
        let resp = f
            .send(request(
                &axum::http::Method::POST,
                "/api/v1/config/apply",
                Some((&id, &csrf)),
                Some(&body),
            ))
            .await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{role:?}");
    }
    let (id, csrf) = f.session(Role::SecurityAdmin);
    let resp = f
        .send(request(
            &axum::http::Method::POST,
            "/api/v1/config/apply",
            Some((&id, &csrf)),
            Some(&body),
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(f.ctx.live.load().version, 2, "applied through the daemon");
    // An invalid candidate is refused with every problem located.
    let bad = running.replace("weight = 3", "weight = 0");
    let body = serde_json::json!({ "text": bad, "reason": "test" }).to_string();
    let resp = f
        .send(request(
            &axum::http::Method::POST,
            "/api/v1/config/apply",
            Some((&id, &csrf)),
            Some(&body),
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(report["problems"][0]["code_name"], "ZeroWeight");
    assert!(report["problems"][0]["line"].as_u64().unwrap() > 100);
    assert_eq!(f.ctx.live.load().version, 2, "nothing applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wifi_passphrases_are_managed_by_operators_and_hidden_from_everyone_else() {
    let f = fixture().await;
    let mut events = f.bus.subscribe();
    let operator = f.session(Role::Operator);
    let viewer = f.session(Role::Viewer);
    let security = f.session(Role::SecurityAdmin);

    // Add the guest network with a generated passphrase.
    let (s, added, text) = call(
        &f,
        "POST",
        "/api/v1/wifi",
        &operator,
        Some(serde_json::json!({ "ssid": "Khach-SoVD", "zone": "guest", "security": "wpa2-wpa3" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{text}");
    let generated = added["passphrase"].as_str().unwrap().to_string();
    assert_eq!(generated.len(), 19, "{generated}");
    // Refusals name the field: a zone Wi-Fi may not serve, a short or SSID-bearing passphrase.
    for (body, field) in [
        (
            serde_json::json!({ "ssid": "Noi-bo", "zone": "mgmt", "security": "wpa3", "passphrase": "Hoa-Sen-Vang-2026" }),
            "zone",
        ),
        (
            serde_json::json!({ "ssid": "Noi-bo", "zone": "staff", "security": "wpa3", "passphrase": "ngan-qua" }),
            "passphrase",
        ),
        (
            serde_json::json!({ "ssid": "Noi-bo", "zone": "staff", "security": "open" }),
            "security",
        ),
        (
            serde_json::json!({ "ssid": "Khach-SoVD", "zone": "guest", "security": "wpa3" }),
            "ssid",
        ),
    ] {
        let (s, e, text) = call(&f, "POST", "/api/v1/wifi", &operator, Some(body.clone())).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {text}");
        assert_eq!(e["field"], field, "{body} → {text}");
    }
    let (s, e, _) = call(
        &f,
        "POST",
        "/api/v1/wifi/Khach-SoVD/passphrase",
        &operator,
        Some(serde_json::json!({ "passphrase": "wifi-Khach-SoVD-2026" })),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e["error"].as_str().unwrap().contains("network name"), "{e}");

    // Change it to a typed one: the rotation date becomes today.
    let secret = "Hoa-Sen-Vang-2026";
    let (s, changed, text) = call(
        &f,
        "POST",
        "/api/v1/wifi/Khach-SoVD/passphrase",
        &operator,
        Some(serde_json::json!({ "passphrase": secret })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{text}");
    let live = f.ctx.live.load();
    let net = &live.config.as_ref().unwrap().wifi[0];
    assert_eq!(net.passphrase, secret);
    assert_eq!(changed["passphrase_changed"], net.passphrase_changed);
    drop(live);

    // Viewers and security admins never see a passphrase: not in the list, the configuration
    // text, a history diff or the page.
    for who in [&viewer, &security] {
        let (_, list, _) = call(&f, "GET", "/api/v1/wifi", who, None).await;
        assert_eq!(list[0]["ssid"], "Khach-SoVD");
        assert_eq!(list[0]["rotation"]["state"], "ok");
        assert!(list[0].get("passphrase").is_none(), "{list}");
        for path in [
            "/api/v1/config",
            "/api/v1/config/history/3",
            "/wifi",
            "/config",
        ] {
            let (s, _, text) = call(&f, "GET", path, who, None).await;
            assert_eq!(s, StatusCode::OK, "{path}");
            assert!(
                !text.contains(secret) && !text.contains(&generated),
                "{path} shows a passphrase"
            );
            assert!(text.contains("••••••••"), "{path}");
        }
    }
    let (_, list, _) = call(&f, "GET", "/api/v1/wifi", &operator, None).await;
    assert_eq!(list[0]["passphrase"], secret);
    let (_, _, page) = call(&f, "GET", "/wifi", &operator, None).await;
    assert!(page.contains(secret) && page.contains("change-passphrase"));

    // A security admin edits the redacted text it was given: the hidden passphrase is kept.
    let (_, cfg, _) = call(&f, "GET", "/api/v1/config", &security, None).await;
    let edited = cfg["text"].as_str().unwrap().replace(
        "commit_confirm_seconds = 120",
        "commit_confirm_seconds = 90",
    );
    let (s, _, text) = call(
        &f,
        "POST",
        "/api/v1/config/apply",
        &security,
        Some(serde_json::json!({ "text": edited, "reason": "shorter confirm", "confirm": false })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{text}");
    let live = f.ctx.live.load();
    let cfg = live.config.as_ref().unwrap();
    assert_eq!(cfg.firewall.commit_confirm_seconds, 90);
    assert_eq!(cfg.wifi[0].passphrase, secret, "the hidden value was kept");
    drop(live);
    // ... but it cannot rename the network and keep a hidden value (nor change Wi-Fi at all).
    let renamed = edited.replace("ssid = \"Khach-SoVD\"", "ssid = \"Khach-Moi\"");
    let (s, _, _) = call(
        &f,
        "POST",
        "/api/v1/config/check",
        &security,
        Some(serde_json::json!({ "text": renamed })),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Viewers cannot change Wi-Fi.
    let (s, _, _) = call(
        &f,
        "POST",
        "/api/v1/wifi/Khach-SoVD/passphrase",
        &viewer,
        Some(serde_json::json!({})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Removing the network; then no event on the bus ever carried a passphrase.
    let (s, _, _) = call(&f, "DELETE", "/api/v1/wifi/Khach-SoVD", &operator, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(f.ctx.live.load().config.as_ref().unwrap().wifi.is_empty());
    let mut seen = 0;
    while let Ok(Ok(ev)) =
        tokio::time::timeout(std::time::Duration::from_millis(500), events.recv()).await
    {
        let line = serde_json::to_string(ev.as_ref()).unwrap();
        assert!(
            !line.contains(secret) && !line.contains(&generated),
            "{line}"
        );
        seen += 1;
    }
    assert!(seen > 5, "{seen} events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_need_the_csrf_token_and_same_origin() {
    let f = fixture().await;
    let (id, csrf) = f.session(Role::SecurityAdmin);
    let body = serde_json::json!({ "text": f.ctx.live.load().text.clone() }).to_string();
    let post = |token: Option<&str>, origin: Option<&str>| {
        let mut b = Request::builder()
            .method("POST")
            .uri("/api/v1/config/check")
            .header(header::HOST, "10.10.99.1")
            .header(header::COOKIE, format!("ew_session={id}"))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            b = b.header("x-csrf-token", t);
        }
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        b.body(Body::from(body.clone())).unwrap()
    };
    assert_eq!(
        f.send(post(None, None)).await.status(),
        StatusCode::FORBIDDEN,
        "no token"
    );
    assert_eq!(
        f.send(post(Some("0000"), None)).await.status(),
        StatusCode::FORBIDDEN,
        "wrong token"
    );
    assert_eq!(
        f.send(post(Some(&csrf), Some("https://evil.example")))
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "foreign origin"
    );
    assert_eq!(
        f.send(post(Some(&csrf), Some("https://10.10.99.1")))
            .await
            .status(),
        StatusCode::OK
    );
    // A page form carries the token as a field.
    let form = |token: &str| {
        Request::builder()
            .method("POST")
            .uri("/config/edit")
            .header(header::HOST, "10.10.99.1")
            .header(header::COOKIE, format!("ew_session={id}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "_csrf={token}&sections=uplinks&text=x&action=check"
            )))
            .unwrap()
    };
    assert_eq!(f.send(form("bad")).await.status(), StatusCode::FORBIDDEN);
    let ok = f.send(form(&csrf)).await.status();
    assert_eq!(
        ok,
        StatusCode::UNPROCESSABLE_ENTITY,
        "accepted and checked (the text is not TOML)"
    );
    // The login form's own token (double submit cookie).
    let login = Request::builder()
        .method("POST")
        .uri("/login")
        .header(header::HOST, "10.10.99.1")
        .header(header::COOKIE, "ew_pre=abc")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("_pre=xyz&username=admin&password=edgeward"))
        .unwrap();
    assert_eq!(f.send(login).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_absolute_session_limits() {
    let f = fixture().await;
    let (id, csrf) = f.session(Role::Viewer);
    let get = |path: &str| request(&axum::http::Method::GET, path, Some((&id, &csrf)), None);
    assert_eq!(f.send(get("/api/v1/status")).await.status(), StatusCode::OK);
    lock(&f.ctx.sessions).update(&id, |s| s.last_seen = Utc::now() - Duration::minutes(16));
    let resp = f.send(get("/dashboard")).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[header::LOCATION], "/login?expired=1");
    assert_eq!(
        f.send(get("/api/v1/status")).await.status(),
        StatusCode::UNAUTHORIZED,
        "gone for good"
    );

    let (id, csrf) = f.session(Role::Viewer);
    lock(&f.ctx.sessions).update(&id, |s| s.created = Utc::now() - Duration::hours(8));
    let resp = f
        .send(request(
            &axum::http::Method::GET,
            "/api/v1/status",
            Some((&id, &csrf)),
            None,
        ))
        .await;
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "absolute lifetime even while active"
    );

    // Logout ends the session.
    let (id, csrf) = f.session(Role::Viewer);
    let resp = f
        .send(request(
            &axum::http::Method::POST,
            "/api/v1/logout",
            Some((&id, &csrf)),
            None,
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = f
        .send(request(
            &axum::http::Method::GET,
            "/api/v1/status",
            Some((&id, &csrf)),
            None,
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failures_lock_until_another_admin_unlocks_and_are_audited() {
    let f = fixture().await;
    let mut audit = f.bus.subscribe();
    let op = f.account(Role::Operator);
    for i in 1..=4 {
        let (s, _) = api_login(&f, &op, "wrong", None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let (s, body) = api_login(&f, &op, "wrong", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the fifth locks: {body}");
    assert!(lock(&f.ctx.accounts).get(&op).unwrap().locked_at.is_some());
    let (s, locked_body) = api_login(&f, &op, PASSWORD, None).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "locked even with the right password"
    );
    // The refusal does not tell a locked account from a wrong password (no enumeration).
    let (_, wrong_body) = api_login(&f, &op, "also-wrong", None).await;
    assert_eq!(locked_body, wrong_body);
    // The operator's own admin cannot unlock itself; another system admin can.
    let sys = f.account(Role::SystemAdmin);
    let (id, csrf) = f.session(Role::SystemAdmin);
    let own = f
        .send(request(
            &axum::http::Method::POST,
            &format!("/api/v1/accounts/{sys}/unlock"),
            Some((&id, &csrf)),
            None,
        ))
        .await;
    assert_eq!(own.status(), StatusCode::FORBIDDEN);
    let resp = f
        .send(request(
            &axum::http::Method::POST,
            &format!("/api/v1/accounts/{op}/unlock"),
            Some((&id, &csrf)),
            None,
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (s, body) = api_login(&f, &op, PASSWORD, None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body["stage"], "change_password",
        "a new account changes its first password"
    );

    let mut actions = Vec::new();
    // Events reach subscribers through the dispatcher: read until the bus is quiet.
    while let Ok(Ok(ev)) =
        tokio::time::timeout(std::time::Duration::from_millis(500), audit.recv()).await
    {
        if let EventBody::Audit(a) = &ev.body {
            actions.push(format!("{} {} {}", a.action, a.outcome, a.source));
        }
    }
    assert_eq!(
        actions
            .iter()
            .filter(|a| a.starts_with("auth.login failure 127.0.0.1"))
            .count(),
        7,
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|a| a.starts_with("auth.lockout success")),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|a| a.starts_with("account.unlock success")),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|a| a.starts_with("account.unlock failure")),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|a| a.starts_with("auth.password success")),
        "{actions:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_recovery_of_a_locked_out_last_system_admin() {
    let f = fixture().await;
    let mut audit = f.bus.subscribe();
    for _ in 0..5 {
        api_login(&f, "admin", "wrong", None).await;
    }
    let (s, _) = api_login(&f, "admin", "edgeward", None).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "the only system admin is locked"
    );
    // `edgeward accounts recover admin` at the console edits the file...
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let path = f.ctx.state_dir.join("accounts.json");
    let mut console = edgeward_web::accounts::AccountStore::open(&path, Utc::now()).unwrap();
    let temporary = console.recover("admin", Utc::now()).unwrap();
    console.save().unwrap();
    // ...and the running admin plane notices at the next login, and says so.
    let (s, body) = api_login(&f, "admin", &temporary, None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["stage"], "change_password");
    let mut seen = false;
    while let Ok(Ok(ev)) =
        tokio::time::timeout(std::time::Duration::from_millis(500), audit.recv()).await
    {
        if let EventBody::Audit(a) = &ev.body {
            seen |= a.action == "account.console_change"
                && a.outcome == edgeward_event::Outcome::Success;
        }
    }
    assert!(seen, "the console change is audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_source_rate_limit() {
    let f = fixture().await;
    for i in 0..edgeward_web::LOGIN_ATTEMPTS_PER_MINUTE {
        let (s, _) = api_login(&f, &format!("nobody{i}"), "x", None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, _) = api_login(&f, "nobody", "x", None).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_is_required_for_enrolled_admins_and_codes_are_not_reused() {
    let f = fixture().await;
    let user = f.account(Role::SecurityAdmin);
    let secret = totp::new_secret().unwrap();
    {
        let mut store = lock(&f.ctx.accounts);
        let now = Utc::now();
        let code = totp::code_at(&secret, now.timestamp() as u64 - 30).unwrap();
        store
            .enrol_totp(&user, &secret, &code, None, &Default::default(), now)
            .unwrap();
        store
            .change_password(
                &user,
                "Mat-Khau-Moi-2026!",
                "Mat-Khau-Moi-2026!",
                None,
                &Default::default(),
                now,
            )
            .unwrap();
    }
    let (s, _) = api_login(&f, &user, "Mat-Khau-Moi-2026!", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "password alone is not enough");
    let code = totp::code_at(&secret, Utc::now().timestamp() as u64 + 30).unwrap();
    let (s, body) = api_login(&f, &user, "Mat-Khau-Moi-2026!", Some(&code)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["stage"], "full");
    let (s, _) = api_login(&f, &user, "Mat-Khau-Moi-2026!", Some(&code)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the same code twice");
    // An admin who has not enrolled cannot use the API before finishing the first login.
    let (s, body) = api_login(&f, "admin", "edgeward", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["stage"], "change_password");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_headers_and_body_limit() {
    let f = fixture().await;
    let resp = f
        .send(request(&axum::http::Method::GET, "/login", None, None))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers();
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(
        h[header::STRICT_TRANSPORT_SECURITY]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
    let cookie = h[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("Secure")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let body = String::from_utf8(
        axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(
        !body.contains("<script>") && !body.contains("style="),
        "no inline script or style"
    );
    assert!(body.contains("lang=\"vi\""), "Vietnamese by default");

    let (id, csrf) = f.session(Role::SecurityAdmin);
    let huge = format!("{{\"text\":\"{}\"}}", "x".repeat(3 << 20));
    let resp = f
        .send(request(
            &axum::http::Method::POST,
            "/api/v1/config/check",
            Some((&id, &csrf)),
            Some(&huge),
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[test]
fn openapi_documents_every_api_route() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.yaml");
    let doc = std::fs::read_to_string(&path).expect("docs/openapi.yaml");
    let mut missing = Vec::new();
    for spec in routes::specs()
        .iter()
        .filter(|s| s.path.starts_with("/api/v1/"))
    {
        let key = format!("\n  {}:\n", spec.path);
        let Some(start) = doc.find(&key) else {
            missing.push(format!("{} {}", spec.method, spec.path));
            continue;
        };
        let rest = &doc[start + key.len()..];
        let end = rest.find("\n  /").unwrap_or(rest.len());
        let method = format!("    {}:", spec.method.as_str().to_lowercase());
        if !rest[..end].contains(&method) {
            missing.push(format!("{} {}", spec.method, spec.path));
        }
    }
    assert!(missing.is_empty(), "not in docs/openapi.yaml: {missing:?}");
}

/// 003 §30.8.e: the IDS page shows whether inspection runs, where, with how many rules, and what
/// it has seen and blocked — from the status the daemon's IDS writes — and says so when it does
/// not run.
#[tokio::test]
async fn the_ids_page_shows_the_live_state_or_that_it_is_not_running() {
    let f = fixture().await;
    let viewer = f.session(Role::Viewer);
    let (s, _, text) = call(&f, "GET", "/ids", &viewer, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(text.contains("Không hoạt động"), "{text}");
    std::fs::write(
        f.ctx.state_dir.join("ids-status.json"),
        r#"{"running":true,"mode":"ips","interfaces":["wan1","wan2"],"fail_open":false,"rules_source":"/var/lib/edgeward/rules/v7","rules":24566,"packets":123456,"kernel_drops":0,"alerts":42,"dropped":7,"restarts":0,"queue_overflows":3,"updated_at":"2026-12-01T00:00:00Z","bundle":{"bundle_version":7,"bundle_mode":"ips","bundle_state":"canary","canary_until":"2026-12-01T01:00:00Z","drop_rules":2,"drop_sids":[9300001,9300002]},"reverted":{"version":6,"at":"2026-11-30T10:00:00Z","reason":"alerts jumped to 5000 per minute"}}"#,
    )
    .unwrap();
    let (_, _, text) = call(&f, "GET", "/ids", &viewer, None).await;
    for want in [
        "wan1, wan2",
        "24566",
        "123456",
        "Gói tin đã chặn",
        "chặn lưu lượng (fail-closed)",
        "Gói tin tràn hàng đợi",
        "đang thử (chỉ cảnh báo)",
        "9300001, 9300002",
        "alerts jumped to 5000 per minute",
    ] {
        assert!(text.contains(want), "missing {want}: {text}");
    }
}

fn alert_with_evidence(
    seq: u64,
    sid: u32,
    severity: u8,
    action: &str,
    evidence: Option<(&str, &str)>,
) -> std::sync::Arc<edgeward_event::Event> {
    use edgeward_event::eve::{AlertInfo, EveAlert, EvidenceRef};
    std::sync::Arc::new(edgeward_event::Event {
        timestamp: Utc::now(),
        host: "gw".into(),
        seq,
        body: EventBody::Alert(EveAlert {
            flow_id: seq,
            in_iface: None,
            src_ip: "10.10.0.11".parse().unwrap(),
            src_port: Some(40000),
            dest_ip: "192.0.2.80".parse().unwrap(),
            dest_port: Some(80),
            proto: "TCP".into(),
            app_proto: Some("http".into()),
            alert: AlertInfo {
                action: action.into(),
                gid: 1,
                signature_id: sid,
                rev: 1,
                signature: format!("TEST signature {sid}"),
                category: "Potential Corporate Privacy Violation".into(),
                severity,
            },
            evidence: evidence.map(|(id, sha)| EvidenceRef {
                id: id.into(),
                sha256: sha.into(),
                packets: 3,
            }),
        }),
    })
}

/// 002 §7.2.g: an alert's evidence pcap is downloadable from the IDS page by those who handle
/// alerts (not by viewers), the file matches the hash the alert carries, and every download is
/// audited; the page filters alerts by severity, action and text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_downloads_are_for_alert_handlers_audited_and_match_the_alerts_hash() {
    use edgeward_store::evidence::{EvidenceStore, dir};
    let f = fixture().await;
    let keys = edgeward_store::store::Keyring::open_or_create(&f.ctx.key_dir).unwrap();
    let store = EvidenceStore::new(&dir(&f.ctx.store_dir), keys);
    let pcap = b"\xd4\xc3\xb2\xa1 pretend pcap GET /ids-test".to_vec();
    let id = "20261201T050000Z-2a-1";
    store.put(id, &pcap).unwrap();
    let sha = EvidenceStore::digest(&pcap);
    f.ctx.recent.record(alert_with_evidence(
        1,
        2013028,
        3,
        "allowed",
        Some((id, &sha)),
    ));
    f.ctx
        .recent
        .record(alert_with_evidence(2, 2100498, 1, "blocked", None));
    let mut audit = f.bus.subscribe();
    let viewer = f.session(Role::Viewer);
    let operator = f.session(Role::Operator);
    // The page: the evidence link for an operator, the blocked action, the filters.
    let (_, _, page) = call(&f, "GET", "/ids", &operator, None).await;
    assert!(page.contains(&format!("/ids/evidence/{id}")), "{page}");
    assert!(page.contains(&sha), "the hash is shown");
    assert!(page.contains("Đã chặn"));
    let (_, _, only_blocked) = call(&f, "GET", "/ids?action=blocked", &operator, None).await;
    assert!(
        only_blocked.contains("TEST signature 2100498")
            && !only_blocked.contains("TEST signature 2013028")
    );
    let (_, _, by_text) = call(&f, "GET", "/ids?q=2013028", &operator, None).await;
    assert!(
        by_text.contains("TEST signature 2013028") && !by_text.contains("TEST signature 2100498")
    );
    let (_, _, by_sev) = call(&f, "GET", "/ids?sev=1", &operator, None).await;
    assert!(
        by_sev.contains("TEST signature 2100498") && !by_sev.contains("TEST signature 2013028")
    );
    // Viewers see alerts, not the packets.
    let (s, _, _) = call(&f, "GET", &format!("/ids/evidence/{id}"), &viewer, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let resp = f
        .send(request(
            &"GET".parse().unwrap(),
            &format!("/ids/evidence/{id}"),
            Some((&operator.0, &operator.1)),
            None,
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["x-evidence-sha256"], sha.as_str());
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(body.as_ref(), pcap.as_slice());
    // Unknown and malformed ids: not found, and nothing read outside the evidence directory.
    for bad in ["20261201T050000Z-2a-9", "..%2F..%2Faccounts.json"] {
        let (s, _, _) = call(&f, "GET", &format!("/ids/evidence/{bad}"), &operator, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{bad}");
    }
    let mut audited = Vec::new();
    while let Ok(Ok(ev)) =
        tokio::time::timeout(std::time::Duration::from_millis(300), audit.recv()).await
    {
        if let EventBody::Audit(a) = &ev.body
            && a.action == "ids.evidence"
        {
            audited.push((a.outcome, a.detail.clone()));
        }
    }
    assert!(
        audited
            .iter()
            .any(|(o, d)| *o == edgeward_event::Outcome::Success
                && d.contains(id)
                && d.contains(&sha)),
        "{audited:?}"
    );
}

/// 003 §30.8.e: from an alert, the security admin turns its rule into a drop (or alert-only,
/// or off) — a configuration change with history that awaits confirmation like any other;
/// an operator may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_override_from_the_ids_page_is_a_confirmable_configuration_change() {
    let f = fixture().await;
    let post = |session: &(String, String), action: &str| {
        Request::builder()
            .method("POST")
            .uri("/ids/rules/2013028")
            .header(header::HOST, "10.10.99.1")
            .header(header::COOKIE, format!("ew_session={}", session.0))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("_csrf={}&action={action}", session.1)))
            .unwrap()
    };
    let operator = f.session(Role::Operator);
    assert_eq!(
        f.send(post(&operator, "drop")).await.status(),
        StatusCode::FORBIDDEN
    );
    let admin = f.session(Role::SecurityAdmin);
    assert_eq!(
        f.send(post(&admin, "explode")).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let before = f.ctx.live.load().version;
    let resp = f.send(post(&admin, "drop")).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let live = f.ctx.live.load();
    assert!(live.version > before, "a new version in the history");
    assert!(live.awaiting.is_some(), "awaiting confirmation");
    assert_eq!(live.config.as_ref().unwrap().ids.drop_sids, vec![2013028]);
    let (_, _, page) = call(&f, "GET", "/ids", &admin, None).await;
    assert!(page.contains("id=\"ids-overrides\""), "{page}");
}

mod never_panics {
    use edgeward_web::{backup, changes, guard, inventory};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Uploaded inventories: any text gives devices or located problems.
        #[test]
        fn csv_import(text in ".{0,400}", rows in proptest::collection::vec("[a-z0-9:, .\"-]{0,60}", 0..8)) {
            let _ = inventory::import(&text, &[]);
            let csv = format!("user,type,brand,serial,mac,ip,zone,status,note\n{}", rows.join("\n"));
            if let Err(problems) = inventory::import(&csv, &[]) {
                prop_assert!(problems.iter().all(|p| p.line >= 1));
            }
        }

        /// Uploaded backups: any bytes are refused cleanly.
        #[test]
        fn backup_open(bytes in proptest::collection::vec(any::<u8>(), 0..300), tail in "[A-Za-z0-9+/=\n]{0,200}") {
            prop_assert!(backup::open(&bytes, "mot-cau-rat-dai-2026").is_err());
            let file = format!("EDGEWARD-CONFIG-BACKUP v1\n{tail}");
            prop_assert!(backup::open(file.as_bytes(), "mot-cau-rat-dai-2026").is_err());
        }

        /// Candidate configurations from the editor or API: any text is checked, never applied blind.
        #[test]
        fn candidate_check(text in ".{0,300}") {
            let running = edgeward_config::AGENCY_DEFAULT_PROFILE;
            let (candidate, start) = changes::splice(running, &["uplinks"], &text);
            let report = changes::check(running, &candidate, edgeward_web::roles::Role::SecurityAdmin, Some(start));
            if !report.valid {
                prop_assert!(!report.acceptable());
            }
        }

        /// Texts posted to the API with hidden passphrases, and bare keys spliced in.
        #[test]
        fn redacted_candidates(text in "(wifi|passphrase|ssid| |=|\"|'|\\[|\\]|\n|•|[a-z0-9-]){0,200}") {
            let running = edgeward_config::AGENCY_DEFAULT_PROFILE;
            let cfg = edgeward_config::parse(running, "t", edgeward_config::today()).unwrap();
            let restored = edgeward_config::secrets::restore(&text, Some(&cfg));
            let hidden = edgeward_config::secrets::redact(&restored);
            prop_assert_eq!(edgeward_config::secrets::redact(&hidden), hidden.clone());
            let (candidate, start) = changes::splice(running, &["wifi"], &text);
            prop_assert!(start >= 1 && start <= candidate.lines().count() + 1);
            let _ = changes::check(running, &candidate, edgeward_web::roles::Role::Operator, Some(start));
        }

        /// Cookie headers from the wire.
        #[test]
        fn cookie_header(raw in "[ -~]{0,200}") {
            let mut h = axum::http::HeaderMap::new();
            if let Ok(v) = axum::http::HeaderValue::from_str(&raw) {
                h.insert(axum::http::header::COOKIE, v);
            }
            let _ = guard::cookie(&h, "ew_session");
            let _ = guard::lang_of(&h);
        }
    }
}
