//! The daemon's subsystems, each following the configuration through the
//! [`Subsystem`](crate::reconcile::Subsystem) trait, in the order the daemon runs them.

pub mod bridges;
pub mod bundle_guard;
pub mod child;
pub mod dhcp;
pub mod dhcp_watch;
pub mod firewall;
pub mod ids;
pub mod ids_evidence;
pub mod ips_queue;
pub mod listeners;
pub mod network;
pub mod portal;
pub mod retention;
pub mod soc;
pub mod ssh;
pub mod timesync;
pub mod uplink_monitor;
pub mod wifi;
