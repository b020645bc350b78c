//! Update bundles against a system laid out in a temporary directory (slot "partitions" are
//! files): signed bundles install into the inactive slot with a try counter; tampered,
//! foreign-signed, truncated, padded and downgrading bundles are refused before a byte is
//! written (000 §8.1.đ: the system is changed only by verified software; 003 §20.2.b).

use std::path::{Path, PathBuf};

use edgeward_update::UpdateError;
use edgeward_update::bundle::{self, Contents};
use edgeward_update::install;
use edgeward_update::manifest::{self, ImageVersion};
use edgeward_update::slots::{Slot, System};
use proptest::prelude::*;

const SLOT_SIZE: usize = 1 << 20;

struct Box {
    _dir: tempfile::TempDir,
    root: PathBuf,
    system: System,
    vendor: PathBuf,
}

fn factory_box(booted: Slot, version: &str) -> Box {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    for d in [
        "esp/EFI/Linux",
        "esp/loader/entries",
        "dev",
        "keys",
        "vendor",
        "state",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("dev/edgeward-a"), vec![0xA5; SLOT_SIZE]).unwrap();
    std::fs::write(root.join("dev/edgeward-b"), vec![0u8; SLOT_SIZE]).unwrap();
    std::fs::write(
        root.join(format!("esp/EFI/Linux/edgeward_{version}.efi")),
        b"uki",
    )
    .unwrap();
    std::fs::write(
        root.join("cmdline"),
        format!("root=PARTLABEL={} ro quiet\n", booted.label()),
    )
    .unwrap();
    std::fs::write(
        root.join("os-release"),
        format!("ID=debian\nIMAGE_ID=edgeward\nIMAGE_VERSION={version}\n"),
    )
    .unwrap();
    manifest::make_signing_key(&root.join("vendor")).unwrap();
    std::fs::copy(
        root.join("vendor/update-signing.pub"),
        root.join("keys/vendor.pub"),
    )
    .unwrap();
    let system = System {
        esp: root.join("esp"),
        partitions: root.join("dev"),
        cmdline: root.join("cmdline"),
        os_release: root.join("os-release"),
        keys: root.join("keys"),
        state: root.join("state"),
        tries: 3,
    };
    Box {
        vendor: root.join("vendor/update-signing.key"),
        _dir: dir,
        root,
        system,
    }
}

fn make_bundle(b: &Box, version: &str, rollback: bool, key: &Path, seed: u8) -> PathBuf {
    let parts = b.root.join(format!("parts-{version}"));
    std::fs::create_dir_all(&parts).unwrap();
    let root_fs: Vec<u8> = (0..300_000u32).map(|i| (i as u8) ^ seed).collect();
    std::fs::write(parts.join("root.erofs"), &root_fs).unwrap();
    std::fs::write(parts.join("vmlinuz"), format!("kernel {version}")).unwrap();
    std::fs::write(parts.join("initrd"), format!("initrd {version}")).unwrap();
    let out = b.root.join(format!("edgeward-{version}.ewu"));
    bundle::write(
        &Contents {
            version: version.parse().unwrap(),
            rollback,
            cmdline: "ro console=ttyS0".into(),
            created: chrono::Utc::now(),
            root: &parts.join("root.erofs"),
            kernel: &parts.join("vmlinuz"),
            initrd: &parts.join("initrd"),
        },
        key,
        &out,
    )
    .unwrap();
    out
}

fn keys(b: &Box) -> Vec<Vec<u8>> {
    manifest::trusted_keys(&b.system.keys).unwrap()
}

fn slot_bytes(b: &Box, slot: Slot) -> Vec<u8> {
    std::fs::read(b.system.device(slot)).unwrap()
}

fn boot(b: &Box, slot: Slot, version: &str) {
    std::fs::write(
        &b.system.cmdline,
        format!("root=PARTLABEL={} ro\n", slot.label()),
    )
    .unwrap();
    std::fs::write(&b.system.os_release, format!("IMAGE_VERSION={version}\n")).unwrap();
}

fn install_file(b: &Box, path: &Path) -> Result<install::Installed, UpdateError> {
    let verified = bundle::open(path, &keys(b))?;
    bundle::check_version(&verified.manifest, &b.system.running_version()?)?;
    install::install(&b.system, &verified, &mut |_| {})
}

