//! Network-layer detection beyond signatures: port scans and floods, a state machine handed the
//! packet time (no clock read). Thresholds in the spirit of Snort 3's `port_scan` defaults:
//! within a window, one source trying many ports on one host (vertical), one port on many hosts
//! (horizontal) — reported as a scan *from a server* when the source is in a server zone (a
//! compromised server scanning for vulnerable hosts) — or sending SYNs, UDP datagrams or ICMP
//! echo requests faster than a rate (floods by source), or one destination receiving SYNs
//! faster than a rate from everyone together (an aggregate, often spoofed, SYN flood), or
//! opening many connections to one host's login port (SSH, RDP, SMB… — password guessing,
//! 000 §5.10.b; the outcome of each login is encrypted, so the count of attempts is the
//! measure, as in Suricata's and Snort's brute-force thresholds). Each
//! finding alerts once per source (destination) and kind per window, as a built-in rule of its
//! own sid ([`BUILTIN`]). Sources on the allow-list (the SOC's or the police's scanners,
//! 002 §7.2.c) are never reported. Memory is bounded: at most `max_sources` sources and
//! destinations, sets capped at the thresholds.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnetwork::IpNetwork;

/// Sentinel rule index of a built-in detection in an `Alert`.
pub const BUILTIN_RULE: u32 = u32::MAX;

/// A built-in detection's identity, as an alert shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Builtin {
    pub sid: u32,
    pub msg: &'static str,
    pub category: &'static str,
    pub severity: u8,
}

/// The built-in detections (sids 9,000,001 …).
pub const BUILTIN: [Builtin; 8] = [
    Builtin {
        sid: 9_000_001,
        msg: "EDGEWARD SCAN vertical port scan (one source, many ports on one host)",
        category: "Attempted Information Leak",
        severity: 2,
    },
    Builtin {
        sid: 9_000_002,
        msg: "EDGEWARD SCAN horizontal scan (one source, one port on many hosts)",
        category: "Attempted Information Leak",
        severity: 2,
    },
    Builtin {
        sid: 9_000_003,
        msg: "EDGEWARD DOS SYN flood from one source",
        category: "Attempted Denial of Service",
        severity: 1,
    },
    Builtin {
        sid: 9_000_004,
        msg: "EDGEWARD DOS UDP flood from one source",
        category: "Attempted Denial of Service",
        severity: 1,
    },
    Builtin {
        sid: 9_000_005,
        msg: "EDGEWARD DOS ICMP echo flood from one source",
        category: "Attempted Denial of Service",
        severity: 2,
    },
    Builtin {
        sid: 9_000_006,
        msg: "EDGEWARD DOS SYN flood against one host (all sources together)",
        category: "Attempted Denial of Service",
        severity: 1,
    },
    Builtin {
        sid: 9_000_007,
        msg: "EDGEWARD SCAN scanning from a server (vulnerability scan or worm from a server zone)",
        category: "A Network Trojan was detected",
        severity: 1,
    },
    Builtin {
        sid: 9_000_008,
        msg: "EDGEWARD SCAN password guessing (many logins from one source to one host's SSH/RDP/SMB/Telnet/FTP/VNC/database)",
        category: "Attempted Administrator Privilege Gain",
        severity: 1,
    },
];

/// The built-in detection with this sid.
pub fn builtin(sid: u32) -> Option<&'static Builtin> {
    BUILTIN.iter().find(|b| b.sid == sid)
}

/// What a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanKind {
    Vertical,
    Horizontal,
    SynFlood,
    UdpFlood,
    IcmpFlood,
    SynFloodAggregate,
    ScanFromServer,
    PasswordGuessing,
}

impl ScanKind {
    /// The built-in rule it alerts as.
    pub fn builtin(self) -> &'static Builtin {
        &BUILTIN[self as usize]
    }
}

