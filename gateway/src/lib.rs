//! `edgeward-gateway`: the daemon and CLI. It wires the libraries (config, firewall, wan, ids)
//! together: the reconcile loop, the event bus and its sinks, metrics, and the lab commands.

pub mod admin;
pub mod bus;
pub mod config_cmd;
pub mod daemon;
pub mod event;
pub mod fwlog;
pub mod ids_cmd;
pub mod journal;
pub mod lab_cmd;
pub mod metrics;
pub mod soc;
pub mod store;
pub mod syslog;
pub mod uplinks;