/// A signed, newer bundle lands in the inactive slot, read back against its hash, with an entry
/// that boots slot B three times at most before systemd-boot falls back (003 §20.2.b).
#[test]
fn signed_update_installs_into_the_inactive_slot_with_three_tries() {
    let b = factory_box(Slot::A, "0.1.1");
    let path = make_bundle(&b, "0.1.2", false, &b.vendor, 7);
    let installed = install_file(&b, &path).unwrap();
    assert_eq!(installed.slot, Slot::B);
    assert_eq!(installed.entry, "edgeward_0.1.2+3.conf");
    let slot = slot_bytes(&b, Slot::B);
    assert_eq!(slot.len(), SLOT_SIZE, "the slot is not resized");
    let expected: Vec<u8> = (0..300_000u32).map(|i| (i as u8) ^ 7).collect();
    assert_eq!(&slot[..expected.len()], &expected[..]);
    assert_eq!(
        slot_bytes(&b, Slot::A),
        vec![0xA5; SLOT_SIZE],
        "the running slot is untouched"
    );
    let entry =
        std::fs::read_to_string(b.system.esp.join("loader/entries/edgeward_0.1.2+3.conf")).unwrap();
    assert!(
        entry.contains("options root=PARTLABEL=edgeward-b ro console=ttyS0"),
        "{entry}"
    );
    assert!(entry.contains("linux /edgeward/0.1.2/vmlinuz"), "{entry}");
    assert_eq!(
        std::fs::read_to_string(b.system.esp.join("edgeward/0.1.2/vmlinuz")).unwrap(),
        "kernel 0.1.2"
    );
    let status = install::status(&b.system);
    assert_eq!(status.running_slot, Some(Slot::A));
    assert_eq!(
        status.entries[0].version, "0.1.2",
        "the new version boots next"
    );
    assert_eq!(status.entries[0].state, "trying");
    assert_eq!(status.entries[1].version, "0.1.1");
}

/// Once the new version runs from B, the next update goes to A, replacing the factory image's
/// entry, and the B entry (blessed) stays as the fallback.
#[test]
fn the_next_update_replaces_the_older_slot() {
    let b = factory_box(Slot::A, "0.1.1");
    install_file(&b, &make_bundle(&b, "0.1.2", false, &b.vendor, 1)).unwrap();
    // systemd-bless-boot after a good boot of 0.1.2 from B.
    std::fs::rename(
        b.system.esp.join("loader/entries/edgeward_0.1.2+3.conf"),
        b.system.esp.join("loader/entries/edgeward_0.1.2.conf"),
    )
    .unwrap();
    boot(&b, Slot::B, "0.1.2");
    let installed = install_file(&b, &make_bundle(&b, "0.1.3", false, &b.vendor, 2)).unwrap();
    assert_eq!(installed.slot, Slot::A);
    assert!(
        !b.system.esp.join("EFI/Linux/edgeward_0.1.1.efi").exists(),
        "the factory entry for slot A is gone"
    );
    let versions: Vec<(String, Slot, &str)> = install::status(&b.system)
        .entries
        .iter()
        .map(|e| (e.version.clone(), e.slot, e.state))
        .collect();
    assert_eq!(
        versions,
        vec![
            ("0.1.3".into(), Slot::A, "trying"),
            ("0.1.2".into(), Slot::B, "good")
        ]
    );
}

/// A bundle altered after signing — one byte of the root filesystem — is refused, and neither
/// the slot nor the boot entries change (fail closed; 000 §8.1.đ).
#[test]
fn a_tampered_bundle_is_refused_before_anything_is_written() {
    let b = factory_box(Slot::A, "0.1.1");
    let path = make_bundle(&b, "0.1.2", false, &b.vendor, 3);
    let mut bytes = std::fs::read(&path).unwrap();
    // The root filesystem starts after three 512-byte headers plus the two small entries.
    let at = bytes.len() / 3;
    bytes[at] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let before_b = slot_bytes(&b, Slot::B);
    let err = install_file(&b, &path).unwrap_err();
    assert!(matches!(err, UpdateError::PartMismatch { .. }), "{err}");
    assert!(err.to_string().contains("nothing was written"), "{err}");
    assert_eq!(slot_bytes(&b, Slot::B), before_b);
    assert!(
        std::fs::read_dir(b.system.esp.join("loader/entries"))
            .unwrap()
            .next()
            .is_none()
    );
    assert!(b.system.esp.join("EFI/Linux/edgeward_0.1.1.efi").exists());
}

/// A bundle signed with a key the box does not trust is refused with the signature error.
#[test]
fn a_foreign_signed_bundle_is_refused() {
    let b = factory_box(Slot::A, "0.1.1");
    let other = b.root.join("other");
    manifest::make_signing_key(&other).unwrap();
    let path = make_bundle(&b, "0.1.2", false, &other.join("update-signing.key"), 4);
    let err = install_file(&b, &path).unwrap_err();
    assert!(matches!(err, UpdateError::BadSignature), "{err}");
    assert_eq!(slot_bytes(&b, Slot::B), vec![0u8; SLOT_SIZE]);
}

/// Editing the manifest (here: raising the version so an old image passes as new) breaks the
/// signature.
#[test]
fn an_edited_manifest_breaks_the_signature() {
    let b = factory_box(Slot::A, "0.1.1");
    let path = make_bundle(&b, "0.1.2", false, &b.vendor, 5);
    let mut bytes = std::fs::read(&path).unwrap();
    let text = b"\"version\": \"0.1.2\"";
    let at = bytes.windows(text.len()).position(|w| w == text).unwrap();
    bytes[at + text.len() - 2] = b'9';
    std::fs::write(&path, &bytes).unwrap();
    let err = install_file(&b, &path).unwrap_err();
    assert!(matches!(err, UpdateError::BadSignature), "{err}");
}

