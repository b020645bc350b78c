//! Capture workers: one thread per worker, each with its own engine (flow table) and one ring per
//! watched interface, all rings of an interface in one fanout group (so a flow always lands on
//! the same worker). The compiled ruleset is shared read-only; a new one is picked up between
//! blocks. Alerts go to a sink (the daemon puts them on the event bus without blocking).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use edgeward_ids::decode::Link;
use edgeward_ids::engine::{Alert, Engine, EngineConfig};
use edgeward_ids::reload::SharedRules;
use edgeward_ids::ruleset::RuleSet;

use crate::afpacket::{Ring, RingConfig, RingError};
use crate::evidence::{EvidenceConfig, EvidenceSink, LinkType, Recorder};
use crate::zonefilter::ZoneFilter;

/// What to capture and how.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Interfaces watched (each uplink and internal zone interface by default).
    pub interfaces: Vec<String>,
    /// Worker threads (one per core is the rule).
    pub workers: usize,
    /// Ring geometry (the fanout group is set per interface).
    pub ring: RingConfig,
    /// Open the rings in this network namespace (`/run/netns/NAME`) instead of the current one.
    pub netns: Option<PathBuf>,
    /// Engine settings for every worker.
    pub engine: EngineConfig,
    /// Record evidence pcaps for alerts (`None`: alerts go out at once, without).
    pub evidence: Option<EvidenceConfig>,
    /// Internal zone interfaces, each with the filter that keeps a packet from being inspected
    /// twice (see [`crate::zonefilter`]), read through smaller rings (`zone_ring`).
    pub zone_interfaces: Vec<(String, ZoneFilter)>,
    /// Ring geometry of the zone interfaces.
    pub zone_ring: RingConfig,
}

/// Counters of all workers.
#[derive(Debug, Default)]
pub struct PoolStats {
    /// Packets inspected.
    pub packets: AtomicU64,
    /// Packets the kernel dropped because a ring was full.
    pub kernel_drops: AtomicU64,
    /// Alerts raised.
    pub alerts: AtomicU64,
    /// Engines replaced after a panic (the supervisor's restarts).
    pub restarts: AtomicU64,
    /// Evidence pcaps recorded, and alerts that went out without one.
    pub evidence_recorded: AtomicU64,
    /// Alerts delivered without evidence (recorder full or over its rate).
    pub evidence_skipped: AtomicU64,
    /// Per watched interface (uplinks first, then zone interfaces), for the metrics.
    pub interfaces: Vec<InterfaceCounters>,
}

/// Counters of one watched interface, summed over the workers.
#[derive(Debug, Default)]
pub struct InterfaceCounters {
    /// The interface.
    pub name: String,
    /// Frames read from its rings (before the zone filter).
    pub packets: AtomicU64,
    /// Their bytes.
    pub bytes: AtomicU64,
    /// Frames the kernel dropped because its rings were full.
    pub kernel_drops: AtomicU64,
}

/// Receives each alert with the ruleset that raised it and its flow's evidence pcap, if any.
pub type AlertSink = EvidenceSink;

/// Running workers; they stop when this is dropped.
pub struct Pool {
    threads: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    /// Counters of all workers.
    pub stats: Arc<PoolStats>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("workers", &self.threads.len())
            .finish_non_exhaustive()
    }
}

/// Fanout group ids: one per interface, from this base.
const FANOUT_BASE: u16 = 0xE500;

