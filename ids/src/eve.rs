//! Alerts in Suricata's EVE JSON shape, so SOC tooling that reads Suricata reads edgeward unchanged.
//!
//! Only the alert-specific fields live here; the common envelope (`timestamp`, `event_type`, host)
//! is added by the gateway's event model.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

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
