//! `edgeward-soc`: the gateway's side of the provincial SOC, and the trust material both sides
//! share.
//!
//! - [`link`]: one outbound QUIC connection streaming events from the store, with acks and
//!   resume; [`proto`] is its message framing;
//! - [`backup_ship`]: the configuration backups shipped to the hub;
//! - [`syslog`]: RFC 5424 over TLS (RFC 5425) to the SOC's SIEM from the store;
//! - [`bundle`]: signed rule bundles — signing (at the SOC), verification and staged switch (on
//!   the gateway); [`indicators`]: the SOC's C2 indicator lists rendered as rules for a bundle;
//!   [`order`]: signed orders to quarantine or release a device; [`update_push`]: system update
//!   bundles the SOC pushes in chunks (signed by the vendor, checked by `edgeward-update`);
//! - [`pki`] and [`tls`]: the SOC CA, enrolment and the mutual-TLS configurations.
//!
//! The hub that receives all this is a separate program (`gateway/hub`, `edgeward-hub`), not
//! part of the appliance.

pub mod backup_ship;
pub mod bundle;
pub mod indicators;
pub mod link;
pub mod order;
pub mod pki;
pub mod proto;
pub mod syslog;
pub mod tls;
pub mod update_push;
