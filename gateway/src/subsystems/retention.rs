//! Log retention: the `[logs]` policy (keep at least six months, cap the disk) applied to the
//! event store at start and every hour, with an event per removed segment. A changed policy takes
//! effect at once.

use std::time::Duration;

use edgeward_config::LogSettings;
use edgeward_event::bus::Bus;
use edgeward_event::model::{EventBody, Level};
use tokio::task::JoinHandle;

use crate::reconcile::{Desired, Report, Step, Subsystem};
use crate::store::SharedStore;

/// The retention subsystem.
pub struct Retention {
    store: SharedStore,
    bus: Bus,
    running_for: Option<LogSettings>,
    task: Option<JoinHandle<()>>,
}

impl Retention {
    pub fn new(store: SharedStore, bus: Bus) -> Self {
        Retention {
            store,
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
            let wanted = desired.config.logs.clone();
            if self.running_for.as_ref() == Some(&wanted) {
                return Ok(Report::quiet());
            }
            if let Some(t) = self.task.take() {
                t.abort();
            }
            self.task = Some(tokio::spawn(enforce_every_hour(
                self.store.clone(),
                self.bus.clone(),
                wanted.clone(),
            )));
            self.running_for = Some(wanted);
            Ok(Report::quiet())
        })
    }
}

/// Apply the policy now and every hour.
async fn enforce_every_hour(store: SharedStore, bus: Bus, settings: LogSettings) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
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
