//! IP defragmentation (IPv4, and IPv6 Fragment headers) before inspection, so a request split
//! into 8-byte fragments is seen whole, in any arrival order.
//!
//! Where fragments overlap, the bytes that count are those the *destination* keeps, which
//! depends on its operating system; the policy is chosen per destination network
//! ([`DefragConfig::host_policies`], default BSD as in Suricata), following the target-based
//! model of Novak ("Target-Based Fragmentation Reassembly", 2005) and Snort's frag3:
//! - `First` (Windows, macOS, HP-UX 11): the fragment that arrived first keeps its bytes;
//! - `Last` (Cisco IOS): the latest fragment's bytes win;
//! - `Bsd` (FreeBSD, OpenBSD, AIX…): a later fragment wins only where it starts *before* the
//!   earlier one;
//! - `Linux` (older kernels): as BSD, but a later fragment also wins when it starts at the same
//!   offset;
//! - `Discard` (Linux since 4.19 for IPv4, every RFC 5722 IPv6 stack): overlapping fragments
//!   make the destination drop the whole datagram — there is nothing to inspect.
//!
//! Limits (all counted, each an [`Anomaly`]): trackers alive at once, bytes held, fragments per
//! datagram, a timeout (packet time); fragments beyond a limit are not kept. Tiny non-final
//! fragments and overlaps that carry *different* bytes are evasion signals and reported too; the
//! datagram is still reassembled and inspected.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnetwork::IpNetwork;

use crate::decode::Fragment;

/// Which bytes win where fragments overlap (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    First,
    Last,
    #[default]
    Bsd,
    Linux,
    Discard,
}

impl Policy {
    /// Whether a fragment that arrived later takes the bytes it shares with an earlier one.
    fn later_wins(self, later: (usize, usize), earlier: (usize, usize)) -> bool {
        match self {
            Policy::First | Policy::Discard => false,
            Policy::Last => true,
            Policy::Bsd => later.0 < earlier.0,
            Policy::Linux => later.0 <= earlier.0,
        }
    }
}

/// Limits and policies.
#[derive(Debug, Clone)]
pub struct DefragConfig {
    /// Seconds (packet time) a datagram may take to complete.
    pub timeout: f64,
    /// Datagrams being reassembled at once.
    pub max_trackers: usize,
    /// Fragment bytes held in total.
    pub max_bytes: usize,
    /// Fragments per datagram.
    pub max_fragments: usize,
    /// A non-final fragment carrying fewer bytes than this is reported as tiny.
    pub tiny_below: usize,
    /// Overlap policy per destination network (first match wins).
    pub host_policies: Vec<(IpNetwork, Policy)>,
    pub default_policy: Policy,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig {
            timeout: 60.0,
            max_trackers: 4096,
            max_bytes: 16 << 20,
            max_fragments: 256,
            tiny_below: 64,
            host_policies: Vec::new(),
            default_policy: Policy::Bsd,
        }
    }
}

/// Something about fragments worth telling the SOC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// A non-final fragment smaller than `tiny_below`.
    TinyFragment,
    /// Fragments overlap with different bytes (the policy chose).
    FragmentOverlap,
    /// Overlap under the `discard` policy: the destination drops the datagram.
    FragmentOverlapDiscarded,
    /// A limit (trackers, bytes, fragments per datagram) was reached: fragments not kept.
    FragmentLimit,
    /// A datagram did not complete in time.
    FragmentTimeout,
    /// A fragment would make the datagram longer than 65,535 bytes.
    FragmentTooLarge,
    /// A TCP segment repeats bytes already delivered with *different* bytes (a retransmission
    /// with a changed payload: the first copy is kept, the change is an evasion signal).
    StreamOverlapDifferentData,
}

impl AnomalyKind {
    /// The name Suricata's EVE `anomaly` records use for the same event.
    pub fn eve_name(self, v6: bool) -> &'static str {
        match (self, v6) {
            (AnomalyKind::TinyFragment, false) => "ipv4.frag_too_small",
            (AnomalyKind::TinyFragment, true) => "ipv6.frag_too_small",
            (AnomalyKind::FragmentOverlap | AnomalyKind::FragmentOverlapDiscarded, false) => {
                "ipv4.frag_overlap"
            }
            (AnomalyKind::FragmentOverlap | AnomalyKind::FragmentOverlapDiscarded, true) => {
                "ipv6.frag_overlap"
            }
            (AnomalyKind::FragmentLimit, _) => "defrag.memcap_reached",
            (AnomalyKind::FragmentTimeout, _) => "defrag.timeout",
            (AnomalyKind::FragmentTooLarge, false) => "ipv4.frag_pkt_too_large",
            (AnomalyKind::FragmentTooLarge, true) => "ipv6.frag_pkt_too_large",
            (AnomalyKind::StreamOverlapDifferentData, _) => {
                "stream.reassembly_overlap_different_data"
            }
        }
    }
}

