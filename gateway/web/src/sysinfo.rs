//! Facts about the machine the daemon runs on, read from the operating system (not from the
//! configuration): whether the clock is synchronised.

/// Whether the system clock is synchronised, as systemd reports it (if present).
pub fn ntp_state() -> String {
    match std::process::Command::new("timedatectl")
        .args(["show", "-p", "NTPSynchronized", "--value"])
        .output()
    {
        Ok(o) if o.status.success() => match String::from_utf8_lossy(&o.stdout).trim() {
            "yes" => "synchronised (NTP)".into(),
            "no" => "not synchronised".into(),
            other => other.to_string(),
        },
        _ => "unknown (timedatectl not available)".into(),
    }
}
