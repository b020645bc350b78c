//! Pure health judgement of one uplink from its probe results: k-of-n targets over a sliding
//! window of loss and latency (95th percentile, not a mean), separate thresholds for going down
//! and coming back up, a hold time before failback, and carrier loss counted at once.
//!
//! Time is passed in, so the state machine is tested without sleeping.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use edgeward_config::HealthPolicy;

/// One probe's outcome: `Some(rtt)` answered, `None` lost.
pub type Outcome = Option<Duration>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Up,
    Down,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Up => "up",
            LinkState::Down => "down",
        }
    }
}

/// Loss and latency of one target over its window.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetStats {
    pub samples: usize,
    pub loss_percent: f64,
    pub p95_ms: Option<f64>,
    /// Consecutive lost probes at the end of the window.
    pub trailing_losses: usize,
}

/// Per-target sliding window of outcomes.
#[derive(Debug, Clone, Default)]
struct Window {
    results: VecDeque<Outcome>,
}

impl Window {
    fn push(&mut self, o: Outcome, cap: usize) {
        if self.results.len() == cap {
            self.results.pop_front();
        }
        self.results.push_back(o);
    }

    fn stats(&self) -> TargetStats {
        let n = self.results.len();
        let lost = self.results.iter().filter(|r| r.is_none()).count();
        let mut rtts: Vec<f64> = self
            .results
            .iter()
            .flatten()
            .map(|d| d.as_secs_f64() * 1e3)
            .collect();
        rtts.sort_by(f64::total_cmp);
        let p95_ms = (!rtts.is_empty()).then(|| {
            rtts[((rtts.len() as f64 * 0.95).ceil() as usize)
                .saturating_sub(1)
                .min(rtts.len() - 1)]
        });
        TargetStats {
            samples: n,
            loss_percent: if n == 0 {
                0.0
            } else {
                100.0 * lost as f64 / n as f64
            },
            p95_ms,
            trailing_losses: self
                .results
                .iter()
                .rev()
                .take_while(|r| r.is_none())
                .count(),
        }
    }
}

/// A state change and the evidence for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub from: LinkState,
    pub to: LinkState,
    /// Why, in English (events, logs, the CLI).
    pub reason: String,
    /// The same in both UI languages.
    pub reason_text: edgeward_config::Text,
    /// Average loss over the targets, and worst 95th-percentile latency.
    pub loss_percent: f64,
    pub latency_p95_ms: Option<f64>,
}

/// The judge of one uplink.
#[derive(Debug, Clone)]
pub struct LinkJudge {
    policy: HealthPolicy,
    targets: Vec<(String, Window)>,
    state: LinkState,
    carrier: bool,
    /// Since when the link has looked good while down (failback waits for the hold time).
    good_since: Option<Instant>,
}

impl LinkJudge {
    /// A judge for `targets` (names for messages); links start up, so a new gateway routes at once.
    pub fn new(policy: HealthPolicy, targets: Vec<String>) -> Self {
        LinkJudge {
            policy,
            targets: targets
                .into_iter()
                .map(|t| (t, Window::default()))
                .collect(),
            state: LinkState::Up,
            carrier: true,
            good_since: None,
        }
    }

    pub fn state(&self) -> LinkState {
        self.state
    }

    pub fn record(&mut self, target: usize, outcome: Outcome) {
        let cap = self.policy.window.max(1) as usize;
        if let Some((_, w)) = self.targets.get_mut(target) {
            w.push(outcome, cap);
        }
    }

    /// Carrier (link) state from netlink: loss of carrier takes the link down immediately.
    pub fn set_carrier(&mut self, up: bool) {
        self.carrier = up;
    }

    pub fn stats(&self) -> Vec<(String, TargetStats)> {
        self.targets
            .iter()
            .map(|(n, w)| (n.clone(), w.stats()))
            .collect()
    }

    fn failing_for_down(&self, s: &TargetStats) -> bool {
        let p = &self.policy;
        if s.trailing_losses >= p.fast_down_losses as usize {
            return true;
        }
        // Loss and latency are judged only on a reasonably full window.
        if s.samples < (p.window as usize / 2).max(p.fast_down_losses as usize) {
            return false;
        }
        s.loss_percent >= f64::from(p.down_loss_percent)
            || s.p95_ms
                .is_some_and(|l| l >= f64::from(p.down_latency_p95_ms))
    }

