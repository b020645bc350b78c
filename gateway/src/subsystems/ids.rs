//! Live IDS/IPS on the uplinks, started from `[ids]`. IDS mode: capture workers
//! (`edgeward-capture`: AF_PACKET rings in a fanout group per interface, one engine per worker).
//! IPS mode: forwarded traffic on the uplinks is queued (iptables-nft `NFQUEUE --queue-balance`,
//! with `--queue-bypass` when `ids.fail_open`; traffic *to* the gateway — the admin's — is never
//! queued) and judged inline by one worker per queue. Alerts go on the event bus in Suricata's
//! EVE shape (→ store → SOC, syslog, UI). Rules come from the SOC's
//! applied bundle when there is one, else `--ids-rules`, else `ids.rules_dir`; a newer SOC bundle
//! is picked up within seconds (compiled off the packet path, swapped in atomically).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use edgeward_capture::afpacket::RingConfig;
use edgeward_capture::inline::{InlineConfig, InlinePool};
use edgeward_capture::pool::{Pool, PoolConfig};
use edgeward_config::{Config, IdsMode};
use edgeward_event::bus::Bus;
use edgeward_event::model::{EventBody, Level};
use edgeward_ids::enforce::Enforcement;
use edgeward_ids::engine::EngineConfig;
use edgeward_ids::reload::SharedRules;
use edgeward_ids::vars::Vars;
use tokio::task::JoinHandle;

use crate::metrics::Metrics;
use crate::reconcile::{Desired, Report, Step, Subsystem};
use crate::subsystems::ips_queue::{self, QueueGroup, QueuePlan};
use edgeward_event::eve::EvidenceRef;
use edgeward_store::evidence::EvidenceStore;

/// Writes evidence pcaps off the packet path: the worker hashes the pcap and names it (the
/// alert event carries both at once), a writer thread seals and stores it. Several alerts of one
/// recording share one file.
struct EvidenceWriter {
    tx: std::sync::mpsc::SyncSender<(String, Vec<u8>)>,
    /// The last recording named: (SHA-256, id).
    last: std::sync::Mutex<(String, String)>,
    next: std::sync::atomic::AtomicU64,
}

impl EvidenceWriter {
    fn start(store: EvidenceStore) -> EvidenceWriter {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(String, Vec<u8>)>(256);
        let _ = std::thread::Builder::new()
            .name("ids-evidence".into())
            .spawn(move || {
                while let Ok((id, pcap)) = rx.recv() {
                    if let Err(e) = store.put(&id, &pcap) {
                        tracing::error!(error = %e, id, "evidence not kept");
                    }
                }
            });
        EvidenceWriter {
            tx,
            last: std::sync::Mutex::new((String::new(), String::new())),
            next: std::sync::atomic::AtomicU64::new(1),
        }
    }

    /// Name and queue a recording (once per recording); `None` when the writer is saturated.
    fn keep(
        &self,
        evidence: &edgeward_capture::evidence::Evidence,
        ts: f64,
    ) -> Option<EvidenceRef> {
        let sha256 = EvidenceStore::digest(&evidence.pcap);
        let mut last = self.last.lock().ok()?;
        if last.0 != sha256 {
            let when =
                chrono::DateTime::from_timestamp(ts as i64, 0).unwrap_or_else(chrono::Utc::now);
            let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let id = format!(
                "{}-{:x}-{n}",
                when.format("%Y%m%dT%H%M%SZ"),
                evidence.flow_id
            );
            self.tx.try_send((id.clone(), evidence.pcap.clone())).ok()?;
            *last = (sha256.clone(), id);
        }
        Some(EvidenceRef {
            id: last.1.clone(),
            sha256,
            packets: evidence.packets,
        })
    }
}

