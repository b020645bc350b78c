//! dnsmasq's lease file (`EXPIRY MAC IP HOSTNAME CLIENT-ID` a line) read into a table, and the
//! difference between two readings as lease events: a new lease, a renewal (the expiry moved),
//! a release or expiry (gone). Lines that do not parse are skipped and counted.

use std::collections::BTreeMap;
use std::net::IpAddr;

/// One lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Unix time it ends (0: infinite).
    pub expiry: u64,
    /// The client's MAC, lowercase.
    pub mac: String,
    /// The address leased.
    pub ip: IpAddr,
    /// The name the client gave (`None` for dnsmasq's `*`).
    pub hostname: Option<String>,
}

/// The leases by (MAC, address), and the lines that did not parse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leases {
    /// The leases.
    pub by_key: BTreeMap<(String, IpAddr), Lease>,
    /// Lines skipped.
    pub bad_lines: usize,
}

/// Parse a lease file's text.
pub fn parse(text: &str) -> Leases {
    let mut out = Leases::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        // DHCPv6: dnsmasq's `duid` line and leases keyed by IAID, not MAC (not NAC events).
        if f.first() == Some(&"duid") || (f.len() >= 3 && f[2].contains(':') && !f[1].contains(':'))
        {
            continue;
        }
        let parsed = (f.len() >= 4)
            .then(|| {
                Some(Lease {
                    expiry: f[0].parse().ok()?,
                    mac: f[1].to_ascii_lowercase(),
                    ip: f[2].parse().ok()?,
                    hostname: (f[3] != "*").then(|| f[3].to_string()),
                })
            })
            .flatten();
        match parsed {
            Some(l) => {
                out.by_key.insert((l.mac.clone(), l.ip), l);
            }
            None => out.bad_lines += 1,
        }
    }
    out
}

/// What happened to a lease between two readings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new lease.
    Leased(Lease),
    /// The same lease, longer.
    Renewed(Lease),
    /// Released or expired.
    Ended(Lease),
}

impl Change {
    /// The event action name.
    pub fn action(&self) -> &'static str {
        match self {
            Change::Leased(_) => "dhcp-lease",
            Change::Renewed(_) => "dhcp-renew",
            Change::Ended(_) => "dhcp-release",
        }
    }

    /// The lease concerned.
    pub fn lease(&self) -> &Lease {
        match self {
            Change::Leased(l) | Change::Renewed(l) | Change::Ended(l) => l,
        }
    }
}

/// The changes from `before` to `after`.
pub fn diff(before: &Leases, after: &Leases) -> Vec<Change> {
    let mut out = Vec::new();
    for (k, l) in &after.by_key {
        match before.by_key.get(k) {
            None => out.push(Change::Leased(l.clone())),
            Some(old) if l.expiry > old.expiry => out.push(Change::Renewed(l.clone())),
            Some(_) => {}
        }
    }
    for (k, l) in &before.by_key {
        if !after.by_key.contains_key(k) {
            out.push(Change::Ended(l.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_renewals_and_releases_are_told_apart() {
        let a = parse(
            "1764570000 02:00:00:00:00:01 10.10.0.150 visitor-1 01:02:00:00:00:00:01\n1764570000 02:00:00:00:00:02 10.10.0.151 * *\n",
        );
        assert_eq!(a.by_key.len(), 2);
        let b = parse(
            "1764573600 02:00:00:00:00:01 10.10.0.150 visitor-1 *\n1764570100 02:00:00:00:00:03 10.10.0.152 printer *\ngarbage\n",
        );
        assert_eq!(b.bad_lines, 1);
        let changes = diff(&a, &b);
        let actions: Vec<(&str, &str)> = changes
            .iter()
            .map(|c| (c.action(), c.lease().mac.as_str()))
            .collect();
        assert_eq!(
            actions,
            vec![
                ("dhcp-renew", "02:00:00:00:00:01"),
                ("dhcp-lease", "02:00:00:00:00:03"),
                ("dhcp-release", "02:00:00:00:00:02")
            ]
        );
        assert_eq!(changes[0].lease().hostname.as_deref(), Some("visitor-1"));
        assert!(diff(&b, &b).is_empty());
    }

    #[test]
    fn any_text_parses_without_panic() {
        for t in [
            "",
            "x",
            "1 2 3",
            "1 aa 10.0.0.1 h",
            "99999999999999999999 aa 1.2.3.4 h c",
            "\u{0}\u{1}",
        ] {
            let _ = parse(t);
        }
    }
}
