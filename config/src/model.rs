//! The declarative model of an agency gateway, exactly as it is written in TOML.
//!
//! Every section an agency needs is here, even where a later subsystem fills in the behaviour;
//! defaults follow `shared/REQUIREMENTS.md` so that an empty section is already compliant.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

/// The whole configuration of one gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub gateway: Gateway,
    #[serde(default)]
    pub interfaces: Vec<Interface>,
    #[serde(default)]
    pub zones: Vec<Zone>,
    /// Services beyond the built-in catalogue (see [`crate::services`]).
    #[serde(default)]
    pub services: Vec<ServiceDef>,
    /// Named sets of prefixes (update mirrors, partner networks…), usable in policies.
    #[serde(default)]
    pub address_groups: Vec<AddressGroup>,
    #[serde(default)]
    pub policies: Vec<Policy>,
    #[serde(default)]
    pub firewall: FirewallSettings,
    #[serde(default)]
    pub uplinks: Vec<Uplink>,
    #[serde(default)]
    pub port_forwards: Vec<PortForward>,
    #[serde(default)]
    pub devices: Vec<Device>,
    #[serde(default)]
    pub management: Management,
    #[serde(default)]
    pub admin: AdminPolicy,
    #[serde(default)]
    pub logs: LogSettings,
    #[serde(default)]
    pub soc: Option<Soc>,
    #[serde(default)]
    pub ids: Ids,
    #[serde(default)]
    pub wifi: Vec<WifiNetwork>,
    /// The appliance's Wi-Fi radios; a network is served on one of them.
    #[serde(default)]
    pub radios: Vec<Radio>,
    #[serde(default)]
    pub nac: Nac,
    #[serde(default)]
    pub time: TimeSync,
}

/// Time synchronisation (003 §30.8: log timestamps and TOTP depend on it): the NTP servers the
/// gateway follows, the zones it serves time to, and the offset that raises an alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeSync {
    /// NTP servers (addresses or host names), most trusted first: the SOC's or the TSLCD's.
    /// Empty: the clock is not synchronised, and the system page says so.
    pub servers: Vec<String>,
    /// Internal zones whose hosts may use the gateway as their NTP server.
    pub serve_zones: Vec<String>,
    /// A clock further than this from the servers' time raises an alarm event.
    pub max_offset_ms: u32,
}

impl Default for TimeSync {
    fn default() -> Self {
        TimeSync {
            servers: Vec::new(),
            serve_zones: Vec::new(),
            max_offset_ms: 1000,
        }
    }
}

/// Network access control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Nac {
    /// Internal zones where a machine whose MAC is not approved in the inventory gets an
    /// address but reaches only the gateway: DHCP, DNS and the page saying it waits for
    /// approval (000 §5.4, 003 §23.3).
    pub onboarding_zones: Vec<String>,
    /// Port of that page on the gateway's addresses in those zones (plain HTTP; web requests of
    /// waiting machines are sent there).
    pub portal_port: u16,
    /// Security events that quarantine the internal host by themselves: `c2`, `scan`, `mining`
    /// (001 §7.8, 004 §15.8, 000 §5.10.b).
    pub quarantine_on: Vec<String>,
    /// DHCP servers other than the gateway's that may answer on the internal segments (a MAC
    /// or an address each); any other is a rogue server (000 §5.10.b).
    pub allowed_dhcp_servers: Vec<String>,
    /// Seconds between the gateway's DHCPDISCOVER probes on each internal segment, which make
    /// every server there answer where the gateway hears it; 0 listens only.
    pub rogue_probe_seconds: u32,
    /// Where a locally administered (randomised) MAC may be approved.
    pub random_mac: RandomMacPolicy,
}

impl Default for Nac {
    fn default() -> Self {
        Nac {
            onboarding_zones: Vec::new(),
            portal_port: 8081,
            quarantine_on: Vec::new(),
            allowed_dhcp_servers: Vec::new(),
            rogue_probe_seconds: 5,
            random_mac: RandomMacPolicy::Allow,
        }
    }
}

/// Where devices with a locally administered (randomised or made-up) MAC may be approved: such
/// a MAC changes with the network or the day, so an inventory entry for it identifies little.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RandomMacPolicy {
    /// Anywhere (labelled as such on the devices page).
    #[default]
    Allow,
    /// Only in guest zones.
    GuestOnly,
}

/// What the approver of a laptop or phone attests before it joins (001 §7.5, 004 §15.5): the
/// gateway cannot check these itself.
pub const APPROVAL_CHECKLIST: [&str; 4] = [
    "antivirus",
    "os-updates",
    "licensed-software",
    "screen-lock",
];

