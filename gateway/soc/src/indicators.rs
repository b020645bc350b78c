//! Command-and-control indicators the SOC pushes, as rules: a plain list (one indicator a line:
//! `ip 203.0.113.66`, `ip 198.51.100.0/24`, `domain evil.example`, `ja3 <md5>`, `ja3s <md5>`,
//! `#` comments) becomes `indicators.rules` in a signed bundle. Contact with a listed address
//! (either way), a listed domain (or a subdomain) in a DNS query, a TLS SNI or an HTTP Host,
//! and a listed TLS client or server fingerprint each raise an alert of their own sid range
//! (9,100,000–9,199,999, classtype `trojan-activity`: severity 1) — the alerts the NAC uses to
//! cut an infected host off. Bad lines are refused with their line number.

use std::fmt::Write as _;
use std::net::IpAddr;

use ipnetwork::IpNetwork;

/// Sid ranges.
const IP_BASE: u32 = 9_100_000;
const DOMAIN_BASE: u32 = 9_110_000;
const JA3_BASE: u32 = 9_150_000;
const JA3S_BASE: u32 = 9_160_000;
/// Addresses per IP rule.
const IP_CHUNK: usize = 200;

/// A refused line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("indicators line {line}: {why}")]
pub struct IndicatorError {
    pub line: usize,
    pub why: String,
}

/// A parsed list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Indicators {
    pub addresses: Vec<IpNetwork>,
    pub domains: Vec<String>,
    pub ja3: Vec<String>,
    pub ja3s: Vec<String>,
}

fn valid_domain(d: &str) -> bool {
    d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !l.starts_with('-')
        })
}

