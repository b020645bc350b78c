//! Build, inspect and tear down a lab. A [`Lab`] value owns its namespaces: dropping it tears
//! everything down (also when a test panics) unless it was [`Lab::detach`]ed by `edgeward-lab up`.

use std::fs::OpenOptions;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;

use crate::netns;
use crate::probe::{self, Reach};
use crate::topology::{self, ServiceKind, endpoints};

/// How to build a lab.
#[derive(Debug, Clone)]
pub struct LabSpec {
    /// Namespace name prefix; two labs with different prefixes never collide.
    pub prefix: String,
    /// The gateway's configuration text.
    pub config_text: String,
    /// The `edgeward` binary (runs the gateway and the lab's helper servers).
    pub edgeward_bin: PathBuf,
    pub start_gateway: bool,
    /// Extra arguments for `edgeward run`.
    pub gateway_args: Vec<String>,
    /// Where the lab keeps its files (config, gateway state and log).
    pub dir: PathBuf,
}

impl LabSpec {
    pub fn new(prefix: &str, config_text: &str, edgeward_bin: &Path) -> LabSpec {
        LabSpec {
            prefix: prefix.to_string(),
            config_text: config_text.to_string(),
            edgeward_bin: edgeward_bin.to_path_buf(),
            start_gateway: true,
            gateway_args: Vec::new(),
            dir: default_dir(prefix),
        }
    }
}

/// Where a lab with this prefix keeps its files.
pub fn default_dir(prefix: &str) -> PathBuf {
    PathBuf::from("/run/edgeward-lab").join(prefix)
}

pub struct Lab {
    pub prefix: String,
    pub dir: PathBuf,
    bin: PathBuf,
    detached: bool,
    gateway_args: Vec<String>,
}

/// One role as `status --json` reports it.
#[derive(Debug, Serialize)]
pub struct RoleStatus {
    pub role: String,
    pub namespace: String,
    pub addresses: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub prefix: String,
    pub roles: Vec<RoleStatus>,
    pub services: serde_json::Value,
    pub gateway: serde_json::Value,
    pub files: serde_json::Value,
}

fn check_prerequisites() -> anyhow::Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("the lab needs root (network namespaces, nftables)");
    }
    for tool in ["ip", "nft", "dnsmasq", "ping", "rsyslogd", "conntrack"] {
        let found = std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).exists()))
            || Path::new("/usr/sbin").join(tool).exists();
        if !found {
            bail!(
                "`{tool}` is not installed; run scripts/setup.sh (it installs nftables, iproute2, dnsmasq-base, iputils-ping, rsyslog, rsyslog-gnutls, conntrack …)"
            );
        }
    }
    Ok(())
}

impl Lab {
    pub fn ns_name(prefix: &str, role: &str) -> String {
        format!("{prefix}-{role}")
    }

