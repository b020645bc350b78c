//! The admin plane's router once per fuzzing process: the agency profile running, a stand-in
//! for the daemon's loop that refuses every change, sessions of each role, and a helper that
//! sends one request from a chosen source address and checks what must hold for any input:
//! no panic, no server error, and no Wi-Fi passphrase in a response to a role without
//! `manage_wifi`.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::Request;
use edgeward_event::bus::{Bus, run_dispatcher};
use edgeward_web::accounts::Stage;
use edgeward_web::roles::Role;
use edgeward_web::tls::Peer;
use edgeward_web::{self as admin, ApplyOutcome, DaemonRequest, LiveState, lock, routes};
use tower::ServiceExt;

pub const SECRET: &str = "Fuzz-Secret-Wifi-2026";

pub struct Harness {
    pub rt: tokio::runtime::Runtime,
    pub router: axum::Router,
    pub ctx: Arc<admin::AdminContext>,
    /// (session id, CSRF token) per role, in `Role::ALL` order; renewed when an input ends one.
    pub sessions: std::sync::Mutex<Vec<(String, String)>>,
    _dir: tempfile::TempDir,
}

pub fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{}\n[[wifi]]\nssid = \"Khach\"\nzone = \"guest\"\nsecurity = \"wpa2-wpa3\"\npassphrase = \"{SECRET}\"\npassphrase_changed = \"{}\"\n",
            edgeward_config::AGENCY_DEFAULT_PROFILE,
            edgeward_config::today()
        );
        let config = edgeward_config::parse(&text, "t", edgeward_config::today()).unwrap();
        let config_path = dir.path().join("edgeward.toml");
        std::fs::write(&config_path, &text).unwrap();
        let history = edgeward_config::history::History::open(dir.path().join("history")).unwrap();
        history
            .record(&text, "factory", "first start", None, chrono::Utc::now())
            .unwrap();
        let live = Arc::new(arc_swap::ArcSwap::from_pointee(LiveState {
            version: 1,
            text,
            config: Some(Arc::new(config.clone())),
            awaiting: None,
        }));
        let (router, sessions) = rt.block_on(async {
            let (bus, dispatch) = Bus::new("gw-fuzz", 1, 4096);
            tokio::spawn(run_dispatcher(dispatch, Vec::new(), |_| {}));
            let (tx, mut rx) = tokio::sync::mpsc::channel::<DaemonRequest>(8);
            tokio::spawn(async move {
                while let Some(req) = rx.recv().await {
                    match req {
                        DaemonRequest::Reconcile { reply, .. } => {
                            let _ = reply.send(ApplyOutcome::Refused {
                                stage: "fuzz".into(),
                                message: "the fuzzing stand-in applies nothing".into(),
                            });
                        }
                        DaemonRequest::Confirm { reply, .. }
                        | DaemonRequest::RollBackNow { reply, .. } => {
                            let _ = reply.send(Err("nothing pending".into()));
                        }
                    }
                }
            });
            let server = admin::setup(admin::Setup {
                state_dir: dir.path().to_path_buf(),
                config_path,
                store_dir: dir.path().join("store"),
                key_dir: dir.path().join("keys"),
                host_id: "gw-fuzz".into(),
                start_config: Some(&config),
                bus,
                live,
                board: Arc::default(),
                daemon: tx,
                update: admin::UpdateSystem::appliance(dir.path()),
            })
            .unwrap();
            let ctx = server.context();
            let mut sessions: Vec<(String, String)> = Vec::new();
            for role in Role::ALL {
                let name = format!("fuzz{}", role.as_str().replace('_', ""));
                {
                    let mut store = lock(&ctx.accounts);
                    store
                        .create(
                            &admin::accounts::NewAccount {
                                username: name.clone(),
                                full_name: format!("Người {name}"),
                                person_id: format!("{name}@so.gov.vn"),
                                role,
                                password: "Mat-Khau-Dai-2026!".into(),
                                request: admin::accounts::AccountRequest {
                                    citizen_id: "001090012345".into(),
                                    phone: "0912345678".into(),
                                    department: "CNTT".into(),
                                    purpose: "fuzz".into(),
                                    scope: "fuzz".into(),
                                    approved_by: String::new(),
                                },
                                expires_on: None,
                            },
                            "admin",
                            &Default::default(),
                            chrono::Utc::now(),
                        )
                        .unwrap();
                }
                // Sessions far in the future never expire while fuzzing.
                let s = lock(&ctx.sessions).create(
                    &name,
                    Stage::Full,
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                    chrono::Utc::now() + chrono::Duration::days(1),
                );
                sessions.push((s.id, s.csrf));
            }
            (routes::router(ctx.clone()), (ctx, sessions))
        });
        let (ctx, sessions) = sessions;
        Harness {
            rt,
            router,
            ctx,
            sessions: std::sync::Mutex::new(sessions),
            _dir: dir,
        }
    })
}

/// A source address that changes with every request (the per-source login limit would
/// otherwise answer every later login with 429 and hide the paths behind it).
pub fn next_source() -> SocketAddr {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    SocketAddr::new(
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (n & 0x00ff_ffff))),
        40000,
    )
}

/// Send `req` and check the invariants. `viewer_like`: the caller may not see secrets.
pub fn send(h: &Harness, mut req: Request<Body>, may_see_secrets: bool) {
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(Peer(next_source())));
    let resp = h.rt.block_on(async {
        let resp = h.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), 16 << 20)
            .await
            .unwrap_or_default();
        (status, body)
    });
    let (status, body) = resp;
    assert!(
        !status.is_server_error() || status == axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "server error {status}: {}",
        String::from_utf8_lossy(&body)
    );
    if !may_see_secrets {
        assert!(
            !String::from_utf8_lossy(&body).contains(SECRET),
            "a passphrase in a response to a role that may not see it"
        );
    }
}

/// Which role's session (or none) a selector byte picks — (session id, CSRF token) — and
/// whether that role may see secrets. A session an earlier input ended (logout, password
/// change) is replaced, so later inputs still reach the handlers behind the guard.
pub fn pick_session(h: &Harness, selector: u8) -> (Option<(String, String)>, bool) {
    let mut sessions = h.sessions.lock().unwrap();
    match selector as usize % (sessions.len() + 1) {
        0 => (None, false),
        i => {
            let role = Role::ALL[i - 1];
            let alive = lock(&h.ctx.sessions)
                .active()
                .any(|s| s.id == sessions[i - 1].0);
            if !alive {
                let name = format!("fuzz{}", role.as_str().replace('_', ""));
                let s = lock(&h.ctx.sessions).create(
                    &name,
                    Stage::Full,
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                    chrono::Utc::now() + chrono::Duration::days(1),
                );
                sessions[i - 1] = (s.id, s.csrf);
            }
            (
                Some(sessions[i - 1].clone()),
                role.can(edgeward_web::roles::Permission::ManageWifi),
            )
        }
    }
}