impl Pool {
    /// Open every ring and start the workers. Fails (nothing left running) if a ring cannot be
    /// opened.
    pub fn start(
        config: PoolConfig,
        rules: Arc<SharedRules>,
        sink: AlertSink,
    ) -> Result<Pool, RingError> {
        let stop = Arc::new(AtomicBool::new(false));
        let (ring, mut engine, evidence) =
            (config.ring, config.engine.clone(), config.evidence.clone());
        // One scan detector for all the workers: a scan's flows are spread over them.
        engine
            .shared_scan
            .get_or_insert_with(|| Arc::new(edgeward_ids::scan::SharedScan::new(&engine.scan)));
        // (interface, ring geometry, filter): the uplinks first, then the zone interfaces.
        let watched: Vec<(String, RingConfig, Option<Arc<ZoneFilter>>)> = config
            .interfaces
            .iter()
            .map(|i| (i.clone(), ring, None))
            .chain(
                config
                    .zone_interfaces
                    .iter()
                    .map(|(i, f)| (i.clone(), config.zone_ring, Some(Arc::new(f.clone())))),
            )
            .collect();
        let filters: Vec<Option<Arc<ZoneFilter>>> = watched.iter().map(|w| w.2.clone()).collect();
        let stats = Arc::new(PoolStats {
            interfaces: watched
                .iter()
                .map(|w| InterfaceCounters {
                    name: w.0.clone(),
                    ..InterfaceCounters::default()
                })
                .collect(),
            ..PoolStats::default()
        });
        let (w_stop, w_stats) = (Arc::clone(&stop), Arc::clone(&stats));
        let threads = crate::workers::start(
            config.workers,
            "ids-capture",
            config.netns.as_ref(),
            &stop,
            move |_| {
                watched
                    .iter()
                    .enumerate()
                    .map(|(i, (ifname, geometry, _))| {
                        Ring::open(
                            ifname,
                            RingConfig {
                                fanout_group: Some(FANOUT_BASE + i as u16),
                                ..*geometry
                            },
                        )
                    })
                    .collect::<Result<Vec<Ring>, RingError>>()
            },
            move |_, rings| {
                let recorder = evidence
                    .clone()
                    .map(|c| Recorder::new(c, LinkType::Ethernet));
                worker(
                    rings,
                    &filters,
                    engine.clone(),
                    recorder,
                    &rules,
                    &sink,
                    &w_stop,
                    &w_stats,
                );
            },
        )?;
        Ok(Pool {
            threads,
            stop,
            stats,
        })
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Hand the engine's alerts to the recorder (or straight to the sink), and deliver finished
/// recordings; shared by the passive and inline workers.
pub(crate) fn deliver(
    alerts: &mut Vec<Alert>,
    set: &Arc<RuleSet>,
    recorder: Option<&mut Recorder>,
    now: f64,
    sink: &AlertSink,
) {
    match recorder {
        Some(r) => {
            for a in alerts.drain(..) {
                r.alert(set, a, sink);
            }
            if r.open_count() > 0 {
                r.flush(now, false, sink);
            }
        }
        None => {
            for a in alerts.drain(..) {
                sink(set, &a, None);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn worker(
    mut rings: Vec<Ring>,
    filters: &[Option<Arc<ZoneFilter>>],
    config: EngineConfig,
    mut recorder: Option<Recorder>,
    rules: &SharedRules,
    sink: &AlertSink,
    stop: &AtomicBool,
    stats: &PoolStats,
) {
    let mut engine = Engine::new(rules.current(), config.clone());
    let mut alerts: Vec<Alert> = Vec::with_capacity(64);
    let mut fds: Vec<libc::pollfd> = rings
        .iter()
        .map(|r| libc::pollfd {
            fd: r.raw_fd(),
            events: libc::POLLIN | libc::POLLERR,
            revents: 0,
        })
        .collect();
    let mut last_ts = 0.0;
    while !stop.load(Ordering::Relaxed) {
        let mut got = 0;
        for (i, ring) in rings.iter_mut().enumerate() {
            let filter = filters.get(i).and_then(Option::as_deref);
            let mut bytes = 0u64;
            let n = ring.next_block(|ts, frame, trusted| {
                bytes += frame.len() as u64;
                if filter.is_some_and(|f| !f.keep(frame)) {
                    return;
                }
                last_ts = ts;
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    engine.process_checked(ts, frame, Link::Ethernet, trusted, &mut alerts);
                    engine.last_outcome().flow_id
                }));
                if let Ok(flow) = run {
                    if let Some(r) = recorder.as_mut() {
                        r.packet(flow, ts, frame);
                    }
                } else {
                    // Supervisor: a packet that panics the engine costs its flow table, not the
                    // worker; the restart is counted and reported.
                    stats.restarts.fetch_add(1, Ordering::Relaxed);
                    engine = Engine::new(rules.current(), config.clone());
                }
            });
            if let Some(c) = stats.interfaces.get(i) {
                c.packets.fetch_add(n as u64, Ordering::Relaxed);
                c.bytes.fetch_add(bytes, Ordering::Relaxed);
            }
            got += n;
        }
        if got > 0 {
            stats.packets.fetch_add(got as u64, Ordering::Relaxed);
            if !alerts.is_empty() {
                stats
                    .alerts
                    .fetch_add(alerts.len() as u64, Ordering::Relaxed);
            }
            let set = Arc::clone(engine.rules());
            deliver(&mut alerts, &set, recorder.as_mut(), last_ts, sink);
            engine.refresh(rules);
            continue;
        }
        for (i, ring) in rings.iter().enumerate() {
            let s = ring.stats();
            stats.kernel_drops.fetch_add(s.drops, Ordering::Relaxed);
            if let Some(c) = stats.interfaces.get(i) {
                c.kernel_drops.fetch_add(s.drops, Ordering::Relaxed);
            }
        }
        engine.refresh(rules);
        // Quiet: recordings whose window after has passed (wall clock ≈ packet time live).
        if let Some(r) = recorder.as_mut()
            && r.open_count() > 0
        {
            r.flush(crate::inline::wall_clock(), false, sink);
        }
        if let Some(r) = recorder.as_mut() {
            r.report_into(&stats.evidence_recorded, &stats.evidence_skipped);
        }
        // SAFETY: `fds` holds valid descriptors of the rings owned by this thread.
        unsafe {
            libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 100);
        }
    }
    engine.finish(last_ts, &mut alerts);
    let set = Arc::clone(engine.rules());
    deliver(&mut alerts, &set, recorder.as_mut(), last_ts, sink);
    if let Some(r) = recorder.as_mut() {
        r.flush(last_ts, true, sink);
    }
}
