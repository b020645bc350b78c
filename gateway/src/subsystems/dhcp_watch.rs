//! The DHCP listener on every internal segment (000 §5.10.b, 003 §30.6.c): one raw packet
//! socket per internal interface, filtered in the kernel to UDP ports 67/68 — a few packets a
//! minute, so one `recv` per packet is fine — and, every `nac.rogue_probe_seconds`, a broadcast
//! DHCPDISCOVER with the broadcast flag from the interface's own MAC, so that every server on
//! the segment answers where the gateway hears it (a server answers a real client by unicast,
//! which a switch delivers to that client only). Sent from a packet socket, the probe never
//! reaches the gateway's own dnsmasq.
//!
//! What is heard: a client's DISCOVER/REQUEST teaches the learned-device table
//! (`edgeward_nac::seen`, kept in `state/dhcp/seen.json` for the devices page) its fingerprint,
//! hostname and maker, and a machine not in the inventory heard for the first time is a
//! `device-seen` event; an OFFER/ACK/NAK from a server that is neither the gateway nor allowed
//! (`nac.allowed_dhcp_servers`) is a `rogue-dhcp` event naming the server's MAC, address and
//! interface, which the NAC policy quarantines when `nac.quarantine_on` has `rogue-dhcp`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use edgeward_event::bus::Bus;
use edgeward_event::model::{EventBody, NacEvent};
use edgeward_nac::oui::{DEBIAN_OUI_CSV, OuiTable};
use edgeward_nac::rogue::{RogueServer, RogueWatch};
use edgeward_nac::seen::SeenTable;
use edgeward_nac::wire;

use crate::reconcile::{Desired, Report, Step, Subsystem};

/// A rogue server answering every probe is reported again after this long.
const REPEAT_AFTER: f64 = 600.0;

/// What the listener needs from the configuration.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    /// Internal interfaces and their zones.
    interfaces: Vec<(String, String)>,
    own_ips: Vec<IpAddr>,
    allowed: Vec<String>,
    probe_seconds: u32,
    /// MACs in the inventory (not news when seen).
    known: Vec<String>,
}

/// One finding from a listening thread, handed to the async side to emit.
enum Heard {
    NewDevice {
        mac: String,
        zone: String,
        detail: String,
    },
    Rogue(RogueServer, String),
}

struct Running {
    plan: Plan,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    forwarder: tokio::task::JoinHandle<()>,
}

/// The DHCP listener subsystem.
pub struct DhcpWatch {
    dir: PathBuf,
    bus: Bus,
    oui: Arc<OuiTable>,
    seen: Arc<Mutex<SeenTable>>,
    planned: Option<Plan>,
    running: Option<Running>,
}

impl DhcpWatch {
    /// Learned devices in `state_dir/dhcp/seen.json`.
    pub fn new(state_dir: &Path, bus: Bus) -> DhcpWatch {
        let dir = state_dir.join("dhcp");
        let seen = SeenTable::from_json(
            &std::fs::read_to_string(dir.join("seen.json")).unwrap_or_default(),
        );
        DhcpWatch {
            dir,
            bus,
            oui: Arc::new(OuiTable::load(Path::new(DEBIAN_OUI_CSV))),
            seen: Arc::new(Mutex::new(seen)),
            planned: None,
            running: None,
        }
    }

    fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop.store(true, Ordering::Relaxed);
            r.forwarder.abort();
            for t in r.threads {
                let _ = t.join();
            }
        }
    }
}

