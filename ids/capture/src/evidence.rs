//! Evidence for alerts (002 §7.2.g): each worker keeps its most recent packets in a fixed byte
//! ring (no allocation per packet); when an alert fires, the flow's packets still in the ring
//! (the window before) and its next packets (the window after, up to a count or a time) become
//! one pcap, and the alerts of that flow raised meanwhile are delivered with it. Recording is
//! bounded: a few open recordings and a rate per worker; an alert beyond them is delivered at
//! once without evidence (and counted).

use std::collections::VecDeque;
use std::sync::Arc;

use edgeward_ids::engine::Alert;
use edgeward_ids::ruleset::RuleSet;

/// Bounds of the recorder.
#[derive(Debug, Clone)]
pub struct EvidenceConfig {
    /// Bytes of recent packets kept per worker.
    pub ring_bytes: usize,
    /// Bytes kept of one packet (the rest is cut; the pcap record keeps the original length).
    pub snap: usize,
    /// Packets of the flow taken from before the alert, at most.
    pub before_packets: usize,
    /// Packets of the flow recorded after the alert, at most …
    pub after_packets: usize,
    /// … or for this long (seconds of packet time); the alert waits this long at most.
    pub after_seconds: f64,
    /// Recordings open at once per worker.
    pub max_open: usize,
    /// Recordings started per second per worker.
    pub per_second: u32,
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        EvidenceConfig {
            ring_bytes: 4 << 20,
            snap: 16 << 10,
            before_packets: 64,
            after_packets: 16,
            after_seconds: 2.0,
            max_open: 32,
            per_second: 20,
        }
    }
}

/// pcap link types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// Ethernet frames (AF_PACKET).
    Ethernet = 1,
    /// Raw IP packets (NFQUEUE).
    RawIp = 101,
}

/// A finished recording: a whole pcap file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The flow the packets belong to.
    pub flow_id: u64,
    /// Packet records in the pcap.
    pub packets: u32,
    /// The pcap file's bytes.
    pub pcap: Vec<u8>,
}

/// Receives alerts, with their flow's evidence when there is any.
pub type EvidenceSink = Arc<dyn Fn(&RuleSet, &Alert, Option<&Evidence>) + Send + Sync>;

#[derive(Debug, Clone, Copy)]
struct Entry {
    flow: u64,
    ts: f64,
    /// Absolute byte position (monotonic; physical = abs % capacity).
    abs: u64,
    len: u32,
    orig: u32,
}

/// The last packets a worker saw.
#[derive(Debug)]
struct History {
    data: Vec<u8>,
    entries: VecDeque<Entry>,
    head: u64,
}

impl History {
    fn new(bytes: usize) -> History {
        History {
            data: vec![0; bytes.max(1)],
            entries: VecDeque::with_capacity(4096),
            head: 0,
        }
    }

    fn push(&mut self, flow: u64, ts: f64, packet: &[u8], snap: usize) {
        let cap = self.data.len() as u64;
        let len = packet.len().min(snap).min(self.data.len());
        let mut at = self.head;
        if at % cap + len as u64 > cap {
            at += cap - at % cap; // skip the end: a packet is never split
        }
        let end = at + len as u64;
        // Whatever started before `end - cap` is overwritten.
        let oldest_valid = end.saturating_sub(cap);
        while self.entries.front().is_some_and(|e| e.abs < oldest_valid) {
            self.entries.pop_front();
        }
        let p = (at % cap) as usize;
        self.data[p..p + len].copy_from_slice(&packet[..len]);
        self.entries.push_back(Entry {
            flow,
            ts,
            abs: at,
            len: len as u32,
            orig: u32::try_from(packet.len()).unwrap_or(u32::MAX),
        });
        self.head = end;
    }

    fn bytes(&self, e: &Entry) -> &[u8] {
        let p = (e.abs % self.data.len() as u64) as usize;
        &self.data[p..p + e.len as usize]
    }
}

/// A recording in progress.
struct Open {
    flow: u64,
    started: f64,
    after: usize,
    packets: u32,
    pcap: Vec<u8>,
    alerts: Vec<(Arc<RuleSet>, Alert)>,
}

/// Counters of a recorder.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RecorderCounters {
    /// Pcaps finished.
    pub recorded: u64,
    /// Alerts delivered without evidence (recorder full or over its rate).
    pub skipped: u64,
}

/// One worker's evidence recorder.
pub struct Recorder {
    config: EvidenceConfig,
    link: LinkType,
    history: History,
    open: Vec<Open>,
    /// (second, recordings started in it)
    rate: (i64, u32),
    /// Counters since start.
    pub counters: RecorderCounters,
    /// What [`Recorder::report_into`] has added to the shared counters so far.
    reported: RecorderCounters,
}

