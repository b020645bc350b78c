//! The admin plane's router in-process, for the API and attack tests: a context over a temp
//! state dir with the agency profile "running", a stand-in for the daemon's loop, accounts and
//! sessions of each role, and request helpers.

#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Utc;
use edgeward_event::bus::{Bus, run_dispatcher};
use edgeward_web::accounts::{AccountRequest, NewAccount, Stage};
use edgeward_web::roles::Role;
use edgeward_web::{AdminContext, ApplyOutcome, DaemonRequest, LiveState, lock, routes};
use tokio::sync::mpsc;
use tower::ServiceExt;

pub const PASSWORD: &str = "Mat-Khau-Dai-2026!";

pub struct Fixture {
    pub ctx: Arc<AdminContext>,
    pub router: Router,
    pub bus: Bus,
    pub _dir: tempfile::TempDir,
}

/// A context over a temp state dir, the agency profile "running", and a stand-in for the
/// daemon's loop that applies what the admin plane wrote, with commit-confirm through the same
/// state machine as the daemon (`config::change::CommitConfirm`).
#[allow(clippy::unused_async)] // awaited by every test, like the daemon's own set-up
pub async fn fixture() -> Fixture {
    fixture_with(edgeward_config::AGENCY_DEFAULT_PROFILE.to_string()).await
}

/// As [`fixture`], running `text` instead of the agency profile.
#[allow(clippy::unused_async)]
pub async fn fixture_with(text: String) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let config = edgeward_config::parse(&text, "t", edgeward_config::today()).unwrap();
    let live = Arc::new(arc_swap::ArcSwap::from_pointee(LiveState {
        version: 1,
        text: text.clone(),
        config: Some(Arc::new(config.clone())),
        awaiting: None,
    }));
    let (bus, dispatch) = Bus::new("gw-test", 1, 1024);
    tokio::spawn(run_dispatcher(dispatch, Vec::new(), |_| {}));
    let (tx, mut rx) = mpsc::channel::<DaemonRequest>(8);
    let config_path = dir.path().join("edgeward.toml");
    std::fs::write(&config_path, &text).unwrap();
    // The stand-in records history as the daemon does, starting from version 1.
    let history = edgeward_config::history::History::open(dir.path().join("history")).unwrap();
    history
        .record(&text, "factory", "first start", None, Utc::now())
        .unwrap();
    {
        let (live, path, state_dir) = (live.clone(), config_path.clone(), dir.path().to_path_buf());
        tokio::spawn(async move {
            // Commit-confirm through the same state machine the daemon uses.
            let mut commit = edgeward_config::change::CommitConfirm::default();
            let publish = |version: u64, text: String, awaiting| {
                let config = edgeward_config::parse(&text, "t", edgeward_config::today()).ok();
                live.store(Arc::new(LiveState {
                    version,
                    text,
                    config: config.map(Arc::new),
                    awaiting,
                }));
            };
            while let Some(req) = rx.recv().await {
                match req {
                    DaemonRequest::Reconcile { reply, .. } => {
                        let text = std::fs::read_to_string(&path).unwrap_or_default();
                        let pending: Option<edgeward_config::change::PendingChange> =
                            std::fs::read(edgeward_config::change::pending_path(&state_dir))
                                .ok()
                                .and_then(|raw| serde_json::from_slice(&raw).ok());
                        let out = match edgeward_config::parse(&text, "t", edgeward_config::today())
                        {
                            Ok(_) => {
                                let previous = live.load().version;
                                let version = history
                                    .record(&text, "web", "test", None, Utc::now())
                                    .unwrap()
                                    .version;
                                let (confirm, author) = pending
                                    .map_or((false, "web".into()), |p| (p.confirm, p.author));
                                commit.applied(
                                    version,
                                    Some(previous),
                                    confirm,
                                    &author,
                                    chrono::Duration::seconds(120),
                                    Utc::now(),
                                );
                                publish(version, text, commit.awaiting().cloned());
                                ApplyOutcome::Applied { version }
                            }
                            Err(p) => ApplyOutcome::Refused {
                                stage: "validate".into(),
                                message: p.to_string(),
                            },
                        };
                        let _ = reply.send(out);
                    }
                    DaemonRequest::Confirm { reply, .. } => {
                        let r = commit
                            .confirm(None)
                            .map(|a| a.version)
                            .map_err(|e| e.to_string());
                        let now = live.load();
                        publish(now.version, now.text.clone(), None);
                        let _ = reply.send(r);
                    }
                    DaemonRequest::RollBackNow { reply, .. } => {
                        let r = match commit.rolled_back() {
                            Some(a) => {
                                let (_, text) = history.get(a.rollback_version).unwrap();
                                let version = history
                                    .record(
                                        &text,
                                        "edgeward",
                                        "rolled back",
                                        Some(a.rollback_version),
                                        Utc::now(),
                                    )
                                    .unwrap()
                                    .version;
                                std::fs::write(&path, &text).unwrap();
                                publish(version, text, None);
                                Ok(a.rollback_version)
                            }
                            None => Err("no change is waiting for confirmation".into()),
                        };
                        let _ = reply.send(r);
                    }
                }
            }
        });
    }
    let server = edgeward_web::setup(edgeward_web::Setup {
        state_dir: dir.path().to_path_buf(),
        config_path,
        store_dir: dir.path().join("store"),
        key_dir: dir.path().join("keys"),
        host_id: "gw-test".into(),
        start_config: Some(&config),
        bus: bus.clone(),
        live,
        board: Arc::default(),
        daemon: tx,
        update: fake_appliance(dir.path()),
    })
    .unwrap();
    let ctx = server.context();
    let router = routes::router(ctx.clone());
    Fixture {
        ctx,
        router,
        bus,
        _dir: dir,
    }
}

