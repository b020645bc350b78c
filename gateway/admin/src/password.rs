//! Password rules of the regulations and argon2id hashing.
//!
//! Administrators: at least `admin_min_length` (11) characters with lower, upper, digit and
//! special (003 §15.1); other accounts at least `user_min_length` (8) with the same four classes
//! (000 §6.2.đ).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use edgeward_config::AdminPolicy;
use ring::rand::SecureRandom;

/// Why a new password is refused; each has a Vietnamese and English text in `i18n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordIssue {
    TooShort { min: usize },
    NoLower,
    NoUpper,
    NoDigit,
    NoSpecial,
    ContainsUsername,
    SameAsCurrent,
    Mismatch,
}

impl PasswordIssue {
    /// The i18n key of this issue.
    pub fn key(&self) -> &'static str {
        match self {
            PasswordIssue::TooShort { .. } => "pw.too_short",
            PasswordIssue::NoLower => "pw.no_lower",
            PasswordIssue::NoUpper => "pw.no_upper",
            PasswordIssue::NoDigit => "pw.no_digit",
            PasswordIssue::NoSpecial => "pw.no_special",
            PasswordIssue::ContainsUsername => "pw.contains_username",
            PasswordIssue::SameAsCurrent => "pw.same_as_current",
            PasswordIssue::Mismatch => "pw.mismatch",
        }
    }
}

/// Check a candidate password against the policy for an account of `is_admin`.
pub fn check(
    candidate: &str,
    username: &str,
    is_admin: bool,
    policy: &AdminPolicy,
) -> Vec<PasswordIssue> {
    let mut issues = Vec::new();
    let min = if is_admin {
        policy.admin_min_length
    } else {
        policy.user_min_length
    } as usize;
    if candidate.chars().count() < min {
        issues.push(PasswordIssue::TooShort { min });
    }
    if policy.require_all_classes {
        if !candidate.chars().any(char::is_lowercase) {
            issues.push(PasswordIssue::NoLower);
        }
        if !candidate.chars().any(char::is_uppercase) {
            issues.push(PasswordIssue::NoUpper);
        }
        if !candidate.chars().any(|c| c.is_ascii_digit()) {
            issues.push(PasswordIssue::NoDigit);
        }
        if !candidate.chars().any(|c| !c.is_alphanumeric()) {
            issues.push(PasswordIssue::NoSpecial);
        }
    }
    if username.len() >= 3 && candidate.to_lowercase().contains(&username.to_lowercase()) {
        issues.push(PasswordIssue::ContainsUsername);
    }
    issues
}

fn hasher() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// An argon2id PHC string for `password` with a fresh random salt.
pub fn hash(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| "no randomness available".to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the stored PHC string (false for a damaged one).
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spend the time of one verification, so unknown user names answer as slowly as known ones.
pub fn burn_time(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash("edgeward-dummy-Passw0rd!").unwrap_or_default());
    let _ = verify(password, phc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_needs_eleven_and_four_classes() {
        let p = AdminPolicy::default();
        assert!(check("Abcdef1!xyz", "lan", true, &p).is_empty());
        assert_eq!(
            check("Abcdef1!xy", "lan", true, &p),
            vec![PasswordIssue::TooShort { min: 11 }]
        );
        assert_eq!(
            check("abcdefgh1!xyz", "lan", true, &p),
            vec![PasswordIssue::NoUpper]
        );
        assert_eq!(
            check("ABCDEFGH1!XYZ", "lan", true, &p),
            vec![PasswordIssue::NoLower]
        );
        assert_eq!(
            check("Abcdefgh!xyz", "lan", true, &p),
            vec![PasswordIssue::NoDigit]
        );
        assert_eq!(
            check("Abcdefgh1xyz", "lan", true, &p),
            vec![PasswordIssue::NoSpecial]
        );
    }

    #[test]
    fn others_need_eight_and_four_classes() {
        let p = AdminPolicy::default();
        assert!(check("Abcde1!x", "lan", false, &p).is_empty());
        assert_eq!(
            check("Abcd1!x", "lan", false, &p),
            vec![PasswordIssue::TooShort { min: 8 }]
        );
        // Vietnamese letters count as letters.
        assert!(check("Đặng1!abc", "lan", false, &p).is_empty());
    }

    #[test]
    fn username_inside_password_is_refused() {
        let p = AdminPolicy::default();
        assert!(
            check("Xnguyenvan1!", "NguyenVan", true, &p).contains(&PasswordIssue::ContainsUsername)
        );
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("Secret-Pass1").unwrap();
        let b = hash("Secret-Pass1").unwrap();
        assert!(a.starts_with("$argon2id$v=19$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(verify("Secret-Pass1", &a));
        assert!(!verify("Secret-Pass2", &a));
        assert!(!verify("Secret-Pass1", "not a hash"));
    }
}