/// Identity of the appliance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    /// Stable identifier used in every event and by the SOC (`[a-z0-9-]`, 1–63 characters).
    pub host_id: String,
    #[serde(default = "default_hostname")]
    pub hostname: String,
    /// The agency that operates this gateway, as it appears in reports.
    #[serde(default)]
    pub agency: String,
}

fn default_hostname() -> String {
    "edgeward".into()
}

/// What a network interface is for. An interface belongs to exactly one zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Lan,
    Servers,
    Mgmt,
    Guest,
    Quarantine,
    WanInternet,
    WanTslcd,
}

impl Role {
    /// The zone kind an interface of this role must sit in.
    pub fn zone_kind(self) -> ZoneKind {
        match self {
            Role::Lan => ZoneKind::Lan,
            Role::Servers => ZoneKind::Servers,
            Role::Mgmt => ZoneKind::Mgmt,
            Role::Guest => ZoneKind::Guest,
            Role::Quarantine => ZoneKind::Quarantine,
            Role::WanInternet => ZoneKind::Internet,
            Role::WanTslcd => ZoneKind::Tslcd,
        }
    }

    pub fn is_uplink(self) -> bool {
        matches!(self, Role::WanInternet | Role::WanTslcd)
    }
}

/// A physical (or lab veth) interface of the gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    pub name: String,
    pub role: Role,
    pub zone: String,
    /// The gateway's own addresses on this interface, with prefix length (`10.10.0.1/24`).
    #[serde(default)]
    pub addresses: Vec<IpNetwork>,
    #[serde(default)]
    pub mtu: Option<u32>,
    #[serde(default)]
    pub description: String,
    /// The appliance's own LAN ports bridged into this interface (which the gateway then makes
    /// a bridge): machines plugged into them are cut off from each other too when blocked,
    /// quarantined or waiting for approval (the nft `bridge` family).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
}

/// The kind of a zone decides which built-in protections apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZoneKind {
    Lan,
    Servers,
    Mgmt,
    Guest,
    Quarantine,
    Internet,
    Tslcd,
}

impl ZoneKind {
    /// Zones behind the gateway (everything but the uplinks).
    pub fn is_internal(self) -> bool {
        !matches!(self, ZoneKind::Internet | ZoneKind::Tslcd)
    }
    pub fn is_uplink(self) -> bool {
        !self.is_internal()
    }
}

/// A security zone: a set of interfaces and the address prefixes that live behind them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    pub name: String,
    pub kind: ZoneKind,
    /// Prefixes of hosts in this zone. Uplink zones leave this empty (they are "everything else";
    /// the TSLCD's reach is its uplink's `government_prefixes`).
    #[serde(default)]
    pub prefixes: Vec<IpNetwork>,
    #[serde(default)]
    pub description: String,
    /// Addresses the gateway hands out in this zone (DHCP), if any.
    #[serde(default)]
    pub dhcp: Option<ZoneDhcp>,
}

/// A zone's DHCP range: `dhcp = { from = "10.10.0.100", to = "10.10.0.199" }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneDhcp {
    pub from: IpAddr,
    pub to: IpAddr,
    /// Lease time in minutes (default 12 h).
    #[serde(default = "default_lease_minutes")]
    pub lease_minutes: u32,
    /// DNS servers given to clients (default: the gateway's address in the zone).
    #[serde(default)]
    pub dns: Vec<IpAddr>,
    /// IPv6 for the zone's clients, where its interface has an IPv6 prefix: router
    /// advertisements with SLAAC (`slaac`), or stateful DHCPv6 (`dhcpv6`); `off` by default.
    #[serde(default)]
    pub ipv6: Ipv6Assign,
}

/// How a zone's clients get IPv6 addresses from the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ipv6Assign {
    /// No router advertisements, no DHCPv6.
    #[default]
    Off,
    /// Router advertisements: clients form their own address in the prefix (SLAAC), and learn
    /// the DNS server from RDNSS and stateless DHCPv6.
    Slaac,
    /// Router advertisements with the managed flag and addresses from DHCPv6 (`::1000`–`::1fff`
    /// of the prefix), leased and logged like IPv4 ones.
    Dhcpv6,
}

fn default_lease_minutes() -> u32 {
    720
}

/// A named service: a set of protocol/port pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDef {
    pub name: String,
    #[serde(default)]
    pub tcp: Vec<PortRange>,
    #[serde(default)]
    pub udp: Vec<PortRange>,
    /// ICMP echo (ping), v4 and v6.
    #[serde(default)]
    pub icmp_echo: bool,
}

