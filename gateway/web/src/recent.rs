//! The most recent events, kept in memory for the dashboard and the IDS page: a bus subscriber
//! with bounded rings per kind, and the operators' acknowledgements of alerts (kept on disk).

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

use edgeward_event::Bus;
use edgeward_event::{Event, EventBody};

const KEEP_ALERTS: usize = 2000;
const KEEP_OTHER: usize = 2000;

/// Who acknowledged an alert, and when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ack {
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Default)]
struct Rings {
    alerts: VecDeque<Arc<Event>>,
    audit: VecDeque<Arc<Event>>,
    other: VecDeque<Arc<Event>>,
}

/// Shared handle; cheap to clone.
#[derive(Clone)]
pub struct Recent {
    rings: Arc<Mutex<Rings>>,
    acks: Arc<Mutex<BTreeMap<u64, Ack>>>,
    acks_path: PathBuf,
}

fn push(q: &mut VecDeque<Arc<Event>>, ev: Arc<Event>, keep: usize) {
    if q.len() == keep {
        q.pop_front();
    }
    q.push_back(ev);
}

impl Recent {
    pub fn new(acks_path: PathBuf) -> Recent {
        let acks = std::fs::read(&acks_path)
            .ok()
            .and_then(|raw| serde_json::from_slice(&raw).ok())
            .unwrap_or_default();
        Recent {
            rings: Arc::default(),
            acks: Arc::new(Mutex::new(acks)),
            acks_path,
        }
    }

    /// Follow the bus for as long as it lives.
    pub fn follow(&self, bus: &Bus) -> tokio::task::JoinHandle<()> {
        let mut rx = bus.subscribe();
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(ev) => me.record(ev),
                    Err(RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "admin UI missed events");
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        })
    }

    pub fn record(&self, ev: Arc<Event>) {
        let mut r = super::lock(&self.rings);
        match ev.body {
            EventBody::Alert(_) => push(&mut r.alerts, ev, KEEP_ALERTS),
            EventBody::Audit(_) => push(&mut r.audit, ev, KEEP_OTHER),
            _ => push(&mut r.other, ev, KEEP_OTHER),
        }
    }

    /// The newest alerts first.
    pub fn alerts(&self, limit: usize) -> Vec<Arc<Event>> {
        super::lock(&self.rings)
            .alerts
            .iter()
            .rev()
            .take(limit)
            .cloned()
            .collect()
    }

    /// The kept audit events, oldest first.
    pub fn audit_events(&self) -> Vec<Arc<Event>> {
        super::lock(&self.rings).audit.iter().cloned().collect()
    }

    /// Alert counts by severity (1 high, 2 medium, 3 low) over the kept alerts, unacknowledged.
    pub fn open_alerts_by_severity(&self) -> [usize; 3] {
        let acks = super::lock(&self.acks);
        let mut out = [0; 3];
        for ev in &super::lock(&self.rings).alerts {
            if let EventBody::Alert(a) = &ev.body {
                if acks.contains_key(&ev.seq) {
                    continue;
                }
                let i = (a.alert.severity.clamp(1, 3) - 1) as usize;
                out[i] += 1;
            }
        }
        out
    }

    /// Whether an alert with this sequence number is kept.
    pub fn has_alert(&self, seq: u64) -> bool {
        super::lock(&self.rings).alerts.iter().any(|e| e.seq == seq)
    }

    pub fn ack_of(&self, seq: u64) -> Option<Ack> {
        super::lock(&self.acks).get(&seq).cloned()
    }

    /// Record an acknowledgement (persisted); false if it was already acknowledged.
    pub fn acknowledge(&self, seq: u64, by: &str, at: DateTime<Utc>) -> Result<bool, String> {
        let mut acks = super::lock(&self.acks);
        if acks.contains_key(&seq) {
            return Ok(false);
        }
        acks.insert(
            seq,
            Ack {
                by: by.to_string(),
                at,
            },
        );
        while acks.len() > 50_000 {
            acks.pop_first();
        }
        let raw = serde_json::to_vec(&*acks).map_err(|e| e.to_string())?;
        edgeward_config::history::write_atomic(&self.acks_path, &raw).map_err(|e| e.to_string())?;
        Ok(true)
    }
}
