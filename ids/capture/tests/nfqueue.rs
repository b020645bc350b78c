//! NFQUEUE in a namespace made by the test (root): datagrams queued by `iptables-nft -j NFQUEUE`
//! are judged by the reader — the ones it drops never arrive, the others do — and with
//! `--queue-bypass` nothing is lost while no reader is bound (fail-open).

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use edgeward_capture::nfqueue::{Queue, QueueConfig, Verdict};

fn run(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .status()
        .is_ok_and(|s| s.success())
}

struct Pair {
    left: String,
    right: String,
}

impl Pair {
    fn new() -> Option<Pair> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = std::process::id();
        let p = Pair {
            left: format!("ewq{n}L{id}"),
            right: format!("ewq{n}R{id}"),
        };
        let ok = run(&["ip", "netns", "add", &p.left])
            && run(&["ip", "netns", "add", &p.right])
            && run(&[
                "ip", "-n", &p.left, "link", "add", "ewl", "type", "veth", "peer", "name", "ewr",
                "netns", &p.right,
            ])
            && run(&[
                "ip",
                "-n",
                &p.left,
                "addr",
                "add",
                "10.98.0.1/24",
                "dev",
                "ewl",
            ])
            && run(&[
                "ip",
                "-n",
                &p.right,
                "addr",
                "add",
                "10.98.0.2/24",
                "dev",
                "ewr",
            ])
            && run(&["ip", "-n", &p.left, "link", "set", "ewl", "up"])
            && run(&["ip", "-n", &p.right, "link", "set", "ewr", "up"]);
        if !ok {
            // SAFETY: geteuid has no preconditions.
            assert_ne!(
                unsafe { libc::geteuid() },
                0,
                "root could not build the namespaces"
            );
            return None;
        }
        Some(p)
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        run(&["ip", "netns", "del", &self.left]);
        run(&["ip", "netns", "del", &self.right]);
    }
}

fn enter(name: &str) {
    use std::os::fd::AsRawFd;
    let f = std::fs::File::open(PathBuf::from("/run/netns").join(name)).unwrap();
    // SAFETY: setns for the calling thread.
    assert_eq!(unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) }, 0);
}

fn send_all(ns: String, msgs: Vec<String>) {
    std::thread::spawn(move || {
        enter(&ns);
        let s = UdpSocket::bind("10.98.0.1:0").unwrap();
        let _ = s.send_to(b"warm-up", "10.98.0.2:9998");
        std::thread::sleep(Duration::from_millis(200));
        for m in msgs {
            s.send_to(m.as_bytes(), "10.98.0.2:9999").unwrap();
        }
    })
    .join()
    .unwrap();
}

