//! Firewall log → events: a thread reads the NFLOG groups, folds packets per flow for one second
//! and emits one `firewall` event per folded flow (rate-limited again here, so a flood cannot
//! flood the log). It also keeps the firewall's per-rule counters in the metrics.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use edgeward_config::Config;
use edgeward_firewall::nflog::{Aggregator, NflogSocket, ifname};
use edgeward_firewall::{LOG_GROUP_DENY, LOG_GROUP_RATE, LogRule, Ruleset};

use crate::bus::Bus;
use crate::event::{EventBody, FirewallEvent, Level};
use crate::metrics::Metrics;

/// At most this many distinct flows become events per second; the rest are counted.
const MAX_FLOWS_PER_SECOND: usize = 100;

/// What the reader needs to explain a logged packet; replaced on every apply.
#[derive(Default)]
pub struct LogContext {
    pub rules: BTreeMap<String, LogRule>,
    pub iface_zone: HashMap<String, String>,
}

impl LogContext {
    pub fn new(config: &Config, ruleset: &Ruleset) -> Self {
        LogContext {
            rules: ruleset.log_rules.clone(),
            iface_zone: config
                .interfaces
                .iter()
                .map(|i| (i.name.clone(), i.zone.clone()))
                .collect(),
        }
    }
}

/// Start the reader thread. Errors opening the socket are returned; later errors end the thread
/// with a system event.
pub fn spawn(bus: Bus, ctx: Arc<RwLock<LogContext>>, metrics: Arc<Metrics>) -> std::io::Result<()> {
    let mut sock = NflogSocket::bind(&[LOG_GROUP_DENY as u16, LOG_GROUP_RATE as u16], 128)?;
    std::thread::Builder::new().name("nflog".into()).spawn(move || {
        let mut agg = Aggregator::new(MAX_FLOWS_PER_SECOND);
        let mut window = Instant::now();
        let mut names: HashMap<u32, Option<String>> = HashMap::new();
        loop {
            match sock.recv() {
                Ok(packets) => {
                    for p in &packets {
                        agg.add(p);
                    }
                    metrics.firewall_logged.inc_by(packets.len() as u64);
                }
                Err(e) => {
                    bus.emit_blocking(EventBody::system(Level::Error, "firewall", format!("firewall log reader stopped: {e}")));
                    return;
                }
            }
            if window.elapsed() < Duration::from_secs(1) {
                continue;
            }
            window = Instant::now();
            let (folded, overflow) = agg.drain();
            let span = tracing::debug_span!("firewall_log_batch", flows = folded.len(), overflow);
            let _g = span.enter();
            let mut events = Vec::with_capacity(folded.len());
            {
                let ctx = ctx.read().unwrap_or_else(std::sync::PoisonError::into_inner);
                for f in folded {
                    let mut name_of = |idx: Option<u32>| idx.and_then(|i| names.entry(i).or_insert_with(|| ifname(i)).clone());
                    let in_iface = name_of(f.key.in_ifindex);
                    let rule = ctx.rules.get(&f.key.prefix);
                    let in_zone = rule.and_then(|r| r.zone.clone()).or_else(|| in_iface.as_ref().and_then(|i| ctx.iface_zone.get(i).cloned()));
                    events.push(FirewallEvent {
                        action: rule.map(|r| r.action).unwrap_or("drop").to_string(),
                        rule: rule.map(|r| r.description.clone()).unwrap_or_else(|| f.key.prefix.clone()),
                        rule_id: f.key.prefix.clone(),
                        in_zone,
                        out_zone: None,
                        in_iface,
                        src_ip: f.key.src,
                        src_port: f.src_port,
                        dest_ip: f.key.dst,
                        dest_port: f.key.dst_port,
                        proto: f.key.proto.clone(),
                        count: f.count,
                    });
                }
            }
            for ev in events {
                bus.emit_blocking(EventBody::Firewall(ev));
            }
            if overflow > 0 {
                bus.emit_blocking(EventBody::system(
                    Level::Warning,
                    "firewall",
                    format!("{overflow} more logged packets in the last second were counted but not itemised (more than {MAX_FLOWS_PER_SECOND} flows)"),
                ));
            }
        }
    })?;
    Ok(())
}

/// Copy the live per-rule counters into the metrics every `every`.
pub fn spawn_counter_export(metrics: Arc<Metrics>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match tokio::task::spawn_blocking(edgeward_firewall::counters).await {
                Ok(Ok(counters)) => metrics.set_rule_counters(&counters),
                Ok(Err(e)) => tracing::debug!(error = %e, "reading firewall counters failed"),
                Err(_) => {}
            }
        }
    });
}
