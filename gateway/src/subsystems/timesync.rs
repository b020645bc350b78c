//! Time synchronisation (003 §30.8): chronyd — the real NTP client and server — run from the
//! configuration `edgeward-time` renders from `[time]` and supervised here (started again with
//! back-off if it exits, restarted when the section changes). Every few seconds its tracking
//! report is read: the sync state goes to `STATE/time-status.json` for the system page, and an
//! offset over `time.max_offset_ms` (or no usable source for five minutes) is an alarm event,
//! with another when it clears.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use edgeward_event::bus::Bus;
use edgeward_event::model::{EventBody, Level};
use edgeward_time::alarm::{Change, OffsetAlarm};
use edgeward_time::tracking::{self, Tracking};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use super::child::Supervised;
use crate::reconcile::{Desired, Report, Step, Subsystem};

/// How often chronyd's tracking report is read.
const POLL: Duration = Duration::from_secs(5);

/// What the system page shows (`STATE/time-status.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TimeStatus {
    pub servers: Vec<String>,
    pub serve_zones: Vec<String>,
    pub running: bool,
    pub tracking: Option<Tracking>,
    pub limit_ms: u32,
    pub alarm: bool,
    pub checked_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub fn status_path(state_dir: &Path) -> PathBuf {
    state_dir.join("time-status.json")
}

struct Running {
    text: String,
    child: Supervised,
    watcher: JoinHandle<()>,
}

/// The time subsystem.
pub struct TimeSync {
    dir: PathBuf,
    status: PathBuf,
    bus: Bus,
    set_clock: bool,
    running: Option<Running>,
}

impl TimeSync {
    /// chronyd's files under `state_dir/time`; with `set_clock` it disciplines the system clock
    /// (the appliance), without it only measures and serves (the lab shares the host's clock).
    pub fn new(state_dir: &Path, bus: Bus, set_clock: bool) -> TimeSync {
        TimeSync {
            dir: state_dir.join("time"),
            status: status_path(state_dir),
            bus,
            set_clock,
            running: None,
        }
    }

    fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.watcher.abort();
            r.child.stop();
        }
    }
}

impl Drop for TimeSync {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn(conf: &Path, set_clock: bool) -> std::io::Result<std::process::Child> {
    let mut cmd = std::process::Command::new("chronyd");
    cmd.arg("-d").arg("-f").arg(conf);
    if !set_clock {
        cmd.arg("-x");
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
}

impl Subsystem for TimeSync {
    fn name(&self) -> &'static str {
        "time"
    }

    fn apply<'a>(&'a mut self, desired: &'a Desired<'a>) -> Step<'a> {
        Box::pin(async move {
            let t = &desired.config.time;
            let rendered = edgeward_time::render::render(desired.config, &self.dir, self.set_clock);
            let mut status = TimeStatus {
                servers: t.servers.clone(),
                serve_zones: t.serve_zones.clone(),
                limit_ms: t.max_offset_ms,
                ..TimeStatus::default()
            };
            if !rendered.needed {
                let was = self.running.is_some();
                self.stop();
                write_status(&self.status, &status);
                return Ok(if was {
                    Report::done("time synchronisation off: no NTP server configured")
                } else {
                    Report::quiet()
                });
            }
            if self
                .running
                .as_ref()
                .is_some_and(|r| r.text == rendered.text)
            {
                return Ok(Report::quiet());
            }
            self.stop();
            std::fs::create_dir_all(&self.dir)
                .map_err(|e| format!("{}: {e}", self.dir.display()))?;
            let conf = self.dir.join("chrony.conf");
            edgeward_config::history::write_atomic_mode(&conf, rendered.text.as_bytes(), 0o644)
                .map_err(|e| format!("{}: {e}", conf.display()))?;
            let child = match spawn(&conf, self.set_clock) {
                Ok(c) => Supervised::new(c),
                Err(e) => {
                    write_status(&self.status, &status);
                    return Ok(Report::quiet().note(
                        Level::Error,
                        format!("time synchronisation not running: chronyd: {e}"),
                    ));
                }
            };
            status.running = true;
            write_status(&self.status, &status);
            let watcher = tokio::spawn(watch(
                conf,
                self.set_clock,
                child.clone(),
                status,
                self.status.clone(),
                self.bus.clone(),
            ));
            self.running = Some(Running {
                text: rendered.text,
                child,
                watcher,
            });
            Ok(Report::done(format!(
                "time from {}{}",
                if t.servers.is_empty() {
                    "no server".to_string()
                } else {
                    t.servers.join(", ")
                },
                if t.serve_zones.is_empty() {
                    String::new()
                } else {
                    format!("; NTP served to {}", t.serve_zones.join(", "))
                }
            )))
        })
    }
}

fn write_status(path: &Path, status: &TimeStatus) {
    if let Ok(bytes) = serde_json::to_vec_pretty(status) {
        let _ = edgeward_config::history::write_atomic_mode(path, &bytes, 0o644);
    }
}

/// chronyd's tracking report, asked over its loopback command port.
async fn read_tracking() -> Option<Tracking> {
    let out = tokio::process::Command::new("chronyc")
        .args(["-h", "127.0.0.1", "-c", "-n", "tracking"])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(3), out)
        .await
        .ok()?
        .ok()?;
    if !out.status.success() {
        return None;
    }
    tracking::parse(&String::from_utf8_lossy(&out.stdout))
}

/// Every few seconds: a chronyd that exited is started again; the tracking report becomes the
/// status file and, through the alarm, events.
async fn watch(
    conf: PathBuf,
    set_clock: bool,
    child: Supervised,
    mut status: TimeStatus,
    status_file: PathBuf,
    bus: Bus,
) {
    let mut alarm = OffsetAlarm::new(status.limit_ms, Instant::now());
    let mut backoff = Duration::from_secs(2);
    let mut tick = tokio::time::interval(POLL);
    loop {
        tick.tick().await;
        if let Some((code, detail)) = child.exited() {
            let last = detail.lines().last().unwrap_or("").trim().to_string();
            bus.emit(EventBody::system(
                Level::Error,
                "time",
                format!(
                    "chronyd exited ({code}): {last}; starting it again in {} s",
                    backoff.as_secs()
                ),
            ))
            .await;
            status.running = false;
            write_status(&status_file, &status);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(60));
            if let Ok(c) = spawn(&conf, set_clock) {
                child.replace(c);
                status.running = true;
            }
            continue;
        }
        let report = read_tracking().await;
        if let Some(change) = alarm.observe(report.as_ref(), Instant::now()) {
            let (level, message) = match change {
                Change::OffsetTooLarge {
                    offset_ms,
                    limit_ms,
                    reference,
                } => (
                    Level::Warning,
                    format!(
                        "the clock is {:.0} ms off the time of {reference}, over the {limit_ms} ms limit (003 §30.8): log times and TOTP codes may be wrong",
                        offset_ms.abs()
                    ),
                ),
                Change::NoSource { for_secs } => (
                    Level::Warning,
                    format!(
                        "no usable time source for {for_secs} s (servers: {}): the clock runs free",
                        status.servers.join(", ")
                    ),
                ),
                Change::Recovered {
                    offset_ms,
                    reference,
                } => (
                    Level::Info,
                    format!(
                        "the clock is back within the limit: {:.1} ms from {reference}",
                        offset_ms.abs()
                    ),
                ),
            };
            bus.emit(EventBody::system(level, "time", message)).await;
        }
        status.tracking = report;
        status.alarm = alarm.raised();
        status.checked_at = Some(chrono::Utc::now());
        write_status(&status_file, &status);
    }
}
