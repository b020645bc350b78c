//! `edgeward run`: load the config, apply it through the libraries, and keep it applied —
//! reconciling on SIGHUP and whenever the file changes — until SIGTERM/SIGINT.
//!
//! A configuration that fails validation, rendering or the kernel's own checks is refused and the
//! running state stays as it was. The firewall goes in before the network layer changes, so the
//! gateway never routes without it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use edgeward_config::history::{self, History};
use edgeward_config::{Config, LoadError};
use serde::{Deserialize, Serialize};
use tokio::signal::unix::{SignalKind, signal};

use crate::bus::{Bus, Sink, run_dispatcher};
use crate::event::{AuditEvent, EventBody, Level};
use crate::journal::JsonlJournal;
use crate::metrics::{Metrics, MetricsServer};

/// Exit codes (sysexits.h), so a supervisor can tell why the daemon stopped.
pub mod exit {
    /// Clean shutdown on SIGTERM/SIGINT.
    pub const OK: u8 = 0;
    /// The configuration is invalid and no earlier good one exists.
    pub const CONFIG: u8 = 78;
    /// The firewall could not be put in place: the gateway refuses to run without it.
    pub const UNAVAILABLE: u8 = 69;
    /// The state directory or event journal cannot be used.
    pub const CANT_CREATE: u8 = 73;
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub config_path: PathBuf,
    pub state_dir: PathBuf,
    pub events_path: PathBuf,
    /// How often the config file is checked for changes.
    pub poll_interval: Duration,
}

/// Who asked for the next configuration change, written by `edgeward config apply|rollback`
/// and read by the daemon when it applies the matching text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingChange {
    pub sha256: String,
    pub author: String,
    pub reason: String,
    #[serde(default)]
    pub restored_from: Option<u64>,
}

pub fn pending_path(state_dir: &Path) -> PathBuf {
    state_dir.join("pending-change.json")
}
pub fn pid_path(state_dir: &Path) -> PathBuf {
    state_dir.join("edgeward.pid")
}
pub fn history_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("history")
}

/// What is running now.
struct Running {
    text: String,
    sha: String,
}

struct Daemon {
    opts: RunOptions,
    bus: Bus,
    metrics: Arc<Metrics>,
    metrics_server: MetricsServer,
    history: History,
    running: Option<Running>,
}

#[derive(Debug)]
enum Refusal {
    Invalid(String),
    Render(String),
    Firewall(String),
}

impl Daemon {
    async fn system(&self, level: Level, component: &str, message: impl Into<String>) {
        let message = message.into();
        match level {
            Level::Error => tracing::error!(component, "{message}"),
            Level::Warning => tracing::warn!(component, "{message}"),
            Level::Info => tracing::info!(component, "{message}"),
        }
        self.bus
            .emit(EventBody::system(level, component, message))
            .await;
    }

