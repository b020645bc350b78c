//! The reconcile loop's contract: every part of the gateway that follows the configuration
//! (firewall, routing, listeners, uplink monitor, SOC link, retention …) is a [`Subsystem`] that
//! plans from the model without touching the system, then applies, and reports what it did.
//!
//! The daemon runs all of them, in order, for every configuration change and every uplink
//! transition ([`run`]). A planning error in any subsystem refuses the change before anything is
//! touched; an apply error in an *essential* subsystem (the firewall) refuses it too, and the
//! subsystems after it are not run; any other subsystem's failure is reported and the change
//! stands. New capabilities (IDS capture, NAC, Wi-Fi) join by implementing the trait.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use edgeward_config::Config;
use edgeward_event::model::Level;
use edgeward_wan::health::LinkState;

/// What the subsystems are asked to put in place.
pub struct Desired<'a> {
    pub config: &'a Config,
    /// Judged state of each uplink (absent = up: a new gateway routes at once).
    pub health: &'a HashMap<String, LinkState>,
    /// Re-apply everything from scratch even if it looks unchanged (repairs drift).
    pub repair: bool,
}

impl Desired<'_> {
    /// Whether an uplink may carry traffic now.
    pub fn healthy(&self, uplink: &str) -> bool {
        self.health.get(uplink).is_none_or(|s| *s == LinkState::Up)
    }
}

/// One thing a subsystem wants the operator to know after applying.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub level: Level,
    pub message: String,
}

/// What a subsystem did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// One line for the audit record ("firewall replaced"), if the change is worth naming.
    pub summary: Option<String>,
    /// Warnings and errors that did not stop the change.
    pub notes: Vec<Note>,
}

impl Report {
    /// Nothing to say.
    pub fn quiet() -> Report {
        Report::default()
    }
    /// A report with one summary line.
    pub fn done(summary: impl Into<String>) -> Report {
        Report {
            summary: Some(summary.into()),
            notes: Vec::new(),
        }
    }
    /// Add a note.
    pub fn note(mut self, level: Level, message: impl Into<String>) -> Report {
        self.notes.push(Note {
            level,
            message: message.into(),
        });
        self
    }
    /// Whether anything in it is a warning or worse.
    pub fn troubled(&self) -> bool {
        self.notes.iter().any(|n| n.level != Level::Info)
    }
}

/// The future an apply step returns (boxed so the trait stays object-safe).
pub type Step<'a> = Pin<Box<dyn Future<Output = Result<Report, String>> + Send + 'a>>;

/// A part of the gateway that follows the configuration.
pub trait Subsystem: Send {
    /// Its name, used as the event component, the metric label and the refusal stage.
    fn name(&self) -> &'static str;
    /// Whether an apply failure refuses the whole change (and stops the subsystems after it).
    fn essential(&self) -> bool {
        false
    }
    /// Work out what to do from the model, without touching the system. An error refuses the
    /// change. The plan is kept for [`Subsystem::apply`].
    fn plan(&mut self, desired: &Desired<'_>) -> Result<(), String> {
        let _ = desired;
        Ok(())
    }
    /// Put the planned state in place.
    fn apply<'a>(&'a mut self, desired: &'a Desired<'a>) -> Step<'a>;
    /// Forget a plan that will not be applied (another subsystem refused the change).
    fn discard(&mut self) {}
    /// The running configuration was confirmed (commit-confirm): make it the one kept.
    fn confirmed(&mut self) {}
}

/// Why a change was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The text is not a valid configuration.
    Invalid(String),
    /// A subsystem could not plan it.
    Plan {
        subsystem: &'static str,
        message: String,
    },
    /// An essential subsystem could not apply it.
    Apply {
        subsystem: &'static str,
        message: String,
    },
}

impl Refusal {
    /// The stage that refused: `validate`, `render` or the essential subsystem's name.
    pub fn stage(&self) -> &'static str {
        match self {
            Refusal::Invalid(_) => "validate",
            Refusal::Plan { .. } => "render",
            Refusal::Apply { subsystem, .. } => subsystem,
        }
    }
    /// What was wrong.
    pub fn message(&self) -> &str {
        match self {
            Refusal::Invalid(m) | Refusal::Plan { message: m, .. } => m,
            Refusal::Apply { message, .. } => message,
        }
    }
}

/// One subsystem's outcome in a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub subsystem: &'static str,
    /// `Ok` with its report, or the error of a non-essential subsystem.
    pub result: Result<Report, String>,
}

