//! The text of a Wi-Fi QR code (`WIFI:T:WPA;S:…;P:…;;`), for the printable noticeboard sheet:
//! phones join by scanning it. `\`, `;`, `,`, `:` and `"` in the SSID or passphrase are
//! escaped with a backslash, as the format requires.

use edgeward_config::WifiSecurity;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ';' | ',' | ':' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The QR text for joining `ssid`: `T:SAE` for a WPA3-only network (a WPA2-only phone could
/// not join it anyway), `T:WPA` otherwise (WPA2, and transition mode, where each phone picks
/// the best it can).
pub fn wifi_qr_text(ssid: &str, security: WifiSecurity, passphrase: &str) -> String {
    let kind = match security {
        WifiSecurity::Wpa3 => "SAE",
        WifiSecurity::Open => "nopass",
        WifiSecurity::Wpa2 | WifiSecurity::Wpa2Wpa3 => "WPA",
    };
    if security == WifiSecurity::Open {
        return format!("WIFI:T:nopass;S:{};;", escape(ssid));
    }
    format!(
        "WIFI:T:{kind};S:{};P:{};;",
        escape(ssid),
        escape(passphrase)
    )
}

/// Undo [`wifi_qr_text`]: (type, SSID, passphrase). For tests and for checking a sheet.
pub fn parse(text: &str) -> Option<(String, String, String)> {
    let body = text.strip_prefix("WIFI:")?.strip_suffix(";;")?;
    let (mut kind, mut ssid, mut pass) = (String::new(), String::new(), String::new());
    let mut field = String::new();
    let mut fields = Vec::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => field.push(chars.next()?),
            ';' => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    for f in fields {
        if let Some(v) = f.strip_prefix("T:") {
            kind = v.to_string();
        } else if let Some(v) = f.strip_prefix("S:") {
            ssid = v.to_string();
        } else if let Some(v) = f.strip_prefix("P:") {
            pass = v.to_string();
        }
    }
    Some((kind, ssid, pass))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_format_phones_read() {
        assert_eq!(
            wifi_qr_text("Khach-SoVD", WifiSecurity::Wpa2Wpa3, "hoa-sen;vang:2026"),
            "WIFI:T:WPA;S:Khach-SoVD;P:hoa-sen\\;vang\\:2026;;"
        );
        assert!(wifi_qr_text("Noi-bo", WifiSecurity::Wpa3, "x").starts_with("WIFI:T:SAE;"));
    }

    proptest! {
        /// Any SSID and passphrase come back out of the QR text unchanged.
        #[test]
        fn escaping_round_trips(ssid in "\\PC{1,32}", pass in "[ -~]{12,63}") {
            let text = wifi_qr_text(&ssid, WifiSecurity::Wpa2, &pass);
            let (kind, s, p) = parse(&text).unwrap();
            prop_assert_eq!(kind, "WPA");
            prop_assert_eq!(s, ssid);
            prop_assert_eq!(p, pass);
        }
    }
}
