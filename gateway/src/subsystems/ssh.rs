//! SSH to the appliance's console (003 §20.2.b, 000 §8.1.đ): off unless
//! `management.ssh.enabled`; when on, OpenSSH's sshd — supervised here — listens only on the
//! admin zones' addresses, takes only the public keys listed in the model (no password, no
//! keyboard-interactive, no forwarding), with a host key made on the box at first use and kept
//! in the key directory. Every login and refused attempt sshd reports is an audit event.
//!
//! On the appliance sshd runs as its own systemd unit (`edgeward-sshd.service`), started and
//! stopped from here, so that an administrator's shell is not confined by the daemon's sandbox;
//! its log is followed in the journal. Elsewhere (the lab) the daemon runs sshd as its child.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use edgeward_config::Config;
use edgeward_event::bus::Bus;
use edgeward_event::model::{AuditEvent, EventBody, Level, Outcome};
use tokio::task::JoinHandle;

use super::child::Supervised;
use crate::reconcile::{Desired, Report, Step, Subsystem};

/// sshd's configuration for `config`, or `None` when SSH is off.
pub fn render(config: &Config, dir: &Path, host_key: &Path) -> Option<String> {
    let m = &config.management;
    if !m.ssh.enabled {
        return None;
    }
    let listen: Vec<SocketAddr> = crate::admin::admin_zone_addrs(config, m.ssh_port);
    if listen.is_empty() {
        return None;
    }
    let mut text = String::from(
        "# Rendered by edgeward from [management.ssh]; changes here are overwritten.\n",
    );
    for addr in listen {
        text.push_str(&format!("ListenAddress {addr}\n"));
    }
    text.push_str(&format!(
        "HostKey {}\nAuthorizedKeysFile {}\nPidFile {}\n",
        host_key.display(),
        dir.join("authorized_keys").display(),
        dir.join("sshd.pid").display()
    ));
    text.push_str(
        "PermitRootLogin prohibit-password\nAllowUsers root\nPubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitEmptyPasswords no\nUsePAM no\nAuthenticationMethods publickey\nMaxAuthTries 3\nLoginGraceTime 30\nX11Forwarding no\nAllowTcpForwarding no\nAllowAgentForwarding no\nAllowStreamLocalForwarding no\nPermitTunnel no\nPermitUserEnvironment no\nPrintMotd no\nLogLevel VERBOSE\n",
    );
    Some(text)
}

/// The listed keys as an `authorized_keys` file.
pub fn authorized_keys(config: &Config) -> String {
    let mut file = String::new();
    for key in &config.management.ssh.authorized_keys {
        file.push_str(key.trim());
        file.push('\n');
    }
    file
}

/// The systemd unit that runs sshd on the appliance.
pub const UNIT: &str = "edgeward-sshd.service";
/// Where the unit reads the rendered configuration (its `ExecStart`).
const UNIT_CONFIG: &str = "/var/lib/edgeward/ssh/sshd_config";
const UNIT_FILE: &str = "/usr/lib/systemd/system/edgeward-sshd.service";

/// How sshd is run.
enum Runner {
    /// The daemon's own child, its stderr read for the audit trail.
    Child(Supervised),
    /// The systemd unit; `journalctl` follows its log.
    Unit(Supervised),
}

struct Running {
    text: String,
    keys: String,
    runner: Runner,
    watcher: JoinHandle<()>,
}

/// The SSH subsystem.
pub struct SshServer {
    dir: PathBuf,
    host_key: PathBuf,
    bus: Bus,
    running: Option<Running>,
    /// Whether a unit left running by an earlier daemon was looked for.
    stale_unit_checked: bool,
}

/// Whether sshd runs as the systemd unit here: under systemd, with the unit installed, and
/// with the configuration where the unit reads it.
fn use_unit(conf: &Path) -> bool {
    Path::new("/run/systemd/system").is_dir()
        && Path::new(UNIT_FILE).exists()
        && conf == Path::new(UNIT_CONFIG)
}