/// Thresholds and limits.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Seconds a source's attempts are counted over.
    pub window: f64,
    /// Distinct ports on one host within the window.
    pub vertical_ports: usize,
    /// Distinct hosts on one port within the window.
    pub horizontal_hosts: usize,
    /// SYNs per second from one source.
    pub syn_per_second: u32,
    /// UDP datagrams per second from one source.
    pub udp_per_second: u32,
    /// ICMP echo requests per second from one source.
    pub icmp_per_second: u32,
    /// SYNs per second to one destination from all sources together.
    pub syn_aggregate_per_second: u32,
    /// Server zones: a scan from here is reported as scanning from a server.
    pub server_nets: Vec<IpNetwork>,
    /// Sources never reported.
    pub allow: Vec<IpNetwork>,
    /// Sources tracked at once (idle ones are forgotten first, then all).
    pub max_sources: usize,
    /// Ports every client reaches on many hosts (web, DNS, NTP, mail submission…): not counted
    /// for horizontal scans — a browser talks to dozens of web servers a minute.
    pub common_ports: Vec<u16>,
    /// Ports where a new connection is a login attempt (SSH, Telnet, FTP, SMB, RDP, VNC,
    /// databases): counted per source and destination for password guessing.
    pub login_ports: Vec<u16>,
    /// Connections from one source to one host's login port within the window that make
    /// password guessing. A person retyping a password makes a handful; a tool makes hundreds.
    pub login_attempts: u32,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            window: 60.0,
            vertical_ports: 25,
            horizontal_hosts: 25,
            syn_per_second: 500,
            udp_per_second: 5_000,
            icmp_per_second: 200,
            syn_aggregate_per_second: 2_000,
            server_nets: Vec::new(),
            allow: Vec::new(),
            max_sources: 65_536,
            common_ports: vec![53, 80, 123, 443, 587, 853, 993, 995, 5228, 8080, 8443],
            login_ports: vec![21, 22, 23, 445, 1433, 3306, 3389, 5432, 5900],
            login_attempts: 30,
        }
    }
}

#[derive(Debug, Default)]
struct Source {
    window_start: f64,
    last_seen: f64,
    ports_by_host: HashMap<IpAddr, Vec<u16>>,
    /// New connections to a login port, by destination (bounded like the other maps).
    logins_by_host: HashMap<(IpAddr, u16), u32>,
    hosts_by_port: HashMap<u16, Vec<IpAddr>>,
    second: u64,
    syns_this_second: u32,
    udp_second: u64,
    udp_this_second: u32,
    icmp_second: u64,
    icmp_this_second: u32,
    /// Kinds already reported in this window (by `ScanKind as usize`).
    reported: [bool; 8],
}

/// SYNs one destination receives, per second.
#[derive(Debug, Default, Clone, Copy)]
struct Target {
    second: u64,
    syns: u32,
    /// Second of the last report (one per window).
    reported_at: Option<f64>,
}

/// Count `n` in the per-second counter `(second, count)` at `ts`; the new count.
fn per_second(second: &mut u64, count: &mut u32, ts: f64) -> u32 {
    let sec = ts as u64;
    if sec == *second {
        *count = count.saturating_add(1);
    } else {
        *second = sec;
        *count = 1;
    }
    *count
}

/// The detector (one per engine).
#[derive(Debug, Default)]
pub struct ScanDetector {
    config: ScanConfig,
    sources: HashMap<IpAddr, Source>,
    targets: HashMap<IpAddr, Target>,
    /// Times every tracked source was forgotten because the table was full of recent ones.
    pub resets: u64,
}

impl ScanDetector {
    pub fn new(config: ScanConfig) -> Self {
        ScanDetector {
            config,
            sources: HashMap::new(),
            targets: HashMap::new(),
            resets: 0,
        }
    }

    /// Sources tracked now.
    pub fn tracked(&self) -> usize {
        self.sources.len()
    }

