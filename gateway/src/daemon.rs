//! `edgeward run`: load the config, apply it through the libraries, and keep it applied —
//! reconciling on SIGHUP and whenever the file changes — until SIGTERM/SIGINT.
//!
//! Safety rules:
//! - The gateway never runs without a firewall: at start the last confirmed ruleset is loaded
//!   before anything else is read.
//! - A configuration that fails validation, rendering or the kernel's own checks is refused and
//!   the running state stays as it was. The firewall goes in before the network layer changes.
//! - A change submitted for confirmation (commit-confirm) is rolled back to the last confirmed
//!   configuration if it is not confirmed in time — also across a restart.
//! - When only devices or address-group members changed, only set membership is updated.

use edgeward_event::Outcome;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use edgeward_config::history::{self, History, write_atomic};
use edgeward_config::{Config, LoadError};
use serde::Deserialize;
use tokio::signal::unix::{SignalKind, signal};

use crate::admin::{ApplyOutcome, DaemonRequest, Live, LiveState};
use crate::bus::{Bus, Sink, run_dispatcher};
use crate::event::UplinkEvent;
use crate::event::{AuditEvent, EventBody, Level};
use crate::fwlog::{self, LogContext};
use crate::journal::JsonlJournal;
use crate::metrics::{Metrics, MetricsServer};
use crate::reconcile::{Desired, Refusal, Subsystem};
use crate::store::{EventStore, SharedStore};
use crate::subsystems;
use crate::uplinks::{self, UplinkChange};
use edgeward_config::UplinkKind;
use edgeward_store::evidence::EvidenceStore;
use edgeward_wan::health::LinkState;
use std::collections::HashMap;
use tokio::sync::mpsc;

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

/// Where alerts' evidence pcaps are kept: beside the event store's segments.
pub fn evidence_dir(store_dir: &std::path::Path) -> PathBuf {
    edgeward_store::evidence::dir(store_dir)
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub config_path: PathBuf,
    pub state_dir: PathBuf,
    /// Also write plaintext JSON lines here (lab and debugging; the encrypted store is the record).
    pub events_path: Option<PathBuf>,
    /// The encrypted event store.
    pub store_dir: PathBuf,
    /// Keys of the store, kept apart from it.
    pub key_dir: PathBuf,
    /// The SOC link's certificate, key and CA.
    pub soc_dir: PathBuf,
    /// Tests and benchmarks: emit this many synthetic events once ready.
    pub synthetic_events: u64,
    /// How often the config file (and a pending confirmation) is checked.
    pub poll_interval: Duration,
    /// IDS rules while no SOC bundle is applied (`--ids-rules`; else `ids.rules_dir`).
    pub ids_rules: Option<PathBuf>,
    /// The A/B slots, ESP and update keys (the appliance's; a directory laid out like it in lab
    /// tests).
    pub update: edgeward_update::slots::System,
    /// Whether chronyd disciplines the system clock (the appliance) or only measures and serves
    /// (the lab, whose namespaces share the host's clock).
    pub set_clock: bool,
}

use edgeward_config::change::{AfterApply, CommitConfirm, ConfirmRefusal};
pub use edgeward_config::change::{
    Awaiting, Confirmation, PendingChange, awaiting_path, confirm_path, history_dir, pending_path,
    pid_path,
};

pub fn last_good_path(state_dir: &Path) -> PathBuf {
    state_dir.join("firewall-last-good.json")
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    std::fs::read(path)
        .ok()
        .and_then(|raw| serde_json::from_slice(&raw).ok())
}

/// Metadata of one change, for the history and the audit log.
#[derive(Debug, Clone)]
struct ChangeMeta {
    author: String,
    reason: String,
    restored_from: Option<u64>,
    confirm: bool,
}

/// What is running now.
struct Running {
    text: String,
    sha: String,
    version: u64,
    config: Config,
}

struct Daemon {
    opts: RunOptions,
    bus: Bus,
    metrics: Arc<Metrics>,
    history: History,
    running: Option<Running>,
    /// Commit-confirm: the change awaiting confirmation, if any (`config::change::CommitConfirm`).
    commit: CommitConfirm,
    /// Judged state of each uplink (absent = up: a new gateway routes at once).
    health: HashMap<String, LinkState>,
    /// Everything that follows the configuration, in the order it is applied (firewall first).
    subsystems: Vec<Box<dyn Subsystem>>,
    /// What runs, published for the admin plane.
    live: Live,
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

