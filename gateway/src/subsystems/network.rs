//! Addresses, routes and policy rules (dual ISP, TSLCD): planned from the model and uplink
//! health, applied over rtnetlink. A partial failure is reported; the change stands.

use edgeward_event::model::Level;
use edgeward_wan::NetPlan;

use crate::reconcile::{Desired, Report, Step, Subsystem};

/// The routing subsystem.
#[derive(Default)]
pub struct Network {
    planned: Option<NetPlan>,
}

impl Subsystem for Network {
    fn name(&self) -> &'static str {
        "network"
    }

    fn plan(&mut self, desired: &Desired<'_>) -> Result<(), String> {
        self.planned = Some(edgeward_wan::plan(desired.config, &|u: &str| {
            desired.healthy(u)
        }));
        Ok(())
    }

    fn apply<'a>(&'a mut self, _desired: &'a Desired<'a>) -> Step<'a> {
        Box::pin(async move {
            let plan = self.planned.take().ok_or("nothing planned")?;
            match tokio::task::block_in_place(|| edgeward_wan::apply(&plan)) {
                Ok(report) if !report.missing_interfaces.is_empty() => Ok(Report::quiet().note(
                    Level::Warning,
                    format!(
                        "interfaces missing, left unconfigured: {}",
                        report.missing_interfaces.join(", ")
                    ),
                )),
                Ok(_) => Ok(Report::quiet()),
                Err(e) => Err(format!("network layer partly applied: {e}")),
            }
        })
    }

    fn discard(&mut self) {
        self.planned = None;
    }
}