/// What the IDS runs with; a change restarts the workers.
#[derive(Debug, Clone, PartialEq)]
struct Setup {
    interfaces: Vec<String>,
    home_net: Vec<String>,
    rules: PathBuf,
    mode: IdsMode,
    fail_open: bool,
    /// The failure policy of each of `interfaces` (IPS).
    fail_open_by_interface: Vec<bool>,
    bypass: bool,
    evidence_mb: u64,
    enforcement: Enforcement,
    scanner_allowlist: Vec<ipnetwork::IpNetwork>,
}

/// The running workers of either mode (held: dropping them stops the workers).
enum Workers {
    Passive(#[allow(dead_code)] Pool),
    Inline(#[allow(dead_code)] Vec<InlinePool>),
}

/// Engine settings from the setup (the scan allow-list).
fn engine_config(setup: &Setup) -> EngineConfig {
    EngineConfig {
        scan: edgeward_ids::scan::ScanConfig {
            allow: setup.scanner_allowlist.clone(),
            ..edgeward_ids::scan::ScanConfig::default()
        },
        ..EngineConfig::default()
    }
}

/// First NFQUEUE number of the fail-open range; the fail-closed range starts at
/// `FIRST_QUEUE + 100`.
const FIRST_QUEUE: u16 = 100;

/// The queue ranges for a setup: one per failure policy in use, `workers` queues each.
fn queue_plan(setup: &Setup, workers: u16) -> QueuePlan {
    let mut groups = Vec::new();
    for (fail_open, first) in [(true, FIRST_QUEUE), (false, FIRST_QUEUE + 100)] {
        let interfaces: Vec<String> = setup
            .interfaces
            .iter()
            .zip(&setup.fail_open_by_interface)
            .filter(|(_, f)| **f == fail_open)
            .map(|(i, _)| i.clone())
            .collect();
        if !interfaces.is_empty() {
            groups.push(QueueGroup {
                interfaces,
                first,
                count: workers.max(1),
                fail_open,
            });
        }
    }
    QueuePlan {
        groups,
        bypass: setup.bypass,
    }
}

/// The live IDS subsystem.
pub struct Ids {
    bus: Bus,
    metrics: Arc<Metrics>,
    /// `--ids-rules`: the rules directory when no SOC bundle is applied.
    rules_override: Option<PathBuf>,
    /// Where SOC bundles are applied (`v<N>/`, `current.json`).
    bundles: PathBuf,
    /// The state directory (the status file for the admin UI).
    state_dir: PathBuf,
    /// Where alerts' evidence pcaps are kept (`None`: no keys, none recorded).
    evidence: Option<EvidenceStore>,
    /// How queue rules reach this kernel (nft `queue` or iptables-nft), found once.
    backend: ips_queue::Backend,
    running: Option<(Setup, Workers, JoinHandle<()>)>,
    planned: Plan,
}

/// What the last `plan` decided.
enum Plan {
    /// Nothing planned (applied or discarded).
    None,
    /// The IDS off.
    Off,
    /// The IDS with this setup.
    On(Box<Setup>),
}

impl Ids {
    pub fn new(
        bus: Bus,
        metrics: Arc<Metrics>,
        rules_override: Option<PathBuf>,
        state_dir: PathBuf,
        evidence: Option<EvidenceStore>,
    ) -> Self {
        Ids {
            evidence,
            bus,
            metrics,
            rules_override,
            bundles: state_dir.join("rules"),
            state_dir,
            backend: ips_queue::detect_backend(),
            running: None,
            planned: Plan::None,
        }
    }

    fn stop(&mut self) {
        if let Some((setup, workers, watcher)) = self.running.take() {
            watcher.abort();
            if setup.mode == IdsMode::Ips {
                // Fail-open: nothing queued any more. Fail-closed keeps its rules: with nobody
                // reading, forwarded traffic on those uplinks stops until the IPS is back.
                let mut plan = queue_plan(&setup, 1);
                plan.groups.retain(|g| !g.fail_open);
                let _ = ips_queue::apply(&plan, self.backend);
            }
            drop(workers);
            let _ = std::fs::remove_file(status_path(&self.state_dir));
        }
    }
}

impl Drop for Ids {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The rules directory of the applied SOC bundle, if any.
fn bundle_rules(bundles: &Path) -> Option<PathBuf> {
    let applied = edgeward_soc::bundle::applied(bundles);
    let dir = bundles.join(format!("v{}", applied.version?));
    dir.is_dir().then_some(dir)
}

/// `$HOME_NET`: the configured prefixes, else every internal zone's and the gateway's own uplink
/// addresses (the uplinks carry the LAN's traffic behind NAT, with those as source).
fn home_net(config: &Config) -> Vec<String> {
    if !config.ids.home_net.is_empty() {
        return config
            .ids
            .home_net
            .iter()
            .map(ToString::to_string)
            .collect();
    }
    let zones = config
        .zones
        .iter()
        .flat_map(|z| z.prefixes.iter().map(ToString::to_string));
    let uplinks = config
        .uplinks
        .iter()
        .filter_map(|u| config.interface(&u.interface))
        .flat_map(|i| i.addresses.iter().map(|a| a.ip().to_string()));
    zones.chain(uplinks).collect()
}

impl Ids {
    fn setup_for(&self, config: &Config) -> Option<Setup> {
        if !config.ids.enabled {
            return None;
        }
        let watched: Vec<_> = config
            .uplinks
            .iter()
            .filter(|u| config.ids.uplinks.is_empty() || config.ids.uplinks.contains(&u.name))
            .collect();
        let interfaces: Vec<String> = watched.iter().map(|u| u.interface.clone()).collect();
        let fail_open_by_interface = watched
            .iter()
            .map(|u| config.ids.uplink_fails_open(&u.name))
            .collect();
        let rules = bundle_rules(&self.bundles)
            .or_else(|| self.rules_override.clone())
            .unwrap_or_else(|| PathBuf::from(&config.ids.rules_dir));
        Some(Setup {
            interfaces,
            home_net: home_net(config),
            rules,
            mode: config.ids.mode,
            fail_open: config.ids.fail_open,
            fail_open_by_interface,
            bypass: config.ids.bypass,
            evidence_mb: config.ids.evidence_mb,
            enforcement: Enforcement {
                drop_sids: config.ids.drop_sids.clone(),
                drop_classtypes: config.ids.drop_classtypes.clone(),
                drop_severity: config.ids.drop_severity,
                alert_only_sids: config.ids.alert_only_sids.clone(),
                disabled_sids: config.ids.disabled_sids.clone(),
            },
            scanner_allowlist: config.ids.scanner_allowlist.clone(),
        })
    }
}

impl Subsystem for Ids {
    fn name(&self) -> &'static str {
        "ids"
    }

    fn plan(&mut self, desired: &Desired<'_>) -> Result<(), String> {
        self.planned = match self.setup_for(desired.config) {
            Some(s) => Plan::On(Box::new(s)),
            None => Plan::Off,
        };
        Ok(())
    }

    fn apply<'a>(&'a mut self, _desired: &'a Desired<'a>) -> Step<'a> {
        Box::pin(async move {
            let wanted = match std::mem::replace(&mut self.planned, Plan::None) {
                Plan::None => return Ok(Report::quiet()),
                Plan::Off => None,
                Plan::On(s) => Some(*s),
            };
            if self.running.as_ref().map(|(s, _, _)| s) == wanted.as_ref()
                && (wanted.is_some() || self.running.is_none())
            {
                return Ok(Report::quiet());
            }
            self.stop();
            let Some(setup) = wanted else {
                return Ok(Report::quiet());
            };
            if setup.interfaces.is_empty() {
                return Ok(
                    Report::quiet().note(Level::Warning, "IDS enabled but no uplink to watch")
                );
            }
            let vars = Vars::with_home_net(&setup.home_net);
            let path = setup.rules.clone();
            let policy = setup.enforcement.clone();
            let compiled = tokio::task::spawn_blocking(move || {
                SharedRules::compile_enforced(&path, &vars, &policy)
            })
            .await
            .map_err(|e| e.to_string())?;
            let set = match compiled {
                Ok(set) => set,
                Err(e) => {
                    return Ok(Report::quiet().note(
                        Level::Error,
                        format!(
                            "IDS not running: rules at {} cannot be used: {e}",
                            setup.rules.display()
                        ),
                    ));
                }
            };
            let summary = format!(
                "IDS watching {} with {} rules from {}",
                setup.interfaces.join(", "),
                set.rules.len(),
                setup.rules.display()
            );
            let shared = Arc::new(SharedRules::new(set));
            let bus = self.bus.clone();
            let metrics = Arc::clone(&self.metrics);
            let sink_metrics = Arc::clone(&metrics);
            let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
            let evidence = self
                .evidence
                .clone()
                .filter(|_| setup.evidence_mb > 0)
                .map(EvidenceWriter::start);
            let recording = evidence
                .is_some()
                .then(edgeward_capture::evidence::EvidenceConfig::default);
            let sink: edgeward_capture::pool::AlertSink = Arc::new(move |set, alert, pcap| {
                let mut eve = edgeward_ids::offline::eve_alert(set, alert);
                if let (Some(w), Some(pcap)) = (&evidence, pcap) {
                    eve.evidence = w.keep(pcap, alert.ts);
                }
                if bus.try_emit(EventBody::Alert(eve)).is_err() {
                    sink_metrics.ids_alerts_lost.inc();
                }
            });
            let (workers, counters) = match setup.mode {
                IdsMode::Ids => {
                    let pool = Pool::start(
                        PoolConfig {
                            interfaces: setup.interfaces.clone(),
                            workers,
                            ring: RingConfig::default(),
                            netns: None,
                            engine: engine_config(&setup),
                            evidence: recording.clone(),
                        },
                        Arc::clone(&shared),
                        sink,
                    );
                    match pool {
                        Ok(p) => {
                            let c = Counters::Passive(Arc::clone(&p.stats));
                            (Workers::Passive(p), c)
                        }
                        Err(e) => {
                            return Ok(
                                Report::quiet().note(Level::Error, format!("IDS not running: {e}"))
                            );
                        }
                    }
                }
                IdsMode::Ips => {
                    let n = u16::try_from(workers).unwrap_or(1);
                    let plan = queue_plan(&setup, n);
                    let mut pools = Vec::new();
                    for g in &plan.groups {
                        let pool = InlinePool::start(
                            InlineConfig {
                                first_queue: g.first,
                                workers: g.count,
                                max_len: 4096,
                                fail_open: g.fail_open,
                                netns: None,
                                engine: engine_config(&setup),
                                bypass_mark: setup.bypass.then_some(ips_queue::BYPASS_MARK),
                                evidence: recording.clone(),
                            },
                            Arc::clone(&shared),
                            Arc::clone(&sink),
                        );
                        match pool {
                            Ok(p) => pools.push(p),
                            Err(e) => {
                                return Ok(Report::quiet()
                                    .note(Level::Error, format!("IPS not running: {e}")));
                            }
                        }
                    }
                    let backend = self.backend;
                    if let Err(e) = tokio::task::block_in_place(|| ips_queue::apply(&plan, backend))
                    {
                        return Ok(Report::quiet().note(
                            Level::Error,
                            format!("IPS not running: the queue rules could not be set: {e}"),
                        ));
                    }
                    let c = Counters::Inline(pools.iter().map(|p| Arc::clone(&p.stats)).collect());
                    (Workers::Inline(pools), c)
                }
            };
            let summary = if setup.mode == IdsMode::Ips {
                format!(
                    "IPS inline on {} ({}), {summary}",
                    setup.interfaces.join(", "),
                    if setup.fail_open {
                        "fail-open"
                    } else {
                        "fail-closed"
                    }
                )
            } else {
                summary
            };
            let watcher = tokio::spawn(watch(
                counters,
                status_path(&self.state_dir),
                shared,
                self.bundles.clone(),
                setup.clone(),
                self.bus.clone(),
                metrics,
            ));
            self.running = Some((setup, workers, watcher));
            Ok(Report::done(summary))
        })
    }