    fn good_for_up(&self, s: &TargetStats) -> bool {
        let p = &self.policy;
        s.trailing_losses == 0
            && s.samples >= p.fast_down_losses as usize
            && s.loss_percent <= f64::from(p.up_loss_percent)
            && s.p95_ms
                .is_some_and(|l| l < f64::from(p.down_latency_p95_ms))
    }

    fn summary(&self) -> (f64, Option<f64>, edgeward_config::Text) {
        let stats = self.stats();
        let loss = if stats.is_empty() {
            0.0
        } else {
            stats.iter().map(|(_, s)| s.loss_percent).sum::<f64>() / stats.len() as f64
        };
        let p95 = stats
            .iter()
            .filter_map(|(_, s)| s.p95_ms)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
        let said: Vec<edgeward_config::Text> = stats
            .iter()
            .map(|(n, s)| match s.p95_ms {
                Some(l) => edgeward_config::say!(
                    "{n} {:.0}% loss p95 {:.0} ms",
                    "{n}: mất {:.0}% gói, p95 {:.0} ms",
                    s.loss_percent,
                    l
                ),
                None => {
                    edgeward_config::say!("{n} {:.0}% loss", "{n}: mất {:.0}% gói", s.loss_percent)
                }
            })
            .collect();
        let join = |pick: fn(&edgeward_config::Text) -> &String| {
            said.iter()
                .map(pick)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        };
        let detail = edgeward_config::Text::new(join(|t| &t.en), join(|t| &t.vi));
        (loss, p95, detail)
    }

