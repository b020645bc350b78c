//! The detection engine: per packet, decode → flow → IP-only rules → packet rules (payload
//! prefilter, then verification) → reassembly → app-layer parsers → app-layer rules on each
//! finished request/response/handshake. Alerts and a verdict come out; counters accumulate.
//! One engine is single-threaded; run one per capture queue.

use std::net::IpAddr;
use std::sync::Arc;

use crate::app::detect::Detection;
use crate::app::http::{self, HttpEvent, HttpTx};
use crate::app::tls::TlsEvent;
use crate::decode::{self, Link, Packet, TCP, UDP};
use crate::flow::{AppState, Flow, FlowTable};
use crate::inspect::inspect;
use crate::rule::{
    Action, AppProto, BUFFER_COUNT, Buffer, FlowbitOp, Proto, Rule, ThresholdKind, Track,
};
use crate::ruleset::{BufKey, Group, RuleSet, transport_index};

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub max_flows: usize,
    /// IPS: rules with `drop`/`reject` drop the packet and the rest of its flow.
    pub inline: bool,
    /// IP defragmentation limits and per-destination overlap policies.
    pub defrag: crate::defrag::DefragConfig,
    /// TCP/UDP checksum validation (a host drops a segment with a wrong checksum, so it must
    /// not be inspected as if delivered).
    pub checksums: ChecksumMode,
    /// TCP segments arriving with a TTL (hop limit) below this are not inspected: the gateway
    /// drops them when forwarding, so no host behind it receives them (TTL insertion).
    /// 0 turns the check off.
    pub min_ttl: u8,
    /// Port scan and SYN flood thresholds.
    pub scan: crate::scan::ScanConfig,
    /// The detector shared by the workers of one capture (each worker's own when `None`).
    pub shared_scan: Option<Arc<crate::scan::SharedScan>>,
    /// IPS: say when a flow needs no more inspection ([`Engine::bypass_flow`]): both directions
    /// past the reassembly depth, or TLS encrypted in both directions after the handshake
    /// (as Suricata's `stream.bypass` and `encryption-handling: bypass`).
    pub bypass: bool,
}

/// Whether checksums are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChecksumMode {
    /// Always: segments with a wrong checksum are not inspected.
    Validate,
    /// Validate, unless more than a quarter of the first 50 or a tenth of the first 1,000
    /// TCP/UDP segments are wrong (a capture taken on a host with checksum offload): then stop
    /// checking (as Suricata's `auto`).
    #[default]
    Auto,
    /// Never.
    Ignore,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_flows: 262_144,
            inline: false,
            defrag: crate::defrag::DefragConfig::default(),
            checksums: ChecksumMode::Auto,
            min_ttl: 2,
            scan: crate::scan::ScanConfig::default(),
            shared_scan: None,
            bypass: false,
        }
    }
}

/// What to do with a packet (IPS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Drop,
}

/// An alert, before it is turned into an EVE record.
#[derive(Debug, Clone)]
pub struct Alert {
    /// Packet time, seconds since the epoch.
    pub ts: f64,
    pub rule: u32,
    pub sid: u32,
    pub gid: u32,
    pub rev: u32,
    pub flow_id: u64,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
    pub app: Option<AppProto>,
    pub blocked: bool,
}

/// Counters since start.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
    pub decode_errors: u64,
    pub flows: u64,
    pub flow_memcap_drops: u64,
    pub alerts: u64,
    pub drops: u64,
    pub http_tx: u64,
    pub dns_queries: u64,
    pub tls_handshakes: u64,
    pub rule_checks: u64,
    /// Segments not inspected because their checksum was wrong.
    pub bad_checksums: u64,
    /// TCP segments not inspected because their TTL would expire at the gateway.
    pub expiring_ttl: u64,
    /// Checksum validation was switched off (`auto`: most checksums were wrong).
    pub checksum_validation_off: bool,
    /// TCP segments that repeated delivered bytes with different ones.
    pub stream_overlap_different: u64,
    /// Anomalies not kept because the caller had not drained them.
    pub anomalies_dropped: u64,
    #[serde(skip)]
    pub rule_hits: Vec<u64>,
    #[serde(skip)]
    checksums_checked: u64,
}

/// Orientation and facts of what is being inspected.
#[derive(Clone, Copy)]
struct Ctx<'p> {
    ts: f64,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    proto: u8,
    to_server: bool,
    established: bool,
    tcp_flags: Option<u8>,
    icmp: Option<(u8, u8)>,
    payload: &'p [u8],
    /// Which transaction's buffers app rules see; `None` in packet context.
    app: Option<AppCtx>,
    /// Key used to remember which (transaction, rule) alerted.
    tx_key: Option<u64>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AppCtx {
    Http(u64),
    Dns,
    Tls,
}

/// Reused per-evaluation storage: built buffers, candidate marks.
struct Scratch {
    data: Vec<Vec<u8>>,
    segs: Vec<Vec<(u32, u32)>>,
    /// 0 = not built yet in this evaluation, 1 = present, 2 = absent.
    state: Vec<u8>,
    mark: Vec<u32>,
    generation: u32,
    candidates: Vec<u32>,
    http_events: Vec<HttpEvent>,
    tls_events: Vec<TlsEvent>,
    slots: Vec<u32>,
    tmp: Vec<u8>,
    matcher: crate::matcher::MatchScratch,
    /// Raw stream window of the current TCP packet: the direction's last in-order bytes before
    /// it, and the first in-order bytes it delivered (see `stream_window_rules`).
    raw_prev: Vec<u8>,
    raw_new: Vec<u8>,
    window: Vec<u8>,
    /// Rules that matched the packet itself (not matched again through the window).
    matched_now: Vec<u32>,
    window_candidates: Vec<u32>,
    /// A `reject` rule matched the current packet.
    rejected: bool,
}

/// Add rule `r` to the candidates once per evaluation (`generation`).
#[inline]
fn add_candidate(mark: &mut [u32], generation: u32, candidates: &mut Vec<u32>, r: u32) {
    let m = &mut mark[r as usize];
    if *m != generation {
        *m = generation;
        candidates.push(r);
    }
}

fn key_index(key: BufKey) -> usize {
    key.0.index() * 2 + usize::from(key.1)
}

impl Scratch {
    fn new(rules: usize) -> Self {
        Scratch {
            data: (0..BUFFER_COUNT * 2).map(|_| Vec::new()).collect(),
            segs: (0..BUFFER_COUNT * 2).map(|_| Vec::new()).collect(),
            state: vec![0; BUFFER_COUNT * 2],
            mark: vec![0; rules],
            generation: 0,
            candidates: Vec::new(),
            http_events: Vec::new(),
            tls_events: Vec::new(),
            slots: Vec::new(),
            tmp: Vec::new(),
            matcher: crate::matcher::MatchScratch::default(),
            raw_prev: Vec::new(),
            raw_new: Vec::new(),
            window: Vec::new(),
            matched_now: Vec::new(),
            window_candidates: Vec::new(),
            rejected: false,
        }
    }

