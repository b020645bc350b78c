//! Wi-Fi (004 §7.2, 001 §5.1.d): hostapd — the real access point — run per radio from the
//! configuration `edgeward-wifi` renders, and supervised here (started again with back-off if
//! it exits). A passphrase rotation does not restart the radio: a WPA2 passphrase is in a PSK
//! file hostapd reloads (`RELOAD_WPA_PSK`, which drops the clients still on the old key), an
//! SAE password change reloads the configuration (`RELOAD`); any other change restarts that
//! radio's hostapd. Every few seconds the connected stations of each SSID go to
//! `STATE/wifi-stations.json` for the Wi-Fi page; associations, disassociations and failed
//! handshakes become NAC events, and repeated failures from one MAC an alarm. A device the
//! inventory puts on the TSLCD that joins Wi-Fi (000 §5.6.b) is an alert and is disconnected.
//! Each day the passphrases' rotation is checked (004 §7.2): due soon and overdue are events,
//! and a network set to be blocked when overdue is withheld from clients.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use edgeward_event::bus::Bus;
use edgeward_event::model::{EventBody, Level, NacEvent};
use edgeward_wifi::ctrl::{self, Station, WifiEvent};
use edgeward_wifi::plan::RadioPlan;
use tokio::net::UnixDatagram;
use tokio::task::JoinHandle;

use super::child::Supervised;
use crate::reconcile::{Desired, Report, Step, Subsystem};

/// How often stations are listed and a dead hostapd noticed.
const POLL: Duration = Duration::from_secs(5);
/// Failed handshakes from one MAC within [`GUESS_WINDOW`] that make an alarm.
const GUESS_FAILURES: usize = 5;
const GUESS_WINDOW: Duration = Duration::from_secs(120);

/// The stations of every SSID (`STATE/wifi-stations.json`).
pub type StationList = BTreeMap<String, Vec<Station>>;

pub fn stations_path(state_dir: &Path) -> PathBuf {
    state_dir.join("wifi-stations.json")
}

/// The stations of every running radio, and the file the Wi-Fi page reads them from.
#[derive(Clone)]
struct Stations {
    path: PathBuf,
    list: Arc<Mutex<StationList>>,
}

impl Stations {
    /// Replace the SSIDs of one radio (`None`: the radio stopped) and write the file.
    fn set(&self, ssids: &[String], stations: Option<Vec<Vec<Station>>>) {
        let mut list = self
            .list
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match stations {
            Some(per_ssid) => {
                for (ssid, s) in ssids.iter().zip(per_ssid) {
                    list.insert(ssid.clone(), s);
                }
            }
            None => list.retain(|ssid, _| !ssids.contains(ssid)),
        }
        if let Ok(bytes) = serde_json::to_vec_pretty(&*list) {
            let _ = edgeward_config::history::write_atomic_mode(&self.path, &bytes, 0o644);
        }
    }
}

struct Running {
    plan: RadioPlan,
    child: Supervised,
    watcher: JoinHandle<()>,
}

/// MAC (lower case) → who it is, for the inventoried devices that use the TSLCD.
type TslcdDevices = Arc<Mutex<HashMap<String, String>>>;

/// The Wi-Fi subsystem.
pub struct Wifi {
    dir: PathBuf,
    stations: Stations,
    bus: Bus,
    driver: String,
    running: HashMap<String, Running>,
    rotation: edgeward_wifi::rotation::RotationWatch,
    tslcd: TslcdDevices,
}

impl Wifi {
    /// hostapd's files under `state_dir/wifi`; `driver` is `nl80211` on the appliance.
    pub fn new(state_dir: &Path, bus: Bus, driver: &str) -> Wifi {
        Wifi {
            dir: state_dir.join("wifi"),
            stations: Stations {
                path: stations_path(state_dir),
                list: Arc::default(),
            },
            bus,
            driver: driver.to_string(),
            running: HashMap::new(),
            rotation: Default::default(),
            tslcd: Arc::default(),
        }
    }

    fn stop(&mut self, radio: &str) {
        if let Some(r) = self.running.remove(radio) {
            r.watcher.abort();
            r.child.stop();
            let ssids: Vec<String> = r.plan.bsses.iter().map(|b| b.ssid.clone()).collect();
            self.stations.set(&ssids, None);
        }
    }
}

impl Drop for Wifi {
    fn drop(&mut self) {
        let radios: Vec<String> = self.running.keys().cloned().collect();
        for r in radios {
            self.stop(&r);
        }
    }
}

