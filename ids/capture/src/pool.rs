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
}

/// Receives each alert with the ruleset that raised it.
pub type AlertSink = Arc<dyn Fn(&RuleSet, &Alert) + Send + Sync>;

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
        let stats = Arc::new(PoolStats::default());
        let (interfaces, ring, engine) = (
            config.interfaces.clone(),
            config.ring,
            config.engine.clone(),
        );
        let (w_stop, w_stats) = (Arc::clone(&stop), Arc::clone(&stats));
        let threads = crate::workers::start(
            config.workers,
            "ids-capture",
            config.netns.as_ref(),
            &stop,
            move |_| {
                interfaces
                    .iter()
                    .enumerate()
                    .map(|(i, ifname)| {
                        Ring::open(
                            ifname,
                            RingConfig {
                                fanout_group: Some(FANOUT_BASE + i as u16),
                                ..ring
                            },
                        )
                    })
                    .collect::<Result<Vec<Ring>, RingError>>()
            },
            move |_, rings| worker(rings, engine.clone(), &rules, &sink, &w_stop, &w_stats),
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

fn worker(
    mut rings: Vec<Ring>,
    config: EngineConfig,
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
        for ring in &mut rings {
            let n = ring.next_block(|ts, frame, trusted| {
                last_ts = ts;
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    engine.process_checked(ts, frame, Link::Ethernet, trusted, &mut alerts);
                }));
                if run.is_err() {
                    // Supervisor: a packet that panics the engine costs its flow table, not
                    // the worker; the restart is counted and reported.
                    stats.restarts.fetch_add(1, Ordering::Relaxed);
                    engine = Engine::new(rules.current(), config.clone());
                }
            });
            got += n;
        }
        if got > 0 {
            stats.packets.fetch_add(got as u64, Ordering::Relaxed);
            if !alerts.is_empty() {
                stats
                    .alerts
                    .fetch_add(alerts.len() as u64, Ordering::Relaxed);
                let set = Arc::clone(engine.rules());
                for a in alerts.drain(..) {
                    sink(&set, &a);
                }
            }
            engine.refresh(rules);
            continue;
        }
        for ring in &rings {
            let s = ring.stats();
            stats.kernel_drops.fetch_add(s.drops, Ordering::Relaxed);
        }
        engine.refresh(rules);
        // SAFETY: `fds` holds valid descriptors of the rings owned by this thread.
        unsafe {
            libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 100);
        }
        let _ = last_ts;
    }
    engine.finish(last_ts, &mut alerts);
    let set = Arc::clone(engine.rules());
    for a in alerts.drain(..) {
        sink(&set, &a);
    }
}
