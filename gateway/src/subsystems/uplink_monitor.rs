//! Uplink health monitoring: one probing task per uplink, restarted (with judged states carried
//! over) when the uplinks section changes.

use std::sync::Arc;

use edgeward_wan::link::LinkEvent;
use tokio::sync::{broadcast, mpsc};

use crate::metrics::Metrics;
use crate::reconcile::{Desired, Report, Step, Subsystem};
use crate::uplinks::{self, StatusBoard, UplinkChange};

/// The uplink monitor subsystem.
pub struct UplinkMonitor {
    monitor: Option<uplinks::Monitor>,
    /// Carrier changes from netlink (a channel nobody sends on when netlink is unavailable:
    /// probes alone judge the uplinks then).
    links: broadcast::Sender<LinkEvent>,
    changes: mpsc::Sender<UplinkChange>,
    board: StatusBoard,
    metrics: Arc<Metrics>,
}

impl UplinkMonitor {
    pub fn new(
        links: Option<broadcast::Sender<LinkEvent>>,
        changes: mpsc::Sender<UplinkChange>,
        board: StatusBoard,
        metrics: Arc<Metrics>,
    ) -> Self {
        UplinkMonitor {
            monitor: None,
            links: links.unwrap_or_else(|| broadcast::channel(1).0),
            changes,
            board,
            metrics,
        }
    }
}

impl Subsystem for UplinkMonitor {
    fn name(&self) -> &'static str {
        "uplinks"
    }

    fn apply<'a>(&'a mut self, desired: &'a Desired<'a>) -> Step<'a> {
        Box::pin(async move {
            let fingerprint = uplinks::fingerprint(desired.config);
            if self
                .monitor
                .as_ref()
                .is_some_and(|m| m.fingerprint == fingerprint)
            {
                return Ok(Report::quiet());
            }
            self.monitor = None;
            self.board
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clear();
            self.monitor = Some(uplinks::start(
                desired.config,
                desired.health,
                self.changes.clone(),
                &self.links,
                self.board.clone(),
                self.metrics.clone(),
            ));
            Ok(Report::quiet())
        })
    }
}