/// 000 §8.1.g: the inline IPS decides per packet; what it drops does not arrive.
#[test]
fn queued_packets_are_judged_and_drops_never_arrive() {
    let Some(pair) = Pair::new() else { return };
    assert!(run(&[
        "ip",
        "netns",
        "exec",
        &pair.right,
        "iptables-nft",
        "-I",
        "INPUT",
        "-p",
        "udp",
        "--dport",
        "9999",
        "-j",
        "NFQUEUE",
        "--queue-num",
        "7",
        "--queue-bypass",
    ]));
    let right = pair.right.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let receiver = std::thread::spawn(move || {
        enter(&right);
        let listener = UdpSocket::bind("10.98.0.2:9999").unwrap();
        listener
            .set_read_timeout(Some(Duration::from_millis(1500)))
            .unwrap();
        let mut q = Queue::bind(QueueConfig {
            number: 7,
            max_len: 1024,
            fail_open: true,
        })
        .unwrap();
        tx.send(()).unwrap();
        let mut judged = 0;
        let mut got = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < deadline && (judged < 100 || got.len() < 50) {
            judged += q
                .process(50, |p| {
                    if p.payload.windows(7).any(|w| w == b"blocked") {
                        Verdict::Drop
                    } else {
                        Verdict::Accept
                    }
                })
                .unwrap();
            let mut buf = [0u8; 256];
            listener.set_nonblocking(true).unwrap();
            while let Ok(n) = listener.recv(&mut buf) {
                got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
        (judged, got)
    });
    rx.recv().unwrap();
    let msgs: Vec<String> = (0..100)
        .map(|i| {
            if i % 2 == 0 {
                format!("ok {i}")
            } else {
                format!("blocked {i}")
            }
        })
        .collect();
    send_all(pair.left.clone(), msgs);
    let (judged, got) = receiver.join().unwrap();
    assert_eq!(judged, 100, "every datagram was queued and judged");
    assert_eq!(got.len(), 50, "{got:?}");
    assert!(got.iter().all(|m| m.starts_with("ok ")), "{got:?}");
}

/// Fail-open: with `--queue-bypass` and no reader bound, packets pass.
#[test]
fn with_no_reader_bypass_lets_packets_pass() {
    let Some(pair) = Pair::new() else { return };
    assert!(run(&[
        "ip",
        "netns",
        "exec",
        &pair.right,
        "iptables-nft",
        "-I",
        "INPUT",
        "-p",
        "udp",
        "--dport",
        "9999",
        "-j",
        "NFQUEUE",
        "--queue-num",
        "8",
        "--queue-bypass",
    ]));
    let right = pair.right.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let receiver = std::thread::spawn(move || {
        enter(&right);
        let l = UdpSocket::bind("10.98.0.2:9999").unwrap();
        l.set_read_timeout(Some(Duration::from_millis(800)))
            .unwrap();
        tx.send(()).unwrap();
        let mut n = 0;
        let mut buf = [0u8; 64];
        while l.recv(&mut buf).is_ok() {
            n += 1;
        }
        n
    });
    rx.recv().unwrap();
    send_all(
        pair.left.clone(),
        (0..20).map(|i| format!("m{i}")).collect(),
    );
    assert_eq!(receiver.join().unwrap(), 20);
}

/// Flow bypass: a packet accepted with the bypass mark has it saved in conntrack, and the rule
/// before the queue then lets the rest of its flow through unqueued (the inline IPS stops
/// paying for flows it is done with).
#[test]
fn a_marked_accept_stops_the_flow_being_queued() {
    let Some(pair) = Pair::new() else { return };
    let ns = |args: &[&str]| {
        let mut all = vec!["ip", "netns", "exec", &pair.right, "iptables-nft"];
        all.extend_from_slice(args);
        assert!(run(&all), "{args:?}");
    };
    ns(&[
        "-A",
        "INPUT",
        "-m",
        "connmark",
        "--mark",
        "0x40000000/0x40000000",
        "-j",
        "ACCEPT",
    ]);
    ns(&[
        "-A",
        "INPUT",
        "-p",
        "udp",
        "--dport",
        "9999",
        "-j",
        "NFQUEUE",
        "--queue-num",
        "9",
    ]);
    // After the filter table (priority 0): the mark goes into conntrack, other bits kept.
    let mut nft = Command::new("ip")
        .args(["netns", "exec", &pair.right, "nft", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        nft.stdin
            .take()
            .unwrap()
            .write_all(b"table inet t {\n chain save {\n  type filter hook input priority 150; policy accept;\n  meta mark & 0x40000000 == 0x40000000 ct mark set ct mark | 0x40000000\n }\n}\n")
            .unwrap();
    }
    assert!(nft.wait().unwrap().success());
    let right = pair.right.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let receiver = std::thread::spawn(move || {
        enter(&right);
        let listener = UdpSocket::bind("10.98.0.2:9999").unwrap();
        listener.set_nonblocking(true).unwrap();
        let mut q = Queue::bind(QueueConfig {
            number: 9,
            max_len: 1024,
            fail_open: false,
        })
        .unwrap();
        tx.send(()).unwrap();
        let (mut judged, mut got) = (0, 0);
        let deadline = std::time::Instant::now() + Duration::from_secs(4);
        while std::time::Instant::now() < deadline && got < 30 {
            judged += q
                .process(50, |p| Verdict::AcceptMarked(p.mark | 0x4000_0000))
                .unwrap();
            let mut buf = [0u8; 64];
            while listener.recv(&mut buf).is_ok() {
                got += 1;
            }
        }
        (judged, got)
    });
    rx.recv().unwrap();
    // One flow (same source port): the first datagram is judged, and once its verdict is in,
    // the rest bypass the queue (datagrams sent before the verdict are queued: in flight).
    let left = pair.left.clone();
    std::thread::spawn(move || {
        enter(&left);
        let s = UdpSocket::bind("10.98.0.1:0").unwrap();
        let _ = s.send_to(b"warm-up", "10.98.0.2:9998");
        std::thread::sleep(Duration::from_millis(200));
        s.send_to(b"m0", "10.98.0.2:9999").unwrap();
        std::thread::sleep(Duration::from_millis(300));
        for i in 1..30 {
            s.send_to(format!("m{i}").as_bytes(), "10.98.0.2:9999")
                .unwrap();
        }
    })
    .join()
    .unwrap();
    let (judged, got) = receiver.join().unwrap();
    assert_eq!(got, 30, "every datagram arrived");
    assert!(
        judged <= 2,
        "{judged} datagrams were queued after the flow was bypassed"
    );
}
