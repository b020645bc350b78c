//! Live IDS/IPS on the uplinks, started from `[ids]`. IDS mode: capture workers
//! (`edgeward-capture`: AF_PACKET rings in a fanout group per interface, one engine per worker).
//! IPS mode: forwarded traffic on the uplinks is queued (see [`super::ips_queue`]: one queue
//! range per failure policy; traffic *to* the gateway — the admin's — is never queued) and
//! judged inline by one worker per queue. Alerts go on the event bus in Suricata's EVE shape
//! (→ store → SOC, syslog, UI), with their evidence pcap.
//!
//! Rules come from the SOC's applied bundle when there is one, else `--ids-rules`, else
//! `ids.rules_dir`. The bundle decides more than the rules: an `ips` bundle runs the uplinks
//! inline even where the config says IDS (virtual patching by the SOC) unless
//! `ids.soc_enforcement` is off; a bundle in its canary period only alerts; an `ids` bundle's own
//! drop rules only alert. A watcher notices a new bundle, the end of a canary period, or a bundle
//! doing harm ([`super::bundle_guard`]: it reverts it and tells the SOC why), and asks the
//! daemon to re-plan; a change of rules alone is compiled off the packet path and swapped in
//! without restarting the workers.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use edgeward_capture::afpacket::RingConfig;
use edgeward_capture::inline::{InlineConfig, InlinePool};
use edgeward_capture::pool::{Pool, PoolConfig};
use edgeward_capture::zonefilter::ZoneFilter;
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
use crate::subsystems::bundle_guard::{BundleGuard, GuardLimits, Sample};
use crate::subsystems::ids_evidence::EvidenceWriter;
use crate::subsystems::ips_queue::{self, QueueGroup, QueuePlan};
use edgeward_store::evidence::EvidenceStore;

/// How the workers run; a change restarts them.
#[derive(Debug, Clone, PartialEq)]
struct WorkerSetup {
    interfaces: Vec<String>,
    /// The effective mode (the config's, or IPS for an enforcing SOC bundle).
    mode: IdsMode,
    fail_open: bool,
    /// The failure policy of each of `interfaces` (IPS).
    fail_open_by_interface: Vec<bool>,
    bypass: bool,
    evidence_mb: u64,
    scanner_allowlist: Vec<ipnetwork::IpNetwork>,
    /// Prefixes of the server zones (a scan from there is a server scanning).
    server_nets: Vec<ipnetwork::IpNetwork>,
    /// Internal zone interfaces watched too, with the filter that keeps a packet from being
    /// inspected twice (IDS), or queued like the uplinks (IPS).
    zone_interfaces: Vec<(String, ZoneFilter)>,
}

/// The interfaces of the internal zones `ids.zones` names (all when empty), each with its
/// filter: watched zones are numbered first, so traffic between a watched and an unwatched
/// zone is inspected on the watched one.
fn zone_interfaces(config: &Config) -> Vec<(String, ZoneFilter)> {
    let watched =
        |name: &str| config.ids.zones.is_empty() || config.ids.zones.iter().any(|z| z == name);
    let internal: Vec<&edgeward_config::Zone> = config
        .zones
        .iter()
        .filter(|z| z.kind.is_internal())
        .collect();
    let number = |i: usize, name: &str| -> u16 {
        let i = u16::try_from(i).unwrap_or(u16::MAX / 2);
        if watched(name) { i } else { u16::MAX - i }
    };
    let prefixes: Vec<(ipnetwork::IpNetwork, u16)> = internal
        .iter()
        .enumerate()
        .flat_map(|(i, z)| z.prefixes.iter().map(move |p| (*p, number(i, &z.name))))
        .collect();
    config
        .interfaces
        .iter()
        .filter(|i| !i.role.is_uplink() && watched(&i.zone))
        .filter_map(|i| {
            let z = internal.iter().position(|z| z.name == i.zone)?;
            Some((
                i.name.clone(),
                ZoneFilter {
                    zone: number(z, &i.zone),
                    prefixes: prefixes.clone(),
                },
            ))
        })
        .collect()
}