/// A port or an inclusive range, written `443` or `"8000-8080"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PortSpec", into = "PortSpec")]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub const fn single(port: u16) -> Self {
        PortRange {
            first: port,
            last: port,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum PortSpec {
    One(u16),
    Range(String),
}

impl TryFrom<PortSpec> for PortRange {
    type Error = String;
    fn try_from(spec: PortSpec) -> Result<Self, String> {
        match spec {
            PortSpec::One(0) => Err("port 0 is not a usable port".into()),
            PortSpec::One(p) => Ok(PortRange::single(p)),
            PortSpec::Range(s) => {
                let parse = |t: &str| {
                    t.trim()
                        .parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| format!("`{s}` is not a port or a range like \"8000-8080\""))
                };
                match s.split_once('-') {
                    Some((a, b)) => {
                        let (first, last) = (parse(a)?, parse(b)?);
                        if first > last {
                            return Err(format!("range `{s}` runs backwards"));
                        }
                        Ok(PortRange { first, last })
                    }
                    None => parse(&s).map(PortRange::single),
                }
            }
        }
    }
}

impl From<PortRange> for PortSpec {
    fn from(r: PortRange) -> Self {
        if r.first == r.last {
            PortSpec::One(r.first)
        } else {
            PortSpec::Range(format!("{}-{}", r.first, r.last))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Allow,
    Deny,
}

/// The pseudo-zone that names the gateway itself as a destination (its DNS, DHCP, admin UI…).
pub const GATEWAY_ZONE: &str = "gateway";

/// One inter-zone rule. Anything no policy allows is denied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub from: String,
    /// A zone name, or `gateway` for services on the appliance itself.
    pub to: String,
    /// Named services (`dns`, `https`, …) or `any`.
    pub services: Vec<String>,
    pub action: Action,
    /// Restrict the destination to these prefixes (e.g. an update-server allowlist).
    #[serde(default)]
    pub destinations: Vec<IpNetwork>,
    /// Restrict the destination to these address groups (combined with `destinations`).
    #[serde(default)]
    pub destination_groups: Vec<String>,
    /// Log matches to the firewall event stream.
    #[serde(default)]
    pub log: bool,
    /// Why this rule exists; shown in the UI and in firewall events.
    #[serde(default)]
    pub comment: String,
}

/// A named set of prefixes, rendered as an nftables set so its members can change without a reload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressGroup {
    pub name: String,
    pub prefixes: Vec<IpNetwork>,
    #[serde(default)]
    pub description: String,
}

/// Firewall-wide protections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FirewallSettings {
    /// Printers, scanners, cameras and IP phones get no Internet (003 §21.3.c)…
    pub non_computers_no_internet: bool,
    /// …except to these address groups (patch and signature updates).
    pub non_computer_update_groups: Vec<String>,
    /// Send denied packets to the firewall event log (001 §6.2).
    pub log_denied: bool,
    /// Logged packets per second per chain, at most; the rest is counted, not logged.
    pub log_rate_per_second: u32,
    /// New connections per second from one source to the gateway itself before it is throttled.
    pub new_connections_per_second: u32,
    /// Clamp TCP MSS to the route MTU on uplinks.
    pub mss_clamp: bool,
    /// Drop packets whose source would not be routed back out of the interface they came in on.
    pub reverse_path_check: bool,
    /// An apply submitted for confirmation is rolled back if not confirmed within this time.
    pub commit_confirm_seconds: u32,
}