fn systemctl(args: &[&str]) -> Result<(), String> {
    let out = std::process::Command::new("systemctl")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("systemctl: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "systemctl {}: {} {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn follow_journal() -> std::io::Result<std::process::Child> {
    std::process::Command::new("journalctl")
        .args(["-u", UNIT, "-f", "-n", "0", "-o", "cat"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
}

impl SshServer {
    /// sshd's files in `state_dir/ssh`, its host key in `key_dir`.
    pub fn new(state_dir: &Path, key_dir: &Path, bus: Bus) -> SshServer {
        SshServer {
            dir: state_dir.join("ssh"),
            host_key: key_dir.join("ssh_host_ed25519_key"),
            bus,
            running: None,
            stale_unit_checked: false,
        }
    }

    /// Stop sshd (and, when it is the unit, the unit).
    fn stop(&mut self) -> Result<(), String> {
        if let Some(r) = self.running.take() {
            r.watcher.abort();
            match r.runner {
                Runner::Child(child) => child.stop(),
                Runner::Unit(journal) => {
                    journal.stop();
                    return systemctl(&["stop", UNIT]);
                }
            }
        }
        Ok(())
    }
}

impl Drop for SshServer {
    fn drop(&mut self) {
        // The unit is `PartOf=edgeward.service`: systemd stops it with the daemon.
        if let Some(r) = self.running.take() {
            r.watcher.abort();
            match r.runner {
                Runner::Child(child) | Runner::Unit(child) => child.stop(),
            }
        }
    }
}

fn spawn(conf: &Path) -> std::io::Result<std::process::Child> {
    // sshd's privilege separation directory.
    let _ = std::fs::create_dir_all("/run/sshd");
    std::process::Command::new("/usr/sbin/sshd")
        .arg("-D")
        .arg("-e")
        .arg("-f")
        .arg(conf)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
}

impl Subsystem for SshServer {
    fn name(&self) -> &'static str {
        "ssh"
    }

    fn apply<'a>(&'a mut self, desired: &'a Desired<'a>) -> Step<'a> {
        Box::pin(async move {
            let conf = self.dir.join("sshd_config");
            let unit = use_unit(&conf);
            let Some(text) = render(desired.config, &self.dir, &self.host_key) else {
                let mut was = self.running.is_some();
                self.stop()?;
                if unit && !self.stale_unit_checked {
                    // A unit an earlier daemon started, while SSH is now off.
                    self.stale_unit_checked = true;
                    if systemctl(&["is-active", "--quiet", UNIT]).is_ok() {
                        systemctl(&["stop", UNIT])?;
                        was = true;
                    }
                }
                return Ok(if was {
                    Report::done("SSH off")
                } else {
                    Report::quiet()
                });
            };
            self.stale_unit_checked = true;
            let keys = authorized_keys(desired.config);
            std::fs::create_dir_all(&self.dir)
                .map_err(|e| format!("{}: {e}", self.dir.display()))?;
            let keys_path = self.dir.join("authorized_keys");
            edgeward_config::history::write_atomic_mode(&keys_path, keys.as_bytes(), 0o600)
                .map_err(|e| format!("{}: {e}", keys_path.display()))?;
            if let Some(r) = &mut self.running
                && r.text == text
            {
                // sshd reads authorized_keys at each login: a new key list needs no restart.
                let changed = r.keys != keys;
                r.keys = keys;
                return Ok(if changed {
                    Report::done("SSH keys updated")
                } else {
                    Report::quiet()
                });
            }
            // In unit mode a restart is done by systemd below; the running one stays until then.
            if !unit {
                self.stop()?;
            } else if let Some(r) = self.running.take() {
                r.watcher.abort();
                let (Runner::Unit(journal) | Runner::Child(journal)) = r.runner;
                journal.stop();
            }
            if !self.host_key.exists() {
                let made = std::process::Command::new("ssh-keygen")
                    .args([
                        "-q",
                        "-t",
                        "ed25519",
                        "-N",
                        "",
                        "-C",
                        "edgeward host key",
                        "-f",
                    ])
                    .arg(&self.host_key)
                    .status();
                if !made.is_ok_and(|s| s.success()) {
                    return Ok(Report::quiet().note(
                        Level::Error,
                        "SSH not running: cannot make the host key (ssh-keygen)",
                    ));
                }
            }
            let same_file = std::fs::read_to_string(&conf).is_ok_and(|t| t == text);
            if !same_file {
                edgeward_config::history::write_atomic_mode(&conf, text.as_bytes(), 0o600)
                    .map_err(|e| format!("{}: {e}", conf.display()))?;
            }
            let (runner, watcher) = if unit {
                // A unit already running this very configuration (the daemon restarted) is
                // kept: restarting it would end the administrators' sessions.
                let adopt = same_file && systemctl(&["is-active", "--quiet", UNIT]).is_ok();
                if !adopt && let Err(e) = systemctl(&["restart", UNIT]) {
                    return Ok(Report::quiet().note(Level::Error, format!("SSH not running: {e}")));
                }
                let journal = match follow_journal() {
                    Ok(c) => Supervised::new(c),
                    Err(e) => {
                        return Ok(Report::quiet().note(
                            Level::Error,
                            format!("SSH runs, but its log cannot be read for the audit trail: journalctl: {e}"),
                        ));
                    }
                };
                let watcher = tokio::spawn(watch_journal(journal.clone(), self.bus.clone()));
                (Runner::Unit(journal), watcher)
            } else {
                let child = match spawn(&conf) {
                    Ok(c) => Supervised::new(c),
                    Err(e) => {
                        return Ok(Report::quiet()
                            .note(Level::Error, format!("SSH not running: sshd: {e}")));
                    }
                };
                let watcher = tokio::spawn(watch(conf, child.clone(), self.bus.clone()));
                (Runner::Child(child), watcher)
            };
            let n = desired.config.management.ssh.authorized_keys.len();
            self.running = Some(Running {
                text,
                keys,
                runner,
                watcher,
            });
            Ok(Report::done(format!(
                "SSH on port {} of the admin zones, {n} key(s), no passwords",
                desired.config.management.ssh_port
            )))
        })
    }
}

/// What one line of sshd's log means for the audit trail.
pub fn audit_of(line: &str) -> Option<(Outcome, String)> {
    let line = line.trim();
    if line.contains("Accepted publickey for") {
        Some((Outcome::Success, line.to_string()))
    } else if line.contains("Failed ")
        || line.contains("Invalid user")
        || line.contains("not allowed because")
        || line.contains("Connection closed by authenticating user")
        || line.contains("maximum authentication attempts")
    {
        Some((Outcome::Failure, line.to_string()))
    } else {
        None
    }
}

/// One line of sshd's log, as an audit event when it is a login or a refusal.
async fn audit_line(bus: &Bus, line: &str) {
    if let Some((outcome, detail)) = audit_of(line) {
        let vi = if outcome == Outcome::Success {
            format!("đăng nhập SSH bằng khóa công khai: `{detail}`")
        } else {
            format!("đăng nhập SSH bị từ chối: `{detail}`")
        };
        bus.emit(EventBody::Audit(AuditEvent::said(
            "ssh",
            "ssh",
            "auth.ssh",
            outcome,
            edgeward_config::Text::new(detail, vi),
            None,
        )))
        .await;
    }
}

/// The lines a child writes on a pipe, read on a thread of their own until it closes.
fn lines_of(
    pipe: impl std::io::Read + Send + 'static,
) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The unit's journal lines as audit events; a `journalctl` that exits is started again.
async fn watch_journal(journal: Supervised, bus: Bus) {
    let mut backoff = Duration::from_secs(2);
    loop {
        let stdout = journal.take_stdout();
        if let Some(stdout) = stdout {
            let mut rx = lines_of(stdout);
            while let Some(line) = rx.recv().await {
                audit_line(&bus, &line).await;
            }
        }
        let _ = journal.wait();
        bus.emit(EventBody::system(
            Level::Warning,
            "ssh",
            format!(
                "stopped following sshd's journal; following it again in {} s (logins in between are not audited)",
                backoff.as_secs()
            ),
        ))
        .await;
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(60));
        if let Ok(c) = follow_journal() {
            journal.replace(c);
        }
    }
}

/// sshd's log lines as audit events; an sshd that exits is started again.
async fn watch(conf: PathBuf, child: Supervised, bus: Bus) {
    let mut backoff = Duration::from_secs(2);
    loop {
        let stderr = child.take_stderr();
        if let Some(stderr) = stderr {
            let mut rx = lines_of(stderr);
            while let Some(line) = rx.recv().await {
                audit_line(&bus, &line).await;
            }
        }
        // stderr closed: sshd exited.
        let status = child.wait();
        bus.emit(EventBody::system(
            Level::Error,
            "ssh",
            format!(
                "sshd exited ({}); starting it again in {} s",
                status.map_or("unknown".into(), |s| s.to_string()),
                backoff.as_secs()
            ),
        ))
        .await;
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(60));
        if let Ok(c) = spawn(&conf) {
            child.replace(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        let text = edgeward_config::AGENCY_DEFAULT_PROFILE
            .replace("[management]", &format!("[management]\n{extra}"));
        edgeward_config::parse(&text, "t.toml", edgeward_config::today()).expect("parses")
    }

    /// 003 §20.2.b: SSH is off by default; on, it listens on the admin zones only, keys only.
    #[test]
    fn off_by_default_and_keys_only_on_the_admin_zones_when_on() {
        let off = edgeward_config::parse(
            edgeward_config::AGENCY_DEFAULT_PROFILE,
            "t.toml",
            edgeward_config::today(),
        )
        .unwrap();
        assert_eq!(render(&off, Path::new("/s"), Path::new("/k")), None);
        let on = config(
            "ssh = { enabled = true, authorized_keys = [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin\"] }",
        );
        let text = render(&on, Path::new("/s"), Path::new("/k")).unwrap();
        let listen: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("ListenAddress"))
            .collect();
        let expected: Vec<String> = crate::admin::admin_zone_addrs(&on, 22)
            .iter()
            .map(|a| format!("ListenAddress {a}"))
            .collect();
        assert_eq!(listen, expected);
        assert!(!listen.is_empty());
        for must in [
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "AuthenticationMethods publickey",
            "AllowTcpForwarding no",
        ] {
            assert!(text.lines().any(|l| l == must), "{must}");
        }
        assert!(authorized_keys(&on).starts_with("ssh-ed25519 AAAA"));
    }

    #[test]
    fn sshd_log_lines_become_audit_outcomes() {
        assert_eq!(
            audit_of(
                "Accepted publickey for root from 10.10.99.20 port 4242 ssh2: ED25519 SHA256:x"
            )
            .map(|a| a.0),
            Some(Outcome::Success)
        );
        assert_eq!(
            audit_of(
                "Connection closed by authenticating user root 10.10.99.20 port 4243 [preauth]"
            )
            .map(|a| a.0),
            Some(Outcome::Failure)
        );
        assert_eq!(
            audit_of("User root from 10.10.99.20 not allowed because account is locked")
                .map(|a| a.0),
            Some(Outcome::Failure),
            "a refusal by account state is audited too"
        );
        assert_eq!(audit_of("Server listening on 10.10.99.1 port 22."), None);
    }
}
