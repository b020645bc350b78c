//! `edgeward-lab`: a simulated agency in Linux network namespaces — gateway, staff, admin,
//! servers, printer, guests, two ISPs, the TSLCD with a government server, the Internet and the
//! SOC — as a reusable harness for end-to-end tests and for `edgeward-lab up|down|status`.

pub mod cli;
pub mod forward;
pub mod lab;
pub mod netns;
pub mod probe;
pub mod topology;
pub mod whoami;

pub use lab::{Lab, LabSpec, Status, process_alive};
pub use probe::Reach;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// The `edgeward` binary to run in labs: `$EDGEWARD_BIN`, else the one next to the running test
/// executable's target directory (`target/<profile>/edgeward`).
pub fn edgeward_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("EDGEWARD_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    // target/debug/deps/test-hash -> target/debug/edgeward
    let mut dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("edgeward")
}

/// The `edgeward-hub` binary (the SOC side: PKI, hub, bundles), beside the `edgeward` binary
/// unless `EDGEWARD_HUB_BIN` names it.
pub fn hub_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("EDGEWARD_HUB_BIN") {
        return PathBuf::from(p);
    }
    edgeward_binary().with_file_name("edgeward-hub")
}

/// A prefix unique to this process and call, short enough for namespace names.
pub fn unique_prefix(tag: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tag: String = tag
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(3)
        .collect();
    format!("t{tag}{}{n}", std::process::id() % 100_000)
}

/// Build a lab for a test, with `config` as the gateway's configuration.
///
/// Lab tests need root and the lab's tools; without them the test fails with the reason, unless
/// the environment opts out explicitly with `EDGEWARD_SKIP_LAB=1` (then `None`).
pub fn test_lab(tag: &str, config: &str) -> Option<Lab> {
    test_lab_with(tag, config, &[])
}

/// [`test_lab`] with extra arguments for the gateway daemon.
pub fn test_lab_with(tag: &str, config: &str, gateway_args: &[&str]) -> Option<Lab> {
    if std::env::var("EDGEWARD_SKIP_LAB").as_deref() == Ok("1") {
        eprintln!("EDGEWARD_SKIP_LAB=1: skipping lab test {tag}");
        return None;
    }
    let bin = edgeward_binary();
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build -p edgeward-gateway`) or set EDGEWARD_BIN",
        bin.display()
    );
    let prefix = unique_prefix(tag);
    let mut spec = LabSpec::new(&prefix, config, &bin);
    spec.gateway_args = gateway_args
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    match Lab::up(spec) {
        Ok(lab) => Some(lab),
        Err(e) => panic!("lab {prefix} could not be built: {e:#}"),
    }
}

/// Poll `cond` every 50 ms until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: std::time::Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Every event the gateway has journaled so far, as JSON values.
pub fn read_events(lab: &Lab) -> Vec<serde_json::Value> {
    std::fs::read_to_string(lab.events_path())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
