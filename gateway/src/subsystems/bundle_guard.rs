//! The watch over a newly applied SOC bundle: from the IDS counters (handed in with the time,
//! every few seconds) it keeps the rates of the minutes before the switch as a baseline, and for
//! a watch period after it compares the last minute against that baseline. Alerts per minute or
//! dropped packets per minute past their limit, or inspected packets per second falling below
//! half of the baseline, mean the bundle is doing harm: the caller reverts it and tells the SOC
//! the reason this returns. Pure: no clock, no I/O.

use std::collections::VecDeque;
use std::time::Duration;

/// One reading of the cumulative counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    pub packets: u64,
    pub alerts: u64,
    pub dropped: u64,
}

/// Limits of the watch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuardLimits {
    /// How long after a switch the bundle is watched.
    pub watch: Duration,
    /// The window rates are measured over.
    pub window: Duration,
    /// A rate past `factor` × its baseline …
    pub factor: f64,
    /// … and past this floor (alerts per minute) is a jump.
    pub alerts_per_minute: f64,
    /// … and past this floor (dropped packets per minute) is a jump.
    pub drops_per_minute: f64,
    /// Inspected packets per second below this share of the baseline is a fall in throughput
    /// (judged only when the baseline is at least `min_pps`).
    pub throughput_share: f64,
    pub min_pps: f64,
}

impl Default for GuardLimits {
    fn default() -> Self {
        GuardLimits {
            watch: Duration::from_secs(15 * 60),
            window: Duration::from_secs(60),
            factor: 10.0,
            alerts_per_minute: 300.0,
            drops_per_minute: 300.0,
            throughput_share: 0.5,
            min_pps: 100.0,
        }
    }
}

/// Rates over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Rates {
    pps: f64,
    alerts_per_minute: f64,
    drops_per_minute: f64,
}

/// The guard.
#[derive(Debug)]
pub struct BundleGuard {
    limits: GuardLimits,
    /// (time since an arbitrary origin, sample), oldest first; at most a little over the window.
    history: VecDeque<(Duration, Sample)>,
    /// The switch being watched: when, and the baseline then.
    watching: Option<(Duration, Option<Rates>)>,
}

impl BundleGuard {
    pub fn new(limits: GuardLimits) -> BundleGuard {
        BundleGuard {
            limits,
            history: VecDeque::new(),
            watching: None,
        }
    }

    /// Rates between the oldest sample of the window ending at `now` and the newest one.
    fn rates(&self) -> Option<Rates> {
        let (t1, s1) = *self.history.back()?;
        let (t0, s0) = *self
            .history
            .iter()
            .find(|(t, _)| t1.saturating_sub(*t) <= self.limits.window)?;
        let secs = t1.saturating_sub(t0).as_secs_f64();
        // At least most of a window, or the rates mean little.
        if secs < self.limits.window.as_secs_f64() * 0.75 {
            return None;
        }
        let per_s = |a: u64, b: u64| b.saturating_sub(a) as f64 / secs;
        Some(Rates {
            pps: per_s(s0.packets, s1.packets),
            alerts_per_minute: per_s(s0.alerts, s1.alerts) * 60.0,
            drops_per_minute: per_s(s0.dropped, s1.dropped) * 60.0,
        })
    }

    /// A new bundle is in force from `now`: the rates until now are its baseline (none yet if
    /// the IDS just started).
    pub fn switched(&mut self, now: Duration) {
        let baseline = self.rates();
        self.watching = Some((now, baseline));
        // The new bundle's rates start here.
        self.history.retain(|(t, _)| *t == now);
    }

