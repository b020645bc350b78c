//! Automatic quarantine: the daemon watches its own event bus, and an alert the NAC policy
//! (`nac.quarantine_on`, `edgeward_nac::policy`) names — or a rogue DHCP server found by the
//! DHCP listener, under `rogue-dhcp` — quarantines the internal host — as a
//! recorded configuration change by `edgeward-nac` with the alert as its reason (the same path
//! as `edgeward devices quarantine`), applied by the daemon within seconds. A host without a
//! fixed address is found by its DHCP lease and pinned to the address it was seen with.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;

use edgeward_config::change::{Paths, write_change};
use edgeward_event::bus::Bus;
use edgeward_event::model::{EventBody, Level};
use edgeward_nac::inventory::{Decision, decide};
use tokio::sync::mpsc;

use crate::admin::Live;

/// After acting on a host, further alerts about it are left to the change just made.
const HOLD_OFF: std::time::Duration = std::time::Duration::from_secs(60);

/// The MAC of the device at `ip`: the inventory's, else the DHCP lease's.
fn mac_of(config: &edgeward_config::Config, lease_file: &PathBuf, ip: IpAddr) -> Option<String> {
    if let Some(d) = config.devices.iter().find(|d| d.ip == Some(ip)) {
        return Some(d.mac.clone());
    }
    let leases =
        edgeward_nac::leases::parse(&std::fs::read_to_string(lease_file).unwrap_or_default());
    leases
        .by_key
        .values()
        .find(|l| l.ip == ip)
        .map(|l| l.mac.clone())
}

/// Run until the bus closes; `apply` asks the daemon to apply the file just written.
pub async fn run(bus: Bus, live: Live, paths: Paths, apply: mpsc::Sender<()>) {
    let mut events = bus.subscribe();
    let lease_file = paths.state_dir.join("dhcp").join("leases");
    // Hosts just acted on: a flood of alerts makes one change, and a host released later can be
    // quarantined again.
    let mut recent: HashMap<IpAddr, std::time::Instant> = HashMap::new();
    loop {
        let ev = match events.recv().await {
            Ok(ev) => ev,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return,
        };
        let state = live.load_full();
        let Some(config) = state.config.clone() else {
            continue;
        };
        if let EventBody::Nac(n) = &ev.body
            && let Some(action) = n.action.strip_prefix("soc-")
        {
            soc_order(&bus, &live, &paths, &apply, &lease_file, action, n).await;
            continue;
        }
        let (host, reason, known_mac) = match &ev.body {
            EventBody::Alert(alert) => {
                let Some((host, reason)) = alert_target(alert, &config).await else {
                    continue;
                };
                (host, reason, None)
            }
            // A server handing out addresses (000 §5.10.b): its MAC is known from the frame.
            EventBody::Nac(n)
                if n.action == "rogue-dhcp"
                    && config.nac.quarantine_on.iter().any(|k| k == "rogue-dhcp") =>
            {
                let Some(ip) = n.ip else { continue };
                (
                    ip,
                    format!("quarantined automatically (rogue-dhcp): {}", n.detail),
                    Some(n.mac.clone()),
                )
            }
            _ => continue,
        };
        let now = std::time::Instant::now();
        recent.retain(|_, at| now.duration_since(*at) < HOLD_OFF);
        if recent.contains_key(&host) {
            continue;
        }
        recent.insert(host, now);
        let Some(mac) = known_mac.or_else(|| mac_of(&config, &lease_file, host)) else {
            bus.emit(EventBody::system(
                Level::Warning,
                "nac",
                format!("{reason}: no device known at {host}, nothing quarantined"),
            ))
            .await;
            continue;
        };
        let already = config
            .devices
            .iter()
            .any(|d| d.mac.eq_ignore_ascii_case(&mac) && d.move_to.is_some());
        if already {
            continue;
        }
        let changed = decide(
            &state.text,
            &mac,
            &Decision::Quarantine {
                ip: Some(host.to_string()),
                reason: reason.clone(),
            },
        );
        let (level, message) = match changed {
            Ok(text) => commit(
                &live,
                &paths,
                &apply,
                state.version,
                &text,
                "edgeward-nac",
                &reason,
            )
            .await
            .map_or_else(
                |e| (Level::Error, e),
                |()| (Level::Warning, format!("{mac} at {host} {reason}")),
            ),
            // Not in the inventory: an unapproved machine, already kept to the gateway.
            Err(e) => (Level::Warning, format!("{reason}: {e}")),
        };
        bus.emit(EventBody::Nac(edgeward_event::model::NacEvent {
            action: "quarantine".into(),
            mac,
            ip: Some(host),
            zone: None,
            detail: message.clone(),
        }))
        .await;
        if matches!(level, Level::Error) {
            bus.emit(EventBody::system(level, "nac", message)).await;
        }
    }
}