impl Default for FirewallSettings {
    fn default() -> Self {
        FirewallSettings {
            non_computers_no_internet: true,
            non_computer_update_groups: Vec::new(),
            log_denied: true,
            log_rate_per_second: 20,
            new_connections_per_second: 50,
            mss_clamp: true,
            reverse_path_check: true,
            commit_confirm_seconds: 120,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UplinkKind {
    Internet,
    Tslcd,
}

/// A WAN link: an ISP or the government network (TSLCD).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uplink {
    pub name: String,
    pub kind: UplinkKind,
    pub interface: String,
    /// Next hop on this uplink.
    pub gateway: IpAddr,
    #[serde(default)]
    pub gateway6: Option<IpAddr>,
    /// Share of new connections (internet uplinks). 0 is refused: disable the uplink instead.
    #[serde(default = "default_weight")]
    pub weight: u32,
    /// Source-NAT connections leaving through this uplink.
    #[serde(default = "yes")]
    pub masquerade: bool,
    /// TSLCD only: the government prefixes reachable through it (and only through it).
    #[serde(default)]
    pub government_prefixes: Vec<IpNetwork>,
    #[serde(default)]
    pub probes: Vec<Probe>,
    #[serde(default)]
    pub health: HealthPolicy,
    /// New connections from these zones always use this uplink while it is up.
    #[serde(default)]
    pub pinned_zones: Vec<String>,
    /// New connections to these address groups always use this uplink while it is up.
    #[serde(default)]
    pub pinned_destination_groups: Vec<String>,
}

fn default_weight() -> u32 {
    1
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeKind {
    Icmp,
    Tcp,
    Dns,
    Http,
    Https,
}

/// One health-probe target of an uplink, sent through that uplink only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    pub kind: ProbeKind,
    /// An address (`icmp`), `address:port` (`tcp`), a resolver address (`dns`) or a URL (`http(s)`).
    pub target: String,
    /// For `dns`: the name to resolve.
    #[serde(default)]
    pub query: Option<String>,
}

/// How an uplink is judged healthy; separate thresholds for going down and coming back up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthPolicy {
    /// Each target is probed this often.
    pub interval_ms: u32,
    /// A probe without an answer after this long counts as lost.
    pub timeout_ms: u32,
    /// Results kept per target for loss and latency percentiles.
    pub window: u32,
    /// A target whose last this-many probes were all lost is failing at once (fast failover);
    /// the link goes down when fewer than `min_healthy_targets` targets are healthy.
    pub fast_down_losses: u32,
    /// A link is down when fewer than this many targets are healthy.
    pub min_healthy_targets: u32,
    pub down_loss_percent: u8,
    pub up_loss_percent: u8,
    pub down_latency_p95_ms: u32,
    pub hold_up_seconds: u32,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            interval_ms: 250,
            timeout_ms: 500,
            window: 20,
            fast_down_losses: 4,
            min_healthy_targets: 1,
            down_loss_percent: 40,
            up_loss_percent: 10,
            down_latency_p95_ms: 1500,
            hold_up_seconds: 30,
        }
    }
}

/// A published server: inbound from an uplink to an internal host (004 §8.1.h).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortForward {
    pub name: String,
    pub uplink: String,
    pub protocol: TransportProtocol,
    pub port: u16,
    pub to_address: IpAddr,
    #[serde(default)]
    pub to_port: Option<u16>,
    #[serde(default)]
    pub allow_from: Vec<IpNetwork>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportProtocol {
    Tcp,
    Udp,
}

/// Device class, from the inventory form of seed 000 Phụ lục I.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceType {
    Pc,
    Laptop,
    Server,
    Printer,
    Scanner,
    Camera,
    IpPhone,
    Phone,
    Tablet,
    Switch,
    Router,
    Firewall,
    AccessPoint,
    Storage,
    Other,
}

impl DeviceType {
    /// Non-computer devices that must not reach the Internet (003 §21.3.c).
    pub fn is_non_computer(self) -> bool {
        matches!(
            self,
            DeviceType::Printer | DeviceType::Scanner | DeviceType::Camera | DeviceType::IpPhone
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DeviceStatus {
    #[default]
    Approved,
    Pending,
    Blocked,
}

/// One entry of the device inventory (seed 000 Phụ lục I; 003 §23.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// Họ tên người sử dụng.
    pub user: String,
    /// Chủng loại thiết bị.
    #[serde(rename = "type")]
    pub device_type: DeviceType,
    #[serde(default)]
    pub brand: String,
    /// Mã số thiết bị (serial).
    #[serde(default)]
    pub serial: String,
    /// Địa chỉ MAC, `aa:bb:cc:dd:ee:ff`.
    pub mac: String,
    #[serde(default)]
    pub ip: Option<IpAddr>,
    pub zone: String,
    #[serde(default)]
    pub status: DeviceStatus,
    /// Per-device Internet override: `true` lets a printer/camera out, `false` keeps a PC in.
    #[serde(default)]
    pub internet: Option<bool>,
    /// Treat this device as a member of another zone (e.g. `quarantine`) without renumbering it.
    #[serde(default)]
    pub move_to: Option<String>,
    /// Why it was moved (into quarantine): shown on the devices page and the dashboard.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub quarantine_reason: String,
    /// Ghi chú.
    #[serde(default)]
    pub note: String,
    /// A personal device (not the agency's): approved only with the head of unit's consent
    /// (004 §9.3).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub personal: bool,
    /// Who approved it joining (000 §5.4, 003 §23.3).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub approved_by: String,
    /// The head of unit who consented to a personal device (004 §9.3).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub head_of_unit: String,
    /// The checks the approver attested ([`APPROVAL_CHECKLIST`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checklist: Vec<String>,
}

/// Where the gateway's own services listen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Management {
    /// Zones from which the admin UI and SSH answer. Never an uplink zone.
    pub admin_zones: Vec<String>,
    pub ui_port: u16,
    pub ssh_port: u16,
    /// Prometheus metrics, served on the addresses of the admin zones' interfaces.
    pub metrics_port: u16,
    /// The console over SSH: off unless enabled, keys only (003 §20.2.b, 000 §8.1.đ).
    pub ssh: Ssh,
}

impl Default for Management {
    fn default() -> Self {
        Management {
            admin_zones: vec!["mgmt".into()],
            ui_port: 443,
            ssh_port: 22,
            metrics_port: 9108,
            ssh: Ssh::default(),
        }
    }
}

/// SSH to the appliance's console: off by default; when on, it answers only on the admin zones'
/// addresses and only to the public keys listed (no passwords).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ssh {
    pub enabled: bool,
    /// OpenSSH public keys (`ssh-ed25519 AAAA… comment`), one per administrator.
    pub authorized_keys: Vec<String>,
}