    /// The namespace of `role` in this lab.
    pub fn ns(&self, role: &str) -> String {
        Self::ns_name(&self.prefix, role)
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.join("edgeward.toml")
    }
    pub fn state_dir(&self) -> PathBuf {
        self.dir.join("state")
    }
    pub fn events_path(&self) -> PathBuf {
        self.state_dir().join("events.jsonl")
    }
    /// The event store's keys, apart from the state directory.
    pub fn key_dir(&self) -> PathBuf {
        self.dir.join("keys")
    }
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("gateway.log")
    }

    /// Build the whole lab. If any step fails, everything made so far is removed.
    pub fn up(spec: LabSpec) -> anyhow::Result<Lab> {
        check_prerequisites()?;
        if spec.prefix.is_empty()
            || spec.prefix.len() > 12
            || !spec.prefix.chars().all(|c| c.is_ascii_alphanumeric())
        {
            bail!(
                "lab prefix `{}` must be 1–12 letters or digits",
                spec.prefix
            );
        }
        if let Some(role) = topology::ROLES
            .iter()
            .find(|r| netns::exists(&Self::ns_name(&spec.prefix, r)))
        {
            bail!(
                "a lab with prefix `{}` is already up (namespace {} exists); run `scripts/lab.sh down --prefix {}` first",
                spec.prefix,
                Self::ns_name(&spec.prefix, role),
                spec.prefix
            );
        }
        let lab = Lab {
            prefix: spec.prefix.clone(),
            dir: spec.dir.clone(),
            bin: spec.edgeward_bin.clone(),
            detached: false,
            gateway_args: spec.gateway_args.clone(),
        };
        // From here on, an error drops `lab`, which tears down what exists.
        lab.build(&spec)?;
        Ok(lab)
    }

    fn build(&self, spec: &LabSpec) -> anyhow::Result<()> {
        let started = Instant::now();
        let _ = std::fs::remove_dir_all(&self.dir);
        std::fs::create_dir_all(self.state_dir())
            .with_context(|| format!("creating {}", self.dir.display()))?;
        std::fs::write(self.config_path(), &spec.config_text)?;

        for role in topology::ROLES {
            netns::add(&self.ns(role))?;
        }
        let mut link_cmds = Vec::new();
        for l in topology::links() {
            let mut line = format!(
                "link add {} netns {} type veth peer name {} netns {}",
                l.a.1,
                self.ns(l.a.0),
                l.b.1,
                self.ns(l.b.0)
            );
            if let Some(mac) = l.b_mac {
                line = format!(
                    "link add {} netns {} type veth peer name {} netns {} address {mac}",
                    l.a.1,
                    self.ns(l.a.0),
                    l.b.1,
                    self.ns(l.b.0)
                );
            }
            link_cmds.push(line);
        }
        netns::ip_batch(None, &link_cmds)?;

        let sw = self.ns("sw");
        let mut sw_cmds = Vec::new();
        for (bridge, ports) in topology::bridges() {
            sw_cmds.push(format!("link add {bridge} type bridge"));
            sw_cmds.push(format!("link set {bridge} up"));
            for p in ports {
                sw_cmds.push(format!("link set {p} master {bridge}"));
                sw_cmds.push(format!("link set {p} up"));
            }
        }
        netns::ip_batch(Some(&sw), &sw_cmds)?;

        for host in topology::hosts() {
            let ns = self.ns(host.role);
            let mut cmds = Vec::new();
            let mut ifaces: Vec<&str> = host.addresses.iter().map(|(i, _)| *i).collect();
            ifaces.dedup();
            if ifaces.is_empty() {
                // A host that asks for its address (DHCP): its port is up, nothing else.
                ifaces.push("eth0");
            }
            for i in &ifaces {
                cmds.push(format!("link set {i} up"));
            }
            for (i, a) in &host.addresses {
                let nodad = if a.contains(':') { " nodad" } else { "" };
                cmds.push(format!("addr add {a} dev {i}{nodad}"));
            }
            for r in &host.routes {
                // iproute2 infers the family from the `via` address.
                cmds.push(format!("route add {r}"));
            }
            netns::ip_batch(Some(&ns), &cmds)?;
            if host.forwarding {
                for key in ["net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding"] {
                    let key = key.to_string();
                    netns::within(&ns, move || {
                        std::fs::write(Path::new("/proc/sys").join(key), "1")
                    })??;
                }
            }
        }

        for svc in topology::services() {
            self.start_service(&svc)?;
        }
        self.start_soc(&spec.config_text)?;
        if spec.start_gateway {
            self.start_gateway()?;
            self.wait_gateway_ready(Duration::from_secs(20))?;
        }
        std::fs::write(
            self.dir.join("lab.json"),
            serde_json::to_vec_pretty(&self.status())?,
        )?;
        let _ = std::fs::write(
            self.dir.join("up-seconds"),
            format!("{:.3}\n", started.elapsed().as_secs_f64()),
        );
        Ok(())
    }

    /// Start a background process inside `role`'s namespace, output to `DIR/NAME.log`.
    fn spawn_in(
        &self,
        role: &str,
        name: &str,
        program: &Path,
        args: &[String],
    ) -> anyhow::Result<u32> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{name}.log")))?;
        let child = netns::command(&self.ns(role), &program.display().to_string())
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {name} in {}", self.ns(role)))?;
        Ok(child.id())
    }

    fn start_service(&self, svc: &topology::Service) -> anyhow::Result<()> {
        let name = format!("{}-{}", svc.role, svc.name);
        match &svc.kind {
            ServiceKind::Whoami(listen) => {
                let mut args = vec!["serve".to_string(), "--name".into(), svc.name.to_string()];
                for l in listen {
                    args.push("--listen".into());
                    args.push(l.to_string());
                }
                self.spawn_in(svc.role, &name, &self.lab_bin(), &args)?;
            }
            ServiceKind::Echo(listen) => {
                let mut args = vec![
                    "serve".to_string(),
                    "--name".into(),
                    svc.name.to_string(),
                    "--echo".into(),
                ];
                for l in listen {
                    args.push("--listen".into());
                    args.push(l.to_string());
                }
                self.spawn_in(svc.role, &name, &self.lab_bin(), &args)?;
            }
            ServiceKind::Dns(addrs) => {
                let mut args: Vec<String> = [
                    "--keep-in-foreground",
                    "--no-resolv",
                    "--no-hosts",
                    "--bind-interfaces",
                    "--pid-file",
                    "--log-facility=-",
                    "--user=root",
                    "--address=/example.vn/192.0.2.80",
                    "--address=/gov.vn/192.0.2.80",
                    "--address=/update.example.vn/192.0.2.100",
                ]
                .iter()
                .map(std::string::ToString::to_string)
                .collect();
                for a in addrs {
                    args.push(format!("--listen-address={a}"));
                }
                self.spawn_in(svc.role, &name, Path::new("dnsmasq"), &args)?;
            }
        }
        Ok(())
    }

    /// The SOC hub's directory (CA, hub certificate, received events).
    /// The lab's own program (`edgeward-lab`: helper servers), beside the `edgeward` binary.
    pub fn lab_bin(&self) -> PathBuf {
        self.bin.with_file_name("edgeward-lab")
    }

    /// The SOC's program (`edgeward-hub`), beside the lab's `edgeward` binary.
    pub fn hub_bin(&self) -> PathBuf {
        self.bin.with_file_name("edgeward-hub")
    }

    pub fn soc_dir(&self) -> PathBuf {
        self.dir.join("soc")
    }

    /// Make the SOC's PKI, enroll the gateway, and start the hub in the SOC namespace.
    fn start_soc(&self, config_text: &str) -> anyhow::Result<()> {
        let value: toml::Table = config_text.parse().unwrap_or_default();
        let host_id = value
            .get("gateway")
            .and_then(|g| g.get("host_id"))
            .and_then(|h| h.as_str())
            .unwrap_or("lc-agency-gw1")
            .to_string();
        let server_name = value
            .get("soc")
            .and_then(|s| s.get("server_name"))
            .and_then(|h| h.as_str())
            .unwrap_or("soc.tinh.gov.vn")
            .to_string();
        let soc = self.soc_dir().display().to_string();
        let client = self.dir.join("soc-client").display().to_string();
        let hub = self.hub_bin().display().to_string();
        crate::netns::run(
            &hub,
            &["init", "--dir", &soc, "--server-name", &server_name],
        )?;
        crate::netns::run(&hub, &["enroll", "--dir", &soc, &host_id, "--out", &client])?;
        self.start_hub()?;
        self.start_rsyslog()?;
        Ok(())
    }

    /// Where the lab's SIEM (rsyslog in the SOC namespace) writes what it receives.
    pub fn siem_log(&self) -> PathBuf {
        self.soc_dir().join("siem").join("received.log")
    }

    /// A real rsyslog with GnuTLS as the SOC's SIEM: RFC 5425 on 10.251.9.10:6514.
    fn start_rsyslog(&self) -> anyhow::Result<()> {
        let dir = self.soc_dir().join("siem");
        std::fs::create_dir_all(&dir)?;
        let soc = self.soc_dir();
        let conf = format!(
            "global(workDirectory=\"{d}\" DefaultNetstreamDriver=\"gtls\" DefaultNetstreamDriverCAFile=\"{s}/ca.pem\" DefaultNetstreamDriverCertFile=\"{s}/hub.pem\" DefaultNetstreamDriverKeyFile=\"{s}/hub.key\")\n\
             module(load=\"imtcp\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"anon\")\n\
             input(type=\"imtcp\" address=\"{soc_ip}\" port=\"6514\")\n\
             template(name=\"raw\" type=\"string\" string=\"%msg%\\n\")\n\
             action(type=\"omfile\" file=\"{d}/received.log\" template=\"raw\")\n",
            d = dir.display(),
            s = soc.display(),
            soc_ip = endpoints::SOC
        );
        let conf_path = dir.join("rsyslog.conf");
        std::fs::write(&conf_path, conf)?;
        let args = vec![
            "-n".to_string(),
            "-f".into(),
            conf_path.display().to_string(),
            "-i".into(),
            dir.join("rsyslogd.pid").display().to_string(),
        ];
        self.spawn_in("soc", "siem-rsyslog", Path::new("rsyslogd"), &args)?;
        Ok(())
    }

    /// Start the SOC hub with extra arguments (e.g. `--relay`).
    pub fn start_hub_with(&self, extra: &[&str]) -> anyhow::Result<u32> {
        let mut args = vec![
            "serve".to_string(),
            "--dir".into(),
            self.soc_dir().display().to_string(),
            "--listen".into(),
            format!("{}:7443", endpoints::SOC),
        ];
        args.extend(extra.iter().map(std::string::ToString::to_string));
        self.spawn_in("soc", "soc-hub", &self.hub_bin(), &args)
    }

    /// Start (or restart) the SOC hub in the SOC namespace.
    pub fn start_hub(&self) -> anyhow::Result<u32> {
        let args = vec![
            "serve".to_string(),
            "--dir".into(),
            self.soc_dir().display().to_string(),
            "--listen".into(),
            format!("{}:7443", endpoints::SOC),
        ];
        self.spawn_in("soc", "soc-hub", &self.hub_bin(), &args)
    }

    /// Start `edgeward run` in the gateway namespace.
    pub fn start_gateway(&self) -> anyhow::Result<u32> {
        let args = vec![
            "run".to_string(),
            "--config".into(),
            self.config_path().display().to_string(),
            "--state-dir".into(),
            self.state_dir().display().to_string(),
            "--events".into(),
            self.events_path().display().to_string(),
            "--key-dir".into(),
            self.key_dir().display().to_string(),
            "--soc-dir".into(),
            self.dir.join("soc-client").display().to_string(),
            // The lab's namespaces share the host's clock: chronyd only measures and serves.
            "--no-clock".into(),
        ];
        let args: Vec<String> = args
            .into_iter()
            .chain(self.gateway_args.iter().cloned())
            .collect();
        let pid = self.spawn_in("gateway", "gateway", &self.bin, &args)?;
        std::fs::write(self.dir.join("gateway.launch-pid"), pid.to_string())?;
        Ok(pid)
    }

    /// If the gateway this process launched has exited, how (reaps it).
    fn launched_gateway_exit(&self) -> Option<String> {
        let pid: i32 = std::fs::read_to_string(self.dir.join("gateway.launch-pid"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let mut status = 0;
        // SAFETY: waitpid on our own child with WNOHANG; `status` is a valid out-pointer.
        let rc = unsafe { libc::waitpid(pid, &raw mut status, libc::WNOHANG) };
        if rc != pid {
            return None;
        }
        Some(if libc::WIFEXITED(status) {
            format!("exit code {}", libc::WEXITSTATUS(status))
        } else {
            format!("killed by signal {}", libc::WTERMSIG(status))
        })
    }

    /// The running daemon's pid, from its pid file.
    pub fn gateway_pid(&self) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(self.state_dir().join("edgeward.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        process_alive(pid).then_some(pid)
    }

    /// Wait until the daemon has applied its config and answers on the management zone.
    pub fn wait_gateway_ready(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let metrics: SocketAddr =
            SocketAddr::new(endpoints::GATEWAY_MGMT.parse()?, endpoints::METRICS_PORT);
        loop {
            if self.gateway_pid().is_some()
                && probe::tcp_connect(&self.ns("admin-1"), metrics, Duration::from_millis(300))
                    .is_ok()
            {
                return Ok(());
            }
            if let Some(code) = self.launched_gateway_exit() {
                bail!(
                    "the gateway exited during start-up ({code}); its log:\n{}",
                    self.log_tail(40)
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "the gateway was not ready after {timeout:?}; its log:\n{}",
                    self.log_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Send SIGHUP to the daemon (reconcile now).
    pub fn reload_gateway(&self) -> anyhow::Result<()> {
        let pid = self.gateway_pid().context("the gateway is not running")?;
        // SAFETY: kill(2) on the daemon's pid.
        if unsafe { libc::kill(pid, libc::SIGHUP) } != 0 {
            bail!("SIGHUP to {pid}: {}", std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// The last `lines` lines of a file in the lab's directory (a helper's log, say), for a
    /// failure message.
    pub fn file_tail(&self, name: &str, lines: usize) -> String {
        let text = std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Run a command in `role`'s namespace and return its output.
    pub fn exec(
        &self,
        role: &str,
        program: &str,
        args: &[&str],
    ) -> anyhow::Result<std::process::Output> {
        Ok(netns::command(&self.ns(role), program)
            .args(args)
            .stdin(Stdio::null())
            .output()?)
    }

    /// Run the `edgeward` CLI in the gateway namespace against this lab's config and state.
    pub fn edgeward(&self, args: &[&str]) -> std::process::Output {
        let state = self.state_dir().display().to_string();
        let config = self.config_path().display().to_string();
        let mut all = vec!["--state-dir", state.as_str(), "--config", config.as_str()];
        all.extend_from_slice(args);
        match self.exec("gateway", &self.bin.display().to_string(), &all) {
            Ok(out) => out,
            Err(e) => panic!("running edgeward {args:?}: {e}"),
        }
    }

    /// Apply `text` as a configuration change by the IT officer with `reason`, without
    /// commit-confirm, through the CLI (the file goes to the lab directory); panics if refused.
    pub fn apply_config(&self, text: &str, reason: &str) {
        let file = self.dir.join(format!("{}.toml", reason.replace(' ', "-")));
        std::fs::write(&file, text).expect("writing the configuration");
        let file = file.display().to_string();
        let out = self.edgeward(&[
            "config",
            "apply",
            &file,
            "--author",
            "it-officer",
            "--reason",
            reason,
            "--no-confirm",
        ]);
        assert!(
            out.status.success(),
            "config apply ({reason}) refused: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The text of `nft list table inet edgeward` in the gateway (with `-a`: rule handles),
    /// counter values blanked so that two listings compare equal while traffic flows.
    pub fn nft_table(&self, handles: bool) -> String {
        let args: &[&str] = if handles {
            &["-a", "list", "table", "inet", "edgeward"]
        } else {
            &["list", "table", "inet", "edgeward"]
        };
        let out = self
            .exec("gateway", "nft", args)
            .unwrap_or_else(|e| panic!("nft: {e}"));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(blank_counter)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Feed an nft script to `nft -f -` in `role`'s namespace (test routers: cuts, loss, counters).
    pub fn nft_script(&self, role: &str, script: &str) -> anyhow::Result<()> {
        use std::io::Write;
        let mut child = netns::command(&self.ns(role), "nft")
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .context("nft stdin")?
            .write_all(script.as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "nft in {}: {}",
                self.ns(role),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    /// One TCP connect attempt from `role`.
    pub fn tcp(&self, role: &str, addr: IpAddr, port: u16, timeout: Duration) -> Reach {
        probe::tcp_connect(&self.ns(role), SocketAddr::new(addr, port), timeout)
    }

    /// Whether `role` can open a TCP connection to `addr:port`, trying up to `attempts` times.
    pub fn can_connect(&self, role: &str, addr: &str, port: u16, attempts: u32) -> bool {
        let Ok(ip) = addr.parse::<IpAddr>() else {
            return false;
        };
        probe::retry(attempts, Duration::from_millis(200), || {
            match self.tcp(role, ip, port, Duration::from_millis(800)) {
                Reach::Ok => Ok(()),
                other => Err(other),
            }
        })
        .is_ok()
    }

    /// HTTP GET `http://addr:port{path}` from `role`; the body of the lab's whoami servers names
    /// the server and the client address it saw.
    pub fn http_get(
        &self,
        role: &str,
        addr: &str,
        port: u16,
        path: &str,
        attempts: u32,
    ) -> Result<(u16, String), Reach> {
        let ip: IpAddr = addr
            .parse()
            .map_err(|_| Reach::Error(format!("bad address {addr}")))?;
        let sa = SocketAddr::new(ip, port);
        probe::retry(attempts, Duration::from_millis(200), || {
            probe::http_get(&self.ns(role), sa, addr, path, Duration::from_secs(2))
        })
    }

    pub fn ping(&self, role: &str, addr: &str) -> bool {
        addr.parse()
            .is_ok_and(|ip| probe::ping(&self.ns(role), ip, Duration::from_secs(1)))
    }

    /// The topology, addresses and endpoints, as `lab status --json` prints them.
    pub fn status(&self) -> Status {
        let hosts = topology::hosts();
        let mut roles = Vec::new();
        for role in topology::ROLES {
            let addresses = match *role {
                "gateway" => gateway_addresses(&self.config_path()),
                "sw" => vec![],
                r => hosts
                    .iter()
                    .find(|h| h.role == r)
                    .map(|h| {
                        h.addresses
                            .iter()
                            .filter(|(i, _)| *i != "lo" || r == "internet")
                            .map(|(_, a)| a.to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            roles.push(RoleStatus {
                role: role.to_string(),
                namespace: self.ns(role),
                addresses,
            });
        }
        let pid = self.gateway_pid();
        Status {
            prefix: self.prefix.clone(),
            roles,
            services: serde_json::json!({
                "gateway_metrics": { "from_role": "admin-1", "url": format!("http://{}:{}/metrics", endpoints::GATEWAY_MGMT, endpoints::METRICS_PORT) },
                "admin_ui": { "from_role": "admin-1", "url": format!("https://{}/", endpoints::GATEWAY_MGMT), "factory_account": "admin", "factory_password": "edgeward (must be changed at first login)" },
                "internet_http": { "url": format!("http://{}/", endpoints::INTERNET_HTTP), "role": "internet" },
                "internet_dns": { "address": format!("{}:53", endpoints::INTERNET_DNS), "role": "internet" },
                "update_mirror": { "url": format!("http://{}/", endpoints::UPDATE_MIRROR), "role": "internet" },
                "gov_server": { "url": format!("http://{}/", endpoints::GOV_SERVER), "role": "gov-server" },
                "soc": { "address": endpoints::SOC, "role": "soc" },
                "gateway_wan": [endpoints::GATEWAY_WAN1, endpoints::GATEWAY_WAN2],
            }),
            gateway: serde_json::json!({ "namespace": self.ns("gateway"), "pid": pid, "running": pid.is_some() }),
            files: serde_json::json!({
                "dir": self.dir,
                "config": self.config_path(),
                "state_dir": self.state_dir(),
                "events": self.events_path(),
                "gateway_log": self.log_path(),
            }),
        }
    }

    /// Keep the lab running after this value is dropped (`edgeward-lab up`).
    pub fn detach(mut self) {
        self.detached = true;
    }

    /// Attach to a lab that is up (for `status` and `down`).
    pub fn attach(prefix: &str, bin: &Path) -> anyhow::Result<Lab> {
        if !netns::exists(&Self::ns_name(prefix, "gateway")) {
            bail!("no lab with prefix `{prefix}` is up");
        }
        Ok(Lab {
            prefix: prefix.to_string(),
            dir: default_dir(prefix),
            bin: bin.to_path_buf(),
            detached: true,
            gateway_args: Vec::new(),
        })
    }

    /// Stop every process of the lab and remove its namespaces and files — and nothing else.
    pub fn teardown(&self) -> anyhow::Result<()> {
        // A host-side forwarder (`edgeward-lab up` publishing the admin UI) lives outside the
        // lab's namespaces: stop it by its pid file.
        if let Some(pid) = std::fs::read_to_string(self.dir.join(crate::cli::FORWARD_PID))
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
            .filter(|pid| {
                // Still our forwarder (not a recycled pid)?
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains("forward"))
            })
        {
            // SAFETY: kill(2) on the pid this lab recorded for its own forwarder, checked above.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        // The gateway first, so it stops cleanly before its links vanish.
        let mut errors = Vec::new();
        for role in topology::ROLES {
            if let Err(e) = netns::delete(&self.ns(role)) {
                errors.push(e.to_string());
            }
        }
        if errors.is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
            Ok(())
        } else {
            bail!("teardown left things behind: {}", errors.join("; "))
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if !self.detached {
            if let Err(e) = self.teardown() {
                eprintln!("lab {}: {e}", self.prefix);
            }
        }
    }
}

fn gateway_addresses(config: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(config) else {
        return vec![];
    };
    let Ok(value) = text.parse::<toml::Table>() else {
        return vec![];
    };
    value
        .get("interfaces")
        .and_then(|i| i.as_array())
        .map(|list| {
            list.iter()
                .flat_map(|itf| {
                    let name = itf
                        .get("name")
                        .and_then(|n| n.as_str())
                        .unwrap_or("?")
                        .to_string();
                    itf.get("addresses")
                        .and_then(|a| a.as_array())
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(|s| format!("{name} {s}")))
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `pid` is a live process (not gone, not a zombie waiting to be reaped).
pub fn process_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// `counter packets 12 bytes 3456` → `counter`.
fn blank_counter(line: &str) -> String {
    let Some(i) = line.find("counter packets ") else {
        return line.to_string();
    };
    let rest = &line[i..];
    let words: Vec<&str> = rest.splitn(6, ' ').collect();
    // ["counter", "packets", N, "bytes", M, rest...]
    let tail = words.get(5).map(|r| format!(" {r}")).unwrap_or_default();
    format!("{}counter{tail}", &line[..i])
}