    fn begin(&mut self) {
        self.state.iter_mut().for_each(|s| *s = 0);
        self.candidates.clear();
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.mark.iter_mut().for_each(|m| *m = 0);
            self.generation = 1;
        }
    }

    fn add_candidate(&mut self, r: u32) {
        add_candidate(&mut self.mark, self.generation, &mut self.candidates, r);
    }

    /// Build buffer `key` for context `c` into the scratch (once per evaluation).
    fn build(&mut self, flow: &Flow, key: BufKey, c: &Ctx) -> bool {
        let k = key_index(key);
        match self.state[k] {
            1 => return true,
            2 => return false,
            _ => {}
        }
        let mut data = std::mem::take(&mut self.data[k]);
        let mut segs = std::mem::take(&mut self.segs[k]);
        data.clear();
        segs.clear();
        let push = |data: &mut Vec<u8>, segs: &mut Vec<(u32, u32)>, value: &[u8]| {
            let a = data.len() as u32;
            if key.1 {
                data.push(b'.');
            }
            data.extend_from_slice(value);
            segs.push((a, data.len() as u32));
        };
        match (key.0, c.app) {
            (Buffer::Payload, Some(AppCtx::Http(id))) => {
                if let Some(tx) = flow.http.tx(id) {
                    let (h, b) = if c.to_server {
                        (&tx.req_head, &tx.req_body)
                    } else {
                        (&tx.resp_head, &tx.resp_body)
                    };
                    let a = data.len() as u32;
                    data.extend_from_slice(h);
                    data.extend_from_slice(b);
                    segs.push((a, data.len() as u32));
                }
            }
            (Buffer::Payload, _) => push(&mut data, &mut segs, c.payload),
            (b, Some(AppCtx::Http(id))) => {
                if let Some(tx) = flow.http.tx(id) {
                    let tmp = &mut self.tmp;
                    if http_buffer(tx, b, c.to_server, tmp) {
                        push(&mut data, &mut segs, tmp);
                    }
                }
            }
            (Buffer::DnsQuery, Some(AppCtx::Dns)) => {
                for q in flow.dns.queries() {
                    push(&mut data, &mut segs, q);
                }
            }
            (b, Some(AppCtx::Tls)) => {
                let t = &flow.tls;
                match b {
                    Buffer::TlsSni if !t.sni.is_empty() => push(&mut data, &mut segs, &t.sni),
                    Buffer::Ja3Hash if !t.ja3_hash.is_empty() => {
                        push(&mut data, &mut segs, &t.ja3_hash);
                    }
                    Buffer::Ja3String if !t.ja3.is_empty() => push(&mut data, &mut segs, &t.ja3),
                    Buffer::Ja3sHash if !t.ja3s_hash.is_empty() && !c.to_server => {
                        push(&mut data, &mut segs, &t.ja3s_hash);
                    }
                    Buffer::TlsCerts if !c.to_server => {
                        for cert in t.certs() {
                            push(&mut data, &mut segs, cert);
                        }
                    }
                    Buffer::TlsCertSubject if !t.cert_subject.is_empty() && !c.to_server => {
                        push(&mut data, &mut segs, &t.cert_subject);
                    }
                    Buffer::TlsCertIssuer if !t.cert_issuer.is_empty() && !c.to_server => {
                        push(&mut data, &mut segs, &t.cert_issuer);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        let present = !segs.is_empty();
        self.state[k] = if present { 1 } else { 2 };
        self.data[k] = data;
        self.segs[k] = segs;
        present
    }
}

/// Threshold bookkeeping.
#[derive(Debug, Clone, Copy)]
struct ThresholdState {
    window_start: f64,
    count: u32,
    alerted: bool,
}

/// The engine.
pub struct Engine {
    rules: Arc<RuleSet>,
    config: EngineConfig,
    flows: FlowTable,
    scratch: Scratch,
    thresholds:
        std::collections::HashMap<(u32, IpAddr, IpAddr), ThresholdState, ahash::RandomState>,
    pub counters: Counters,
    /// IP fragments waiting for the rest of their datagram; its counters and anomalies.
    pub defrag: crate::defrag::Defrag,
    /// A reassembled datagram (reused).
    reassembled: Vec<u8>,
    /// The current packet's checksum needs no check (see [`Engine::process_checked`]).
    checksum_trusted: bool,
    /// Port scans and floods (shared with the capture's other workers).
    scan: Arc<crate::scan::SharedScan>,
    /// Packet-path anomalies (fragments, stream) since the caller last drained them (at most
    /// [`crate::defrag::MAX_ANOMALIES`]; more are counted in `counters.anomalies_dropped`).
    pub anomalies: Vec<crate::defrag::Anomaly>,
    /// What the last packet asked of the IPS beyond its verdict.
    last: PacketOutcome,
}

/// What the last packet asked of the IPS beyond accept or drop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacketOutcome {
    /// Its flow needs no more inspection: the kernel may stop queueing it.
    pub bypass: bool,
    /// A `reject` rule dropped it: reset the TCP connection.
    pub reject: bool,
    /// The flow's id (0 when untracked).
    pub flow_id: u64,
}

/// In-order bytes of a direction kept to match raw content across segment boundaries.
pub const RAW_TAIL: usize = 256;
/// In-order bytes a packet releases that are taken into the raw stream window (a segment that
/// fills a gap can release many held ones at once).
const RAW_NEW_MAX: usize = 64 * 1024;

/// Whether a segment at `seq` overlaps the delivered bytes still in `tail` (which end just
/// before `next`) with different bytes.
fn repeats_with_other_bytes(tail: &[u8], next: u32, seq: u32, payload: &[u8]) -> bool {
    let tail_start = next.wrapping_sub(tail.len() as u32);
    // Offset of the segment's first byte relative to the tail's first byte (may be negative).
    let rel = i64::from(seq.wrapping_sub(tail_start) as i32);
    let (mut t, mut p) = (rel, 0i64);
    if t < 0 {
        p = -t;
        t = 0;
    }
    let n = (tail.len() as i64 - t).min(payload.len() as i64 - p);
    if n <= 0 {
        return false;
    }
    let (t, p, n) = (t as usize, p as usize, n as usize);
    tail[t..t + n] != payload[p..p + n]
}

/// Keep the last [`RAW_TAIL`] bytes of a direction.
fn keep_tail(tail: &mut Vec<u8>, data: &[u8]) {
    if data.len() >= RAW_TAIL {
        tail.clear();
        tail.extend_from_slice(&data[data.len() - RAW_TAIL..]);
    } else {
        tail.extend_from_slice(data);
        if tail.len() > RAW_TAIL {
            tail.drain(..tail.len() - RAW_TAIL);
        }
    }
}

/// Whether a rule inspects the packet payload (and so has nothing to do on encrypted data).
fn needs_payload(rule: &Rule) -> bool {
    rule.lists.iter().any(|l| l.buffer == Buffer::Payload)
}

fn proto_matches(rule: &Rule, proto: u8, flow_app: Option<AppProto>) -> bool {
    match rule.proto {
        Proto::Ip => true,
        Proto::Tcp => proto == TCP,
        Proto::Udp => proto == UDP,
        Proto::Icmp => proto == decode::ICMP || proto == decode::ICMPV6,
        Proto::Http => proto == TCP && flow_app == Some(AppProto::Http),
        Proto::Tls => proto == TCP && flow_app == Some(AppProto::Tls),
        Proto::Dns => flow_app == Some(AppProto::Dns),
    }
}

/// The rule's header against the packet (ports first: they are the cheap test).
fn header_matches(rule: &Rule, c: &Ctx) -> bool {
    let fwd = rule.src_ports.contains(c.sport)
        && rule.dst_ports.contains(c.dport)
        && rule.src.contains(c.src)
        && rule.dst.contains(c.dst);
    fwd || (rule.bidirectional
        && rule.src_ports.contains(c.dport)
        && rule.dst_ports.contains(c.sport)
        && rule.src.contains(c.dst)
        && rule.dst.contains(c.src))
}

impl Engine {
    pub fn new(rules: Arc<RuleSet>, config: EngineConfig) -> Self {
        let n = rules.rules.len();
        let mut scratch = Scratch::new(n);
        rules.prepare(&mut scratch.matcher);
        Engine {
            defrag: crate::defrag::Defrag::new(config.defrag.clone()),
            reassembled: Vec::new(),
            checksum_trusted: false,
            scan: config
                .shared_scan
                .clone()
                .unwrap_or_else(|| Arc::new(crate::scan::SharedScan::new(&config.scan))),
            anomalies: Vec::new(),
            last: PacketOutcome::default(),
            flows: FlowTable::new(config.max_flows),
            scratch,
            thresholds: Default::default(),
            counters: Counters {
                rule_hits: vec![0; n],
                ..Counters::default()
            },
            rules,
            config,
        }
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// Switch to another ruleset; flows stay, their flowbits and the thresholds start afresh
    /// (flowbit numbers belong to a ruleset).
    pub fn swap_rules(&mut self, rules: Arc<RuleSet>) {
        let n = rules.rules.len();
        self.scratch = Scratch::new(n);
        rules.prepare(&mut self.scratch.matcher);
        self.counters.rule_hits = vec![0; n];
        self.thresholds.clear();
        for f in &mut self.flows.slots {
            f.bits.iter_mut().for_each(|b| *b = 0);
            f.fired.clear();
        }
        self.rules = rules;
    }

    pub fn flow_count(&self) -> usize {
        self.flows.len()
    }

    /// What the last packet asked for beyond its verdict (bypass, reset), and its flow.
    pub fn last_outcome(&self) -> PacketOutcome {
        self.last
    }

    /// Inspect one frame captured at `ts` (seconds since the epoch).
    pub fn process(
        &mut self,
        ts: f64,
        frame: &[u8],
        link: Link,
        alerts: &mut Vec<Alert>,
    ) -> Verdict {
        self.process_checked(ts, frame, link, false, alerts)
    }

    /// As [`Engine::process`]; `checksum_trusted` says the capture knows the checksum needs no
    /// check (AF_PACKET: validated by the NIC, or not yet computed because the packet was made
    /// on this host with checksum offload).
    pub fn process_checked(
        &mut self,
        ts: f64,
        frame: &[u8],
        link: Link,
        checksum_trusted: bool,
        alerts: &mut Vec<Alert>,
    ) -> Verdict {
        self.checksum_trusted = checksum_trusted;
        self.last = PacketOutcome::default();
        self.scratch.rejected = false;
        self.counters.packets += 1;
        self.counters.bytes += frame.len() as u64;
        let Ok(p) = decode::decode(frame, link) else {
            self.counters.decode_errors += 1;
            return Verdict::Accept;
        };
        let verdict = match &p.frag {
            // A fragment: inspected once its datagram is whole. The fragment that completes it
            // carries the datagram's verdict (dropping it drops the datagram); inline on the
            // appliance, netfilter's conntrack reassembles before the queue anyway.
            Some(f) => {
                let mut whole = std::mem::take(&mut self.reassembled);
                let verdict = if self.defrag.add(ts, p.src, p.dst, p.proto, f, &mut whole) {
                    if let Ok(datagram) = decode::decode(&whole, Link::RawIp) {
                        self.process_packet(ts, &datagram, alerts)
                    } else {
                        self.counters.decode_errors += 1;
                        Verdict::Accept
                    }
                } else {
                    Verdict::Accept
                };
                self.reassembled = whole;
                if self.defrag.counters.fragments % 64 == 0 {
                    self.defrag.expire(ts);
                }
                for a in self.defrag.anomalies.drain(..) {
                    if self.anomalies.len() < crate::defrag::MAX_ANOMALIES {
                        self.anomalies.push(a);
                    } else {
                        self.counters.anomalies_dropped += 1;
                    }
                }
                verdict
            }
            None => self.process_packet(ts, &p, alerts),
        };
        if verdict == Verdict::Drop {
            self.counters.drops += 1;
        }
        // Expire idle flows now and then (packet time).
        let mut slots = std::mem::take(&mut self.scratch.slots);
        slots.clear();
        self.flows.expired(ts, &mut slots);
        for &s in &slots {
            self.finish_flow(s, ts, alerts);
        }
        self.scratch.slots = slots;
        verdict
    }

    /// End of input: finish every flow (bodies read until close, pending reassembly).
    pub fn finish(&mut self, ts: f64, alerts: &mut Vec<Alert>) {
        let mut slots = Vec::new();
        self.flows.all(&mut slots);
        for s in slots {
            self.finish_flow(s, ts, alerts);
        }
    }

    /// Whether a host would receive this packet at all (checksum, TTL).
    fn delivered(&mut self, p: &Packet) -> bool {
        if p.proto == TCP && self.config.min_ttl > 0 && p.ttl < self.config.min_ttl {
            self.counters.expiring_ttl += 1;
            return false;
        }
        if self.checksum_trusted {
            return true;
        }
        let check = match self.config.checksums {
            ChecksumMode::Ignore => false,
            ChecksumMode::Validate => true,
            ChecksumMode::Auto => !self.counters.checksum_validation_off,
        };
        if !check || !(p.proto == TCP || p.proto == UDP) {
            return true;
        }
        let ok = p.checksum_ok();
        let c = &mut self.counters;
        c.checksums_checked += 1;
        if !ok {
            c.bad_checksums += 1;
        }
        // A capture taken on a host with checksum offload has its outgoing half wrong: decide
        // early (a quarter wrong in the first 50) and again at 1,000 (a tenth wrong).
        let offload = (c.checksums_checked == 50 && c.bad_checksums > 12)
            || (c.checksums_checked == 1000 && c.bad_checksums > 100);
        if self.config.checksums == ChecksumMode::Auto && offload {
            c.checksum_validation_off = true;
            tracing::warn!(
                bad = c.bad_checksums,
                "most checksums are wrong (capture with checksum offload?): validation off"
            );
        }
        ok
    }

    fn process_packet(&mut self, ts: f64, p: &Packet, alerts: &mut Vec<Alert>) -> Verdict {
        if !self.delivered(p) {
            return Verdict::Accept;
        }
        let alerts_before = alerts.len();
        let rules = Arc::clone(&self.rules);
        let Some((slot, to_server, new)) = self.flows.lookup(p, ts) else {
            self.counters.flow_memcap_drops += 1;
            // Untracked: still inspect the packet on its own.
            let ctx = Ctx {
                ts,
                src: p.src,
                dst: p.dst,
                sport: p.sport,
                dport: p.dport,
                proto: p.proto,
                to_server: true,
                established: false,
                tcp_flags: p.tcp.map(|t| t.flags),
                icmp: p.icmp,
                payload: p.payload,
                app: None,
                tx_key: None,
            };
            let mut dummy = Flow::default();
            let blocked = self.packet_rules(&rules, &mut dummy, &ctx, alerts);
            return if blocked {
                Verdict::Drop
            } else {
                Verdict::Accept
            };
        };
        if new {
            self.counters.flows += 1;
        }
        // Connection attempts feed the scan and flood detector.
        let syn = p.tcp.is_some_and(|t| t.syn() && !t.ack_flag());
        let mut finding = if syn || (new && p.proto == UDP) {
            self.scan.attempt(ts, p.src, p.dst, p.dport, syn)
        } else {
            None
        };
        // Every datagram and echo request feeds the flood counters.
        let echo = matches!(
            (p.proto, p.icmp),
            (decode::ICMP, Some((8, _))) | (decode::ICMPV6, Some((128, _)))
        );
        if finding.is_none() && (p.proto == UDP || echo) {
            finding = self.scan.packet(ts, p.src, p.proto == UDP);
        }
        if let Some(kind) = finding {
            let b = kind.builtin();
            self.counters.alerts += 1;
            alerts.push(Alert {
                ts,
                rule: crate::scan::BUILTIN_RULE,
                sid: b.sid,
                gid: 1,
                rev: 1,
                flow_id: self.flows.slots[slot as usize].id,
                src: p.src,
                dst: p.dst,
                sport: p.sport,
                dport: p.dport,
                proto: p.proto,
                app: None,
                blocked: false,
            });
        }
        let flow = &mut self.flows.slots[slot as usize];
        self.last.flow_id = flow.id;
        if flow.dropped && self.config.inline {
            self.last.reject = flow.rejected;
            return Verdict::Drop;
        }
        if flow.passed {
            // Allow-listed by a pass rule: nothing more is inspected; inline, the kernel may
            // stop queueing it.
            self.last.bypass = self.config.bypass;
            return Verdict::Accept;
        }
        let d = usize::from(!to_server);
        flow.last_seen = ts;
        flow.pkts[d] += 1;
        flow.bytes[d] += p.wire_len as u64;
        let mut close = false;
        if let Some(t) = p.tcp {
            if t.syn() && !t.ack_flag() && to_server {
                flow.syn_seen = true;
                flow.streams[0].syn(t.seq);
            } else if t.syn() && t.ack_flag() && !to_server {
                flow.synack_seen = true;
                flow.streams[1].syn(t.seq);
            } else if t.ack_flag() && to_server && flow.syn_seen && flow.synack_seen {
                flow.established = true;
            }
            if t.fin() {
                flow.fin[d] = true;
            }
            if t.rst() || (flow.fin[0] && flow.fin[1]) {
                flow.closed = true;
                close = true;
            }
        } else if flow.pkts[0] > 0 && flow.pkts[1] > 0 {
            flow.established = true;
        }
        let (src, sport, dst, dport) = (p.src, p.sport, p.dst, p.dport);
        let ctx = Ctx {
            ts,
            src,
            dst,
            sport,
            dport,
            proto: p.proto,
            to_server,
            established: flow.established,
            tcp_flags: p.tcp.map(|t| t.flags),
            icmp: p.icmp,
            payload: p.payload,
            app: None,
            tx_key: None,
        };
        let mut blocked = false;
        // IP-only rules: once per direction of a flow.
        if !flow.ip_only_done[d] {
            flow.ip_only_done[d] = true;
            if rules.ip_only.rules > 0 {
                blocked |= self.ip_only(&rules, slot, &ctx, alerts);
            }
        }
        // App-layer: reassemble and parse before packet rules, so `alert http` payload rules see
        // the detected protocol.
        self.scratch.raw_prev.clear();
        self.scratch.raw_new.clear();
        if !p.payload.is_empty() {
            self.feed_app(slot, p, to_server);
        }
        let mut flow = std::mem::take(&mut self.flows.slots[slot as usize]);
        blocked |= self.packet_rules(&rules, &mut flow, &ctx, alerts);
        self.flows.slots[slot as usize] = flow;
        blocked |= self.app_events(&rules, slot, &ctx, alerts);
        if self.flows.slots[slot as usize].passed {
            // A pass rule matched this packet: it wins over the other rules' alerts and drops
            // on it (Suricata's action order), not over the network-layer detections.
            let added = alerts.len().saturating_sub(alerts_before);
            let kept: Vec<Alert> = alerts
                .drain(alerts_before.min(alerts.len())..)
                .filter(|a| a.rule == crate::scan::BUILTIN_RULE)
                .collect();
            self.counters.alerts = self
                .counters
                .alerts
                .saturating_sub((added - kept.len()) as u64);
            alerts.extend(kept);
            blocked = false;
        }
        if blocked {
            self.last.reject = std::mem::take(&mut self.scratch.rejected);
        }
        if close {
            self.finish_flow(slot, ts, alerts);
        } else if blocked {
            let f = &mut self.flows.slots[slot as usize];
            f.dropped = true;
            f.rejected = self.last.reject;
        } else if self.config.bypass && p.proto == TCP {
            self.last.bypass = self.flows.slots[slot as usize].inspection_done();
        }
        if blocked && self.config.inline {
            Verdict::Drop
        } else {
            Verdict::Accept
        }
    }

    fn feed_app(&mut self, slot: u32, p: &Packet, to_server: bool) {
        let d = usize::from(!to_server);
        let flow = &mut self.flows.slots[slot as usize];
        if p.proto == UDP {
            if (p.sport == 53 || p.dport == 53)
                && flow.app != AppState::Failed
                && flow.dns.parse(p.payload)
            {
                flow.app = AppState::Detected(AppProto::Dns);
                if !flow.dns.response {
                    self.counters.dns_queries += 1;
                }
            }
            return;
        }
        if p.proto != TCP {
            return;
        }
        let Some(t) = p.tcp else { return };
        let now = flow.last_seen;
        let Flow {
            streams,
            http,
            tls,
            app,
            detect,
            detect_ruled_out,
            raw_tail,
            ..
        } = flow;
        let Scratch {
            http_events: events_h,
            tls_events: events_t,
            raw_prev,
            raw_new,
            ..
        } = &mut self.scratch;
        // A segment that repeats recently delivered bytes with other bytes: the first copy is
        // kept (as the receiving host does), the difference is reported.
        let changed = streams[d]
            .next_seq()
            .is_some_and(|next| repeats_with_other_bytes(&raw_tail[d], next, t.seq, p.payload));
        if changed {
            self.counters.stream_overlap_different += 1;
            if self.anomalies.len() < crate::defrag::MAX_ANOMALIES {
                self.anomalies.push(crate::defrag::Anomaly {
                    ts: now,
                    kind: crate::defrag::AnomalyKind::StreamOverlapDifferentData,
                    src: p.src,
                    dst: p.dst,
                });
            }
        }
        let mut first = true;
        streams[d].segment(t.seq, p.payload, |data| {
            // Raw stream window: what came before this packet's bytes, and their start.
            if first {
                first = false;
                raw_prev.clear();
                raw_prev.extend_from_slice(&raw_tail[d]);
            }
            let room = RAW_NEW_MAX.saturating_sub(raw_new.len());
            raw_new.extend_from_slice(&data[..data.len().min(room)]);
            keep_tail(&mut raw_tail[d], data);
            if *app == AppState::Unknown {
                if detect_ruled_out[d] {
                    return;
                }
                detect[d].extend_from_slice(data);
                match crate::app::detect::detect(&detect[d], to_server) {
                    Detection::NeedMore => {}
                    Detection::RuledOut => {
                        detect_ruled_out[d] = true;
                        detect[d].clear();
                        if detect_ruled_out[1 - d] {
                            *app = AppState::Failed;
                        }
                    }
                    Detection::Detected(proto) => {
                        *app = AppState::Detected(proto);
                        // Everything kept so far, client side first.
                        for (side, kept) in detect.iter_mut().enumerate() {
                            match proto {
                                AppProto::Http => http.feed(side == 0, kept, events_h),
                                AppProto::Tls => tls.feed(side == 0, kept, events_t),
                                AppProto::Dns => {}
                            }
                            kept.clear();
                        }
                    }
                }
                return;
            }
            match *app {
                AppState::Detected(AppProto::Http) => http.feed(to_server, data, events_h),
                AppState::Detected(AppProto::Tls) => tls.feed(to_server, data, events_t),
                _ => {}
            }
        });
    }

    fn finish_flow(&mut self, slot: u32, ts: f64, alerts: &mut Vec<Alert>) {
        let rules = Arc::clone(&self.rules);
        let flow = &mut self.flows.slots[slot as usize];
        if flow.key.is_none() {
            return;
        }
        // Data behind unfilled gaps, then bodies read until close.
        let Flow {
            streams,
            http,
            tls,
            app,
            ..
        } = flow;
        for (d, s) in streams.iter_mut().enumerate() {
            let to_server = d == 0;
            let events_h = &mut self.scratch.http_events;
            let events_t = &mut self.scratch.tls_events;
            s.flush(|data| match *app {
                AppState::Detected(AppProto::Http) => http.feed(to_server, data, events_h),
                AppState::Detected(AppProto::Tls) => tls.feed(to_server, data, events_t),
                _ => {}
            });
        }
        if flow.app == AppState::Detected(AppProto::Http) {
            flow.http.close(&mut self.scratch.http_events);
            // Requests or responses that never completed are inspected with what arrived.
            for t in &flow.http.txs {
                let (id, req, resp) = (
                    t.id,
                    !t.request_inspected && !t.req_head.is_empty(),
                    !t.response_inspected && !t.resp_head.is_empty(),
                );
                if req
                    && !self
                        .scratch
                        .http_events
                        .contains(&HttpEvent::RequestDone(id))
                {
                    self.scratch.http_events.push(HttpEvent::RequestDone(id));
                }
                if resp
                    && !self
                        .scratch
                        .http_events
                        .contains(&HttpEvent::ResponseDone(id))
                {
                    self.scratch.http_events.push(HttpEvent::ResponseDone(id));
                }
            }
        }
        let flow = &self.flows.slots[slot as usize];
        let ctx = Ctx {
            ts,
            src: flow.client_ip(),
            dst: flow.server_ip(),
            sport: flow.client.1,
            dport: flow.server.1,
            proto: flow.proto,
            to_server: true,
            established: flow.established,
            tcp_flags: None,
            icmp: None,
            payload: &[],
            app: None,
            tx_key: None,
        };
        self.app_events(&rules, slot, &ctx, alerts);
        self.flows.remove(slot);
    }

    /// Inspect app-layer events collected from this packet.
    fn app_events(
        &mut self,
        rules: &RuleSet,
        slot: u32,
        pkt: &Ctx,
        alerts: &mut Vec<Alert>,
    ) -> bool {
        let mut blocked = false;
        if self.scratch.http_events.is_empty()
            && self.scratch.tls_events.is_empty()
            && !(pkt.proto == UDP
                && self.flows.slots[slot as usize].app_proto() == Some(AppProto::Dns)
                && !pkt.payload.is_empty())
        {
            return false;
        }
        let flow = &self.flows.slots[slot as usize];
        let (client, cport, server, sport) = (
            flow.client_ip(),
            flow.client.1,
            flow.server_ip(),
            flow.server.1,
        );
        let oriented = |to_server: bool, app: AppCtx, key: Option<u64>| -> Ctx {
            let (src, sp, dst, dp) = if to_server {
                (client, cport, server, sport)
            } else {
                (server, sport, client, cport)
            };
            Ctx {
                src,
                sport: sp,
                dst,
                dport: dp,
                to_server,
                app: Some(app),
                tx_key: key,
                ..*pkt
            }
        };
        // DNS: one message per packet.
        if pkt.proto == UDP
            && flow.app_proto() == Some(AppProto::Dns)
            && !pkt.payload.is_empty()
            && !self.flows.slots[slot as usize].dns.response
        {
            let c = oriented(true, AppCtx::Dns, None);
            blocked |= self.eval_app(rules, slot, AppProto::Dns, &c, alerts);
        }
        let http_events = std::mem::take(&mut self.scratch.http_events);
        for ev in &http_events {
            let (id, to_server) = match *ev {
                HttpEvent::RequestDone(id) => (id, true),
                HttpEvent::ResponseDone(id) => (id, false),
            };
            let flow = &mut self.flows.slots[slot as usize];
            let Some(tx) = flow.http.txs.iter_mut().find(|t| t.id == id) else {
                continue;
            };
            if to_server {
                if tx.request_inspected {
                    continue;
                }
                tx.request_inspected = true;
                self.counters.http_tx += 1;
            } else {
                if tx.response_inspected {
                    continue;
                }
                tx.response_inspected = true;
            }
            let c = oriented(
                to_server,
                AppCtx::Http(id),
                Some(id << 1 | u64::from(!to_server)),
            );
            blocked |= self.eval_app(rules, slot, AppProto::Http, &c, alerts);
        }
        let mut http_events = http_events;
        http_events.clear();
        self.scratch.http_events = http_events;
        self.flows.slots[slot as usize].http.prune();
        let tls_events = std::mem::take(&mut self.scratch.tls_events);
        for ev in &tls_events {
            let to_server = *ev == TlsEvent::ClientHello;
            if to_server {
                self.counters.tls_handshakes += 1;
            }
            let c = oriented(to_server, AppCtx::Tls, Some(u64::from(!to_server)));
            blocked |= self.eval_app(rules, slot, AppProto::Tls, &c, alerts);
        }
        let mut tls_events = tls_events;
        tls_events.clear();
        self.scratch.tls_events = tls_events;
        blocked
    }

    fn eval_app(
        &mut self,
        rules: &RuleSet,
        slot: u32,
        app: AppProto,
        c: &Ctx,
        alerts: &mut Vec<Alert>,
    ) -> bool {
        let group = rules.app_group(app, c.to_server);
        if group.rules == 0 {
            return false;
        }
        self.scratch.begin();
        self.collect(group, slot, c);
        self.verify_candidates(rules, slot, c, alerts)
    }

    fn packet_rules(
        &mut self,
        rules: &RuleSet,
        flow: &mut Flow,
        c: &Ctx,
        alerts: &mut Vec<Alert>,
    ) -> bool {
        let group = &rules.packet[transport_index(c.proto)];
        if group.rules == 0 {
            return false;
        }
        self.scratch.begin();
        // Encrypted TLS after the handshake: no payload inspection (Suricata's default
        // `encryption-handling`); rules that need no payload still run.
        let encrypted = flow.app_proto() == Some(AppProto::Tls) && flow.tls.encrypted;
        group.always.for_ports(c.sport, c.dport, |r| {
            if !(encrypted && needs_payload(&rules.rules[r as usize])) {
                self.scratch.add_candidate(r);
            }
        });
        if !c.payload.is_empty() && !encrypted {
            for (key, pf) in &group.prefilters {
                if key.0 != Buffer::Payload {
                    continue;
                }
                let Scratch {
                    matcher,
                    mark,
                    generation,
                    candidates,
                    ..
                } = &mut self.scratch;
                pf.matcher.scan(matcher, c.payload, |id| {
                    for &r in &pf.rules_of[id] {
                        add_candidate(mark, *generation, candidates, r);
                    }
                });
            }
        }
        self.scratch.matched_now.clear();
        let mut blocked = false;
        if !self.scratch.candidates.is_empty() {
            self.scratch.candidates.sort_unstable();
            let candidates = std::mem::take(&mut self.scratch.candidates);
            for &r in &candidates {
                let rule = &rules.rules[r as usize];
                self.counters.rule_checks += 1;
                if !rule_matches(&mut self.scratch, rule, flow, c) {
                    continue;
                }
                self.scratch.matched_now.push(r);
                blocked |= self.on_match(rules, r, flow, c, alerts);
            }
            self.scratch.candidates = candidates;
        }
        if c.proto == TCP && !encrypted {
            blocked |= self.stream_window_rules(rules, group, flow, c, alerts);
        }
        blocked
    }

    /// Raw content split across TCP segments: the prefilter looks at the boundary between the
    /// direction's earlier in-order bytes and this packet's (as far as the longest pattern
    /// reaches on either side); a candidate alerts if it matches the window (earlier bytes +
    /// this packet's) but neither the earlier bytes alone (it alerted then) nor this packet alone
    /// (it alerted above). Only rules whose payload checks are unanchored contents take part:
    /// `offset`, `depth`, `endswith`, negations, `dsize`, pcre and byte tests are about one
    /// packet's payload.
    fn stream_window_rules(
        &mut self,
        rules: &RuleSet,
        group: &Group,
        flow: &mut Flow,
        c: &Ctx,
        alerts: &mut Vec<Alert>,
    ) -> bool {
        let released = self.scratch.raw_new.len() > c.payload.len();
        if (self.scratch.raw_prev.is_empty() && !released) || self.scratch.raw_new.is_empty() {
            return false;
        }
        let mut window = std::mem::take(&mut self.scratch.window);
        let mut cands = std::mem::take(&mut self.scratch.window_candidates);
        cands.clear();
        for (key, pf) in &group.prefilters {
            if *key != (Buffer::Payload, false) || pf.max_len < 2 {
                continue;
            }
            let reach = pf.max_len - 1;
            let prev = &self.scratch.raw_prev;
            let new = &self.scratch.raw_new;
            // Bytes released from segments held behind a gap were never scanned together:
            // scan all of them; otherwise only the boundary with the earlier bytes.
            let released = new.len() > c.payload.len();
            let upto = if released {
                new.len()
            } else {
                new.len().min(reach)
            };
            window.clear();
            window.extend_from_slice(&prev[prev.len().saturating_sub(reach)..]);
            window.extend_from_slice(&new[..upto]);
            let Scratch {
                matcher,
                matched_now,
                ..
            } = &mut self.scratch;
            pf.matcher.scan(matcher, &window, |id| {
                for &r in &pf.rules_of[id] {
                    if rules.stream_ok[r as usize] && !matched_now.contains(&r) {
                        cands.push(r);
                    }
                }
            });
        }
        let mut blocked = false;
        if !cands.is_empty() {
            cands.sort_unstable();
            cands.dedup();
            window.clear();
            window.extend_from_slice(&self.scratch.raw_prev);
            window.extend_from_slice(&self.scratch.raw_new);
            let prev = std::mem::take(&mut self.scratch.raw_prev);
            let in_window = Ctx {
                payload: &window,
                ..*c
            };
            let before = Ctx {
                payload: &prev,
                ..*c
            };
            for &r in &cands {
                let rule = &rules.rules[r as usize];
                self.counters.rule_checks += 1;
                if rule_matches(&mut self.scratch, rule, flow, &in_window)
                    && !rule_matches(&mut self.scratch, rule, flow, &before)
                {
                    blocked |= self.on_match(rules, r, flow, &in_window, alerts);
                }
            }
            self.scratch.raw_prev = prev;
        }
        self.scratch.window = window;
        self.scratch.window_candidates = cands;
        blocked
    }

    fn ip_only(&mut self, rules: &RuleSet, slot: u32, c: &Ctx, alerts: &mut Vec<Alert>) -> bool {
        let mut cands = std::mem::take(&mut self.scratch.candidates);
        cands.clear();
        rules.ip_only.candidates(c.src, c.dst, &mut cands);
        let mut blocked = false;
        let mut flow = std::mem::take(&mut self.flows.slots[slot as usize]);
        for &r in &cands {
            let rule = &rules.rules[r as usize];
            if proto_matches(rule, c.proto, None) && header_matches(rule, c) {
                blocked |= self.on_match(rules, r, &mut flow, c, alerts);
            }
        }
        self.flows.slots[slot as usize] = flow;
        self.scratch.candidates = cands;
        blocked
    }

    /// Prefilter an app-layer group: each buffer its rules need, built once.
    fn collect(&mut self, group: &Group, slot: u32, c: &Ctx) {
        group
            .always
            .for_ports(c.sport, c.dport, |r| self.scratch.add_candidate(r));
        for (key, pf) in &group.prefilters {
            if !self
                .scratch
                .build(&self.flows.slots[slot as usize], *key, c)
            {
                continue;
            }
            let k = key_index(*key);
            let data = std::mem::take(&mut self.scratch.data[k]);
            let segs = std::mem::take(&mut self.scratch.segs[k]);
            for &(a, b) in &segs {
                let Scratch {
                    matcher,
                    mark,
                    generation,
                    candidates,
                    ..
                } = &mut self.scratch;
                pf.matcher
                    .scan(matcher, &data[a as usize..b as usize], |id| {
                        for &r in &pf.rules_of[id] {
                            add_candidate(mark, *generation, candidates, r);
                        }
                    });
            }
            self.scratch.data[k] = data;
            self.scratch.segs[k] = segs;
        }
    }

    fn verify_candidates(
        &mut self,
        rules: &RuleSet,
        slot: u32,
        c: &Ctx,
        alerts: &mut Vec<Alert>,
    ) -> bool {
        if self.scratch.candidates.is_empty() {
            return false;
        }
        self.scratch.candidates.sort_unstable();
        let candidates = std::mem::take(&mut self.scratch.candidates);
        let mut blocked = false;
        let mut flow = std::mem::take(&mut self.flows.slots[slot as usize]);
        for &r in &candidates {
            let rule = &rules.rules[r as usize];
            self.counters.rule_checks += 1;
            if let Some(k) = c.tx_key
                && flow.fired.contains(&(k, r))
            {
                continue;
            }
            if !rule_matches(&mut self.scratch, rule, &flow, c) {
                continue;
            }
            if let Some(k) = c.tx_key {
                flow.fired.push((k, r));
            }
            blocked |= self.on_match(rules, r, &mut flow, c, alerts);
        }
        self.flows.slots[slot as usize] = flow;
        self.scratch.candidates = candidates;
        blocked
    }

    fn on_match(
        &mut self,
        rules: &RuleSet,
        r: u32,
        flow: &mut Flow,
        c: &Ctx,
        alerts: &mut Vec<Alert>,
    ) -> bool {
        let rule = &rules.rules[r as usize];
        for fb in &rule.flowbits {
            for &n in &fb.names {
                match fb.op {
                    FlowbitOp::Set => flow.set_bit(n, true),
                    FlowbitOp::Unset => flow.set_bit(n, false),
                    FlowbitOp::Toggle => {
                        let v = flow.bit(n);
                        flow.set_bit(n, !v);
                    }
                    _ => {}
                }
            }
        }
        self.counters.rule_hits[r as usize] += 1;
        if rule.action == Action::Pass {
            // As Suricata: a pass rule passes the rest of the flow (allow-listed traffic).
            flow.passed = true;
            return false;
        }
        if rule.noalert {
            return false;
        }
        if let Some(t) = rule.threshold
            && !self.threshold_allows(r, t, c)
        {
            return false;
        }
        let blocks = matches!(rule.action, Action::Drop | Action::Reject);
        if rule.action == Action::Reject {
            self.scratch.rejected = true;
        }
        self.counters.alerts += 1;
        alerts.push(Alert {
            ts: c.ts,
            rule: r,
            sid: rule.sid,
            gid: rule.gid,
            rev: rule.rev,
            flow_id: flow.id,
            src: c.src,
            dst: c.dst,
            sport: c.sport,
            dport: c.dport,
            proto: c.proto,
            app: flow.app_proto(),
            blocked: blocks && self.config.inline,
        });
        blocks
    }

    fn threshold_allows(&mut self, r: u32, t: crate::rule::Threshold, c: &Ctx) -> bool {
        let unspecified = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
        let key = match t.track {
            Track::BySrc => (r, c.src, unspecified),
            Track::ByDst => (r, c.dst, unspecified),
            Track::ByRule => (r, unspecified, unspecified),
            Track::ByBoth => (r, c.src, c.dst),
        };
        let now = c.ts;
        let st = self.thresholds.entry(key).or_insert(ThresholdState {
            window_start: now,
            count: 0,
            alerted: false,
        });
        if now - st.window_start >= f64::from(t.seconds) {
            *st = ThresholdState {
                window_start: now,
                count: 0,
                alerted: false,
            };
        }
        st.count += 1;
        match t.kind {
            ThresholdKind::Limit => st.count <= t.count,
            ThresholdKind::Threshold => {
                if st.count >= t.count {
                    st.count = 0;
                    true
                } else {
                    false
                }
            }
            ThresholdKind::Both => {
                if st.count >= t.count && !st.alerted {
                    st.alerted = true;
                    true
                } else {
                    false
                }
            }
            ThresholdKind::DetectionFilter => st.count > t.count,
        }
    }
}

/// Full verification of one rule; in app context buffers are built from `flow` into `scratch`.
fn rule_matches(scratch: &mut Scratch, rule: &Rule, flow: &Flow, c: &Ctx) -> bool {
    // A `tcp` rule with app-layer buffers is inspected on that protocol's transactions.
    let tcp_rule_on_app = c.app.is_some() && rule.proto == Proto::Tcp;
    if !(proto_matches(rule, c.proto, flow.app_proto()) || tcp_rule_on_app) {
        return false;
    }
    // Cheap per-packet tests before the header's address sets.
    if let Some(d) = rule.flow.to_server
        && d != c.to_server
    {
        return false;
    }
    if let Some(e) = rule.flow.established
        && e != c.established
    {
        return false;
    }
    if let Some(cmp) = rule.dsize
        && !cmp.matches(c.payload.len() as u64)
    {
        return false;
    }
    if let Some(f) = rule.tcp_flags
        && !c.tcp_flags.is_some_and(|fl| f.matches(fl))
    {
        return false;
    }
    if !header_matches(rule, c) {
        return false;
    }
    if rule.itype.is_some() || rule.icode.is_some() {
        let Some((t, code)) = c.icmp else {
            return false;
        };
        if rule.itype.is_some_and(|m| !m.matches(u64::from(t)))
            || rule.icode.is_some_and(|m| !m.matches(u64::from(code)))
        {
            return false;
        }
    }
    for list in &rule.lists {
        let ok = if list.buffer == Buffer::Payload && c.app.is_none() {
            inspect(&list.items, c.payload)
        } else {
            let key = (list.buffer, list.transforms.dotprefix);
            if c.app.is_none() || !scratch.build(flow, key, c) {
                return false;
            }
            let k = key_index(key);
            let data = &scratch.data[k];
            scratch.segs[k]
                .iter()
                .any(|&(a, b)| inspect(&list.items, &data[a as usize..b as usize]))
        };
        if !ok {
            return false;
        }
    }
    for fb in &rule.flowbits {
        let test = |n: &u32| flow.bit(*n);
        let ok = match fb.op {
            FlowbitOp::IsSet => {
                if fb.any {
                    fb.names.iter().any(test)
                } else {
                    fb.names.iter().all(test)
                }
            }
            FlowbitOp::IsNotSet => {
                if fb.any {
                    fb.names.iter().any(|n| !flow.bit(*n))
                } else {
                    fb.names.iter().all(|n| !flow.bit(*n))
                }
            }
            _ => true,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Fill `out` with an HTTP buffer of `tx` for the side being inspected; `false` when absent.
pub fn http_buffer(tx: &HttpTx, b: Buffer, to_server: bool, out: &mut Vec<u8>) -> bool {
    out.clear();
    let req = &tx.req_head[..];
    let resp = &tx.resp_head[..];
    let side = if to_server { req } else { resp };
    let hdr = |head: &[u8], name: &str, out: &mut Vec<u8>| -> bool {
        match http::header(head, name) {
            Some(v) => {
                out.extend_from_slice(v);
                true
            }
            None => false,
        }
    };
    if req.is_empty() && b.side() == crate::rule::Side::Request {
        return false;
    }
    match b {
        Buffer::HttpUri | Buffer::HttpUriRaw => {
            let (_, uri, _) = http::line_parts(http::first_line(req));
            if uri.is_empty() {
                return false;
            }
            if b == Buffer::HttpUri {
                http::normalize_uri(uri, out);
            } else {
                out.extend_from_slice(uri);
            }
            true
        }
        Buffer::HttpMethod => {
            out.extend_from_slice(http::line_parts(http::first_line(req)).0);
            !out.is_empty()
        }
        Buffer::HttpProtocol => {
            let line = http::first_line(side);
            let parts = http::line_parts(line);
            out.extend_from_slice(if to_server { parts.2 } else { parts.0 });
            !out.is_empty()
        }
        Buffer::HttpRequestLine => {
            out.extend_from_slice(http::first_line(req));
            !out.is_empty()
        }
        Buffer::HttpResponseLine => {
            out.extend_from_slice(http::first_line(resp));
            !out.is_empty()
        }
        Buffer::HttpStatCode | Buffer::HttpStatMsg => {
            let (_, code, msg) = http::line_parts(http::first_line(resp));
            out.extend_from_slice(if b == Buffer::HttpStatCode { code } else { msg });
            !out.is_empty()
        }
        Buffer::HttpHost | Buffer::HttpHostRaw => {
            let Some(v) = http::header(req, "Host") else {
                return false;
            };
            if b == Buffer::HttpHost {
                let v = match v.iter().rposition(|&c| c == b':') {
                    Some(p) if !v.contains(&b']') || v[..p].ends_with(b"]") => &v[..p],
                    _ => v,
                };
                out.extend(v.iter().map(u8::to_ascii_lowercase));
            } else {
                out.extend_from_slice(v);
            }
            true
        }
        Buffer::HttpUserAgent => hdr(req, "User-Agent", out),
        Buffer::HttpReferer => hdr(req, "Referer", out),
        Buffer::HttpAccept => hdr(req, "Accept", out),
        Buffer::HttpAcceptEnc => hdr(req, "Accept-Encoding", out),
        Buffer::HttpAcceptLang => hdr(req, "Accept-Language", out),
        Buffer::HttpLocation => hdr(resp, "Location", out),
        Buffer::HttpServer => hdr(resp, "Server", out),
        Buffer::HttpConnection => hdr(side, "Connection", out),
        Buffer::HttpContentType => hdr(side, "Content-Type", out),
        Buffer::HttpContentLen => hdr(side, "Content-Length", out),
        Buffer::HttpCookie => hdr(side, if to_server { "Cookie" } else { "Set-Cookie" }, out),
        Buffer::HttpHeader | Buffer::HttpStart => {
            if side.is_empty() {
                return false;
            }
            if b == Buffer::HttpStart {
                out.extend_from_slice(http::first_line(side));
                out.extend_from_slice(b"\r\n");
            }
            let skip: &[u8] = if to_server { b"Cookie" } else { b"Set-Cookie" };
            for (n, v) in http::headers(side) {
                if b == Buffer::HttpHeader && n.eq_ignore_ascii_case(skip) {
                    continue;
                }
                out.extend_from_slice(n);
                out.extend_from_slice(b": ");
                out.extend_from_slice(v);
                out.extend_from_slice(b"\r\n");
            }
            if b == Buffer::HttpStart {
                out.extend_from_slice(b"\r\n");
            }
            !out.is_empty()
        }
        Buffer::HttpHeaderRaw => {
            let start = memchr::memchr(b'\n', side).map_or(side.len(), |p| p + 1);
            out.extend_from_slice(&side[start..]);
            !out.is_empty()
        }
        Buffer::HttpHeaderNames => {
            if side.is_empty() {
                return false;
            }
            out.extend_from_slice(b"\r\n");
            for (n, _) in http::headers(side) {
                out.extend_from_slice(n);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"\r\n");
            true
        }
        Buffer::HttpRequestBody => {
            out.extend_from_slice(&tx.req_body);
            !out.is_empty()
        }
        Buffer::HttpResponseBody => {
            out.extend_from_slice(&tx.resp_body);
            !out.is_empty()
        }
        Buffer::FileData => {
            out.extend_from_slice(if to_server {
                &tx.req_body
            } else {
                &tx.resp_body
            });
            !out.is_empty()
        }
        _ => false,
    }
}