    async fn audit(
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

    /// Validate the text, then plan and apply it through every subsystem. On any refusal nothing
    /// running is changed.
    async fn apply_text(
        &mut self,
        text: &str,
        origin: &str,
        force: bool,
        meta: Option<ChangeMeta>,
    ) -> Result<bool, Refusal> {
        let started = Instant::now();
        let sha = history::digest(text);
        let unchanged = self.running.as_ref().is_some_and(|r| r.sha == sha);
        if unchanged && !force {
            return Ok(false);
        }
        let file = self.opts.config_path.display().to_string();
        let config = {
            let _span = tracing::info_span!("validate", origin).entered();
            // What already ran is not refused for having aged (an overdue Wi-Fi passphrase,
            // 004 §7.2): the text itself at start, on a rollback or a re-apply; otherwise the
            // change is checked against the running text.
            let against = if unchanged || origin == "start" || origin == "commit-confirm" {
                text
            } else {
                self.running.as_ref().map_or("", |r| r.text.as_str())
            };
            edgeward_config::parse_change(text, &file, edgeward_config::today(), against)
                .map_err(|p| Refusal::Invalid(p.to_string()))?
        };
        // A forced re-apply of the same text repairs drift: the firewall replaces its whole table.
        let summaries = self.reconcile(&config, unchanged, origin).await?;
        self.health.retain(|name, _| config.uplink(name).is_some());
        if unchanged {
            // A forced re-apply of the running text repairs drift; it is not a new change, so the
            // history and any pending confirmation stay as they are.
            self.system(Level::Info, "config", "running configuration re-applied")
                .await;
            return Ok(true);
        }

        let meta = meta.unwrap_or(ChangeMeta {
            author: "unknown".into(),
            reason: format!("applied from {origin}"),
            restored_from: None,
            confirm: false,
        });
        let version = match self.history.record(
            text,
            &meta.author,
            &meta.reason,
            meta.restored_from,
            Utc::now(),
        ) {
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
        self.metrics.config_version.set(version as i64);
        self.metrics
            .last_reconcile_seconds
            .set(started.elapsed().as_secs_f64());
        let previous_version = self.running.as_ref().map(|r| r.version);
        let diff = self
            .running
            .as_ref()
            .map(|r| r.text.as_str())
            .filter(|p| *p != text)
            .map(|p| {
                edgeward_config::secrets::redacted_diff(p, text, "running", &format!("v{version}"))
            });
        let how = if summaries.is_empty() {
            "nothing to change".to_string()
        } else {
            summaries.join("; ")
        };
        self.audit(
            &meta.author,
            origin,
            "config.apply",
            Outcome::Success,
            edgeward_config::Text::new(
                format!(
                    "configuration version {version} applied ({how}): {}",
                    meta.reason
                ),
                format!(
                    "đã áp dụng cấu hình phiên bản {version}: {}",
                    edgeward_config::history::reason_text(&meta.reason).vi
                ),
            ),
            diff,
        )
        .await;

        // Commit-confirm: keep the way back to the last confirmed version.
        let confirm_window = config.firewall.commit_confirm_seconds;
        let after = self.commit.applied(
            version,
            previous_version,
            meta.confirm,
            &meta.author,
            chrono::Duration::seconds(confirm_window.into()),
            Utc::now(),
        );
        let confirmed = matches!(after, AfterApply::Confirmed);
        match after {
            AfterApply::Awaiting(awaiting) => {
                self.persist_awaiting(&awaiting).await;
                self.metrics.awaiting_confirmation.set(1);
                self.system(Level::Warning, "config", format!("version {version} is running but not confirmed: confirm within {confirm_window} s (`edgeward config confirm`) or it is rolled back to v{}", awaiting.rollback_version)).await;
            }
            AfterApply::Joined { joined, awaiting } => {
                self.persist_awaiting(&awaiting).await;
                self.system(Level::Warning, "config", format!("version {version} was applied while v{joined} awaits confirmation: it joins it; confirm both or both are rolled back to v{}", awaiting.rollback_version)).await;
            }
            AfterApply::Confirmed => {}
        }
        self.running = Some(Running {
            text: text.to_string(),
            sha,
            version,
            config,
        });
        if confirmed {
            for s in &mut self.subsystems {
                s.confirmed();
            }
            self.backup_running().await;
        }
        self.publish();
        tracing::info!(
            version,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "configuration applied"
        );
        Ok(true)
    }

    /// A new day: the running configuration reconciled again, because part of what it means
    /// depends on the date (a Wi-Fi passphrase past its rotation, 004 §7.2).
    async fn on_new_day(&mut self) {
        let Some(config) = self.running.as_ref().map(|r| r.config.clone()) else {
            return;
        };
        if let Err(refusal) = self.reconcile(&config, false, "new-day").await {
            self.system(
                Level::Error,
                "daemon",
                format!(
                    "the new day's reconcile failed ({}): {}",
                    refusal.stage(),
                    refusal.message()
                ),
            )
            .await;
        }
    }

    /// Run every subsystem for `config` (the reconcile loop's one step). Notes and non-essential
    /// failures become events and metrics; returns the subsystems' summaries for the audit record.
    async fn reconcile(
        &mut self,
        config: &Config,
        repair: bool,
        origin: &str,
    ) -> Result<Vec<String>, Refusal> {
        let desired = Desired {
            config,
            health: &self.health,
            repair,
        };
        let span = tracing::info_span!("reconcile", origin);
        let outcomes = tracing::Instrument::instrument(
            crate::reconcile::run(&mut self.subsystems, &desired),
            span,
        )
        .await?;
        let mut summaries = Vec::new();
        for outcome in outcomes {
            let name = outcome.subsystem;
            let ok = match outcome.result {
                Ok(report) => {
                    summaries.extend(report.summary.clone());
                    for note in &report.notes {
                        if note.level != Level::Info {
                            self.metrics.apply_error(name);
                        }
                        self.system(note.level, name, note.message.clone()).await;
                    }
                    !report.troubled()
                }
                Err(message) => {
                    self.metrics.apply_error(name);
                    self.system(Level::Error, name, message).await;
                    false
                }
            };
            self.metrics.subsystem_ok(name, ok);
        }
        Ok(summaries)
    }

    /// Tell the admin plane what runs now.
    fn publish(&self) {
        let state = match &self.running {
            Some(r) => LiveState {
                version: r.version,
                text: r.text.clone(),
                config: Some(Arc::new(r.config.clone())),
                awaiting: self.commit.awaiting().cloned(),
            },
            None => LiveState::default(),
        };
        self.live.store(Arc::new(state));
    }

    /// A request from the admin plane.
    async fn handle_request(&mut self, req: DaemonRequest) {
        match req {
            DaemonRequest::Reconcile { origin, reply } => {
                let outcome = match self.reconcile_from_file(&origin, false).await {
                    // The poll may have applied the file first: the change is in place.
                    ApplyOutcome::Unchanged => match &self.running {
                        Some(r) => ApplyOutcome::Applied { version: r.version },
                        None => ApplyOutcome::Unchanged,
                    },
                    other => other,
                };
                let _ = reply.send(outcome);
            }
            DaemonRequest::Confirm {
                author,
                source,
                reply,
            } => {
                let r = match self.commit.confirm(None) {
                    Ok(a) => {
                        self.confirm_awaiting(&a, &author, &source).await;
                        Ok(a.version)
                    }
                    Err(e) => Err(e.to_string()),
                };
                let _ = reply.send(r);
            }
            DaemonRequest::RollBackNow {
                author,
                source,
                reply,
            } => {
                let r = match self.commit.awaiting().cloned() {
                    Some(a) => {
                        self.audit(
                            &author,
                            &source,
                            "config.rollback",
                            Outcome::Success,
                            edgeward_config::say!(
                                "v{} rejected before its deadline",
                                "phiên bản {} bị từ chối trước hạn xác nhận",
                                a.version
                            ),
                            None,
                        )
                        .await;
                        self.roll_back_unconfirmed(&a, &format!("rejected by {author}"))
                            .await;
                        Ok(a.rollback_version)
                    }
                    None => Err(ConfirmRefusal::NothingAwaits.to_string()),
                };
                let _ = reply.send(r);
            }
        }
    }

    /// Write the pending change's confirmation deadline where a restart finds it.
    async fn persist_awaiting(&self, awaiting: &Awaiting) {
        if let Err(e) = write_atomic(
            &awaiting_path(&self.opts.state_dir),
            &serde_json::to_vec(awaiting).unwrap_or_default(),
        ) {
            self.system(
                Level::Error,
                "config",
                format!("cannot persist the confirmation deadline: {e}"),
            )
            .await;
        }
    }

    /// A confirmed configuration is backed up (000 §10.7, 004 §16.1.b): sealed with the
    /// gateway's backup key, written to `STATE/backups/`, read back and verified; the SOC link
    /// ships it to the hub. A failure is an error event; the change itself stands.
    async fn backup_running(&mut self) {
        let Some(running) = &self.running else { return };
        let author = self
            .history
            .get(running.version)
            .map(|(e, _)| e.author)
            .unwrap_or_else(|_| "edgeward".into());
        let contents = edgeward_admin::backup::Contents {
            host_id: running.config.gateway.host_id.clone(),
            version: running.version,
            created_at: chrono::Utc::now(),
            created_by: author,
            config: running.text.clone(),
            secrets_included: true,
        };
        let (state_dir, key_dir) = (self.opts.state_dir.clone(), self.opts.key_dir.clone());
        let version = running.version;
        let result = tokio::task::spawn_blocking(move || {
            let key = edgeward_admin::autobackup::load_or_create_key(&key_dir)?;
            edgeward_admin::autobackup::write_verified(&state_dir, &key, &contents)
        })
        .await;
        match result {
            Ok(Ok(path)) => {
                self.system(
                    Level::Info,
                    "backup",
                    format!(
                        "configuration v{version} backed up and verified: {}",
                        path.display()
                    ),
                )
                .await;
            }
            Ok(Err(e)) => {
                self.system(
                    Level::Error,
                    "backup",
                    format!("configuration v{version} not backed up: {e}"),
                )
                .await;
            }
            Err(e) => {
                self.system(
                    Level::Error,
                    "backup",
                    format!("configuration v{version} not backed up: {e}"),
                )
                .await;
            }
        }
    }

    /// The awaiting change was confirmed (the state machine has let it go): its ruleset becomes
    /// the last good one.
    async fn confirm_awaiting(&mut self, awaiting: &Awaiting, author: &str, source: &str) {
        for s in &mut self.subsystems {
            s.confirmed();
        }
        self.backup_running().await;
        let _ = std::fs::remove_file(awaiting_path(&self.opts.state_dir));
        self.metrics.awaiting_confirmation.set(0);
        self.publish();
        self.audit(
            author,
            source,
            "config.confirm",
            Outcome::Success,
            edgeward_config::say!(
                "version {} confirmed",
                "đã xác nhận phiên bản {}",
                awaiting.version
            ),
            None,
        )
        .await;
    }

    /// An uplink changed state: re-balance and re-route first (the same reconcile step as a
    /// configuration change, with the new health), then flush the dead uplink's connections
    /// (only if another ISP is up), then report.
    /// The IDS rules in force changed outside the configuration (a SOC bundle applied or
    /// reverted, a canary period ended): re-plan with the running configuration.
    async fn on_ids_rules(&mut self) {
        let Some(config) = self.running.as_ref().map(|r| r.config.clone()) else {
            return;
        };
        match self.reconcile(&config, false, "ids-rules").await {
            // What changed (the rules in force, the mode) is worth an event of its own: the
            // SOC sees its bundle taken up.
            Ok(summaries) => {
                for s in summaries {
                    self.system(Level::Info, "ids", s).await;
                }
            }
            Err(refusal) => tracing::warn!(stage = refusal.stage(), "{}", refusal.message()),
        }
    }

    async fn on_uplink_change(&mut self, change: UplinkChange) {
        let t = &change.transition;
        let Some(config) = self.running.as_ref().map(|r| r.config.clone()) else {
            return;
        };
        let Some(uplink) = config.uplink(&change.uplink).cloned() else {
            return;
        };
        self.health.insert(change.uplink.clone(), t.to);
        self.metrics
            .uplink_transitions
            .get_or_create(&crate::metrics::UplinkResultLabel {
                uplink: change.uplink.clone(),
                result: t.to.as_str().into(),
            })
            .inc();
        let mut notes = Vec::new();
        if let Err(refusal) = self.reconcile(&config, false, "uplink-change").await {
            notes.push(format!(
                "{} not updated: {}",
                refusal.stage(),
                refusal.message()
            ));
        }
        let healthy = |u: &str| self.health.get(u).is_none_or(|s| *s == LinkState::Up);
        // Flush after the routing change, and only when there is somewhere else to go.
        if t.to == LinkState::Down {
            let another_isp_up = config.uplinks.iter().any(|u| {
                u.kind == UplinkKind::Internet && u.name != uplink.name && healthy(&u.name)
            });
            let may_flush = uplink.kind == UplinkKind::Tslcd || another_isp_up;
            if may_flush {
                let mark = config.uplink_mark(&uplink.name).unwrap_or(0);
                let addrs: Vec<std::net::IpAddr> = config
                    .interface(&uplink.interface)
                    .map(|i| i.addresses.iter().map(ipnetwork::IpNetwork::ip).collect())
                    .unwrap_or_default();
                match tokio::task::block_in_place(|| {
                    edgeward_wan::conntrack::flush_uplink(mark, &addrs)
                }) {
                    Ok(n) => {
                        self.metrics
                            .conntrack_flushed
                            .get_or_create(&crate::metrics::UplinkLabel {
                                uplink: uplink.name.clone(),
                            })
                            .inc_by(n);
                        notes.push(format!("{n} connections flushed"));
                    }
                    Err(e) => notes.push(format!("connections not flushed: {e}")),
                }
            } else {
                notes.push("no other ISP is up: nothing flushed, routing kept on every ISP".into());
            }
        }
        let reason = if notes.is_empty() {
            t.reason.clone()
        } else {
            format!("{} [{}]", t.reason, notes.join("; "))
        };
        tracing::warn!(uplink = %change.uplink, from = t.from.as_str(), to = t.to.as_str(), "{reason}");
        self.bus
            .emit(EventBody::Uplink(UplinkEvent {
                uplink: change.uplink.clone(),
                state: t.to.as_str().into(),
                previous: t.from.as_str().into(),
                reason,
                loss_percent: Some(t.loss_percent),
                latency_p95_ms: t.latency_p95_ms,
            }))
            .await;
    }

    /// Re-read the config file and apply it if it changed (or always, when `force`).
    async fn reconcile_from_file(&mut self, origin: &str, force: bool) -> ApplyOutcome {
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
                return ApplyOutcome::Refused {
                    stage: "read".into(),
                    message: e.to_string(),
                };
            }
        };
        let sha = history::digest(&text);
        let pending: Option<PendingChange> = read_json(&pending_path(&self.opts.state_dir))
            .filter(|p: &PendingChange| p.sha256 == sha);
        let meta = pending.as_ref().map(|p| ChangeMeta {
            author: p.author.clone(),
            reason: p.reason.clone(),
            restored_from: p.restored_from,
            confirm: p.confirm,
        });
        if pending.is_some() {
            let _ = std::fs::remove_file(pending_path(&self.opts.state_dir));
        }
        match self.apply_text(&text, origin, force, meta.clone()).await {
            Ok(true) => {
                self.metrics.reconcile("ok");
                ApplyOutcome::Applied {
                    version: self.running.as_ref().map(|r| r.version).unwrap_or(0),
                }
            }
            Ok(false) => ApplyOutcome::Unchanged,
            Err(refusal) => {
                let stage = refusal.stage();
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
                        "configuration refused ({stage}); the running configuration stays:\n{}",
                        refusal.message()
                    ),
                )
                .await;
                let actor = meta.map(|m| m.author).unwrap_or_else(|| "unknown".into());
                self.audit(
                    &actor,
                    origin,
                    "config.apply",
                    Outcome::Failure,
                    edgeward_config::say!("refused at {stage}", "bị từ chối ở bước {stage}"),
                    None,
                )
                .await;
                ApplyOutcome::Refused {
                    stage: stage.to_string(),
                    message: refusal.message().to_string(),
                }
            }
        }
    }

    /// Confirm the awaiting change if asked; roll it back if its time is up.
    async fn check_confirmation(&mut self) {
        if let Some(c) = read_json::<Confirmation>(&confirm_path(&self.opts.state_dir)) {
            match self.commit.confirm(Some(c.version)) {
                Ok(awaiting) => self.confirm_awaiting(&awaiting, &c.author, &c.source).await,
                Err(refusal) => {
                    self.audit(
                        &c.author,
                        &c.source,
                        "config.confirm",
                        Outcome::Failure,
                        edgeward_config::say!(
                            "{0} (asked for v{1})",
                            "không xác nhận được phiên bản {1}: `{0}`",
                            refusal,
                            c.version
                        ),
                        None,
                    )
                    .await;
                }
            }
            // The request file goes only once it is handled: the CLI reads "gone, and nothing
            // awaits any more" as accepted, so the awaiting file must be gone first.
            let _ = std::fs::remove_file(confirm_path(&self.opts.state_dir));
        }
        if self.commit.due(Utc::now()) {
            if let Some(awaiting) = self.commit.awaiting().cloned() {
                self.roll_back_unconfirmed(&awaiting, "not confirmed in time")
                    .await;
            }
        }
    }

    async fn roll_back_unconfirmed(&mut self, awaiting: &Awaiting, why: &str) {
        let text = match self.history.get(awaiting.rollback_version) {
            Ok((_, t)) => t,
            Err(e) => {
                self.system(
                    Level::Error,
                    "config",
                    format!("cannot roll back to v{}: {e}", awaiting.rollback_version),
                )
                .await;
                return;
            }
        };
        self.commit.rolled_back();
        let _ = std::fs::remove_file(awaiting_path(&self.opts.state_dir));
        self.metrics.awaiting_confirmation.set(0);
        // The file must say what runs, or the next poll would re-apply the unconfirmed change.
        if let Err(e) = write_atomic(&self.opts.config_path, text.as_bytes()) {
            self.system(
                Level::Error,
                "config",
                format!(
                    "rolled back, but cannot rewrite {}: {e}",
                    self.opts.config_path.display()
                ),
            )
            .await;
        }
        let meta = ChangeMeta {
            author: "edgeward".into(),
            reason: format!(
                "v{} {why}: automatic rollback to v{}",
                awaiting.version, awaiting.rollback_version
            ),
            restored_from: Some(awaiting.rollback_version),
            confirm: false,
        };
        match self
            .apply_text(&text, "commit-confirm", true, Some(meta))
            .await
        {
            Ok(_) => {
                self.system(
                    Level::Warning,
                    "config",
                    format!(
                        "version {} was {why}; rolled back to v{}",
                        awaiting.version, awaiting.rollback_version
                    ),
                )
                .await;
            }
            Err(r) => {
                self.system(
                    Level::Error,
                    "config",
                    format!(
                        "automatic rollback to v{} failed ({}): {}",
                        awaiting.rollback_version,
                        r.stage(),
                        r.message()
                    ),
                )
                .await;
            }
        }
        // Published after the rollback is in place (or failed): never a state in between.
        self.publish();
    }
}

