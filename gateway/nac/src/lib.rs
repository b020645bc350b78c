//! `edgeward-nac`: network access control inside the gateway. [`dhcp`] renders dnsmasq's
//! configuration (DHCP and DNS for the internal zones, static leases from the inventory) purely
//! from the model; [`leases`] reads dnsmasq's lease file and turns its changes into events
//! (lease, renewal, release), which go to the store and the SOC (003 §30.6.c); [`inventory`]
//! makes decisions about a device (approve, block, quarantine, release, remove) as edits of the
//! configuration; [`portal`] is the page a machine waiting for approval sees; [`wire`] reads
//! DHCP off the segments, from which [`seen`] learns each machine's fingerprint (with [`oui`]
//! naming its maker) and [`rogue`] finds servers that are not the gateway's; [`pending`] lists
//! the machines waiting for approval and [`timeline`] one device's history.
#![warn(missing_docs)]

pub mod bench;
pub mod dhcp;
pub mod inventory;
pub mod leases;
pub mod oui;
pub mod pending;
pub mod policy;
pub mod portal;
pub mod rogue;
pub mod seen;
pub mod timeline;
pub mod wire;
