//! Configuration texts as the admin API receives them: parsing and validation report problems,
//! never panic; hiding secrets is idempotent and restoring them never panics.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

static RUNNING: LazyLock<edgeward_config::Config> = LazyLock::new(|| {
    let text = format!(
        "{}\n[[wifi]]\nssid = \"Khach\"\nzone = \"guest\"\nsecurity = \"wpa2-wpa3\"\npassphrase = \"mot-hai-ba-bon\"\npassphrase_changed = \"{}\"\n",
        edgeward_config::AGENCY_DEFAULT_PROFILE,
        edgeward_config::today()
    );
    edgeward_config::parse(&text, "running", edgeward_config::today()).expect("profile is valid")
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = edgeward_config::parse(text, "fuzz", edgeward_config::today());
    let hidden = edgeward_config::secrets::redact(text);
    assert_eq!(edgeward_config::secrets::redact(&hidden), hidden);
    let restored = edgeward_config::secrets::restore(text, Some(&RUNNING));
    let _ = edgeward_config::parse(&restored, "fuzz", edgeward_config::today());
});
