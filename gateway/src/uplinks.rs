//! Uplink monitoring: one task per uplink probes its targets through that uplink only, feeds the
//! health judge, and reports state changes to the daemon, which re-routes, re-balances and
//! flushes. Carrier changes from netlink reach the judges at once. The live state is kept for
//! `edgeward uplinks` (a JSON file in the state directory) and the metrics.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use edgeward_config::{Config, Uplink};
use edgeward_wan::health::{LinkJudge, LinkState, Transition};
use edgeward_wan::link::{LinkEvent, LinkMonitor};
use edgeward_wan::probe::{self, Via};
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::metrics::Metrics;

/// A state change of one uplink, for the daemon.
#[derive(Debug, Clone)]
pub struct UplinkChange {
    pub uplink: String,
    pub transition: Transition,
}

pub use edgeward_wan::status::{StatusBoard, TargetStatus, UplinkStatus};

pub fn status_path(state_dir: &std::path::Path) -> PathBuf {
    state_dir.join("uplinks.json")
}

/// The running monitor: its tasks stop when it is dropped.
pub struct Monitor {
    tasks: Vec<JoinHandle<()>>,
    /// The uplinks section it was started for, to know when a config change needs a restart.
    pub fingerprint: String,
}

impl Drop for Monitor {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

pub fn fingerprint(config: &Config) -> String {
    serde_json::to_string(&config.uplinks).unwrap_or_default()
}

/// Start the netlink link monitor thread; carrier changes are broadcast to the uplink tasks.
pub fn spawn_link_monitor() -> std::io::Result<broadcast::Sender<LinkEvent>> {
    let (tx, _) = broadcast::channel(256);
    let mut mon = LinkMonitor::open()?;
    let sender = tx.clone();
    std::thread::Builder::new()
        .name("link-monitor".into())
        .spawn(move || {
            loop {
                match mon.recv() {
                    Ok(events) => {
                        for e in events {
                            let _ = sender.send(e);
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "link monitor stopped");
                        return;
                    }
                }
            }
        })?;
    Ok(tx)
}

/// Start one probing task per uplink. `initial` carries states over from a previous monitor.
pub fn start(
    config: &Config,
    initial: &HashMap<String, LinkState>,
    changes: mpsc::Sender<UplinkChange>,
    links: &broadcast::Sender<LinkEvent>,
    board: StatusBoard,
    metrics: Arc<Metrics>,
) -> Monitor {
    let mut tasks = Vec::new();
    for up in &config.uplinks {
        let Some(mark) = config.uplink_mark(&up.name) else {
            continue;
        };
        let state = initial.get(&up.name).copied().unwrap_or(LinkState::Up);
        tasks.push(tokio::spawn(run_uplink(
            up.clone(),
            mark,
            state,
            changes.clone(),
            links.subscribe(),
            board.clone(),
            metrics.clone(),
        )));
    }
    Monitor {
        tasks,
        fingerprint: fingerprint(config),
    }
}

async fn run_uplink(
    up: Uplink,
    mark: u32,
    initial: LinkState,
    changes: mpsc::Sender<UplinkChange>,
    mut links: broadcast::Receiver<LinkEvent>,
    board: StatusBoard,
    metrics: Arc<Metrics>,
) {
    let policy = up.health.clone();
    let names: Vec<String> = up.probes.iter().map(|p| p.target.clone()).collect();
    let mut judge = LinkJudge::new(policy.clone(), names);
    if initial == LinkState::Down {
        // Carry a down state over a restart of the monitor: it must earn its way back up.
        judge.set_carrier(false);
        let _ = judge.evaluate(Instant::now());
        judge.set_carrier(true);
    }
    let carrier_now = edgeward_wan::link::carrier(&up.interface).unwrap_or(false);
    judge.set_carrier(carrier_now);
    let via = Via {
        device: up.interface.clone(),
        mark: edgeward_wan::plan::probe_mark(mark),
    };
    let timeout = Duration::from_millis(policy.timeout_ms.into());
    let (result_tx, mut results) = mpsc::unbounded_channel::<(usize, Option<Duration>)>();
    let mut tick = tokio::time::interval(Duration::from_millis(policy.interval_ms.into()));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut since = Utc::now();
    let mut last_reason = edgeward_config::say!("monitoring started", "bắt đầu giám sát");
    let mut carrier = carrier_now;
    let pps = up.probes.len() as f64 * 1000.0 / f64::from(policy.interval_ms.max(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                for (i, p) in up.probes.iter().enumerate() {
                    let (p, via, tx, metrics, name) = (p.clone(), via.clone(), result_tx.clone(), metrics.clone(), up.name.clone());
                    tokio::spawn(async move {
                        let outcome = match probe::run(&p, &via, timeout).await {
                            Ok(rtt) => Some(rtt),
                            Err(e) => {
                                tracing::trace!(uplink = %name, target = %p.target, error = %e, "probe failed");
                                None
                            }
                        };
                        metrics.probe(&name, outcome.is_some());
                        let _ = tx.send((i, outcome));
                    });
                }
            }
            Some((i, outcome)) = results.recv() => {
                judge.record(i, outcome);
                while let Ok((i, outcome)) = results.try_recv() {
                    judge.record(i, outcome);
                }
            }
            ev = links.recv() => {
                match ev {
                    Ok(e) if e.ifname == up.interface => {
                        carrier = e.carrier;
                        judge.set_carrier(e.carrier);
                    }
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        carrier = edgeward_wan::link::carrier(&up.interface).unwrap_or(false);
                        judge.set_carrier(carrier);
                    }
                    Err(broadcast::error::RecvError::Closed) => {}
                }
            }
        }
        if let Some(t) = judge.evaluate(Instant::now()) {
            since = Utc::now();
            last_reason = t.reason_text.clone();
            if changes
                .send(UplinkChange {
                    uplink: up.name.clone(),
                    transition: t,
                })
                .await
                .is_err()
            {
                return;
            }
        }
        let stats = judge.stats();
        metrics.uplink_state(&up.name, judge.state() == LinkState::Up, &stats);
        let status = UplinkStatus {
            name: up.name.clone(),
            kind: format!("{:?}", up.kind).to_lowercase(),
            interface: up.interface.clone(),
            state: judge.state().as_str().into(),
            since,
            carrier,
            last_reason: last_reason.en.clone(),
            last_reason_vi: last_reason.vi.clone(),
            probes_per_second: pps,
            targets: up
                .probes
                .iter()
                .zip(stats)
                .map(|(p, (_, s))| TargetStatus {
                    kind: format!("{:?}", p.kind).to_lowercase(),
                    target: p.target.clone(),
                    samples: s.samples,
                    loss_percent: s.loss_percent,
                    p95_ms: s.p95_ms,
                })
                .collect(),
        };
        board
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(up.name.clone(), status);
    }
}

