//! Which security events quarantine a host by themselves (001 §7.8, 004 §15.8, 000 §5.10.b):
//! `nac.quarantine_on` names the kinds — `c2` (the SOC's indicator rules and trojan-activity
//! alerts), `scan` (port scans, scanning from a server zone), `guessing` (password guessing on
//! login ports), `rogue-dhcp` (handled by the daemon from the DHCP listener's events), `mining`
//! (stratum) — and the host
//! is the alert's internal end. Scanners on the IDS allow-list (002 §7.2.c) never raise a scan
//! alert in the first place.

use std::net::IpAddr;

use edgeward_event::eve::EveAlert;
use ipnetwork::IpNetwork;

/// The kind of an alert for the policy, if it is one the policy knows.
pub fn kind(alert: &EveAlert) -> Option<&'static str> {
    let sid = alert.alert.signature_id;
    match sid {
        9_100_000..=9_199_999 => Some("c2"),
        9_000_001 | 9_000_002 | 9_000_007 => Some("scan"),
        9_000_008 => Some("guessing"),
        9_000_101..=9_000_199 => Some("mining"),
        _ if alert.alert.category == "A Network Trojan was detected"
            && alert.alert.severity == 1 =>
        {
            Some("c2")
        }
        _ => None,
    }
}

/// The internal host to quarantine for `alert` under `quarantine_on`, and why; `internal` are
/// the internal zones' prefixes.
pub fn host_to_quarantine(
    alert: &EveAlert,
    quarantine_on: &[String],
    internal: &[IpNetwork],
) -> Option<(IpAddr, String)> {
    let kind = kind(alert)?;
    if !quarantine_on.iter().any(|k| k == kind) {
        return None;
    }
    let inside = |ip: IpAddr| internal.iter().any(|n| n.contains(ip));
    let host = [alert.src_ip, alert.dest_ip]
        .into_iter()
        .find(|ip| inside(*ip))?;
    Some((host, reason(alert, kind)))
}

/// A connection as conntrack's reply direction shows it: what the far end sends to the
/// gateway's own (NAT) address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyTuple {
    /// `tcp`, `udp`, …
    pub proto: String,
    /// The far end.
    pub src: IpAddr,
    /// The far end's port.
    pub sport: u16,
    /// The gateway's address the connection was translated to.
    pub dst: IpAddr,
    /// The translated port.
    pub dport: u16,
}

/// For an alert seen on an uplink after source NAT (one end is one of the gateway's own
/// uplink addresses `nat`), the reply tuple whose conntrack entry names the internal host
/// behind it.
pub fn behind_nat(alert: &EveAlert, nat: &[IpAddr]) -> Option<ReplyTuple> {
    let (sport, dport) = (alert.src_port?, alert.dest_port?);
    let proto = alert.proto.to_ascii_lowercase();
    if nat.contains(&alert.dest_ip) {
        Some(ReplyTuple {
            proto,
            src: alert.src_ip,
            sport,
            dst: alert.dest_ip,
            dport,
        })
    } else if nat.contains(&alert.src_ip) {
        Some(ReplyTuple {
            proto,
            src: alert.dest_ip,
            sport: dport,
            dst: alert.src_ip,
            dport: sport,
        })
    } else {
        None
    }
}

/// Why an alert of `kind` quarantines a host.
pub fn reason(alert: &EveAlert, kind: &str) -> String {
    format!(
        "quarantined automatically ({kind}): {} (sid {}) {} → {}",
        alert.alert.signature, alert.alert.signature_id, alert.src_ip, alert.dest_ip
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeward_event::eve::AlertInfo;

    fn alert(sid: u32, category: &str, severity: u8, src: &str, dst: &str) -> EveAlert {
        EveAlert {
            flow_id: 1,
            in_iface: None,
            src_ip: src.parse().unwrap(),
            src_port: None,
            dest_ip: dst.parse().unwrap(),
            dest_port: None,
            proto: "TCP".into(),
            app_proto: None,
            alert: AlertInfo {
                action: "allowed".into(),
                gid: 1,
                signature_id: sid,
                rev: 1,
                signature: "x".into(),
                category: category.into(),
                severity,
            },
            evidence: None,
        }
    }

    /// An alert on an uplink names the gateway's NAT address, not the PC: the reply tuple
    /// (from either direction of the flow) finds the PC in conntrack.
    #[test]
    fn an_alert_seen_after_nat_gives_the_reply_tuple() {
        let nat: Vec<IpAddr> = vec!["203.0.113.2".parse().unwrap()];
        let mut out = alert(
            9_100_000,
            "A Network Trojan was detected",
            1,
            "203.0.113.2",
            "192.0.2.81",
        );
        out.src_port = Some(40_328);
        out.dest_port = Some(443);
        let mut back = alert(
            9_100_001,
            "A Network Trojan was detected",
            1,
            "192.0.2.81",
            "203.0.113.2",
        );
        back.src_port = Some(443);
        back.dest_port = Some(40_328);
        let want = ReplyTuple {
            proto: "tcp".into(),
            src: "192.0.2.81".parse().unwrap(),
            sport: 443,
            dst: "203.0.113.2".parse().unwrap(),
            dport: 40_328,
        };
        assert_eq!(behind_nat(&out, &nat), Some(want.clone()));
        assert_eq!(behind_nat(&back, &nat), Some(want));
        let inside = alert(9_100_000, "x", 1, "10.10.0.11", "192.0.2.81");
        assert_eq!(behind_nat(&inside, &nat), None);
    }

    #[test]
    fn the_policy_names_the_internal_host_for_the_kinds_it_lists() {
        let inside = vec!["10.10.0.0/16".parse().unwrap()];
        let on = vec!["c2".to_string(), "scan".to_string()];
        let c2_inbound = alert(
            9_100_001,
            "A Network Trojan was detected",
            1,
            "203.0.113.66",
            "10.10.0.11",
        );
        assert_eq!(
            host_to_quarantine(&c2_inbound, &on, &inside).unwrap().0,
            "10.10.0.11".parse::<IpAddr>().unwrap()
        );
        let scan = alert(
            9_000_001,
            "Attempted Information Leak",
            2,
            "10.10.0.12",
            "10.10.10.10",
        );
        assert_eq!(
            host_to_quarantine(&scan, &on, &inside).unwrap().0,
            "10.10.0.12".parse::<IpAddr>().unwrap()
        );
        let mining = alert(
            9_000_101,
            "Crypto Currency Mining Activity Detected",
            2,
            "10.10.0.12",
            "198.51.100.9",
        );
        assert_eq!(
            host_to_quarantine(&mining, &on, &inside),
            None,
            "mining is not listed"
        );
        let policy = alert(
            2_013_028,
            "Potential Corporate Privacy Violation",
            1,
            "10.10.0.12",
            "192.0.2.80",
        );
        assert_eq!(
            host_to_quarantine(&policy, &on, &inside),
            None,
            "an ordinary alert"
        );
        let from_outside = alert(
            9_000_001,
            "Attempted Information Leak",
            2,
            "203.0.113.5",
            "198.51.100.2",
        );
        assert_eq!(
            host_to_quarantine(&from_outside, &on, &inside),
            None,
            "no internal end"
        );
    }
}
