//! The one event model: every subsystem's events share this envelope (RFC 3339 UTC timestamp,
//! host id, per-gateway sequence number) and are written as JSON lines. IDS alerts keep
//! Suricata's EVE shape (`event_type: "alert"` with the alert fields at the top level).

use std::net::IpAddr;

use crate::eve::EveAlert;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One event, as stored, shipped to the SOC and shown in the UI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(serialize_with = "ser_ts", deserialize_with = "de_ts")]
    pub timestamp: DateTime<Utc>,
    /// The gateway's `host_id`.
    pub host: String,
    /// Strictly increasing per gateway, across restarts.
    pub seq: u64,
    #[serde(flatten)]
    pub body: EventBody,
}

fn ser_ts<S: Serializer>(ts: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::eve::timestamp(ts))
}

fn de_ts<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let raw = String::deserialize(d)?;
    DateTime::parse_from_rfc3339(&raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(serde::de::Error::custom)
}

/// What happened, by kind. The tag is EVE's `event_type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", rename_all = "snake_case")]
pub enum EventBody {
    /// An IDS alert, in Suricata EVE shape.
    Alert(EveAlert),
    Firewall(FirewallEvent),
    Uplink(UplinkEvent),
    Nac(NacEvent),
    Audit(AuditEvent),
    System(SystemEvent),
}

impl EventBody {
    /// The kind as a label for metrics and filters.
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::Alert(_) => "alert",
            EventBody::Firewall(_) => "firewall",
            EventBody::Uplink(_) => "uplink",
            EventBody::Nac(_) => "nac",
            EventBody::Audit(_) => "audit",
            EventBody::System(_) => "system",
        }
    }
}

/// A packet (or a rate-limited batch of them) the firewall dropped, rejected or logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirewallEvent {
    pub action: String,
    /// The rule that matched, e.g. `policy[3] staff->internet` or `default deny from guest`.
    pub rule: String,
    /// The rule's log prefix in the ruleset, e.g. `ew:deny:fwd_guest`.
    pub rule_id: String,
    pub in_zone: Option<String>,
    pub out_zone: Option<String>,
    pub in_iface: Option<String>,
    pub src_ip: IpAddr,
    pub src_port: Option<u16>,
    pub dest_ip: IpAddr,
    pub dest_port: Option<u16>,
    pub proto: String,
    /// Packets folded into this event by rate limiting.
    pub count: u64,
}

/// A change of an uplink's state, with the evidence for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UplinkEvent {
    pub uplink: String,
    pub state: String,
    pub previous: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p95_ms: Option<f64>,
}

/// A device seen, approved, blocked or quarantined by network access control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NacEvent {
    pub action: String,
    pub mac: String,
    pub ip: Option<IpAddr>,
    pub zone: Option<String>,
    pub detail: String,
}

/// Whether what an audit event records succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Outcome {
    pub fn of(ok: bool) -> Outcome {
        if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// Who did what to the appliance: logins, configuration views and changes, account changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub actor: String,
    /// Where the actor came from (address, `cli`, `file`).
    pub source: String,
    /// Dotted action name, e.g. `config.apply`, `auth.login`.
    pub action: String,
    pub outcome: Outcome,
    /// What happened, in English (the SOC, syslog and the CLI read this).
    pub detail: String,
    /// The same in Vietnamese, for the admin UI's audit page, when the producer said it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_vi: Option<String>,
    /// For configuration changes: the unified diff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

impl AuditEvent {
    /// An audit event. Audit events are stored for months and shipped to the SOC, so a
    /// configuration diff keeps no secret value (`edgeward_config::secrets::redact`).
    pub fn new(
        actor: &str,
        source: &str,
        action: &str,
        outcome: Outcome,
        detail: impl Into<String>,
        diff: Option<&str>,
    ) -> AuditEvent {
        AuditEvent {
            actor: actor.to_string(),
            source: source.to_string(),
            action: action.to_string(),
            outcome,
            detail: detail.into(),
            detail_vi: None,
            diff: diff.map(edgeward_config::secrets::redact),
        }
    }

    /// An audit event whose detail is said in both UI languages.
    pub fn said(
        actor: &str,
        source: &str,
        action: &str,
        outcome: Outcome,
        detail: edgeward_config::Text,
        diff: Option<&str>,
    ) -> AuditEvent {
        let mut ev = AuditEvent::new(actor, source, action, outcome, detail.en, diff);
        ev.detail_vi = Some(detail.vi);
        ev
    }

    /// The detail in `lang` (English where the producer gave no translation).
    pub fn detail_in(&self, lang: edgeward_config::Lang) -> &str {
        match (lang, &self.detail_vi) {
            (edgeward_config::Lang::Vi, Some(vi)) => vi,
            _ => &self.detail,
        }
    }
}

/// Longest label (actor, source, action, outcome, names, rule ids), in bytes.
pub const MAX_LABEL_BYTES: usize = 256;
/// Longest free text (detail, message, reason, signature), in bytes.
pub const MAX_TEXT_BYTES: usize = 8 << 10;
/// Longest configuration diff carried by an audit event, in bytes.
pub const MAX_DIFF_BYTES: usize = 256 << 10;
/// Longest event as one JSON line. With the field caps above no event reaches it even when
/// every character needs a six-byte JSON escape; an event that would is replaced by a marker.
pub const MAX_EVENT_BYTES: usize = 2 << 20;

/// `text` cut to at most `max` bytes (at a character boundary) with a marker saying how much
/// was cut; unchanged when it fits.
pub fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let marker_room = 32.min(max);
    let mut end = max - marker_room;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[{} bytes cut]", &text[..end], text.len() - end)
}

