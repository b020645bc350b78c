//! The gateway side of the SOC link: one outbound QUIC connection (works behind NAT and over the
//! TSLCD) that streams events from the encrypted store in sequence order. The hub acknowledges
//! what it made durable; the acknowledged seq is kept on disk, so after a reconnect or a restart
//! of either side the stream resumes right after it (the hub de-duplicates). The store is the
//! spool: an outage of hours only means a longer catch-up. At most `WINDOW` events are in flight
//! (back-pressure instead of memory).

use edgeward_event::Outcome;
use std::net::SocketAddr;
use std::path::PathBuf;

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicU64;
use tokio::sync::watch;

use crate::proto::{self, Msg};
use edgeward_event::Bus;
use edgeward_event::{Event, EventBody, Level, MAX_EVENT_BYTES};
use edgeward_store::store::{Keyring, Tail};

const BATCH: usize = 512;
/// A batch stops growing at this many bytes of JSON: with one more event of at most
/// [`MAX_EVENT_BYTES`] it stays well under the hub's frame limit ([`proto::MAX_FRAME`]).
const BATCH_BYTES: usize = 4 << 20;
const _: () = assert!(BATCH_BYTES + 2 * MAX_EVENT_BYTES < proto::MAX_FRAME);
const WINDOW: u64 = 8192;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Cursor {
    acked_seq: Option<u64>,
}

/// The link's metrics, registered under the daemon's registry.
#[derive(Debug, Clone, Default)]
pub struct LinkMetrics {
    /// 1 while the link is up.
    pub connected: Gauge,
    /// The last seq the hub acknowledged as durable.
    pub acked_seq: Gauge,
    /// Events sent, resends included.
    pub sent: Counter,
    /// Hub clock minus gateway clock, in milliseconds (003 §30.8).
    pub clock_skew_ms: Gauge<f64, AtomicU64>,
}

impl LinkMetrics {
    /// The metrics, registered in `registry` under their `soc_` names.
    pub fn register(registry: &mut Registry) -> LinkMetrics {
        let m = LinkMetrics::default();
        registry.register(
            "soc_connected",
            "1 while the SOC link is up",
            m.connected.clone(),
        );
        registry.register(
            "soc_acked_seq",
            "Last event seq the SOC acknowledged as durable",
            m.acked_seq.clone(),
        );
        registry.register(
            "soc_sent_events",
            "Events sent to the SOC (including resends)",
            m.sent.clone(),
        );
        registry.register(
            "soc_clock_skew_ms",
            "SOC hub clock minus gateway clock (003 §30.8)",
            m.clock_skew_ms.clone(),
        );
        m
    }
}

pub struct LinkSettings {
    pub host_id: String,
    pub endpoint: String,
    pub server_name: String,
    pub soc_dir: PathBuf,
    pub store_dir: PathBuf,
    pub key_dir: PathBuf,
    pub cursor_path: PathBuf,
    /// Where applied rule bundles live.
    pub rules_root: PathBuf,
    /// Where pushed system updates are received and queued (`None`: refused, not an appliance).
    pub update: Option<edgeward_update::slots::System>,
    /// The state directory whose `backups/` are shipped to the hub (`None`: none shipped).
    pub backups: Option<PathBuf>,
}