    fn discard(&mut self) {
        self.planned = Plan::None;
    }
}

/// The counters of the running workers.
enum Counters {
    Passive(Arc<edgeward_capture::pool::PoolStats>),
    Inline(Vec<Arc<edgeward_capture::inline::InlineStats>>),
}

/// What the IDS page shows: written to `state/ids-status.json` every 2 s while it runs.
#[derive(Debug, serde::Serialize)]
struct Status<'a> {
    running: bool,
    mode: &'a str,
    interfaces: &'a [String],
    fail_open: bool,
    rules_source: String,
    rules: usize,
    #[serde(flatten)]
    counters: Reading,
    updated_at: String,
}

/// The status file the admin UI reads.
pub fn status_path(state_dir: &Path) -> PathBuf {
    state_dir.join("ids-status.json")
}

/// One reading of the workers' counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
struct Reading {
    packets: u64,
    kernel_drops: u64,
    alerts: u64,
    dropped: u64,
    restarts: u64,
    /// NFQUEUE: packets the kernel could not queue (queue full) or hand over (socket full).
    queue_overflows: u64,
    /// IPS: packets accepted with the flow bypass mark (the kernel stops queueing their flow).
    bypassed: u64,
    /// IPS: TCP resets sent for `reject` rules.
    resets: u64,
    /// IPS verdict latency (per batch, bucket upper bound), median and 99th percentile.
    latency_p50_us: u64,
    latency_p99_us: u64,
    /// Evidence pcaps recorded, and alerts that went out without one (recorder full).
    evidence_recorded: u64,
    evidence_skipped: u64,
}

