//! Firewall benchmarks (needs root; run by `scripts/bench-firewall.sh`):
//! 1. render + apply time for a config with 20 zones, 200 policies and 5,000 devices, in a
//!    scratch namespace (full apply, and a one-device change applied as set membership);
//! 2. packets lost while the ruleset is replaced 20 times under a steady UDP stream through the
//!    gateway, against the same stream with no applies (same run);
//! 3. iperf3 throughput staff → Internet through the gateway with the full ruleset and with an
//!    accept-all ruleset (same run).

use std::fmt::Write as _;
use std::net::UdpSocket;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use edgeward_config::AGENCY_DEFAULT_PROFILE;
use edgeward_lab::{Lab, LabSpec, netns};

/// A large agency: `zones` LAN zones of /24s, `policies` policies between them, `devices` devices.
fn big_config(zones: usize, policies: usize, devices: usize) -> String {
    let mut t = String::from("[gateway]\nhost_id = \"bench\"\n\n");
    for z in 0..zones {
        writeln!(
            t,
            "[[zones]]\nname = \"z{z}\"\nkind = \"lan\"\nprefixes = [\"10.{}.0.0/16\"]\n",
            100 + z
        )
        .unwrap();
        writeln!(t, "[[interfaces]]\nname = \"lan{z}\"\nrole = \"lan\"\nzone = \"z{z}\"\naddresses = [\"10.{}.0.1/16\"]\n", 100 + z).unwrap();
    }
    t.push_str("[[zones]]\nname = \"internet\"\nkind = \"internet\"\n\n[[zones]]\nname = \"tslcd\"\nkind = \"tslcd\"\n\n");
    for (i, (itf, gw)) in [("wan1", "203.0.113.1"), ("wan2", "198.51.100.1")]
        .iter()
        .enumerate()
    {
        writeln!(
            t,
            "[[interfaces]]\nname = \"{itf}\"\nrole = \"wan-internet\"\nzone = \"internet\"\n"
        )
        .unwrap();
        writeln!(t, "[[uplinks]]\nname = \"isp{}\"\nkind = \"internet\"\ninterface = \"{itf}\"\ngateway = \"{gw}\"\nprobes = [{{ kind = \"icmp\", target = \"1.1.1.1\" }}]\n", i + 1).unwrap();
    }
    t.push_str("[[interfaces]]\nname = \"tslcd0\"\nrole = \"wan-tslcd\"\nzone = \"tslcd\"\n\n");
    t.push_str("[[uplinks]]\nname = \"tslcd\"\nkind = \"tslcd\"\ninterface = \"tslcd0\"\ngateway = \"10.250.0.1\"\ngovernment_prefixes = [\"10.251.0.0/16\"]\nprobes = [{ kind = \"icmp\", target = \"10.251.1.10\" }]\n\n");
    t.push_str("[management]\nadmin_zones = [\"z0\"]\n\n");
    let services = [
        "http", "https", "smb", "rdp", "ssh", "dns", "printing", "ping",
    ];
    for p in 0..policies {
        let from = p % zones;
        let to = match p % 5 {
            0 => "internet".to_string(),
            1 => "tslcd".to_string(),
            _ => format!("z{}", (from + 1 + p / zones) % zones),
        };
        let to = if to == format!("z{from}") {
            "internet".to_string()
        } else {
            to
        };
        writeln!(t, "[[policies]]\nfrom = \"z{from}\"\nto = \"{to}\"\nservices = [\"{}\", \"{}\"]\naction = \"{}\"\n", services[p % 8], services[(p + 3) % 8], if p % 7 == 0 { "deny" } else { "allow" }).unwrap();
    }
    let types = ["pc", "laptop", "printer", "camera", "ip-phone", "pc"];
    for d in 0..devices {
        let z = d % zones;
        let host = d / zones + 10;
        writeln!(
            t,
            "[[devices]]\nuser = \"user {d}\"\ntype = \"{}\"\nmac = \"02:be:{:02x}:{:02x}:{:02x}:{:02x}\"\nip = \"10.{}.{}.{}\"\nzone = \"z{z}\"\n{}",
            types[d % types.len()],
            (d >> 24) & 0xff,
            (d >> 16) & 0xff,
            (d >> 8) & 0xff,
            d & 0xff,
            100 + z,
            host / 250,
            host % 250 + 2,
            if d % 97 == 0 { "status = \"blocked\"\n" } else { "" }
        )
        .unwrap();
    }
    t
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn render_and_apply_at_scale() {
    let text = big_config(20, 200, 5000);
    let today = edgeward_config::today();
    let ns = format!("ewbench{}", std::process::id());
    netns::add(&ns).unwrap();
    let mut parse_ms = Vec::new();
    let mut render_ms = Vec::new();
    let mut apply_ms = Vec::new();
    let mut sets_ms = Vec::new();
    let mut rules = 0;
    for i in 0..7 {
        let t0 = Instant::now();
        let cfg =
            edgeward_config::parse(&text, "bench.toml", today).unwrap_or_else(|p| panic!("{p}"));
        let t1 = Instant::now();
        let rs = edgeward_firewall::render(&cfg).unwrap();
        let t2 = Instant::now();
        rules = rs.rules().count();
        let json = rs.to_json();
        let ok = netns::command(&ns, "nft")
            .args(["-j", "-f", "-"])
            .stdin(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(json.as_bytes())?;
                c.wait()
            });
        let t3 = Instant::now();
        assert!(ok.unwrap().success(), "nft refused the big ruleset");
        parse_ms.push((t1 - t0).as_secs_f64() * 1e3);
        render_ms.push((t2 - t1).as_secs_f64() * 1e3);
        apply_ms.push((t3 - t2).as_secs_f64() * 1e3);
        // One device blocked: set membership only.
        let mut cfg2 = cfg.clone();
        cfg2.devices[i + 1].status = edgeward_config::DeviceStatus::Blocked;
        let rs2 = edgeward_firewall::render(&cfg2).unwrap();
        assert_eq!(rs.structure(), rs2.structure());
        // Steady state: the kernel finishes freeing the previous table in the background, and a
        // transaction that follows at once waits for that (about 100 ms at this size).
        std::thread::sleep(Duration::from_secs(1));
        let t4 = Instant::now();
        let ns2 = ns.clone();
        let applied = netns::within(&ns2, move || {
            edgeward_firewall::apply_change(Some(&rs), &rs2)
        })
        .unwrap()
        .unwrap();
        sets_ms.push(t4.elapsed().as_secs_f64() * 1e3);
        assert!(matches!(applied, edgeward_firewall::Applied::SetsOnly(_)));
    }
    netns::delete(&ns).unwrap();
    let (p, r, a) = (median(parse_ms), median(render_ms), median(apply_ms));
    println!(
        "## render + apply, 20 zones / 200 policies / 5,000 devices ({rules} rules), median of 7"
    );
    println!(
        "parse+validate {p:.1} ms, render {r:.1} ms, nft apply {a:.1} ms, total {:.1} ms (goal <= 1000 ms)",
        p + r + a
    );
    println!(
        "one device blocked (set membership only): {:.1} ms",
        median(sets_ms)
    );
}

