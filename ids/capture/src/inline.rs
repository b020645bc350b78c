//! The inline IPS workers: one thread per NFQUEUE queue (the kernel balances flows over the
//! queues), each with its own engine in inline mode; a packet a `drop` rule matches — and every
//! later packet of its flow — gets a drop verdict. Alerts go to the same sink as the passive
//! workers' (with action `blocked` where the packet was dropped).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use edgeward_ids::decode::Link;
use edgeward_ids::engine::{Alert, Engine, EngineConfig};
use edgeward_ids::reload::SharedRules;

use crate::nfqueue::{Queue, QueueConfig, Verdict};
use crate::pool::AlertSink;

/// Queues and how they behave.
#[derive(Debug, Clone)]
pub struct InlineConfig {
    /// First queue number; one queue per worker from here.
    pub first_queue: u16,
    /// Worker threads (= queues).
    pub workers: u16,
    /// Packets the kernel holds per queue.
    pub max_len: u32,
    /// A full queue lets packets pass.
    pub fail_open: bool,
    /// Bind the queues in this network namespace (`/run/netns/NAME`).
    pub netns: Option<PathBuf>,
    /// Engine settings (`inline` is forced on).
    pub engine: EngineConfig,
}

/// Counters of all inline workers.
#[derive(Debug, Default)]
pub struct InlineStats {
    /// Packets judged.
    pub packets: AtomicU64,
    /// Packets dropped by a verdict.
    pub dropped: AtomicU64,
    /// Alerts raised.
    pub alerts: AtomicU64,
    /// Engines replaced after a panic (the supervisor's restarts).
    pub restarts: AtomicU64,
}

/// Running inline workers; they unbind and stop when dropped.
pub struct InlinePool {
    threads: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    /// Counters.
    pub stats: Arc<InlineStats>,
}

impl std::fmt::Debug for InlinePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlinePool")
            .field("workers", &self.threads.len())
            .finish_non_exhaustive()
    }
}

impl InlinePool {
    /// Bind every queue and start judging. Fails (nothing left running) if a queue cannot be
    /// bound.
    pub fn start(
        config: InlineConfig,
        rules: Arc<SharedRules>,
        sink: AlertSink,
    ) -> std::io::Result<InlinePool> {
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(InlineStats::default());
        let (first, max_len, fail_open) = (config.first_queue, config.max_len, config.fail_open);
        let engine = EngineConfig {
            inline: true,
            ..config.engine.clone()
        };
        let (w_stop, w_stats) = (Arc::clone(&stop), Arc::clone(&stats));
        let threads = crate::workers::start(
            usize::from(config.workers),
            "ips",
            config.netns.as_ref(),
            &stop,
            move |i| {
                Queue::bind(QueueConfig {
                    number: first + i as u16,
                    max_len,
                    fail_open,
                })
            },
            move |_, mut queue| {
                judge(
                    &mut queue,
                    engine.clone(),
                    fail_open,
                    &rules,
                    &sink,
                    &w_stop,
                    &w_stats,
                );
            },
        )?;
        Ok(InlinePool {
            threads,
            stop,
            stats,
        })
    }
}

impl Drop for InlinePool {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn judge(
    queue: &mut Queue,
    config: EngineConfig,
    fail_open: bool,
    rules: &SharedRules,
    sink: &AlertSink,
    stop: &AtomicBool,
    stats: &InlineStats,
) {
    let mut engine = Engine::new(rules.current(), config.clone());
    let mut alerts: Vec<Alert> = Vec::with_capacity(16);
    let start = std::time::Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let mut dropped = 0u64;
        let result = queue.process(100, |p| {
            // Packet time for flow timeouts: time since start is monotonic and enough.
            let ts = start.elapsed().as_secs_f64();
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                engine.process_checked(ts, p.payload, Link::RawIp, true, &mut alerts)
            }));
            match run {
                Ok(edgeward_ids::engine::Verdict::Drop) => {
                    dropped += 1;
                    Verdict::Drop
                }
                Ok(edgeward_ids::engine::Verdict::Accept) => Verdict::Accept,
                Err(_) => {
                    // Supervisor: a fresh engine, and this packet decided by the failure policy.
                    stats.restarts.fetch_add(1, Ordering::Relaxed);
                    engine = Engine::new(rules.current(), config.clone());
                    if fail_open {
                        Verdict::Accept
                    } else {
                        dropped += 1;
                        Verdict::Drop
                    }
                }
            }
        });
        match result {
            Ok(n) => {
                stats.packets.fetch_add(n as u64, Ordering::Relaxed);
                stats.dropped.fetch_add(dropped, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::error!(error = %e, "IPS queue read failed");
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
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
    }
}
