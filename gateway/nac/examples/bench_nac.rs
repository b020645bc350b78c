//! NAC at an agency's scale (issue goal: with 5,000 devices in the inventory, an approval takes
//! effect in ≤ 2 s and the DHCP configuration renders in ≤ 100 ms): the CPU each step of an
//! approval costs on the gateway — parse and validate the configuration, make the decision,
//! render dnsmasq's files, the firewall and the bridge table — median of several runs.
//! `cargo run --release -p edgeward-nac --example bench_nac -- [DEVICES] [RUNS]`
//! (`scripts/bench-nac.sh` also measures the approval end to end in the lab).

use std::path::Path;
use std::time::Instant;

use edgeward_nac::inventory::{Decision, decide};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect(),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5000);
    let runs: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(11);
    let today = edgeward_config::today();
    let text = edgeward_nac::bench::agency_with_devices(n);
    let config = match edgeward_config::parse(&text, "bench.toml", today) {
        Ok(c) => c,
        Err(p) => {
            eprintln!("the generated inventory does not validate:\n{p}");
            std::process::exit(1);
        }
    };
    println!("devices in the inventory: {}", config.devices.len());
    let approve = Decision::Approve {
        zone: "staff".into(),
        user: "Nguyễn Văn Khách".into(),
        device_type: "pc".into(),
        serial: None,
        note: None,
        ip: None,
        personal: false,
        head_of_unit: None,
        checklist: Vec::new(),
        approved_by: "bench".into(),
    };
    let parse = time(runs, || edgeward_config::parse(&text, "bench.toml", today));
    let decision = time(runs, || decide(&text, "02:ed:00:00:00:77", &approve));
    let dhcp = time(runs, || {
        edgeward_nac::dhcp::render(&config, Path::new("/var/lib/edgeward/dhcp"))
    });
    let firewall = time(runs, || edgeward_firewall::render(&config));
    let bridge = time(runs, || {
        edgeward_firewall::bridge::BridgeTable::from_config(&config).script()
    });
    println!("parse + validate      {parse:8.1} ms");
    println!("approval decision     {decision:8.1} ms");
    println!("DHCP render           {dhcp:8.1} ms   (goal ≤ 100 ms)");
    println!("firewall render       {firewall:8.1} ms");
    println!("bridge table render   {bridge:8.1} ms");
    let total = parse * 2.0 + decision + dhcp + firewall + bridge;
    println!(
        "approval CPU on the gateway (decide, validate, parse again in the daemon, render all) {total:.1} ms   (goal ≤ 2000 ms end to end)"
    );
}
