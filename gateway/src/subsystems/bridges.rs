//! The appliance's own LAN ports: an internal interface with `ports` is made a bridge of them
//! (iproute2, before the network subsystem gives it its addresses), and the `bridge
//! edgeward_br` table (`edgeward_firewall::bridge`) keeps blocked, quarantined and unapproved
//! machines on those ports from their neighbours — set members only when only devices changed.
//! Every 2 s the bridges' forwarding databases are written to `state/bridge-fdb.json` (MAC →
//! port), so the devices page can tell a machine on the appliance's own port (whose neighbours
//! the gateway can cut it off from) from one behind an external switch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use edgeward_event::model::Level;
use edgeward_firewall::bridge::BridgeTable;
use tokio::task::JoinHandle;

use crate::reconcile::{Desired, Report, Step, Subsystem};

/// Bridges (interface name) and their ports.
type BridgePorts = Vec<(String, Vec<String>)>;

/// The bridges subsystem.
pub struct Bridges {
    state_dir: PathBuf,
    planned: Option<(BridgePorts, BridgeTable)>,
    applied: Option<BridgeTable>,
    fdb_task: Option<JoinHandle<()>>,
}

impl Bridges {
    /// The forwarding database goes to `state_dir/bridge-fdb.json`.
    pub fn new(state_dir: &Path) -> Bridges {
        Bridges {
            state_dir: state_dir.to_path_buf(),
            planned: None,
            applied: None,
            fdb_task: None,
        }
    }
}

