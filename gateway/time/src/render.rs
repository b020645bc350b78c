//! chrony's configuration from the model: the servers in order (the first preferred), NTP
//! service for the hosts of the serving zones only, the command port on loopback only (the
//! daemon asks it for its tracking report), nothing else listening.

use std::fmt::Write;
use std::path::Path;

use edgeward_config::Config;

/// What the rendered file makes chronyd do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChronyConfig {
    pub text: String,
    /// Whether chronyd should run at all (some server or some zone to serve).
    pub needed: bool,
}

/// Render for `config`; runtime files (pid) under `dir`. With `set_clock`, chronyd steps and
/// slews the system clock and keeps the hardware clock in sync; without it (the lab), it only
/// measures and serves.
pub fn render(config: &Config, dir: &Path, set_clock: bool) -> ChronyConfig {
    let t = &config.time;
    let mut text =
        String::from("# Rendered by edgeward from [time]; changes here are overwritten.\n");
    for (i, server) in t.servers.iter().enumerate() {
        let prefer = if i == 0 { " prefer" } else { "" };
        let _ = writeln!(text, "server {server} iburst{prefer}");
    }
    let _ = writeln!(text, "pidfile {}", dir.join("chronyd.pid").display());
    text.push_str("bindcmdaddress 127.0.0.1\nbindcmdaddress /\ncmdallow 127.0.0.1\n");
    if set_clock {
        text.push_str("driftfile /var/lib/chrony/chrony.drift\nmakestep 1.0 3\nrtcsync\n");
    }
    let mut served = Vec::new();
    for zone in t.serve_zones.iter().filter_map(|z| config.zone(z)) {
        for prefix in &zone.prefixes {
            let _ = writeln!(text, "allow {prefix}");
            served.push(prefix);
        }
    }
    if served.is_empty() {
        // No `allow`: chronyd opens no NTP server port.
        text.push_str("# no zone is served: no NTP server port\n");
    }
    ChronyConfig {
        needed: !t.servers.is_empty() || !served.is_empty(),
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        let text = format!("{}\n{extra}", edgeward_config::AGENCY_DEFAULT_PROFILE);
        edgeward_config::parse(&text, "t.toml", edgeward_config::today()).expect("profile parses")
    }

    #[test]
    fn servers_in_order_and_only_the_serving_zones_allowed() {
        let c = config(
            "[time]\nservers = [\"10.9.0.1\", \"ntp.example.vn\"]\nserve_zones = [\"staff\"]\n",
        );
        let r = render(&c, Path::new("/run/x"), true);
        assert!(r.needed);
        let servers: Vec<&str> = r
            .text
            .lines()
            .filter(|l| l.starts_with("server "))
            .collect();
        assert_eq!(
            servers,
            [
                "server 10.9.0.1 iburst prefer",
                "server ntp.example.vn iburst"
            ]
        );
        let staff = c.zone("staff").unwrap();
        let allows: Vec<String> = r
            .text
            .lines()
            .filter(|l| l.starts_with("allow "))
            .map(str::to_string)
            .collect();
        assert_eq!(
            allows,
            staff
                .prefixes
                .iter()
                .map(|p| format!("allow {p}"))
                .collect::<Vec<_>>()
        );
        assert!(
            r.text
                .contains("bindcmdaddress 127.0.0.1\nbindcmdaddress /\n")
        );
        assert!(r.text.contains("makestep") && r.text.contains("rtcsync"));
    }

    #[test]
    fn without_servers_or_zones_chronyd_is_not_needed_and_the_lab_does_not_touch_the_clock() {
        let c = config("");
        let r = render(&c, Path::new("/run/x"), false);
        assert!(!r.needed);
        assert!(!r.text.lines().any(|l| l.starts_with("allow ")));
        assert!(!r.text.contains("makestep") && !r.text.contains("rtcsync"));
    }
}
