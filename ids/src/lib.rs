//! `edgeward-ids`: Suricata-compatible intrusion detection.
//!
//! So far this crate holds the alert output model ([`eve`]), which the gateway's event bus
//! carries, and the structural rule check ([`syntax`]) pushed rule bundles must pass; the rule
//! engine and packet path arrive with the IDS issue.

pub mod eve;
pub mod syntax;
