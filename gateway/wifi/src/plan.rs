//! The model's radios and Wi-Fi networks as hostapd configurations: one per radio, a BSS per
//! SSID on it (`wlan0`, `wlan0-1`, …), each bridged into its zone's interface, with the files
//! that hold its secrets. Networks on no radio (the model has none) are not served.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use edgeward_config::{Config, WifiBand, WifiSecurity};

use crate::hostapd::{Bss, RadioSpec, RenderError, psk_file, render};

/// What the daemon writes and runs for one radio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RadioPlan {
    pub radio: String,
    pub interface: String,
    /// hostapd's configuration and where it goes.
    pub conf_path: PathBuf,
    pub conf: String,
    /// WPA2 passphrase files (written 0600 before hostapd reads them).
    pub psk_files: Vec<(PathBuf, String)>,
    /// Where the control sockets are (one per BSS, named by its interface).
    pub ctrl_dir: PathBuf,
    pub bsses: Vec<Bss>,
}

/// The plans for `config` as of `today` (a network blocked for an overdue passphrase is
/// withheld), with files under `dir`; `driver` is `nl80211` on the appliance.
pub fn plan(
    config: &Config,
    dir: &Path,
    driver: &str,
    today: NaiveDate,
) -> Result<Vec<RadioPlan>, RenderError> {
    let served = config.served_wifi();
    let mut out = Vec::new();
    for radio in &config.radios {
        let ctrl_dir = dir.join(format!("ctrl-{}", radio.name));
        let mut bsses = Vec::new();
        let mut psk_files = Vec::new();
        for s in served.iter().filter(|s| s.radio.name == radio.name) {
            let w = s.network;
            let psk_path = dir.join(format!("{}.psk", s.ifname));
            let uses_psk = matches!(w.security, WifiSecurity::Wpa2 | WifiSecurity::Wpa2Wpa3);
            let uses_sae = matches!(w.security, WifiSecurity::Wpa3 | WifiSecurity::Wpa2Wpa3);
            if uses_psk {
                psk_files.push((psk_path.clone(), psk_file(&w.passphrase)?));
            }
            bsses.push(Bss {
                ifname: s.ifname.clone(),
                ssid: w.ssid.clone(),
                zone: w.zone.clone(),
                bridge: s.bridge.clone(),
                security: w.security,
                psk_file: uses_psk.then(|| psk_path.display().to_string()),
                sae_password: uses_sae.then(|| w.passphrase.clone()),
                isolate: s.isolate,
                withheld: w.withheld(today),
            });
        }
        if bsses.is_empty() {
            continue;
        }
        let spec = RadioSpec {
            interface: radio.interface.clone(),
            hw_mode: match radio.band {
                WifiBand::Ghz24 => 'g',
                WifiBand::Ghz5 => 'a',
            },
            channel: radio.channel,
            country: radio.country.clone(),
            ctrl_dir: ctrl_dir.display().to_string(),
            driver: driver.to_string(),
        };
        out.push(RadioPlan {
            radio: radio.name.clone(),
            interface: radio.interface.clone(),
            conf_path: dir.join(format!("{}.conf", radio.name)),
            conf: render(&spec, &bsses)?,
            psk_files,
            ctrl_dir,
            bsses,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The agency profile with a radio, a bridged guest zone and two networks.
    pub fn with_wifi() -> String {
        let base = edgeward_config::AGENCY_DEFAULT_PROFILE.replace(
            "name = \"guest0\"",
            "name = \"guest0\"\nports = [\"guest-port\"]",
        );
        format!(
            "{base}\n[[radios]]\nname = \"radio0\"\ninterface = \"wlan0\"\nchannel = 6\n\n\
             [[wifi]]\nssid = \"Khach-SoVD\"\nzone = \"guest\"\nsecurity = \"wpa2\"\n\
             passphrase = \"Khach-2026-hoa-sen\"\npassphrase_changed = \"{today}\"\n\n\
             [[wifi]]\nssid = \"Khach-WPA3\"\nzone = \"guest\"\nsecurity = \"wpa3\"\n\
             passphrase = \"Khach-2026-sen-vang\"\npassphrase_changed = \"{today}\"\n",
            today = edgeward_config::today()
        )
    }

    #[test]
    fn the_model_becomes_one_radio_with_a_bss_per_ssid() {
        let text = with_wifi();
        let config = edgeward_config::parse(&text, "t", edgeward_config::today())
            .unwrap_or_else(|p| panic!("{p}"));
        let plans = plan(
            &config,
            Path::new("/run/edgeward/wifi"),
            "nl80211",
            edgeward_config::today(),
        )
        .unwrap();
        assert_eq!(plans.len(), 1);
        let p = &plans[0];
        assert_eq!(
            p.bsses
                .iter()
                .map(|b| b.ifname.as_str())
                .collect::<Vec<_>>(),
            ["wlan0", "wlan0-1"]
        );
        assert!(p.bsses.iter().all(|b| b.bridge == "guest0" && b.isolate));
        assert_eq!(p.psk_files.len(), 1, "only the WPA2 network has a PSK file");
        assert_eq!(p.psk_files[0].1, "00:00:00:00:00:00 Khach-2026-hoa-sen\n");
        assert!(p.conf.contains("sae_password=Khach-2026-sen-vang"));
        assert!(p.conf.contains("driver=nl80211"));
    }

    /// 004 §7.2: a network set to be blocked when overdue is withheld from the day after its
    /// due day; one that is only warned about stays on the air.
    #[test]
    fn an_overdue_network_set_to_block_is_withheld() {
        let text = with_wifi().replacen(
            "security = \"wpa2\"\n",
            "security = \"wpa2\"\nblock_when_overdue = true\n",
            1,
        );
        let config = edgeward_config::parse(&text, "t", edgeward_config::today())
            .unwrap_or_else(|p| panic!("{p}"));
        let today = edgeward_config::today();
        let withheld = |day| -> Vec<bool> {
            plan(&config, Path::new("/x"), "nl80211", day).unwrap()[0]
                .bsses
                .iter()
                .map(|b| b.withheld)
                .collect()
        };
        assert_eq!(withheld(today), [false, false]);
        let due = config.wifi[0].rotation(today).due.unwrap();
        assert_eq!(
            withheld(due),
            [false, false],
            "on the due day it is still served"
        );
        let after = due + chrono::Duration::days(1);
        assert_eq!(
            withheld(after),
            [true, false],
            "only the network set to block"
        );
    }

    #[test]
    fn without_radios_nothing_is_served() {
        let config = edgeward_config::parse(
            edgeward_config::AGENCY_DEFAULT_PROFILE,
            "t",
            edgeward_config::today(),
        )
        .unwrap();
        assert!(
            plan(
                &config,
                Path::new("/x"),
                "nl80211",
                edgeward_config::today()
            )
            .unwrap()
            .is_empty()
        );
    }
}