    /// Validate, render and apply `text`. On any refusal nothing running is changed.
    async fn apply_text(&mut self, text: &str, origin: &str, force: bool) -> Result<bool, Refusal> {
        let span = tracing::info_span!("reconcile", origin);
        let _g = span.enter();
        let started = Instant::now();
        let sha = history::digest(text);
        if !force && self.running.as_ref().is_some_and(|r| r.sha == sha) {
            return Ok(false);
        }
        let file = self.opts.config_path.display().to_string();
        let config = edgeward_config::parse(text, &file, edgeward_config::today())
            .map_err(|p| Refusal::Invalid(p.to_string()))?;
        let ruleset =
            edgeward_firewall::render(&config).map_err(|e| Refusal::Render(e.to_string()))?;
        edgeward_firewall::apply(&ruleset).map_err(|e| Refusal::Firewall(e.to_string()))?;

        let plan = edgeward_wan::plan(&config, &|_| true);
        match tokio::task::block_in_place(|| edgeward_wan::apply(&plan)) {
            Ok(report) => {
                if !report.missing_interfaces.is_empty() {
                    self.metrics.apply_error("network");
                    drop(_g);
                    self.system(
                        Level::Warning,
                        "network",
                        format!(
                            "interfaces missing, left unconfigured: {}",
                            report.missing_interfaces.join(", ")
                        ),
                    )
                    .await;
                }
            }
            Err(e) => {
                self.metrics.apply_error("network");
                self.system(
                    Level::Error,
                    "network",
                    format!("network layer partly applied: {e}"),
                )
                .await;
            }
        }

        let listen = metrics_addrs(&config);
        for (addr, why) in self.metrics_server.ensure(listen).await {
            self.metrics.apply_error("metrics");
            self.system(
                Level::Warning,
                "metrics",
                format!("cannot listen on {addr}: {why}"),
            )
            .await;
        }

        // Record in history with the author the CLI left for this exact text, if any.
        let pending: Option<PendingChange> = std::fs::read(pending_path(&self.opts.state_dir))
            .ok()
            .and_then(|raw| serde_json::from_slice(&raw).ok())
            .filter(|p: &PendingChange| p.sha256 == sha);
        let (author, reason, restored) = match &pending {
            Some(p) => (p.author.clone(), p.reason.clone(), p.restored_from),
            None => (
                "unknown".to_string(),
                format!("applied from {origin}"),
                None,
            ),
        };
        let previous_text = self.running.as_ref().map(|r| r.text.clone());
        let version =
            match self
                .history
                .record(text, &author, &reason, restored, chrono::Utc::now())
            {
                Ok(e) => e.version,
                Err(e) => {
                    self.metrics.apply_error("history");
                    self.system(
                        Level::Error,
                        "history",
                        format!("applied, but history could not be written: {e}"),
                    )
                    .await;
                    0
                }
            };
        if pending.is_some() {
            let _ = std::fs::remove_file(pending_path(&self.opts.state_dir));
        }
        self.metrics.config_version.set(version as i64);
        self.metrics
            .last_reconcile_seconds
            .set(started.elapsed().as_secs_f64());
        let diff = previous_text
            .filter(|p| p != text)
            .map(|p| history::unified_diff(&p, text, "running", &format!("v{version}")));
        self.bus
            .emit(EventBody::Audit(AuditEvent {
                actor: author,
                source: origin.to_string(),
                action: "config.apply".into(),
                outcome: "success".into(),
                detail: format!("configuration version {version} applied: {reason}"),
                diff,
            }))
            .await;
        self.running = Some(Running {
            text: text.to_string(),
            sha,
        });
        tracing::info!(
            version,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "configuration applied"
        );
        Ok(true)
    }

    /// Re-read the config file and apply it if it changed (or always, when `force`).
    async fn reconcile_from_file(&mut self, origin: &str, force: bool) {
        let text = match std::fs::read_to_string(&self.opts.config_path) {
            Ok(t) => t,
            Err(e) => {
                self.metrics.reconcile("failed");
                self.metrics.apply_error("read");
                self.system(
                    Level::Error,
                    "config",
                    format!(
                        "cannot read {}: {e}; running configuration kept",
                        self.opts.config_path.display()
                    ),
                )
                .await;
                return;
            }
        };
        match self.apply_text(&text, origin, force).await {
            Ok(true) => self.metrics.reconcile("ok"),
            Ok(false) => {}
            Err(refusal) => {
                let (stage, msg) = match refusal {
                    Refusal::Invalid(m) => ("validate", m),
                    Refusal::Render(m) => ("render", m),
                    Refusal::Firewall(m) => ("firewall", m),
                };
                self.metrics.reconcile(if stage == "validate" {
                    "invalid"
                } else {
                    "failed"
                });
                self.metrics.apply_error(stage);
                self.system(
                    Level::Error,
                    "config",
                    format!(
                        "configuration refused ({stage}); the running configuration stays:\n{msg}"
                    ),
                )
                .await;
                self.bus
                    .emit(EventBody::Audit(AuditEvent {
                        actor: "unknown".into(),
                        source: origin.into(),
                        action: "config.apply".into(),
                        outcome: "failure".into(),
                        detail: format!("refused at {stage}"),
                        diff: None,
                    }))
                    .await;
            }
        }
    }
}

/// `/metrics` listens on the addresses of the admin zones' interfaces.
fn metrics_addrs(config: &Config) -> Vec<SocketAddr> {
    config
        .management
        .admin_zones
        .iter()
        .flat_map(|z| config.zone_interfaces(z))
        .flat_map(|i| i.addresses.iter())
        .map(|a| SocketAddr::new(a.ip(), config.management.metrics_port))
        .collect()
}

