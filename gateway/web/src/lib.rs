//! The admin plane: an HTTPS web UI and JSON API (`/api/v1`) on the management zone only, with
//! personal accounts, TOTP, roles with separation of duties, CSRF protection, an audit event for
//! every login, configuration view and change, and configuration changes through validate → diff
//! → apply with commit-confirm → history.
//!
//! Data flow: handlers read the running configuration and its confirmation state from [`Live`]
//! (published by the daemon after each apply), uplink states from the status board, and recent
//! events from [`recent::Recent`] (a bus subscriber). Changes are written the same way the CLI
//! writes them (pending-change metadata + the config file) and then handed to the daemon's loop
//! through [`DaemonRequest`], which answers with the outcome.

// The administration rules live in `edgeward-admin`; these names keep the plane reading as one.
pub use edgeward_admin::{accounts, backup, password, roles, session, totp};

pub mod api;
pub mod caller;
pub mod changes;
pub mod guard;
pub mod i18n;
pub mod inventory;
pub mod layout;
pub mod pages;
pub mod recent;
pub mod routes;
pub mod sysinfo;
pub mod tls;
pub mod update;

pub use edgeward_update::slots::System as UpdateSystem;

use edgeward_event::Outcome;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use edgeward_config::{AdminPolicy, Config};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use edgeward_config::change::Awaiting;
use edgeward_event::Bus;
use edgeward_event::{AuditEvent, EventBody};
use edgeward_wan::status::StatusBoard;

/// What runs now, as the daemon last published it.
#[derive(Debug, Clone, Default)]
pub struct LiveState {
    pub version: u64,
    pub text: String,
    pub config: Option<Arc<Config>>,
    pub awaiting: Option<Awaiting>,
}

pub type Live = Arc<ArcSwap<LiveState>>;

/// The result of asking the daemon to apply what was written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ApplyOutcome {
    Applied { version: u64 },
    Unchanged,
    Refused { stage: String, message: String },
}

/// Requests from the admin plane to the daemon's loop.
#[derive(Debug)]
pub enum DaemonRequest {
    /// Apply the config file now (its pending-change metadata says who and why).
    Reconcile {
        origin: String,
        reply: oneshot::Sender<ApplyOutcome>,
    },
    /// Keep the change awaiting confirmation.
    Confirm {
        author: String,
        source: String,
        reply: oneshot::Sender<Result<u64, String>>,
    },
    /// Do not wait for the deadline: roll back the unconfirmed change now.
    RollBackNow {
        author: String,
        source: String,
        reply: oneshot::Sender<Result<u64, String>>,
    },
}

/// Everything the handlers share.
pub struct AdminContext {
    pub state_dir: PathBuf,
    pub config_path: PathBuf,
    /// The encrypted event store and its keys (the audit log page reads them).
    pub store_dir: PathBuf,
    pub key_dir: PathBuf,
    pub host_id: String,
    pub accounts: Mutex<accounts::AccountStore>,
    pub sessions: Mutex<session::SessionTable>,
    pub limiter: Mutex<session::SourceLimiter>,
    pub certs: Arc<tls::CertStore>,
    pub bus: Bus,
    pub live: Live,
    pub board: StatusBoard,
    pub recent: recent::Recent,
    pub daemon: mpsc::Sender<DaemonRequest>,
    /// Held from the version check to the daemon's answer of every change the admin plane
    /// submits: no change is applied on top of a version other than the one it was made from.
    pub change_lock: tokio::sync::Mutex<()>,
    /// Where system updates are queued and the A/B slots are read.
    pub update: edgeward_update::slots::System,
}

/// Lock a mutex even if a panicking holder poisoned it (the data are plain records).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl AdminContext {
    /// The account policy of the running configuration (the defaults before the first apply).
    pub fn policy(&self) -> AdminPolicy {
        self.live
            .load()
            .config
            .as_ref()
            .map(|c| c.admin.clone())
            .unwrap_or_default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// Pick up edits of the accounts file made at the console (`edgeward accounts recover`),
    /// with an audit event saying so.
    pub async fn refresh_accounts(&self) {
        let changed = lock(&self.accounts).refresh_if_changed();
        match changed {
            Ok(false) => {}
            Ok(true) => {
                self.audit(
                    "console",
                    "console",
                    "account.console_change",
                    Outcome::Success,
                    edgeward_config::say!(
                        "the accounts file was changed outside the admin UI and reloaded",
                        "tệp tài khoản được sửa ngoài giao diện quản trị và đã được nạp lại"
                    ),
                    None,
                )
                .await;
            }
            Err(e) => {
                self.audit(
                    "console",
                    "console",
                    "account.console_change",
                    Outcome::Failure,
                    edgeward_config::say!(
                        "the accounts file changed but cannot be read; the loaded accounts stay: {e}",
                        "tệp tài khoản đã thay đổi nhưng không đọc được; giữ nguyên các tài khoản đang dùng: `{e}`"
                    ),
                    None,
                )
                .await;
            }
        }
    }

    /// Put an audit event on the bus.
    pub async fn audit(
        &self,
        actor: &str,
        source: &str,
        action: &str,
        outcome: Outcome,
        detail: edgeward_config::Text,
        diff: Option<String>,
    ) {
        self.bus
            .emit(EventBody::Audit(AuditEvent::said(
                actor,
                source,
                action,
                outcome,
                detail,
                diff.as_deref(),
            )))
            .await;
    }

    /// Audit a view of the configuration (001 §6.2: viewing configuration is logged).
    pub async fn audit_view(&self, caller: &guard::Caller, what: edgeward_config::Text) {
        self.audit(
            &caller.username,
            &caller.source_str(),
            "config.view",
            Outcome::Success,
            what,
            None,
        )
        .await;
    }

    /// Ask the daemon and wait for its answer (bounded).
    pub async fn ask_daemon<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> DaemonRequest,
    ) -> Result<T, String> {
        let (tx, rx) = oneshot::channel();
        self.daemon
            .send(make(tx))
            .await
            .map_err(|_| "the daemon is not running".to_string())?;
        match tokio::time::timeout(std::time::Duration::from_secs(60), rx).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(_)) => Err("the daemon dropped the request".into()),
            Err(_) => Err("the daemon did not answer within 60 s".into()),
        }
    }
}

