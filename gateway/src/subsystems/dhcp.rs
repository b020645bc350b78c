//! DHCP and DNS for the internal zones: dnsmasq (the real server) run from files rendered by
//! `edgeward-nac` and supervised here. A change of the zones' ranges restarts it (its lease file
//! keeps the leases); a change of the inventory only rewrites the static-lease file and sends it
//! SIGHUP. Every second the lease file is read and each new lease, renewal and release becomes
//! a `nac` event (→ store → SOC, 003 §30.6.c); a dnsmasq that exits is started again, with an
//! event.

use std::path::{Path, PathBuf};
use std::time::Duration;

use edgeward_event::bus::Bus;
use edgeward_event::model::{EventBody, Level, NacEvent};
use edgeward_nac::dhcp::{self, DhcpFiles};
use edgeward_nac::leases;
use ipnetwork::IpNetwork;
use tokio::task::JoinHandle;

use super::child::Supervised;
use crate::reconcile::{Desired, Report, Step, Subsystem};

/// The running server.
struct Running {
    main: String,
    hosts: String,
    child: Supervised,
    watcher: JoinHandle<()>,
}

/// The DHCP subsystem.
pub struct Dhcp {
    dir: PathBuf,
    bus: Bus,
    running: Option<Running>,
    planned: Option<Planned>,
    /// The inventory last applied (to free the leases of devices removed or blocked since).
    devices: Option<Vec<edgeward_config::Device>>,
}

/// What one step applies.
struct Planned {
    files: DhcpFiles,
    /// Internal prefixes → zone.
    zones: Vec<(IpNetwork, String)>,
    /// Internal prefixes → interface.
    served: Vec<(IpNetwork, String)>,
    devices: Vec<edgeward_config::Device>,
}

impl Dhcp {
    /// dnsmasq's files and leases under `state_dir/dhcp`.
    pub fn new(state_dir: &Path, bus: Bus) -> Dhcp {
        Dhcp {
            dir: state_dir.join("dhcp"),
            bus,
            running: None,
            planned: None,
            devices: None,
        }
    }

    /// Free the leases of devices removed or blocked since `before` (000 §17.2.b) with
    /// `dhcp_release`, which asks the running dnsmasq to drop them; how many.
    fn free_leases(
        &self,
        before: &[edgeward_config::Device],
        after: &[edgeward_config::Device],
        served: &[(IpNetwork, String)],
    ) -> usize {
        let leases =
            leases::parse(&std::fs::read_to_string(self.dir.join("leases")).unwrap_or_default());
        let mut freed = 0;
        for (iface, ip, mac) in dhcp::leases_to_free(before, after, &leases, served) {
            let ok = std::process::Command::new("dhcp_release")
                .args([iface.as_str(), &ip.to_string(), mac.as_str()])
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                freed += 1;
            } else {
                tracing::warn!(%mac, %ip, "dhcp_release failed (dnsmasq-utils installed?)");
            }
        }
        freed
    }

    fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.watcher.abort();
            r.child.stop();
        }
    }
}

impl Drop for Dhcp {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn(conf: &Path) -> std::io::Result<std::process::Child> {
    std::process::Command::new("dnsmasq")
        .arg("--keep-in-foreground")
        .arg(format!("--conf-file={}", conf.display()))
        .arg("--user=root")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
}

impl Subsystem for Dhcp {
    fn name(&self) -> &'static str {
        "dhcp"
    }

    fn plan(&mut self, desired: &Desired<'_>) -> Result<(), String> {
        let files = dhcp::render(desired.config, &self.dir);
        let zones = desired
            .config
            .zones
            .iter()
            .filter(|z| z.kind.is_internal())
            .flat_map(|z| z.prefixes.iter().map(|p| (*p, z.name.clone())))
            .collect();
        let served = desired
            .config
            .interfaces
            .iter()
            .filter(|i| !i.role.is_uplink())
            .flat_map(|i| i.addresses.iter().map(|a| (*a, i.name.clone())))
            .collect();
        self.planned = Some(Planned {
            files,
            zones,
            served,
            devices: desired.config.devices.clone(),
        });
        Ok(())
    }