/// Write `text` as a change by `author` for `reason`, ask the daemon to apply it, and wait
/// (bounded) until it has: the next decision is made on this one's result, so two quarantines
/// in a row do not both start from the same text and the second undo the first.
async fn commit(
    live: &Live,
    paths: &Paths,
    apply: &mpsc::Sender<()>,
    version: u64,
    text: &str,
    author: &str,
    reason: &str,
) -> Result<(), String> {
    write_change(paths, text, author, reason, None, false)
        .map_err(|e| format!("{reason}: the change could not be written: {e}"))?;
    let _ = apply.send(()).await;
    for _ in 0..100 {
        if live.load().version != version {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(())
}

/// A verified SOC order (`soc-quarantine`, `soc-release`, from the SOC link) about a device
/// named by MAC or address: made a recorded change by `soc`, with the analyst and reason.
async fn soc_order(
    bus: &Bus,
    live: &Live,
    paths: &Paths,
    apply: &mpsc::Sender<()>,
    lease_file: &PathBuf,
    action: &str,
    order: &edgeward_event::model::NacEvent,
) {
    let state = live.load_full();
    let Some(config) = state.config.clone() else {
        return;
    };
    let mac = if order.mac.is_empty() {
        order.ip.and_then(|ip| mac_of(&config, lease_file, ip))
    } else {
        Some(order.mac.to_ascii_lowercase())
    };
    let ip = order.ip.or_else(|| {
        let mac = mac.as_deref()?;
        config
            .devices
            .iter()
            .find(|d| d.mac.eq_ignore_ascii_case(mac))
            .and_then(|d| d.ip)
            .or_else(|| {
                edgeward_nac::leases::parse(
                    &std::fs::read_to_string(lease_file).unwrap_or_default(),
                )
                .by_key
                .values()
                .find(|l| l.mac.eq_ignore_ascii_case(mac))
                .map(|l| l.ip)
            })
    });
    let reason = order.detail.clone();
    let (level, message, mac) = match mac {
        None => (
            Level::Warning,
            format!(
                "{reason}: no device known at {}",
                order.ip.map(|i| i.to_string()).unwrap_or_default()
            ),
            String::new(),
        ),
        Some(mac) => {
            let decision = if action == "release" {
                Decision::Release
            } else {
                Decision::Quarantine {
                    ip: ip.map(|i| i.to_string()),
                    reason: reason.clone(),
                }
            };
            let outcome = match decide(&state.text, &mac, &decision) {
                Ok(text) => commit(live, paths, apply, state.version, &text, "soc", &reason)
                    .await
                    .map_or_else(
                        |e| (Level::Error, e),
                        |()| (Level::Warning, format!("{mac} {action}d: {reason}")),
                    ),
                Err(e) => (Level::Warning, format!("{reason}: {e}")),
            };
            (outcome.0, outcome.1, mac)
        }
    };
    bus.emit(EventBody::Nac(edgeward_event::model::NacEvent {
        action: action.to_string(),
        mac,
        ip,
        zone: None,
        detail: message.clone(),
    }))
    .await;
    if matches!(level, Level::Error) {
        bus.emit(EventBody::system(level, "nac", message)).await;
    }
}

/// The internal host an alert quarantines under `nac.quarantine_on`, and why: one of its ends,
/// or — for an alert seen on an uplink after source NAT — the host conntrack names behind the
/// gateway's address.
async fn alert_target(
    alert: &edgeward_event::eve::EveAlert,
    config: &edgeward_config::Config,
) -> Option<(IpAddr, String)> {
    let internal: Vec<ipnetwork::IpNetwork> = config
        .zones
        .iter()
        .filter(|z| z.kind.is_internal() && z.kind != edgeward_config::ZoneKind::Quarantine)
        .flat_map(|z| z.prefixes.iter().copied())
        .collect();
    if let Some(found) =
        edgeward_nac::policy::host_to_quarantine(alert, &config.nac.quarantine_on, &internal)
    {
        return Some(found);
    }
    let kind = edgeward_nac::policy::kind(alert)
        .filter(|k| config.nac.quarantine_on.iter().any(|q| q == k))?;
    let nat: Vec<IpAddr> = config
        .interfaces
        .iter()
        .filter(|i| i.role.is_uplink())
        .flat_map(|i| i.addresses.iter().map(ipnetwork::IpNetwork::ip))
        .collect();
    let t = edgeward_nac::policy::behind_nat(alert, &nat)?;
    let host = tokio::task::spawn_blocking(move || {
        edgeward_wan::conntrack::original_source(&t.proto, t.src, t.sport, t.dst, t.dport)
    })
    .await
    .ok()
    .flatten()
    .filter(|h| internal.iter().any(|n| n.contains(*h)))?;
    Some((host, edgeward_nac::policy::reason(alert, kind)))
}