fn valid_md5(h: &str) -> bool {
    h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Parse a list; every bad line is reported.
pub fn parse(text: &str) -> Result<Indicators, Vec<IndicatorError>> {
    let mut out = Indicators::default();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let mut parts = content.split_whitespace();
        let (Some(kind), Some(value), None) = (parts.next(), parts.next(), parts.next()) else {
            errors.push(IndicatorError {
                line,
                why: format!("`{content}`: expected `KIND VALUE` (ip, domain, ja3, ja3s)"),
            });
            continue;
        };
        let bad = |why: String| IndicatorError { line, why };
        match kind {
            "ip" => match value
                .parse::<IpNetwork>()
                .or_else(|_| value.parse::<IpAddr>().map(IpNetwork::from))
            {
                Ok(n) => out.addresses.push(n),
                Err(_) => errors.push(bad(format!("`{value}` is not an address or prefix"))),
            },
            "domain" => {
                let d = value.trim_end_matches('.').to_ascii_lowercase();
                if valid_domain(&d) {
                    out.domains.push(d);
                } else {
                    errors.push(bad(format!("`{value}` is not a domain name")));
                }
            }
            "ja3" | "ja3s" => {
                let h = value.to_ascii_lowercase();
                if !valid_md5(&h) {
                    errors.push(bad(format!("`{value}` is not an MD5 hash (32 hex digits)")));
                } else if kind == "ja3" {
                    out.ja3.push(h);
                } else {
                    out.ja3s.push(h);
                }
            }
            other => errors.push(bad(format!(
                "`{other}` is not an indicator kind (ip, domain, ja3, ja3s)"
            ))),
        }
    }
    for v in [&mut out.domains, &mut out.ja3, &mut out.ja3s] {
        v.sort();
        v.dedup();
    }
    out.addresses.sort_by_key(ToString::to_string);
    out.addresses.dedup();
    let too_many = [
        (
            out.domains.len() * 3,
            (JA3_BASE - DOMAIN_BASE) as usize,
            "domains",
        ),
        (out.ja3.len(), (JA3S_BASE - JA3_BASE) as usize, "ja3 hashes"),
        (out.ja3s.len(), 10_000, "ja3s hashes"),
        (
            out.addresses.len().div_ceil(IP_CHUNK) * 2,
            (DOMAIN_BASE - IP_BASE) as usize,
            "addresses",
        ),
    ];
    for (n, max, what) in too_many {
        if n > max {
            errors.push(IndicatorError {
                line: 0,
                why: format!("too many {what} for one list"),
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A domain as a PCRE matching it and its subdomains, anchored at the end.
fn domain_pcre(d: &str) -> String {
    let escaped: String = d
        .chars()
        .flat_map(|c| match c {
            '.' | '-' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("/(?:^|\\.){escaped}$/i")
}

/// The rules for a list; `action` is `alert` or `drop` (virtual patching by the SOC).
pub fn rules(ind: &Indicators, action: &str, rev: u32) -> String {
    let mut t = String::from("# C2 indicators from the SOC (edgeward-hub bundle --indicators)\n");
    for (c, chunk) in ind.addresses.chunks(IP_CHUNK).enumerate() {
        let list = chunk
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let sid = IP_BASE + 2 * c as u32;
        let _ = writeln!(
            t,
            "{action} ip $HOME_NET any -> [{list}] any (msg:\"EDGEWARD C2 contact with an address on the SOC's list\"; classtype:trojan-activity; sid:{sid}; rev:{rev};)"
        );
        let _ = writeln!(
            t,
            "{action} ip [{list}] any -> $HOME_NET any (msg:\"EDGEWARD C2 connection from an address on the SOC's list\"; classtype:trojan-activity; sid:{}; rev:{rev};)",
            sid + 1
        );
    }
    for (i, d) in ind.domains.iter().enumerate() {
        let sid = DOMAIN_BASE + 3 * i as u32;
        let pcre = domain_pcre(d);
        let _ = writeln!(
            t,
            "{action} dns $HOME_NET any -> any any (msg:\"EDGEWARD C2 DNS query for {d} (SOC list)\"; dns.query; content:\"{d}\"; nocase; endswith; pcre:\"{pcre}\"; classtype:trojan-activity; sid:{sid}; rev:{rev};)"
        );
        let _ = writeln!(
            t,
            "{action} tls $HOME_NET any -> any any (msg:\"EDGEWARD C2 TLS to {d} (SNI, SOC list)\"; flow:established,to_server; tls.sni; content:\"{d}\"; nocase; endswith; pcre:\"{pcre}\"; classtype:trojan-activity; sid:{}; rev:{rev};)",
            sid + 1
        );
        let _ = writeln!(
            t,
            "{action} http $HOME_NET any -> any any (msg:\"EDGEWARD C2 HTTP to {d} (Host, SOC list)\"; flow:established,to_server; http.host; content:\"{d}\"; nocase; endswith; pcre:\"{pcre}\"; classtype:trojan-activity; sid:{}; rev:{rev};)",
            sid + 2
        );
    }
    for (i, h) in ind.ja3.iter().enumerate() {
        let _ = writeln!(
            t,
            "{action} tls $HOME_NET any -> any any (msg:\"EDGEWARD C2 TLS client fingerprint JA3 {h} (SOC list)\"; flow:established,to_server; ja3.hash; content:\"{h}\"; classtype:trojan-activity; sid:{}; rev:{rev};)",
            JA3_BASE + i as u32
        );
    }
    for (i, h) in ind.ja3s.iter().enumerate() {
        let _ = writeln!(
            t,
            "{action} tls any any -> $HOME_NET any (msg:\"EDGEWARD C2 TLS server fingerprint JA3S {h} (SOC list)\"; flow:established,to_client; ja3s.hash; content:\"{h}\"; classtype:trojan-activity; sid:{}; rev:{rev};)",
            JA3S_BASE + i as u32
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_refused_with_their_number_and_good_ones_parse() {
        let list = "# from the SOC\nip 203.0.113.66\nip 198.51.100.0/24  # a range\ndomain Evil.Example.\nja3 E7D705A3286E19EA42F587B344EE6865\n\nip 300.1.1.1\nhost x.y\ndomain -bad-.example\nja3s 1234\n";
        let errors = parse(list).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![7, 8, 9, 10], "{errors:?}");
        assert!(
            errors[1]
                .to_string()
                .contains("`host` is not an indicator kind")
        );
        let good = parse("ip 203.0.113.66\nip 198.51.100.0/24\ndomain Evil.Example.\nja3 E7D705A3286E19EA42F587B344EE6865\nip 203.0.113.66\n").unwrap();
        assert_eq!(good.addresses.len(), 2, "deduplicated");
        assert_eq!(good.domains, vec!["evil.example"]);
        assert_eq!(good.ja3, vec!["e7d705a3286e19ea42f587b344ee6865"]);
    }

    #[test]
    fn the_rules_load_in_the_engine() {
        let ind = Indicators {
            addresses: (0..450u32)
                .map(|i| IpNetwork::from(IpAddr::from((0xcb00_7100u32 + i).to_be_bytes())))
                .collect(),
            domains: vec!["evil.example".into(), "c2.bad-actor.test".into()],
            ja3: vec!["e7d705a3286e19ea42f587b344ee6865".into()],
            ja3s: vec!["f4febc55ea12b31ae17cfb7e614afda8".into()],
        };
        let text = rules(&ind, "drop", 3);
        let mut loaded = edgeward_ids::loader::LoadedRules::default();
        loaded.add_text(
            "indicators.rules",
            &text,
            &edgeward_ids::vars::Vars::default(),
            &mut Default::default(),
        );
        assert!(loaded.report.errors.is_empty(), "{}", loaded.report.table());
        assert_eq!(loaded.rules.len(), 3 * 2 + 2 * 3 + 1 + 1);
        assert!(edgeward_ids::syntax::check_file("indicators.rules", &text).is_ok());
    }
}