/// A cheap fingerprint of the config file, to notice edits.
fn fingerprint(path: &Path) -> Option<(std::time::SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Choose the configuration to start with: the file if it is valid, else the last applied one.
fn initial_text(
    opts: &RunOptions,
    history: &History,
) -> Result<(String, Option<String>), (u8, String)> {
    match edgeward_config::load(&opts.config_path, edgeward_config::today()) {
        Ok((_, text)) => Ok((text, None)),
        Err(err) => {
            let why = match &err {
                LoadError::Read { .. } => err.to_string(),
                LoadError::Invalid(p) => p.to_string(),
            };
            match history.latest() {
                Ok(Some(entry)) => match history.get(entry.version) {
                    Ok((_, text)) => Ok((
                        text,
                        Some(format!(
                            "{why}\nstarting with the last applied configuration, version {}",
                            entry.version
                        )),
                    )),
                    Err(e) => Err((
                        exit::CONFIG,
                        format!("{why}\nand the last applied configuration is unusable: {e}"),
                    )),
                },
                _ => Err((exit::CONFIG, why)),
            }
        }
    }
}

/// Run the daemon until a shutdown signal; returns the process exit code.
pub async fn run(opts: RunOptions) -> anyhow::Result<u8> {
    std::fs::create_dir_all(&opts.state_dir)
        .with_context(|| format!("creating state directory {}", opts.state_dir.display()))?;
    let history = match History::open(history_dir(&opts.state_dir)) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("edgeward: {e}");
            return Ok(exit::CANT_CREATE);
        }
    };
    let (text, fallback_note) = match initial_text(&opts, &history) {
        Ok(t) => t,
        Err((code, why)) => {
            eprintln!("edgeward: refusing to start:\n{why}");
            return Ok(code);
        }
    };
    let host_id = edgeward_config::parse(&text, "start", edgeward_config::today())
        .map(|c| c.gateway.host_id)
        .unwrap_or_else(|_| "edgeward".into());

    let (journal, last_seq) = match JsonlJournal::open(&opts.events_path) {
        Ok(j) => j,
        Err(e) => {
            eprintln!(
                "edgeward: cannot open event journal {}: {e}",
                opts.events_path.display()
            );
            return Ok(exit::CANT_CREATE);
        }
    };
    let metrics = Arc::new(Metrics::new());
    metrics
        .start_time_seconds
        .set(chrono::Utc::now().timestamp());
    let (bus, dispatch) = Bus::new(&host_id, last_seq.map(|s| s + 1).unwrap_or(1), 4096);
    let observer = metrics.clone();
    let sinks: Vec<Box<dyn Sink>> = vec![Box::new(journal)];
    let dispatcher = tokio::spawn(run_dispatcher(dispatch, sinks, move |ev| {
        observer.event(ev.body.kind())
    }));

    let mut daemon = Daemon {
        opts: opts.clone(),
        bus: bus.clone(),
        metrics: metrics.clone(),
        metrics_server: MetricsServer::new(metrics.clone()),
        history,
        running: None,
    };
    daemon
        .system(
            Level::Info,
            "daemon",
            format!(
                "edgeward {} starting (pid {})",
                env!("CARGO_PKG_VERSION"),
                std::process::id()
            ),
        )
        .await;
    if let Some(note) = fallback_note {
        daemon.metrics.apply_error("validate");
        daemon.system(Level::Error, "config", note).await;
    }
    if let Err(refusal) = daemon.apply_text(&text, "start", true).await {
        let msg = format!("cannot put the configuration in place at start: {refusal:?}");
        daemon.system(Level::Error, "daemon", msg.clone()).await;
        eprintln!("edgeward: {msg}");
        drop(daemon);
        drop(bus);
        let _ = dispatcher.await;
        return Ok(match refusal {
            Refusal::Invalid(_) => exit::CONFIG,
            _ => exit::UNAVAILABLE,
        });
    }
    daemon.metrics.reconcile("ok");
    let _ = std::fs::write(
        pid_path(&opts.state_dir),
        format!("{}\n", std::process::id()),
    );
    daemon.system(Level::Info, "daemon", "ready").await;

    let mut hup = signal(SignalKind::hangup()).context("installing SIGHUP handler")?;
    let mut term = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;
    let mut tick = tokio::time::interval(opts.poll_interval);
    let mut seen = fingerprint(&opts.config_path);
    loop {
        tokio::select! {
            _ = hup.recv() => {
                tracing::info!("SIGHUP: reconciling");
                seen = fingerprint(&opts.config_path);
                daemon.reconcile_from_file("sighup", true).await;
            }
            _ = tick.tick() => {
                let now = fingerprint(&opts.config_path);
                if now != seen {
                    seen = now;
                    daemon.reconcile_from_file("file-change", false).await;
                }
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    daemon
        .system(
            Level::Info,
            "daemon",
            "stopping on signal; the firewall stays in place",
        )
        .await;
    let _ = std::fs::remove_file(pid_path(&opts.state_dir));
    drop(daemon);
    drop(bus);
    let _ = dispatcher.await;
    Ok(exit::OK)
}
