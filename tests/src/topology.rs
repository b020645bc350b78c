//! The simulated agency: which namespaces exist, how they are wired, their addresses, routes and
//! services. Matches `profiles/agency-default.toml`.
//!
//! ```text
//!  staff-1 staff-2 printer-1   guest-1 guest-2        (bridges in the `sw` namespace)
//!        \    |    /               \   /
//!         br-staff                br-guest     br-quar
//!            |lan0-up                 |guest0     |quar0
//!            |   desk-1 (lan1: the appliance's own LAN port; lan0 = bridge of lan0-up + lan1)
//!   admin-1 -mgmt0-   [ gateway ]   -srv0- server-1
//!                  wan1/  |wan2  \tslcd0
//!                 isp-1  isp-2   tslcd --- gov-server (10.251.1.10)
//!                     \   /          \--- soc (10.251.9.10)
//!                   internet (HTTP 192.0.2.80, DNS 192.0.2.53, mirror 192.0.2.100)
//! ```

/// Every role a lab has, in creation order. `sw` is the switch holding the LAN bridges.
pub const ROLES: &[&str] = &[
    "gateway",
    "sw",
    "staff-1",
    "staff-2",
    "visitor-1",
    "desk-1",
    "admin-1",
    "server-1",
    "printer-1",
    "guest-1",
    "guest-2",
    "isp-1",
    "isp-2",
    "tslcd",
    "gov-server",
    "internet",
    "soc",
];

/// A veth pair between two roles' namespaces.
pub struct Link {
    pub a: (&'static str, &'static str),
    pub b: (&'static str, &'static str),
    /// MAC address of the `b` end (lab hosts carry their inventory MACs).
    pub b_mac: Option<&'static str>,
}

pub fn links() -> Vec<Link> {
    let l = |a: (&'static str, &'static str), b: (&'static str, &'static str), b_mac| Link {
        a,
        b,
        b_mac,
    };
    vec![
        // The gateway's staff interface `lan0` is a bridge it makes of two of its own ports:
        // `lan0-up` to the agency's switch and `lan1` with a PC plugged straight in.
        l(("gateway", "lan0-up"), ("sw", "gw-staff"), None),
        l(
            ("gateway", "lan1"),
            ("desk-1", "eth0"),
            Some("02:ed:00:00:00:13"),
        ),
        l(("gateway", "guest0"), ("sw", "gw-guest"), None),
        l(("gateway", "quar0"), ("sw", "gw-quar"), None),
        l(
            ("sw", "p-staff-1"),
            ("staff-1", "eth0"),
            Some("02:ed:00:00:00:11"),
        ),
        l(
            ("sw", "p-staff-2"),
            ("staff-2", "eth0"),
            Some("02:ed:00:00:00:12"),
        ),
        l(
            ("sw", "p-visitor-1"),
            ("visitor-1", "eth0"),
            Some("02:ed:00:00:00:77"),
        ),
        l(
            ("sw", "p-printer-1"),
            ("printer-1", "eth0"),
            Some("02:ed:00:00:00:50"),
        ),
        l(
            ("sw", "p-guest-1"),
            ("guest-1", "eth0"),
            Some("02:ed:00:20:00:11"),
        ),
        l(
            ("sw", "p-guest-2"),
            ("guest-2", "eth0"),
            Some("02:ed:00:20:00:12"),
        ),
        l(
            ("gateway", "mgmt0"),
            ("admin-1", "eth0"),
            Some("02:ed:00:00:99:10"),
        ),
        l(
            ("gateway", "srv0"),
            ("server-1", "eth0"),
            Some("02:ed:00:00:10:10"),
        ),
        l(("gateway", "wan1"), ("isp-1", "eth-gw"), None),
        l(("gateway", "wan2"), ("isp-2", "eth-gw"), None),
        l(("gateway", "tslcd0"), ("tslcd", "eth-gw"), None),
        l(("isp-1", "eth-inet"), ("internet", "eth-isp1"), None),
        l(("isp-2", "eth-inet"), ("internet", "eth-isp2"), None),
        l(("tslcd", "eth-gov"), ("gov-server", "eth0"), None),
        l(("tslcd", "eth-soc"), ("soc", "eth0"), None),
    ]
}