/// Where the rules come from.
#[derive(Debug, Clone, PartialEq)]
enum RulesSource {
    /// A SOC bundle: its version, target mode, canary end.
    Bundle {
        version: u64,
        mode: String,
        canary_until: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// `--ids-rules` or `ids.rules_dir`.
    Local,
}

/// What is compiled; a change is swapped in without restarting the workers.
#[derive(Debug, Clone, PartialEq)]
struct RulesSetup {
    rules: PathBuf,
    /// Names, sizes and times of the files in `rules` (local rules replaced in place by
    /// `edgeward ids update` are picked up at the next reconcile).
    fingerprint: u64,
    home_net: Vec<String>,
    enforcement: Enforcement,
    source: RulesSource,
}

/// The whole setup.
#[derive(Debug, Clone, PartialEq)]
struct Setup {
    workers: WorkerSetup,
    rules: RulesSetup,
}

/// The running workers of either mode (held: dropping them stops the workers).
enum Workers {
    Passive(#[allow(dead_code)] Pool),
    Inline(#[allow(dead_code)] Vec<InlinePool>),
}

/// Engine settings from the setup (the scan allow-list).
/// Engine settings from the setup (the scan allow-list, the server zones), with one scan
/// detector for every worker.
fn engine_config(setup: &WorkerSetup) -> EngineConfig {
    let scan = edgeward_ids::scan::ScanConfig {
        allow: setup.scanner_allowlist.clone(),
        server_nets: setup.server_nets.clone(),
        ..edgeward_ids::scan::ScanConfig::default()
    };
    EngineConfig {
        shared_scan: Some(Arc::new(edgeward_ids::scan::SharedScan::new(&scan))),
        scan,
        ..EngineConfig::default()
    }
}

/// Worker threads: one per core.
fn workers_count() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// First NFQUEUE number of the fail-open range; the fail-closed range starts at
/// `FIRST_QUEUE + 100`.
const FIRST_QUEUE: u16 = 100;

/// The queue ranges for a setup: one per failure policy in use, `workers` queues each.
fn queue_plan(setup: &WorkerSetup, workers: u16) -> QueuePlan {
    let mut groups = Vec::new();
    for (fail_open, first) in [(true, FIRST_QUEUE), (false, FIRST_QUEUE + 100)] {
        // The uplinks by their own policy, the zone interfaces by the general one.
        let interfaces: Vec<String> = setup
            .interfaces
            .iter()
            .zip(&setup.fail_open_by_interface)
            .filter(|(_, f)| **f == fail_open)
            .map(|(i, _)| i.clone())
            .chain(
                setup
                    .zone_interfaces
                    .iter()
                    .filter(|_| setup.fail_open == fail_open)
                    .map(|(i, _)| i.clone()),
            )
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

/// What the rules in force are, for the status file (shared with the watcher).
#[derive(Debug, Clone, Default, serde::Serialize)]
struct RulesInfo {
    source: String,
    rules: usize,
    /// `local`, or the bundle's state: `canary`, `enforcing`, `alert-only`.
    bundle_state: String,
    bundle_version: Option<u64>,
    bundle_mode: Option<String>,
    canary_until: Option<String>,
    /// Sids of the rules that drop (IPS), at most 500: what the SOC enforces when a bundle is
    /// in force.
    drop_sids: Vec<u32>,
    drop_rules: usize,
}

/// The running IDS.
struct Running {
    setup: Setup,
    workers: Workers,
    shared: Arc<SharedRules>,
    info: Arc<std::sync::Mutex<RulesInfo>>,
    watcher: JoinHandle<()>,
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
    /// Asks the daemon to re-plan (a new bundle, a canary ending, a revert).
    replan: tokio::sync::mpsc::Sender<()>,
    running: Option<Running>,
    planned: Plan,
    /// The interfaces the running workers watch, for the gateway's own scan counters
    /// ([`crate::connwatch`]), which count what the IDS does not see.
    watching: crate::connwatch::Watched,
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
        replan: tokio::sync::mpsc::Sender<()>,
        watching: crate::connwatch::Watched,
    ) -> Self {
        Ids {
            watching,
            evidence,
            bus,
            metrics,
            rules_override,
            bundles: state_dir.join("rules"),
            state_dir,
            backend: ips_queue::detect_backend(),
            replan,
            running: None,
            planned: Plan::None,
        }
    }

    /// Tell the gateway's scan counters which interfaces the IDS watches now.
    fn set_watching(&self, interfaces: impl IntoIterator<Item = String>) {
        if let Ok(mut w) = self.watching.write() {
            *w = interfaces.into_iter().collect();
        }
    }

    fn stop(&mut self) {
        self.set_watching([]);
        if let Some(r) = self.running.take() {
            r.watcher.abort();
            if r.setup.workers.mode == IdsMode::Ips {
                // Fail-open: nothing queued any more. Fail-closed keeps its rules: with nobody
                // reading, forwarded traffic on those uplinks stops until the IPS is back.
                let mut plan = queue_plan(&r.setup.workers, 1);
                plan.groups.retain(|g| !g.fail_open);
                let _ = ips_queue::apply(&plan, self.backend);
            }
            drop(r.workers);
            let _ = std::fs::remove_file(status_path(&self.state_dir));
        }
    }
}

impl Drop for Ids {
    fn drop(&mut self) {
        self.stop();
    }
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
    fn setup_for(&self, config: &Config, now: chrono::DateTime<chrono::Utc>) -> Option<Setup> {
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
        let applied = edgeward_soc::bundle::applied(&self.bundles);
        let bundle = applied.version.and_then(|v| {
            let dir = self.bundles.join(format!("v{v}"));
            dir.is_dir().then_some((v, dir))
        });
        let soc = config.ids.soc_enforcement;
        let (rules, source, mode, alert_only_all, demote_own) = match bundle {
            Some((version, dir)) => {
                let bundle_mode = applied.mode.clone().unwrap_or_else(|| "ids".into());
                let canary = applied.in_canary(now);
                let ips_bundle = bundle_mode == "ips";
                let mode = if config.ids.mode == IdsMode::Ips || (ips_bundle && soc) {
                    IdsMode::Ips
                } else {
                    IdsMode::Ids
                };
                (
                    dir,
                    RulesSource::Bundle {
                        version,
                        mode: bundle_mode,
                        canary_until: applied.canary_until.filter(|_| canary),
                    },
                    mode,
                    canary,
                    !ips_bundle || !soc,
                )
            }
            None => (
                self.rules_override
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(&config.ids.rules_dir)),
                RulesSource::Local,
                config.ids.mode,
                false,
                false,
            ),
        };
        Some(Setup {
            workers: WorkerSetup {
                interfaces,
                mode,
                fail_open: config.ids.fail_open,
                fail_open_by_interface,
                bypass: config.ids.bypass,
                evidence_mb: config.ids.evidence_mb,
                scanner_allowlist: config.ids.scanner_allowlist.clone(),
                server_nets: config
                    .zones
                    .iter()
                    .filter(|z| z.kind == edgeward_config::ZoneKind::Servers)
                    .flat_map(|z| z.prefixes.iter().copied())
                    .collect(),
                zone_interfaces: zone_interfaces(config),
            },
            rules: RulesSetup {
                fingerprint: fingerprint(&rules),
                rules,
                home_net: home_net(config),
                enforcement: Enforcement {
                    drop_sids: config.ids.drop_sids.clone(),
                    drop_classtypes: config.ids.drop_classtypes.clone(),
                    drop_severity: config.ids.drop_severity,
                    alert_only_sids: config.ids.alert_only_sids.clone(),
                    disabled_sids: config.ids.disabled_sids.clone(),
                    alert_only_all,
                    demote_own_drops: demote_own,
                },
                source,
            },
        })
    }
}

/// A fingerprint of a rules directory (or file): every entry's name, size and modification
/// time.
pub fn fingerprint(path: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut entries: Vec<(String, u64, Option<std::time::SystemTime>)> = std::fs::read_dir(path)
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let m = e.metadata().ok()?;
                    Some((
                        e.file_name().to_string_lossy().into_owned(),
                        m.len(),
                        m.modified().ok(),
                    ))
                })
                .collect()
        })
        .unwrap_or_else(|_| {
            std::fs::metadata(path)
                .map(|m| vec![(String::new(), m.len(), m.modified().ok())])
                .unwrap_or_default()
        });
    entries.sort();
    entries.hash(&mut h);
    h.finish()
}