fn pcap_header(link: LinkType, snap: usize) -> Vec<u8> {
    let mut h = Vec::with_capacity(24);
    h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&0i32.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(&u32::try_from(snap).unwrap_or(65535).to_le_bytes());
    h.extend_from_slice(&(link as u32).to_le_bytes());
    h
}

fn pcap_record(out: &mut Vec<u8>, ts: f64, data: &[u8], orig: u32) {
    let secs = ts.max(0.0).floor();
    let micros = ((ts.max(0.0) - secs) * 1e6).round().min(999_999.0);
    out.extend_from_slice(&(secs as u32).to_le_bytes());
    out.extend_from_slice(&(micros as u32).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&orig.to_le_bytes());
    out.extend_from_slice(data);
}

impl Recorder {
    /// A recorder for packets of `link` type.
    pub fn new(config: EvidenceConfig, link: LinkType) -> Recorder {
        Recorder {
            history: History::new(config.ring_bytes),
            config,
            link,
            open: Vec::new(),
            rate: (i64::MIN, 0),
            counters: RecorderCounters::default(),
            reported: RecorderCounters::default(),
        }
    }

    /// A packet the engine has just seen, of flow `flow` (0: untracked, not kept).
    pub fn packet(&mut self, flow: u64, ts: f64, packet: &[u8]) {
        if flow == 0 {
            return;
        }
        self.history.push(flow, ts, packet, self.config.snap);
        if self.open.is_empty() {
            return;
        }
        let snap = self.config.snap;
        if let Some(o) = self.open.iter_mut().find(|o| o.flow == flow) {
            let len = packet.len().min(snap);
            pcap_record(
                &mut o.pcap,
                ts,
                &packet[..len],
                u32::try_from(packet.len()).unwrap_or(u32::MAX),
            );
            o.packets += 1;
            o.after += 1;
        }
    }

    /// An alert of the packets seen so far: joins its flow's recording, starts one, or (when
    /// the recorder is full or over its rate) goes to `sink` at once without evidence.
    pub fn alert(&mut self, set: &Arc<RuleSet>, alert: Alert, sink: &EvidenceSink) {
        if let Some(o) = self.open.iter_mut().find(|o| o.flow == alert.flow_id) {
            o.alerts.push((Arc::clone(set), alert));
            return;
        }
        let second = alert.ts.floor() as i64;
        if self.rate.0 != second {
            self.rate = (second, 0);
        }
        if alert.flow_id == 0
            || self.open.len() >= self.config.max_open
            || self.rate.1 >= self.config.per_second
        {
            self.counters.skipped += 1;
            sink(set, &alert, None);
            return;
        }
        self.rate.1 += 1;
        let mut pcap = pcap_header(self.link, self.config.snap);
        let flow = alert.flow_id;
        let mine: Vec<&Entry> = self
            .history
            .entries
            .iter()
            .rev()
            .filter(|e| e.flow == flow)
            .take(self.config.before_packets)
            .collect();
        let packets = mine.len() as u32;
        for e in mine.into_iter().rev() {
            pcap_record(&mut pcap, e.ts, self.history.bytes(e), e.orig);
        }
        self.open.push(Open {
            flow,
            started: alert.ts,
            after: 0,
            packets,
            pcap,
            alerts: vec![(Arc::clone(set), alert)],
        });
    }

    /// Finish recordings whose window after is full or over (packet time `now`), or every one
    /// when `all`; their alerts go to `sink` with the pcap.
    pub fn flush(&mut self, now: f64, all: bool, sink: &EvidenceSink) {
        let (after_packets, after_seconds) = (self.config.after_packets, self.config.after_seconds);
        let mut i = 0;
        while i < self.open.len() {
            let o = &self.open[i];
            if all || o.after >= after_packets || now - o.started >= after_seconds {
                let o = self.open.swap_remove(i);
                self.counters.recorded += 1;
                let evidence = Evidence {
                    flow_id: o.flow,
                    packets: o.packets,
                    pcap: o.pcap,
                };
                for (set, a) in &o.alerts {
                    sink(set, a, Some(&evidence));
                }
            } else {
                i += 1;
            }
        }
    }

    /// Add what this recorder counted since its last report to counters shared by several
    /// workers.
    pub fn report_into(
        &mut self,
        recorded: &std::sync::atomic::AtomicU64,
        skipped: &std::sync::atomic::AtomicU64,
    ) {
        use std::sync::atomic::Ordering::Relaxed;
        recorded.fetch_add(self.counters.recorded - self.reported.recorded, Relaxed);
        skipped.fetch_add(self.counters.skipped - self.reported.skipped, Relaxed);
        self.reported = self.counters;
    }

