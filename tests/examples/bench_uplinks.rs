//! Failover benchmark (root; run by `scripts/bench-uplinks.sh`): with the default profile's
//! health settings, cut ISP 1 (its router stops forwarding; the link stays up) `TRIALS` times and
//! measure the time from the cut until new connections from a staff host succeed every time (20
//! in a row, the first of which marks the end). Between trials ISP 1 is restored and the gateway
//! waits for it to come back (hold time). Also measures probe traffic per uplink.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use edgeward_config::AGENCY_DEFAULT_PROFILE;
use edgeward_lab::topology::endpoints::INTERNET_HTTP;
use edgeward_lab::{Lab, LabSpec, read_events, wait_until};

fn nft(lab: &Lab, role: &str, script: &str) {
    lab.nft_script(role, script).expect("nft");
}

fn new_connection_ok(lab: &Lab) -> bool {
    let addr: SocketAddr = format!("{INTERNET_HTTP}:80").parse().unwrap();
    edgeward_lab::probe::http_get(
        &lab.ns("staff-1"),
        addr,
        INTERNET_HTTP,
        "/",
        Duration::from_millis(300),
    )
    .is_ok()
}

fn isp1_events(lab: &Lab) -> usize {
    read_events(lab)
        .iter()
        .filter(|e| e["event_type"] == "uplink" && e["uplink"] == "isp1")
        .count()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize)
        .saturating_sub(1)
        .min(sorted.len() - 1)]
}

fn main() {
    let trials: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let bin = std::env::var("EDGEWARD_BIN").map_or_else(
        |_| "target/release/edgeward".into(),
        std::path::PathBuf::from,
    );
    let lab = Lab::up(LabSpec::new(
        &format!("bu{}", std::process::id() % 10000),
        AGENCY_DEFAULT_PROFILE,
        &bin,
    ))
    .expect("lab");

    // Probe traffic: count packets the gateway sends to the probe targets through ISP 1 for 10 s.
    nft(
        &lab,
        "isp-1",
        "table inet watch {\n chain count {\n  type filter hook forward priority -10; policy accept;\n  iifname \"eth-gw\" ip daddr { 203.162.4.191, 1.1.1.1, 8.8.8.8, 203.113.131.1 } counter\n }\n}\n",
    );
    std::thread::sleep(Duration::from_secs(10));
    let out = lab
        .exec("isp-1", "nft", &["-j", "list", "table", "inet", "watch"])
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pkts: u64 = v["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o.get("rule"))
        .flat_map(|r| {
            r["expr"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|s| s.get("counter"))
                .map(|c| c["packets"].as_u64().unwrap())
        })
        .sum();
    println!("## probe traffic, default profile (4 targets every 250 ms per ISP uplink)");
    println!(
        "ISP 1: {:.1} probe packets/s out (plus as many answers), measured over 10 s",
        pkts as f64 / 10.0
    );

    let mut times = Vec::new();
    for trial in 0..trials {
        assert!(wait_until(Duration::from_secs(10), || new_connection_ok(
            &lab
        )));
        let before = isp1_events(&lab);
        nft(
            &lab,
            "isp-1",
            "table inet cut {\n chain drop_all {\n  type filter hook forward priority 0; policy drop;\n }\n}\n",
        );
        let cut = Instant::now();
        let (mut streak, mut start) = (0, None);
        while streak < 20 && cut.elapsed() < Duration::from_secs(30) {
            let t = Instant::now();
            if new_connection_ok(&lab) {
                start.get_or_insert(t);
                streak += 1;
            } else {
                streak = 0;
                start = None;
            }
        }
        let took = start.map_or(f64::NAN, |s| s.duration_since(cut).as_secs_f64());
        println!("trial {:>2}: {took:.3} s", trial + 1);
        times.push(took);
        nft(&lab, "isp-1", "delete table inet cut\n");
        // Wait for ISP 1 to be judged up again (window drain + the 30 s hold).
        assert!(
            wait_until(Duration::from_secs(60), || isp1_events(&lab) >= before + 2),
            "isp1 did not come back"
        );
    }
    times.sort_by(f64::total_cmp);
    println!(
        "## failover time over {trials} trials (cut → new connections succeed), default settings"
    );
    println!(
        "p50 {:.2} s, p99 {:.2} s, max {:.2} s (goal p99 <= 3 s)",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times[times.len() - 1]
    );
}
