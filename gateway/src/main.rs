//! `edgeward`: the gateway daemon and its command-line interface.

use edgeward_gateway::{config_cmd, daemon, ids_cmd, update_cmd};

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "edgeward",
    version,
    about = "Edge gateway for provincial agencies: zone firewall, dual ISP, TSLCD, IDS, SOC link"
)]
struct Cli {
    /// The configuration file the daemon runs.
    #[arg(
        long,
        global = true,
        default_value = "/etc/edgeward/edgeward.toml",
        env = "EDGEWARD_CONFIG"
    )]
    config: PathBuf,
    /// State directory: history, pid file, event journal.
    #[arg(
        long,
        global = true,
        default_value = "/var/lib/edgeward",
        env = "EDGEWARD_STATE_DIR"
    )]
    state_dir: PathBuf,
    /// (tests) A directory laid out like the appliance's root (efi/, dev/disk/by-partlabel/,
    /// proc/cmdline, usr/lib/os-release, usr/share/edgeward/update-keys/) for system updates.
    #[arg(
        long,
        global = true,
        hide = true,
        env = "EDGEWARD_UPDATE_ROOT",
        default_value = "/"
    )]
    update_root: PathBuf,
    /// Log format on stderr.
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway daemon in the foreground (for systemd: Type=simple).
    Run {
        /// Also write events as plaintext JSON lines to this file (lab and debugging only: the
        /// record is the encrypted store in STATE_DIR/store).
        #[arg(long)]
        events: Option<PathBuf>,
        /// Directory of the store's encryption keys (kept apart from the data).
        #[arg(long, default_value = "/etc/edgeward/keys")]
        key_dir: PathBuf,
        /// The SOC link's client certificate, key and SOC CA (`edgeward-hub enroll` output).
        #[arg(long, default_value = "/etc/edgeward/soc")]
        soc_dir: PathBuf,
        /// (tests and benchmarks) emit this many synthetic events once ready.
        #[arg(long, default_value_t = 0, hide = true)]
        synthetic_events: u64,
        /// How often to check the config file for changes, in milliseconds.
        #[arg(long, default_value_t = 1000)]
        poll_ms: u64,
        /// IDS rules directory used while no SOC bundle is applied (overrides `ids.rules_dir`).
        #[arg(long)]
        ids_rules: Option<PathBuf>,
        /// (lab) chronyd measures and serves time but never sets the clock (network namespaces
        /// share the host's clock).
        #[arg(long, hide = true)]
        no_clock: bool,
    },
    /// Check, compare, apply and roll back configurations.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Inspect the firewall edgeward renders.
    #[command(subcommand)]
    Firewall(FirewallCmd),
    /// The encrypted event store: verify, query, export, rotate the key.
    Logs {
        /// Directory of the store's encryption keys.
        #[arg(long, default_value = "/etc/edgeward/keys")]
        key_dir: PathBuf,
        #[command(subcommand)]
        cmd: LogsCmd,
    },
    /// The IDS engine offline: run a capture (`--pcap`) or check a ruleset (`--check`).
    /// (Generated test captures: `edgeward-traffic`, not part of the appliance.)
    Ids {
        /// A pcap file to inspect, exactly as live capture would feed the engine.
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// The rules directory (every *.rules file and classification.config) or one file.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Write alerts as EVE JSON lines here (default: standard output).
        #[arg(long)]
        eve: Option<PathBuf>,
        /// Write run statistics (rates, load time, memory, counters) as JSON here.
        #[arg(long)]
        stats: Option<PathBuf>,
        /// HOME_NET prefixes (default: Suricata's 10/8, 172.16/12, 192.168/16).
        #[arg(long, value_delimiter = ',')]
        home_net: Vec<String>,
        /// Only load the rules and print the report; exit 1 if any rule is malformed.
        #[arg(long)]
        check: bool,
        /// Judge NFQUEUE queues `A:B` inline (one worker each) until SIGINT/SIGTERM — the
        /// daemon's IPS workers, by hand; the caller sets the NFQUEUE rules.
        #[arg(long)]
        nfqueue: Option<String>,
        /// With --nfqueue: bind the queues fail-closed (a full queue drops).
        #[arg(long)]
        fail_closed: bool,
        /// With --nfqueue: accept flows the engine is done with with this mark bit (hex or
        /// decimal), for a `connmark` rule that stops queueing them.
        #[arg(long, value_parser = parse_mark)]
        bypass_mark: Option<u32>,
        /// Watch these interfaces passively (`IF[,IF…]`) until SIGINT/SIGTERM — the daemon's
        /// capture workers, by hand; --stats is rewritten every second.
        #[arg(long, value_delimiter = ',')]
        interface: Vec<String>,
        /// With --nfqueue or --interface: stop after this many seconds.
        #[arg(long)]
        seconds: Option<u64>,
        #[command(subcommand)]
        cmd: Option<IdsCmd>,
    },
    /// Console recovery of the admin UI's accounts (needs root on the appliance itself).
    #[command(subcommand)]
    Accounts(AccountsCmd),
    /// Decisions about one device (000 §5.4, 003 §23.3), each a recorded configuration change
    /// the running daemon applies as set membership (no reload).
    #[command(subcommand)]
    Devices(DevicesCmd),
    /// Signed system updates on the appliance: the A/B slots, install into the inactive slot,
    /// roll back to the other slot (003 §20.2.b).
    #[command(subcommand)]
    Update(UpdateCmd),
    /// Live state of the uplinks (health, per-target loss and latency).
    Uplinks {
        #[arg(long)]
        json: bool,
    },
}

