//! `edgeward-event`: the one event model and the bus. Every producer — the IDS capture, the
//! firewall log reader, uplink health, the admin plane, the SOC link, NAC, Wi-Fi — depends on
//! this crate and emits into a [`bus::Bus`]; the daemon wires the bus to the sinks (journal,
//! encrypted store) and subscribers (UI, metrics). Nothing here depends on the daemon.
//!
//! - [`model`]: the envelope (time, host, sequence number) and the event kinds, as JSON lines;
//! - [`eve`]: IDS alerts in Suricata's EVE shape and the one timestamp format;
//! - [`bus`]: emitting (async, blocking for dedicated threads, or non-blocking for packet
//!   paths), ordered batches to sinks, live subscriptions.

pub mod bus;
pub mod eve;
pub mod model;

pub use bus::{Bus, Dispatch, EmitError, Sink, run_dispatcher};
pub use model::*;
