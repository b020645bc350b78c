//! Log retention: the `[logs]` policy (keep at least six months, cap the disk) applied to the
//! event store at start and every hour, with an event per removed segment; the same age and
//! `ids.evidence_mb` applied to the alerts' evidence pcaps, with an event when some go. A
//! changed policy takes effect at once.

use std::time::Duration;

use edgeward_config::LogSettings;
use edgeward_event::bus::Bus;
use edgeward_event::model::{EventBody, Level};
use tokio::task::JoinHandle;

use crate::reconcile::{Desired, Report, Step, Subsystem};
use crate::store::SharedStore;
use edgeward_store::evidence::EvidenceStore;

/// The retention subsystem.
pub struct Retention {
    store: SharedStore,
    evidence: Option<EvidenceStore>,
    bus: Bus,
    running_for: Option<(LogSettings, u64)>,
    task: Option<JoinHandle<()>>,
}

impl Retention {
    pub fn new(store: SharedStore, evidence: Option<EvidenceStore>, bus: Bus) -> Self {
        Retention {
            store,
            evidence,
            bus,
            running_for: None,
            task: None,
        }
    }
}

impl Drop for Retention {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

impl Subsystem for Retention {
    fn name(&self) -> &'static str {
        "retention"
    }

    fn apply<'a>(&'a mut self, desired: &'a Desired<'a>) -> Step<'a> {
        Box::pin(async move {
            let wanted = (desired.config.logs.clone(), desired.config.ids.evidence_mb);
            if self.running_for.as_ref() == Some(&wanted) {
                return Ok(Report::quiet());
            }
            if let Some(t) = self.task.take() {
                t.abort();
            }
            self.task = Some(tokio::spawn(enforce_every_hour(
                self.store.clone(),
                self.evidence.clone(),
                self.bus.clone(),
                wanted.clone(),
            )));
            self.running_for = Some(wanted);
            Ok(Report::quiet())
        })
    }
}

/// Apply the policy now and every hour.
async fn enforce_every_hour(
    store: SharedStore,
    evidence: Option<EvidenceStore>,
    bus: Bus,
    (settings, evidence_mb): (LogSettings, u64),
) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        if let Some(ev) = evidence.clone() {
            let days = settings.retention_days;
            let removed = tokio::task::spawn_blocking(move || ev.enforce(days, evidence_mb << 20))
                .await
                .unwrap_or_default();
            if !removed.is_empty() {
                let bytes: u64 = removed.iter().map(|k| k.bytes).sum();
                bus.emit(EventBody::system(
                    Level::Warning,
                    "ids",
                    format!(
                        "{} evidence pcaps ({bytes} bytes, oldest {}) removed: older than {days} days or over the {evidence_mb} MiB budget",
                        removed.len(),
                        removed[0].id
                    ),
                ))
                .await;
            }
        }
        let store = store.clone();
        let result = tokio::task::spawn_blocking(move || {
            store.enforce_retention(settings.retention_days, settings.max_disk_mb << 20)
        })
        .await;
        match result {
            Ok(Ok(removed)) => {
                for r in removed {
                    bus.emit(EventBody::system(
                        Level::Warning,
                        "store",
                        format!(
                            "log segment {} ({} bytes) removed: {}",
                            r.segment, r.bytes, r.why
                        ),
                    ))
                    .await;
                }
            }
            Ok(Err(e)) => {
                bus.emit(EventBody::system(
                    Level::Error,
                    "store",
                    format!("retention failed: {e}"),
                ))
                .await;
            }
            Err(_) => {}
        }
    }
}