fn spawn(conf: &Path) -> std::io::Result<std::process::Child> {
    std::process::Command::new("hostapd")
        .arg(conf)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
}

/// Write a plan's files: the configuration and the PSK files, 0600 (they hold secrets).
fn write_files(plan: &RadioPlan) -> Result<(), String> {
    for (path, text) in &plan.psk_files {
        edgeward_config::history::write_atomic_mode(path, text.as_bytes(), 0o600)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    edgeward_config::history::write_atomic_mode(&plan.conf_path, plan.conf.as_bytes(), 0o600)
        .map_err(|e| format!("{}: {e}", plan.conf_path.display()))
}

/// The configuration without its SAE passwords: equal for two plans that differ only there.
fn without_sae(conf: &str) -> String {
    conf.lines()
        .filter(|l| !l.starts_with("sae_password="))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One command to a BSS's control socket, and its reply (bounded).
pub async fn command(ctrl_dir: &Path, ifname: &str, cmd: &str) -> Result<String, String> {
    let sock = client_socket()?;
    async {
        sock.connect(ctrl_dir.join(ifname))
            .map_err(|e| format!("{ifname}: {e}"))?;
        sock.send(cmd.as_bytes())
            .await
            .map_err(|e| format!("{ifname}: {e}"))?;
        let mut buf = vec![0u8; 8192];
        let n = tokio::time::timeout(Duration::from_secs(3), sock.recv(&mut buf))
            .await
            .map_err(|_| format!("{ifname}: no answer to {cmd}"))?
            .map_err(|e| format!("{ifname}: {e}"))?;
        Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
    }
    .await
}

/// A datagram socket hostapd can answer to, bound in the abstract namespace: it needs no file
/// and leaves none behind when dropped.
fn client_socket() -> Result<UnixDatagram, String> {
    use std::os::linux::net::SocketAddrExt;
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "edgeward-wifi-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
        .map_err(|e| format!("control socket: {e}"))?;
    let sock = std::os::unix::net::UnixDatagram::bind_addr(&addr)
        .and_then(|s| s.set_nonblocking(true).map(|()| s))
        .map_err(|e| format!("control socket: {e}"))?;
    UnixDatagram::from_std(sock).map_err(|e| format!("control socket: {e}"))
}

impl Subsystem for Wifi {
    fn name(&self) -> &'static str {
        "wifi"
    }

    fn apply<'a>(&'a mut self, desired: &'a Desired<'a>) -> Step<'a> {
        Box::pin(async move {
            let today = edgeward_config::today();
            for notice in self.rotation.check(&desired.config.wifi, today) {
                let level = if notice.state == edgeward_config::RotationState::Overdue {
                    Level::Error
                } else {
                    Level::Warning
                };
                self.bus
                    .emit(EventBody::system(level, "wifi", notice.message()))
                    .await;
            }
            {
                let mut tslcd = self
                    .tslcd
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                *tslcd = desired
                    .config
                    .tslcd_devices()
                    .into_iter()
                    .filter(|d| !d.mac.is_empty())
                    .map(|d| {
                        let who = [d.user.as_str(), d.brand.as_str(), d.serial.as_str()]
                            .into_iter()
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join(", ");
                        (d.mac.to_ascii_lowercase(), who)
                    })
                    .collect();
            }
            let plans = edgeward_wifi::plan(desired.config, &self.dir, &self.driver, today)
                .map_err(|e| e.to_string())?;
            let wanted: Vec<String> = plans.iter().map(|p| p.radio.clone()).collect();
            let gone: Vec<String> = self
                .running
                .keys()
                .filter(|r| !wanted.contains(r))
                .cloned()
                .collect();
            let mut done = Vec::new();
            for r in gone {
                self.stop(&r);
                done.push(format!("radio {r} off"));
            }
            if !plans.is_empty() {
                std::fs::create_dir_all(&self.dir)
                    .map_err(|e| format!("{}: {e}", self.dir.display()))?;
            }
            let mut report = Report::quiet();
            for plan in plans {
                let name = plan.radio.clone();
                if let Some(r) = self.running.get_mut(&name) {
                    if r.plan == plan {
                        continue;
                    }
                    if without_sae(&r.plan.conf) == without_sae(&plan.conf) {
                        // Only secrets changed: reload them, the radio keeps running.
                        write_files(&plan)?;
                        let psk_of = |plan: &RadioPlan, file: &str| {
                            plan.psk_files
                                .iter()
                                .find(|(path, _)| path.as_path() == Path::new(file))
                                .map(|(_, text)| text.clone())
                        };
                        let psk_changed = plan.bsses.iter().filter(|b| {
                            b.psk_file
                                .as_deref()
                                .is_some_and(|f| psk_of(&plan, f) != psk_of(&r.plan, f))
                        });
                        for b in psk_changed {
                            if let Err(e) =
                                command(&plan.ctrl_dir, &b.ifname, "RELOAD_WPA_PSK").await
                            {
                                report = report.note(Level::Warning, format!("Wi-Fi: {e}"));
                            }
                        }
                        if plan.conf != r.plan.conf {
                            let first = &plan.bsses[0].ifname;
                            if let Err(e) = command(&plan.ctrl_dir, first, "RELOAD").await {
                                report = report.note(Level::Warning, format!("Wi-Fi: {e}"));
                            }
                        }
                        done.push(format!("radio {name}: passphrases reloaded"));
                        r.plan = plan;
                        continue;
                    }
                    self.stop(&name);
                }
                write_files(&plan)?;
                let child = match spawn(&plan.conf_path) {
                    Ok(c) => Supervised::new(c),
                    Err(e) => {
                        report = report.note(
                            Level::Error,
                            format!("Wi-Fi radio {name} not running: hostapd: {e}"),
                        );
                        continue;
                    }
                };
                let ssids: Vec<String> = plan.bsses.iter().map(|b| b.ssid.clone()).collect();
                done.push(format!("radio {name}: {}", ssids.join(", ")));
                let watcher = tokio::spawn(watch(
                    plan.clone(),
                    child.clone(),
                    self.stations.clone(),
                    self.bus.clone(),
                    self.tslcd.clone(),
                ));
                self.running.insert(
                    name,
                    Running {
                        plan,
                        child,
                        watcher,
                    },
                );
            }
            Ok(if done.is_empty() {
                report
            } else {
                let mut r = Report::done(done.join("; "));
                r.notes = report.notes;
                r
            })
        })
    }
}

