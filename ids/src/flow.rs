//! The flow table: connections keyed by their 5-tuple (either direction), with who is client and
//! server, TCP handshake state, per-direction reassembly and the app-layer state. Flows live in a
//! slab whose slots (and buffers) are reused, so steady-state traffic does not allocate; timeouts
//! and a flow cap bound memory.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::app::dns::DnsMessage;
use crate::app::http::HttpState;
use crate::app::tls::TlsState;
use crate::decode::{Packet, TCP, UDP};
use crate::rule::AppProto;
use crate::stream::Stream;

/// Canonical 5-tuple: the lower endpoint first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    a: (IpAddr, u16),
    b: (IpAddr, u16),
    proto: u8,
}

impl FlowKey {
    pub fn of(p: &Packet) -> FlowKey {
        let x = (p.src, p.sport);
        let y = (p.dst, p.dport);
        if x <= y {
            FlowKey {
                a: x,
                b: y,
                proto: p.proto,
            }
        } else {
            FlowKey {
                a: y,
                b: x,
                proto: p.proto,
            }
        }
    }
}

/// Timeouts in seconds (Suricata's defaults).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub new: f64,
    pub established: f64,
    pub closed: f64,
}

impl Timeouts {
    pub fn for_proto(proto: u8) -> Timeouts {
        match proto {
            TCP => Timeouts {
                new: 60.0,
                established: 600.0,
                closed: 60.0,
            },
            UDP => Timeouts {
                new: 30.0,
                established: 300.0,
                closed: 0.0,
            },
            _ => Timeouts {
                new: 30.0,
                established: 300.0,
                closed: 0.0,
            },
        }
    }
}

/// Application protocol detection result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppState {
    #[default]
    Unknown,
    Detected(AppProto),
    Failed,
}

/// One connection.
#[derive(Debug, Default)]
pub struct Flow {
    pub id: u64,
    pub key: Option<FlowKey>,
    pub client: (Option<IpAddr>, u16),
    pub server: (Option<IpAddr>, u16),
    pub proto: u8,
    pub first_seen: f64,
    pub last_seen: f64,
    pub syn_seen: bool,
    pub synack_seen: bool,
    pub established: bool,
    pub fin: [bool; 2],
    pub closed: bool,
    /// Packets seen [to_server, to_client].
    pub pkts: [u64; 2],
    pub bytes: [u64; 2],
    pub streams: [Stream; 2],
    pub app: AppState,
    pub probed: [usize; 2],
    /// Protocol detection: the first in-order bytes of each direction, kept until a parser can
    /// decide (a request split as `GE` + `T / …` is still recognised), and whether a direction
    /// has been ruled out.
    pub detect: [Vec<u8>; 2],
    pub detect_ruled_out: [bool; 2],
    /// The last in-order bytes of each direction, so raw content split across segments is
    /// still matched.
    pub raw_tail: [Vec<u8>; 2],
    pub http: HttpState,
    pub tls: TlsState,
    pub dns: DnsMessage,
    pub bits: Vec<u64>,
    pub ip_only_done: [bool; 2],
    /// (transaction key, rule) pairs that already alerted, so a transaction alerts once per rule.
    pub fired: Vec<(u64, u32)>,
    /// IPS: a drop rule matched; every later packet is dropped.
    pub dropped: bool,
    /// IPS: the rule that dropped the flow was a `reject`: later packets reset it too.
    pub rejected: bool,
    /// A `pass` rule matched: the rest of the flow is not inspected.
    pub passed: bool,
}

impl Flow {
    fn reset(&mut self) {
        self.key = None;
        self.syn_seen = false;
        self.synack_seen = false;
        self.established = false;
        self.fin = [false; 2];
        self.closed = false;
        self.pkts = [0; 2];
        self.bytes = [0; 2];
        for s in &mut self.streams {
            s.reset();
        }
        self.app = AppState::Unknown;
        self.probed = [0; 2];
        for v in self.detect.iter_mut().chain(self.raw_tail.iter_mut()) {
            v.clear();
        }
        self.detect_ruled_out = [false; 2];
        self.http.reset();
        self.tls.reset();
        self.bits.iter_mut().for_each(|b| *b = 0);
        self.ip_only_done = [false; 2];
        self.fired.clear();
        self.dropped = false;
        self.rejected = false;
        self.passed = false;
    }