/// What the daemon hands the admin plane at start.
pub struct Setup<'a> {
    pub state_dir: PathBuf,
    pub config_path: PathBuf,
    pub store_dir: PathBuf,
    pub key_dir: PathBuf,
    pub host_id: String,
    pub start_config: Option<&'a Config>,
    pub bus: Bus,
    pub live: Live,
    pub board: StatusBoard,
    pub daemon: mpsc::Sender<DaemonRequest>,
    /// Where system updates are queued and the A/B slots are read.
    pub update: edgeward_update::slots::System,
}

/// Open the accounts (creating the factory account on first start) and the certificate
/// (generating it on first start), start following the bus; listening starts with the first
/// applied configuration.
pub fn setup(s: Setup<'_>) -> anyhow::Result<AdminServer> {
    let now = Utc::now();
    let accounts = accounts::AccountStore::open(&s.state_dir.join("accounts.json"), now)?;
    let certs = tls::CertStore::open_or_generate(
        &s.state_dir.join("admin-tls"),
        &certificate_names(s.start_config),
    )?;
    let recent = recent::Recent::new(s.state_dir.join("alert-acks.json"));
    recent.follow(&s.bus);
    let ctx = AdminContext {
        state_dir: s.state_dir,
        config_path: s.config_path,
        store_dir: s.store_dir,
        key_dir: s.key_dir,
        host_id: s.host_id,
        accounts: Mutex::new(accounts),
        sessions: Mutex::new(session::SessionTable::default()),
        limiter: Mutex::new(session::SourceLimiter::new(
            LOGIN_ATTEMPTS_PER_MINUTE,
            chrono::Duration::minutes(1),
        )),
        certs: Arc::new(certs),
        bus: s.bus,
        live: s.live,
        board: s.board,
        recent,
        daemon: s.daemon,
        change_lock: tokio::sync::Mutex::new(()),
        update: s.update,
    };
    Ok(AdminServer::new(Arc::new(ctx)))
}

/// Login attempts allowed per source address per minute (on top of the per-account lockout).
pub const LOGIN_ATTEMPTS_PER_MINUTE: usize = 20;

/// The HTTPS listeners of the admin plane; follows the configuration's admin zones.
pub struct AdminServer {
    ctx: Arc<AdminContext>,
    bound: Vec<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl AdminServer {
    pub fn new(ctx: Arc<AdminContext>) -> AdminServer {
        AdminServer {
            ctx,
            bound: Vec::new(),
            tasks: Vec::new(),
        }
    }

    pub fn context(&self) -> Arc<AdminContext> {
        self.ctx.clone()
    }

    /// Listen on exactly `addrs`; returns those that could not be bound, with the reason.
    pub async fn ensure(&mut self, mut addrs: Vec<SocketAddr>) -> Vec<(SocketAddr, String)> {
        addrs.sort();
        addrs.dedup();
        if addrs == self.bound {
            return Vec::new();
        }
        for t in self.tasks.drain(..) {
            t.abort();
        }
        self.bound.clear();
        let tls = match self.ctx.certs.server_config() {
            Ok(c) => c,
            Err(e) => return addrs.into_iter().map(|a| (a, e.to_string())).collect(),
        };
        let mut failed = Vec::new();
        for addr in addrs {
            let tcp = match bind_with_retry(addr).await {
                Ok(t) => t,
                Err(e) => {
                    failed.push((addr, e.to_string()));
                    continue;
                }
            };
            let app = routes::router(self.ctx.clone());
            self.tasks.push(tokio::spawn(tls::serve(
                tcp,
                tls.clone(),
                app,
                tls::Limits::default(),
            )));
            self.bound.push(addr);
            tracing::info!(%addr, "admin UI listening (HTTPS)");
        }
        failed
    }
}

/// Addresses appear a moment after the interface is configured (IPv6 duplicate address
/// detection); try for a few seconds before reporting.
async fn bind_with_retry(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for _ in 0..20 {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("bind failed")))
}

/// Every address of the admin zones' interfaces, with `port` (the UI's and the metrics').
pub fn admin_zone_addrs(config: &Config, port: u16) -> Vec<SocketAddr> {
    config
        .management
        .admin_zones
        .iter()
        .flat_map(|z| config.zone_interfaces(z))
        .flat_map(|i| i.addresses.iter())
        .map(|a| SocketAddr::new(a.ip(), port))
        .collect()
}

/// The addresses the admin UI listens on: the admin zones' interface addresses, `ui_port`.
pub fn listen_addrs(config: &Config) -> Vec<SocketAddr> {
    admin_zone_addrs(config, config.management.ui_port)
}

/// Names for the self-signed certificate: host name and every admin-zone address.
pub fn certificate_names(config: Option<&Config>) -> Vec<String> {
    let mut names = vec![];
    if let Some(c) = config {
        if !c.gateway.hostname.is_empty() {
            names.push(c.gateway.hostname.clone());
        }
        names.extend(listen_addrs(c).iter().map(|a| a.ip().to_string()));
    }
    if names.is_empty() {
        names.push("edgeward".into());
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}
