//! Any frame off an internal segment through the DHCP reader, then (when it is a message)
//! through the fingerprint table and the rogue-server watch: nothing may panic, and a learned
//! hostname or vendor class holds only printable text.
#![no_main]

use edgeward_nac::oui::OuiTable;
use edgeward_nac::rogue::RogueWatch;
use edgeward_nac::seen::SeenTable;
use edgeward_nac::wire::parse_frame;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(seen) = parse_frame(data) else {
        return;
    };
    let mut table = SeenTable::default();
    table.observe(1, "lan0", Some("staff"), &seen, &OuiTable::default());
    for d in table.devices.values() {
        for text in [&d.hostname, &d.vendor_class].into_iter().flatten() {
            assert!(text.chars().all(|c| c.is_ascii_graphic() || c == ' '));
        }
    }
    let mut watch = RogueWatch::new(vec![], vec![], vec![], 60.0);
    let _ = watch.message(1.0, "lan0", &seen);
});