    /// A reading at `now`; `Some(reason)` when the bundle being watched must be reverted.
    pub fn observe(&mut self, now: Duration, sample: Sample) -> Option<String> {
        self.history.push_back((now, sample));
        let keep = self.limits.window + self.limits.window / 2;
        while self
            .history
            .front()
            .is_some_and(|(t, _)| now.saturating_sub(*t) > keep)
        {
            self.history.pop_front();
        }
        let (since, baseline) = self.watching?;
        if now.saturating_sub(since) > self.limits.watch {
            self.watching = None;
            return None;
        }
        let r = self.rates()?;
        let l = &self.limits;
        let base = baseline.unwrap_or_default();
        let limit = |base: f64, floor: f64| (base * l.factor).max(floor);
        let why = if r.alerts_per_minute > limit(base.alerts_per_minute, l.alerts_per_minute) {
            Some(format!(
                "alerts jumped to {:.0} per minute (before: {:.0}; limit {:.0})",
                r.alerts_per_minute,
                base.alerts_per_minute,
                limit(base.alerts_per_minute, l.alerts_per_minute)
            ))
        } else if r.drops_per_minute > limit(base.drops_per_minute, l.drops_per_minute) {
            Some(format!(
                "dropped packets jumped to {:.0} per minute (before: {:.0}; limit {:.0})",
                r.drops_per_minute,
                base.drops_per_minute,
                limit(base.drops_per_minute, l.drops_per_minute)
            ))
        } else if base.pps >= l.min_pps && r.pps < base.pps * l.throughput_share {
            Some(format!(
                "inspected traffic fell to {:.0} packets/s (before: {:.0})",
                r.pps, base.pps
            ))
        } else {
            None
        };
        if why.is_some() {
            self.watching = None;
        }
        why
    }

    /// Whether a switch is being watched.
    pub fn watching(&self) -> bool {
        self.watching.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    /// Feed `seconds` of steady rates (per second) every 2 s from `from`; the last reason.
    fn feed(
        g: &mut BundleGuard,
        from: u64,
        seconds: u64,
        at: &mut Sample,
        per_s: (u64, u64, u64),
    ) -> Option<String> {
        let mut why = None;
        let mut t = from;
        while t < from + seconds {
            t += 2;
            at.packets += per_s.0 * 2;
            at.alerts += per_s.1 * 2;
            at.dropped += per_s.2 * 2;
            if let Some(w) = g.observe(s(t), *at) {
                why = Some(w);
            }
        }
        why
    }

    #[test]
    fn a_bundle_that_alerts_on_everything_is_reverted_and_the_reason_says_why() {
        let mut g = BundleGuard::new(GuardLimits::default());
        let mut c = Sample::default();
        assert_eq!(
            feed(&mut g, 0, 300, &mut c, (2000, 0, 0)),
            None,
            "no switch, no verdict"
        );
        g.switched(s(300));
        let why = feed(&mut g, 300, 120, &mut c, (2000, 50, 0)).expect("reverted");
        assert!(why.contains("alerts jumped to 3000 per minute"), "{why}");
        assert!(!g.watching(), "one verdict per switch");
    }

    #[test]
    fn a_bundle_that_drops_everything_or_slows_inspection_is_reverted() {
        let mut g = BundleGuard::new(GuardLimits::default());
        let mut c = Sample::default();
        feed(&mut g, 0, 300, &mut c, (2000, 1, 0));
        g.switched(s(300));
        let why = feed(&mut g, 300, 120, &mut c, (2000, 1, 20)).expect("reverted");
        assert!(why.contains("dropped packets jumped"), "{why}");
        let mut g = BundleGuard::new(GuardLimits::default());
        let mut c = Sample::default();
        feed(&mut g, 0, 300, &mut c, (2000, 1, 0));
        g.switched(s(300));
        let why = feed(&mut g, 300, 120, &mut c, (500, 1, 0)).expect("reverted");
        assert!(
            why.contains("fell to 500 packets/s (before: 2000)"),
            "{why}"
        );
    }

    #[test]
    fn a_normal_bundle_passes_its_watch_and_busy_networks_get_a_higher_limit() {
        let mut g = BundleGuard::new(GuardLimits::default());
        let mut c = Sample::default();
        // Before: 100 alerts a minute is this network's normal.
        feed(&mut g, 0, 300, &mut c, (3000, 2, 0));
        g.switched(s(300));
        // After: 300 a minute is past the floor but within 10× the baseline.
        assert_eq!(feed(&mut g, 300, 16 * 60, &mut c, (3000, 5, 0)), None);
        assert!(!g.watching(), "the watch ends");
        // Later jumps are not this bundle's doing.
        assert_eq!(
            feed(&mut g, 300 + 16 * 60, 120, &mut c, (3000, 500, 0)),
            None
        );
    }

    #[test]
    fn no_verdict_before_most_of_a_window_has_passed() {
        let mut g = BundleGuard::new(GuardLimits::default());
        g.switched(s(0));
        let mut c = Sample::default();
        assert_eq!(feed(&mut g, 0, 30, &mut c, (10, 1000, 0)), None);
        assert!(feed(&mut g, 30, 30, &mut c, (10, 1000, 0)).is_some());
    }
}
