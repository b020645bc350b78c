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

use crate::evidence::{EvidenceConfig, LinkType, Recorder};
use crate::nfqueue::{Queue, QueueConfig, Verdict};
use crate::pool::AlertSink;
use crate::reset::ResetSender;

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
    /// The flow bypass mark: packets of flows the engine is done with are accepted with this
    /// bit set in their mark (the queue rules keep it in conntrack and stop queueing the flow).
    /// `None`: every packet stays queued.
    pub bypass_mark: Option<u32>,
    /// Record evidence pcaps for alerts (`None`: alerts go out at once, without).
    pub evidence: Option<EvidenceConfig>,
}

/// Verdict latency: per batch, from the first packet read to the verdicts sent, counted per
/// packet in power-of-two microsecond buckets (lock-free; read by the metrics exporter).
#[derive(Debug, Default)]
pub struct LatencyHistogram {
    /// `buckets[i]`: packets whose verdict took less than 2^i µs (and at least 2^(i-1)).
    pub buckets: [AtomicU64; 24],
}

impl LatencyHistogram {
    /// Count `packets` that waited `elapsed`.
    pub fn record(&self, elapsed: std::time::Duration, packets: u64) {
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let i = (64 - us.leading_zeros() as usize).min(self.buckets.len() - 1);
        self.buckets[i].fetch_add(packets, Ordering::Relaxed);
    }

    /// The upper bound in µs of the bucket holding quantile `q` (0..1), or 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return 0;
        }
        let want = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                return 1u64 << i;
            }
        }
        1u64 << (counts.len() - 1)
    }

    /// `{p50, p90, p99, max_bucket}` in µs (bucket upper bounds), for reports.
    pub fn summary(&self) -> std::collections::BTreeMap<&'static str, u64> {
        [
            ("p50", self.quantile(0.5)),
            ("p90", self.quantile(0.9)),
            ("p99", self.quantile(0.99)),
            ("max", self.quantile(1.0)),
        ]
        .into_iter()
        .collect()
    }
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
    /// Flows handed back to the kernel with the bypass mark.
    pub bypassed: AtomicU64,
    /// TCP resets sent for `reject` rules.
    pub resets: AtomicU64,
    /// Verdict latency.
    pub latency: LatencyHistogram,
    /// Evidence pcaps recorded.
    pub evidence_recorded: AtomicU64,
    /// Alerts delivered without evidence (recorder full or over its rate).
    pub evidence_skipped: AtomicU64,
    /// Per queue (one per worker), for the metrics.
    pub queues: Vec<QueueCounters>,
}