/// Account policy of the appliance's own administrators (REQUIREMENTS §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminPolicy {
    pub admin_min_length: u32,
    pub user_min_length: u32,
    pub require_all_classes: bool,
    pub admin_max_age_days: u32,
    pub user_max_age_days: u32,
    pub lockout_failures: u32,
    pub lockout_window_minutes: u32,
    pub suspend_unused_days: u32,
    /// TOTP for every account that can change anything (administrators and operators); only
    /// viewers log in with a password alone (000 §8.1.h).
    pub mfa_for_admins: bool,
    /// An idle session locks after this many minutes: at most 10 (004 §8.1.c, §13.1.c).
    pub session_idle_minutes: u32,
    pub session_max_hours: u32,
}

impl Default for AdminPolicy {
    fn default() -> Self {
        AdminPolicy {
            admin_min_length: 11,
            user_min_length: 8,
            require_all_classes: true,
            admin_max_age_days: 60,
            user_max_age_days: 90,
            lockout_failures: 5,
            lockout_window_minutes: 30,
            suspend_unused_days: 30,
            mfa_for_admins: true,
            session_idle_minutes: 10,
            session_max_hours: 8,
        }
    }
}

/// The local event store: encrypted, hash-chained, kept at least six months (000 §8.2.c).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// Events older than this are removed (whole segments).
    pub retention_days: u32,
    /// When the store grows past this, the oldest segments go first (with an event saying so).
    pub max_disk_mb: u64,
    /// A new segment starts at this size (and at least daily).
    pub segment_mb: u64,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            retention_days: 183,
            max_disk_mb: 4096,
            segment_mb: 16,
        }
    }
}