    /// Judge the link now; returns the transition if its state changed.
    pub fn evaluate(&mut self, now: Instant) -> Option<Transition> {
        let min = self.policy.min_healthy_targets.max(1) as usize;
        let stats = self.stats();
        match self.state {
            LinkState::Up => {
                let healthy = stats
                    .iter()
                    .filter(|(_, s)| !self.failing_for_down(s))
                    .count();
                let why = if !self.carrier {
                    Some(edgeward_config::say!(
                        "carrier lost (link down)",
                        "mất tín hiệu vật lý trên cổng mạng"
                    ))
                } else if healthy < min {
                    Some(edgeward_config::say!(
                        "{} of {} targets failing, at least {min} must answer",
                        "{} trên {} mục tiêu không đạt, cần ít nhất {min} mục tiêu trả lời",
                        stats.len() - healthy,
                        stats.len()
                    ))
                } else {
                    None
                };
                let why = why?;
                let (loss, p95, detail) = self.summary();
                self.state = LinkState::Down;
                self.good_since = None;
                Some(Transition {
                    from: LinkState::Up,
                    to: LinkState::Down,
                    reason: format!("{}: {}", why.en, detail.en),
                    reason_text: edgeward_config::Text::new(
                        format!("{}: {}", why.en, detail.en),
                        format!("{}: {}", why.vi, detail.vi),
                    ),
                    loss_percent: loss,
                    latency_p95_ms: p95,
                })
            }
            LinkState::Down => {
                let good = stats.iter().filter(|(_, s)| self.good_for_up(s)).count();
                if !self.carrier || good < min {
                    self.good_since = None;
                    return None;
                }
                let since = *self.good_since.get_or_insert(now);
                let hold = Duration::from_secs(self.policy.hold_up_seconds.into());
                if now.duration_since(since) < hold {
                    return None;
                }
                let (loss, p95, detail) = self.summary();
                self.state = LinkState::Up;
                self.good_since = None;
                Some(Transition {
                    from: LinkState::Down,
                    to: LinkState::Up,
                    reason: format!(
                        "{good} of {} targets healthy for {} s: {}",
                        stats.len(),
                        self.policy.hold_up_seconds,
                        detail.en
                    ),
                    reason_text: edgeward_config::Text::new(
                        format!(
                            "{good} of {} targets healthy for {} s: {}",
                            stats.len(),
                            self.policy.hold_up_seconds,
                            detail.en
                        ),
                        format!(
                            "{good} trên {} mục tiêu ổn định trong {} giây: {}",
                            stats.len(),
                            self.policy.hold_up_seconds,
                            detail.vi
                        ),
                    ),
                    loss_percent: loss,
                    latency_p95_ms: p95,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> HealthPolicy {
        HealthPolicy {
            hold_up_seconds: 10,
            ..HealthPolicy::default()
        }
    }

    fn judge(targets: usize) -> LinkJudge {
        LinkJudge::new(policy(), (0..targets).map(|i| format!("t{i}")).collect())
    }

    const OK: Outcome = Some(Duration::from_millis(20));

    /// Feed one round (a result per target) and evaluate.
    fn round(j: &mut LinkJudge, results: &[Outcome], now: Instant) -> Option<Transition> {
        for (i, r) in results.iter().enumerate() {
            j.record(i, *r);
        }
        j.evaluate(now)
    }

    #[test]
    fn a_dead_path_goes_down_after_fast_down_losses() {
        let mut j = judge(4);
        let t0 = Instant::now();
        for k in 0..20 {
            assert!(round(&mut j, &[OK; 4], t0 + Duration::from_millis(250 * k)).is_none());
        }
        for k in 0..3 {
            assert!(
                round(&mut j, &[None; 4], t0).is_none(),
                "round {k} too early"
            );
        }
        let t = round(&mut j, &[None; 4], t0).expect("down after 4 lost rounds");
        assert_eq!((t.from, t.to), (LinkState::Up, LinkState::Down));
        assert!(t.reason.contains("4 of 4 targets failing"), "{}", t.reason);
        assert!(t.loss_percent > 0.0);
    }

    #[test]
    fn one_dead_target_of_four_does_not_take_the_link_down() {
        let mut j = judge(4);
        let t0 = Instant::now();
        for _ in 0..60 {
            assert!(round(&mut j, &[OK, OK, OK, None], t0).is_none());
        }
        assert_eq!(j.state(), LinkState::Up);
    }

    #[test]
    fn five_percent_random_loss_never_flaps() {
        // Deterministic pseudo-random 5% loss over 10 minutes of 250 ms rounds.
        let mut j = judge(4);
        let mut x: u64 = 0x9e3779b97f4a7c15;
        let t0 = Instant::now();
        for k in 0..2400u64 {
            let mut r = [OK; 4];
            for slot in &mut r {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if x % 100 < 5 {
                    *slot = None;
                }
            }
            assert!(
                round(&mut j, &r, t0 + Duration::from_millis(250 * k)).is_none(),
                "flapped at round {k}"
            );
        }
    }

    #[test]
    fn high_latency_percentile_takes_the_link_down() {
        let mut j = judge(1);
        let t0 = Instant::now();
        let slow = Some(Duration::from_secs(2));
        let mut last = None;
        for _ in 0..20 {
            last = round(&mut j, &[slow], t0).or(last);
        }
        let t = last.expect("down on latency");
        assert!(t.latency_p95_ms.unwrap() >= 1500.0);
    }

    #[test]
    fn failback_waits_for_the_hold_time_and_resets_on_a_blip() {
        let mut j = judge(2);
        let t0 = Instant::now();
        for _ in 0..4 {
            round(&mut j, &[None, None], t0);
        }
        assert_eq!(j.state(), LinkState::Down);
        let at = |s: u64| t0 + Duration::from_secs(s);
        for s in 0..6 {
            assert!(round(&mut j, &[OK, OK], at(s)).is_none());
        }
        // A blip restarts the hold time.
        assert!(round(&mut j, &[None, None], at(6)).is_none());
        for s in 7..16 {
            assert!(
                round(&mut j, &[OK, OK], at(s)).is_none(),
                "up too early at {s}"
            );
        }
        // Loss in the window must drop to the up threshold (10%) first: 1 of the last 20 lost is 5%.
        let t = (16..40)
            .find_map(|s| round(&mut j, &[OK, OK], at(s)))
            .expect("back up");
        assert_eq!(t.to, LinkState::Up);
        assert!(t.reason.contains("healthy for 10 s"));
    }

    #[test]
    fn carrier_loss_is_immediate() {
        let mut j = judge(4);
        j.set_carrier(false);
        let t = j.evaluate(Instant::now()).unwrap();
        assert!(t.reason.starts_with("carrier lost"));
        j.set_carrier(true);
        assert!(
            j.evaluate(Instant::now()).is_none(),
            "needs probes and hold time to come back"
        );
    }
}
