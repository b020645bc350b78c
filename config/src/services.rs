//! The catalogue of named services a policy can refer to: built-ins plus the config's own.

use crate::model::{Config, PortRange, ServiceDef};

/// The pseudo-service that matches all traffic.
pub const ANY: &str = "any";

const fn p(port: u16) -> PortRange {
    PortRange::single(port)
}

/// Built-in services: (name, tcp ports, udp ports, icmp echo).
const BUILTIN: &[(&str, &[PortRange], &[PortRange], bool)] = &[
    ("dns", &[p(53)], &[p(53)], false),
    ("dhcp", &[], &[p(67), p(547)], false),
    ("ntp", &[], &[p(123)], false),
    ("http", &[p(80)], &[], false),
    ("https", &[p(443)], &[p(443)], false),
    ("ssh", &[p(22)], &[], false),
    ("smb", &[p(139), p(445)], &[p(137), p(138)], false),
    ("rdp", &[p(3389)], &[p(3389)], false),
    ("printing", &[p(515), p(631), p(9100)], &[p(161)], false),
    ("smtp", &[p(25), p(465), p(587)], &[], false),
    ("imap", &[p(143), p(993)], &[], false),
    ("ldap", &[p(389), p(636)], &[p(389)], false),
    ("sip", &[p(5060), p(5061)], &[p(5060)], false),
    (
        "rtp",
        &[],
        &[PortRange {
            first: 10000,
            last: 20000,
        }],
        false,
    ),
    ("syslog", &[p(6514)], &[p(514)], false),
    ("ping", &[], &[], true),
];

/// Names of the built-in services, for hints.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|b| b.0)
}

/// Look a service up: the config's own definitions override built-ins of the same name.
pub fn resolve(config: &Config, name: &str) -> Option<ServiceDef> {
    if let Some(own) = config.services.iter().find(|s| s.name == name) {
        return Some(own.clone());
    }
    BUILTIN
        .iter()
        .find(|b| b.0 == name)
        .map(|(name, tcp, udp, icmp)| ServiceDef {
            name: (*name).to_string(),
            tcp: tcp.to_vec(),
            udp: udp.to_vec(),
            icmp_echo: *icmp,
        })
}

/// Whether `name` can be used in a policy.
pub fn is_known(config: &Config, name: &str) -> bool {
    name == ANY || resolve(config, name).is_some()
}