/// One anomaly with where it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anomaly {
    /// Packet time.
    pub ts: f64,
    pub kind: AnomalyKind,
    pub src: IpAddr,
    pub dst: IpAddr,
}

/// Counters since start.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DefragCounters {
    pub fragments: u64,
    pub reassembled: u64,
    pub tiny: u64,
    pub overlaps: u64,
    pub discarded: u64,
    pub limit_drops: u64,
    pub timeouts: u64,
    /// Anomalies not kept because the caller had not drained [`MAX_ANOMALIES`].
    pub anomalies_dropped: u64,
}

/// Anomalies kept until drained.
pub const MAX_ANOMALIES: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    /// IPv4: the protocol (part of the RFC 791 key); IPv6: 0 (the next header can differ).
    proto: u8,
}

#[derive(Debug)]
struct Piece {
    offset: usize,
    /// Range in the tracker's `data`.
    start: usize,
    len: usize,
}

#[derive(Debug)]
struct Tracker {
    first_seen: f64,
    pieces: Vec<Piece>,
    data: Vec<u8>,
    /// Payload length, once the final fragment arrived.
    total: Option<usize>,
    /// The offset-0 fragment's header and next protocol.
    header: Option<([u8; 40], u8)>,
    v6: bool,
}

/// The reassembler: one per engine (worker).
#[derive(Debug, Default)]
pub struct Defrag {
    config: DefragConfig,
    trackers: HashMap<Key, Tracker>,
    bytes: usize,
    pub counters: DefragCounters,
    /// Anomalies since the caller last drained them.
    pub anomalies: Vec<Anomaly>,
    /// Per-byte winner while building a datagram (reused).
    owner: Vec<u32>,
    /// Packet time of the call being handled.
    now: f64,
}

/// Most bytes an IP payload can have.
const MAX_DATAGRAM: usize = 65_535;

impl Defrag {
    pub fn new(config: DefragConfig) -> Self {
        Defrag {
            config,
            ..Defrag::default()
        }
    }

    fn policy_for(&self, dst: IpAddr) -> Policy {
        self.config
            .host_policies
            .iter()
            .find(|(net, _)| net.contains(dst))
            .map_or(self.config.default_policy, |(_, p)| *p)
    }

    fn anomaly(&mut self, kind: AnomalyKind, src: IpAddr, dst: IpAddr) {
        if self.anomalies.len() < MAX_ANOMALIES {
            self.anomalies.push(Anomaly {
                ts: self.now,
                kind,
                src,
                dst,
            });
        } else {
            self.counters.anomalies_dropped += 1;
        }
    }

    /// Drop datagrams older than the timeout (packet time `now`).
    pub fn expire(&mut self, now: f64) {
        self.now = now;
        let timeout = self.config.timeout;
        let mut gone = Vec::new();
        self.trackers.retain(|k, t| {
            let keep = now - t.first_seen <= timeout;
            if !keep {
                gone.push((*k, t.data.len()));
            }
            keep
        });
        for (k, n) in gone {
            self.bytes -= n;
            self.counters.timeouts += 1;
            self.anomaly(AnomalyKind::FragmentTimeout, k.src, k.dst);
        }
    }

    /// Datagrams being reassembled.
    pub fn pending(&self) -> usize {
        self.trackers.len()
    }

