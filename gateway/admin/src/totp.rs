//! Time-based one-time passwords (RFC 6238: SHA-1, 6 digits, 30 s) for multi-factor login
//! (000 §8.1.h), with enrolment by QR code and no reuse of a code once accepted.

use ring::rand::SecureRandom;
use totp_rs::{Algorithm, Secret, TOTP};

const STEP: u64 = 30;
const DIGITS: usize = 6;

/// A fresh 160-bit secret, base32 as authenticator apps show it.
pub fn new_secret() -> Result<String, String> {
    let mut raw = [0u8; 20];
    ring::rand::SystemRandom::new()
        .fill(&mut raw)
        .map_err(|_| "no randomness available".to_string())?;
    Ok(Secret::Raw(raw.to_vec()).to_encoded().to_string())
}

fn totp(secret_b32: &str, issuer: &str, account: &str) -> Result<TOTP, String> {
    let bytes = Secret::Encoded(secret_b32.to_string())
        .to_bytes()
        .map_err(|e| format!("damaged TOTP secret: {e:?}"))?;
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP,
        bytes,
        Some(issuer.to_string()),
        account.to_string(),
    )
    .map_err(|e| format!("TOTP secret refused: {e:?}"))
}

/// The `otpauth://` URL an authenticator app imports.
pub fn otpauth_url(secret_b32: &str, issuer: &str, account: &str) -> Result<String, String> {
    // Issuers and account names may not contain ':' in the label.
    let clean = |s: &str| s.replace(':', " ");
    Ok(totp(secret_b32, &clean(issuer), &clean(account))?.get_url())
}

/// The URL as an SVG QR code (no script, no external image: fits the UI's CSP).
pub fn qr_svg(url: &str) -> Result<String, String> {
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| e.to_string())?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build())
}

/// The code for time `unix` (tests and the lab's browser harness compute the same).
pub fn code_at(secret_b32: &str, unix: u64) -> Result<String, String> {
    Ok(totp(secret_b32, "edgeward", "x")?.generate(unix))
}

/// Check `code` at time `unix`, allowing one step of clock skew either way. A code is accepted
/// only for a step after `last_step` (no replay); returns the step it matched.
pub fn verify(secret_b32: &str, code: &str, unix: u64, last_step: u64) -> Option<u64> {
    let code = code.trim().replace(' ', "");
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_b32, "edgeward", "x").ok()?;
    let now_step = unix / STEP;
    [now_step.saturating_sub(1), now_step, now_step + 1]
        .into_iter()
        .filter(|s| *s > last_step)
        .find(|s| {
            let expected = t.generate(s * STEP);
            crate::ct::constant_time_eq(expected.as_bytes(), code.as_bytes())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 → 94287082 (8 digits);
        // the 6-digit code is its last six digits.
        let secret = Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
        assert_eq!(code_at(&secret, 1111111109).unwrap(), "081804");
    }

    #[test]
    fn accepts_skew_of_one_step_and_refuses_replay() {
        let s = new_secret().unwrap();
        let now = 1_800_000_000;
        let code = code_at(&s, now).unwrap();
        let step = verify(&s, &code, now, 0).expect("current code");
        assert_eq!(step, now / 30);
        assert_eq!(verify(&s, &code, now, step), None, "replay refused");
        let previous = code_at(&s, now - 30).unwrap();
        assert!(verify(&s, &previous, now, 0).is_some(), "one step late");
        let old = code_at(&s, now - 90).unwrap();
        assert_eq!(verify(&s, &old, now, 0), None, "three steps late");
        assert_eq!(verify(&s, "12345", now, 0), None);
        assert_eq!(verify(&s, "abcdef", now, 0), None);
    }

    #[test]
    fn enrolment_url_and_qr() {
        let s = new_secret().unwrap();
        let url = otpauth_url(&s, "edgeward gw1", "admin").unwrap();
        assert!(url.starts_with("otpauth://totp/"), "{url}");
        assert!(url.contains(&s), "{url}");
        let svg = qr_svg(&url).unwrap();
        assert!(svg.contains("<svg") && !svg.contains("<script"));
    }
}