    fn apply<'a>(&'a mut self, _desired: &'a Desired<'a>) -> Step<'a> {
        Box::pin(async move {
            let Some(Planned {
                files,
                zones,
                served,
                devices,
            }) = self.planned.take()
            else {
                return Ok(Report::quiet());
            };
            let before = self.devices.replace(devices.clone());
            let freed = before.map_or(0, |b| self.free_leases(&b, &devices, &served));
            let Some(main) = files.main else {
                let was = self.running.is_some();
                self.stop();
                return Ok(if was {
                    Report::done("DHCP off: no zone has a range")
                } else {
                    Report::quiet()
                });
            };
            std::fs::create_dir_all(&self.dir)
                .map_err(|e| format!("{}: {e}", self.dir.display()))?;
            let hosts_path = self.dir.join("hosts");
            edgeward_config::history::write_atomic_mode(&hosts_path, files.hosts.as_bytes(), 0o644)
                .map_err(|e| format!("{}: {e}", hosts_path.display()))?;
            if let Some(r) = &mut self.running
                && r.main == main
            {
                if r.hosts != files.hosts {
                    r.hosts = files.hosts;
                    if let Some(pid) = r.child.id() {
                        // SAFETY: kill(2) on our own child.
                        unsafe {
                            libc::kill(pid as i32, libc::SIGHUP);
                        }
                    }
                    return Ok(Report::done(if freed > 0 {
                        format!(
                            "DHCP static leases updated from the inventory; {freed} lease(s) of removed or blocked devices freed"
                        )
                    } else {
                        "DHCP static leases updated from the inventory".to_string()
                    }));
                }
                return Ok(Report::quiet());
            }
            self.stop();
            let conf = self.dir.join("dnsmasq.conf");
            edgeward_config::history::write_atomic_mode(&conf, main.as_bytes(), 0o644)
                .map_err(|e| format!("{}: {e}", conf.display()))?;
            let child = match spawn(&conf) {
                Ok(c) => Supervised::new(c),
                Err(e) => {
                    return Ok(Report::quiet()
                        .note(Level::Error, format!("DHCP not running: dnsmasq: {e}")));
                }
            };
            let watcher = tokio::spawn(watch(
                self.dir.join("leases"),
                conf,
                child.clone(),
                zones,
                self.bus.clone(),
            ));
            let served: Vec<&str> = main
                .lines()
                .filter_map(|l| l.strip_prefix("dhcp-range=set:"))
                .collect();
            self.running = Some(Running {
                main: main.clone(),
                hosts: files.hosts,
                child,
                watcher,
            });
            Ok(Report::done(format!("DHCP serving {}", served.join("; "))))
        })
    }

    fn discard(&mut self) {
        self.planned = None;
    }
}

/// Every second: the lease file's changes as events; a dnsmasq that exited started again.
async fn watch(
    lease_file: PathBuf,
    conf: PathBuf,
    child: Supervised,
    zones: Vec<(IpNetwork, String)>,
    bus: Bus,
) {
    let read = |p: &Path| leases::parse(&std::fs::read_to_string(p).unwrap_or_default());
    // Leases from before (a restart) are not news.
    let mut last = read(&lease_file);
    // A dnsmasq that keeps exiting (its port taken, a bad file) is restarted ever more slowly.
    let mut backoff = Duration::from_secs(2);
    let mut restarted: Option<std::time::Instant> = None;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Some((status, detail)) = child.exited() {
            bus.emit(EventBody::system(
                Level::Error,
                "dhcp",
                format!(
                    "dnsmasq exited ({status}): {}; starting it again in {} s",
                    detail.trim(),
                    backoff.as_secs()
                ),
            ))
            .await;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(60));
            restarted = Some(std::time::Instant::now());
            if let Ok(c) = spawn(&conf) {
                child.replace(c);
            }
            continue;
        }
        // A restart that has held for a minute starts the backoff afresh.
        if restarted.is_some_and(|t| t.elapsed() > Duration::from_secs(60)) {
            restarted = None;
            backoff = Duration::from_secs(2);
        }
        let now = read(&lease_file);
        for change in leases::diff(&last, &now) {
            let l = change.lease();
            let zone = zones
                .iter()
                .find(|(p, _)| p.contains(l.ip))
                .map(|(_, z)| z.clone());
            bus.emit(EventBody::Nac(NacEvent {
                action: change.action().into(),
                mac: l.mac.clone(),
                ip: Some(l.ip),
                zone,
                detail: format!(
                    "{}{}",
                    l.hostname
                        .as_ref()
                        .map(|h| format!("hostname {h}; "))
                        .unwrap_or_default(),
                    if l.expiry == 0 {
                        "no expiry".to_string()
                    } else {
                        chrono::DateTime::from_timestamp(l.expiry as i64, 0)
                            .map(|t| format!("until {}", t.to_rfc3339()))
                            .unwrap_or_default()
                    }
                ),
            }))
            .await;
        }
        last = now;
    }
}
