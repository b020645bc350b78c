//! `edgeward`: the gateway daemon and its command-line interface.

use edgeward_gateway::{config_cmd, daemon, lab_cmd};

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
        /// Event journal (JSON lines); default STATE_DIR/events.jsonl.
        #[arg(long)]
        events: Option<PathBuf>,
        /// How often to check the config file for changes, in milliseconds.
        #[arg(long, default_value_t = 1000)]
        poll_ms: u64,
    },
    /// Check, compare, apply and roll back configurations.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Inspect the firewall edgeward renders.
    #[command(subcommand)]
    Firewall(FirewallCmd),
    /// Live state of the uplinks (health, per-target loss and latency).
    Uplinks {
        #[arg(long)]
        json: bool,
    },
    /// The namespace lab: a simulated agency with the gateway running.
    #[command(subcommand)]
    Lab(LabCmd),
    /// (lab helper) HTTP server that echoes who connected.
    #[command(hide = true)]
    LabServe {
        #[arg(long)]
        name: String,
        #[arg(long, required = true)]
        listen: Vec<std::net::SocketAddr>,
        /// Echo bytes back instead of answering HTTP.
        #[arg(long)]
        echo: bool,
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
    /// Confirm the change that is waiting for confirmation.
    Confirm {
        #[arg(long)]
        author: String,
    },
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

#[derive(Subcommand)]
enum LabCmd {
    /// Build the lab and start the gateway in it; returns once it is ready.
    Up {
        #[arg(long, default_value = "ew")]
        prefix: String,
        /// Gateway configuration (default: the agency default profile).
        #[arg(long)]
        gateway_config: Option<PathBuf>,
    },
    /// Stop the gateway and remove everything the lab made.
    Down {
        #[arg(long, default_value = "ew")]
        prefix: String,
    },
    /// Print the topology and what is reachable.
    Status {
        #[arg(long, default_value = "ew")]
        prefix: String,
        #[arg(long)]
        json: bool,
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
        Command::Run { events, poll_ms } => {
            let opts = daemon::RunOptions {
                events_path: events.unwrap_or_else(|| cli.state_dir.join("events.jsonl")),
                config_path: cli.config,
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
        Command::Uplinks { json } => edgeward_gateway::uplinks::print_status(&cli.state_dir, json),
        Command::Lab(cmd) => match cmd {
            LabCmd::Up {
                prefix,
                gateway_config,
            } => lab_cmd::up(&prefix, gateway_config.as_deref()),
            LabCmd::Down { prefix } => lab_cmd::down(&prefix),
            LabCmd::Status { prefix, json } => lab_cmd::status(&prefix, json),
        },
        Command::LabServe { name, listen, echo } => {
            if echo {
                edgeward_lab::whoami::serve_echo(&listen)?;
            } else {
                edgeward_lab::whoami::serve(&listen, &name)?;
            }
            Ok(0)
        }
    }
}