    /// A connection attempt (a TCP SYN, or the first datagram of a UDP flow) at time `ts`.
    /// Returns what it completes, if anything (each kind once per source and window).
    pub fn attempt(
        &mut self,
        ts: f64,
        src: IpAddr,
        dst: IpAddr,
        dport: u16,
        syn: bool,
    ) -> Option<ScanKind> {
        if self.config.allow.iter().any(|n| n.contains(src)) {
            return None;
        }
        let from_server = self.config.server_nets.iter().any(|n| n.contains(src));
        let common = self.config.common_ports.contains(&dport);
        // A login attempt is a new TCP connection (SYN) to a login port.
        let login = syn && self.config.login_ports.contains(&dport);
        let login_attempts = self.config.login_attempts.max(1);
        let (vertical_ports, horizontal_hosts, syn_limit) = (
            self.config.vertical_ports,
            self.config.horizontal_hosts,
            self.config.syn_per_second,
        );
        let s = self.source(ts, src);
        let mut found = None;
        if syn {
            let n = per_second(&mut s.second, &mut s.syns_this_second, ts);
            if n >= syn_limit && !s.reported[ScanKind::SynFlood as usize] {
                s.reported[ScanKind::SynFlood as usize] = true;
                found = Some(ScanKind::SynFlood);
            }
        }
        let scan = |kind: ScanKind| {
            if from_server {
                ScanKind::ScanFromServer
            } else {
                kind
            }
        };
        if login {
            let n = s.logins_by_host.entry((dst, dport)).or_default();
            *n = n.saturating_add(1);
            if *n == login_attempts && !s.reported[ScanKind::PasswordGuessing as usize] {
                s.reported[ScanKind::PasswordGuessing as usize] = true;
                found = found.or(Some(ScanKind::PasswordGuessing));
            }
            if s.logins_by_host.len() > 4 * horizontal_hosts.max(1) {
                s.logins_by_host.clear();
            }
        }
        let ports = s.ports_by_host.entry(dst).or_default();
        if ports.len() < vertical_ports && !ports.contains(&dport) {
            ports.push(dport);
            let k = scan(ScanKind::Vertical);
            if ports.len() == vertical_ports && !s.reported[k as usize] {
                s.reported[k as usize] = true;
                found = found.or(Some(k));
            }
        }
        let hosts = s.hosts_by_port.entry(dport).or_default();
        if !common && hosts.len() < horizontal_hosts && !hosts.contains(&dst) {
            hosts.push(dst);
            let k = scan(ScanKind::Horizontal);
            if hosts.len() == horizontal_hosts && !s.reported[k as usize] {
                s.reported[k as usize] = true;
                found = found.or(Some(k));
            }
        }
        // Bound the per-source maps: a source spraying beyond both thresholds keeps only
        // what the next window needs.
        if s.ports_by_host.len() > 4 * horizontal_hosts.max(1) {
            s.ports_by_host.clear();
        }
        if s.hosts_by_port.len() > 4 * vertical_ports.max(1) {
            s.hosts_by_port.clear();
        }
        found
    }

    /// The state of `src` at `ts` (a new window when the last one is over).
    fn source(&mut self, ts: f64, src: IpAddr) -> &mut Source {
        if !self.sources.contains_key(&src) && self.sources.len() >= self.config.max_sources {
            // Full: forget idle sources; if all are recent (a flood of spoofed sources), forget
            // them all — one sweep per `max_sources` new sources, never a scan per packet.
            self.expire(ts);
            if self.sources.len() >= self.config.max_sources {
                self.sources.clear();
                self.resets += 1;
            }
        }
        let window = self.config.window;
        let s = self.sources.entry(src).or_default();
        if ts - s.window_start > window || s.window_start == 0.0 {
            *s = Source {
                window_start: ts,
                ..Source::default()
            };
        }
        s.last_seen = ts;
        s
    }