/// The provincial SOC this gateway reports to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Soc {
    /// `host:port` of the SOC hub (QUIC).
    pub endpoint: String,
    /// Name in the hub's certificate.
    pub server_name: String,
    #[serde(default)]
    pub syslog: Vec<SyslogTarget>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogTarget {
    /// `host:port`, RFC 5425 (syslog over TLS).
    pub endpoint: String,
    pub server_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum IdsMode {
    /// Detect and alert only.
    #[default]
    Ids,
    /// Inline: drop what `drop` rules match.
    Ips,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ids {
    pub enabled: bool,
    pub mode: IdsMode,
    /// Uplinks watched; empty means all.
    pub uplinks: Vec<String>,
    /// Internal zones whose traffic between zones is inspected too (IDS: their interfaces are
    /// watched; IPS: their forwarded traffic is queued); empty means every internal zone.
    pub zones: Vec<String>,
    /// `$HOME_NET`; empty means every internal zone's prefixes.
    pub home_net: Vec<IpNetwork>,
    pub rules_dir: String,
    /// IPS mode: when the inspection queue is full or the engine is gone, packets pass
    /// (`true`, fail-open) or are dropped (`false`, fail-closed).
    pub fail_open: bool,
    /// Enforcement on top of the ruleset's own actions (IPS mode): alert rules that drop, by
    /// sid, classtype or severity (1 = high: every rule of that severity or higher)…
    pub drop_sids: Vec<u32>,
    pub drop_classtypes: Vec<String>,
    pub drop_severity: Option<u8>,
    /// … drop rules that only alert, and rules not loaded at all.
    pub alert_only_sids: Vec<u32>,
    pub disabled_sids: Vec<u32>,
    /// Sources whose scans are expected (the SOC's, the police's monthly scan, 002 §7.2.c):
    /// never reported as port scans.
    pub scanner_allowlist: Vec<IpNetwork>,
    /// Per-uplink failure policy overriding `fail_open` (uplink name → fail-open?), e.g.
    /// `fail_open_by_uplink = { tslcd = false }` keeps the government network fail-closed.
    pub fail_open_by_uplink: std::collections::BTreeMap<String, bool>,
    /// IPS: hand flows the engine is done with (past the reassembly depth, or encrypted after
    /// the TLS handshake) back to the kernel, which stops queueing them.
    pub bypass: bool,
    /// The drop rules of a SOC bundle that targets IPS mode drop on the inspected paths even
    /// in IDS mode (virtual patching by the SOC); `false` keeps every SOC rule alert-only
    /// unless this config says IPS.
    pub soc_enforcement: bool,
    /// Disk budget of the alerts' evidence pcaps in MiB (kept as long as the logs, oldest
    /// removed first past the budget); 0 records none.
    pub evidence_mb: u64,
}

impl Ids {
    /// Whether the IPS lets packets of `uplink` pass when it cannot judge them.
    pub fn uplink_fails_open(&self, uplink: &str) -> bool {
        self.fail_open_by_uplink
            .get(uplink)
            .copied()
            .unwrap_or(self.fail_open)
    }
}

impl Default for Ids {
    fn default() -> Self {
        Ids {
            enabled: true,
            mode: IdsMode::Ids,
            uplinks: Vec::new(),
            zones: Vec::new(),
            home_net: Vec::new(),
            rules_dir: "/var/lib/edgeward/rules".into(),
            fail_open: true,
            drop_sids: Vec::new(),
            drop_classtypes: Vec::new(),
            drop_severity: None,
            alert_only_sids: Vec::new(),
            disabled_sids: Vec::new(),
            scanner_allowlist: Vec::new(),
            fail_open_by_uplink: std::collections::BTreeMap::new(),
            bypass: true,
            soc_enforcement: true,
            evidence_mb: 1024,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WifiSecurity {
    Open,
    Wpa2,
    Wpa3,
    Wpa2Wpa3,
}

/// The band a radio serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum WifiBand {
    #[default]
    #[serde(rename = "2.4ghz")]
    Ghz24,
    #[serde(rename = "5ghz")]
    Ghz5,
}

/// A Wi-Fi radio of the appliance, driven by hostapd.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Radio {
    pub name: String,
    /// The wireless interface (`wlan0`); its SSIDs after the first get `wlan0-1`, `wlan0-2`….
    pub interface: String,
    #[serde(default)]
    pub band: WifiBand,
    /// 1–13 on 2.4 GHz; 36–64 or 100–144 or 149–165 (steps of 4) on 5 GHz.
    #[serde(default = "default_channel")]
    pub channel: u16,
    /// The regulatory domain (ISO 3166 country code).
    #[serde(default = "default_country")]
    pub country: String,
}

fn default_channel() -> u16 {
    6
}

fn default_country() -> String {
    "VN".into()
}

impl Radio {
    /// The most SSIDs one radio serves.
    pub const MAX_SSIDS: usize = 8;
}

/// A Wi-Fi network served by the appliance's access point(s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WifiNetwork {
    pub ssid: String,
    pub zone: String,
    pub security: WifiSecurity,
    /// The radio that serves it (empty: the first radio; no radio: defined, not served).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub radio: String,
    /// Whether its clients are kept from each other (default: yes in guest zones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolate_clients: Option<bool>,
    /// The passphrase; at least 8 characters (WPA2/WPA3-SAE).
    pub passphrase: String,
    /// Date the passphrase was last changed (`YYYY-MM-DD`); it must change every 6 months (004 §7.2).
    pub passphrase_changed: String,
    #[serde(default = "default_rotate_days")]
    pub rotate_days: u32,
    /// Stop serving the network while its passphrase is overdue (default: keep serving and
    /// raise the overdue event every day).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub block_when_overdue: bool,
}

/// Where a passphrase stands against its rotation period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RotationState {
    Ok,
    /// Due within [`WifiNetwork::DUE_SOON_DAYS`].
    DueSoon,
    Overdue,
    /// `passphrase_changed` is not a date.
    Unknown,
}

/// One network's passphrase rotation as of a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rotation {
    pub due: Option<chrono::NaiveDate>,
    /// Days until the due day (negative: overdue by that many).
    pub days_left: Option<i64>,
    pub state: RotationState,
}