impl Fixture {
    /// An account of `role` named after it, past its first login.
    pub fn account(&self, role: Role) -> String {
        let name = format!("u{}", role.as_str().replace('_', ""));
        let mut store = lock(&self.ctx.accounts);
        if store.get(&name).is_none() {
            store
                .create(
                    &NewAccount {
                        username: name.clone(),
                        full_name: format!("Người {name}"),
                        person_id: format!("{name}@so.gov.vn"),
                        role,
                        password: PASSWORD.into(),
                        request: AccountRequest {
                            citizen_id: "001090012345".into(),
                            phone: "0912345678".into(),
                            department: "Phòng CNTT".into(),
                            purpose: "test".into(),
                            scope: "test".into(),
                            approved_by: String::new(),
                        },
                        expires_on: None,
                    },
                    "admin",
                    &Default::default(),
                    Utc::now(),
                )
                .unwrap();
            store.save().unwrap();
        }
        name
    }

    /// A logged-in session (cookie value, CSRF token).
    pub fn session(&self, role: Role) -> (String, String) {
        let name = self.account(role);
        let s = lock(&self.ctx.sessions).create(
            &name,
            Stage::Full,
            "127.0.0.1".parse().unwrap(),
            Utc::now(),
        );
        (s.id, s.csrf)
    }

    pub async fn send(&self, req: Request<Body>) -> axum::response::Response {
        self.router.clone().oneshot(req).await.unwrap()
    }
}

pub fn request(
    method: &axum::http::Method,
    path: &str,
    session: Option<(&str, &str)>,
    json: Option<&str>,
) -> Request<Body> {
    let mut b = Request::builder()
        .method(method.clone())
        .uri(path)
        .header(header::HOST, "10.10.99.1");
    if let Some((id, csrf)) = session {
        b = b
            .header(header::COOKIE, format!("ew_session={id}"))
            .header("x-csrf-token", csrf);
    }
    match json {
        Some(j) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(j.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

pub async fn call(
    f: &Fixture,
    method: &str,
    path: &str,
    session: &(String, String),
    json: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value, String) {
    let body = json.map(|j| j.to_string());
    let resp = f
        .send(request(
            &method.parse().unwrap(),
            path,
            Some((&session.0, &session.1)),
            body.as_deref(),
        ))
        .await;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 4 << 20)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes).to_string();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        text,
    )
}

pub async fn api_login(
    f: &Fixture,
    user: &str,
    password: &str,
    code: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let mut body = serde_json::json!({ "username": user, "password": password });
    if let Some(c) = code {
        body["totp"] = serde_json::json!(c);
    }
    let resp = f
        .send(request(
            &axum::http::Method::POST,
            "/api/v1/login",
            None,
            Some(&body.to_string()),
        ))
        .await;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

/// An appliance's update layout inside `dir`: booted from slot A, version 0.1.1, with the vendor
/// key in `dir/vendor` trusted (slot "partitions" are files).
pub fn fake_appliance(dir: &std::path::Path) -> edgeward_web::UpdateSystem {
    for d in [
        "esp/EFI/Linux",
        "esp/loader/entries",
        "dev",
        "update-keys",
        "vendor",
    ] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::write(dir.join("dev/edgeward-a"), vec![0u8; 1 << 20]).unwrap();
    std::fs::write(dir.join("dev/edgeward-b"), vec![0u8; 1 << 20]).unwrap();
    std::fs::write(dir.join("esp/EFI/Linux/edgeward_0.1.1.efi"), b"uki").unwrap();
    std::fs::write(dir.join("cmdline"), "root=PARTLABEL=edgeward-a ro\n").unwrap();
    std::fs::write(dir.join("os-release"), "IMAGE_VERSION=0.1.1\n").unwrap();
    edgeward_update::manifest::make_signing_key(&dir.join("vendor")).unwrap();
    std::fs::copy(
        dir.join("vendor/update-signing.pub"),
        dir.join("update-keys/vendor.pub"),
    )
    .unwrap();
    edgeward_web::UpdateSystem {
        esp: dir.join("esp"),
        partitions: dir.join("dev"),
        cmdline: dir.join("cmdline"),
        os_release: dir.join("os-release"),
        keys: dir.join("update-keys"),
        state: dir.join("update"),
        tries: 3,
    }
}
