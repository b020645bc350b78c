//! `edgeward-firewall`: the zone firewall. A pure renderer (config model → nftables ruleset in
//! the `inet edgeward` table) and a thin applier that hands it to `nft` as one transaction.

pub mod apply;
pub mod nft;
pub mod render;

pub use apply::{ApplyError, apply, check, current_text};
pub use render::{RenderError, Ruleset, render};