/// A cheap fingerprint of the config file, to notice edits.
fn fingerprint(path: &Path) -> Option<(std::time::SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Load the last confirmed ruleset into the kernel, before anything else: the gateway is never
/// without a firewall, even if the configuration turns out to be unusable.
fn restore_last_good(state_dir: &Path) -> Result<bool, String> {
    let Ok(json) = std::fs::read_to_string(last_good_path(state_dir)) else {
        return Ok(false);
    };
    edgeward_firewall::apply::nft_json(&json, false)
        .map(|()| true)
        .map_err(|e| e.to_string())
}

/// Choose the configuration to start with. An unconfirmed change does not survive a restart;
/// an invalid file falls back to the last applied version.
fn initial_text(
    opts: &RunOptions,
    history: &History,
) -> Result<(String, Vec<String>), (u8, String)> {
    let mut notes = Vec::new();
    if let Some(a) = read_json::<Awaiting>(&awaiting_path(&opts.state_dir)) {
        let _ = std::fs::remove_file(awaiting_path(&opts.state_dir));
        match history.get(a.rollback_version) {
            Ok((_, text)) => {
                let _ = write_atomic(&opts.config_path, text.as_bytes());
                notes.push(format!(
                    "version {} was never confirmed; starting with v{} instead",
                    a.version, a.rollback_version
                ));
                return Ok((text, notes));
            }
            Err(e) => notes.push(format!(
                "version {} was never confirmed, but v{} cannot be read: {e}",
                a.version, a.rollback_version
            )),
        }
    }
    let loaded = std::fs::read_to_string(&opts.config_path)
        .map_err(|source| LoadError::Read {
            path: opts.config_path.display().to_string(),
            source,
        })
        .and_then(|text| {
            // The file that ran before: an overdue Wi-Fi passphrase does not stop the box.
            edgeward_config::parse_change(
                &text,
                &opts.config_path.display().to_string(),
                edgeward_config::today(),
                &text,
            )
            .map(|_| text.clone())
            .map_err(LoadError::Invalid)
        });
    match loaded {
        Ok(text) => Ok((text, notes)),
        Err(err) => {
            let why = match &err {
                LoadError::Read { .. } => err.to_string(),
                LoadError::Invalid(p) => p.to_string(),
            };
            match history.latest() {
                Ok(Some(entry)) => match history.get(entry.version) {
                    Ok((_, text)) => {
                        notes.push(format!(
                            "{why}\nstarting with the last applied configuration, version {}",
                            entry.version
                        ));
                        Ok((text, notes))
                    }
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
    let restored = restore_last_good(&opts.state_dir);
    let history = match History::open(history_dir(&opts.state_dir)) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("edgeward: {e}");
            return Ok(exit::CANT_CREATE);
        }
    };
    let (text, notes) = match initial_text(&opts, &history) {
        Ok(t) => t,
        Err((code, why)) => {
            eprintln!("edgeward: refusing to start:\n{why}");
            return Ok(code);
        }
    };
    // Parsed once here for what only the start decides (host name, store segment size, the
    // admin plane's certificate); everything else follows each applied configuration.
    let start_config =
        edgeward_config::parse_change(&text, "start", edgeward_config::today(), &text).ok();
    let host_id = start_config
        .as_ref()
        .map(|c| c.gateway.host_id.clone())
        .unwrap_or_else(|| "edgeward".into());
    let segment_bytes = start_config
        .as_ref()
        .map(|c| c.logs.segment_mb)
        .unwrap_or(16)
        << 20;
    let store = match EventStore::open(&opts.store_dir, &opts.key_dir, segment_bytes) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("edgeward: cannot open the event store: {e}");
            return Ok(exit::CANT_CREATE);
        }
    };
    let mut last_seq = store.last_seq();
    let store_notices = store.notices.clone();
    let store = SharedStore::new(store);
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(store.clone())];
    if let Some(path) = &opts.events_path {
        match JsonlJournal::open(path) {
            Ok((journal, journal_last)) => {
                last_seq = last_seq.max(journal_last);
                sinks.push(Box::new(journal));
            }
            Err(e) => {
                eprintln!(
                    "edgeward: cannot open event journal {}: {e}",
                    path.display()
                );
                return Ok(exit::CANT_CREATE);
            }
        }
    }
    let metrics = Arc::new(Metrics::new());
    metrics.start_time_seconds.set(Utc::now().timestamp());
    let (bus, dispatch) = Bus::new(&host_id, last_seq.map(|s| s + 1).unwrap_or(1), 4096);
    let observer = metrics.clone();
    let dispatcher = tokio::spawn(run_dispatcher(dispatch, sinks, move |ev| {
        observer.event(ev.body.kind());
    }));

    let log_ctx = Arc::new(RwLock::new(LogContext::default()));
    let (uplink_tx, mut uplink_rx) = mpsc::channel::<UplinkChange>(64);
    let board: uplinks::StatusBoard = Arc::new(RwLock::new(HashMap::new()));
    let live: Live = Arc::new(arc_swap::ArcSwap::from_pointee(LiveState::default()));
    let (admin_tx, mut admin_rx) = mpsc::channel::<DaemonRequest>(16);
    let admin = match crate::admin::setup(crate::admin::Setup {
        state_dir: opts.state_dir.clone(),
        config_path: opts.config_path.clone(),
        store_dir: opts.store_dir.clone(),
        key_dir: opts.key_dir.clone(),
        host_id: host_id.clone(),
        start_config: start_config.as_ref(),
        bus: bus.clone(),
        live: live.clone(),
        board: board.clone(),
        daemon: admin_tx,
        update: opts.update.clone(),
    }) {
        Ok(server) => Some(server),
        Err(e) => {
            eprintln!("edgeward: the admin UI is not available: {e}");
            None
        }
    };
    let link_events = match uplinks::spawn_link_monitor() {
        Ok(tx) => Some(tx),
        Err(e) => {
            tracing::error!(error = %e, "cannot watch link state (netlink); carrier loss will be seen by probes only");
            None
        }
    };
    let mut subsystems: Vec<Box<dyn Subsystem>> = vec![
        // Before the network subsystem: a bridge must exist to get its addresses.
        Box::new(subsystems::bridges::Bridges::new(&opts.state_dir)),
        Box::new(subsystems::firewall::Firewall::new(
            last_good_path(&opts.state_dir),
            log_ctx.clone(),
            metrics.clone(),
        )),
        Box::new(subsystems::network::Network::default()),
        Box::new(subsystems::listeners::Metrics(MetricsServer::new(
            metrics.clone(),
        ))),
    ];
    if let Some(admin) = admin {
        subsystems.push(Box::new(subsystems::listeners::AdminUi(admin)));
    }
    subsystems.push(Box::new(subsystems::uplink_monitor::UplinkMonitor::new(
        link_events,
        uplink_tx,
        board.clone(),
        metrics.clone(),
    )));
    subsystems.push(Box::new(subsystems::soc::SocLink::new(
        host_id.clone(),
        subsystems::soc::SocPaths {
            soc_dir: opts.soc_dir.clone(),
            store_dir: opts.store_dir.clone(),
            key_dir: opts.key_dir.clone(),
            state_dir: opts.state_dir.clone(),
            update: opts.update.clone(),
        },
        bus.clone(),
        metrics.soc.clone(),
    )));
    let evidence = edgeward_store::store::Keyring::open(&opts.key_dir)
        .ok()
        .map(|keys| EvidenceStore::new(&evidence_dir(&opts.store_dir), keys));
    subsystems.push(Box::new(subsystems::dhcp::Dhcp::new(
        &opts.state_dir,
        bus.clone(),
    )));
    subsystems.push(Box::new(subsystems::dhcp_watch::DhcpWatch::new(
        &opts.state_dir,
        bus.clone(),
    )));
    subsystems.push(Box::new(subsystems::portal::Portal::default()));
    let (nac_apply_tx, mut nac_apply_rx) = mpsc::channel::<()>(4);
    tokio::spawn(crate::nac_policy::run(
        bus.clone(),
        live.clone(),
        edgeward_config::change::Paths {
            config: opts.config_path.clone(),
            state_dir: opts.state_dir.clone(),
        },
        nac_apply_tx,
    ));
    let (ids_replan_tx, mut ids_replan_rx) = mpsc::channel::<()>(4);
    let ids_watching = crate::connwatch::Watched::default();
    subsystems.push(Box::new(subsystems::ids::Ids::new(
        bus.clone(),
        metrics.clone(),
        opts.ids_rules.clone(),
        opts.state_dir.clone(),
        evidence.clone(),
        ids_replan_tx,
        ids_watching.clone(),
    )));
    subsystems.push(Box::new(subsystems::ssh::SshServer::new(
        &opts.state_dir,
        &opts.key_dir,
        bus.clone(),
    )));
    subsystems.push(Box::new(subsystems::timesync::TimeSync::new(
        &opts.state_dir,
        bus.clone(),
        opts.set_clock,
    )));
    // After the bridges: hostapd adds each SSID's interface to its zone's bridge.
    subsystems.push(Box::new(subsystems::wifi::Wifi::new(
        &opts.state_dir,
        bus.clone(),
        &std::env::var("EDGEWARD_WIFI_DRIVER").unwrap_or_else(|_| "nl80211".into()),
    )));
    subsystems.push(Box::new(subsystems::retention::Retention::new(
        store,
        evidence,
        bus.clone(),
    )));
    let mut daemon = Daemon {
        opts: opts.clone(),
        bus: bus.clone(),
        metrics: metrics.clone(),
        history,
        running: None,
        commit: CommitConfirm::default(),
        health: HashMap::new(),
        subsystems,
        live,
    };
    let _status_writer = uplinks::spawn_status_writer(board, uplinks::status_path(&opts.state_dir));
    let _update_watch = crate::update_watch::spawn(opts.update.clone(), bus.clone());
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
    match restored {
        Ok(true) => {
            daemon
                .system(
                    Level::Info,
                    "firewall",
                    "last confirmed ruleset loaded before start-up",
                )
                .await;
        }
        Ok(false) => {}
        Err(e) => {
            daemon
                .system(
                    Level::Error,
                    "firewall",
                    format!("the last confirmed ruleset could not be loaded: {e}"),
                )
                .await;
        }
    }
    for note in notes {
        daemon.metrics.apply_error("validate");
        daemon.system(Level::Error, "config", note).await;
    }
    if let Err(refusal) = daemon.apply_text(&text, "start", true, None).await {
        let msg = format!(
            "cannot put the configuration in place at start ({}): {}",
            refusal.stage(),
            refusal.message()
        );
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
    for note in store_notices {
        daemon.system(Level::Warning, "store", note).await;
    }
    if let Err(e) = fwlog::spawn(bus.clone(), log_ctx, metrics.clone()) {
        daemon
            .system(
                Level::Error,
                "firewall",
                format!("cannot read the firewall log (NFLOG): {e}"),
            )
            .await;
    }
    if let Err(e) = crate::connwatch::spawn(bus.clone(), daemon.live.clone(), ids_watching) {
        daemon
            .system(
                Level::Error,
                "nac",
                format!("the gateway's scan and password-guessing counters cannot read the firewall log (NFLOG): {e}"),
            )
            .await;
    }
    fwlog::spawn_counter_export(metrics.clone(), Duration::from_secs(10));
    let _ = std::fs::write(
        pid_path(&opts.state_dir),
        format!("{}\n", std::process::id()),
    );
    if opts.synthetic_events > 0 {
        let (bus, n) = (bus.clone(), opts.synthetic_events);
        tokio::spawn(async move {
            for i in 1..=n {
                bus.emit(EventBody::system(
                    Level::Info,
                    "selftest",
                    format!("synthetic event {i} of {n}"),
                ))
                .await;
            }
        });
    }
    daemon.system(Level::Info, "daemon", "ready").await;

    let mut hup = signal(SignalKind::hangup()).context("installing SIGHUP handler")?;
    let mut term = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;
    let mut tick = tokio::time::interval(opts.poll_interval);
    let mut seen = fingerprint(&opts.config_path);
    // Some of the model depends on the day (Wi-Fi passphrase rotation, 004 §7.2): a new day is
    // reconciled like a change.
    let mut day = edgeward_config::today();
    loop {
        tokio::select! {
            _ = hup.recv() => {
                tracing::info!("SIGHUP: reconciling");
                seen = fingerprint(&opts.config_path);
                daemon.reconcile_from_file("sighup", true).await;
            }
            _ = tick.tick() => {
                daemon.check_confirmation().await;
                let now = fingerprint(&opts.config_path);
                if now != seen {
                    seen = now;
                    daemon.reconcile_from_file("file-change", false).await;
                } else if edgeward_config::today() != day {
                    day = edgeward_config::today();
                    daemon.on_new_day().await;
                }
            }
            Some(change) = uplink_rx.recv() => daemon.on_uplink_change(change).await,
            Some(()) = ids_replan_rx.recv() => daemon.on_ids_rules().await,
            Some(()) = nac_apply_rx.recv() => {
                seen = fingerprint(&opts.config_path);
                daemon.reconcile_from_file("nac", false).await;
            }
            Some(req) = admin_rx.recv() => daemon.handle_request(req).await,
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
