//! `edgeward-ids`: Suricata-compatible intrusion detection.
//!
//! Data flow: rule files → [`loader`] (parse, skip with reasons) → [`ruleset`] (compiled
//! prefilters and rule groups) → [`engine`] (decode → flow → stream → app-layer → detect) →
//! alerts in Suricata's EVE shape ([`eve`]). [`reload`] swaps rulesets atomically.

pub mod addr;
pub mod app;
pub mod builtin;
pub mod decode;
pub mod defrag;
pub mod enforce;
pub mod engine;
pub mod flow;
pub mod inspect;
pub mod loader;
pub mod matcher;
pub mod offline;
pub mod reload;
pub mod rule;
pub mod ruleset;
pub mod scan;
pub mod stream;
pub mod syntax;
pub mod vars;