    /// Add a fragment of the datagram `src` → `dst` (IPv4 protocol `proto`, IPv6 next header).
    /// When it completes the datagram, the whole IP packet (a fresh IPv4 or IPv6 header and the
    /// reassembled payload) is written to `out` and `true` returned.
    pub fn add(
        &mut self,
        now: f64,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        frag: &Fragment<'_>,
        out: &mut Vec<u8>,
    ) -> bool {
        self.now = now;
        self.counters.fragments += 1;
        let key = Key {
            src,
            dst,
            id: frag.id,
            proto: if frag.v6 { 0 } else { proto },
        };
        if frag.more && frag.data.len() < self.config.tiny_below {
            self.counters.tiny += 1;
            self.anomaly(AnomalyKind::TinyFragment, src, dst);
        }
        let end = frag.offset + frag.data.len();
        if end > MAX_DATAGRAM {
            self.anomaly(AnomalyKind::FragmentTooLarge, src, dst);
            return false;
        }
        let full =
            !self.trackers.contains_key(&key) && self.trackers.len() >= self.config.max_trackers;
        let too_many = self
            .trackers
            .get(&key)
            .is_some_and(|t| t.pieces.len() >= self.config.max_fragments);
        if full || too_many || self.bytes + frag.data.len() > self.config.max_bytes {
            self.counters.limit_drops += 1;
            self.anomaly(AnomalyKind::FragmentLimit, src, dst);
            return false;
        }
        let t = self.trackers.entry(key).or_insert_with(|| Tracker {
            first_seen: now,
            pieces: Vec::new(),
            data: Vec::new(),
            total: None,
            header: None,
            v6: frag.v6,
        });
        let start = t.data.len();
        t.data.extend_from_slice(frag.data);
        self.bytes += frag.data.len();
        t.pieces.push(Piece {
            offset: frag.offset,
            start,
            len: frag.data.len(),
        });
        if frag.offset == 0 && t.header.is_none() {
            t.header = Some((frag.header, proto));
        }
        if !frag.more {
            // The first final fragment fixes the length (a conflicting one is an overlap case).
            t.total.get_or_insert(end);
        }
        let complete = match (t.total, t.header) {
            (Some(total), Some(_)) => covered(&t.pieces, total),
            _ => false,
        };
        if !complete {
            return false;
        }
        let Some(t) = self.trackers.remove(&key) else {
            return false;
        };
        self.bytes -= t.data.len();
        let policy = self.policy_for(dst);
        match self.build(&t, policy, out) {
            Built::Whole { overlapped } => {
                if overlapped {
                    self.counters.overlaps += 1;
                    self.anomaly(AnomalyKind::FragmentOverlap, src, dst);
                }
                self.counters.reassembled += 1;
                true
            }
            Built::Discarded => {
                self.counters.discarded += 1;
                self.anomaly(AnomalyKind::FragmentOverlapDiscarded, src, dst);
                false
            }
        }
    }

    /// Lay the pieces out by `policy` and put a header in front.
    fn build(&mut self, t: &Tracker, policy: Policy, out: &mut Vec<u8>) -> Built {
        let (Some(total), Some((header, proto))) = (t.total, t.header) else {
            return Built::Discarded;
        };
        const NONE: u32 = u32::MAX;
        self.owner.clear();
        self.owner.resize(total, NONE);
        let mut overlapped = false;
        let mut any_overlap = false;
        for (i, p) in t.pieces.iter().enumerate() {
            let end = (p.offset + p.len).min(total);
            for b in p.offset..end {
                let cur = self.owner[b];
                if cur == NONE {
                    self.owner[b] = i as u32;
                    continue;
                }
                any_overlap = true;
                let q = &t.pieces[cur as usize];
                let theirs = t.data[q.start + (b - q.offset)];
                let mine = t.data[p.start + (b - p.offset)];
                overlapped |= theirs != mine;
                if policy.later_wins((p.offset, p.offset + p.len), (q.offset, q.offset + q.len)) {
                    self.owner[b] = i as u32;
                }
            }
        }
        if policy == Policy::Discard && any_overlap {
            return Built::Discarded;
        }
        out.clear();
        if t.v6 {
            out.extend_from_slice(&header[..40]);
            out[4..6].copy_from_slice(&(total as u16).to_be_bytes());
            out[6] = proto;
        } else {
            out.extend_from_slice(&header[..20]);
            out[0] = 0x45;
            out[2..4].copy_from_slice(&((total + 20).min(0xffff) as u16).to_be_bytes());
            out[6] = 0;
            out[7] = 0;
            out[9] = proto;
            out[10] = 0;
            out[11] = 0;
            let sum = ipv4_checksum(&out[..20]);
            out[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        let base = out.len();
        out.resize(base + total, 0);
        for (b, &o) in self.owner.iter().enumerate() {
            if o != NONE {
                let q = &t.pieces[o as usize];
                out[base + b] = t.data[q.start + (b - q.offset)];
            }
        }
        Built::Whole { overlapped }
    }
}

enum Built {
    Whole { overlapped: bool },
    Discarded,
}

/// Whether the pieces cover `0..total` without a hole.
fn covered(pieces: &[Piece], total: usize) -> bool {
    let mut spans: Vec<(usize, usize)> = pieces
        .iter()
        .map(|p| (p.offset, p.offset + p.len))
        .collect();
    spans.sort_unstable();
    let mut reach = 0;
    for (a, b) in spans {
        if a > reach {
            return false;
        }
        reach = reach.max(b);
        if reach >= total {
            return true;
        }
    }
    reach >= total
}

fn ipv4_checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in h.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    fn frag(offset: usize, more: bool, data: &[u8]) -> Fragment<'_> {
        let mut header = [0u8; 40];
        header[..20].copy_from_slice(&[
            0x45, 0, 0, 0, 0, 7, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ]);
        Fragment {
            id: 7,
            offset,
            more,
            v6: false,
            header,
            data,
        }
    }

