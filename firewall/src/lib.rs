//! `edgeward-firewall`: the zone firewall. A pure renderer (config model → nftables ruleset in
//! the `inet edgeward` table), a thin applier that hands it to `nft` as one transaction (or
//! updates set membership only), and the NFLOG reader for logged packets.

pub mod apply;
pub mod bridge;
pub mod nflog;
pub mod nft;
pub mod render;

pub use apply::{
    Applied, ApplyError, RuleCounter, apply, apply_change, check, counters, current_text,
    kernel_text,
};
pub use render::{
    CONN_PREFIX, LOG_GROUP_CONN, LOG_GROUP_DENY, LOG_GROUP_RATE, LogRule, RenderError, Ruleset,
    render, render_for,
};