/// Write the status board to `path` every second, for `edgeward uplinks`.
pub fn spawn_status_writer(board: StatusBoard, path: PathBuf) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let snapshot: Vec<UplinkStatus> = {
                let b = board
                    .read()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let mut v: Vec<UplinkStatus> = b.values().cloned().collect();
                v.sort_by(|a, b| a.name.cmp(&b.name));
                v
            };
            let doc = serde_json::json!({ "written_at": Utc::now(), "uplinks": snapshot });
            if let Ok(bytes) = serde_json::to_vec_pretty(&doc) {
                let _ = edgeward_config::history::write_atomic(&path, &bytes);
            }
        }
    })
}

/// `edgeward uplinks`: print the live state the daemon last wrote.
pub fn print_status(state_dir: &std::path::Path, json: bool) -> anyhow::Result<u8> {
    let path = status_path(state_dir);
    let raw = std::fs::read(&path)
        .map_err(|e| anyhow::anyhow!("{}: {e} (is the daemon running?)", path.display()))?;
    if json {
        println!("{}", String::from_utf8_lossy(&raw));
        return Ok(0);
    }
    #[derive(Deserialize)]
    struct Doc {
        written_at: DateTime<Utc>,
        uplinks: Vec<UplinkStatus>,
    }
    let doc: Doc = serde_json::from_slice(&raw)?;
    let age = (Utc::now() - doc.written_at).num_seconds();
    if age > 5 {
        println!("warning: this state is {age} s old; is the daemon running?");
    }
    for u in &doc.uplinks {
        println!(
            "{:<8} {:<9} {:<7} {:<5} since {} ({}, carrier {}, {:.0} probes/s)",
            u.name,
            u.kind,
            u.interface,
            u.state.to_uppercase(),
            u.since.format("%Y-%m-%d %H:%M:%S"),
            u.last_reason,
            if u.carrier { "up" } else { "DOWN" },
            u.probes_per_second
        );
        for t in &u.targets {
            let p95 = t
                .p95_ms
                .map(|l| format!("{l:.1} ms"))
                .unwrap_or_else(|| "-".into());
            println!(
                "    {:<6} {:<28} loss {:>5.1}%  p95 {:>9}  ({} samples)",
                t.kind, t.target, t.loss_percent, p95, t.samples
            );
        }
    }
    Ok(0)
}