/// Compile a rules setup off the async runtime; the ruleset and what the status shows of it.
async fn compile(
    setup: &RulesSetup,
) -> Result<(edgeward_ids::ruleset::RuleSet, RulesInfo), String> {
    let vars = Vars::with_home_net(&setup.home_net);
    let path = setup.rules.clone();
    let policy = setup.enforcement.clone();
    let set =
        tokio::task::spawn_blocking(move || SharedRules::compile_enforced(&path, &vars, &policy))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    let drops: Vec<u32> = set
        .rules
        .iter()
        .filter(|r| {
            matches!(
                r.action,
                edgeward_ids::rule::Action::Drop | edgeward_ids::rule::Action::Reject
            )
        })
        .map(|r| r.sid)
        .collect();
    let (bundle_state, bundle_version, bundle_mode, canary_until) = match &setup.source {
        RulesSource::Local => ("local".to_string(), None, None, None),
        RulesSource::Bundle {
            version,
            mode,
            canary_until,
        } => (
            if canary_until.is_some() {
                "canary"
            } else if setup.enforcement.demote_own_drops {
                "alert-only"
            } else {
                "enforcing"
            }
            .to_string(),
            Some(*version),
            Some(mode.clone()),
            canary_until.map(|t| t.to_rfc3339()),
        ),
    };
    let info = RulesInfo {
        source: setup.rules.display().to_string(),
        rules: set.rules.len(),
        bundle_state,
        bundle_version,
        bundle_mode,
        canary_until,
        drop_rules: drops.len(),
        drop_sids: drops.into_iter().take(500).collect(),
    };
    Ok((set, info))
}

