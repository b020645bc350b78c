//! Enforcement policy: which rules drop, which only alert, which are off — set by the security
//! admin in `[ids]` (or carried by a SOC bundle) on top of the ruleset's own actions. Applied to
//! the loaded rules before they are compiled, so it costs nothing per packet.

use std::collections::HashSet;

use crate::loader::LoadedRules;
use crate::rule::Action;

/// The policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enforcement {
    /// Alert rules turned into drop rules, by sid.
    pub drop_sids: Vec<u32>,
    /// … by classtype (`trojan-activity`, …).
    pub drop_classtypes: Vec<String>,
    /// … by severity: every rule of this severity or higher (1 = high) drops.
    pub drop_severity: Option<u8>,
    /// Drop (or reject) rules demoted to alerts, by sid.
    pub alert_only_sids: Vec<u32>,
    /// Rules not loaded at all, by sid.
    pub disabled_sids: Vec<u32>,
    /// Every rule only alerts (a SOC bundle in its canary period, or SOC enforcement off):
    /// nothing drops, whatever the rule or the lists above say.
    pub alert_only_all: bool,
    /// The ruleset's own drop and reject rules only alert (a SOC bundle meant for IDS mode, or
    /// with SOC enforcement off); the escalations above still apply.
    pub demote_own_drops: bool,
}

/// What the policy changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Enforced {
    pub to_drop: usize,
    pub to_alert: usize,
    pub disabled: usize,
}

impl Enforcement {
    /// Apply the policy to loaded rules (demotion and disabling win over escalation).
    pub fn apply(&self, loaded: &mut LoadedRules) -> Enforced {
        let mut out = Enforced::default();
        if *self == Enforcement::default() {
            return out;
        }
        let disabled: HashSet<u32> = self.disabled_sids.iter().copied().collect();
        let demoted: HashSet<u32> = self.alert_only_sids.iter().copied().collect();
        let escalated: HashSet<u32> = self.drop_sids.iter().copied().collect();
        let before = loaded.rules.len();
        loaded.rules.retain(|r| !disabled.contains(&r.sid));
        out.disabled = before - loaded.rules.len();
        let classes = &loaded.classes;
        for r in &mut loaded.rules {
            if self.demote_own_drops && matches!(r.action, Action::Drop | Action::Reject) {
                r.action = Action::Alert;
                out.to_alert += 1;
            }
            if self.alert_only_all {
                if matches!(r.action, Action::Drop | Action::Reject) {
                    r.action = Action::Alert;
                    out.to_alert += 1;
                }
                continue;
            }
            if demoted.contains(&r.sid) {
                if matches!(r.action, Action::Drop | Action::Reject) {
                    r.action = Action::Alert;
                    out.to_alert += 1;
                }
                continue;
            }
            if r.action != Action::Alert {
                continue;
            }
            let class = r.classtype.as_deref();
            let severity = r
                .priority
                .or_else(|| class.and_then(|c| classes.get(c)).map(|c| c.priority))
                .unwrap_or(3);
            let drop = escalated.contains(&r.sid)
                || class.is_some_and(|c| self.drop_classtypes.iter().any(|d| d == c))
                || self.drop_severity.is_some_and(|s| severity <= s);
            if drop {
                r.action = Action::Drop;
                out.to_drop += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vars::Vars;

    fn loaded() -> LoadedRules {
        let mut l = LoadedRules::default();
        l.add_text(
            "t.rules",
            "alert tcp any any -> any any (msg:\"a\"; content:\"a\"; classtype:trojan-activity; sid:1;)\n\
             alert tcp any any -> any any (msg:\"b\"; content:\"b\"; priority:3; sid:2;)\n\
             drop tcp any any -> any any (msg:\"c\"; content:\"c\"; sid:3;)\n\
             alert tcp any any -> any any (msg:\"d\"; content:\"d\"; priority:1; sid:4;)\n",
            &Vars::default(),
            &mut Default::default(),
        );
        l
    }

    fn action(l: &LoadedRules, sid: u32) -> Option<Action> {
        l.rules.iter().find(|r| r.sid == sid).map(|r| r.action)
    }

    #[test]
    fn a_bundles_own_drops_can_be_demoted_while_local_escalations_still_drop() {
        let mut l = loaded();
        Enforcement {
            drop_sids: vec![2],
            demote_own_drops: true,
            ..Enforcement::default()
        }
        .apply(&mut l);
        assert_eq!(
            action(&l, 3),
            Some(Action::Alert),
            "the ruleset's drop rule"
        );
        assert_eq!(action(&l, 2), Some(Action::Drop), "the admin's escalation");
    }

    #[test]
    fn alert_only_for_everything_wins_over_every_escalation() {
        let mut l = loaded();
        let done = Enforcement {
            drop_sids: vec![1, 2],
            drop_severity: Some(4),
            alert_only_all: true,
            ..Enforcement::default()
        }
        .apply(&mut l);
        assert!(l.rules.iter().all(|r| r.action == Action::Alert));
        assert_eq!(done.to_alert, 1, "the one drop rule demoted");
    }

    #[test]
    fn escalation_by_sid_classtype_and_severity_demotion_and_disabling() {
        let mut l = loaded();
        let done = Enforcement {
            drop_sids: vec![2],
            drop_classtypes: vec!["trojan-activity".into()],
            drop_severity: Some(1),
            alert_only_sids: vec![3],
            disabled_sids: vec![],
            alert_only_all: false,
            demote_own_drops: false,
        }
        .apply(&mut l);
        assert_eq!(action(&l, 1), Some(Action::Drop), "by classtype");
        assert_eq!(action(&l, 2), Some(Action::Drop), "by sid");
        assert_eq!(action(&l, 3), Some(Action::Alert), "demoted");
        assert_eq!(action(&l, 4), Some(Action::Drop), "by severity");
        assert_eq!(
            done,
            Enforced {
                to_drop: 3,
                to_alert: 1,
                disabled: 0
            }
        );
        let mut l = loaded();
        let done = Enforcement {
            disabled_sids: vec![1, 99],
            ..Enforcement::default()
        }
        .apply(&mut l);
        assert_eq!(action(&l, 1), None);
        assert_eq!(done.disabled, 1);
        // Demotion wins over escalation of the same sid.
        let mut l = loaded();
        Enforcement {
            drop_sids: vec![3],
            alert_only_sids: vec![3],
            ..Enforcement::default()
        }
        .apply(&mut l);
        assert_eq!(action(&l, 3), Some(Action::Alert));
    }
}
