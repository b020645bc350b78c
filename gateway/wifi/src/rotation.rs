//! Passphrase rotation notices (004 §7.2: changed at least every 6 months): what to tell the
//! SOC and the admin about each network as days pass — once when a passphrase becomes due
//! soon, and every day while it is overdue (with whether the network is blocked for it).
//! Pure: handed the day, it remembers what it already said.

use std::collections::HashMap;

use chrono::NaiveDate;
use edgeward_config::{RotationState, WifiNetwork};

/// One thing to say about one network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationNotice {
    pub ssid: String,
    pub state: RotationState,
    pub due: NaiveDate,
    /// Days until due (negative: overdue by that many).
    pub days_left: i64,
    /// The network is off the air until its passphrase changes.
    pub blocked: bool,
}

impl RotationNotice {
    /// The notice as one line for the event stream.
    pub fn message(&self) -> String {
        match self.state {
            RotationState::Overdue => format!(
                "Wi-Fi passphrase rotation overdue: `{}` was due on {} ({} day(s) ago, 004 §7.2); {}",
                self.ssid,
                self.due,
                -self.days_left,
                if self.blocked {
                    "the network is blocked until its passphrase changes"
                } else {
                    "the network is still served"
                }
            ),
            _ => format!(
                "Wi-Fi passphrase rotation due soon: `{}` must change by {} ({} day(s) left, 004 §7.2)",
                self.ssid, self.due, self.days_left
            ),
        }
    }
}

/// What was last said per SSID.
#[derive(Debug, Default)]
pub struct RotationWatch {
    said: HashMap<String, (RotationState, NaiveDate)>,
}

impl RotationWatch {
    /// The notices for `networks` on `today`: a network newly due soon, and each overdue
    /// network once a day. A network rotated (or removed) is forgotten.
    pub fn check(&mut self, networks: &[WifiNetwork], today: NaiveDate) -> Vec<RotationNotice> {
        let mut out = Vec::new();
        let mut seen = HashMap::new();
        for w in networks {
            let r = w.rotation(today);
            let (Some(due), Some(days_left)) = (r.due, r.days_left) else {
                continue;
            };
            let key = (
                r.state,
                if r.state == RotationState::Overdue {
                    today
                } else {
                    due
                },
            );
            let new = self.said.get(&w.ssid) != Some(&key);
            if new && matches!(r.state, RotationState::DueSoon | RotationState::Overdue) {
                out.push(RotationNotice {
                    ssid: w.ssid.clone(),
                    state: r.state,
                    due,
                    days_left,
                    blocked: w.withheld(today),
                });
            }
            seen.insert(w.ssid.clone(), key);
        }
        self.said = seen;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(changed: &str, block: bool) -> WifiNetwork {
        WifiNetwork {
            ssid: "Khach".into(),
            zone: "guest".into(),
            security: edgeward_config::WifiSecurity::Wpa2,
            radio: String::new(),
            isolate_clients: None,
            passphrase: "Khach-2026-hoa-sen".into(),
            passphrase_changed: changed.into(),
            rotate_days: 182,
            block_when_overdue: block,
        }
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// 004 §7.2: one notice when the due day nears, one per day once overdue, none after the
    /// passphrase changes.
    #[test]
    fn due_soon_once_then_overdue_every_day_then_quiet_after_rotation() {
        let mut watch = RotationWatch::default();
        let w = [net("2026-01-01", false)];
        // Due 2026-07-02 (182 days).
        assert!(watch.check(&w, day("2026-06-01")).is_empty());
        let n = watch.check(&w, day("2026-06-20"));
        assert_eq!(n.len(), 1);
        assert_eq!((n[0].state, n[0].days_left), (RotationState::DueSoon, 12));
        assert!(watch.check(&w, day("2026-06-21")).is_empty(), "said once");
        let n = watch.check(&w, day("2026-07-03"));
        assert_eq!((n[0].state, n[0].days_left), (RotationState::Overdue, -1));
        assert!(n[0].message().contains("still served"));
        assert!(watch.check(&w, day("2026-07-03")).is_empty(), "once a day");
        assert_eq!(watch.check(&w, day("2026-07-04")).len(), 1, "every day");
        let rotated = [net("2026-07-04", false)];
        assert!(watch.check(&rotated, day("2026-07-05")).is_empty());
    }

    #[test]
    fn a_blocked_network_says_so() {
        let mut watch = RotationWatch::default();
        let n = watch.check(&[net("2026-01-01", true)], day("2026-08-01"));
        assert!(n[0].blocked && n[0].message().contains("blocked"));
    }
}
