//! The gateway's own scan and password-guessing counters (000 §5.10.b) where the IDS does not
//! watch. The firewall logs every connection attempt from the internal zones — a TCP SYN or the
//! first datagram of a UDP flow, routed or to the gateway (`inet` table), and TCP SYNs between
//! neighbours on the appliance's own ports (`bridge` table) — to NFLOG group
//! [`LOG_GROUP_CONN`]; this reader hands them to the IDS's scan detector (the same thresholds,
//! allow-list and built-in rules as the engine) and raises what it finds as the very EVE alert
//! the IDS would, so the NAC policy quarantines on it and the SOC sees one kind of record.
//!
//! Where the running IDS watches the interface a routed attempt came in or went out on, the IDS
//! counts it and this reader does not (no alert twice). Attempts between neighbours on one
//! bridge never reach the IDS (they are switched, not routed) and are always counted here.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use edgeward_config::{Config, ZoneKind};
use edgeward_event::bus::Bus;
use edgeward_event::model::{EventBody, Level};
use edgeward_firewall::bridge::CONN_PREFIX_BRIDGED;
use edgeward_firewall::nflog::{LoggedPacket, NflogSocket, ifname};
use edgeward_firewall::{CONN_PREFIX, LOG_GROUP_CONN};
use edgeward_ids::engine::Alert;
use edgeward_ids::scan::{BUILTIN_RULE, ScanConfig, ScanDetector};

use crate::admin::Live;

/// The interfaces the running IDS watches (empty while it does not run); written by the IDS
/// subsystem.
pub type Watched = Arc<RwLock<BTreeSet<String>>>;

/// The detector's settings from the model: the IDS's allow-list of expected scanners
/// (002 §7.2.c) and the server zones (a scan from there is a server scanning).
pub fn scan_config(config: &Config) -> ScanConfig {
    ScanConfig {
        allow: config.ids.scanner_allowlist.clone(),
        server_nets: config
            .zones
            .iter()
            .filter(|z| z.kind == ZoneKind::Servers)
            .flat_map(|z| z.prefixes.iter().copied())
            .collect(),
        ..ScanConfig::default()
    }
}

/// Whether the gateway's counters take a logged attempt: a bridged one always, a routed one
/// unless the IDS watches an interface it crossed.
pub fn counted_here(
    prefix: &str,
    in_iface: Option<&str>,
    out_iface: Option<&str>,
    watched: &BTreeSet<String>,
) -> bool {
    match prefix {
        CONN_PREFIX_BRIDGED => true,
        CONN_PREFIX => ![in_iface, out_iface]
            .into_iter()
            .flatten()
            .any(|i| watched.contains(i)),
        _ => false,
    }
}

/// The counters themselves: the scan detector fed with logged attempts, handed the time.
pub struct Counters {
    detector: ScanDetector,
}

impl Counters {
    pub fn new(config: ScanConfig) -> Self {
        Counters {
            detector: ScanDetector::new(config),
        }
    }

    /// Count one attempt seen at `ts` (seconds since the epoch); the alert it completes, if any.
    pub fn observe(&mut self, ts: f64, p: &LoggedPacket) -> Option<Alert> {
        let (proto, syn) = match p.proto.as_str() {
            "TCP" => (6, true),
            "UDP" => (17, false),
            _ => return None,
        };
        let dport = p.dst_port?;
        let kind = self.detector.attempt(ts, p.src, p.dst, dport, syn)?;
        let sport = p.src_port.unwrap_or(0);
        Some(Alert {
            ts,
            rule: BUILTIN_RULE,
            sid: kind.builtin().sid,
            gid: 1,
            rev: 1,
            flow_id: flow_id(p, sport, dport),
            src: p.src,
            dst: p.dst,
            sport,
            dport,
            proto,
            app: None,
            blocked: false,
        })
    }
}

/// A stable id for the attempt's flow (EVE records carry one to correlate on).
fn flow_id(p: &LoggedPacket, sport: u16, dport: u16) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (p.src, p.dst, sport, dport, &p.proto).hash(&mut h);
    h.finish() & 0x7fff_ffff_ffff_ffff
}

