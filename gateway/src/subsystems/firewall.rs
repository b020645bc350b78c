//! The zone firewall: renders the nftables ruleset from the model (and uplink health), applies
//! it as one transaction (or only its sets when the rules are unchanged), keeps the firewall log
//! reader's context current and saves the confirmed ruleset for the next boot.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use edgeward_config::history::write_atomic;
use edgeward_firewall::{Applied, Ruleset};

use crate::fwlog::LogContext;
use crate::metrics::{Metrics, ResultLabel};
use crate::reconcile::{Desired, Report, Step, Subsystem};

/// The firewall subsystem. Essential: a change the kernel refuses is refused as a whole.
pub struct Firewall {
    /// Where the last confirmed ruleset is saved (restored before the daemon starts).
    last_good: PathBuf,
    log_ctx: Arc<RwLock<LogContext>>,
    metrics: Arc<Metrics>,
    /// What the kernel holds now (as far as this daemon put it there).
    current: Option<Ruleset>,
    planned: Option<Ruleset>,
}

impl Firewall {
    pub fn new(
        last_good: PathBuf,
        log_ctx: Arc<RwLock<LogContext>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Firewall {
            last_good,
            log_ctx,
            metrics,
            current: None,
            planned: None,
        }
    }
}

impl Subsystem for Firewall {
    fn name(&self) -> &'static str {
        "firewall"
    }

    fn essential(&self) -> bool {
        true
    }

    fn plan(&mut self, desired: &Desired<'_>) -> Result<(), String> {
        let ruleset = edgeward_firewall::render_for(desired.config, &|u: &str| desired.healthy(u))
            .map_err(|e| e.to_string())?;
        self.planned = Some(ruleset);
        Ok(())
    }

    fn apply<'a>(&'a mut self, desired: &'a Desired<'a>) -> Step<'a> {
        Box::pin(async move {
            let ruleset = self.planned.take().ok_or("nothing planned")?;
            // A repair replaces the whole table instead of trusting what we think is there.
            let previous = if desired.repair {
                None
            } else {
                self.current.as_ref()
            };
            let applied =
                tokio::task::block_in_place(|| edgeward_firewall::apply_change(previous, &ruleset))
                    .map_err(|e| e.to_string())?;
            let (result, summary) = match applied {
                Applied::Full => ("full", "firewall replaced".to_string()),
                Applied::SetsOnly(n) => (
                    "sets_only",
                    format!("{n} firewall set(s) updated, rules untouched"),
                ),
                Applied::Unchanged => ("unchanged", "firewall unchanged".to_string()),
            };
            self.metrics
                .firewall_applies
                .get_or_create(&ResultLabel {
                    result: result.into(),
                })
                .inc();
            *self
                .log_ctx
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                LogContext::new(desired.config, &ruleset);
            self.current = Some(ruleset);
            Ok(Report::done(summary))
        })
    }

    fn discard(&mut self) {
        self.planned = None;
    }

    fn confirmed(&mut self) {
        let Some(ruleset) = &self.current else {
            return;
        };
        if let Err(e) = write_atomic(&self.last_good, ruleset.to_json().as_bytes()) {
            tracing::error!(error = %e, "cannot save the last good ruleset");
        }
    }
}