/// Counters of one queue.
#[derive(Debug, Default)]
pub struct QueueCounters {
    /// The queue number.
    pub number: u16,
    /// Packets judged.
    pub packets: AtomicU64,
    /// Their bytes.
    pub bytes: AtomicU64,
    /// Packets dropped by a verdict.
    pub dropped: AtomicU64,
    /// Packets accepted with the bypass mark.
    pub bypassed: AtomicU64,
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
        let stats = Arc::new(InlineStats {
            queues: (0..config.workers.max(1))
                .map(|i| QueueCounters {
                    number: config.first_queue + i,
                    ..QueueCounters::default()
                })
                .collect(),
            ..InlineStats::default()
        });
        let (first, max_len, fail_open) = (config.first_queue, config.max_len, config.fail_open);
        let bypass_mark = config.bypass_mark;
        let evidence = config.evidence.clone();
        let mut engine = EngineConfig {
            inline: true,
            bypass: bypass_mark.is_some(),
            ..config.engine.clone()
        };
        // One scan detector for all the workers: a scan's flows are spread over them.
        engine
            .shared_scan
            .get_or_insert_with(|| Arc::new(edgeward_ids::scan::SharedScan::new(&engine.scan)));
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
            move |i, mut queue| {
                let recorder = evidence.clone().map(|c| Recorder::new(c, LinkType::RawIp));
                judge(
                    &mut queue,
                    i,
                    recorder,
                    engine.clone(),
                    Policy {
                        fail_open,
                        bypass_mark,
                    },
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

/// How a worker answers beyond the rules.
#[derive(Debug, Clone, Copy)]
struct Policy {
    fail_open: bool,
    bypass_mark: Option<u32>,
}

/// Seconds since the epoch, for alert and flow times.
pub(crate) fn wall_clock() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[allow(clippy::too_many_arguments)]
fn judge(
    queue: &mut Queue,
    index: usize,
    mut recorder: Option<Recorder>,
    config: EngineConfig,
    policy: Policy,
    rules: &SharedRules,
    sink: &AlertSink,
    stop: &AtomicBool,
    stats: &InlineStats,
) {
    let mut engine = Engine::new(rules.current(), config.clone());
    let mut alerts: Vec<Alert> = Vec::with_capacity(16);
    let resets = ResetSender::open();
    while !stop.load(Ordering::Relaxed) {
        let (mut dropped, mut bypassed, mut reset, mut bytes) = (0u64, 0u64, 0u64, 0u64);
        // Packet time: one clock read per batch.
        let ts = wall_clock();
        let mut first_read: Option<std::time::Instant> = None;
        let result = queue.process(100, |p| {
            first_read.get_or_insert_with(std::time::Instant::now);
            bytes += p.payload.len() as u64;
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let v = engine.process_checked(ts, p.payload, Link::RawIp, true, &mut alerts);
                (v, engine.last_outcome())
            }));
            if let (Some(r), Ok((_, outcome))) = (recorder.as_mut(), &run) {
                r.packet(outcome.flow_id, ts, p.payload);
            }
            match run {
                Ok((edgeward_ids::engine::Verdict::Drop, outcome)) => {
                    dropped += 1;
                    if outcome.reject {
                        reset += resets.reset(p.payload, p.mark) as u64;
                    }
                    Verdict::Drop
                }
                Ok((edgeward_ids::engine::Verdict::Accept, outcome)) => match policy.bypass_mark {
                    Some(bit) if outcome.bypass => {
                        if p.mark & bit == 0 {
                            bypassed += 1;
                        }
                        Verdict::AcceptMarked(p.mark | bit)
                    }
                    _ => Verdict::Accept,
                },
                Err(_) => {
                    // Supervisor: a fresh engine, and this packet decided by the failure policy.
                    stats.restarts.fetch_add(1, Ordering::Relaxed);
                    engine = Engine::new(rules.current(), config.clone());
                    if policy.fail_open {
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
                if let Some(t) = first_read {
                    stats.latency.record(t.elapsed(), n as u64);
                }
                stats.packets.fetch_add(n as u64, Ordering::Relaxed);
                stats.dropped.fetch_add(dropped, Ordering::Relaxed);
                stats.bypassed.fetch_add(bypassed, Ordering::Relaxed);
                stats.resets.fetch_add(reset, Ordering::Relaxed);
                if let Some(q) = stats.queues.get(index) {
                    q.packets.fetch_add(n as u64, Ordering::Relaxed);
                    q.bytes.fetch_add(bytes, Ordering::Relaxed);
                    q.dropped.fetch_add(dropped, Ordering::Relaxed);
                    q.bypassed.fetch_add(bypassed, Ordering::Relaxed);
                }
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
        }
        if !alerts.is_empty() || recorder.as_ref().is_some_and(|r| r.open_count() > 0) {
            let set = Arc::clone(engine.rules());
            crate::pool::deliver(&mut alerts, &set, recorder.as_mut(), wall_clock(), sink);
            if let Some(r) = recorder.as_mut() {
                r.report_into(&stats.evidence_recorded, &stats.evidence_skipped);
            }
        }
        engine.refresh(rules);
    }
    if let Some(r) = recorder.as_mut() {
        r.flush(0.0, true, sink);
    }
}
