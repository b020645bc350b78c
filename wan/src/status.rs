//! The live state of the uplinks as the daemon's monitor publishes it, for `edgeward uplinks`,
//! the admin plane and the metrics: per uplink its state, carrier, reason and per-target loss
//! and latency.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Live state of one target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetStatus {
    pub kind: String,
    pub target: String,
    pub samples: usize,
    pub loss_percent: f64,
    pub p95_ms: Option<f64>,
}

/// Live state of one uplink, as `edgeward uplinks` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UplinkStatus {
    pub name: String,
    pub kind: String,
    pub interface: String,
    pub state: String,
    pub since: DateTime<Utc>,
    pub carrier: bool,
    pub last_reason: String,
    /// The same reason in Vietnamese, for the admin UI.
    #[serde(default)]
    pub last_reason_vi: String,
    pub probes_per_second: f64,
    pub targets: Vec<TargetStatus>,
}

pub type StatusBoard = Arc<RwLock<HashMap<String, UplinkStatus>>>;
