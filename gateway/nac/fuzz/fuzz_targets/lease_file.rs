//! Any text as dnsmasq's lease file (the daemon reads it every second; a disk error or a
//! half-written file must not stop it): parsing and diffing never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let now = edgeward_nac::leases::parse(&text);
    let _ = edgeward_nac::leases::diff(&edgeward_nac::leases::parse(""), &now);
});
