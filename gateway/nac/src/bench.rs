//! An agency-sized inventory for the benchmarks (`examples/bench_nac.rs`, the lab's 5,000-device
//! approval in `scripts/bench-nac.sh`): the default profile with generated staff devices.

use std::fmt::Write as _;

/// The agency profile with `n` more devices in the staff zone (51 with fixed addresses, one in
/// 50 blocked, the rest on DHCP), as an agency inventory looks.
pub fn agency_with_devices(n: usize) -> String {
    let mut text = edgeward_config::AGENCY_DEFAULT_PROFILE.to_string();
    for i in 0..n {
        let mac = format!(
            "00:16:3e:{:02x}:{:02x}:{:02x}",
            (i >> 16) & 0xff,
            (i >> 8) & 0xff,
            i & 0xff
        );
        let _ = write!(
            text,
            "\n[[devices]]\nuser = \"Cán bộ {i}\"\ntype = \"pc\"\nserial = \"SN-{i:06}\"\nmac = \"{mac}\"\nzone = \"staff\"\n"
        );
        if i < 51 {
            let _ = writeln!(text, "ip = \"10.10.0.{}\"", 200 + i);
        }
        if i % 50 == 49 {
            let _ = writeln!(text, "status = \"blocked\"");
        }
    }
    text
}
