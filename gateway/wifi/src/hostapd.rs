//! One hostapd configuration for one radio: the radio's settings, then one BSS per SSID.
//!
//! Security is fixed by the mode, never by free-form options: RSN (WPA2) only, CCMP only — no
//! WPA1, no TKIP, no WEP, no open network. WPA3 is SAE with management frame protection
//! required, groups 19/20/21 and hash-to-element offered; the WPA2/WPA3 transition mode offers
//! both with PMF optional, and SAE clients must use it. Beacon protection is on wherever PMF is.
//! WPA2 passphrases live in a `wpa_psk_file` (rotated by `RELOAD_WPA_PSK`, without a restart);
//! SAE passwords are in the configuration itself.

use std::fmt::Write;

use edgeward_config::WifiSecurity;

/// The radio: its wireless interface, band, channel and country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RadioSpec {
    /// The wireless interface hostapd drives (the first BSS takes this name).
    pub interface: String,
    /// `g` (2.4 GHz) or `a` (5 GHz).
    pub hw_mode: char,
    pub channel: u16,
    /// ISO 3166 country, for the regulatory domain (`VN`).
    pub country: String,
    /// Where hostapd puts its control sockets (one per BSS).
    pub ctrl_dir: String,
    /// `nl80211` on the appliance; `none` to check a configuration without a radio.
    pub driver: String,
}

/// One SSID on the radio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bss {
    /// The BSS's interface (`wlan0` for the first, `wlan0-1`… for the others).
    pub ifname: String,
    pub ssid: String,
    /// The zone the SSID belongs to, and that zone's bridge.
    pub zone: String,
    pub bridge: String,
    pub security: WifiSecurity,
    /// The WPA2 passphrase file (`wpa_psk_file`), for WPA2 and transition mode.
    pub psk_file: Option<String>,
    /// The SAE password, for WPA3 and transition mode.
    pub sae_password: Option<String>,
    /// Clients of this SSID do not reach each other through the access point.
    pub isolate: bool,
    /// Off the air for clients: its passphrase is overdue and the admin chose to block it then.
    /// The BSS stays (its interface name and bridge port stay stable) but beacons no name and
    /// accepts no station.
    pub withheld: bool,
}

/// Why a configuration cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("Wi-Fi `{0}` is open: edgeward serves only WPA2 or WPA3 networks")]
    Open(String),
    #[error("Wi-Fi `{0}` lacks its {1}")]
    MissingSecret(String, &'static str),
    #[error("`{0}` cannot be written into a hostapd configuration (line break or NUL)")]
    Unwritable(String),
    #[error("a radio without any SSID")]
    Empty,
}

fn safe(value: &str) -> Result<&str, RenderError> {
    if value.contains(['\n', '\r', '\0']) {
        Err(RenderError::Unwritable(value.to_string()))
    } else {
        Ok(value)
    }
}

/// The configuration of `radio` serving `bsses` (the first is the radio's own interface).
pub fn render(radio: &RadioSpec, bsses: &[Bss]) -> Result<String, RenderError> {
    if bsses.is_empty() {
        return Err(RenderError::Empty);
    }
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "# edgeward: written from the configuration; edits are overwritten"
    );
    let _ = writeln!(w, "driver={}", safe(&radio.driver)?);
    let _ = writeln!(w, "interface={}", safe(&radio.interface)?);
    let _ = writeln!(w, "ctrl_interface={}", safe(&radio.ctrl_dir)?);
    let _ = writeln!(w, "ctrl_interface_group=0");
    let _ = writeln!(w, "hw_mode={}", radio.hw_mode);
    let _ = writeln!(w, "channel={}", radio.channel);
    let _ = writeln!(w, "country_code={}", safe(&radio.country)?);
    let _ = writeln!(w, "ieee80211d=1");
    let _ = writeln!(w, "ieee80211n=1");
    if radio.hw_mode == 'a' {
        let _ = writeln!(w, "ieee80211ac=1");
    }
    let _ = writeln!(w, "wmm_enabled=1");
    let _ = writeln!(w, "logger_syslog=-1");
    let _ = writeln!(w, "logger_syslog_level=2");
    let _ = writeln!(w, "logger_stdout=-1");
    let _ = writeln!(w, "logger_stdout_level=2");
    for (i, bss) in bsses.iter().enumerate() {
        let _ = writeln!(w);
        if i == 0 {
            if bss.ifname != radio.interface {
                return Err(RenderError::Unwritable(bss.ifname.clone()));
            }
        } else {
            let _ = writeln!(w, "bss={}", safe(&bss.ifname)?);
        }
        write_bss(w, bss)?;
    }
    Ok(out)
}