/// Bridges in the `sw` namespace and their ports.
pub fn bridges() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        (
            "br-staff",
            vec![
                "gw-staff",
                "p-staff-1",
                "p-staff-2",
                "p-visitor-1",
                "p-printer-1",
            ],
        ),
        ("br-guest", vec!["gw-guest", "p-guest-1", "p-guest-2"]),
        ("br-quar", vec!["gw-quar"]),
    ]
}

/// Addresses and routes of one role (the gateway's come from its own config).
pub struct HostNet {
    pub role: &'static str,
    /// (interface, address/prefix)
    pub addresses: Vec<(&'static str, &'static str)>,
    /// `ip route` arguments, v4 or v6 (family inferred by iproute2).
    pub routes: Vec<&'static str>,
    pub forwarding: bool,
}

pub fn hosts() -> Vec<HostNet> {
    let h = |role, addresses, routes, forwarding| HostNet {
        role,
        addresses,
        routes,
        forwarding,
    };
    vec![
        h(
            "staff-1",
            vec![("eth0", "10.10.0.11/24"), ("eth0", "fd00:10::11/64")],
            vec!["default via 10.10.0.1", "default via fd00:10::1"],
            false,
        ),
        h(
            "desk-1",
            vec![("eth0", "10.10.0.13/24"), ("eth0", "fd00:10::13/64")],
            vec!["default via 10.10.0.1", "default via fd00:10::1"],
            false,
        ),
        h(
            "staff-2",
            vec![("eth0", "10.10.0.12/24"), ("eth0", "fd00:10::12/64")],
            vec!["default via 10.10.0.1", "default via fd00:10::1"],
            false,
        ),
        // Not in the inventory and without an address: it asks for one (dhclient in tests).
        h("visitor-1", vec![], vec![], false),
        h(
            "printer-1",
            vec![("eth0", "10.10.0.50/24")],
            vec!["default via 10.10.0.1"],
            false,
        ),
        h(
            "admin-1",
            vec![("eth0", "10.10.99.10/24"), ("eth0", "fd00:10:99::10/64")],
            vec!["default via 10.10.99.1", "default via fd00:10:99::1"],
            false,
        ),
        h(
            "server-1",
            vec![("eth0", "10.10.10.10/24"), ("eth0", "fd00:10:10::10/64")],
            vec!["default via 10.10.10.1", "default via fd00:10:10::1"],
            false,
        ),
        h(
            "guest-1",
            vec![("eth0", "10.20.0.11/24"), ("eth0", "fd00:20::11/64")],
            vec!["default via 10.20.0.1", "default via fd00:20::1"],
            false,
        ),
        h(
            "guest-2",
            vec![("eth0", "10.20.0.12/24"), ("eth0", "fd00:20::12/64")],
            vec!["default via 10.20.0.1", "default via fd00:20::1"],
            false,
        ),
        h(
            "isp-1",
            vec![
                ("eth-gw", "203.0.113.1/30"),
                ("eth-gw", "2001:db8:1::1/64"),
                ("eth-inet", "100.64.1.1/30"),
                ("eth-inet", "2001:db8:101::1/64"),
            ],
            vec!["default via 100.64.1.2", "default via 2001:db8:101::2"],
            true,
        ),
        h(
            "isp-2",
            vec![
                ("eth-gw", "198.51.100.1/30"),
                ("eth-gw", "2001:db8:2::1/64"),
                ("eth-inet", "100.64.2.1/30"),
                ("eth-inet", "2001:db8:102::1/64"),
            ],
            vec!["default via 100.64.2.2", "default via 2001:db8:102::2"],
            true,
        ),
        h(
            "internet",
            vec![
                ("eth-isp1", "100.64.1.2/30"),
                ("eth-isp1", "2001:db8:101::2/64"),
                ("eth-isp2", "100.64.2.2/30"),
                ("eth-isp2", "2001:db8:102::2/64"),
                ("lo", "192.0.2.80/32"),
                ("lo", "192.0.2.53/32"),
                ("lo", "192.0.2.100/32"),
                ("lo", "192.0.2.81/32"),
                ("lo", "203.162.4.191/32"),
                ("lo", "203.113.131.1/32"),
                ("lo", "1.1.1.1/32"),
                ("lo", "8.8.8.8/32"),
                ("lo", "2001:db8:ffff::80/128"),
            ],
            vec![
                "203.0.113.0/30 via 100.64.1.1",
                "198.51.100.0/30 via 100.64.2.1",
                "2001:db8:1::/64 via 2001:db8:101::1",
                "2001:db8:2::/64 via 2001:db8:102::1",
            ],
            false,
        ),
        h(
            "tslcd",
            vec![
                ("eth-gw", "10.250.0.1/30"),
                ("eth-gov", "10.251.1.1/24"),
                ("eth-soc", "10.251.9.1/24"),
            ],
            vec![],
            true,
        ),
        h(
            "gov-server",
            vec![("eth0", "10.251.1.10/24")],
            vec!["default via 10.251.1.1"],
            false,
        ),
        h(
            "soc",
            vec![("eth0", "10.251.9.10/24")],
            vec!["default via 10.251.9.1"],
            false,
        ),
    ]
}

