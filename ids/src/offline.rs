//! Offline mode: a pcap file through the engine exactly as live capture would feed it, alerts out
//! as EVE JSON lines.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use pcap_file::DataLink;
use pcap_file::pcap::PcapReader;

use crate::decode::Link;
use crate::engine::{Alert, Engine};
use crate::ruleset::RuleSet;
use edgeward_event::eve::{AlertInfo, EveAlert};

#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    #[error("reading {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: link type {link:?} is not supported (Ethernet and raw IP are)")]
    Link { path: String, link: String },
}

/// The decoder's link type for a pcap link type.
fn link_of(path: &Path, datalink: DataLink) -> Result<Link, OfflineError> {
    match datalink {
        DataLink::ETHERNET => Ok(Link::Ethernet),
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => Ok(Link::RawIp),
        other => Err(OfflineError::Link {
            path: path.display().to_string(),
            link: format!("{other:?}"),
        }),
    }
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
    let link = link_of(path, reader.header().datalink)?;
    let mut frames = Vec::new();
    let mut bytes = 0;
    while let Some(pkt) = reader.next_packet() {
        let pkt = pkt.map_err(|e| err(format!("record {}: {e}", frames.len() + 1)))?;
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
    /// The file ended inside a record (a capture cut short): what was read was inspected.
    pub truncated: Option<String>,
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
    let mut runner = Runner::default();
    for (ts, frame) in &capture.frames {
        runner.frame(engine, *ts, frame, capture.link, &mut on_alert);
    }
    runner.finish(engine, started, &mut on_alert)
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
    let link = link_of(path, reader.header().datalink)?;
    let started = Instant::now();
    let mut runner = Runner::default();
    let mut truncated = None;
    while let Some(pkt) = reader.next_packet() {
        let pkt = match pkt {
            Ok(p) => p,
            Err(e) => {
                truncated = Some(format!("record {} unreadable: {e}", runner.packets + 1));
                break;
            }
        };
        runner.frame(
            engine,
            pkt.timestamp.as_secs_f64(),
            &pkt.data,
            link,
            &mut on_alert,
        );
    }
    let mut stats = runner.finish(engine, started, &mut on_alert);
    stats.truncated = truncated;
    Ok(stats)
}

/// The loop both run modes share: frames in, alerts out, totals kept.
#[derive(Default)]
struct Runner {
    alerts: Vec<Alert>,
    packets: u64,
    bytes: u64,
    total: usize,
    last_ts: f64,
}

impl Runner {
    fn frame(
        &mut self,
        engine: &mut Engine,
        ts: f64,
        frame: &[u8],
        link: Link,
        on_alert: &mut impl FnMut(&Alert),
    ) {
        self.packets += 1;
        self.bytes += frame.len() as u64;
        self.last_ts = ts;
        engine.process(ts, frame, link, &mut self.alerts);
        self.drain(on_alert);
    }

    fn drain(&mut self, on_alert: &mut impl FnMut(&Alert)) {
        for a in self.alerts.drain(..) {
            self.total += 1;
            on_alert(&a);
        }
    }

    fn finish(
        mut self,
        engine: &mut Engine,
        started: Instant,
        on_alert: &mut impl FnMut(&Alert),
    ) -> RunStats {
        engine.finish(self.last_ts, &mut self.alerts);
        self.drain(on_alert);
        RunStats {
            packets: self.packets,
            bytes: self.bytes,
            alerts: self.total,
            elapsed: started.elapsed(),
            truncated: None,
        }
    }
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
    let (msg, category, severity) = match crate::scan::builtin(a.sid) {
        Some(b) if a.rule == crate::scan::BUILTIN_RULE => {
            (b.msg.to_string(), b.category.to_string(), b.severity)
        }
        _ => {
            let rule = &rules.rules[a.rule as usize];
            let info = &rules.info[a.rule as usize];
            (rule.msg.clone(), info.category.clone(), info.severity)
        }
    };
    eve_body(a, msg, category, severity)
}

/// A built-in detection's alert (a scan, a flood, password guessing) as an EVE record body —
/// the same record whether the IDS engine or the gateway's own counters found it.
pub fn builtin_eve_alert(a: &Alert) -> Option<EveAlert> {
    let b = crate::scan::builtin(a.sid)?;
    Some(eve_body(
        a,
        b.msg.to_string(),
        b.category.to_string(),
        b.severity,
    ))
}

fn eve_body(a: &Alert, msg: String, category: String, severity: u8) -> EveAlert {
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
            signature: msg,
            category,
            severity,
        },
        evidence: None,
    }
}

/// Write one EVE alert line.
pub fn write_eve(out: &mut impl Write, rules: &RuleSet, a: &Alert) -> std::io::Result<()> {
    let body = eve_alert(rules, a);
    let mut v = serde_json::to_value(&body).map_err(std::io::Error::other)?;
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "timestamp".into(),
            edgeward_event::eve::packet_timestamp(a.ts).into(),
        );
        o.insert("event_type".into(), "alert".into());
    }
    serde_json::to_writer(&mut *out, &v).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}
