//! Offline mode: a pcap file through the engine exactly as live capture would feed it, alerts out
//! as EVE JSON lines.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use pcap_file::DataLink;
use pcap_file::pcap::PcapReader;

use crate::decode::Link;
use crate::engine::{Alert, Engine};
use crate::eve::{AlertInfo, EveAlert};
use crate::ruleset::RuleSet;

#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    #[error("reading {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: link type {link:?} is not supported (Ethernet and raw IP are)")]
    Link { path: String, link: String },
}

/// Frames of a capture held in memory, so throughput excludes disk reads.
pub struct Capture {
    pub link: Link,
    pub frames: Vec<(f64, Vec<u8>)>,
    pub bytes: u64,
}

/// Read a whole pcap file.
pub fn read_pcap(path: &Path) -> Result<Capture, OfflineError> {
    let err = |m: String| OfflineError::Read {
        path: path.display().to_string(),
        message: m,
    };
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let mut reader =
        PcapReader::new(std::io::BufReader::new(file)).map_err(|e| err(e.to_string()))?;
    let link = match reader.header().datalink {
        DataLink::ETHERNET => Link::Ethernet,
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => Link::RawIp,
        other => {
            return Err(OfflineError::Link {
                path: path.display().to_string(),
                link: format!("{other:?}"),
            });
        }
    };
    let mut frames = Vec::new();
    let mut bytes = 0;
    while let Some(pkt) = reader.next_packet() {
        let pkt = pkt.map_err(|e| err(e.to_string()))?;
        bytes += pkt.data.len() as u64;
        frames.push((pkt.timestamp.as_secs_f64(), pkt.data.into_owned()));
    }
    Ok(Capture {
        link,
        frames,
        bytes,
    })
}

/// Result of running a capture.
#[derive(Debug, Clone)]
pub struct RunStats {
    pub packets: u64,
    pub bytes: u64,
    pub alerts: usize,
    pub elapsed: Duration,
}

impl RunStats {
    pub fn pps(&self) -> f64 {
        self.packets as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    pub fn gbps(&self) -> f64 {
        self.bytes as f64 * 8.0 / self.elapsed.as_secs_f64().max(1e-9) / 1e9
    }
}

/// Run every frame through the engine; `on_alert` sees each alert.
pub fn run(engine: &mut Engine, capture: &Capture, mut on_alert: impl FnMut(&Alert)) -> RunStats {
    let started = Instant::now();
    let mut alerts = Vec::with_capacity(64);
    let mut total = 0;
    let mut last_ts = 0.0;
    for (ts, frame) in &capture.frames {
        engine.process(*ts, frame, capture.link, &mut alerts);
        last_ts = *ts;
        for a in alerts.drain(..) {
            total += 1;
            on_alert(&a);
        }
    }
    engine.finish(last_ts, &mut alerts);
    for a in alerts.drain(..) {
        total += 1;
        on_alert(&a);
    }
    RunStats {
        packets: capture.frames.len() as u64,
        bytes: capture.bytes,
        alerts: total,
        elapsed: started.elapsed(),
    }
}

/// Run a pcap file through the engine while reading it (as Suricata's `-r` does): memory stays
/// that of the engine, and the time includes reading the file.
pub fn run_file(
    engine: &mut Engine,
    path: &Path,
    mut on_alert: impl FnMut(&Alert),
) -> Result<RunStats, OfflineError> {
    let err = |m: String| OfflineError::Read {
        path: path.display().to_string(),
        message: m,
    };
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let mut reader = PcapReader::new(std::io::BufReader::with_capacity(1 << 20, file))
        .map_err(|e| err(e.to_string()))?;
    let link = match reader.header().datalink {
        DataLink::ETHERNET => Link::Ethernet,
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => Link::RawIp,
        other => {
            return Err(OfflineError::Link {
                path: path.display().to_string(),
                link: format!("{other:?}"),
            });
        }
    };
    let started = Instant::now();
    let mut alerts = Vec::with_capacity(64);
    let (mut packets, mut bytes, mut total, mut last_ts) = (0u64, 0u64, 0usize, 0.0);
    while let Some(pkt) = reader.next_packet() {
        let pkt = pkt.map_err(|e| err(e.to_string()))?;
        let ts = pkt.timestamp.as_secs_f64();
        packets += 1;
        bytes += pkt.data.len() as u64;
        engine.process(ts, &pkt.data, link, &mut alerts);
        last_ts = ts;
        for a in alerts.drain(..) {
            total += 1;
            on_alert(&a);
        }
    }
    engine.finish(last_ts, &mut alerts);
    for a in alerts.drain(..) {
        total += 1;
        on_alert(&a);
    }
    Ok(RunStats {
        packets,
        bytes,
        alerts: total,
        elapsed: started.elapsed(),
    })
}

/// Suricata's name for an IP protocol.
pub fn proto_name(p: u8) -> String {
    match p {
        6 => "TCP".into(),
        17 => "UDP".into(),
        1 => "ICMP".into(),
        58 => "IPv6-ICMP".into(),
        n => n.to_string(),
    }
}

/// An alert as an EVE record body.
pub fn eve_alert(rules: &RuleSet, a: &Alert) -> EveAlert {
    let rule = &rules.rules[a.rule as usize];
    let info = &rules.info[a.rule as usize];
    let ports = matches!(a.proto, 6 | 17);
    EveAlert {
        flow_id: a.flow_id,
        in_iface: None,
        src_ip: a.src,
        src_port: ports.then_some(a.sport),
        dest_ip: a.dst,
        dest_port: ports.then_some(a.dport),
        proto: proto_name(a.proto),
        app_proto: a.app.map(|p| p.name().to_string()),
        alert: AlertInfo {
            action: if a.blocked {
                "blocked".into()
            } else {
                "allowed".into()
            },
            gid: a.gid,
            signature_id: a.sid,
            rev: a.rev,
            signature: rule.msg.clone(),
            category: info.category.clone(),
            severity: info.severity,
        },
    }
}

/// Format a packet time the way EVE does: `2024-04-21T10:00:00.123456+0000`.
pub fn eve_timestamp(ts: f64) -> String {
    let secs = ts.floor() as i64;
    let micros = ((ts - secs as f64) * 1e6).round() as u32;
    let dt = chrono::DateTime::from_timestamp(secs, micros.min(999_999) * 1000).unwrap_or_default();
    dt.format("%Y-%m-%dT%H:%M:%S%.6f+0000").to_string()
}

/// Write one EVE alert line.
pub fn write_eve(out: &mut impl Write, rules: &RuleSet, a: &Alert) -> std::io::Result<()> {
    let body = eve_alert(rules, a);
    let mut v = serde_json::to_value(&body).map_err(std::io::Error::other)?;
    if let Some(o) = v.as_object_mut() {
        o.insert("timestamp".into(), eve_timestamp(a.ts).into());
        o.insert("event_type".into(), "alert".into());
    }
    serde_json::to_writer(&mut *out, &v).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}
