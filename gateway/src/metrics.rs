//! The daemon's Prometheus metrics, served over HTTP on the management zone only.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::task::JoinHandle;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabel {
    pub stage: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabel {
    pub chain: String,
    pub rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UplinkLabel {
    pub uplink: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UplinkResultLabel {
    pub uplink: String,
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SubsystemLabel {
    pub subsystem: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InterfaceLabel {
    pub interface: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabel {
    pub queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QuantileLabel {
    pub quantile: String,
}

type U64Gauge = Gauge<u64, AtomicU64>;

/// The live IDS/IPS per interface and per queue.
pub struct IdsDetail {
    pub interface_packets: Family<InterfaceLabel, U64Gauge>,
    pub interface_bytes: Family<InterfaceLabel, U64Gauge>,
    pub interface_kernel_drops: Family<InterfaceLabel, U64Gauge>,
    pub queue_packets: Family<QueueLabel, U64Gauge>,
    pub queue_bytes: Family<QueueLabel, U64Gauge>,
    pub queue_dropped: Family<QueueLabel, U64Gauge>,
    pub queue_bypassed: Family<QueueLabel, U64Gauge>,
    pub queue_overflows: Family<QueueLabel, U64Gauge>,
    pub queue_length: Family<QueueLabel, U64Gauge>,
    /// Times a fail-open queue was seen full (packets passing uninspected).
    pub fail_open_episodes: Counter,
    pub verdict_latency_us: Family<QuantileLabel, U64Gauge>,
    pub evidence_recorded: U64Gauge,
    pub evidence_skipped: U64Gauge,
}

impl IdsDetail {
    fn register(registry: &mut Registry) -> IdsDetail {
        fn reg<M: prometheus_client::registry::Metric + Clone>(
            r: &mut Registry,
            name: &str,
            help: &str,
            m: M,
        ) -> M {
            r.register(name, help, m.clone());
            m
        }
        let r = registry;
        IdsDetail {
            interface_packets: reg(
                r,
                "ids_interface_packets",
                "Frames read from the capture rings of an interface",
                Family::default(),
            ),
            interface_bytes: reg(
                r,
                "ids_interface_bytes",
                "Bytes read from the capture rings of an interface",
                Family::default(),
            ),
            interface_kernel_drops: reg(
                r,
                "ids_interface_kernel_drops",
                "Frames the kernel dropped because an interface's rings were full",
                Family::default(),
            ),
            queue_packets: reg(
                r,
                "ips_queue_packets",
                "Packets judged by an IPS queue's worker",
                Family::default(),
            ),
            queue_bytes: reg(
                r,
                "ips_queue_bytes",
                "Bytes judged by an IPS queue's worker",
                Family::default(),
            ),
            queue_dropped: reg(
                r,
                "ips_queue_dropped",
                "Packets an IPS queue's worker dropped",
                Family::default(),
            ),
            queue_bypassed: reg(
                r,
                "ips_queue_bypassed",
                "Packets accepted with the flow bypass mark",
                Family::default(),
            ),
            queue_overflows: reg(
                r,
                "ips_queue_overflows_by_queue",
                "Packets the kernel could not queue (fail-closed: dropped) or hand over",
                Family::default(),
            ),
            queue_length: reg(
                r,
                "ips_queue_length",
                "Packets waiting in an IPS queue now",
                Family::default(),
            ),
            fail_open_episodes: reg(
                r,
                "ips_fail_open_episodes",
                "Times a fail-open IPS queue was seen full: packets passed uninspected",
                Counter::default(),
            ),
            verdict_latency_us: reg(
                r,
                "ips_verdict_latency_microseconds",
                "IPS verdict latency per batch (bucket upper bound) at a quantile",
                Family::default(),
            ),
            evidence_recorded: reg(
                r,
                "ids_evidence_recorded",
                "Evidence pcaps recorded for alerts",
                Gauge::default(),
            ),
            evidence_skipped: reg(
                r,
                "ids_evidence_skipped",
                "Alerts sent without evidence (recorder full or over its rate)",
                Gauge::default(),
            ),
        }
    }
}

/// Every metric of the daemon. Each later capability registers its own here.
pub struct Metrics {
    registry: Registry,
    pub reconciles: Family<ResultLabel, Counter>,
    pub apply_errors: Family<StageLabel, Counter>,
    pub subsystems_ok: Family<SubsystemLabel, Gauge>,
    /// Live IDS: packets inspected, packets the kernel dropped (ring full), alerts raised, alerts
    /// lost because the event queue was full.
    pub ids_packets: Gauge,
    pub ids_kernel_drops: Gauge,
    pub ids_alerts: Gauge,
    pub ids_alerts_lost: Counter,
    /// Packets the inline IPS dropped.
    pub ips_dropped: Gauge,
    /// IDS engines replaced after a fault, and packets lost to full IPS queues.
    pub ids_engine_restarts: Gauge,
    pub ips_queue_overflows: Gauge,
    /// Per interface and per queue.
    pub ids_detail: IdsDetail,
    pub events: Family<KindLabel, Counter>,
    pub config_version: Gauge,
    pub last_reconcile_seconds: Gauge<f64, AtomicU64>,
    pub start_time_seconds: Gauge,
    pub firewall_logged: Counter,
    pub firewall_rule_packets: Family<RuleLabel, Gauge<u64, AtomicU64>>,
    pub firewall_rule_bytes: Family<RuleLabel, Gauge<u64, AtomicU64>>,
    pub firewall_applies: Family<ResultLabel, Counter>,
    pub awaiting_confirmation: Gauge,
    pub uplink_up: Family<UplinkLabel, Gauge>,
    pub uplink_transitions: Family<UplinkResultLabel, Counter>,
    pub uplink_loss_percent: Family<UplinkLabel, Gauge<f64, AtomicU64>>,
    pub uplink_latency_p95_ms: Family<UplinkLabel, Gauge<f64, AtomicU64>>,
    pub probes: Family<UplinkResultLabel, Counter>,
    pub conntrack_flushed: Family<UplinkLabel, Counter>,
    /// The SOC link's own metrics (registered by `edgeward-soc`).
    pub soc: edgeward_soc::link::LinkMetrics,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("edgeward");
        let reconciles = Family::<ResultLabel, Counter>::default();
        registry.register(
            "reconciles",
            "Reconcile runs by result (ok, invalid, failed)",
            reconciles.clone(),
        );
        let apply_errors = Family::<StageLabel, Counter>::default();
        registry.register(
            "apply_errors",
            "Errors while applying a configuration, by stage",
            apply_errors.clone(),
        );
        let subsystems_ok = Family::<SubsystemLabel, Gauge>::default();
        registry.register(
            "subsystem_ok",
            "1 if the subsystem's last reconcile step went through without warnings, else 0",
            subsystems_ok.clone(),
        );
        let ids_packets = Gauge::default();
        registry.register(
            "ids_packets",
            "Packets the live IDS inspected",
            ids_packets.clone(),
        );
        let ids_kernel_drops = Gauge::default();
        registry.register(
            "ids_kernel_drops",
            "Packets the kernel dropped before the IDS saw them (capture ring full)",
            ids_kernel_drops.clone(),
        );
        let ids_alerts = Gauge::default();
        registry.register(
            "ids_alerts",
            "Alerts the live IDS raised",
            ids_alerts.clone(),
        );
        let ips_dropped = Gauge::default();
        registry.register(
            "ips_dropped",
            "Packets the inline IPS dropped",
            ips_dropped.clone(),
        );
        let ids_engine_restarts = Gauge::default();
        registry.register(
            "ids_engine_restarts",
            "IDS engines replaced after a fault",
            ids_engine_restarts.clone(),
        );
        let ips_queue_overflows = Gauge::default();
        registry.register(
            "ips_queue_overflows",
            "Packets the kernel could not queue to the IPS (queue or socket full)",
            ips_queue_overflows.clone(),
        );
        let ids_detail = IdsDetail::register(&mut registry);
        let ids_alerts_lost = Counter::default();
        registry.register(
            "ids_alerts_lost",
            "IDS alerts not recorded because the event queue was full",
            ids_alerts_lost.clone(),
        );
        let events = Family::<KindLabel, Counter>::default();
        registry.register(
            "events",
            "Events written by the bus, by kind",
            events.clone(),
        );
        let config_version = Gauge::default();
        registry.register(
            "config_version",
            "History version of the running configuration",
            config_version.clone(),
        );
        let last_reconcile_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "last_reconcile_duration_seconds",
            "Wall time of the last successful reconcile",
            last_reconcile_seconds.clone(),
        );
        let start_time_seconds = Gauge::default();
        registry.register(
            "start_time_seconds",
            "Unix time the daemon started",
            start_time_seconds.clone(),
        );
        let firewall_logged = Counter::default();
        registry.register(
            "firewall_logged_packets",
            "Packets the firewall sent to its log (NFLOG), before folding",
            firewall_logged.clone(),
        );
        let firewall_rule_packets = Family::<RuleLabel, Gauge<u64, AtomicU64>>::default();
        registry.register(
            "firewall_rule_packets",
            "Packets matched per firewall rule (live counters)",
            firewall_rule_packets.clone(),
        );
        let firewall_rule_bytes = Family::<RuleLabel, Gauge<u64, AtomicU64>>::default();
        registry.register(
            "firewall_rule_bytes",
            "Bytes matched per firewall rule (live counters)",
            firewall_rule_bytes.clone(),
        );
        let firewall_applies = Family::<ResultLabel, Counter>::default();
        registry.register(
            "firewall_applies",
            "Firewall changes by kind (full, sets_only, unchanged)",
            firewall_applies.clone(),
        );
        let awaiting_confirmation = Gauge::default();
        registry.register(
            "awaiting_confirmation",
            "1 while an applied change waits for confirmation",
            awaiting_confirmation.clone(),
        );
        let uplink_up = Family::<UplinkLabel, Gauge>::default();
        registry.register(
            "uplink_up",
            "1 while the uplink is judged healthy",
            uplink_up.clone(),
        );
        let uplink_transitions = Family::<UplinkResultLabel, Counter>::default();
        registry.register(
            "uplink_transitions",
            "Uplink state changes, by new state",
            uplink_transitions.clone(),
        );
        let uplink_loss_percent = Family::<UplinkLabel, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "uplink_loss_percent",
            "Probe loss over the window, averaged over targets",
            uplink_loss_percent.clone(),
        );
        let uplink_latency_p95_ms = Family::<UplinkLabel, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "uplink_latency_p95_ms",
            "Worst target's 95th percentile probe latency",
            uplink_latency_p95_ms.clone(),
        );
        let probes = Family::<UplinkResultLabel, Counter>::default();
        registry.register(
            "uplink_probes",
            "Health probes sent, by outcome (answered, lost)",
            probes.clone(),
        );
        let conntrack_flushed = Family::<UplinkLabel, Counter>::default();
        registry.register(
            "uplink_conntrack_flushed",
            "Connections flushed when an uplink failed",
            conntrack_flushed.clone(),
        );
        let soc = edgeward_soc::link::LinkMetrics::register(&mut registry);
        Metrics {
            registry,
            reconciles,
            apply_errors,
            subsystems_ok,
            ids_packets,
            ids_kernel_drops,
            ids_alerts,
            ids_alerts_lost,
            ips_dropped,
            ids_engine_restarts,
            ips_queue_overflows,
            ids_detail,
            events,
            config_version,
            last_reconcile_seconds,
            start_time_seconds,
            firewall_logged,
            firewall_rule_packets,
            firewall_rule_bytes,
            firewall_applies,
            awaiting_confirmation,
            uplink_up,
            uplink_transitions,
            uplink_loss_percent,
            uplink_latency_p95_ms,
            probes,
            conntrack_flushed,
            soc,
        }
    }

    pub fn reconcile(&self, result: &str) {
        self.reconciles
            .get_or_create(&ResultLabel {
                result: result.into(),
            })
            .inc();
    }

    pub fn apply_error(&self, stage: &str) {
        self.apply_errors
            .get_or_create(&StageLabel {
                stage: stage.into(),
            })
            .inc();
    }

    /// Record how a subsystem's last reconcile step went.
    pub fn subsystem_ok(&self, subsystem: &str, ok: bool) {
        self.subsystems_ok
            .get_or_create(&SubsystemLabel {
                subsystem: subsystem.into(),
            })
            .set(i64::from(ok));
    }

    pub fn event(&self, kind: &str) {
        self.events
            .get_or_create(&KindLabel { kind: kind.into() })
            .inc();
    }

    /// Replace the per-rule counters (rules with the same chain and comment are summed).
    pub fn set_rule_counters(&self, counters: &[edgeward_firewall::RuleCounter]) {
        let mut sums: std::collections::HashMap<RuleLabel, (u64, u64)> =
            std::collections::HashMap::new();
        for c in counters {
            let e = sums
                .entry(RuleLabel {
                    chain: c.chain.clone(),
                    rule: c.comment.clone(),
                })
                .or_default();
            e.0 += c.packets;
            e.1 += c.bytes;
        }
        self.firewall_rule_packets.clear();
        self.firewall_rule_bytes.clear();
        for (label, (packets, bytes)) in sums {
            self.firewall_rule_packets
                .get_or_create(&label)
                .set(packets);
            self.firewall_rule_bytes.get_or_create(&label).set(bytes);
        }
    }

    pub fn probe(&self, uplink: &str, answered: bool) {
        self.probes
            .get_or_create(&UplinkResultLabel {
                uplink: uplink.into(),
                result: if answered { "answered" } else { "lost" }.into(),
            })
            .inc();
    }

    pub fn uplink_state(
        &self,
        uplink: &str,
        up: bool,
        stats: &[(String, edgeward_wan::health::TargetStats)],
    ) {
        let label = UplinkLabel {
            uplink: uplink.into(),
        };
        self.uplink_up.get_or_create(&label).set(i64::from(up));
        if !stats.is_empty() {
            let loss = stats.iter().map(|(_, s)| s.loss_percent).sum::<f64>() / stats.len() as f64;
            self.uplink_loss_percent.get_or_create(&label).set(loss);
            let p95 = stats
                .iter()
                .filter_map(|(_, s)| s.p95_ms)
                .fold(0.0, f64::max);
            self.uplink_latency_p95_ms.get_or_create(&label).set(p95);
        }
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

async fn serve_metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
}

/// HTTP listeners for `/metrics`, rebound when the management addresses change.
pub struct MetricsServer {
    metrics: Arc<Metrics>,
    bound: Vec<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl MetricsServer {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        MetricsServer {
            metrics,
            bound: Vec::new(),
            tasks: Vec::new(),
        }
    }

    /// Listen on exactly `addrs`; returns the addresses that could not be bound, with the reason.
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
        let mut failed = Vec::new();
        for addr in addrs {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(listener) => {
                    let app = Router::new()
                        .route("/metrics", get(serve_metrics))
                        .with_state(self.metrics.clone());
                    self.tasks.push(tokio::spawn(async move {
                        if let Err(e) = axum::serve(listener, app).await {
                            tracing::error!(%addr, error = %e, "metrics listener stopped");
                        }
                    }));
                    self.bound.push(addr);
                    tracing::info!(%addr, "metrics listening");
                }
                Err(e) => failed.push((addr, e.to_string())),
            }
        }
        failed
    }
}