impl Drop for Bridges {
    fn drop(&mut self) {
        if let Some(t) = self.fdb_task.take() {
            t.abort();
        }
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Keep bridged frames out of the routed (`inet`) hooks: where `br_netfilter` is loaded, the
/// kernel would otherwise pass frames switched between two ports through the routed firewall
/// as well, which judges them as traffic from a zone to itself. Bridged traffic is the bridge
/// table's (per network namespace; absent when the module is not loaded).
fn bridged_frames_skip_routed_hooks() {
    for f in [
        "bridge-nf-call-iptables",
        "bridge-nf-call-ip6tables",
        "bridge-nf-call-arptables",
    ] {
        let path = Path::new("/proc/sys/net/bridge").join(f);
        if path.exists() {
            let _ = std::fs::write(&path, "0");
        }
    }
}

/// Make `name` a bridge of `ports` (those that exist); the ports missing.
fn ensure_bridge(name: &str, ports: &[String]) -> Result<Vec<String>, String> {
    let dev = Path::new("/sys/class/net").join(name);
    if !dev.exists() {
        // A bridge takes the lowest MAC of its ports and changes it as ports come and go, and
        // every host's ARP cache then points at an address that is gone: fix it to the first
        // port's MAC from the start.
        let mac = ports.iter().find_map(|p| {
            std::fs::read_to_string(Path::new("/sys/class/net").join(p).join("address"))
                .ok()
                .map(|m| m.trim().to_string())
        });
        match mac {
            Some(mac) => ip(&[
                "link", "add", "name", name, "address", &mac, "type", "bridge",
            ])?,
            None => ip(&["link", "add", "name", name, "type", "bridge"])?,
        }
    } else if !dev.join("bridge").exists() {
        return Err(format!("`{name}` exists and is not a bridge"));
    }
    let mut missing = Vec::new();
    let mut enslaved = Vec::new();
    for p in ports {
        let port = Path::new("/sys/class/net").join(p);
        if !port.exists() {
            missing.push(p.clone());
            continue;
        }
        let master = std::fs::read_link(port.join("master"))
            .ok()
            .and_then(|l| l.file_name().map(|n| n.to_string_lossy().into_owned()));
        if master.as_deref() != Some(name) {
            ip(&["link", "set", "dev", p, "master", name])?;
            // A port carries no address of its own (it had one as an interface before): left,
            // its connected route would send replies out of that one port, past the bridge.
            ip(&["addr", "flush", "dev", p])?;
            enslaved.push(port);
        }
        ip(&["link", "set", "dev", p, "up"])?;
    }
    ip(&["link", "set", "dev", name, "up"])?;
    bridged_frames_skip_routed_hooks();
    // A port just added forwards only once the kernel has seen its carrier (link events are
    // deferred up to a second): wait for that, bounded, so the gateway is not reported ready
    // while a plugged-in machine's first ARP would still be dropped. An unplugged port never
    // forwards; it only costs the wait once.
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while std::time::Instant::now() < deadline
        && enslaved
            .iter()
            .any(|p| std::fs::read_to_string(p.join("brport/state")).is_ok_and(|s| s.trim() != "3"))
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(missing)
}

fn nft(script: &str) -> Result<(), String> {
    edgeward_firewall::apply::nft_script(script, false)
        .map_err(|e| format!("the bridge table: {e}"))
}

/// MAC → port of the machines the bridges learned (not their own addresses).
fn fdb(bridges: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for br in bridges {
        let Ok(o) = Command::new("bridge")
            .args(["-j", "fdb", "show", "br", br])
            .output()
        else {
            continue;
        };
        let entries: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap_or_default();
        for e in entries {
            let flags = e["flags"].as_array().cloned().unwrap_or_default();
            let local = e["state"] == "permanent" || flags.iter().any(|f| f == "self");
            if let (Some(mac), Some(port), false) = (e["mac"].as_str(), e["ifname"].as_str(), local)
            {
                out.insert(mac.to_ascii_lowercase(), port.to_string());
            }
        }
    }
    out
}

impl Subsystem for Bridges {
    fn name(&self) -> &'static str {
        "bridges"
    }

    fn plan(&mut self, desired: &Desired<'_>) -> Result<(), String> {
        let c = desired.config;
        let bridges = c
            .interfaces
            .iter()
            .filter(|i| !i.ports.is_empty() && !i.role.is_uplink())
            .map(|i| (i.name.clone(), i.ports.clone()))
            .collect();
        self.planned = Some((bridges, BridgeTable::from_config(c)));
        Ok(())
    }

    fn apply<'a>(&'a mut self, desired: &'a Desired<'a>) -> Step<'a> {
        Box::pin(async move {
            let Some((bridges, table)) = self.planned.take() else {
                return Ok(Report::quiet());
            };
            if self.applied.is_none() && table.is_empty() {
                // Nothing bridged now; a table left by an earlier run goes.
                let _ = nft(&table.script());
                self.applied = Some(table);
                return Ok(Report::quiet());
            }
            let mut report = Report::quiet();
            for (name, ports) in &bridges {
                match tokio::task::block_in_place(|| ensure_bridge(name, ports)) {
                    Ok(missing) if !missing.is_empty() => {
                        report = report.note(
                            Level::Warning,
                            format!("bridge {name}: ports missing: {}", missing.join(", ")),
                        );
                    }
                    Ok(_) => {}
                    Err(e) => report = report.note(Level::Error, e),
                }
            }
            let old = if desired.repair {
                None
            } else {
                self.applied.as_ref()
            };
            if old != Some(&table) {
                let script = table.update(old);
                tokio::task::block_in_place(|| nft(&script))?;
                if old.is_none() && !table.is_empty() {
                    report.summary = Some(format!(
                        "LAN ports bridged: {}",
                        bridges
                            .iter()
                            .map(|(b, p)| format!("{b} = {}", p.join("+")))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                }
            }
            self.applied = Some(table);
            if self.fdb_task.is_none() && !bridges.is_empty() {
                let names: Vec<String> = bridges.iter().map(|(b, _)| b.clone()).collect();
                let path = self.state_dir.join("bridge-fdb.json");
                self.fdb_task = Some(tokio::spawn(async move {
                    let mut last = String::new();
                    loop {
                        let names = names.clone();
                        let map = tokio::task::spawn_blocking(move || fdb(&names))
                            .await
                            .unwrap_or_default();
                        let text = serde_json::to_string(&map).unwrap_or_default();
                        if text != last
                            && edgeward_config::history::write_atomic_mode(
                                &path,
                                text.as_bytes(),
                                0o640,
                            )
                            .is_ok()
                        {
                            last = text;
                        }
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                }));
            }
            Ok(report)
        })
    }

    fn discard(&mut self) {
        self.planned = None;
    }
}