/// Run the link until the task is aborted: connect, stream, reconnect with backoff.
pub async fn run(s: LinkSettings, bus: Bus, metrics: LinkMetrics) {
    let mut backoff = Duration::from_millis(500);
    let mut reported_down = false;
    loop {
        let (streamed, why) = match session(&s, &metrics, &bus).await {
            Ok(()) => (true, "the hub closed the connection".to_string()),
            Err(e) => e,
        };
        metrics.connected.set(0);
        if streamed {
            backoff = Duration::from_millis(500);
            reported_down = false;
        }
        if !reported_down {
            bus.emit(EventBody::system(Level::Warning, "soc", format!("SOC link to {} down: {why}; events stay in the store and are sent on reconnect", s.endpoint))).await;
            reported_down = true;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Why a session ended, and whether it had got as far as streaming.
type SessionEnd = (bool, String);

async fn session(s: &LinkSettings, metrics: &LinkMetrics, bus: &Bus) -> Result<(), SessionEnd> {
    let early = |e: String| (false, e);
    let addr: SocketAddr = tokio::net::lookup_host(&s.endpoint)
        .await
        .map_err(|e| early(e.to_string()))?
        .next()
        .ok_or_else(|| early("no address".into()))?;
    let (endpoint, cfg) =
        crate::tls::client_endpoint(&s.soc_dir).map_err(|e| early(e.to_string()))?;
    let conn = endpoint
        .connect_with(cfg, addr, &s.server_name)
        .map_err(|e| early(e.to_string()))?
        .await
        .map_err(|e| early(e.to_string()))?;
    let (mut send, mut recv) = conn.open_bi().await.map_err(|e| early(e.to_string()))?;
    let keys = Keyring::open(&s.key_dir).map_err(|e| early(e.to_string()))?;
    let cursor_file = edgeward_store::cursor::CursorFile::new(&s.cursor_path);
    let mut cursor: Cursor = cursor_file.load();
    proto::write(
        &mut send,
        &Msg::Hello {
            host: s.host_id.clone(),
            latest_seq: cursor.acked_seq,
            time_micros: proto::now_micros(),
        },
    )
    .await
    .map_err(|e| early(e.to_string()))?;
    let sent_at = proto::now_micros();
    let Some(Msg::Welcome {
        last_seq,
        time_micros,
    }) = proto::read(&mut recv)
        .await
        .map_err(|e| early(e.to_string()))?
    else {
        return Err(early("the hub did not welcome us".into()));
    };
    // Clock skew (003 §30.8): hub time against ours at the midpoint of the round trip.
    let now = proto::now_micros();
    metrics
        .clock_skew_ms
        .set((time_micros - (sent_at + now) / 2) as f64 / 1000.0);
    let acked = match (cursor.acked_seq, last_seq) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    cursor.acked_seq = acked;
    cursor_file.save(&cursor);
    metrics.connected.set(1);
    bus.emit(EventBody::system(
        Level::Info,
        "soc",
        format!(
            "SOC link to {} up; resuming after seq {}",
            s.endpoint,
            acked.map_or_else(|| "none".into(), |a| a.to_string())
        ),
    ))
    .await;
    let late = |e: String| (true, e);
    let (ack_tx, mut ack_rx) = watch::channel(acked);
    let (control_tx, mut control_rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
    let ack_cursor = cursor_file.clone();
    let order_state = s
        .cursor_path
        .parent()
        .map_or_else(|| s.rules_root.clone(), std::path::Path::to_path_buf);
    let update = s.update.clone();
    let backups_state = s.backups.clone();
    let _shipper = s
        .backups
        .clone()
        .map(|state| crate::backup_ship::spawn(state, control_tx.clone()));
    let (pubkey, rules_root, bundle_bus, host) = (
        s.soc_dir.join("bundle-signing.pub"),
        s.rules_root.clone(),
        bus.clone(),
        s.host_id.clone(),
    );
    let mut acks = tokio::spawn(async move {
        loop {
            match proto::read(&mut recv).await {
                Ok(Some(Msg::Bundle { bundle })) => {
                    let version = bundle.meta.version;
                    let (pk, root, host) = (pubkey.clone(), rules_root.clone(), host.clone());
                    let result = tokio::task::spawn_blocking(move || {
                        crate::bundle::apply(&bundle, &pk, &root, &host)
                    })
                    .await;
                    let (applied, said) = match result {
                        Ok(Ok(rules)) => (
                            true,
                            edgeward_config::say!(
                                "rule bundle v{version} applied ({rules} rules)",
                                "đã áp dụng gói tập luật phát hiện phiên bản {version} ({rules} luật)"
                            ),
                        ),
                        Ok(Err(e)) => (
                            false,
                            edgeward_config::say!(
                                "rule bundle v{version} rejected: {e}",
                                "gói tập luật phát hiện phiên bản {version} bị từ chối: `{e}`"
                            ),
                        ),
                        Err(e) => (
                            false,
                            edgeward_config::say!(
                                "rule bundle v{version} not applied: {e}",
                                "gói tập luật phát hiện phiên bản {version} chưa được áp dụng: `{e}`"
                            ),
                        ),
                    };
                    let (detail, detail_vi) = (said.en, Some(said.vi));
                    bundle_bus
                        .emit(EventBody::Audit(edgeward_event::AuditEvent {
                            actor: "soc".into(),
                            source: "soc-link".into(),
                            action: "rules.apply".into(),
                            outcome: Outcome::of(applied),
                            detail: detail.clone(),
                            detail_vi,
                            diff: None,
                        }))
                        .await;
                    let _ = control_tx.send(Msg::BundleResult {
                        version,
                        applied,
                        detail,
                    });
                }
                Ok(Some(Msg::Order { order })) => {
                    let (pk, host) = (pubkey.clone(), host.clone());
                    let state = order_state.clone();
                    let checked = order.clone();
                    let result = tokio::task::spawn_blocking(move || {
                        crate::order::accept(&checked, &pk, &state, &host, chrono::Utc::now())
                    })
                    .await
                    .unwrap_or_else(|e| Err(crate::order::OrderError::Io(e.to_string())));
                    let m = &order.meta;
                    let device = m
                        .mac
                        .clone()
                        .unwrap_or_else(|| m.ip.map(|i| i.to_string()).unwrap_or_default());
                    let (accepted, said) = match &result {
                        Ok(()) => (
                            true,
                            edgeward_config::say!(
                                "SOC order {} ({} {device}) accepted",
                                "đã nhận lệnh {} của SOC ({} {device})",
                                m.serial,
                                if m.action == "release" {
                                    "thôi cách ly"
                                } else {
                                    "cách ly"
                                }
                            ),
                        ),
                        Err(e) => (
                            false,
                            edgeward_config::say!(
                                "SOC order {} refused: {e}",
                                "lệnh {} của SOC bị từ chối: `{e}`",
                                m.serial
                            ),
                        ),
                    };
                    let (detail, detail_vi) = (said.en, Some(said.vi));
                    bundle_bus
                        .emit(EventBody::Audit(edgeward_event::AuditEvent {
                            actor: "soc".into(),
                            source: "soc-link".into(),
                            action: format!(
                                "device.{}",
                                if m.action == "release" {
                                    "release"
                                } else {
                                    "quarantine"
                                }
                            ),
                            outcome: Outcome::of(accepted),
                            detail: detail.clone(),
                            detail_vi,
                            diff: None,
                        }))
                        .await;
                    if accepted {
                        bundle_bus
                            .emit(EventBody::Nac(edgeward_event::model::NacEvent {
                                action: format!("soc-{}", m.action),
                                mac: m.mac.clone().unwrap_or_default(),
                                ip: m.ip,
                                zone: None,
                                detail: format!(
                                    "SOC order {} by {}: {}",
                                    m.serial, m.analyst, m.reason
                                ),
                            }))
                            .await;
                    }
                    let _ = control_tx.send(Msg::OrderResult {
                        serial: m.serial,
                        accepted,
                        detail,
                    });
                }
                Ok(Some(Msg::UpdateChunk {
                    name,
                    offset,
                    total,
                    data,
                })) => {
                    let system = update.clone();
                    let step = tokio::task::spawn_blocking(move || {
                        crate::update_push::receive_chunk(system.as_ref(), offset, total, &data)
                    })
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()));
                    let (queued, said) = match step {
                        Ok(None) => continue,
                        Ok(Some(q)) => (
                            true,
                            edgeward_config::say!(
                                "update bundle {name}: edgeward {}{} ({} bytes) queued for installation",
                                "gói cập nhật {name}: edgeward {}{} ({} byte) đang chờ cài đặt",
                                q.version,
                                if q.rollback { " (signed rollback)" } else { "" },
                                q.bytes
                            ),
                        ),
                        Err(e) => (
                            false,
                            edgeward_config::say!(
                                "update bundle {name} refused: {e}",
                                "gói cập nhật {name} bị từ chối: `{e}`"
                            ),
                        ),
                    };
                    let (detail, detail_vi) = (said.en, Some(said.vi));
                    bundle_bus
                        .emit(EventBody::Audit(edgeward_event::AuditEvent {
                            actor: "soc".into(),
                            source: "soc-link".into(),
                            action: "system.update.upload".into(),
                            outcome: Outcome::of(queued),
                            detail: detail.clone(),
                            detail_vi,
                            diff: None,
                        }))
                        .await;
                    let _ = control_tx.send(Msg::UpdateResult {
                        name,
                        queued,
                        detail,
                    });
                }
                Ok(Some(Msg::BackupAck { version })) => {
                    if let Some(state) = &backups_state {
                        crate::backup_ship::acknowledged(state, version);
                    }
                }
                Ok(Some(Msg::Ack { seq, .. })) => {
                    ack_cursor.save(&Cursor {
                        acked_seq: Some(seq),
                    });
                    if ack_tx.send(Some(seq)).is_err() {
                        return Ok(());
                    }
                }
                Ok(Some(other)) => {
                    return Err(format!("unexpected message from the hub: {other:?}"));
                }
                Ok(None) => return Err("the hub closed the stream".to_string()),
                Err(e) => return Err(e.to_string()),
            }
        }
    });
    let mut tail = Tail::new(&s.store_dir, keys, acked.map_or(1, |a| a + 1));
    let mut last_sent = acked;
    loop {
        // Back-pressure: no more than WINDOW events beyond the last acknowledgement.
        while last_sent
            .unwrap_or(0)
            .saturating_sub((*ack_rx.borrow()).unwrap_or(0))
            >= WINDOW
        {
            tokio::select! {
                r = ack_rx.changed() => if r.is_err() { break },
                r = &mut acks => return Err(late(match r { Ok(Err(e)) => e, _ => "ack reader stopped".into() })),
            }
        }
        while let Ok(msg) = control_rx.try_recv() {
            proto::write(&mut send, &msg)
                .await
                .map_err(|e| late(e.to_string()))?;
        }
        let acked_now = (*ack_rx.borrow()).unwrap_or(0);
        metrics.acked_seq.set(acked_now as i64);
        let mut batch = tokio::task::block_in_place(|| tail.read_bounded(BATCH, BATCH_BYTES))
            .map_err(|e| late(e.to_string()))?;
        for (seq, json) in &mut batch {
            if json.len() > MAX_EVENT_BYTES {
                *json = oversize_stand_in(*seq, json, &s.host_id);
            }
        }
        if batch.is_empty() {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
                r = &mut acks => return Err(late(match r { Ok(Err(e)) => e, _ => "ack reader stopped".into() })),
            }
            continue;
        }
        last_sent = batch.last().map(|e| e.0);
        metrics.sent.inc_by(batch.len() as u64);
        proto::write(&mut send, &Msg::Batch { events: batch })
            .await
            .map_err(|e| late(e.to_string()))?;
    }
}

/// The JSON of a marker that stands in for stored event `seq` when it is too large to send (an
/// event stored before the bus capped events): same seq, time and host, so the stream has no gap.
fn oversize_stand_in(seq: u64, json: &str, host: &str) -> String {
    #[derive(Deserialize)]
    struct Envelope {
        timestamp: Option<String>,
        event_type: Option<String>,
    }
    let envelope: Option<Envelope> = serde_json::from_str(json).ok();
    let timestamp = envelope
        .as_ref()
        .and_then(|e| e.timestamp.as_deref())
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(chrono::Utc::now, |t| t.with_timezone(&chrono::Utc));
    let kind = envelope
        .and_then(|e| e.event_type)
        .unwrap_or_else(|| "unknown".into());
    let marker = Event {
        timestamp,
        host: host.to_string(),
        seq,
        body: EventBody::oversize_marker(&kind, json.len(), json),
    };
    serde_json::to_string(&marker).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oversize_stored_event_is_sent_as_a_marker_with_its_seq() {
        let big = format!(
            r#"{{"timestamp":"2026-11-30T10:00:00Z","host":"gw1","seq":7,"event_type":"audit","actor":"{}"}}"#,
            "x".repeat(MAX_EVENT_BYTES)
        );
        let out = oversize_stand_in(7, &big, "gw1");
        assert!(out.len() < 4096, "{}", out.len());
        let ev: Event = serde_json::from_str(&out).unwrap();
        assert_eq!(ev.seq, 7);
        assert_eq!(ev.host, "gw1");
        assert!(matches!(ev.body, EventBody::System(ref s) if s.message.contains("kind audit")));
    }
}
