//! `edgeward-store`: the sinks that keep events. [`store`] is the encrypted event store
//! (AES-256-GCM records in hash-chained segments, keys apart from the data, verify, typed
//! queries, retention, crash recovery) that the SOC link and syslog forwarder read from;
//! [`journal`] is the plain JSON-lines journal for the lab and debugging; [`cursor`] keeps how
//! far each reader has got.

pub mod cursor;
pub mod evidence;
pub mod journal;
pub mod store;
