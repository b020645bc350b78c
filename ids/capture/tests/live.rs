//! Live capture end to end in network namespaces made by the test (root): datagrams sent across
//! a veth pair are seen by the AF_PACKET workers (two, in one fanout group), every one of them
//! raises its alert, and the kernel drops nothing.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use edgeward_capture::afpacket::RingConfig;
use edgeward_capture::pool::{Pool, PoolConfig};
use edgeward_ids::engine::EngineConfig;
use edgeward_ids::loader::LoadedRules;
use edgeward_ids::reload::SharedRules;
use edgeward_ids::ruleset::RuleSet;
use edgeward_ids::vars::Vars;

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

/// Two namespaces joined by a veth pair; removed on drop.
struct Pair {
    left: String,
    right: String,
}

impl Pair {
    fn new(tag: &str) -> Option<Pair> {
        let id = std::process::id();
        let p = Pair {
            left: format!("ewc{tag}l{id}"),
            right: format!("ewc{tag}r{id}"),
        };
        let ok = ip(&["netns", "add", &p.left])
            && ip(&["netns", "add", &p.right])
            && ip(&[
                "-n", &p.left, "link", "add", "ewa", "type", "veth", "peer", "name", "ewb",
                "netns", &p.right,
            ])
            && ip(&["-n", &p.left, "addr", "add", "10.99.0.1/24", "dev", "ewa"])
            && ip(&["-n", &p.right, "addr", "add", "10.99.0.2/24", "dev", "ewb"])
            && ip(&["-n", &p.left, "link", "set", "ewa", "up"])
            && ip(&["-n", &p.right, "link", "set", "ewb", "up"]);
        if !ok {
            // SAFETY: geteuid has no preconditions.
            assert_ne!(
                unsafe { libc::geteuid() },
                0,
                "root could not build the namespaces"
            );
            eprintln!("skipping: network namespaces need root");
            return None;
        }
        Some(p)
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        ip(&["netns", "del", &self.left]);
        ip(&["netns", "del", &self.right]);
    }
}

fn in_netns<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = PathBuf::from("/run/netns").join(name);
    std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: setns for this thread only.
        assert_eq!(
            unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) },
            0
        );
        f()
    })
    .join()
    .unwrap()
}

/// 003 §30.6.đ: a monitoring point on an interface sees the traffic crossing it.
#[test]
fn workers_in_a_fanout_group_inspect_every_packet_of_an_interface() {
    let Some(pair) = Pair::new("a") else { return };
    let mut loaded = LoadedRules::default();
    loaded.add_text(
        "t.rules",
        r#"alert udp any any -> any 9999 (msg:"marker"; content:"edgeward-capture-test"; sid:1;)"#,
        &Vars::default(),
        &mut Default::default(),
    );
    let rules = Arc::new(SharedRules::new(RuleSet::compile(loaded)));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink_seen = Arc::clone(&seen);
    let pool = Pool::start(
        PoolConfig {
            interfaces: vec!["ewb".into()],
            workers: 2,
            ring: RingConfig {
                block_size: 1 << 16,
                block_count: 32,
                retire_ms: 5,
                fanout_group: None,
            },
            netns: Some(PathBuf::from("/run/netns").join(&pair.right)),
            engine: EngineConfig::default(),
            evidence: Some(edgeward_capture::evidence::EvidenceConfig::default()),
            zone_interfaces: Vec::new(),
            zone_ring: RingConfig::default(),
        },
        rules,
        Arc::new(move |_, a, e| {
            let marked = e.map(|e| e.pcap.windows(21).any(|w| w == b"edgeward-capture-test"));
            sink_seen.lock().unwrap().push((a.sid, marked));
        }),
    )
    .expect("rings open");
    // The receiver needs a socket so the datagrams are not answered with ICMP (harmless anyway).
    let sent = in_netns(&pair.left, || {
        let s = UdpSocket::bind("10.99.0.1:0").unwrap();
        // Resolve the neighbour first: datagrams sent before ARP answers may be dropped by
        // the sender's neighbour queue, never reaching the wire.
        let _ = s.send_to(b"warm-up", "10.99.0.2:9998");
        std::thread::sleep(Duration::from_millis(300));
        let mut n = 0;
        for i in 0..200u16 {
            let msg = format!("edgeward-capture-test {i}");
            if s.send_to(msg.as_bytes(), "10.99.0.2:9999").is_ok() {
                n += 1;
            }
        }
        for i in 0..50u16 {
            let s = UdpSocket::bind("10.99.0.1:0").unwrap();
            if s.send_to(
                format!("edgeward-capture-test x{i}").as_bytes(),
                "10.99.0.2:9999",
            )
            .is_ok()
            {
                n += 1;
            }
        }
        n
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.lock().unwrap().len() < sent && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let stats = Arc::clone(&pool.stats);
    let got = seen.lock().unwrap().len();
    assert_eq!(
        got,
        sent,
        "alerts {got} of {sent} datagrams; packets seen {}, kernel drops {}",
        stats.packets.load(std::sync::atomic::Ordering::Relaxed),
        stats
            .kernel_drops
            .load(std::sync::atomic::Ordering::Relaxed)
    );
    assert!(stats.packets.load(std::sync::atomic::Ordering::Relaxed) >= sent as u64);
    drop(pool);
    assert_eq!(
        stats
            .kernel_drops
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    let seen = seen.lock().unwrap();
    assert!(seen.iter().all(|(sid, _)| *sid == 1));
    // Evidence (002 §7.2.g): a pcap of the flow holding the datagram, for as many alerts as the
    // recorder's rate allows; the others still arrive, without one.
    let with: Vec<bool> = seen.iter().filter_map(|(_, e)| *e).collect();
    assert!(!with.is_empty(), "some alerts carry evidence");
    assert!(
        with.iter().all(|m| *m),
        "every pcap holds the flagged datagram"
    );
}

/// A missing interface is an error that names it, and nothing keeps running.
#[test]
fn a_missing_interface_is_named() {
    let rules = Arc::new(SharedRules::new(RuleSet::compile(LoadedRules::default())));
    let err = Pool::start(
        PoolConfig {
            interfaces: vec!["no-such-if0".into()],
            workers: 1,
            ring: RingConfig::default(),
            netns: None,
            engine: EngineConfig::default(),
            evidence: None,
            zone_interfaces: Vec::new(),
            zone_ring: RingConfig::default(),
        },
        rules,
        Arc::new(|_, _, _| {}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no-such-if0"), "{err}");
}
