//! `edgeward-wan`: the gateway's network layer and uplinks. A pure planner (config model →
//! addresses, routes, kernel settings) and a thin applier through iproute2.

pub mod apply;
pub mod plan;

pub use apply::{ApplyReport, NetError, apply};
pub use plan::{NetPlan, RouteKind, RouteSpec, plan};