impl Drop for DhcpWatch {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `udp and (port 67 or port 68)` on Ethernet, as classic BPF (IPv4 only; fragments past the
/// first dropped): ethertype 0x0800, protocol 17, not a later fragment, then either port.
fn dhcp_filter() -> Vec<libc::sock_filter> {
    let op = |code: u16, jt: u8, jf: u8, k: u32| libc::sock_filter { code, jt, jf, k };
    vec![
        op(0x28, 0, 0, 12),          //  0 ldh [12]            ethertype
        op(0x15, 0, 12, 0x0800),     //  1 IPv4 ? 2 : drop
        op(0x30, 0, 0, 23),          //  2 ldb [23]            IP protocol
        op(0x15, 0, 10, 17),         //  3 UDP ? 4 : drop
        op(0x28, 0, 0, 20),          //  4 ldh [20]            flags, fragment offset
        op(0x45, 8, 0, 0x1fff),      //  5 a later fragment ? drop : 6
        op(0xb1, 0, 0, 14),          //  6 ldxb 4*([14]&0xf)   IP header length
        op(0x48, 0, 0, 14),          //  7 ldh [x+14]          source port
        op(0x15, 4, 0, 67),          //  8 67 ? accept : 9
        op(0x15, 3, 0, 68),          //  9 68 ? accept : 10
        op(0x48, 0, 0, 16),          // 10 ldh [x+16]          destination port
        op(0x15, 1, 0, 67),          // 11 67 ? accept : 12
        op(0x15, 0, 1, 68),          // 12 68 ? accept : drop
        op(0x06, 0, 0, 0x0004_0000), // 13 accept
        op(0x06, 0, 0, 0),           // 14 drop
    ]
}

/// A packet socket on `ifindex` for DHCP, with a one-second receive timeout.
fn open(ifindex: i32) -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let proto = (libc::ETH_P_IP as u16).to_be();
    // SAFETY: plain socket(2); the descriptor is owned at once.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from(proto)) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor nobody else owns.
    let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
    let filter = dhcp_filter();
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    let timeout = libc::timeval {
        tv_sec: 1,
        tv_usec: 0,
    };
    // SAFETY: sockaddr_ll is plain data; zeroed is a valid start.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = proto;
    sll.sll_ifindex = ifindex;
    // SAFETY: each call gets a pointer and the size of a value that outlives it.
    let rc = unsafe {
        if libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&raw const prog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as u32,
        ) < 0
            || libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const timeout).cast(),
                std::mem::size_of::<libc::timeval>() as u32,
            ) < 0
        {
            -1
        } else {
            libc::bind(
                fd,
                (&raw const sll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        }
    };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(owned)
}