/// Send numbered UDP datagrams from staff-1 to the Internet at `pps` for `secs`; return (sent, received).
fn udp_stream(lab: &Lab, pps: u64, secs: u64, during: impl FnOnce()) -> (u64, u64) {
    let received = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (r, s) = (received.clone(), stop.clone());
    let ready = Arc::new(AtomicBool::new(false));
    let rd = ready.clone();
    let inet = lab.ns("internet");
    let receiver = std::thread::spawn(move || {
        netns::within(&inet, move || {
            let sock = UdpSocket::bind("192.0.2.80:443").unwrap();
            sock.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let _ = socket2_rcvbuf(&sock);
            rd.store(true, Ordering::SeqCst);
            let mut buf = [0u8; 64];
            while !s.load(Ordering::SeqCst) {
                if sock.recv(&mut buf).is_ok() {
                    r.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
        .unwrap();
    });
    while !ready.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let staff = lab.ns("staff-1");
    let sender = std::thread::spawn(move || {
        netns::within(&staff, move || {
            let sock = UdpSocket::bind("10.10.0.11:0").unwrap();
            sock.connect("192.0.2.80:443").unwrap();
            let start = Instant::now();
            let mut sent = 0u64;
            while start.elapsed() < Duration::from_secs(secs) {
                let due = (start.elapsed().as_secs_f64() * pps as f64) as u64;
                while sent < due {
                    if sock.send(&sent.to_be_bytes()).is_ok() {
                        sent += 1;
                    }
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            sent
        })
        .unwrap()
    });
    std::thread::sleep(Duration::from_millis(300));
    during();
    let sent = sender.join().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::SeqCst);
    receiver.join().unwrap();
    (sent, received.load(Ordering::Relaxed))
}

/// A large receive buffer, so the receiver's socket is not what loses packets.
fn socket2_rcvbuf(sock: &UdpSocket) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let size: libc::c_int = 8 << 20;
    // SAFETY: setsockopt with a c_int of the right size on our own socket.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&raw const size).cast::<libc::c_void>(),
            4,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn loss_during_apply(lab: &Lab) {
    let pps = 20_000;
    let (sent0, recv0) = udp_stream(lab, pps, 5, || {});
    let mut applies = 0;
    let (sent1, recv1) = udp_stream(lab, pps, 5, || {
        for _ in 0..20 {
            lab.reload_gateway().unwrap();
            applies += 1;
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    // For comparison, the naive way: delete and re-create the table in one transaction.
    let json = edgeward_firewall::render(
        &edgeward_config::parse(AGENCY_DEFAULT_PROFILE, "p", edgeward_config::today()).unwrap(),
    )
    .unwrap()
    .to_json();
    let gw = lab.ns("gateway");
    let (sent2, recv2) = udp_stream(lab, pps, 5, || {
        for _ in 0..20 {
            let mut c = netns::command(&gw, "nft")
                .args(["-j", "-f", "-"])
                .stdin(Stdio::piped())
                .spawn()
                .unwrap();
            {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(json.as_bytes()).unwrap();
            }
            assert!(c.wait().unwrap().success());
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    println!(
        "## packets lost while the ruleset is replaced ({pps} pkt/s UDP staff-1 -> Internet, 5 s each)"
    );
    println!(
        "no applies:                          sent {sent0}, received {recv0}, lost {}",
        sent0 - recv0.min(sent0)
    );
    println!(
        "{applies} full reconciles (SIGHUP, firewall + network): sent {sent1}, received {recv1}, lost {}",
        sent1 - recv1.min(sent1)
    );
    println!(
        "20 delete+re-create table transactions (naive method, not used): sent {sent2}, received {recv2}, lost {}",
        sent2 - recv2.min(sent2)
    );
}

fn iperf(lab: &Lab) -> f64 {
    let out = lab
        .exec(
            "staff-1",
            "iperf3",
            &["-c", "192.0.2.80", "-p", "443", "-t", "5", "-J"],
        )
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v["end"]["sum_received"]["bits_per_second"]
        .as_f64()
        .unwrap_or(0.0)
        / 1e9
}

fn throughput(lab: &Lab) {
    let server = netns::command(&lab.ns("internet"), "iperf3")
        .args(["-s", "-B", "192.0.2.80", "-p", "443"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let full: Vec<f64> = (0..3).map(|_| iperf(lab)).collect();
    // Replace the edgeward table by an accept-all one with the same NAT, then measure again.
    let accept_all = "table inet edgeward\ndelete table inet edgeward\ntable inet edgeward {\n chain forward { type filter hook forward priority 0; policy accept; }\n chain postrouting { type nat hook postrouting priority 100; oifname { \"wan1\", \"wan2\" } masquerade; }\n}\n";
    let mut child = netns::command(&lab.ns("gateway"), "nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(accept_all.as_bytes())
            .unwrap();
    }
    assert!(child.wait().unwrap().success());
    let bare: Vec<f64> = (0..3).map(|_| iperf(lab)).collect();
    lab.reload_gateway().unwrap();
    let mut server = server;
    let _ = server.kill();
    let (f, b) = (median(full), median(bare));
    println!("## forwarding throughput staff-1 -> Internet, iperf3 TCP 5 s, median of 3");
    println!(
        "full ruleset {f:.2} Gbit/s, accept-all {b:.2} Gbit/s, ratio {:.1}% (goal >= 90%)",
        100.0 * f / b
    );
}

fn main() {
    if std::env::args().any(|a| a == "--dump-big") {
        let cfg = edgeward_config::parse(&big_config(20, 200, 5000), "b", edgeward_config::today())
            .unwrap();
        if std::env::args().any(|a| a == "--toml") {
            println!("{}", big_config(20, 200, 5000));
            return;
        }
        println!("{}", edgeward_firewall::render(&cfg).unwrap().to_json());
        return;
    }
    let loss_only = std::env::args().any(|a| a == "--loss-only");
    if !loss_only {
        render_and_apply_at_scale();
    }
    let bin = std::env::var("EDGEWARD_BIN").map_or_else(
        |_| "target/release/edgeward".into(),
        std::path::PathBuf::from,
    );
    let lab = Lab::up(LabSpec::new(
        &format!("bf{}", std::process::id() % 10000),
        AGENCY_DEFAULT_PROFILE,
        &bin,
    ))
    .expect("lab");
    loss_during_apply(&lab);
    if !loss_only {
        throughput(&lab);
    }
}