fn write_bss(w: &mut String, bss: &Bss) -> Result<(), RenderError> {
    let _ = writeln!(w, "ssid2={}", hex(safe(&bss.ssid)?));
    let _ = writeln!(w, "utf8_ssid=1");
    let _ = writeln!(w, "bridge={}", safe(&bss.bridge)?);
    if bss.withheld {
        // An empty accept list: every station is refused; the name is not broadcast.
        let _ = writeln!(w, "ignore_broadcast_ssid=1");
        let _ = writeln!(w, "macaddr_acl=1");
    } else {
        let _ = writeln!(w, "ignore_broadcast_ssid=0");
    }
    let _ = writeln!(w, "auth_algs=1");
    let _ = writeln!(w, "ap_isolate={}", u8::from(bss.isolate));
    // RSN only, CCMP only: no WPA1, no TKIP (and so no WEP).
    let _ = writeln!(w, "wpa=2");
    let _ = writeln!(w, "rsn_pairwise=CCMP");
    let _ = writeln!(w, "group_cipher=CCMP");
    // KRACK: no retries of EAPOL-Key messages 3/4 and group 1/2 that a client could replay.
    let _ = writeln!(w, "wpa_disable_eapol_key_retries=1");
    let psk = || {
        bss.psk_file
            .as_deref()
            .ok_or_else(|| RenderError::MissingSecret(bss.ssid.clone(), "passphrase file"))
    };
    let sae = || {
        bss.sae_password
            .as_deref()
            .ok_or_else(|| RenderError::MissingSecret(bss.ssid.clone(), "SAE password"))
    };
    match bss.security {
        WifiSecurity::Open => return Err(RenderError::Open(bss.ssid.clone())),
        WifiSecurity::Wpa2 => {
            let _ = writeln!(w, "wpa_key_mgmt=WPA-PSK");
            // PMF stays off: on some drivers "optional" cuts off clients without it.
            let _ = writeln!(w, "ieee80211w=0");
            let _ = writeln!(w, "wpa_psk_file={}", safe(psk()?)?);
        }
        WifiSecurity::Wpa3 => {
            let _ = writeln!(w, "wpa_key_mgmt=SAE");
            let _ = writeln!(w, "ieee80211w=2");
            let _ = writeln!(w, "beacon_prot=1");
            write_sae(w, sae()?)?;
        }
        WifiSecurity::Wpa2Wpa3 => {
            let _ = writeln!(w, "wpa_key_mgmt=WPA-PSK SAE");
            let _ = writeln!(w, "ieee80211w=1");
            let _ = writeln!(w, "sae_require_mfp=1");
            let _ = writeln!(w, "beacon_prot=1");
            let _ = writeln!(w, "wpa_psk_file={}", safe(psk()?)?);
            write_sae(w, sae()?)?;
        }
    }
    Ok(())
}

fn write_sae(w: &mut String, password: &str) -> Result<(), RenderError> {
    let _ = writeln!(w, "sae_groups=19 20 21");
    // Hash-to-element offered, hunting-and-pecking still accepted from older clients.
    let _ = writeln!(w, "sae_pwe=2");
    let _ = writeln!(w, "sae_anti_clogging_threshold=5");
    let _ = writeln!(w, "sae_password={}", safe(password)?);
    Ok(())
}