    /// A SYN to `dst`: the aggregate flood against it, once per window (about the destination:
    /// reported even from allowed sources — a spoofed flood may carry any source address).
    pub fn syn_to(&mut self, ts: f64, dst: IpAddr) -> Option<ScanKind> {
        if !self.targets.contains_key(&dst) && self.targets.len() >= self.config.max_sources {
            self.targets.clear();
        }
        let limit = self.config.syn_aggregate_per_second;
        let window = self.config.window;
        let t = self.targets.entry(dst).or_default();
        let n = per_second(&mut t.second, &mut t.syns, ts);
        if n >= limit && t.reported_at.is_none_or(|at| ts - at > window) {
            t.reported_at = Some(ts);
            return Some(ScanKind::SynFloodAggregate);
        }
        None
    }

    /// Any other packet from `src` counted for floods: a UDP datagram (`udp`) or an ICMP echo
    /// request. Returns the flood it completes, once per source and window.
    pub fn packet(&mut self, ts: f64, src: IpAddr, udp: bool) -> Option<ScanKind> {
        if self.config.allow.iter().any(|n| n.contains(src)) {
            return None;
        }
        let (udp_limit, icmp_limit) = (self.config.udp_per_second, self.config.icmp_per_second);
        let s = self.source(ts, src);
        let (kind, n, limit) = if udp {
            let n = per_second(&mut s.udp_second, &mut s.udp_this_second, ts);
            (ScanKind::UdpFlood, n, udp_limit)
        } else {
            let n = per_second(&mut s.icmp_second, &mut s.icmp_this_second, ts);
            (ScanKind::IcmpFlood, n, icmp_limit)
        };
        if n >= limit && !s.reported[kind as usize] {
            s.reported[kind as usize] = true;
            return Some(kind);
        }
        None
    }

    /// Forget sources idle for more than a window.
    pub fn expire(&mut self, now: f64) {
        let w = self.config.window;
        self.sources.retain(|_, s| now - s.last_seen <= w);
    }
}

/// One detector for all the workers of a capture: each worker sees only the flows the kernel
/// hands it, but a scan's attempts are spread over every worker, so the state is shared —
/// sharded by source (and by destination for the aggregate flood) to keep the locks apart.
#[derive(Debug)]
pub struct SharedScan {
    by_source: Vec<std::sync::Mutex<ScanDetector>>,
    by_destination: Vec<std::sync::Mutex<ScanDetector>>,
}

const SHARDS: usize = 16;

fn shard(ip: IpAddr) -> usize {
    let h = match ip {
        IpAddr::V4(a) => u32::from(a).wrapping_mul(0x9e37_79b9),
        IpAddr::V6(a) => {
            let o = a.octets();
            u32::from_be_bytes([o[12], o[13], o[14], o[15]])
                .wrapping_add(u32::from_be_bytes([o[8], o[9], o[10], o[11]]))
                .wrapping_mul(0x9e37_79b9)
        }
    };
    (h >> 28) as usize % SHARDS
}

impl SharedScan {
    pub fn new(config: &ScanConfig) -> SharedScan {
        let per_shard = ScanConfig {
            max_sources: (config.max_sources / SHARDS).max(16),
            ..config.clone()
        };
        let make = || {
            (0..SHARDS)
                .map(|_| std::sync::Mutex::new(ScanDetector::new(per_shard.clone())))
                .collect()
        };
        SharedScan {
            by_source: make(),
            by_destination: make(),
        }
    }

