//! Alerts in Suricata's EVE JSON shape, so SOC tooling that reads Suricata reads edgeward unchanged,
//! and the one timestamp format every edgeward event and EVE line carries.
//!
//! Only the alert-specific fields live here; the common envelope (`timestamp`, `event_type`, host)
//! is added by the event model ([`crate::model::Event`]) or the offline EVE writer.

use std::net::IpAddr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The timestamp of every event and EVE line: RFC 3339 in UTC with microseconds,
/// `2026-11-22T10:00:00.123456Z` (Suricata writes `+0000`, which RFC 3339 parsers refuse; the
/// SOC hub and SIEMs parse this one).
pub fn timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// [`timestamp`] of a packet time in seconds since the epoch (as a capture gives it).
pub fn packet_timestamp(secs_since_epoch: f64) -> String {
    let secs = secs_since_epoch.floor();
    let micros = ((secs_since_epoch - secs) * 1e6)
        .round()
        .clamp(0.0, 999_999.0) as u32;
    let t = DateTime::from_timestamp(secs as i64, micros * 1000).unwrap_or_default();
    timestamp(&t)
}

/// The body of an EVE `alert` event (everything but `timestamp` and `event_type`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EveAlert {
    pub flow_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_iface: Option<String>,
    pub src_ip: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    pub dest_ip: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_port: Option<u16>,
    /// `TCP`, `UDP`, `ICMP`, `IPv6-ICMP`… as Suricata writes it.
    pub proto: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_proto: Option<String>,
    pub alert: AlertInfo,
    /// The flow's packets around the alert (edgeward's addition to EVE; absent when none was
    /// recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceRef>,
}

/// Where an alert's evidence pcap is kept and how to check a copy of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRef {
    /// The id to download it by (IDS page, `edgeward ids evidence ID`).
    pub id: String,
    /// SHA-256 of the pcap file, hex.
    pub sha256: String,
    /// Packets in it.
    pub packets: u32,
}

/// The `alert` object of an EVE alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertInfo {
    /// `allowed` or `blocked`.
    pub action: String,
    pub gid: u32,
    pub signature_id: u32,
    pub rev: u32,
    pub signature: String,
    pub category: String,
    /// 1 (highest) to 4, from the rule's classtype or priority.
    pub severity: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_timestamp_format_for_events_and_packets() {
        let t = DateTime::parse_from_rfc3339("2026-11-22T10:00:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(timestamp(&t), "2026-11-22T10:00:00.123456Z");
        let p = packet_timestamp(t.timestamp() as f64 + 0.123456);
        assert_eq!(p, "2026-11-22T10:00:00.123456Z");
        assert!(DateTime::parse_from_rfc3339(&p).is_ok());
    }
}