fn clip_in_place(text: &mut String, max: usize) {
    if text.len() > max {
        *text = clip(text, max);
    }
}

fn clip_opt(text: &mut Option<String>, max: usize) {
    if let Some(t) = text {
        clip_in_place(t, max);
    }
}

impl EventBody {
    /// The same event with every text field within its cap: no producer, and nothing an
    /// unauthenticated client sends (a user name at login), can make an event that the store,
    /// the SOC link or the SIEM cannot carry.
    pub fn bounded(mut self) -> EventBody {
        const L: usize = MAX_LABEL_BYTES;
        const T: usize = MAX_TEXT_BYTES;
        match &mut self {
            EventBody::Alert(a) => {
                clip_opt(&mut a.in_iface, L);
                clip_in_place(&mut a.proto, L);
                clip_opt(&mut a.app_proto, L);
                clip_in_place(&mut a.alert.action, L);
                clip_in_place(&mut a.alert.signature, T);
                clip_in_place(&mut a.alert.category, L);
            }
            EventBody::Firewall(f) => {
                for label in [&mut f.action, &mut f.rule, &mut f.rule_id, &mut f.proto] {
                    clip_in_place(label, L);
                }
                for label in [&mut f.in_zone, &mut f.out_zone, &mut f.in_iface] {
                    clip_opt(label, L);
                }
            }
            EventBody::Uplink(u) => {
                for label in [&mut u.uplink, &mut u.state, &mut u.previous] {
                    clip_in_place(label, L);
                }
                clip_in_place(&mut u.reason, T);
            }
            EventBody::Nac(n) => {
                clip_in_place(&mut n.action, L);
                clip_in_place(&mut n.mac, L);
                clip_opt(&mut n.zone, L);
                clip_in_place(&mut n.detail, T);
            }
            EventBody::Audit(a) => {
                for label in [&mut a.actor, &mut a.source, &mut a.action] {
                    clip_in_place(label, L);
                }
                clip_in_place(&mut a.detail, T);
                clip_opt(&mut a.detail_vi, T);
                clip_opt(&mut a.diff, MAX_DIFF_BYTES);
            }
            EventBody::System(s) => {
                clip_in_place(&mut s.component, L);
                clip_in_place(&mut s.message, T);
            }
        }
        self
    }

    /// The bytes of text this event carries (every string field), for a cheap upper bound of
    /// its JSON size: each byte takes at most six as a JSON escape.
    pub fn text_bytes(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        match self {
            EventBody::Alert(a) => {
                opt(&a.in_iface)
                    + a.proto.len()
                    + opt(&a.app_proto)
                    + a.alert.action.len()
                    + a.alert.signature.len()
                    + a.alert.category.len()
            }
            EventBody::Firewall(f) => {
                f.action.len()
                    + f.rule.len()
                    + f.rule_id.len()
                    + f.proto.len()
                    + opt(&f.in_zone)
                    + opt(&f.out_zone)
                    + opt(&f.in_iface)
            }
            EventBody::Uplink(u) => {
                u.uplink.len() + u.state.len() + u.previous.len() + u.reason.len()
            }
            EventBody::Nac(n) => n.action.len() + n.mac.len() + opt(&n.zone) + n.detail.len(),
            EventBody::Audit(a) => {
                a.actor.len()
                    + a.source.len()
                    + a.action.len()
                    + a.detail.len()
                    + opt(&a.detail_vi)
                    + opt(&a.diff)
            }
            EventBody::System(s) => s.component.len() + s.message.len(),
        }
    }