/// A mark bit given as `0x…` or decimal.
fn parse_mark(text: &str) -> Result<u32, String> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|e| format!("`{text}` is not a mark: {e}"))
}

#[derive(Subcommand)]
enum DevicesCmd {
    /// Let a device in: add or update its inventory entry (Phụ lục I).
    Approve {
        mac: String,
        #[arg(long)]
        zone: String,
        /// Họ tên người sử dụng.
        #[arg(long)]
        user: String,
        /// pc, laptop, server, printer, scanner, camera, ip-phone, phone, tablet, …
        #[arg(long = "type")]
        device_type: String,
        #[arg(long)]
        serial: Option<String>,
        #[arg(long)]
        note: Option<String>,
        /// A fixed address for it (else it keeps asking DHCP).
        #[arg(long)]
        ip: Option<String>,
        /// A personal device (not the agency's): needs --head-of-unit (004 §9.3).
        #[arg(long)]
        personal: bool,
        /// The head of unit who consented to a personal device.
        #[arg(long)]
        head_of_unit: Option<String>,
        /// Checks attested before a laptop or phone joins (001 §7.5, 004 §15.5), comma-separated:
        /// antivirus, os-updates, licensed-software, screen-lock.
        #[arg(long, value_delimiter = ',')]
        checked: Vec<String>,
        #[arg(long)]
        author: String,
        #[arg(long)]
        reason: String,
    },
    /// Cut it off everywhere.
    Block {
        mac: String,
        #[arg(long)]
        author: String,
        #[arg(long)]
        reason: String,
    },
    /// Move it into the quarantine zone: no LAN, TSLCD or Internet; only the update mirrors.
    Quarantine {
        mac: String,
        /// Its address, when the inventory has none.
        #[arg(long)]
        ip: Option<String>,
        #[arg(long)]
        author: String,
        #[arg(long)]
        reason: String,
    },
    /// Back from quarantine.
    Release {
        mac: String,
        #[arg(long)]
        author: String,
        #[arg(long)]
        reason: String,
    },
    /// Out of the inventory (its address and rules go with it).
    Remove {
        mac: String,
        #[arg(long)]
        author: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum IdsCmd {
    /// Install another ruleset: a signed SOC bundle (`*.json`, verified with the SOC's key and
    /// applied as if pushed), or local rules — a `*.rules` file, a directory of them, or a
    /// `*.tar.gz` archive such as ET Open's — checked by the engine, then swapped into
    /// `ids.rules_dir` (the previous one kept as `<dir>.previous`) and the daemon told.
    Update {
        source: PathBuf,
        /// The SOC link's directory (holds `bundle-signing.pub`).
        #[arg(long, default_value = "/etc/edgeward/soc")]
        soc_dir: PathBuf,
    },
    /// The evidence pcaps kept for alerts: list them, or write one (decrypted) to --out or
    /// standard output. Its SHA-256 is printed to standard error, to compare with the alert's.
    Evidence {
        /// The evidence id from the alert event (`evidence.id`); without it, list them.
        id: Option<String>,
        /// Write the pcap here (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Directory of the store's encryption keys.
        #[arg(long, default_value = "/etc/edgeward/keys")]
        key_dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Validate a file (default: the configured one); exit 1 with every problem if invalid.
    Check { file: Option<PathBuf> },
    /// Show what a file would change against the running configuration (or --against VERSION).
    Diff {
        file: Option<PathBuf>,
        #[arg(long)]
        against: Option<u64>,
    },
    /// List applied configurations: version, time, author, reason.
    History,
    /// Validate FILE and hand it to the daemon, recording who and why. Unless --no-confirm, the
    /// change is rolled back if not confirmed within firewall.commit_confirm_seconds.
    Apply {
        file: PathBuf,
        #[arg(long)]
        author: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        no_confirm: bool,
    },
    /// Re-apply an earlier version from the history.
    Rollback {
        version: u64,
        #[arg(long)]
        author: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        no_confirm: bool,
    },
    /// Restore a configuration from one of the gateway's automatic backups (STATE/backups/ or
    /// the SOC hub's copy): refused if the file was changed or sealed by another gateway; applied
    /// as a recorded change, with commit-confirm.
    RestoreBackup {
        file: PathBuf,
        /// The directory of the gateway's keys (the daemon's --key-dir).
        #[arg(long, env = "EDGEWARD_KEY_DIR", default_value = "/etc/edgeward/keys")]
        key_dir: PathBuf,
        #[arg(long, default_value = "console")]
        author: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        no_confirm: bool,
    },
    /// Confirm the change that is waiting for confirmation.
    Confirm {
        #[arg(long)]
        author: String,
    },
}

#[derive(Subcommand)]
enum LogsCmd {
    /// Check every record: integrity, sequence and hash chain; names segment and record of
    /// anything changed, removed or reordered. Exit 1 if anything is wrong.
    Verify,
    /// Print matching events as JSON lines, oldest first.
    Query {
        /// RFC 3339, e.g. 2026-11-22T00:00:00Z
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        until: Option<String>,
        /// event_type: alert, firewall, uplink, nac, audit, system
        #[arg(long)]
        kind: Option<String>,
        /// Case-insensitive text anywhere in the event.
        #[arg(long)]
        text: Option<String>,
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Export a time range as JSON lines for investigators.
    Export {
        #[arg(long)]
        since: String,
        #[arg(long)]
        until: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Add a new encryption key; new segments use it, older records stay readable.
    RotateKey,
}

#[derive(Subcommand)]
enum FirewallCmd {
    /// Print the nftables JSON transaction for a config file.
    Render { file: Option<PathBuf> },
    /// Show, in nft syntax, how a candidate file would change the running firewall.
    Diff { file: Option<PathBuf> },
    /// Per-rule packet and byte counters of the live firewall.
    Counters {
        /// Only rules that matched at least one packet.
        #[arg(long)]
        nonzero: bool,
    },
}

fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    // A CLI piped into `head` should stop quietly, not panic on a closed stdout.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = Cli::parse();
    init_tracing(&cli.log_format);
    let result = dispatch(cli);
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("edgeward: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    let paths = config_cmd::Paths {
        config: cli.config.clone(),
        state_dir: cli.state_dir.clone(),
    };
    match cli.command {
        Command::Run {
            events,
            key_dir,
            soc_dir,
            synthetic_events,
            poll_ms,
            ids_rules,
            no_clock,
        } => {
            let opts = daemon::RunOptions {
                soc_dir,
                ids_rules,
                synthetic_events,
                events_path: events,
                store_dir: cli.state_dir.join("store"),
                key_dir,
                config_path: cli.config,
                update: edgeward_update::slots::System::rooted(&cli.update_root, &cli.state_dir),
                set_clock: !no_clock,
                state_dir: cli.state_dir,
                poll_interval: Duration::from_millis(poll_ms.max(100)),
            };
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(daemon::run(opts))
        }
        Command::Config(cmd) => match cmd {
            ConfigCmd::Check { file } => {
                config_cmd::check(file.as_deref().unwrap_or(&paths.config))
            }
            ConfigCmd::Diff { file, against } => config_cmd::diff(&paths, file.as_deref(), against),
            ConfigCmd::History => config_cmd::history_list(&paths),
            ConfigCmd::Apply {
                file,
                author,
                reason,
                no_confirm,
            } => config_cmd::apply(&paths, &file, &author, &reason, !no_confirm),
            ConfigCmd::Rollback {
                version,
                author,
                reason,
                no_confirm,
            } => config_cmd::rollback(&paths, version, &author, &reason, !no_confirm),
            ConfigCmd::Confirm { author } => config_cmd::confirm(&paths, &author),
            ConfigCmd::RestoreBackup {
                file,
                key_dir,
                author,
                reason,
                no_confirm,
            } => config_cmd::restore_backup(&paths, &file, &key_dir, &author, &reason, !no_confirm),
        },
        Command::Firewall(FirewallCmd::Render { file }) => {
            let file = file.unwrap_or(paths.config);
            let (config, _) = edgeward_config::load(&file, edgeward_config::today())?;
            let ruleset = edgeward_firewall::render(&config)?;
            println!("{}", serde_json::to_string_pretty(&ruleset.transaction())?);
            Ok(0)
        }
        Command::Firewall(FirewallCmd::Diff { file }) => {
            config_cmd::firewall_diff(&paths, file.as_deref())
        }
        Command::Firewall(FirewallCmd::Counters { nonzero }) => {
            let counters = edgeward_firewall::counters()?;
            println!("{:<16} {:>12} {:>14}  rule", "chain", "packets", "bytes");
            for c in counters.iter().filter(|c| !nonzero || c.packets > 0) {
                println!(
                    "{:<16} {:>12} {:>14}  {}",
                    c.chain, c.packets, c.bytes, c.comment
                );
            }
            Ok(0)
        }
        Command::Logs { key_dir, cmd } => logs_cmd(&cli.state_dir.join("store"), &key_dir, cmd),
        Command::Ids {
            pcap,
            rules,
            eve,
            stats,
            home_net,
            check,
            nfqueue,
            fail_closed,
            bypass_mark,
            interface,
            seconds,
            cmd,
        } => {
            match cmd {
                Some(IdsCmd::Evidence { id, out, key_dir }) => {
                    return ids_cmd::evidence(
                        &edgeward_gateway::daemon::evidence_dir(&cli.state_dir.join("store")),
                        &key_dir,
                        id.as_deref(),
                        out.as_deref(),
                    );
                }
                Some(IdsCmd::Update { source, soc_dir }) => {
                    return ids_cmd::update(&source, &cli.config, &cli.state_dir, &soc_dir);
                }
                None => {}
            }
            let rules = rules.ok_or_else(|| anyhow::anyhow!("--rules DIR is required"))?;
            if check {
                return ids_cmd::check(&rules, &home_net);
            }
            if !interface.is_empty() {
                return ids_cmd::run_passive(
                    &interface,
                    &rules,
                    eve.as_deref(),
                    stats.as_deref(),
                    seconds,
                    &home_net,
                );
            }
            if let Some(queues) = nfqueue {
                return ids_cmd::run_inline(
                    &queues,
                    &rules,
                    !fail_closed,
                    bypass_mark,
                    eve.as_deref(),
                    stats.as_deref(),
                    seconds,
                    &home_net,
                );
            }
            let pcap =
                pcap.ok_or_else(|| anyhow::anyhow!("--pcap FILE is required (or --check)"))?;
            ids_cmd::run_pcap(&pcap, &rules, eve.as_deref(), stats.as_deref(), &home_net)
        }
        Command::Uplinks { json } => edgeward_gateway::uplinks::print_status(&cli.state_dir, json),
        Command::Devices(cmd) => {
            use edgeward_nac::inventory::Decision;
            let (mac, decision, author, reason) = match cmd {
                DevicesCmd::Approve {
                    mac,
                    zone,
                    user,
                    device_type,
                    serial,
                    note,
                    ip,
                    personal,
                    head_of_unit,
                    checked,
                    author,
                    reason,
                } => (
                    mac,
                    Decision::Approve {
                        zone,
                        user,
                        device_type,
                        serial,
                        note,
                        ip,
                        personal,
                        head_of_unit,
                        checklist: checked,
                        approved_by: author.clone(),
                    },
                    author,
                    reason,
                ),
                DevicesCmd::Block {
                    mac,
                    author,
                    reason,
                } => (mac, Decision::Block, author, reason),
                DevicesCmd::Quarantine {
                    mac,
                    ip,
                    author,
                    reason,
                } => (
                    mac,
                    Decision::Quarantine {
                        ip,
                        reason: reason.clone(),
                    },
                    author,
                    reason,
                ),
                DevicesCmd::Release {
                    mac,
                    author,
                    reason,
                } => (mac, Decision::Release, author, reason),
                DevicesCmd::Remove {
                    mac,
                    author,
                    reason,
                } => (mac, Decision::Remove, author, reason),
            };
            config_cmd::device_decision(&paths, &mac, &decision, &author, &reason)
        }
        Command::Accounts(cmd) => accounts_cmd(&cli.state_dir, cmd),
        Command::Update(cmd) => {
            let system = edgeward_update::slots::System::rooted(&cli.update_root, &cli.state_dir);
            match cmd {
                UpdateCmd::Status { json } => update_cmd::status(&system, json),
                UpdateCmd::Check { file } => update_cmd::check(&system, &file),
                UpdateCmd::Install {
                    file,
                    queued,
                    reboot,
                    author,
                } => update_cmd::install_cmd(&system, file, queued, &author, reboot),
                UpdateCmd::Rollback { reboot, author } => {
                    update_cmd::rollback_cmd(&system, &author, reboot)
                }
            }
        }
    }
}

#[derive(Subcommand)]
enum UpdateCmd {
    /// The running version and slot, and every boot entry with its state (good, trying, bad).
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Verify a bundle (signature, parts, version) without installing it.
    Check { file: PathBuf },
    /// Verify a bundle and install it into the inactive slot; it boots next, with 3 tries.
    Install {
        file: Option<PathBuf>,
        /// Install the bundle the admin UI or the SOC queued (the installer unit's call).
        #[arg(long, conflicts_with = "file")]
        queued: bool,
        /// Reboot into it once installed.
        #[arg(long)]
        reboot: bool,
        #[arg(long, default_value = "console")]
        author: String,
    },
    /// Boot the other slot's version from the next boot on.
    Rollback {
        #[arg(long)]
        reboot: bool,
        #[arg(long, default_value = "console")]
        author: String,
    },
}

#[derive(Subcommand)]
enum AccountsCmd {
    /// Every account with role and status.
    List,
    /// Unlock USER, give it a random temporary password and clear its TOTP (for a locked-out
    /// last administrator or a lost phone). The running daemon picks the change up and audits it.
    Recover { user: String },
}

fn accounts_cmd(state_dir: &std::path::Path, cmd: AccountsCmd) -> anyhow::Result<u8> {
    use edgeward_gateway::admin::accounts::AccountStore;
    let path = state_dir.join("accounts.json");
    let now = chrono::Utc::now();
    let mut store = AccountStore::open(&path, now)?;
    match cmd {
        AccountsCmd::List => {
            let policy = edgeward_config::AdminPolicy::default();
            println!(
                "{:<16} {:<16} {:<18} {:<6} full name",
                "user", "role", "status", "totp"
            );
            for a in store.list() {
                let s = a.summary(&policy, now);
                println!(
                    "{:<16} {:<16} {:<18} {:<6} {}",
                    s.username,
                    s.role.as_str(),
                    format!("{:?}", s.status).to_lowercase(),
                    if s.totp_enrolled { "yes" } else { "no" },
                    s.full_name
                );
            }
            Ok(0)
        }
        AccountsCmd::Recover { user } => {
            let temporary = store.recover(&user, now)?;
            store.save()?;
            println!("{user}: unlocked; temporary password {temporary}");
            println!("The next login must set a new password (and enrol TOTP for administrators).");
            Ok(0)
        }
    }
}

fn parse_time(s: &str, what: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| {
            anyhow::anyhow!("--{what} `{s}`: {e} (expected RFC 3339, e.g. 2026-11-22T00:00:00Z)")
        })
}

fn logs_cmd(
    store_dir: &std::path::Path,
    key_dir: &std::path::Path,
    cmd: LogsCmd,
) -> anyhow::Result<u8> {
    use edgeward_gateway::store;
    let keys = store::Keyring::open(key_dir)?;
    match cmd {
        LogsCmd::Verify => {
            let v = store::verify(store_dir, &keys)?;
            for f in &v.findings {
                println!(
                    "{} record {} (offset {}): {}",
                    f.segment, f.record, f.offset, f.what
                );
            }
            let range = match (v.first_seq, v.last_seq) {
                (Some(a), Some(b)) => format!("seq {a}..{b}"),
                _ => "no records".into(),
            };
            println!(
                "{} segments, {} records, {range}: {}",
                v.segments,
                v.records,
                if v.findings.is_empty() {
                    "intact".to_string()
                } else {
                    format!("{} problem(s)", v.findings.len())
                }
            );
            Ok(u8::from(!v.findings.is_empty()))
        }
        LogsCmd::Query {
            since,
            until,
            kind,
            text,
            limit,
        } => {
            let q = store::Query {
                since: since
                    .as_deref()
                    .map(|s| parse_time(s, "since"))
                    .transpose()?,
                until: until
                    .as_deref()
                    .map(|s| parse_time(s, "until"))
                    .transpose()?,
                kind,
                text,
                limit,
            };
            let stdout = std::io::stdout();
            store::query(store_dir, &keys, &q, &mut stdout.lock())?;
            Ok(0)
        }
        LogsCmd::Export { since, until, out } => {
            let q = store::Query {
                since: Some(parse_time(&since, "since")?),
                until: Some(parse_time(&until, "until")?),
                ..Default::default()
            };
            let mut f = std::io::BufWriter::new(std::fs::File::create(&out)?);
            let n = store::query(store_dir, &keys, &q, &mut f)?;
            use std::io::Write;
            f.flush()?;
            println!("{n} events written to {}", out.display());
            Ok(0)
        }
        LogsCmd::RotateKey => {
            let ring = keys.with_new_key()?;
            println!(
                "key {} is now current; the daemon uses it from its next segment",
                ring.current_id()
            );
            Ok(0)
        }
    }
}
