//! A compiled ruleset: rules ordered for flowbits (setters before checkers), grouped by where
//! they are inspected (packet payload per transport, app-layer side per protocol), each group
//! with one multi-pattern prefilter per buffer over its rules' fast patterns, and IP-only rules
//! in an address interval table.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::matcher::{MatchScratch, Matcher};

use crate::loader::{LoadReport, LoadedRules};
use crate::rule::{AppProto, Buffer, FlowbitOp, Item, Proto, Rule};

/// A buffer as a prefilter sees it: which buffer, with or without `dotprefix`.
pub type BufKey = (Buffer, bool);

/// One multi-pattern automaton and the rules behind each pattern.
#[derive(Debug)]
pub struct Prefilter {
    pub matcher: Matcher,
    /// The patterns (lower-case), by pattern id.
    pub patterns: Vec<Vec<u8>>,
    /// Length of the longest pattern.
    pub max_len: usize,
    pub rules_of: Vec<Vec<u32>>,
}

/// Rules inspected at one point (a transport's packets or one app-layer side).
#[derive(Debug, Default)]
pub struct Group {
    pub prefilters: Vec<(BufKey, Prefilter)>,
    /// Rules without a usable fast pattern: verified on every packet their ports allow.
    pub always: Always,
    pub rules: usize,
}

/// Memory allowed to one compiled pattern set before it falls back to a smaller matcher.
pub const MATCHER_BUDGET: usize = 64 << 20;

/// Rules without a fast pattern, indexed by the one port they are bound to (ET's scan rules:
/// `flags:S` to 3389, 1433 …), so a packet meets only those its ports allow. A superset: a rule
/// is indexed by destination port only if its destination ports are not `any`, the rule is not
/// bidirectional and the set is small; by source port likewise; otherwise it is in `any`.
#[derive(Debug, Default)]
pub struct Always {
    pub any: Vec<u32>,
    pub by_dport: HashMap<u16, Vec<u32>>,
    pub by_sport: HashMap<u16, Vec<u32>>,
    pub rules: usize,
}

/// A port set larger than this is not worth indexing port by port.
const MAX_INDEXED_PORTS: u32 = 64;

impl Always {
    fn add(&mut self, idx: u32, rule: &Rule) {
        self.rules += 1;
        let small = |set: &crate::addr::PortSet| {
            let n: u32 = set
                .ranges()
                .iter()
                .map(|(a, b)| u32::from(*b) - u32::from(*a) + 1)
                .sum();
            !set.is_any() && n <= MAX_INDEXED_PORTS
        };
        let map = if rule.bidirectional {
            None
        } else if small(&rule.dst_ports) {
            Some((&mut self.by_dport, &rule.dst_ports))
        } else if small(&rule.src_ports) {
            Some((&mut self.by_sport, &rule.src_ports))
        } else {
            None
        };
        match map {
            Some((map, ports)) => {
                for (a, b) in ports.ranges() {
                    for p in *a..=*b {
                        map.entry(p).or_default().push(idx);
                    }
                }
            }
            None => self.any.push(idx),
        }
    }

    /// Every rule a packet between these ports may match (each once; order not significant).
    pub fn for_ports(&self, sport: u16, dport: u16, mut f: impl FnMut(u32)) {
        self.any.iter().copied().for_each(&mut f);
        if let Some(v) = self.by_dport.get(&dport) {
            v.iter().copied().for_each(&mut f);
        }
        if let Some(v) = self.by_sport.get(&sport) {
            v.iter().copied().for_each(&mut f);
        }
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rules == 0
    }
}

/// Per-rule data for output.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub category: String,
    pub severity: u8,
}

/// Packet groups by transport.
pub const TRANSPORTS: usize = 4;
pub fn transport_index(ip_proto: u8) -> usize {
    match ip_proto {
        crate::decode::TCP => 0,
        crate::decode::UDP => 1,
        crate::decode::ICMP | crate::decode::ICMPV6 => 2,
        _ => 3,
    }
}

fn app_index(app: AppProto, to_server: bool) -> usize {
    let a = match app {
        AppProto::Http => 0,
        AppProto::Dns => 1,
        AppProto::Tls => 2,
    };
    a * 2 + usize::from(!to_server)
}