fn now_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Start the reader thread. An error opening the socket is returned; a later one ends the
/// thread with a system event.
pub fn spawn(bus: Bus, live: Live, watched: Watched) -> std::io::Result<()> {
    let mut sock = NflogSocket::bind(&[LOG_GROUP_CONN as u16], 96)?;
    std::thread::Builder::new()
        .name("connwatch".into())
        .spawn(move || {
            let mut version = None;
            let mut counters = Counters::new(ScanConfig::default());
            let mut names: HashMap<u32, Option<String>> = HashMap::new();
            loop {
                let packets = match sock.recv() {
                    Ok(p) => p,
                    Err(e) => {
                        bus.emit_blocking(EventBody::system(
                            Level::Error,
                            "nac",
                            format!("the gateway's scan counters stopped (NFLOG): {e}"),
                        ));
                        return;
                    }
                };
                if packets.is_empty() {
                    continue;
                }
                let state = live.load();
                if version != Some(state.version) {
                    // New settings; interfaces may have been re-created under new indexes.
                    version = Some(state.version);
                    if let Some(config) = &state.config {
                        counters = Counters::new(scan_config(config));
                    }
                    names.clear();
                }
                let span = tracing::debug_span!("connwatch_batch", attempts = packets.len());
                let _g = span.enter();
                let watched = watched
                    .read()
                    .map(|w| w.clone())
                    .unwrap_or_default();
                let ts = now_seconds();
                for p in &packets {
                    let mut name_of =
                        |idx: Option<u32>| idx.and_then(|i| names.entry(i).or_insert_with(|| ifname(i)).clone());
                    let (inside, outside) = (name_of(p.in_ifindex), name_of(p.out_ifindex));
                    if !counted_here(&p.prefix, inside.as_deref(), outside.as_deref(), &watched) {
                        continue;
                    }
                    let Some(alert) = counters.observe(ts, p) else {
                        continue;
                    };
                    if let Some(mut eve) = edgeward_ids::offline::builtin_eve_alert(&alert) {
                        eve.in_iface = inside;
                        tracing::info!(sid = alert.sid, src = %alert.src, dst = %alert.dst, "scan counters: {}", eve.alert.signature);
                        bus.emit_blocking(EventBody::Alert(eve));
                    }
                }
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(prefix: &str, proto: &str, src: &str, dst: &str, dport: u16) -> LoggedPacket {
        LoggedPacket {
            group: 3,
            prefix: prefix.into(),
            in_ifindex: Some(1),
            out_ifindex: None,
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            proto: proto.into(),
            src_port: Some(40_000),
            dst_port: Some(dport),
        }
    }

    /// Routed attempts the running IDS watches are left to it; bridged ones never reach it.
    #[test]
    fn the_ids_counts_what_it_watches_and_the_gateway_the_rest() {
        let none = BTreeSet::new();
        let ids: BTreeSet<String> = ["wan1".to_string(), "lan0".to_string()].into();
        assert!(counted_here(CONN_PREFIX, Some("lan0"), Some("srv0"), &none));
        assert!(!counted_here(CONN_PREFIX, Some("lan0"), Some("srv0"), &ids));
        assert!(!counted_here(CONN_PREFIX, Some("srv0"), Some("wan1"), &ids));
        assert!(counted_here(CONN_PREFIX, Some("srv0"), None, &ids));
        assert!(counted_here(CONN_PREFIX_BRIDGED, Some("lan1"), None, &ids));
        assert!(!counted_here("ew:deny:x", Some("lan1"), None, &none));
    }

    /// 000 §5.10.b: 25 ports on one host from one source is a vertical scan, 30 SSH connections
    /// to one host password guessing — the IDS's own built-in rules, as EVE alerts naming the
    /// source; an allow-listed scanner (002 §7.2.c) raises nothing.
    #[test]
    fn scans_and_password_guessing_raise_the_idss_builtin_alerts() {
        let mut c = Counters::new(ScanConfig {
            allow: vec!["10.10.0.99/32".parse().unwrap()],
            ..ScanConfig::default()
        });
        let mut sids = Vec::new();
        for port in 1..=40 {
            if let Some(a) = c.observe(
                1_000.0,
                &attempt(CONN_PREFIX, "TCP", "10.10.0.12", "10.10.10.10", port),
            ) {
                sids.push(a.sid);
                let eve = edgeward_ids::offline::builtin_eve_alert(&a).unwrap();
                assert_eq!(eve.src_ip.to_string(), "10.10.0.12");
                assert_eq!(eve.dest_ip.to_string(), "10.10.10.10");
                assert_eq!(edgeward_nac::policy::kind(&eve), Some("scan"));
            }
        }
        assert_eq!(sids, [9_000_001], "one vertical-scan alert per window");
        for i in 0..40 {
            if let Some(a) = c.observe(
                1_000.0 + f64::from(i),
                &attempt(CONN_PREFIX_BRIDGED, "TCP", "10.10.0.13", "10.10.0.11", 22),
            ) {
                sids.push(a.sid);
                let eve = edgeward_ids::offline::builtin_eve_alert(&a).unwrap();
                assert_eq!(edgeward_nac::policy::kind(&eve), Some("guessing"));
            }
        }
        assert_eq!(sids, [9_000_001, 9_000_008]);
        for port in 1..=40 {
            assert!(
                c.observe(
                    1_000.0,
                    &attempt(CONN_PREFIX, "TCP", "10.10.0.99", "10.10.10.10", port)
                )
                .is_none()
            );
        }
        // A person retyping a password a few times is not guessing.
        for i in 0..5 {
            assert!(
                c.observe(
                    1_000.0 + f64::from(i),
                    &attempt(CONN_PREFIX, "TCP", "10.10.0.14", "10.10.10.10", 3389)
                )
                .is_none()
            );
        }
    }
}
