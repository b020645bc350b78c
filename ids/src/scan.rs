//! Network-layer detection beyond signatures: port scans and SYN floods by source, a state
//! machine handed the packet time (no clock read). Thresholds in the spirit of Snort 3's
//! `port_scan` defaults: within a window, one source trying many ports on one host (vertical),
//! one port on many hosts (horizontal), or sending SYNs faster than a rate (flood). Each finding
//! alerts once per source and kind per window, as a built-in rule of its own sid range
//! ([`BUILTIN`]). Sources on the allow-list (the SOC's or the police's scanners, 002 §7.2.c) are
//! never reported. Memory is bounded: at most `max_sources` sources, sets capped at the thresholds.

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
pub const BUILTIN: [Builtin; 3] = [
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
    /// Sources never reported.
    pub allow: Vec<IpNetwork>,
    /// Sources tracked at once (idle ones are forgotten first, then all).
    pub max_sources: usize,
    /// Ports every client reaches on many hosts (web, DNS, NTP, mail submission…): not counted
    /// for horizontal scans — a browser talks to dozens of web servers a minute.
    pub common_ports: Vec<u16>,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            window: 60.0,
            vertical_ports: 25,
            horizontal_hosts: 25,
            syn_per_second: 500,
            allow: Vec::new(),
            max_sources: 65_536,
            common_ports: vec![53, 80, 123, 443, 587, 853, 993, 995, 5228, 8080, 8443],
        }
    }
}

#[derive(Debug, Default)]
struct Source {
    window_start: f64,
    last_seen: f64,
    ports_by_host: HashMap<IpAddr, Vec<u16>>,
    hosts_by_port: HashMap<u16, Vec<IpAddr>>,
    second: u64,
    syns_this_second: u32,
    /// Kinds already reported in this window.
    reported: [bool; 3],
}

/// The detector (one per engine).
#[derive(Debug, Default)]
pub struct ScanDetector {
    config: ScanConfig,
    sources: HashMap<IpAddr, Source>,
    /// Times every tracked source was forgotten because the table was full of recent ones.
    pub resets: u64,
}

impl ScanDetector {
    pub fn new(config: ScanConfig) -> Self {
        ScanDetector {
            config,
            sources: HashMap::new(),
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
        if !self.sources.contains_key(&src) && self.sources.len() >= self.config.max_sources {
            // Full: forget idle sources; if all are recent (a flood of spoofed sources), forget
            // them all — one sweep per `max_sources` new sources, never a scan per packet.
            self.expire(ts);
            if self.sources.len() >= self.config.max_sources {
                self.sources.clear();
                self.resets += 1;
            }
        }
        let c = &self.config;
        let s = self.sources.entry(src).or_default();
        if ts - s.window_start > c.window || s.window_start == 0.0 {
            *s = Source {
                window_start: ts,
                ..Source::default()
            };
        }
        s.last_seen = ts;
        let mut found = None;
        if syn {
            let sec = ts as u64;
            if sec == s.second {
                s.syns_this_second += 1;
            } else {
                s.second = sec;
                s.syns_this_second = 1;
            }
            if s.syns_this_second >= c.syn_per_second && !s.reported[2] {
                s.reported[2] = true;
                found = Some(ScanKind::SynFlood);
            }
        }
        let ports = s.ports_by_host.entry(dst).or_default();
        if ports.len() < c.vertical_ports && !ports.contains(&dport) {
            ports.push(dport);
            if ports.len() == c.vertical_ports && !s.reported[0] {
                s.reported[0] = true;
                found = found.or(Some(ScanKind::Vertical));
            }
        }
        let common = c.common_ports.contains(&dport);
        let hosts = s.hosts_by_port.entry(dport).or_default();
        if !common && hosts.len() < c.horizontal_hosts && !hosts.contains(&dst) {
            hosts.push(dst);
            if hosts.len() == c.horizontal_hosts && !s.reported[1] {
                s.reported[1] = true;
                found = found.or(Some(ScanKind::Horizontal));
            }
        }
        // Bound the per-source maps: a source spraying beyond both thresholds keeps only
        // what the next window needs.
        if s.ports_by_host.len() > 4 * c.horizontal_hosts.max(1) {
            s.ports_by_host.clear();
        }
        if s.hosts_by_port.len() > 4 * c.vertical_ports.max(1) {
            s.hosts_by_port.clear();
        }
        found
    }

    /// Forget sources idle for more than a window.
    pub fn expire(&mut self, now: f64) {
        let w = self.config.window;
        self.sources.retain(|_, s| now - s.last_seen <= w);
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