/// Versions only go up: the running version and older ones are refused unless the vendor signed
/// the bundle as a rollback.
#[test]
fn versions_are_monotonic_unless_a_signed_rollback() {
    let b = factory_box(Slot::A, "0.1.5");
    for old in ["0.1.5", "0.1.4"] {
        let err = install_file(&b, &make_bundle(&b, old, false, &b.vendor, 6)).unwrap_err();
        assert!(matches!(err, UpdateError::NotNewer { .. }), "{old}: {err}");
    }
    let installed = install_file(&b, &make_bundle(&b, "0.1.3", true, &b.vendor, 6)).unwrap();
    assert_eq!(installed.version, "0.1.3".parse::<ImageVersion>().unwrap());
}

/// Truncated bundles and bundles with something after the last part are refused.
#[test]
fn truncated_and_padded_bundles_are_refused() {
    let b = factory_box(Slot::A, "0.1.1");
    let path = make_bundle(&b, "0.1.2", false, &b.vendor, 8);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert!(install_file(&b, &path).is_err());

    let path = make_bundle(&b, "0.1.3", false, &b.vendor, 8);
    let extra = b.root.join("extra");
    std::fs::write(&extra, b"#!/bin/sh\nevil\n").unwrap();
    let mut tar = tar::Builder::new(
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap(),
    );
    // Appending past the end-of-archive blocks is ignored by readers; rewrite without them.
    drop(tar);
    let mut bytes = std::fs::read(&path).unwrap();
    while bytes.ends_with(&[0u8; 512]) {
        bytes.truncate(bytes.len() - 512);
    }
    std::fs::write(&path, &bytes).unwrap();
    tar = tar::Builder::new(
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap(),
    );
    tar.append_path_with_name(&extra, "postinst.sh").unwrap();
    tar.finish().unwrap();
    let err = install_file(&b, &path).unwrap_err();
    assert!(err.to_string().contains("postinst.sh"), "{err}");
}

/// A rollback marks the running version's entry spent, so the other slot boots next; with
/// nothing bootable in the other slot it is refused.
#[test]
fn rollback_boots_the_other_slot_next() {
    let b = factory_box(Slot::A, "0.1.1");
    let err = install::rollback(&b.system).unwrap_err();
    assert!(err.to_string().contains("nothing to roll back to"), "{err}");
    install_file(&b, &make_bundle(&b, "0.1.2", false, &b.vendor, 9)).unwrap();
    std::fs::rename(
        b.system.esp.join("loader/entries/edgeward_0.1.2+3.conf"),
        b.system.esp.join("loader/entries/edgeward_0.1.2.conf"),
    )
    .unwrap();
    boot(&b, Slot::B, "0.1.2");
    let back = install::rollback(&b.system).unwrap();
    assert_eq!(
        (back.to.to_string(), back.slot),
        ("0.1.1".to_string(), Slot::A)
    );
    let status = install::status(&b.system);
    assert_eq!(status.entries[0].version, "0.1.1");
    assert!(status.entries[0].default);
    assert_eq!(status.entries[1].state, "bad");
    assert!(
        b.system
            .esp
            .join("loader/entries/edgeward_0.1.2+0-3.conf")
            .exists()
    );
}

/// Refused outside an appliance: no edgeward slot on the kernel command line.
#[test]
fn install_refuses_a_system_not_booted_from_a_slot() {
    let b = factory_box(Slot::A, "0.1.1");
    std::fs::write(&b.system.cmdline, "root=/dev/sda1 ro\n").unwrap();
    let err = install_file(&b, &make_bundle(&b, "0.1.2", false, &b.vendor, 1)).unwrap_err();
    assert!(matches!(err, UpdateError::Slot(_)), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    /// Any single changed byte in the signed region or the parts is refused; a changed byte
    /// anywhere never panics and never yields a bundle whose parts differ from the signed ones.
    #[test]
    fn any_flipped_byte_fails_closed(position in 0.0f64..1.0, flip in 1u8..=255) {
        let b = factory_box(Slot::A, "0.1.1");
        let path = make_bundle(&b, "0.1.2", false, &b.vendor, 10);
        let original = bundle::open(&path, &keys(&b)).unwrap().manifest;
        let mut bytes = std::fs::read(&path).unwrap();
        let at = ((bytes.len() - 1) as f64 * position) as usize;
        bytes[at] ^= flip;
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(v) = bundle::open(&path, &keys(&b)) {
            // Only bytes outside the signed content (tar header metadata, padding) may change.
            prop_assert_eq!(v.manifest, original);
        }
    }
}
