//! `edgeward-capture`: live capture for the IDS. [`afpacket::Ring`] reads an interface through an
//! AF_PACKET TPACKET_V3 ring (blocks of frames shared with the kernel: no syscall and no copy per
//! packet) and joins a fanout group, so several worker threads each get whole flows (the kernel
//! spreads packets by flow hash). Kernel drops are read from the socket's statistics.
#![warn(missing_docs)]

pub mod afpacket;
pub mod evidence;
pub mod inline;
pub mod nfqueue;
pub mod pool;
pub mod reset;
mod workers;
pub mod zonefilter;