    /// Recordings open now.
    pub fn open_count(&self) -> usize {
        self.open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn alert(flow: u64, ts: f64) -> Alert {
        let ip: std::net::IpAddr = "10.0.0.1".parse().unwrap();
        Alert {
            ts,
            rule: 0,
            sid: 1,
            gid: 1,
            rev: 1,
            flow_id: flow,
            src: ip,
            dst: ip,
            sport: 1,
            dport: 2,
            proto: 6,
            app: None,
            blocked: false,
        }
    }

    type Delivered = Arc<Mutex<Vec<(u64, Option<Evidence>)>>>;

    fn collect() -> (EvidenceSink, Delivered) {
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = Arc::clone(&got);
        let sink: EvidenceSink = Arc::new(move |_, a, e| {
            g.lock().unwrap().push((a.flow_id, e.cloned()));
        });
        (sink, got)
    }

    /// Packet records of a pcap: (payload) in order.
    fn records(pcap: &[u8]) -> Vec<Vec<u8>> {
        assert_eq!(&pcap[..4], &0xa1b2_c3d4u32.to_le_bytes());
        let mut out = Vec::new();
        let mut p = 24;
        while p + 16 <= pcap.len() {
            let n = u32::from_le_bytes(pcap[p + 8..p + 12].try_into().unwrap()) as usize;
            out.push(pcap[p + 16..p + 16 + n].to_vec());
            p += 16 + n;
        }
        assert_eq!(p, pcap.len());
        out
    }

    #[test]
    fn the_pcap_holds_the_flows_packets_before_and_after_the_alert_and_no_others() {
        let set = Arc::new(RuleSet::compile(
            edgeward_ids::loader::LoadedRules::default(),
        ));
        let mut r = Recorder::new(EvidenceConfig::default(), LinkType::RawIp);
        let (sink, got) = collect();
        for i in 0..10u8 {
            r.packet(7, f64::from(i), &[i; 40]);
            r.packet(8, f64::from(i), &[100 + i; 40]);
        }
        r.alert(&set, alert(7, 10.0), &sink);
        r.alert(&set, alert(7, 10.0), &sink); // same flow: same recording
        assert!(got.lock().unwrap().is_empty(), "held for the window after");
        for i in 10..12u8 {
            r.packet(7, 10.5, &[i; 40]);
            r.packet(8, 10.5, &[200; 40]);
        }
        r.flush(11.0, false, &sink);
        assert!(got.lock().unwrap().is_empty(), "window still open");
        r.flush(12.5, false, &sink);
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 2, "both alerts delivered with the one pcap");
        let e = got[0].1.as_ref().unwrap();
        assert_eq!(got[1].1.as_ref(), Some(e));
        let recs = records(&e.pcap);
        assert_eq!(recs.len(), 12);
        assert_eq!(e.packets, 12);
        assert!(
            recs.iter()
                .enumerate()
                .all(|(i, p)| p == &vec![i as u8; 40])
        );
    }

    #[test]
    fn the_ring_forgets_the_oldest_packets_and_never_returns_overwritten_bytes() {
        let config = EvidenceConfig {
            ring_bytes: 1000,
            ..EvidenceConfig::default()
        };
        let set = Arc::new(RuleSet::compile(
            edgeward_ids::loader::LoadedRules::default(),
        ));
        let mut r = Recorder::new(config, LinkType::Ethernet);
        let (sink, got) = collect();
        // 100 packets of 70 bytes: the ring holds the last 14 (980 bytes, no split packet).
        for i in 0..100u8 {
            r.packet(1, f64::from(i), &[i; 70]);
        }
        r.alert(&set, alert(1, 100.0), &sink);
        r.flush(0.0, true, &sink);
        let got = got.lock().unwrap();
        let recs = records(&got[0].1.as_ref().unwrap().pcap);
        assert_eq!(recs.len(), 14);
        for (k, p) in recs.iter().enumerate() {
            assert_eq!(p, &vec![86 + k as u8; 70], "packet {k}");
        }
    }

    #[test]
    fn beyond_its_bounds_an_alert_goes_out_at_once_without_evidence() {
        let config = EvidenceConfig {
            max_open: 2,
            ..EvidenceConfig::default()
        };
        let set = Arc::new(RuleSet::compile(
            edgeward_ids::loader::LoadedRules::default(),
        ));
        let mut r = Recorder::new(config, LinkType::RawIp);
        let (sink, got) = collect();
        for f in 1..=3 {
            r.packet(f, 1.0, &[1; 20]);
            r.alert(&set, alert(f, 1.0), &sink);
        }
        assert_eq!(got.lock().unwrap().as_slice(), &[(3, None)]);
        assert_eq!(r.counters.skipped, 1);
        // A long packet is cut to the snap length; its record says how long it was.
        r.packet(1, 1.5, &vec![9; 40_000]);
        r.flush(5.0, false, &sink);
        let got = got.lock().unwrap();
        let e = got
            .iter()
            .find(|(f, _)| *f == 1)
            .unwrap()
            .1
            .clone()
            .unwrap();
        let recs = records(&e.pcap);
        assert_eq!(recs.last().unwrap().len(), 16 << 10);
    }
}