/// Interval table: address → rules whose indexed side holds it.
#[derive(Debug, Default)]
pub struct IntervalTable {
    starts: Vec<u128>,
    sets: Vec<Vec<u32>>,
}

impl IntervalTable {
    fn build(mut ranges: Vec<(u128, u128, u32)>) -> Self {
        // Sweep: +rule at start, -rule after end.
        let mut events: Vec<(u128, bool, u32)> = Vec::with_capacity(ranges.len() * 2);
        for (a, b, r) in ranges.drain(..) {
            events.push((a, true, r));
            if b < u128::MAX {
                events.push((b + 1, false, r));
            }
        }
        events.sort_unstable();
        let mut active: Vec<u32> = Vec::new();
        let mut t = IntervalTable::default();
        let mut i = 0;
        while i < events.len() {
            let at = events[i].0;
            while i < events.len() && events[i].0 == at {
                let (_, add, r) = events[i];
                if add {
                    active.push(r);
                } else if let Some(p) = active.iter().position(|x| *x == r) {
                    active.swap_remove(p);
                }
                i += 1;
            }
            let mut snapshot = active.clone();
            snapshot.sort_unstable();
            snapshot.dedup();
            t.starts.push(at);
            t.sets.push(snapshot);
        }
        t
    }

    pub fn lookup(&self, x: u128) -> &[u32] {
        let i = self.starts.partition_point(|s| *s <= x);
        if i == 0 { &[] } else { &self.sets[i - 1] }
    }
}

/// IP-only rules indexed by the more specific side.
#[derive(Debug, Default)]
pub struct IpOnly {
    pub v4: [IntervalTable; 2],
    pub v6: [IntervalTable; 2],
    pub rules: usize,
}