/// An SSID in hex (`ssid2=` takes hex, so any byte is safe).
fn hex(s: &str) -> String {
    s.bytes()
        .fold(String::with_capacity(s.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// The `wpa_psk_file` of a network: one passphrase for every client.
pub fn psk_file(passphrase: &str) -> Result<String, RenderError> {
    Ok(format!("00:00:00:00:00:00 {}\n", safe(passphrase)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn radio(driver: &str, ctrl: &str) -> RadioSpec {
        RadioSpec {
            interface: "wlan0".into(),
            hw_mode: 'g',
            channel: 6,
            country: "VN".into(),
            ctrl_dir: ctrl.into(),
            driver: driver.into(),
        }
    }

    pub(crate) fn bss(ifname: &str, ssid: &str, security: WifiSecurity, dir: &str) -> Bss {
        Bss {
            ifname: ifname.into(),
            ssid: ssid.into(),
            zone: "guest".into(),
            bridge: "guest".into(),
            security,
            psk_file: Some(format!("{dir}/{ifname}.psk")),
            sae_password: Some("Hoa-Sen-Vang-2026".into()),
            isolate: true,
            withheld: false,
        }
    }

    /// What hostapd itself says of a configuration: it must start (and be stopped by the
    /// timeout), not stop at a line it refuses. Needs `hostapd` (scripts/setup.sh).
    fn hostapd_accepts(conf: &str) -> Result<(), String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hostapd.conf");
        std::fs::write(&path, conf).unwrap();
        let out = std::process::Command::new("timeout")
            .args(["2", "hostapd", "-dd"])
            .arg(&path)
            .output()
            .expect("hostapd is installed (scripts/setup.sh)");
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        // 124: still running when the timeout stopped it, i.e. the configuration was taken.
        if out.status.code() == Some(124) && !text.contains("errors found") {
            Ok(())
        } else {
            Err(text)
        }
    }

    /// 004 §7.2, 001 §5.1.d: every security mode edgeward offers renders a configuration
    /// hostapd accepts, with RSN/CCMP only and PMF as the mode needs.
    #[test]
    fn every_mode_renders_a_configuration_hostapd_accepts() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        for (i, mode) in [
            WifiSecurity::Wpa2,
            WifiSecurity::Wpa3,
            WifiSecurity::Wpa2Wpa3,
        ]
        .into_iter()
        .enumerate()
        {
            let conf = render(
                &radio("none", &format!("{d}/ctrl{i}")),
                &[bss("wlan0", "Noi-bo", mode, d)],
            )
            .unwrap();
            assert!(conf.contains("rsn_pairwise=CCMP") && conf.contains("wpa=2\n"));
            assert!(!conf.contains("TKIP") && !conf.contains("wep_key"));
            match mode {
                WifiSecurity::Wpa3 => {
                    assert!(conf.contains("ieee80211w=2") && conf.contains("sae_groups=19 20 21"));
                    assert!(conf.contains("beacon_prot=1") && !conf.contains("WPA-PSK"));
                }
                WifiSecurity::Wpa2Wpa3 => {
                    assert!(conf.contains("wpa_key_mgmt=WPA-PSK SAE"));
                    assert!(conf.contains("ieee80211w=1") && conf.contains("sae_require_mfp=1"));
                }
                _ => assert!(conf.contains("wpa_key_mgmt=WPA-PSK\n")),
            }
            if let Err(out) = hostapd_accepts(&conf) {
                panic!("{mode:?}: hostapd refused\n{conf}\n{out}");
            }
        }
    }

    /// Several SSIDs on one radio, each its own BSS bridged into its zone.
    #[test]
    fn several_ssids_are_bsses_of_one_radio() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let mut staff = bss("wlan0", "Noi-bo", WifiSecurity::Wpa3, d);
        staff.bridge = "lan0".into();
        staff.isolate = false;
        let guests = bss("wlan0-1", "Khách SởVD", WifiSecurity::Wpa2, d);
        let conf = render(&radio("none", &format!("{d}/ctrl")), &[staff, guests]).unwrap();
        assert!(conf.contains("bss=wlan0-1") && conf.contains("bridge=lan0"));
        assert!(conf.contains("bridge=guest") && conf.contains("ap_isolate=1"));
        // The SSID is written in hex: a name with accents or `=` cannot break the file.
        assert!(conf.contains(&format!("ssid2={}", hex("Khách SởVD"))));
        hostapd_accepts(&conf).unwrap_or_else(|out| panic!("{conf}\n{out}"));
    }

    /// 004 §7.2: a network blocked for an overdue passphrase stays a BSS (stable interfaces)
    /// but hides its name and refuses every station; hostapd takes that configuration.
    #[test]
    fn a_withheld_network_accepts_no_station() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let mut blocked = bss("wlan0", "Khach", WifiSecurity::Wpa2, d);
        blocked.withheld = true;
        let open = bss("wlan0-1", "Noi-bo", WifiSecurity::Wpa3, d);
        let conf = render(&radio("none", &format!("{d}/ctrl")), &[blocked, open]).unwrap();
        let first = conf.split("bss=wlan0-1").next().unwrap();
        assert!(first.contains("macaddr_acl=1\n") && first.contains("ignore_broadcast_ssid=1"));
        let second = conf.split("bss=wlan0-1").nth(1).unwrap();
        assert!(!second.contains("macaddr_acl") && second.contains("ignore_broadcast_ssid=0"));
        hostapd_accepts(&conf).unwrap_or_else(|out| panic!("{conf}\n{out}"));
    }

    /// The checker itself refuses what hostapd refuses (a test that could not fail proves
    /// nothing).
    #[test]
    fn a_configuration_hostapd_refuses_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let conf = render(
            &radio("none", &format!("{d}/ctrl")),
            &[bss("wlan0", "Noi-bo", WifiSecurity::Wpa2, d)],
        )
        .unwrap()
        .replace("rsn_pairwise=CCMP", "rsn_pairwise=TKIP-NOPE");
        assert!(hostapd_accepts(&conf).is_err());
    }

    #[test]
    fn open_networks_and_injected_lines_are_refused() {
        let mut open = bss("wlan0", "Mo", WifiSecurity::Open, "/tmp");
        assert_eq!(
            render(&radio("none", "/tmp/c"), std::slice::from_ref(&open)),
            Err(RenderError::Open("Mo".into()))
        );
        open.security = WifiSecurity::Wpa3;
        open.sae_password = Some("abc\nwpa=1".into());
        assert!(matches!(
            render(&radio("none", "/tmp/c"), &[open]),
            Err(RenderError::Unwritable(_))
        ));
        assert!(psk_file("a\nb").is_err());
        assert_eq!(
            psk_file("Khach-2026-abc").unwrap(),
            "00:00:00:00:00:00 Khach-2026-abc\n"
        );
    }
}
