//! The link to the provincial SOC (QUIC, events and rule bundles) and the syslog-over-TLS
//! forwarders, started from the `[soc]` section and restarted when it changes. Both resume from
//! their cursors, so a restart loses nothing.

use std::path::PathBuf;

use edgeward_config::Soc;
use edgeward_event::bus::Bus;
use edgeward_event::model::Level;
use edgeward_soc::link::{LinkMetrics, LinkSettings};
use edgeward_soc::syslog::SyslogTarget;
use tokio::task::JoinHandle;

use crate::reconcile::{Desired, Report, Step, Subsystem};

/// Where the SOC link keeps its files.
pub struct SocPaths {
    /// Client certificate, key and SOC CA (`edgeward-hub enroll` output).
    pub soc_dir: PathBuf,
    pub store_dir: PathBuf,
    pub key_dir: PathBuf,
    pub state_dir: PathBuf,
    /// Where SOC-pushed system updates are received and queued.
    pub update: edgeward_update::slots::System,
}

/// The SOC link subsystem.
pub struct SocLink {
    host_id: String,
    paths: SocPaths,
    bus: Bus,
    metrics: LinkMetrics,
    /// Whether it has been applied once, and the section the running tasks were started for.
    applied: bool,
    running_for: Option<Soc>,
    tasks: Vec<JoinHandle<()>>,
}

impl SocLink {
    pub fn new(host_id: String, paths: SocPaths, bus: Bus, metrics: LinkMetrics) -> Self {
        SocLink {
            host_id,
            paths,
            bus,
            metrics,
            applied: false,
            running_for: None,
            tasks: Vec::new(),
        }
    }

    fn stop(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }

    fn start(&mut self, soc: &Soc) {
        let p = &self.paths;
        let settings = LinkSettings {
            host_id: self.host_id.clone(),
            endpoint: soc.endpoint.clone(),
            server_name: soc.server_name.clone(),
            soc_dir: p.soc_dir.clone(),
            store_dir: p.store_dir.clone(),
            key_dir: p.key_dir.clone(),
            cursor_path: p.state_dir.join("soc-cursor.json"),
            rules_root: p.state_dir.join("rules"),
            update: Some(p.update.clone()),
            backups: Some(p.state_dir.clone()),
        };
        self.tasks.push(tokio::spawn(edgeward_soc::link::run(
            settings,
            self.bus.clone(),
            self.metrics.clone(),
        )));
        for (i, target) in soc.syslog.iter().enumerate() {
            let t = SyslogTarget {
                endpoint: target.endpoint.clone(),
                server_name: target.server_name.clone(),
                ca: p.soc_dir.join("ca.pem"),
                host: self.host_id.clone(),
                store_dir: p.store_dir.clone(),
                key_dir: p.key_dir.clone(),
                cursor_path: p.state_dir.join(format!("syslog-{i}-cursor.json")),
            };
            self.tasks
                .push(tokio::spawn(edgeward_soc::syslog::run(t, self.bus.clone())));
        }
    }
}

impl Drop for SocLink {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Subsystem for SocLink {
    fn name(&self) -> &'static str {
        "soc"
    }

    fn apply<'a>(&'a mut self, desired: &'a Desired<'a>) -> Step<'a> {
        Box::pin(async move {
            let wanted = desired.config.soc.clone();
            if self.applied && self.running_for == wanted {
                return Ok(Report::quiet());
            }
            let restart = self.applied && self.running_for.is_some();
            self.applied = true;
            self.stop();
            self.running_for.clone_from(&wanted);
            let Some(soc) = wanted else {
                return Ok(if restart {
                    Report::done("SOC link stopped")
                } else {
                    Report::quiet()
                });
            };
            if !self.paths.soc_dir.join("gateway.pem").exists() {
                return Ok(Report::quiet().note(
                    Level::Warning,
                    format!(
                        "no SOC client certificate in {}: events are kept in the store but not sent (run `edgeward-hub enroll` at the SOC)",
                        self.paths.soc_dir.display()
                    ),
                ));
            }
            self.start(&soc);
            Ok(if restart {
                Report::done(format!("SOC link restarted for {}", soc.endpoint))
            } else {
                Report::quiet()
            })
        })
    }
}