impl Counters {
    fn read(&self) -> Reading {
        use std::sync::atomic::Ordering::Relaxed;
        match self {
            Counters::Passive(s) => Reading {
                packets: s.packets.load(Relaxed),
                kernel_drops: s.kernel_drops.load(Relaxed),
                alerts: s.alerts.load(Relaxed),
                restarts: s.restarts.load(Relaxed),
                evidence_recorded: s.evidence_recorded.load(Relaxed),
                evidence_skipped: s.evidence_skipped.load(Relaxed),
                ..Reading::default()
            },
            Counters::Inline(pools) => {
                let sum = |f: fn(&edgeward_capture::inline::InlineStats) -> u64| {
                    pools.iter().map(|s| f(s)).sum::<u64>()
                };
                Reading {
                    packets: sum(|s| s.packets.load(Relaxed)),
                    alerts: sum(|s| s.alerts.load(Relaxed)),
                    dropped: sum(|s| s.dropped.load(Relaxed)),
                    restarts: sum(|s| s.restarts.load(Relaxed)),
                    bypassed: sum(|s| s.bypassed.load(Relaxed)),
                    resets: sum(|s| s.resets.load(Relaxed)),
                    latency_p50_us: pools
                        .iter()
                        .map(|s| s.latency.quantile(0.5))
                        .max()
                        .unwrap_or(0),
                    latency_p99_us: pools
                        .iter()
                        .map(|s| s.latency.quantile(0.99))
                        .max()
                        .unwrap_or(0),
                    queue_overflows: queue_overflows(),
                    evidence_recorded: sum(|s| s.evidence_recorded.load(Relaxed)),
                    evidence_skipped: sum(|s| s.evidence_skipped.load(Relaxed)),
                    ..Reading::default()
                }
            }
        }
    }
}