/// A long-running helper process of the lab.
pub struct Service {
    pub role: &'static str,
    pub name: &'static str,
    pub kind: ServiceKind,
}

pub enum ServiceKind {
    /// `edgeward-lab serve --name N --listen A...`: HTTP that echoes the client address.
    Whoami(Vec<&'static str>),
    /// dnsmasq answering for the lab's names on these addresses.
    Dns(Vec<&'static str>),
    /// `edgeward-lab serve --echo`: a TCP echo server, for long-lived connections.
    Echo(Vec<&'static str>),
}

pub fn services() -> Vec<Service> {
    use ServiceKind::{Dns, Echo, Whoami};
    let s = |role, name, kind| Service { role, name, kind };
    vec![
        s(
            "internet",
            "internet",
            Whoami(vec![
                "192.0.2.80:80",
                "[2001:db8:ffff::80]:80",
                "1.1.1.1:80",
            ]),
        ),
        s(
            "internet",
            "update-mirror",
            Whoami(vec!["192.0.2.100:80", "192.0.2.100:443"]),
        ),
        s(
            "internet",
            "dns",
            Dns(vec![
                "192.0.2.53",
                "8.8.8.8",
                "203.162.4.191",
                "203.113.131.1",
            ]),
        ),
        s("internet", "echo", Echo(vec!["192.0.2.81:443"])),
        s(
            "staff-1",
            "staff-1",
            Whoami(vec!["0.0.0.0:80", "0.0.0.0:445"]),
        ),
        s(
            "staff-2",
            "staff-2",
            Whoami(vec!["0.0.0.0:80", "0.0.0.0:445"]),
        ),
        s(
            "desk-1",
            "desk-1",
            Whoami(vec!["0.0.0.0:80", "0.0.0.0:445"]),
        ),
        s(
            "printer-1",
            "printer-1",
            Whoami(vec!["0.0.0.0:9100", "0.0.0.0:631"]),
        ),
        s(
            "server-1",
            "server-1",
            Whoami(vec!["0.0.0.0:80", "0.0.0.0:443", "0.0.0.0:22"]),
        ),
        s(
            "gov-server",
            "gov-server",
            Whoami(vec!["0.0.0.0:80", "0.0.0.0:443"]),
        ),
    ]
}

/// Well-known endpoints tests and scripts use.
pub mod endpoints {
    pub const GATEWAY_MGMT: &str = "10.10.99.1";
    pub const GATEWAY_WAN1: &str = "203.0.113.2";
    pub const GATEWAY_WAN2: &str = "198.51.100.2";
    pub const METRICS_PORT: u16 = 9108;
    pub const INTERNET_HTTP: &str = "192.0.2.80";
    pub const INTERNET_DNS: &str = "192.0.2.53";
    pub const UPDATE_MIRROR: &str = "192.0.2.100";
    /// TCP echo on port 443 (long-lived connections).
    pub const INTERNET_ECHO: &str = "192.0.2.81";
    pub const GOV_SERVER: &str = "10.251.1.10";
    pub const SOC: &str = "10.251.9.10";
}
