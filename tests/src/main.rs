//! `edgeward-lab`: the namespace lab as a program — `up` builds a simulated agency and starts
//! the gateway (`edgeward`) and the SOC (`edgeward-hub`) in it, `status` and `down` — plus the
//! lab's own helper servers (`serve`). Not part of the appliance.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use edgeward_lab::cli;

#[derive(Parser)]
#[command(
    name = "edgeward-lab",
    version,
    about = "The edgeward lab: a simulated agency in network namespaces with the gateway running"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build the lab and start the gateway in it; returns once it is ready.
    Up {
        #[arg(long, default_value = "ew")]
        prefix: String,
        /// Gateway configuration (default: the agency default profile).
        #[arg(long)]
        gateway_config: Option<PathBuf>,
        /// Extra argument for the gateway daemon (repeatable), e.g. `--gateway-arg=--poll-ms=500`.
        #[arg(long = "gateway-arg", allow_hyphen_values = true)]
        gateway_args: Vec<String>,
        /// Publish the admin UI on the host at https://localhost:PORT (0: do not).
        #[arg(long, default_value_t = 8443)]
        ui_port: u16,
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
    /// (lab helper) Relay TCP from the host into a namespace (the admin UI on localhost).
    #[command(hide = true)]
    Forward {
        #[arg(long)]
        listen: std::net::SocketAddr,
        #[arg(long)]
        ns: String,
        #[arg(long)]
        to: std::net::SocketAddr,
    },
    /// (lab helper) HTTP server that echoes who connected, or a TCP echo server.
    #[command(hide = true)]
    Serve {
        #[arg(long)]
        name: String,
        #[arg(long, required = true)]
        listen: Vec<std::net::SocketAddr>,
        /// Echo bytes back instead of answering HTTP.
        #[arg(long)]
        echo: bool,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Cmd::Up {
            prefix,
            gateway_config,
            gateway_args,
            ui_port,
        } => cli::up(&prefix, gateway_config.as_deref(), &gateway_args, ui_port),
        Cmd::Forward { listen, ns, to } => edgeward_lab::forward::serve(listen, &ns, to)
            .map(|()| 0)
            .map_err(anyhow::Error::from),
        Cmd::Down { prefix } => cli::down(&prefix),
        Cmd::Status { prefix, json } => cli::status(&prefix, json),
        Cmd::Serve { name, listen, echo } => {
            let served = if echo {
                edgeward_lab::whoami::serve_echo(&listen)
            } else {
                edgeward_lab::whoami::serve(&listen, &name)
            };
            served.map(|()| 0).map_err(anyhow::Error::from)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("edgeward-lab: {e:#}");
            ExitCode::from(1)
        }
    }
}
