//! The offset alarm as a state machine handed each tracking report and the time: an alarm when a
//! synchronised clock is further off than the limit, or when the clock has had no usable source
//! for a while; one event when it starts and one when it clears, not one per report.

use std::time::{Duration, Instant};

use crate::tracking::Tracking;

/// How long without a usable source before that is an alarm (chrony needs a few polls).
pub const UNSYNCED_GRACE: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The clock is `offset_ms` from the servers' time, over `limit_ms`.
    OffsetTooLarge {
        offset_ms: f64,
        limit_ms: u32,
        reference: String,
    },
    /// No usable time source since `for_secs`.
    NoSource { for_secs: u64 },
    /// Back within the limit from `reference`.
    Recovered { offset_ms: f64, reference: String },
}

#[derive(Debug, Clone)]
pub struct OffsetAlarm {
    limit_ms: u32,
    raised: bool,
    unsynced_since: Option<Instant>,
}

impl OffsetAlarm {
    pub fn new(limit_ms: u32, now: Instant) -> OffsetAlarm {
        OffsetAlarm {
            limit_ms,
            raised: false,
            unsynced_since: Some(now),
        }
    }

    /// Whether an alarm stands.
    pub fn raised(&self) -> bool {
        self.raised
    }

    /// Feed one report (`None`: chronyd did not answer) taken at `now`.
    pub fn observe(&mut self, report: Option<&Tracking>, now: Instant) -> Option<Change> {
        let Some(t) = report.filter(|t| t.synchronised()) else {
            let since = *self.unsynced_since.get_or_insert(now);
            let waited = now.saturating_duration_since(since);
            if !self.raised && waited >= UNSYNCED_GRACE {
                self.raised = true;
                return Some(Change::NoSource {
                    for_secs: waited.as_secs(),
                });
            }
            return None;
        };
        self.unsynced_since = None;
        let over = t.offset_ms.abs() > f64::from(self.limit_ms);
        match (over, self.raised) {
            (true, false) => {
                self.raised = true;
                Some(Change::OffsetTooLarge {
                    offset_ms: t.offset_ms,
                    limit_ms: self.limit_ms,
                    reference: t.reference.clone(),
                })
            }
            (false, true) => {
                self.raised = false;
                Some(Change::Recovered {
                    offset_ms: t.offset_ms,
                    reference: t.reference.clone(),
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(offset_ms: f64) -> Tracking {
        Tracking {
            reference: "10.0.0.1".into(),
            stratum: 2,
            offset_ms,
            leap: "Normal".into(),
        }
    }

    #[test]
    fn one_event_when_the_offset_goes_over_and_one_when_it_comes_back() {
        let t0 = Instant::now();
        let mut a = OffsetAlarm::new(1000, t0);
        assert_eq!(a.observe(Some(&report(20.0)), t0), None);
        assert!(matches!(
            a.observe(Some(&report(-1500.0)), t0),
            Some(Change::OffsetTooLarge { .. })
        ));
        assert_eq!(
            a.observe(Some(&report(5000.0)), t0),
            None,
            "no repeat while it stands"
        );
        assert!(matches!(
            a.observe(Some(&report(3.0)), t0),
            Some(Change::Recovered { .. })
        ));
        assert!(!a.raised());
    }

    #[test]
    fn no_source_is_an_alarm_only_after_the_grace_period() {
        let t0 = Instant::now();
        let mut a = OffsetAlarm::new(1000, t0);
        assert_eq!(a.observe(None, t0 + Duration::from_secs(60)), None);
        assert!(matches!(
            a.observe(None, t0 + UNSYNCED_GRACE),
            Some(Change::NoSource { .. })
        ));
        assert!(matches!(
            a.observe(Some(&report(1.0)), t0 + UNSYNCED_GRACE * 2),
            Some(Change::Recovered { .. })
        ));
    }
}