/// Plan every subsystem, then apply them in order. Returns each subsystem's outcome, or the
/// refusal (nothing applied on a planning error; nothing after an essential subsystem's failure).
pub async fn run(
    subsystems: &mut [Box<dyn Subsystem>],
    desired: &Desired<'_>,
) -> Result<Vec<Outcome>, Refusal> {
    for i in 0..subsystems.len() {
        let planned = {
            let s = &mut subsystems[i];
            let _span = tracing::info_span!("plan", subsystem = s.name()).entered();
            s.plan(desired)
        };
        if let Err(message) = planned {
            let subsystem = subsystems[i].name();
            for s in subsystems.iter_mut() {
                s.discard();
            }
            return Err(Refusal::Plan { subsystem, message });
        }
    }
    let mut outcomes = Vec::with_capacity(subsystems.len());
    for i in 0..subsystems.len() {
        let s = &mut subsystems[i];
        let name = s.name();
        let essential = s.essential();
        let span = tracing::info_span!("apply", subsystem = name);
        let result = tracing::Instrument::instrument(s.apply(desired), span).await;
        match result {
            Err(message) if essential => {
                for s in &mut subsystems[i..] {
                    s.discard();
                }
                return Err(Refusal::Apply {
                    subsystem: name,
                    message,
                });
            }
            result => outcomes.push(Outcome {
                subsystem: name,
                result,
            }),
        }
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A subsystem that records what it was asked and answers as told.
    struct Probe {
        name: &'static str,
        essential: bool,
        plan: Result<(), String>,
        apply: Result<Report, String>,
        log: Arc<Mutex<Vec<String>>>,
    }

    impl Subsystem for Probe {
        fn name(&self) -> &'static str {
            self.name
        }
        fn essential(&self) -> bool {
            self.essential
        }
        fn plan(&mut self, _: &Desired<'_>) -> Result<(), String> {
            self.log.lock().unwrap().push(format!("plan {}", self.name));
            self.plan.clone()
        }
        fn apply<'a>(&'a mut self, _: &'a Desired<'a>) -> Step<'a> {
            self.log
                .lock()
                .unwrap()
                .push(format!("apply {}", self.name));
            let r = self.apply.clone();
            Box::pin(async move { r })
        }
        fn discard(&mut self) {
            self.log
                .lock()
                .unwrap()
                .push(format!("discard {}", self.name));
        }
    }

    fn probe(
        name: &'static str,
        essential: bool,
        plan: Result<(), String>,
        apply: Result<Report, String>,
        log: &Arc<Mutex<Vec<String>>>,
    ) -> Box<dyn Subsystem> {
        Box::new(Probe {
            name,
            essential,
            plan,
            apply,
            log: log.clone(),
        })
    }

    fn config() -> Config {
        edgeward_config::parse(
            edgeward_config::AGENCY_DEFAULT_PROFILE,
            "example",
            edgeward_config::today(),
        )
        .expect("the example config is valid")
    }

    fn run_now(subs: &mut [Box<dyn Subsystem>], config: &Config) -> Result<Vec<Outcome>, Refusal> {
        let health = HashMap::new();
        let desired = Desired {
            config,
            health: &health,
            repair: false,
        };
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(run(subs, &desired))
    }

    #[test]
    fn all_plan_before_any_applies_and_order_is_kept() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut subs = vec![
            probe("firewall", true, Ok(()), Ok(Report::done("x")), &log),
            probe("network", false, Ok(()), Ok(Report::quiet()), &log),
        ];
        let out = run_now(&mut subs, &config()).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(
            *log.lock().unwrap(),
            [
                "plan firewall",
                "plan network",
                "apply firewall",
                "apply network"
            ]
        );
    }

    #[test]
    fn a_planning_error_touches_nothing() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut subs = vec![
            probe("firewall", true, Ok(()), Ok(Report::quiet()), &log),
            probe(
                "network",
                false,
                Err("bad".into()),
                Ok(Report::quiet()),
                &log,
            ),
        ];
        let err = run_now(&mut subs, &config()).unwrap_err();
        assert_eq!(err.stage(), "render");
        assert_eq!(err.message(), "bad");
        let log = log.lock().unwrap();
        assert!(log.iter().all(|l| !l.starts_with("apply")), "{log:?}");
        assert!(log.contains(&"discard firewall".to_string()));
    }

    #[test]
    fn an_essential_failure_refuses_and_stops_the_rest() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut subs = vec![
            probe("firewall", true, Ok(()), Err("nft said no".into()), &log),
            probe("network", false, Ok(()), Ok(Report::quiet()), &log),
        ];
        let err = run_now(&mut subs, &config()).unwrap_err();
        assert_eq!(err.stage(), "firewall");
        assert!(!log.lock().unwrap().contains(&"apply network".to_string()));
    }

    #[test]
    fn other_failures_are_reported_and_the_change_stands() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut subs = vec![
            probe("network", false, Ok(()), Err("no route".into()), &log),
            probe(
                "admin-ui",
                false,
                Ok(()),
                Ok(Report::quiet().note(Level::Warning, "cannot listen")),
                &log,
            ),
        ];
        let out = run_now(&mut subs, &config()).unwrap();
        assert_eq!(out[0].result, Err("no route".into()));
        assert!(out[1].result.as_ref().unwrap().troubled());
    }
}