    fn run(policy: Policy, frags: &[Fragment<'_>]) -> Option<Vec<u8>> {
        let mut d = Defrag::new(DefragConfig {
            default_policy: policy,
            ..DefragConfig::default()
        });
        let mut out = Vec::new();
        for f in frags {
            if d.add(0.0, A, B, 17, f, &mut out) {
                return Some(out[20..].to_vec());
            }
        }
        None
    }

    #[test]
    fn any_order_reassembles() {
        let parts = [
            frag(0, true, b"AAAAAAAA"),
            frag(8, true, b"BBBBBBBB"),
            frag(16, false, b"CC"),
        ];
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let f: Vec<_> = order.iter().map(|&i| parts[i]).collect();
            assert_eq!(run(Policy::Bsd, &f).unwrap(), b"AAAAAAAABBBBBBBBCC");
        }
        // Missing a piece: nothing yet.
        assert!(run(Policy::Bsd, &[parts[0], parts[2]]).is_none());
    }

    /// Policies on the classic overlap: an original fragment at 8, then a later one at 0
    /// covering it with other bytes, then one at 8 again.
    #[test]
    fn overlap_policies_choose_as_documented() {
        let f = [
            frag(0, true, b"00000000"),
            frag(8, true, b"AAAAAAAA"),
            frag(8, true, b"BBBBBBBB"),
            frag(16, false, b"ZZ"),
        ];
        assert_eq!(run(Policy::First, &f).unwrap(), b"00000000AAAAAAAAZZ");
        assert_eq!(run(Policy::Last, &f).unwrap(), b"00000000BBBBBBBBZZ");
        assert_eq!(run(Policy::Bsd, &f).unwrap(), b"00000000AAAAAAAAZZ");
        assert_eq!(run(Policy::Linux, &f).unwrap(), b"00000000BBBBBBBBZZ");
        assert!(run(Policy::Discard, &f).is_none());
        // BSD: a later fragment starting before an earlier one wins over it.
        let g = [
            frag(8, true, b"AAAAAAAA"),
            frag(0, true, b"0000000011111111"),
            frag(16, false, b"ZZ"),
        ];
        assert_eq!(run(Policy::Bsd, &g).unwrap(), b"0000000011111111ZZ");
        assert_eq!(run(Policy::First, &g).unwrap(), b"00000000AAAAAAAAZZ");
    }

    #[test]
    fn limits_and_anomalies_are_counted() {
        let mut d = Defrag::new(DefragConfig {
            max_trackers: 2,
            ..DefragConfig::default()
        });
        let mut out = Vec::new();
        for id in 0..5u32 {
            let mut f = frag(0, true, b"AAAAAAAA");
            f.id = id;
            d.add(0.0, A, B, 17, &f, &mut out);
        }
        assert_eq!(d.pending(), 2);
        assert_eq!(d.counters.limit_drops, 3);
        assert_eq!(d.counters.tiny, 5);
        d.expire(61.0);
        assert_eq!(d.pending(), 0);
        assert_eq!(d.counters.timeouts, 2);
        assert!(
            d.anomalies
                .iter()
                .any(|a| a.kind == AnomalyKind::FragmentTimeout)
        );
        // Beyond 65,535 bytes: refused.
        assert!(!d.add(0.0, A, B, 17, &frag(65_530, false, b"0123456789"), &mut out));
    }

    #[test]
    fn per_host_policy_is_chosen_by_destination() {
        let d = Defrag::new(DefragConfig {
            host_policies: vec![("10.0.0.0/30".parse().unwrap(), Policy::First)],
            ..DefragConfig::default()
        });
        assert_eq!(d.policy_for(B), Policy::First);
        assert_eq!(d.policy_for("192.0.2.1".parse().unwrap()), Policy::Bsd);
    }
}