    fn with<T>(
        shards: &[std::sync::Mutex<ScanDetector>],
        ip: IpAddr,
        f: impl FnOnce(&mut ScanDetector) -> T,
    ) -> T {
        // A worker that panicked while holding a shard leaves valid (if partial) counts.
        let mut d = shards[shard(ip)]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut d)
    }

    /// As [`ScanDetector::attempt`], plus the aggregate SYN flood against `dst`.
    pub fn attempt(
        &self,
        ts: f64,
        src: IpAddr,
        dst: IpAddr,
        dport: u16,
        syn: bool,
    ) -> Option<ScanKind> {
        if syn && let Some(k) = Self::with(&self.by_destination, dst, |d| d.syn_to(ts, dst)) {
            return Some(k);
        }
        Self::with(&self.by_source, src, |d| {
            d.attempt(ts, src, dst, dport, syn)
        })
    }

    /// As [`ScanDetector::packet`].
    pub fn packet(&self, ts: f64, src: IpAddr, udp: bool) -> Option<ScanKind> {
        Self::with(&self.by_source, src, |d| d.packet(ts, src, udp))
    }

    /// Times a shard's table was full of recent sources and forgotten.
    pub fn resets(&self) -> u64 {
        self.by_source
            .iter()
            .map(|m| m.lock().map_or(0, |d| d.resets))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_vertical_scan_alerts_once_per_window() {
        let mut d = ScanDetector::new(ScanConfig::default());
        let mut found = Vec::new();
        for p in 1..=100u16 {
            found.extend(d.attempt(
                1.0 + f64::from(p) * 0.01,
                ip("10.0.0.5"),
                ip("10.0.1.9"),
                p,
                true,
            ));
        }
        assert_eq!(found, vec![ScanKind::Vertical]);
        // The next window reports again.
        let mut again = Vec::new();
        for p in 1..=30u16 {
            again.extend(d.attempt(100.0, ip("10.0.0.5"), ip("10.0.1.9"), p, true));
        }
        assert_eq!(again, vec![ScanKind::Vertical]);
    }

    #[test]
    fn a_horizontal_scan_and_a_syn_flood_are_told_apart() {
        let mut d = ScanDetector::new(ScanConfig::default());
        let mut found = Vec::new();
        for h in 1..=40u8 {
            found.extend(d.attempt(2.0, ip("10.0.0.6"), IpAddr::from([10, 0, 2, h]), 445, true));
        }
        assert_eq!(found, vec![ScanKind::Horizontal]);
        let mut flood = Vec::new();
        for i in 0..600u32 {
            flood.extend(d.attempt(5.5, ip("198.51.100.7"), ip("10.0.1.9"), 443, i < 600));
        }
        assert_eq!(flood, vec![ScanKind::SynFlood]);
    }

    /// Ordinary browsing — many connections to a few servers' 80/443, and to many web servers —
    /// is not a scan.
    #[test]
    fn browsing_is_not_a_scan_and_allowed_scanners_are_not_reported() {
        let mut d = ScanDetector::new(ScanConfig {
            allow: vec!["10.251.9.0/24".parse().unwrap()],
            ..ScanConfig::default()
        });
        for i in 0..2000u32 {
            let server = IpAddr::from([203, 0, (i % 7) as u8, (i % 200) as u8]);
            let port = if i % 2 == 0 { 443 } else { 80 };
            assert_eq!(
                d.attempt(f64::from(i) * 0.05, ip("10.0.0.7"), server, port, true),
                None
            );
        }
        for p in 1..=100u16 {
            assert_eq!(
                d.attempt(1.0, ip("10.251.9.10"), ip("10.0.1.9"), p, true),
                None
            );
        }
    }

    #[test]
    fn udp_and_icmp_floods_by_source_and_an_aggregate_syn_flood_by_destination() {
        let mut d = ScanDetector::new(ScanConfig::default());
        let mut found = Vec::new();
        for i in 0..6000u32 {
            found.extend(d.packet(10.0 + f64::from(i) / 10_000.0, ip("10.0.0.8"), true));
        }
        for i in 0..300u32 {
            found.extend(d.packet(10.0 + f64::from(i) / 1000.0, ip("10.0.0.9"), false));
        }
        assert_eq!(found, vec![ScanKind::UdpFlood, ScanKind::IcmpFlood]);
        // Below the rates over many seconds: nothing.
        let mut calm = ScanDetector::new(ScanConfig::default());
        for i in 0..10_000u32 {
            assert_eq!(
                calm.packet(f64::from(i) / 100.0, ip("10.0.0.8"), true),
                None
            );
        }
        // 3,000 SYNs in a second to one host, each from another (spoofed) source.
        let shared = SharedScan::new(&ScanConfig::default());
        let mut agg = Vec::new();
        for i in 0..3000u32 {
            let src = IpAddr::from((0xc633_6400u32 + i).to_be_bytes());
            agg.extend(shared.attempt(20.5, src, ip("10.0.1.9"), 443, true));
        }
        assert_eq!(agg, vec![ScanKind::SynFloodAggregate], "once per window");
    }

    /// Two workers each seeing half of a scan's attempts still report it, once.
    #[test]
    fn workers_sharing_a_detector_report_a_scan_split_between_them_once() {
        let shared = std::sync::Arc::new(SharedScan::new(&ScanConfig::default()));
        let found: Vec<ScanKind> = (0..2u16)
            .map(|w| {
                let shared = std::sync::Arc::clone(&shared);
                std::thread::spawn(move || {
                    (0..20u16)
                        .filter_map(|p| {
                            shared.attempt(1.0, ip("10.0.0.5"), ip("10.0.1.9"), p * 2 + w + 1, true)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .flat_map(|t| t.join().unwrap())
            .collect();
        assert_eq!(found, vec![ScanKind::Vertical]);
    }

    /// A server scanning others is worse than a PC doing so: its own sid, severity 1.
    #[test]
    fn a_scan_from_a_server_zone_is_reported_as_such() {
        let mut d = ScanDetector::new(ScanConfig {
            server_nets: vec!["10.20.0.0/24".parse().unwrap()],
            ..ScanConfig::default()
        });
        let mut found = Vec::new();
        for h in 1..=30u8 {
            found.extend(d.attempt(1.0, ip("10.20.0.5"), IpAddr::from([10, 0, 3, h]), 22, true));
        }
        assert_eq!(found, vec![ScanKind::ScanFromServer]);
        assert_eq!(ScanKind::ScanFromServer.builtin().severity, 1);
        assert_eq!(ScanKind::ScanFromServer.builtin().sid, 9_000_007);
    }

    /// 000 §5.10.b: a machine guessing passwords over SSH or RDP is found; a person logging in
    /// a few times is not, nor many visits to a web server.
    #[test]
    fn password_guessing_on_a_login_port_is_found_and_ordinary_logins_are_not() {
        let mut d = ScanDetector::new(ScanConfig::default());
        let (a, b, server) = (ip("10.10.0.12"), ip("10.10.0.11"), ip("10.10.10.10"));
        let mut found = Vec::new();
        for i in 0..40 {
            let t = 1.0 + f64::from(i);
            found.extend(d.attempt(t, a, server, 22, true));
            if i < 5 {
                assert_eq!(d.attempt(t, b, server, 3389, true), None);
            }
            assert_eq!(d.attempt(t, b, server, 443, true), None);
        }
        assert_eq!(found, vec![ScanKind::PasswordGuessing]);
        assert_eq!(ScanKind::PasswordGuessing.builtin().sid, 9_000_008);
        // Once per window, again in the next.
        let again: Vec<_> = (0..40)
            .filter_map(|i| d.attempt(100.0 + f64::from(i), a, server, 22, true))
            .collect();
        assert_eq!(again, vec![ScanKind::PasswordGuessing]);
    }

    #[test]
    fn tracked_sources_are_bounded() {
        let mut d = ScanDetector::new(ScanConfig {
            max_sources: 100,
            ..ScanConfig::default()
        });
        for i in 0..1000u32 {
            d.attempt(
                f64::from(i),
                IpAddr::from(i.to_be_bytes()),
                ip("10.0.1.9"),
                80,
                true,
            );
        }
        assert!(d.tracked() <= 100);
        // 1,000 recent sources through a table of 100: a few full sweeps, not one per source.
        let mut d = ScanDetector::new(ScanConfig {
            max_sources: 100,
            ..ScanConfig::default()
        });
        for i in 0..1000u32 {
            d.attempt(1.0, IpAddr::from(i.to_be_bytes()), ip("10.0.1.9"), 80, true);
        }
        assert!(d.tracked() <= 100);
        assert_eq!(d.resets, 9);
    }
}
