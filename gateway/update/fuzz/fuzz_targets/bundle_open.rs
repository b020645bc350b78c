//! Any bytes as an uploaded or SOC-pushed update bundle: opening it (the tar, the manifest, the
//! signature check, the parts) never panics, and without the signing key nothing verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bundle.ewu");
    std::fs::write(&path, data).expect("write");
    // A fixed public key nobody holds the private half of.
    let keys = vec![vec![7u8; 32]];
    assert!(edgeward_update::bundle::open(&path, &keys).is_err());
    let _ = edgeward_update::bundle::open_manifest(&path, &keys);
});
