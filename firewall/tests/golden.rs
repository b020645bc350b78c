//! Golden tests in the style of OpenWrt's fw4 suite: a configuration in, the whole ruleset out
//! as the kernel prints it (`nft list table`, loaded into a throw-away namespace), compared with
//! the file in `tests/golden/`. A change to the renderer shows up here as a reviewed diff of nft
//! text. Regenerate after an intended change with `EDGEWARD_UPDATE_GOLDEN=1 cargo test -p
//! edgeward-firewall --test golden` and review the diff. Needs root (`unshare --net`) and `nft`.

use std::path::PathBuf;

use edgeward_config::AGENCY_DEFAULT_PROFILE;

fn golden(name: &str, config_text: &str) {
    if !nix_root() {
        eprintln!("skipping {name}: needs root for a scratch network namespace");
        return;
    }
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let config = edgeward_config::parse(config_text, name, today).unwrap_or_else(|p| panic!("{p}"));
    let ruleset = edgeward_firewall::render(&config).unwrap();
    let text = edgeward_firewall::kernel_text(&ruleset).unwrap();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.nft"));
    if std::env::var_os("EDGEWARD_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (EDGEWARD_UPDATE_GOLDEN=1 writes it)",
            path.display()
        )
    });
    if expected != text {
        let diff = similar::TextDiff::from_lines(&expected, &text)
            .unified_diff()
            .context_radius(2)
            .header("expected", "rendered")
            .to_string();
        panic!(
            "{name}: the ruleset differs from {} — review, then EDGEWARD_UPDATE_GOLDEN=1:\n{diff}",
            path.display()
        );
    }
}

fn nix_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn edited(from: &str, to: &str) -> String {
    assert_eq!(AGENCY_DEFAULT_PROFILE.matches(from).count(), 1, "{from}");
    AGENCY_DEFAULT_PROFILE.replacen(from, to, 1)
}

/// The agency default profile: every zone, policy, uplink and device of the product's default.
#[test]
fn agency_default_profile() {
    golden("agency-default", AGENCY_DEFAULT_PROFILE);
}

/// Edge case: a device moved to quarantine and another let out to the Internet (set members
/// only), and the admin UI also on the staff LAN.
#[test]
fn moved_device_override_and_staff_admin() {
    let text = edited(
        "serial = \"HP-PD-400-0012\"",
        "serial = \"HP-PD-400-0012\"\nmove_to = \"quarantine\"",
    )
    .replacen(
        "note = \"Máy in tầng 2\"",
        "note = \"Máy in tầng 2\"\ninternet = true",
        1,
    )
    .replacen(
        "admin_zones = [\"mgmt\"]",
        "admin_zones = [\"mgmt\", \"staff\"]",
        1,
    );
    golden("moved-device-staff-admin", &text);
}

/// Edge case: no reverse-path check and no MSS clamping.
#[test]
fn without_rpf_and_mss_clamp() {
    let text = edited("reverse_path_check = true", "reverse_path_check = false").replacen(
        "mss_clamp = true",
        "mss_clamp = false",
        1,
    );
    golden("no-rpf-no-clamp", &text);
}
