//! `edgeward-hub`: the provincial SOC's side — the CA and gateway enrolment, the hub that receives
//! every gateway's events over QUIC and relays them to the SIEM, and signing and pushing rule
//! bundles. Runs at the SOC; not part of the appliance.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use edgeward_hub::hub;

#[derive(Parser)]
#[command(
    name = "edgeward-hub",
    version,
    about = "The provincial SOC's hub for edgeward gateways: PKI, event intake, SIEM relay, rule bundles, device orders"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Push a vendor-signed system update bundle (.ewu) to gateways over their links; each
    /// checks the signature itself, queues it for its installer and answers.
    PushUpdate {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        bundle: PathBuf,
        #[arg(long, default_value = "all")]
        to: String,
        /// Wait this many seconds for every gateway's answer.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// (vendor) Create the update signing key pair in DIR: `update-signing.key` (0600, keep it
    /// offline) and `update-signing.pub` (goes into the image's /usr/share/edgeward/update-keys).
    UpdateKey {
        #[arg(long)]
        dir: PathBuf,
    },
    /// (vendor) Sign a system update bundle from an image build's root filesystem, kernel and
    /// initrd.
    SignUpdate {
        /// The signing key (`update-signing.key`).
        #[arg(long)]
        key: PathBuf,
        /// The image version the bundle carries (dot-separated numbers).
        #[arg(long)]
        version: String,
        /// Allow installing over a newer version (a signed rollback).
        #[arg(long)]
        rollback: bool,
        /// The kernel command line after `root=` (the installer names the slot).
        #[arg(long)]
        cmdline: String,
        #[arg(long)]
        root: PathBuf,
        #[arg(long)]
        kernel: PathBuf,
        #[arg(long)]
        initrd: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Create the SOC's CA and the hub's certificate in DIR.
    Init {
        #[arg(long)]
        dir: PathBuf,
        /// The name gateways use for the hub (`soc.server_name` in their config).
        #[arg(long)]
        server_name: String,
    },
    /// Issue GATEWAY's client certificate into OUT (copy it to the gateway's --soc-dir) and
    /// enroll it.
    Enroll {
        #[arg(long)]
        dir: PathBuf,
        gateway: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Run the hub: accept gateways, store their events, acknowledge them.
    Serve {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value = "[::]:7443")]
        listen: std::net::SocketAddr,
        /// Also relay every event to this SIEM (`host:port`, syslog over TLS, RFC 5425).
        #[arg(long)]
        relay: Option<String>,
        /// Name in the SIEM's certificate.
        #[arg(long, requires = "relay")]
        relay_server_name: Option<String>,
        /// CA of the SIEM's certificate (default: the SOC's CA).
        #[arg(long, requires = "relay")]
        relay_ca: Option<PathBuf>,
    },
    /// Which gateways are connected, and how far behind each is.
    Status {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Build a rule bundle from the `*.rules` files of RULES and sign it with the SOC's key.
    Bundle {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        rules: PathBuf,
        #[arg(long)]
        version: u64,
        #[arg(long, default_value = "ids", value_parser = ["ids", "ips"])]
        mode: String,
        /// Allow gateways to go back to this (older) version.
        #[arg(long)]
        rollback: bool,
        /// The gateways this bundle is for (`gw1,gw2`), or `all`; signed into the bundle.
        #[arg(long, default_value = "all")]
        targets: String,
        /// Canary period: the bundle's rules only alert for this many minutes after a gateway
        /// applies it, then its drop rules enforce.
        #[arg(long, default_value_t = 0)]
        canary_minutes: u32,
        /// A list of command-and-control indicators (`ip ADDR|PREFIX`, `domain NAME`,
        /// `ja3 MD5`, `ja3s MD5`, one a line) to add as `indicators.rules`.
        #[arg(long)]
        indicators: Option<PathBuf>,
        /// What the indicator rules do: alert, or drop (on gateways running inline).
        #[arg(long, default_value = "alert", value_parser = ["alert", "drop"])]
        indicators_action: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Order a gateway to quarantine or release one device (by MAC or address), signed with
    /// the SOC's key; the gateway records it as a configuration change by `soc`.
    Order {
        #[arg(long)]
        dir: PathBuf,
        /// The gateway (host id).
        #[arg(long)]
        to: String,
        #[arg(long, value_parser = ["quarantine", "release"])]
        action: String,
        #[arg(long)]
        mac: Option<String>,
        #[arg(long)]
        ip: Option<std::net::IpAddr>,
        #[arg(long)]
        reason: String,
        /// Who at the SOC decides.
        #[arg(long)]
        analyst: String,
        /// Wait this many seconds for the gateway's answer.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Push a signed bundle to one, several (`gw1,gw2`) or all enrolled gateways.
    Push {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        bundle: PathBuf,
        #[arg(long, default_value = "all")]
        to: String,
        /// Wait this many seconds for every gateway's answer.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse().command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("edgeward-hub: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cmd: Cmd) -> anyhow::Result<u8> {
    match cmd {
        Cmd::PushUpdate {
            dir,
            bundle,
            to,
            wait,
        } => hub::push_update(&dir, &bundle, &to, Duration::from_secs(wait)),
        Cmd::UpdateKey { dir } => {
            edgeward_update::manifest::make_signing_key(&dir)?;
            println!(
                "{}: update-signing.key (keep offline), update-signing.pub",
                dir.display()
            );
            Ok(0)
        }
        Cmd::SignUpdate {
            key,
            version,
            rollback,
            cmdline,
            root,
            kernel,
            initrd,
            out,
        } => {
            let manifest = edgeward_update::bundle::write(
                &edgeward_update::bundle::Contents {
                    version: version.parse()?,
                    rollback,
                    cmdline,
                    created: chrono::Utc::now(),
                    root: &root,
                    kernel: &kernel,
                    initrd: &initrd,
                },
                &key,
                &out,
            )?;
            println!(
                "{}: edgeward {}{}, {} bytes of parts",
                out.display(),
                manifest.version,
                if manifest.rollback { " (rollback)" } else { "" },
                manifest.parts.iter().map(|p| p.size).sum::<u64>()
            );
            Ok(0)
        }
        Cmd::Init { dir, server_name } => {
            edgeward_soc::pki::init(&dir, &server_name)?;
            println!(
                "SOC CA and hub certificate for {server_name} created in {}",
                dir.display()
            );
            Ok(0)
        }
        Cmd::Enroll { dir, gateway, out } => {
            edgeward_soc::pki::enroll(&dir, &gateway, &out)?;
            println!(
                "{gateway} enrolled; its certificate, key and the SOC CA are in {}",
                out.display()
            );
            Ok(0)
        }
        Cmd::Serve {
            dir,
            listen,
            relay,
            relay_server_name,
            relay_ca,
        } => {
            let relay = relay.map(|endpoint| hub::Relay {
                server_name: relay_server_name
                    .unwrap_or_else(|| endpoint.split(':').next().unwrap_or_default().to_string()),
                ca: relay_ca.unwrap_or_else(|| dir.join("ca.pem")),
                endpoint,
            });
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(hub::serve(dir, listen, relay))?;
            Ok(0)
        }
        Cmd::Status { dir } => hub::print_status(&dir),
        Cmd::Bundle {
            dir,
            rules,
            version,
            mode,
            rollback,
            targets,
            canary_minutes,
            indicators,
            indicators_action,
            out,
        } => {
            let mut extra = Vec::new();
            if let Some(path) = indicators {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                let list = edgeward_soc::indicators::parse(&text).map_err(|errors| {
                    anyhow::anyhow!(
                        "{}:\n{}",
                        path.display(),
                        errors
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("\n")
                    )
                })?;
                let rev = u32::try_from(version % u64::from(u32::MAX))
                    .unwrap_or(1)
                    .max(1);
                extra.push((
                    "indicators.rules".to_string(),
                    edgeward_soc::indicators::rules(&list, &indicators_action, rev),
                ));
            }
            let targets: Vec<String> = targets
                .split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect();
            let b = edgeward_soc::bundle::create_with_canary(
                &dir,
                &rules,
                version,
                &mode,
                rollback,
                &targets,
                canary_minutes,
                &extra,
            )?;
            std::fs::write(&out, serde_json::to_vec_pretty(&b)?)?;
            println!(
                "bundle v{version} ({} files) signed and written to {}",
                b.files.len(),
                out.display()
            );
            Ok(0)
        }
        Cmd::Order {
            dir,
            to,
            action,
            mac,
            ip,
            reason,
            analyst,
            wait,
        } => hub::order(
            &dir,
            &to,
            &action,
            mac,
            ip,
            &reason,
            &analyst,
            Duration::from_secs(wait),
        ),
        Cmd::Push {
            dir,
            bundle,
            to,
            wait,
        } => hub::push(&dir, &bundle, &to, Duration::from_secs(wait)),
    }
}
