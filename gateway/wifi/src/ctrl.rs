//! hostapd's control socket, parsed: the station list (`STA-FIRST`/`STA-NEXT` replies) and
//! the events an attached monitor receives (`<3>AP-STA-CONNECTED aa:bb:…`). Input is what a
//! running hostapd wrote; anything unexpected is skipped, never a panic.

use serde::{Deserialize, Serialize};

/// A connected client as the Wi-Fi page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Station {
    pub mac: String,
    /// Signal strength in dBm, when the driver reports it.
    pub signal_dbm: Option<i32>,
    /// Seconds since it associated.
    pub connected_seconds: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

fn is_mac(s: &str) -> bool {
    s.len() == 17
        && s.split(':').count() == 6
        && s.split(':')
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// One `STA <mac>` / `STA-FIRST` / `STA-NEXT` reply: the MAC on the first line, then
/// `key=value` lines. `None` for `FAIL` or an empty reply (no more stations).
pub fn station(reply: &str) -> Option<Station> {
    let mut lines = reply.lines();
    let mac = lines.next()?.trim().to_ascii_lowercase();
    if !is_mac(&mac) {
        return None;
    }
    let mut st = Station {
        mac,
        signal_dbm: None,
        connected_seconds: 0,
        rx_bytes: 0,
        tx_bytes: 0,
    };
    for line in lines {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        match k.trim() {
            "signal" => st.signal_dbm = v.trim().parse().ok(),
            "connected_time" => st.connected_seconds = v.trim().parse().unwrap_or(0),
            "rx_bytes" => st.rx_bytes = v.trim().parse().unwrap_or(0),
            "tx_bytes" => st.tx_bytes = v.trim().parse().unwrap_or(0),
            _ => {}
        }
    }
    Some(st)
}

/// What an event line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WifiEvent {
    Connected {
        mac: String,
    },
    Disconnected {
        mac: String,
    },
    /// A client sent a handshake that did not match the passphrase (WPA2) or failed SAE.
    AuthFailed {
        mac: String,
    },
}

/// An event from an attached control socket (`<3>AP-STA-CONNECTED 02:00:00:00:01:00`), or
/// `None` for the many lines that are not one of these.
pub fn event(line: &str) -> Option<WifiEvent> {
    let body = line
        .trim()
        .strip_prefix('<')
        .and_then(|r| r.split_once('>'))
        .map_or(line.trim(), |(_, rest)| rest);
    let mut words = body.split_whitespace();
    let kind = words.next()?;
    let mac = words.find(|w| is_mac(w))?.to_ascii_lowercase();
    match kind {
        "AP-STA-CONNECTED" => Some(WifiEvent::Connected { mac }),
        "AP-STA-DISCONNECTED" => Some(WifiEvent::Disconnected { mac }),
        "AP-STA-POSSIBLE-PSK-MISMATCH"
        | "AP-STA-SAE-AUTH-FAILED"
        | "CTRL-EVENT-SAE-AUTH-FAILURE" => Some(WifiEvent::AuthFailed { mac }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_station_reply() {
        let reply = "02:00:00:00:01:00\nflags=[AUTH][ASSOC][AUTHORIZED]\naid=1\nrx_bytes=1234\ntx_bytes=567\nsignal=-42\nconnected_time=17\n";
        assert_eq!(
            station(reply),
            Some(Station {
                mac: "02:00:00:00:01:00".into(),
                signal_dbm: Some(-42),
                connected_seconds: 17,
                rx_bytes: 1234,
                tx_bytes: 567
            })
        );
        assert_eq!(station("FAIL\n"), None);
        assert_eq!(station(""), None);
    }

    #[test]
    fn events() {
        assert_eq!(
            event("<3>AP-STA-CONNECTED 02:00:00:00:01:00"),
            Some(WifiEvent::Connected {
                mac: "02:00:00:00:01:00".into()
            })
        );
        assert_eq!(
            event("<3>AP-STA-POSSIBLE-PSK-MISMATCH 02:00:00:00:02:00"),
            Some(WifiEvent::AuthFailed {
                mac: "02:00:00:00:02:00".into()
            })
        );
        assert_eq!(event("<3>CTRL-EVENT-EAP-STARTED 02:00:00:00:01:00"), None);
        assert_eq!(event("garbage"), None);
    }

    proptest! {
        /// Whatever hostapd (or something pretending to be it) writes, parsing never panics.
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = station(&s);
            let _ = event(&s);
        }
    }
}
