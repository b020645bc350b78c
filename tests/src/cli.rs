//! `edgeward-lab up|down|status`: the lab as a command, for people and scripts (`scripts/lab.sh`).

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::topology::endpoints;
use crate::{Lab, LabSpec};
use anyhow::Context;

/// The `edgeward` binary the lab runs: beside this program unless `EDGEWARD_BIN` names it.
fn this_binary() -> anyhow::Result<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("EDGEWARD_BIN") {
        return Ok(p.into());
    }
    let me = std::env::current_exe().context("locating the edgeward-lab binary")?;
    Ok(me.with_file_name("edgeward"))
}

pub fn up(
    prefix: &str,
    config: Option<&Path>,
    gateway_args: &[String],
    ui_port: u16,
) -> anyhow::Result<u8> {
    let text = match config {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => edgeward_config::AGENCY_DEFAULT_PROFILE.to_string(),
    };
    let started = Instant::now();
    let mut spec = LabSpec::new(prefix, &text, &this_binary()?);
    spec.gateway_args = gateway_args.to_vec();
    let lab = Lab::up(spec)?;
    let took = started.elapsed();
    print_topology(&lab);
    println!();
    println!(
        "lab `{prefix}` is up in {:.1} s; the gateway runs in namespace {}.",
        took.as_secs_f64(),
        lab.ns("gateway")
    );
    println!("Reach the gateway from this machine through the admin workstation's namespace:");
    println!(
        "  ip netns exec {} curl -s http://{}:{}/metrics",
        lab.ns("admin-1"),
        endpoints::GATEWAY_MGMT,
        endpoints::METRICS_PORT
    );
    println!(
        "  ip netns exec {} curl -sk https://{}/login        # admin web UI (HTTPS, self-signed)",
        lab.ns("admin-1"),
        endpoints::GATEWAY_MGMT
    );
    match publish_ui(&lab, ui_port) {
        Ok(Some(url)) => println!(
            "  admin UI in your browser: {url}   (self-signed certificate; factory account admin / edgeward, changed at first login)"
        ),
        Ok(None) => println!(
            "  admin UI in a browser: run chromium in {}; factory account admin / edgeward (changed at first login)",
            lab.ns("admin-1")
        ),
        Err(e) => println!("  (the admin UI could not be published on localhost:{ui_port}: {e:#})"),
    }
    println!(
        "  ip netns exec {} nft list table inet edgeward",
        lab.ns("gateway")
    );
    println!(
        "Gateway log: {}   events: {}",
        lab.log_path().display(),
        lab.events_path().display()
    );
    println!(
        "Change its config: edit {} (the daemon reloads it) or send SIGHUP.",
        lab.config_path().display()
    );
    println!(
        "Status: scripts/lab.sh status --prefix {prefix} [--json]    Stop: scripts/lab.sh down --prefix {prefix}"
    );
    lab.detach();
    Ok(0)
}

/// Where the host-side forwarder's pid is kept (teardown stops it).
pub const FORWARD_PID: &str = "ui-forward.pid";