/// Packets the kernel dropped for the IPS's queues (`queue_dropped` + `user_dropped` in
/// /proc/net/netfilter/nfnetlink_queue).
fn queue_overflows() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/net/netfilter/nfnetlink_queue") else {
        return 0;
    };
    text.lines()
        .filter_map(|l| {
            let f: Vec<u64> = l
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            (f.len() >= 7 && f[0] >= u64::from(FIRST_QUEUE)).then(|| f[5] + f[6])
        })
        .sum()
}

/// Every 2 s: export the workers' counters, and swap in a newly applied SOC bundle.
#[allow(clippy::too_many_arguments)]
async fn watch(
    stats: Counters,
    status_file: PathBuf,
    shared: Arc<SharedRules>,
    bundles: PathBuf,
    setup: Setup,
    bus: Bus,
    metrics: Arc<Metrics>,
) {
    let mut current = setup.rules.clone();
    let mut last = stats.read();
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tick.tick().await;
        let now = stats.read();
        let status = Status {
            running: true,
            mode: if setup.mode == IdsMode::Ips {
                "ips"
            } else {
                "ids"
            },
            interfaces: &setup.interfaces,
            fail_open: setup.fail_open,
            rules_source: current.display().to_string(),
            rules: shared.current().rules.len(),
            counters: now,
            updated_at: chrono::Utc::now().to_rfc3339(),
        };
        if let Ok(json) = serde_json::to_vec_pretty(&status) {
            let _ = edgeward_config::history::write_atomic(&status_file, &json);
        }
        metrics.ids_packets.set(now.packets as i64);
        metrics.ids_kernel_drops.set(now.kernel_drops as i64);
        metrics.ids_alerts.set(now.alerts as i64);
        metrics.ips_dropped.set(now.dropped as i64);
        metrics.ids_engine_restarts.set(now.restarts as i64);
        metrics.ips_queue_overflows.set(now.queue_overflows as i64);
        // Never silent: each new loss or restart is an event.
        let mut said = Vec::new();
        if now.kernel_drops > last.kernel_drops {
            said.push(format!(
                "the kernel dropped {} packets before the IDS saw them (capture ring full)",
                now.kernel_drops - last.kernel_drops
            ));
        }
        if now.queue_overflows > last.queue_overflows {
            said.push(format!(
                "{} packets overflowed the IPS queues ({})",
                now.queue_overflows - last.queue_overflows,
                if setup.fail_open {
                    "passed uninspected: fail-open"
                } else {
                    "dropped: fail-closed"
                }
            ));
        }
        if now.restarts > last.restarts {
            said.push(format!(
                "the IDS engine was restarted {} time(s) after a fault; its flows start afresh",
                now.restarts - last.restarts
            ));
        }
        for m in said {
            bus.emit(EventBody::system(Level::Warning, "ids", m)).await;
        }
        last = now;
        let Some(dir) = bundle_rules(&bundles) else {
            continue;
        };
        if dir == current {
            continue;
        }
        let vars = Vars::with_home_net(&setup.home_net);
        let path = dir.clone();
        let policy = setup.enforcement.clone();
        let compiled = tokio::task::spawn_blocking(move || {
            SharedRules::compile_enforced(&path, &vars, &policy)
        })
        .await;
        let (level, message) = match compiled {
            Ok(Ok(set)) => {
                let n = set.rules.len();
                shared.swap(set);
                (
                    Level::Info,
                    format!("IDS rules from {} in force ({n} rules)", dir.display()),
                )
            }
            Ok(Err(e)) => (
                Level::Error,
                format!(
                    "IDS rules from {} refused, the running ones stay: {e}",
                    dir.display()
                ),
            ),
            Err(e) => (Level::Error, format!("IDS rule compile failed: {e}")),
        };
        current = dir;
        bus.emit(EventBody::system(level, "ids", message)).await;
    }
}
