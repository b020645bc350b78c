//! Facts about the machine the daemon runs on, read from the operating system and the daemon's
//! status files (not from the configuration): whether the clock is synchronised.

use serde::Deserialize;

use crate::i18n::Lang;

/// The part of the time subsystem's `STATE/time-status.json` the page shows.
#[derive(Debug, Default, Deserialize)]
struct TimeStatus {
    #[serde(default)]
    servers: Vec<String>,
    #[serde(default)]
    running: bool,
    #[serde(default)]
    tracking: Option<Tracking>,
    #[serde(default)]
    limit_ms: u32,
    #[serde(default)]
    alarm: bool,
}

#[derive(Debug, Deserialize)]
struct Tracking {
    reference: String,
    stratum: u32,
    offset_ms: f64,
    leap: String,
}

/// The clock's synchronisation state in words: source, offset and stratum when synchronised,
/// else why not (no server configured, chronyd not running, no usable source yet).
pub fn ntp_state(state_dir: &std::path::Path, lang: Lang) -> String {
    let status: TimeStatus = std::fs::read(state_dir.join("time-status.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    if status.servers.is_empty() {
        return lang.t("ntp.no_server").to_string();
    }
    if !status.running {
        return lang.t("ntp.not_running").to_string();
    }
    match status.tracking {
        Some(t) if t.leap != "Not synchronised" && t.stratum > 0 && t.stratum < 16 => format!(
            "{} {} ({} {:.1} ms, {} {}){}",
            lang.t("ntp.synced_to"),
            t.reference,
            lang.t("ntp.offset"),
            t.offset_ms.abs(),
            lang.t("ntp.stratum"),
            t.stratum,
            if status.alarm {
                format!(" — {} {} ms", lang.t("ntp.over_limit"), status.limit_ms)
            } else {
                String::new()
            }
        ),
        _ => format!(
            "{} ({})",
            lang.t("ntp.not_synced"),
            status.servers.join(", ")
        ),
    }
}