impl Subsystem for Ids {
    fn name(&self) -> &'static str {
        "ids"
    }

    fn plan(&mut self, desired: &Desired<'_>) -> Result<(), String> {
        self.planned = match self.setup_for(desired.config, chrono::Utc::now()) {
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
            let Some(setup) = wanted else {
                self.stop();
                return Ok(Report::quiet());
            };
            if let Some(r) = &mut self.running {
                if r.setup == setup {
                    return Ok(Report::quiet());
                }
                if r.setup.workers == setup.workers {
                    // Only the rules: compile off the packet path, swap in atomically.
                    return Ok(match compile(&setup.rules).await {
                        Ok((set, info)) => {
                            let summary = rules_summary(&info);
                            r.shared.swap(set);
                            if let Ok(mut i) = r.info.lock() {
                                *i = info;
                            }
                            r.setup.rules = setup.rules;
                            Report::done(summary)
                        }
                        Err(e) => Report::quiet().note(
                            Level::Error,
                            format!(
                                "IDS rules from {} refused, the running ones stay: {e}",
                                setup.rules.rules.display()
                            ),
                        ),
                    });
                }
            }
            self.stop();
            self.start(setup).await
        })
    }

    fn discard(&mut self) {
        self.planned = Plan::None;
    }
}

/// One line on the rules in force.
fn rules_summary(info: &RulesInfo) -> String {
    let bundle = match info.bundle_version {
        Some(v) => format!(
            " (SOC bundle v{v}, {}{})",
            info.bundle_state,
            info.canary_until
                .as_ref()
                .map(|t| format!(" until {t}"))
                .unwrap_or_default()
        ),
        None => String::new(),
    };
    format!(
        "IDS rules from {} in force: {} rules, {} drop{bundle}",
        info.source, info.rules, info.drop_rules
    )
}

