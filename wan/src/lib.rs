//! `edgeward-wan`: the gateway's network layer and uplinks.
//!
//! Pure parts: the planner (config + healthy uplinks → addresses, per-uplink routing tables,
//! fwmark rules, the main default route, kernel settings) and the health judge (probe results →
//! up/down with hysteresis). Kernel parts: the iproute2 applier, probes bound to one uplink,
//! the rtnetlink link monitor and the conntrack flush.

pub mod apply;
pub mod conntrack;
pub mod health;
pub mod link;
pub mod plan;
pub mod probe;
pub mod status;

pub use apply::{ApplyReport, NetError, apply};
pub use plan::{NetPlan, RouteKind, RouteSpec, plan, uplink_mark, uplink_table};