/// Why a Wi-Fi passphrase is not strong enough (004 §7.2: a strong password).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassphraseProblem {
    /// WPA2/WPA3 passphrases are printable ASCII.
    NotAscii,
    /// Fewer than [`WifiNetwork::MIN_PASSPHRASE`] or more than 63 characters.
    Length(usize),
    /// It contains the network's own name.
    ContainsSsid,
}

impl WifiNetwork {
    /// Whether clients are isolated from each other, given the kind of the network's zone.
    pub fn isolates(&self, zone_kind: Option<ZoneKind>) -> bool {
        self.isolate_clients
            .unwrap_or(zone_kind == Some(ZoneKind::Guest))
    }

    /// The shortest passphrase edgeward accepts (WPA allows 8; a strong one has 12).
    pub const MIN_PASSPHRASE: usize = 12;
    /// The longest WPA passphrase.
    pub const MAX_PASSPHRASE: usize = 63;

    /// The one passphrase rule, for the validator, the Wi-Fi page and the API.
    pub fn passphrase_problem(ssid: &str, passphrase: &str) -> Option<PassphraseProblem> {
        let len = passphrase.chars().count();
        if !passphrase.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
            Some(PassphraseProblem::NotAscii)
        } else if !(Self::MIN_PASSPHRASE..=Self::MAX_PASSPHRASE).contains(&len) {
            Some(PassphraseProblem::Length(len))
        } else if !ssid.is_empty() && passphrase.to_lowercase().contains(&ssid.to_lowercase()) {
            Some(PassphraseProblem::ContainsSsid)
        } else {
            None
        }
    }

    /// The rotation period a new network gets.
    pub const DEFAULT_ROTATE_DAYS: u32 = 182;
    /// The longest rotation period allowed: 6 months (004 §7.2).
    pub const MAX_ROTATE_DAYS: u32 = 183;

    /// The rotation period in force: `rotate_days`, capped at 6 months.
    pub fn rotation_period_days(&self) -> u32 {
        self.rotate_days.min(Self::MAX_ROTATE_DAYS)
    }

    /// The day of the last passphrase change, if `passphrase_changed` is a date.
    pub fn changed_on(&self) -> Option<chrono::NaiveDate> {
        chrono::NaiveDate::parse_from_str(&self.passphrase_changed, "%Y-%m-%d").ok()
    }

    /// A passphrase due within this many days is flagged (the dashboard, the event).
    pub const DUE_SOON_DAYS: i64 = 14;

    /// The rotation of the passphrase as of `today` (at most 183 days, 004 §7.2).
    pub fn rotation(&self, today: chrono::NaiveDate) -> Rotation {
        let Some(changed) = self.changed_on() else {
            return Rotation {
                due: None,
                days_left: None,
                state: RotationState::Unknown,
            };
        };
        let due = changed + chrono::Duration::days(i64::from(self.rotation_period_days()));
        let days_left = (due - today).num_days();
        let state = if days_left < 0 {
            RotationState::Overdue
        } else if days_left <= Self::DUE_SOON_DAYS {
            RotationState::DueSoon
        } else {
            RotationState::Ok
        };
        Rotation {
            due: Some(due),
            days_left: Some(days_left),
            state,
        }
    }

    /// Whether the network is off the air on `today`: its passphrase is overdue and the
    /// admin chose to block it then.
    pub fn withheld(&self, today: chrono::NaiveDate) -> bool {
        self.block_when_overdue && self.rotation(today).state == RotationState::Overdue
    }
}

fn default_rotate_days() -> u32 {
    WifiNetwork::DEFAULT_ROTATE_DAYS
}

impl Device {
    /// The zone whose policy applies to this device.
    pub fn effective_zone(&self) -> &str {
        self.move_to.as_deref().unwrap_or(&self.zone)
    }

    /// Whether this device may reach the Internet under the firewall settings.
    /// Whether the security policy alone (no per-device override) lets this device out.
    pub fn internet_allowed_by_policy(&self, fw: &FirewallSettings) -> bool {
        !(fw.non_computers_no_internet && self.device_type.is_non_computer())
    }

    pub fn internet_allowed(&self, fw: &FirewallSettings) -> bool {
        self.internet
            .unwrap_or(!(fw.non_computers_no_internet && self.device_type.is_non_computer()))
    }
}