/// Publish the admin UI on the host at `https://localhost:PORT`: a forwarder in the host's
/// namespace whose connections leave from the admin workstation's namespace, so the firewall
/// treats them like the admin workstation's own. `None` when `port` is 0.
fn publish_ui(lab: &Lab, port: u16) -> anyhow::Result<Option<String>> {
    if port == 0 {
        return Ok(None);
    }
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    // Fail here, with the reason, if the port is taken.
    drop(std::net::TcpListener::bind(listen).with_context(|| format!("binding {listen}"))?);
    let me = std::env::current_exe().context("locating the edgeward-lab binary")?;
    let log = std::fs::File::create(lab.dir.join("ui-forward.log"))?;
    use std::os::unix::process::CommandExt;
    let child = std::process::Command::new(me)
        .args([
            "forward",
            "--listen",
            &listen.to_string(),
            "--ns",
            &lab.ns("admin-1"),
            "--to",
            &format!("{}:443", endpoints::GATEWAY_MGMT),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .context("starting the UI forwarder")?;
    std::fs::write(lab.dir.join(FORWARD_PID), child.id().to_string())?;
    Ok(Some(format!("https://localhost:{port}/")))
}

pub fn down(prefix: &str) -> anyhow::Result<u8> {
    match Lab::attach(prefix, &this_binary()?) {
        Ok(lab) => {
            lab.teardown()?;
            println!("lab `{prefix}` removed");
        }
        Err(_) => println!("no lab `{prefix}` is up; nothing to remove"),
    }
    Ok(0)
}

fn print_topology(lab: &Lab) {
    let status = lab.status();
    println!("{:<11} {:<18} addresses", "role", "namespace");
    for r in &status.roles {
        println!(
            "{:<11} {:<18} {}",
            r.role,
            r.namespace,
            r.addresses.join(", ")
        );
    }
}

/// Reachability checks that show the agency's policy at a glance.
const CHECKS: &[(&str, &str, &str, u16, bool)] = &[
    (
        "staff-1 → Internet HTTP",
        "staff-1",
        endpoints::INTERNET_HTTP,
        80,
        true,
    ),
    (
        "staff-1 → server-1 HTTPS",
        "staff-1",
        "10.10.10.10",
        443,
        true,
    ),
    (
        "guest-1 → Internet HTTP",
        "guest-1",
        endpoints::INTERNET_HTTP,
        80,
        true,
    ),
    ("guest-1 → staff-1", "guest-1", "10.10.0.11", 80, false),
    (
        "guest-1 → gov-server",
        "guest-1",
        endpoints::GOV_SERVER,
        443,
        false,
    ),
    (
        "staff-1 → gov-server (TSLCD)",
        "staff-1",
        endpoints::GOV_SERVER,
        443,
        true,
    ),
    (
        "server-1 → Internet HTTP",
        "server-1",
        endpoints::INTERNET_HTTP,
        80,
        false,
    ),
    (
        "server-1 → update mirror",
        "server-1",
        endpoints::UPDATE_MIRROR,
        80,
        true,
    ),
    (
        "admin-1 → gateway metrics",
        "admin-1",
        endpoints::GATEWAY_MGMT,
        endpoints::METRICS_PORT,
        true,
    ),
    (
        "admin-1 → admin web UI (HTTPS)",
        "admin-1",
        endpoints::GATEWAY_MGMT,
        443,
        true,
    ),
    (
        "staff-1 → admin web UI",
        "staff-1",
        endpoints::GATEWAY_MGMT,
        443,
        false,
    ),
    (
        "internet → gateway metrics",
        "internet",
        endpoints::GATEWAY_WAN1,
        endpoints::METRICS_PORT,
        false,
    ),
];

pub fn status(prefix: &str, json: bool) -> anyhow::Result<u8> {
    let lab = Lab::attach(prefix, &this_binary()?)?;
    let status = lab.status();
    let results: Vec<(&str, bool, bool)> = CHECKS
        .iter()
        .map(|(label, role, addr, port, expected)| {
            let ok = addr
                .parse()
                .is_ok_and(|ip| lab.tcp(role, ip, *port, Duration::from_millis(700)).is_ok());
            (*label, ok, *expected)
        })
        .collect();
    if json {
        let mut v = serde_json::to_value(&status)?;
        v["reachability"] = results
            .iter()
            .map(|(label, ok, expected)| serde_json::json!({"check": label, "reachable": ok, "expected": expected}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    print_topology(&lab);
    println!();
    println!(
        "gateway: {}",
        match lab.gateway_pid() {
            Some(pid) => format!("running (pid {pid}) in {}", lab.ns("gateway")),
            None => "NOT running".to_string(),
        }
    );
    let metrics = SocketAddr::new(endpoints::GATEWAY_MGMT.parse()?, endpoints::METRICS_PORT);
    println!(
        "metrics: ip netns exec {} curl -s http://{metrics}/metrics",
        lab.ns("admin-1")
    );
    println!();
    println!("{:<32} {:<12} expected", "reachability", "result");
    for (label, ok, expected) in &results {
        let mark = if ok == expected {
            ""
        } else {
            "   <-- unexpected"
        };
        println!(
            "{:<32} {:<12} {}{mark}",
            label,
            if *ok { "reachable" } else { "blocked" },
            if *expected { "reachable" } else { "blocked" }
        );
    }
    Ok(0)
}