impl IpOnly {
    /// Rules that may match a packet between `a` and `b` (either order); verify the header.
    pub fn candidates(&self, a: IpAddr, b: IpAddr, out: &mut Vec<u32>) {
        for ip in [a, b] {
            let (tables, x) = match ip {
                IpAddr::V4(v) => (&self.v4, u128::from(u32::from(v))),
                IpAddr::V6(v) => (&self.v6, u128::from(v)),
            };
            for t in tables {
                out.extend_from_slice(t.lookup(x));
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

/// Everything the engine needs from a ruleset.
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub info: Vec<RuleInfo>,
    pub packet: [Group; TRANSPORTS],
    pub app: [Group; 6],
    pub ip_only: IpOnly,
    pub report: LoadReport,
    pub flowbits: usize,
    pub compile_time: Duration,
    /// Matcher fallbacks taken while compiling (library missing, budget exceeded).
    pub matcher_notes: Vec<String>,
    /// Per rule: whether it takes part in raw stream matching across segment boundaries.
    pub stream_ok: Vec<bool>,
}

/// Whether a rule's payload checks are unanchored positive contents only, so that matching them
/// over a window of consecutive in-order bytes means the same as over one packet.
fn stream_ok(rule: &Rule) -> bool {
    rule.dsize.is_none()
        && rule.lists.iter().any(|l| l.buffer == Buffer::Payload)
        && rule.lists.iter().all(|l| {
            l.buffer == Buffer::Payload
                && l.items.iter().all(|i| {
                    matches!(i, Item::Content(c) if !c.negated
                        && c.offset.is_none()
                        && c.depth.is_none()
                        && !c.endswith)
                })
        })
}

/// The content a rule is prefiltered on: explicit `fast_pattern`, else the longest positive
/// content (app buffers win ties over the payload).
fn fast_pattern(rule: &Rule) -> Option<(BufKey, Vec<u8>)> {
    let mut best: Option<(bool, usize, BufKey, &[u8])> = None;
    for l in &rule.lists {
        for item in &l.items {
            let Item::Content(c) = item else { continue };
            if c.negated {
                continue;
            }
            let key = (l.buffer, l.transforms.dotprefix);
            let cand = (c.fast_pattern, c.pattern.len(), key, c.pattern.as_slice());
            let better = match &best {
                None => true,
                Some(b) => {
                    (cand.0, cand.1, cand.2.0 != Buffer::Payload)
                        > (b.0, b.1, b.2.0 != Buffer::Payload)
                }
            };
            if better {
                best = Some(cand);
            }
        }
    }
    best.map(|(_, _, key, pat)| (key, pat.to_ascii_lowercase()))
}

/// Patterns of one buffer: the list, their ids, and the rules behind each.
type PatternTable = (Vec<Vec<u8>>, HashMap<Vec<u8>, usize>, Vec<Vec<u32>>);

#[derive(Default)]
struct GroupBuilder {
    patterns: HashMap<BufKey, PatternTable>,
    always: Always,
    rules: usize,
    /// HTTP: the body buffers (`file.data`, `http.request_body`, `http.response_body`) are
    /// prefiltered within the raw message (head + body), so each body byte is scanned once.
    merge_bodies: bool,
}

/// The buffer a fast pattern is searched in: itself, or for HTTP bodies the whole message
/// (which contains the body, so whatever occurs in the body is still found).
fn scan_key(key: BufKey, merge_bodies: bool) -> BufKey {
    match key {
        (Buffer::FileData | Buffer::HttpRequestBody | Buffer::HttpResponseBody, false)
            if merge_bodies =>
        {
            (Buffer::Payload, false)
        }
        k => k,
    }
}

impl GroupBuilder {
    fn add(&mut self, idx: u32, rule: &Rule, fp: Option<&(BufKey, Vec<u8>)>) {
        self.rules += 1;
        match fp {
            None => self.always.add(idx, rule),
            Some((key, pat)) => {
                let key = scan_key(*key, self.merge_bodies);
                let (pats, ids, rules) = self.patterns.entry(key).or_default();
                let id = *ids.entry(pat.clone()).or_insert_with(|| {
                    pats.push(pat.clone());
                    rules.push(Vec::new());
                    pats.len() - 1
                });
                rules[id].push(idx);
            }
        }
    }

    fn build(self, notes: &mut Vec<String>) -> Group {
        let mut prefilters = Vec::new();
        let mut keys: Vec<_> = self.patterns.into_iter().collect();
        keys.sort_by_key(|(k, _)| *k);
        for (key, (pats, _, rules_of)) in keys {
            let matcher = Matcher::compile(&pats, MATCHER_BUDGET, notes);
            prefilters.push((
                key,
                Prefilter {
                    matcher,
                    max_len: pats.iter().map(Vec::len).max().unwrap_or(0),
                    patterns: pats,
                    rules_of,
                },
            ));
        }
        Group {
            prefilters,
            always: self.always,
            rules: self.rules,
        }
    }
}

/// Order: rules that set flowbits before rules that only check them, then file order.
fn order_key(rule: &Rule) -> u8 {
    let checks = rule
        .flowbits
        .iter()
        .any(|f| matches!(f.op, FlowbitOp::IsSet | FlowbitOp::IsNotSet));
    match (rule.sets_flowbits(), checks) {
        (true, false) => 0,
        (true, true) => 1,
        (false, true) => 2,
        (false, false) => 3,
    }
}

impl RuleSet {
    /// Compile loaded rules.
    pub fn compile(loaded: LoadedRules) -> RuleSet {
        let started = Instant::now();
        let LoadedRules {
            mut rules,
            names,
            classes,
            report,
        } = loaded;
        rules.sort_by_key(order_key);
        let info = rules
            .iter()
            .map(|r| {
                let class = r.classtype.as_ref().and_then(|c| classes.get(c));
                RuleInfo {
                    category: class.map(|c| c.description.clone()).unwrap_or_default(),
                    severity: r.priority.or(class.map(|c| c.priority)).unwrap_or(3),
                }
            })
            .collect();
        let mut packet: [GroupBuilder; TRANSPORTS] = Default::default();
        let mut app: [GroupBuilder; 6] = Default::default();
        for to_server in [true, false] {
            app[app_index(AppProto::Http, to_server)].merge_bodies = true;
        }
        let mut ip_ranges: [[Vec<(u128, u128, u32)>; 2]; 2] = Default::default();
        let mut ip_only_rules = 0;
        for (i, r) in rules.iter().enumerate() {
            let idx = i as u32;
            if r.is_ip_only() && r.src_ports.is_any() && r.dst_ports.is_any() {
                ip_only_rules += 1;
                let size = |s: &crate::addr::IpSet| -> u128 {
                    s.v4_ranges()
                        .iter()
                        .map(|(a, b)| u128::from(*b - *a) + 1)
                        .sum::<u128>()
                };
                let side = usize::from(size(&r.dst) < size(&r.src));
                let set = if side == 0 { &r.src } else { &r.dst };
                for (a, b) in set.v4_ranges() {
                    ip_ranges[0][side].push((u128::from(*a), u128::from(*b), idx));
                }
                for (a, b) in set.v6_ranges() {
                    ip_ranges[1][side].push((*a, *b, idx));
                }
                continue;
            }
            let fp = fast_pattern(r);
            if let Some(a) = r.app()
                && r.lists.iter().any(|l| l.buffer.app().is_some())
            {
                for to_server in [true, false] {
                    if r.side().is_none_or(|s| s == to_server) {
                        app[app_index(a, to_server)].add(idx, r, fp.as_ref());
                    }
                }
                continue;
            }
            let transports: &[usize] = match r.proto {
                Proto::Tcp | Proto::Http | Proto::Tls => &[0],
                Proto::Udp => &[1],
                Proto::Dns => &[0, 1],
                Proto::Icmp => &[2],
                Proto::Ip => &[0, 1, 2, 3],
            };
            for t in transports {
                packet[*t].add(idx, r, fp.as_ref());
            }
        }
        let [[v4s, v4d], [v6s, v6d]] = ip_ranges;
        let ip_only = IpOnly {
            v4: [IntervalTable::build(v4s), IntervalTable::build(v4d)],
            v6: [IntervalTable::build(v6s), IntervalTable::build(v6d)],
            rules: ip_only_rules,
        };
        let mut matcher_notes = Vec::new();
        let packet = packet.map(|g| g.build(&mut matcher_notes));
        let app = app.map(|g| g.build(&mut matcher_notes));
        let stream_ok = rules.iter().map(stream_ok).collect();
        RuleSet {
            rules,
            info,
            packet,
            app,
            matcher_notes,
            stream_ok,
            ip_only,
            report,
            flowbits: names.len(),
            compile_time: started.elapsed(),
        }
    }

    /// Make a worker's scratch able to scan every set of this ruleset.
    pub fn prepare(&self, scratch: &mut MatchScratch) {
        for g in self.packet.iter().chain(&self.app) {
            for (_, pf) in &g.prefilters {
                pf.matcher.prepare(scratch);
            }
        }
    }

    /// Bytes taken by the compiled pattern sets.
    pub fn matcher_memory(&self) -> usize {
        self.packet
            .iter()
            .chain(&self.app)
            .flat_map(|g| &g.prefilters)
            .map(|(_, pf)| pf.matcher.memory())
            .sum()
    }

    pub fn app_group(&self, app: AppProto, to_server: bool) -> &Group {
        &self.app[app_index(app, to_server)]
    }

    /// A short description: rules per group, prefilter patterns.
    pub fn summary(&self) -> String {
        let count = |g: &Group| {
            g.prefilters
                .iter()
                .map(|(_, p)| p.rules_of.len())
                .sum::<usize>()
        };
        let kinds: std::collections::BTreeSet<String> = self
            .packet
            .iter()
            .chain(&self.app)
            .flat_map(|g| &g.prefilters)
            .map(|(_, pf)| format!("{:?}", pf.matcher.kind()))
            .collect();
        let mut s = format!(
            "{} rules compiled in {:?} ({} KiB of {} matchers): ip-only {}",
            self.rules.len(),
            self.compile_time,
            self.matcher_memory() >> 10,
            kinds.into_iter().collect::<Vec<_>>().join("+"),
            self.ip_only.rules
        );
        for (name, g) in ["tcp", "udp", "icmp", "ip"].iter().zip(&self.packet) {
            s.push_str(&format!(
                ", {name} {} ({} patterns, {} always)",
                g.rules,
                count(g),
                g.always.len()
            ));
        }
        for (i, g) in self.app.iter().enumerate() {
            let name = ["http", "dns", "tls"][i / 2];
            let side = if i % 2 == 0 { "request" } else { "response" };
            s.push_str(&format!(
                ", {name} {side} {} ({} patterns, {} always)",
                g.rules,
                count(g),
                g.always.len()
            ));
        }
        s
    }
}