    /// The marker that stands in for an event that cannot be carried whole.
    pub fn oversize_marker(kind: &str, bytes: usize, head: &str) -> EventBody {
        EventBody::system(
            Level::Warning,
            "events",
            format!(
                "an event of kind {kind} was {bytes} bytes as JSON, over the {MAX_EVENT_BYTES}-byte limit; it was replaced by this marker. Its start: {}",
                clip(head, 1024)
            ),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// The daemon's own life: start, stop, reconciles, apply errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemEvent {
    pub level: Level,
    pub component: String,
    pub message: String,
}

impl EventBody {
    /// A system event of `component`.
    pub fn system(level: Level, component: &str, message: impl Into<String>) -> EventBody {
        EventBody::System(SystemEvent {
            level,
            component: component.to_string(),
            message: message.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eve::AlertInfo;

    fn at(body: EventBody) -> Event {
        Event {
            timestamp: DateTime::parse_from_rfc3339("2026-11-22T10:00:00.123456Z")
                .unwrap()
                .with_timezone(&Utc),
            host: "gw1".into(),
            seq: 7,
            body,
        }
    }

    #[test]
    fn alert_has_suricata_eve_shape() {
        let ev = at(EventBody::Alert(EveAlert {
            flow_id: 1234,
            in_iface: Some("wan1".into()),
            src_ip: "10.10.0.11".parse().unwrap(),
            src_port: Some(40000),
            dest_ip: "192.0.2.80".parse().unwrap(),
            dest_port: Some(80),
            proto: "TCP".into(),
            app_proto: Some("http".into()),
            alert: AlertInfo {
                action: "allowed".into(),
                gid: 1,
                signature_id: 2013028,
                rev: 7,
                signature: "ET POLICY curl User-Agent Outbound".into(),
                category: "Attempted Information Leak".into(),
                severity: 2,
            },
            evidence: None,
        }));
        let v: serde_json::Value = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["event_type"], "alert");
        assert_eq!(v["timestamp"], "2026-11-22T10:00:00.123456Z");
        assert_eq!(v["src_ip"], "10.10.0.11");
        assert_eq!(v["dest_port"], 80);
        assert_eq!(v["alert"]["signature_id"], 2013028);
        assert_eq!(v["alert"]["severity"], 2);
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, ev);
    }

    /// Whatever a producer puts in an event, its JSON line stays under the limit (every field
    /// filled with characters that need the longest escape).
    #[test]
    fn bounded_events_always_fit_one_frame() {
        let huge = "\u{1}".repeat(3 << 20);
        let bodies = vec![
            EventBody::Audit(AuditEvent {
                actor: huge.clone(),
                source: huge.clone(),
                action: huge.clone(),
                outcome: Outcome::Failure,
                detail: huge.clone(),
                detail_vi: Some(huge.clone()),
                diff: Some(huge.clone()),
            }),
            EventBody::system(Level::Info, &huge, huge.clone()),
            EventBody::Nac(NacEvent {
                action: huge.clone(),
                mac: huge.clone(),
                ip: None,
                zone: Some(huge.clone()),
                detail: huge.clone(),
            }),
        ];
        for b in bodies {
            let ev = at(b.bounded());
            let line = serde_json::to_string(&ev).unwrap();
            assert!(line.len() < MAX_EVENT_BYTES, "{}", line.len());
            assert!(line.contains("bytes cut]"));
        }
        assert_eq!(clip("kurz", 10), "kurz");
        let cut = clip(&"ắ".repeat(100), 64);
        assert!(cut.len() <= 64 + 40, "{cut}");
        assert!(cut.ends_with("bytes cut]"));
    }

    #[test]
    fn every_kind_round_trips_as_one_json_line() {
        let bodies = vec![
            EventBody::system(Level::Info, "daemon", "started"),
            EventBody::Audit(AuditEvent {
                actor: "admin".into(),
                source: "cli".into(),
                action: "config.apply".into(),
                outcome: Outcome::Success,
                detail: "v2".into(),
                detail_vi: None,
                diff: Some("-a\n+b\n".into()),
            }),
            EventBody::Uplink(UplinkEvent {
                uplink: "isp1".into(),
                state: "down".into(),
                previous: "up".into(),
                reason: "3 of 4 targets lost".into(),
                loss_percent: Some(100.0),
                latency_p95_ms: None,
            }),
        ];
        for b in bodies {
            let ev = at(b);
            let line = serde_json::to_string(&ev).unwrap();
            assert!(!line.contains('\n'));
            assert_eq!(serde_json::from_str::<Event>(&line).unwrap(), ev);
        }
    }
}