    /// Nothing left to inspect in this TCP flow: established, and both directions past the
    /// reassembly depth, or TLS whose application data is encrypted with intact record framing.
    pub fn inspection_done(&self) -> bool {
        if !self.established {
            return false;
        }
        let deep = self
            .streams
            .iter()
            .all(|s| s.delivered >= crate::stream::DEPTH);
        let encrypted = self.app == AppState::Detected(crate::rule::AppProto::Tls)
            && self.tls.encrypted
            && self.tls.server_done
            && !self.tls.framing_broken;
        deep || encrypted
    }

    pub fn client_ip(&self) -> IpAddr {
        self.client
            .0
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }
    pub fn server_ip(&self) -> IpAddr {
        self.server
            .0
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    pub fn app_proto(&self) -> Option<AppProto> {
        match self.app {
            AppState::Detected(a) => Some(a),
            _ => None,
        }
    }

    pub fn bit(&self, n: u32) -> bool {
        self.bits
            .get(n as usize / 64)
            .is_some_and(|w| w & (1 << (n % 64)) != 0)
    }

    pub fn set_bit(&mut self, n: u32, on: bool) {
        let w = n as usize / 64;
        if self.bits.len() <= w {
            self.bits.resize(w + 1, 0);
        }
        if on {
            self.bits[w] |= 1 << (n % 64);
        } else {
            self.bits[w] &= !(1 << (n % 64));
        }
    }

    fn timed_out(&self, now: f64) -> bool {
        let t = Timeouts::for_proto(self.proto);
        let limit = if self.closed {
            t.closed
        } else if self.established {
            t.established
        } else {
            t.new
        };
        now - self.last_seen > limit
    }
}

/// The flow table.
#[derive(Debug)]
pub struct FlowTable {
    pub slots: Vec<Flow>,
    free: Vec<u32>,
    index: HashMap<FlowKey, u32, ahash::RandomState>,
    pub max_flows: usize,
    next_id: u64,
    last_sweep: f64,
}

impl FlowTable {
    pub fn new(max_flows: usize) -> Self {
        FlowTable {
            slots: Vec::new(),
            free: Vec::new(),
            index: HashMap::with_hasher(ahash::RandomState::with_seeds(1, 2, 3, 4)),
            max_flows,
            next_id: 1,
            last_sweep: 0.0,
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Find or create the packet's flow; returns (slot, packet goes to the server, new flow).
    pub fn lookup(&mut self, p: &Packet, now: f64) -> Option<(u32, bool, bool)> {
        let key = FlowKey::of(p);
        if let Some(&slot) = self.index.get(&key) {
            let f = &self.slots[slot as usize];
            let to_server = f.client == (Some(p.src), p.sport);
            return Some((slot, to_server, false));
        }
        if self.index.len() >= self.max_flows {
            return None;
        }
        let slot = if let Some(s) = self.free.pop() {
            s
        } else {
            self.slots.push(Flow::default());
            (self.slots.len() - 1) as u32
        };
        let f = &mut self.slots[slot as usize];
        f.reset();
        f.id = self.next_id;
        self.next_id += 1;
        f.key = Some(key);
        f.proto = p.proto;
        f.first_seen = now;
        f.last_seen = now;
        // The client is who sent the first packet, unless it is a SYN/ACK or an answer from a
        // well-known service port.
        let reversed = match p.tcp {
            Some(t) => t.syn() && t.ack_flag(),
            None => p.proto == UDP && p.sport == 53 && p.dport != 53,
        };
        if reversed {
            f.client = (Some(p.dst), p.dport);
            f.server = (Some(p.src), p.sport);
        } else {
            f.client = (Some(p.src), p.sport);
            f.server = (Some(p.dst), p.dport);
        }
        self.index.insert(key, slot);
        Some((slot, !reversed, true))
    }

    /// Remove a flow (after it was finished by the engine).
    pub fn remove(&mut self, slot: u32) {
        if let Some(key) = self.slots[slot as usize].key.take() {
            self.index.remove(&key);
            self.free.push(slot);
        }
    }

    /// Slots of flows idle past their timeout; checked at most once a second of packet time.
    pub fn expired(&mut self, now: f64, out: &mut Vec<u32>) {
        if now - self.last_sweep < 1.0 {
            return;
        }
        self.last_sweep = now;
        for &slot in self.index.values() {
            if self.slots[slot as usize].timed_out(now) {
                out.push(slot);
            }
        }
    }

    /// Every live flow (end of capture).
    pub fn all(&self, out: &mut Vec<u32>) {
        out.extend(self.index.values().copied());
        out.sort_unstable();
    }
}