impl Ids {
    /// Start the workers of `setup` (nothing runs before this).
    async fn start(&mut self, setup: Setup) -> Result<Report, String> {
        let ws = &setup.workers;
        if ws.interfaces.is_empty() {
            return Ok(Report::quiet().note(Level::Warning, "IDS enabled but no uplink to watch"));
        }
        let (set, info) = match compile(&setup.rules).await {
            Ok(c) => c,
            Err(e) => {
                return Ok(Report::quiet().note(
                    Level::Error,
                    format!(
                        "IDS not running: rules at {} cannot be used: {e}",
                        setup.rules.rules.display()
                    ),
                ));
            }
        };
        let zones: Vec<&str> = ws.zone_interfaces.iter().map(|(i, _)| i.as_str()).collect();
        let summary = format!(
            "IDS watching {}{}; {}",
            ws.interfaces.join(", "),
            if zones.is_empty() {
                String::new()
            } else {
                format!(" and between zones on {}", zones.join(", "))
            },
            rules_summary(&info)
        );
        let shared = Arc::new(SharedRules::new(set));
        let bus = self.bus.clone();
        let metrics = Arc::clone(&self.metrics);
        let sink_metrics = Arc::clone(&metrics);
        let workers = workers_count();
        let evidence = self
            .evidence
            .clone()
            .filter(|_| ws.evidence_mb > 0)
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
        let (workers, counters) = match ws.mode {
            IdsMode::Ids => {
                let pool = Pool::start(
                    PoolConfig {
                        interfaces: ws.interfaces.clone(),
                        workers,
                        ring: RingConfig::default(),
                        netns: None,
                        engine: engine_config(ws),
                        evidence: recording.clone(),
                        zone_interfaces: ws.zone_interfaces.clone(),
                        // Zone traffic is mostly local: smaller rings (8 MiB each).
                        zone_ring: RingConfig {
                            block_count: 8,
                            ..RingConfig::default()
                        },
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
                let plan = queue_plan(ws, n);
                let engine = engine_config(ws);
                let mut pools = Vec::new();
                for g in &plan.groups {
                    let pool = InlinePool::start(
                        InlineConfig {
                            first_queue: g.first,
                            workers: g.count,
                            max_len: QUEUE_LEN,
                            fail_open: g.fail_open,
                            netns: None,
                            engine: engine.clone(),
                            bypass_mark: ws.bypass.then_some(ips_queue::BYPASS_MARK),
                            evidence: recording.clone(),
                        },
                        Arc::clone(&shared),
                        Arc::clone(&sink),
                    );
                    match pool {
                        Ok(p) => pools.push(p),
                        Err(e) => {
                            return Ok(
                                Report::quiet().note(Level::Error, format!("IPS not running: {e}"))
                            );
                        }
                    }
                }
                let backend = self.backend;
                if let Err(e) = tokio::task::block_in_place(|| ips_queue::apply(&plan, backend)) {
                    return Ok(Report::quiet().note(
                        Level::Error,
                        format!("IPS not running: the queue rules could not be set: {e}"),
                    ));
                }
                let c = Counters::Inline(pools.iter().map(|p| Arc::clone(&p.stats)).collect());
                (Workers::Inline(pools), c)
            }
        };
        let summary = if ws.mode == IdsMode::Ips {
            let policies: Vec<String> = ws
                .interfaces
                .iter()
                .zip(&ws.fail_open_by_interface)
                .map(|(i, open)| format!("{i} {}", if *open { "fail-open" } else { "fail-closed" }))
                .collect();
            format!("IPS inline on {}; {summary}", policies.join(", "))
        } else {
            summary
        };
        let fail_open_queues: Vec<u16> = if ws.mode == IdsMode::Ips {
            let n = u16::try_from(workers_count()).unwrap_or(1);
            queue_plan(ws, n)
                .groups
                .iter()
                .filter(|g| g.fail_open)
                .flat_map(|g| g.first..g.first + g.count)
                .collect()
        } else {
            Vec::new()
        };
        let info = Arc::new(std::sync::Mutex::new(info));
        let watcher = tokio::spawn(watch(Watch {
            stats: counters,
            status_file: status_path(&self.state_dir),
            info: Arc::clone(&info),
            bundles: self.bundles.clone(),
            setup: setup.workers.clone(),
            bus: self.bus.clone(),
            metrics,
            replan: self.replan.clone(),
            fail_open_queues,
        }));
        self.set_watching(
            ws.interfaces
                .iter()
                .chain(ws.zone_interfaces.iter().map(|(i, _)| i))
                .cloned(),
        );
        self.running = Some(Running {
            setup,
            workers,
            shared,
            info,
            watcher,
        });
        Ok(Report::done(summary))
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
    /// Internal zone interfaces watched (IDS) or queued (IPS) as well.
    zone_interfaces: Vec<&'a str>,
    fail_open: bool,
    fail_open_by_interface: &'a [bool],
    rules_source: String,
    rules: usize,
    bundle: RulesInfo,
    /// The last bundle this gateway reverted by itself, and why.
    reverted: Option<edgeward_soc::bundle::Reverted>,
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

/// Per IPS queue: (number, packets waiting, `queue_dropped` + `user_dropped`) from
/// /proc/net/netfilter/nfnetlink_queue.
fn queue_table() -> Vec<(u64, u64, u64)> {
    let Ok(text) = std::fs::read_to_string("/proc/net/netfilter/nfnetlink_queue") else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let f: Vec<u64> = l
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            (f.len() >= 7 && f[0] >= u64::from(FIRST_QUEUE)).then(|| (f[0], f[2], f[5] + f[6]))
        })
        .collect()
}

/// Export the per-interface and per-queue counters; the number of fail-open queues seen full.
fn export_detail(stats: &Counters, m: &crate::metrics::IdsDetail, fail_open_queues: &[u16]) -> u64 {
    use crate::metrics::{InterfaceLabel, QuantileLabel, QueueLabel};
    use std::sync::atomic::Ordering::Relaxed;
    let mut full = 0;
    match stats {
        Counters::Passive(p) => {
            for c in &p.interfaces {
                let l = InterfaceLabel {
                    interface: c.name.clone(),
                };
                m.interface_packets
                    .get_or_create(&l)
                    .set(c.packets.load(Relaxed));
                m.interface_bytes
                    .get_or_create(&l)
                    .set(c.bytes.load(Relaxed));
                m.interface_kernel_drops
                    .get_or_create(&l)
                    .set(c.kernel_drops.load(Relaxed));
            }
            m.evidence_recorded.set(p.evidence_recorded.load(Relaxed));
            m.evidence_skipped.set(p.evidence_skipped.load(Relaxed));
        }
        Counters::Inline(pools) => {
            for p in pools {
                for q in &p.queues {
                    let l = QueueLabel {
                        queue: q.number.to_string(),
                    };
                    m.queue_packets
                        .get_or_create(&l)
                        .set(q.packets.load(Relaxed));
                    m.queue_bytes.get_or_create(&l).set(q.bytes.load(Relaxed));
                    m.queue_dropped
                        .get_or_create(&l)
                        .set(q.dropped.load(Relaxed));
                    m.queue_bypassed
                        .get_or_create(&l)
                        .set(q.bypassed.load(Relaxed));
                }
            }
            for (number, waiting, lost) in queue_table() {
                let l = QueueLabel {
                    queue: number.to_string(),
                };
                m.queue_length.get_or_create(&l).set(waiting);
                m.queue_overflows.get_or_create(&l).set(lost);
                let fail_open = fail_open_queues.iter().any(|q| u64::from(*q) == number);
                if fail_open && waiting >= u64::from(QUEUE_LEN) * 9 / 10 {
                    full += 1;
                }
            }
            for (q, v) in [("0.5", 0.5), ("0.99", 0.99)] {
                let worst = pools
                    .iter()
                    .map(|p| p.latency.quantile(v))
                    .max()
                    .unwrap_or(0);
                m.verdict_latency_us
                    .get_or_create(&QuantileLabel { quantile: q.into() })
                    .set(worst);
            }
            let sum = |f: fn(&edgeward_capture::inline::InlineStats) -> u64| {
                pools.iter().map(|p| f(p)).sum::<u64>()
            };
            m.evidence_recorded
                .set(sum(|p| p.evidence_recorded.load(Relaxed)));
            m.evidence_skipped
                .set(sum(|p| p.evidence_skipped.load(Relaxed)));
        }
    }
    m.fail_open_episodes.inc_by(full);
    full
}

/// Packets each IPS queue holds at most.
const QUEUE_LEN: u32 = 4096;

/// Packets the kernel dropped for the IPS's queues (`queue_dropped` + `user_dropped` in
/// /proc/net/netfilter/nfnetlink_queue).
fn queue_overflows() -> u64 {
    queue_table().iter().map(|(_, _, lost)| lost).sum()
}

/// What the watcher needs.
struct Watch {
    stats: Counters,
    status_file: PathBuf,
    info: Arc<std::sync::Mutex<RulesInfo>>,
    bundles: PathBuf,
    setup: WorkerSetup,
    bus: Bus,
    metrics: Arc<Metrics>,
    replan: tokio::sync::mpsc::Sender<()>,
    /// The queues bound fail-open (their overflow passes packets: reported from their length).
    fail_open_queues: Vec<u16>,
}

/// Every 2 s: export the workers' counters and the status file, report losses and restarts,
/// and watch the SOC bundle: a new one or the end of a canary period asks for a re-plan; a new
/// one doing harm is reverted (and the SOC told why).
async fn watch(w: Watch) {
    let started = std::time::Instant::now();
    let mut last = w.stats.read();
    let mut guard = BundleGuard::new(GuardLimits::default());
    let mut seen = edgeward_soc::bundle::applied(&w.bundles);
    // Workers restarted for a bundle (it switched the mode): watch it from here, without a
    // baseline (the floors apply).
    let limits = GuardLimits::default();
    if seen.version.is_some()
        && seen
            .applied_at
            .is_some_and(|t| (chrono::Utc::now() - t).to_std().unwrap_or_default() < limits.watch)
    {
        guard.switched(Duration::ZERO);
    }
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tick.tick().await;
        let now = w.stats.read();
        let info = w.info.lock().map(|i| i.clone()).unwrap_or_default();
        let applied = edgeward_soc::bundle::applied(&w.bundles);
        let status = Status {
            running: true,
            mode: if w.setup.mode == IdsMode::Ips {
                "ips"
            } else {
                "ids"
            },
            interfaces: &w.setup.interfaces,
            zone_interfaces: w
                .setup
                .zone_interfaces
                .iter()
                .map(|(i, _)| i.as_str())
                .collect(),
            fail_open: w.setup.fail_open,
            fail_open_by_interface: &w.setup.fail_open_by_interface,
            rules_source: info.source.clone(),
            rules: info.rules,
            bundle: info,
            reverted: applied.reverted.clone(),
            counters: now,
            updated_at: chrono::Utc::now().to_rfc3339(),
        };
        if let Ok(json) = serde_json::to_vec_pretty(&status) {
            let _ = edgeward_config::history::write_atomic(&w.status_file, &json);
        }
        let m = &w.metrics;
        m.ids_packets.set(now.packets as i64);
        m.ids_kernel_drops.set(now.kernel_drops as i64);
        m.ids_alerts.set(now.alerts as i64);
        m.ips_dropped.set(now.dropped as i64);
        m.ids_engine_restarts.set(now.restarts as i64);
        m.ips_queue_overflows.set(now.queue_overflows as i64);
        let full = export_detail(&w.stats, &m.ids_detail, &w.fail_open_queues);
        // Never silent: each new loss or restart is an event.
        let mut said = Vec::new();
        if full > 0 {
            said.push(format!(
                "{full} fail-open IPS queue(s) full: packets pass uninspected until the engine catches up"
            ));
        }
        if now.kernel_drops > last.kernel_drops {
            said.push(format!(
                "the kernel dropped {} packets before the IDS saw them (capture ring full)",
                now.kernel_drops - last.kernel_drops
            ));
        }
        if now.queue_overflows > last.queue_overflows {
            said.push(format!(
                "{} packets overflowed the IPS queues (fail-open uplinks: passed uninspected; fail-closed: dropped)",
                now.queue_overflows - last.queue_overflows,
            ));
        }
        if now.restarts > last.restarts {
            said.push(format!(
                "the IDS engine was restarted {} time(s) after a fault; its flows start afresh",
                now.restarts - last.restarts
            ));
        }
        for msg in said {
            w.bus
                .emit(EventBody::system(Level::Warning, "ids", msg))
                .await;
        }
        last = now;
        // The SOC bundle.
        let at = started.elapsed();
        if applied.version != seen.version || applied.applied_at != seen.applied_at {
            if applied.version.is_some() {
                guard.switched(at);
            }
            seen = applied.clone();
            let _ = w.replan.try_send(());
            continue;
        }
        if let Some(until) = applied.canary_until
            && chrono::Utc::now() >= until
            && w.info.lock().is_ok_and(|i| i.bundle_state == "canary")
        {
            let _ = w.replan.try_send(());
        }
        let sample = Sample {
            packets: now.packets,
            alerts: now.alerts,
            dropped: now.dropped,
        };
        if let Some(why) = guard.observe(at, sample)
            && let Some(version) = applied.version
        {
            let back = edgeward_soc::bundle::revert(&w.bundles, &why, chrono::Utc::now());
            let message = match &back {
                Ok(Some(prev)) => {
                    format!("rule bundle v{version} reverted by the gateway to v{prev}: {why}")
                }
                Ok(None) => format!(
                    "rule bundle v{version} reverted by the gateway to the local rules: {why}"
                ),
                Err(e) => format!("rule bundle v{version} should be reverted ({why}) but: {e}"),
            };
            w.bus
                .emit(EventBody::system(Level::Error, "ids", message))
                .await;
            seen = edgeward_soc::bundle::applied(&w.bundles);
            let _ = w.replan.try_send(());
        }
    }
}
