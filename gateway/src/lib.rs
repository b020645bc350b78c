//! `edgeward-gateway`: the daemon and CLI. It wires the libraries (config, firewall, wan, ids)
//! together: the reconcile loop, the event bus and its sinks, metrics, and the lab commands.

pub mod config_cmd;
pub mod connwatch;
pub mod daemon;
pub mod fwlog;
pub mod ids_cmd;
pub mod metrics;
pub mod nac_policy;
pub mod reconcile;
pub mod subsystems;
pub mod update_cmd;
pub mod update_watch;
pub mod uplinks;

// The event model and bus live in their own crate (`gateway/event`) that every producer depends
// on; these names keep the daemon's modules and the tests reading as before.
pub use edgeward_event::bus;
pub use edgeward_event::model as event;
pub use edgeward_soc as soc;
pub use edgeward_soc::syslog;
pub use edgeward_store::{journal, store};
pub use edgeward_web as admin;