/// Every station of one BSS (`STA-FIRST`, then `STA-NEXT` until there is none).
async fn stations_of(ctrl_dir: &Path, ifname: &str) -> Vec<Station> {
    let mut out = Vec::new();
    let mut reply = command(ctrl_dir, ifname, "STA-FIRST").await;
    while let Ok(text) = reply {
        let Some(st) = ctrl::station(&text) else {
            break;
        };
        let next = format!("STA-NEXT {}", st.mac);
        out.push(st);
        if out.len() >= 512 {
            break;
        }
        reply = command(ctrl_dir, ifname, &next).await;
    }
    out
}

/// How often the same TSLCD device on Wi-Fi is alerted again (it is disconnected each time).
const TSLCD_ALERT_EVERY: Duration = Duration::from_secs(600);

/// Attach to every BSS's control socket and turn its events into NAC events.
async fn monitor(plan: RadioPlan, bus: Bus, tslcd: TslcdDevices) {
    let mut failures: HashMap<String, VecDeque<Instant>> = HashMap::new();
    let mut tslcd_alerted: HashMap<String, Instant> = HashMap::new();
    let mut socks = Vec::new();
    for b in &plan.bsses {
        let Ok(sock) = client_socket() else {
            continue;
        };
        if sock.connect(plan.ctrl_dir.join(&b.ifname)).is_err()
            || sock.send(b"ATTACH").await.is_err()
        {
            continue;
        }
        socks.push((b.ifname.clone(), sock));
    }
    if socks.is_empty() {
        return;
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(String, String)>(256);
    for (ifname, sock) in socks {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = sock.recv(&mut buf).await {
                let line = String::from_utf8_lossy(&buf[..n]).into_owned();
                if tx.send((ifname.clone(), line)).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    while let Some((ifname, line)) = rx.recv().await {
        let Some(ev) = ctrl::event(&line) else {
            continue;
        };
        let (ssid, zone) = plan
            .bsses
            .iter()
            .find(|b| b.ifname == ifname)
            .map(|b| (b.ssid.clone(), b.zone.clone()))
            .unwrap_or_default();
        let (action, mac, detail) = match &ev {
            WifiEvent::Connected { mac } => (
                "wifi.associated",
                mac.clone(),
                format!("joined Wi-Fi {ssid}"),
            ),
            WifiEvent::Disconnected { mac } => (
                "wifi.disassociated",
                mac.clone(),
                format!("left Wi-Fi {ssid}"),
            ),
            WifiEvent::AuthFailed { mac } => (
                "wifi.auth_failed",
                mac.clone(),
                format!("wrong passphrase or failed handshake on Wi-Fi {ssid}"),
            ),
        };
        bus.emit(EventBody::Nac(NacEvent {
            action: action.into(),
            mac: mac.clone(),
            ip: None,
            zone: Some(zone.clone()),
            detail,
        }))
        .await;
        if matches!(ev, WifiEvent::Connected { .. }) {
            let who = tslcd
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&mac.to_ascii_lowercase())
                .cloned();
            if let Some(who) = who {
                // 000 §5.6.b: computers on the TSLCD must not be on Wi-Fi.
                let _ = command(&plan.ctrl_dir, &ifname, &format!("DEAUTHENTICATE {mac}")).await;
                let now = Instant::now();
                let recent = tslcd_alerted
                    .get(&mac)
                    .is_some_and(|t| now.duration_since(*t) < TSLCD_ALERT_EVERY);
                if !recent {
                    tslcd_alerted.insert(mac.clone(), now);
                    let text = format!(
                        "a device inventoried on the TSLCD joined Wi-Fi {ssid}: {mac} ({who}); computers on the TSLCD must not be on Wi-Fi (000 §5.6.b); disconnected"
                    );
                    bus.emit(EventBody::Nac(NacEvent {
                        action: "wifi.tslcd_device".into(),
                        mac: mac.clone(),
                        ip: None,
                        zone: Some(zone.clone()),
                        detail: text.clone(),
                    }))
                    .await;
                    bus.emit(EventBody::system(Level::Error, "wifi", text))
                        .await;
                }
            }
        }
        if matches!(ev, WifiEvent::AuthFailed { .. }) {
            let now = Instant::now();
            let seen = failures.entry(mac.clone()).or_default();
            seen.push_back(now);
            while seen
                .front()
                .is_some_and(|t| now.duration_since(*t) > GUESS_WINDOW)
            {
                seen.pop_front();
            }
            if seen.len() == GUESS_FAILURES {
                bus.emit(EventBody::system(
                    Level::Warning,
                    "wifi",
                    format!(
                        "{GUESS_FAILURES} failed Wi-Fi handshakes from {mac} on {ssid} within {} s: passphrase guessing?",
                        GUESS_WINDOW.as_secs()
                    ),
                ))
                .await;
            }
        }
    }
}

/// Every few seconds: a hostapd that exited is started again; the stations go to the file.
async fn watch(
    plan: RadioPlan,
    child: Supervised,
    stations: Stations,
    bus: Bus,
    tslcd: TslcdDevices,
) {
    let ssids: Vec<String> = plan.bsses.iter().map(|b| b.ssid.clone()).collect();
    let mut events = tokio::spawn(monitor(plan.clone(), bus.clone(), tslcd.clone()));
    let mut backoff = Duration::from_secs(2);
    let mut tick = tokio::time::interval(POLL);
    loop {
        tick.tick().await;
        if let Some((code, detail)) = child.exited() {
            let last = detail.lines().last().unwrap_or("").trim().to_string();
            bus.emit(EventBody::system(
                Level::Error,
                "wifi",
                format!(
                    "hostapd of radio {} exited ({code}): {last}; starting it again in {} s",
                    plan.radio,
                    backoff.as_secs()
                ),
            ))
            .await;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(60));
            if let Ok(c) = spawn(&plan.conf_path) {
                child.replace(c);
                events.abort();
                events = tokio::spawn(monitor(plan.clone(), bus.clone(), tslcd.clone()));
            }
            continue;
        }
        if events.is_finished() {
            events = tokio::spawn(monitor(plan.clone(), bus.clone(), tslcd.clone()));
        }
        let mut per_ssid = Vec::new();
        for b in &plan.bsses {
            per_ssid.push(stations_of(&plan.ctrl_dir, &b.ifname).await);
        }
        stations.set(&ssids, Some(per_ssid));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotation_of_an_sae_password_alone_is_a_reload() {
        let a = "ssid2=41\nsae_password=one\nwpa=2\n";
        let b = "ssid2=41\nsae_password=two\nwpa=2\n";
        assert_eq!(without_sae(a), without_sae(b));
        assert_ne!(
            without_sae(a),
            without_sae("ssid2=42\nsae_password=one\nwpa=2\n")
        );
    }
}