/// Send `frame` out of `ifindex` to the broadcast address.
fn send_broadcast(fd: i32, ifindex: i32, frame: &[u8]) -> std::io::Result<()> {
    // SAFETY: as in `open`.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = (libc::ETH_P_IP as u16).to_be();
    sll.sll_ifindex = ifindex;
    sll.sll_halen = 6;
    sll.sll_addr[..6].copy_from_slice(&[0xff; 6]);
    // SAFETY: `frame` and `sll` outlive the call; sizes are theirs.
    let n = unsafe {
        libc::sendto(
            fd,
            frame.as_ptr().cast(),
            frame.len(),
            0,
            (&raw const sll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        )
    };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn ifindex(name: &str) -> Option<i32> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: a NUL-terminated name.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (i != 0).then(|| i32::try_from(i).ok()).flatten()
}

fn own_mac(name: &str) -> Option<[u8; 6]> {
    let text = std::fs::read_to_string(format!("/sys/class/net/{name}/address")).ok()?;
    let mut out = [0u8; 6];
    let mut parts = text.trim().split(':');
    for b in &mut out {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    Some(out)
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// What one interface's listening thread is handed.
struct Listener {
    interface: String,
    zone: String,
    plan: Plan,
    own_macs: Vec<String>,
    seen: Arc<Mutex<SeenTable>>,
    oui: Arc<OuiTable>,
    stop: Arc<AtomicBool>,
    tx: tokio::sync::mpsc::Sender<Heard>,
}

/// Listen on one interface until `stop`; findings go to `tx`.
fn listen(l: Listener) {
    let Listener {
        interface,
        zone,
        plan,
        own_macs,
        seen,
        oui,
        stop,
        tx,
    } = l;
    use std::os::fd::AsRawFd;
    let _span = tracing::info_span!("dhcp_listen", %interface).entered();
    let (Some(index), Some(mac)) = (ifindex(&interface), own_mac(&interface)) else {
        tracing::warn!("no such interface: DHCP not watched there");
        return;
    };
    let sock = match open(index) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("DHCP listener not opened: {e}");
            return;
        }
    };
    let mut rogue = RogueWatch::new(
        own_macs,
        plan.own_ips.clone(),
        plan.allowed.clone(),
        REPEAT_AFTER,
    );
    let started = Instant::now();
    let mut next_probe = Instant::now();
    let mut buf = vec![0u8; 2048];
    let mut xid = u32::from_be_bytes([mac[2], mac[3], mac[4], mac[5]]);
    while !stop.load(Ordering::Relaxed) {
        if plan.probe_seconds > 0 && Instant::now() >= next_probe {
            xid = xid.wrapping_add(1);
            if let Err(e) = send_broadcast(sock.as_raw_fd(), index, &wire::discover_probe(mac, xid))
            {
                tracing::debug!("probe not sent: {e}");
            }
            next_probe = Instant::now() + Duration::from_secs(u64::from(plan.probe_seconds));
        }
        // SAFETY: `buf` outlives the call and its length is given.
        let n = unsafe { libc::recv(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        let Ok(n) = usize::try_from(n) else {
            continue; // timeout or interrupted: look at `stop` and the probe clock
        };
        let Ok(msg) = wire::parse_frame(&buf[..n]) else {
            continue;
        };
        let now = started.elapsed().as_secs_f64();
        if let Some(r) = rogue.message(now, &interface, &msg) {
            let _ = tx.blocking_send(Heard::Rogue(r, zone.clone()));
            continue;
        }
        if msg.role != wire::Role::Client || msg.client_mac == wire::mac_text(&mac) {
            continue;
        }
        // One lock: observe, and when the machine is new, take what was learned of it.
        let new_facts = seen.lock().ok().and_then(|mut t| {
            t.observe(unix_now(), &interface, Some(&zone), &msg, &oui)
                .then(|| t.get(&msg.client_mac).cloned())
                .flatten()
        });
        if let Some(facts) = new_facts.filter(|_| !plan.known.contains(&msg.client_mac)) {
            let detail = format!(
                "new device on {interface}: {}{}{}fingerprint {}",
                facts
                    .vendor
                    .map(|v| format!("maker {v}; "))
                    .unwrap_or_default(),
                if facts.random_mac {
                    "randomised MAC; "
                } else {
                    ""
                },
                facts
                    .hostname
                    .map(|h| format!("hostname {h}; "))
                    .unwrap_or_default(),
                if facts.params.is_empty() {
                    "-".into()
                } else {
                    facts.params
                },
            );
            let _ = tx.blocking_send(Heard::NewDevice {
                mac: msg.client_mac.clone(),
                zone: zone.clone(),
                detail,
            });
        }
    }
}

/// Emit what the threads heard; every 2 s write the learned table (with the leases' addresses)
/// when it changed.
async fn forward(
    mut rx: tokio::sync::mpsc::Receiver<Heard>,
    bus: Bus,
    seen: Arc<Mutex<SeenTable>>,
    dir: PathBuf,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    let mut last_written = String::new();
    loop {
        tokio::select! {
            heard = rx.recv() => {
                let Some(heard) = heard else { return };
                let body = match heard {
                    Heard::NewDevice { mac, zone, detail } => NacEvent {
                        action: "device-seen".into(),
                        mac,
                        ip: None,
                        zone: Some(zone),
                        detail,
                    },
                    Heard::Rogue(r, zone) => NacEvent {
                        action: "rogue-dhcp".into(),
                        mac: r.mac.clone(),
                        ip: Some(IpAddr::V4(r.ip)),
                        zone: Some(zone),
                        detail: format!(
                            "rogue DHCP server {} ({}) on {}: {} offering {}",
                            r.ip, r.mac, r.interface, r.message, r.offered
                        ),
                    },
                };
                bus.emit(EventBody::Nac(body)).await;
            }
            _ = tick.tick() => {
                let leases = edgeward_nac::leases::parse(
                    &std::fs::read_to_string(dir.join("leases")).unwrap_or_default(),
                );
                let text = match seen.lock() {
                    Ok(mut t) => {
                        for l in leases.by_key.values() {
                            if t.get(&l.mac).is_some_and(|d| d.ip != Some(l.ip)) {
                                let now = unix_now();
                                t.lease(now, &l.mac, l.ip, l.hostname.as_deref(), None);
                            }
                        }
                        t.to_json()
                    }
                    Err(_) => continue,
                };
                if text != last_written {
                    let path = dir.join("seen.json");
                    if edgeward_config::history::write_atomic_mode(&path, text.as_bytes(), 0o640).is_ok() {
                        last_written = text;
                    }
                }
            }
        }
    }
}

impl Subsystem for DhcpWatch {
    fn name(&self) -> &'static str {
        "dhcp-watch"
    }

    fn plan(&mut self, desired: &Desired<'_>) -> Result<(), String> {
        let c = desired.config;
        let interfaces = c
            .interfaces
            .iter()
            .filter(|i| !i.role.is_uplink())
            .map(|i| (i.name.clone(), i.zone.clone()))
            .collect();
        let own_ips = c
            .interfaces
            .iter()
            .flat_map(|i| i.addresses.iter().map(ipnetwork::IpNetwork::ip))
            .collect();
        let known = c
            .devices
            .iter()
            .filter_map(|d| edgeward_config::validate::normalize_mac(&d.mac))
            .collect();
        self.planned = Some(Plan {
            interfaces,
            own_ips,
            allowed: c.nac.allowed_dhcp_servers.clone(),
            probe_seconds: c.nac.rogue_probe_seconds,
            known,
        });
        Ok(())
    }

    fn apply<'a>(&'a mut self, _desired: &'a Desired<'a>) -> Step<'a> {
        Box::pin(async move {
            let Some(plan) = self.planned.take() else {
                return Ok(Report::quiet());
            };
            if self.running.as_ref().is_some_and(|r| r.plan == plan) {
                return Ok(Report::quiet());
            }
            self.stop();
            if plan.interfaces.is_empty() {
                return Ok(Report::quiet());
            }
            let _ = std::fs::create_dir_all(&self.dir);
            let own_macs: Vec<String> = plan
                .interfaces
                .iter()
                .filter_map(|(i, _)| own_mac(i).map(|m| wire::mac_text(&m)))
                .collect();
            let stop = Arc::new(AtomicBool::new(false));
            let (tx, rx) = tokio::sync::mpsc::channel(256);
            let mut threads = Vec::new();
            for (interface, zone) in &plan.interfaces {
                let listener = Listener {
                    interface: interface.clone(),
                    zone: zone.clone(),
                    plan: plan.clone(),
                    own_macs: own_macs.clone(),
                    seen: Arc::clone(&self.seen),
                    oui: Arc::clone(&self.oui),
                    stop: Arc::clone(&stop),
                    tx: tx.clone(),
                };
                let spawned = std::thread::Builder::new()
                    .name(format!("dhcp-{interface}"))
                    .spawn(move || listen(listener));
                if let Ok(t) = spawned {
                    threads.push(t);
                }
            }
            let forwarder = tokio::spawn(forward(
                rx,
                self.bus.clone(),
                Arc::clone(&self.seen),
                self.dir.clone(),
            ));
            let names: Vec<&str> = plan.interfaces.iter().map(|(i, _)| i.as_str()).collect();
            let report = Report::done(format!(
                "watching DHCP on {}{}",
                names.join(", "),
                if plan.probe_seconds > 0 {
                    format!(" (rogue-server probe every {} s)", plan.probe_seconds)
                } else {
                    String::new()
                }
            ));
            self.running = Some(Running {
                plan,
                stop,
                threads,
                forwarder,
            });
            Ok(report)
        })
    }

    fn discard(&mut self) {
        self.planned = None;
    }
}