/// A served Wi-Fi network: its BSS interface on its radio, and the bridge it joins.
#[derive(Debug, Clone, PartialEq)]
pub struct ServedWifi<'a> {
    pub network: &'a WifiNetwork,
    pub radio: &'a Radio,
    /// `wlan0` for the radio's first SSID, `wlan0-1`, `wlan0-2`… for the next.
    pub ifname: String,
    /// The zone's internal interface (a bridge) the BSS joins; empty if the zone has none.
    pub bridge: String,
    pub isolate: bool,
}

impl Config {
    /// Every network a radio serves, in order, with its BSS interface and bridge (networks of
    /// a model without radios are not served).
    pub fn served_wifi(&self) -> Vec<ServedWifi<'_>> {
        let mut out = Vec::new();
        for (ri, radio) in self.radios.iter().enumerate() {
            let on_radio = self.wifi.iter().filter(|w| {
                if w.radio.is_empty() {
                    ri == 0
                } else {
                    w.radio == radio.name
                }
            });
            for (n, network) in on_radio.enumerate() {
                let ifname = if n == 0 {
                    radio.interface.clone()
                } else {
                    format!("{}-{n}", radio.interface)
                };
                let bridge = self
                    .interfaces
                    .iter()
                    .find(|i| i.zone == network.zone && !i.role.is_uplink())
                    .map(|i| i.name.clone())
                    .unwrap_or_default();
                let isolate = network.isolates(self.zone(&network.zone).map(|z| z.kind));
                out.push(ServedWifi {
                    network,
                    radio,
                    ifname,
                    bridge,
                    isolate,
                });
            }
        }
        out
    }

    /// The inventoried devices that use the TSLCD: their zone may reach a TSLCD uplink zone.
    /// None of them may be on Wi-Fi (000 §5.6.b); seen there, they raise an alert.
    pub fn tslcd_devices(&self) -> Vec<&Device> {
        let tslcd_zones: Vec<&str> = self
            .policies
            .iter()
            .filter(|p| {
                p.action == Action::Allow
                    && self.zone(&p.to).map(|z| z.kind) == Some(ZoneKind::Tslcd)
            })
            .map(|p| p.from.as_str())
            .collect();
        self.devices
            .iter()
            .filter(|d| {
                tslcd_zones.contains(&d.effective_zone()) || tslcd_zones.contains(&d.zone.as_str())
            })
            .collect()
    }

    pub fn address_group(&self, name: &str) -> Option<&AddressGroup> {
        self.address_groups.iter().find(|g| g.name == name)
    }

    pub fn zone(&self, name: &str) -> Option<&Zone> {
        self.zones.iter().find(|z| z.name == name)
    }
    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.name == name)
    }
    pub fn uplink(&self, name: &str) -> Option<&Uplink> {
        self.uplinks.iter().find(|u| u.name == name)
    }
    /// The routing mark of an uplink (its position in the config, from 1). The firewall marks
    /// connections with it; the routing rules send marked packets to the uplink's own table.
    pub fn uplink_mark(&self, name: &str) -> Option<u32> {
        self.uplinks
            .iter()
            .position(|u| u.name == name)
            .map(|i| i as u32 + 1)
    }

    /// The ISPs that carry new connections: the healthy ones or — when none is healthy — all of
    /// them (keep trying; nothing is gained by routing nowhere). Firewall and routing both use this.
    pub fn isps_in_use(&self, healthy: &dyn Fn(&str) -> bool) -> Vec<&Uplink> {
        let isps: Vec<&Uplink> = self
            .uplinks
            .iter()
            .filter(|u| u.kind == UplinkKind::Internet)
            .collect();
        let up: Vec<&Uplink> = isps.iter().copied().filter(|u| healthy(&u.name)).collect();
        if up.is_empty() { isps } else { up }
    }

    /// Interfaces that sit in the named zone.
    pub fn zone_interfaces<'a>(&'a self, zone: &'a str) -> impl Iterator<Item = &'a Interface> {
        self.interfaces.iter().filter(move |i| i.zone == zone)
    }
    /// Government prefixes of every TSLCD uplink: routed only there, never through an ISP.
    pub fn government_prefixes(&self) -> Vec<IpNetwork> {
        self.uplinks
            .iter()
            .filter(|u| u.kind == UplinkKind::Tslcd)
            .flat_map(|u| u.government_prefixes.iter().copied())
            .collect()
    }

    /// Prefixes of every internal zone (the default `$HOME_NET`).
    pub fn internal_prefixes(&self) -> Vec<IpNetwork> {
        self.zones
            .iter()
            .filter(|z| z.kind.is_internal())
            .flat_map(|z| z.prefixes.iter().copied())
            .collect()
    }
}
