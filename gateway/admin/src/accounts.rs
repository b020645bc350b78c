//! The appliance's own accounts: one per person, kept in `STATE/accounts.json` (mode 0600,
//! written atomically). Login rules of the regulations live here, as pure functions of the
//! account, the policy and the time: lockout after 5 failures in 30 minutes until another admin
//! unlocks (003 §16.2), suspension after 30 days unused (003 §16.3), password expiry (003 §15.1.c),
//! a factory account whose password and missing TOTP must be replaced at first login (003 §21.3.a).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use edgeward_config::AdminPolicy;
use edgeward_config::history::write_atomic;
use serde::{Deserialize, Serialize};

use super::password::{self, PasswordIssue};
use super::roles::Role;
use super::totp;

/// The factory account, printed on the appliance's label. It must be changed at first login.
pub const FACTORY_USERNAME: &str = "admin";
/// The factory password where the box has none of its own (the lab, a development machine).
/// An appliance has its own, made at first boot in `STATE/factory-password` and printed on its
/// label and console; it stops working at the first login.
pub const FACTORY_PASSWORD: &str = "edgeward";
/// The file of the box's own factory password, next to the accounts file.
pub const FACTORY_PASSWORD_FILE: &str = "factory-password";

/// The factory password of the box whose accounts file is `accounts`.
pub fn factory_password(accounts: &Path) -> String {
    accounts
        .parent()
        .and_then(|d| std::fs::read_to_string(d.join(FACTORY_PASSWORD_FILE)).ok())
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| FACTORY_PASSWORD.to_string())
}

/// Longest full name or person id (characters).
const MAX_NAME_CHARS: usize = 100;

/// Names that would be shared by several people; refused for new accounts.
const SHARED_NAMES: [&str; 8] = [
    "root", "guest", "user", "test", "shared", "it", "support", "operator",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub username: String,
    /// The person behind the account (họ tên).
    pub full_name: String,
    /// E-mail or staff number: one account per person.
    pub person_id: String,
    pub role: Role,
    pub password_hash: String,
    pub password_changed_at: DateTime<Utc>,
    /// Set for the factory account and after an admin reset.
    pub must_change_password: bool,
    /// Base32 TOTP secret, once enrolled.
    #[serde(default)]
    pub totp_secret: Option<String>,
    /// The last TOTP step accepted (no code is accepted twice).
    #[serde(default)]
    pub totp_last_step: u64,
    /// Failed attempts inside the lockout window.
    #[serde(default)]
    pub failures: Vec<DateTime<Utc>>,
    #[serde(default)]
    pub locked_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub suspended_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    /// Last successful login, or when an admin last reactivated the account.
    #[serde(default)]
    pub last_active: Option<DateTime<Utc>>,
    #[serde(default)]
    pub factory: bool,
    /// Who asked for the account, why and with what scope, and who approved it (000 §9.1.g).
    #[serde(default)]
    pub request: AccountRequest,
    /// A time-boxed account (a vendor's) stops working after this (000 §14.6.c).
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// The request behind an account: the person's identity and contact, the purpose and scope of
/// the access, and the administrator who approved it (000 §9.1.g). Required for administrator
/// accounts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountRequest {
    /// Số CCCD (12 digits) or the 9-digit CMND.
    #[serde(default)]
    pub citizen_id: String,
    #[serde(default)]
    pub phone: String,
    /// Đơn vị công tác.
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub purpose: String,
    /// What the account may be used for (systems, period).
    #[serde(default)]
    pub scope: String,
    /// The administrator who approved and created it (set by the appliance, not the form).
    #[serde(default)]
    pub approved_by: String,
}

/// Where a session stands after the password was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The password must be replaced before anything else.
    ChangePassword,
    /// An admin without TOTP must enrol before anything else.
    EnrolTotp,
    /// The second factor is asked.
    VerifyTotp,
    /// Logged in.
    Full,
}

/// The state shown in the accounts list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Locked,
    Suspended,
    Disabled,
    PasswordExpired,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    Accepted(Stage),
    /// Unknown user or wrong password (not told apart).
    Refused {
        failures_in_window: u32,
    },
    /// This attempt locked the account.
    NowLocked,
    Locked,
    Suspended,
    Disabled,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("accounts file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("no such account: {0}")]
    NoSuchAccount(String),
    #[error("account {0} already exists")]
    Exists(String),
    #[error("{0} already has an account (one account per person)")]
    PersonHasAccount(String),
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the new password does not meet the policy")]
    WeakPassword(Vec<PasswordIssue>),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Internal(String),
}

impl Account {
    pub fn max_age_days(&self, policy: &AdminPolicy) -> u32 {
        if self.role.is_admin() {
            policy.admin_max_age_days
        } else {
            policy.user_max_age_days
        }
    }

    pub fn password_expired(&self, policy: &AdminPolicy, now: DateTime<Utc>) -> bool {
        let days = self.max_age_days(policy);
        days > 0 && now - self.password_changed_at >= Duration::days(days.into())
    }

    /// Whether the account went unused longer than the policy allows.
    pub fn unused_too_long(&self, policy: &AdminPolicy, now: DateTime<Utc>) -> bool {
        let since = self.last_active.unwrap_or(self.created_at);
        policy.suspend_unused_days > 0
            && now - since >= Duration::days(policy.suspend_unused_days.into())
    }

    /// Every role that can change anything needs a second factor: administrators and
    /// operators (who change Wi-Fi secrets and devices). Viewers change nothing.
    pub fn needs_totp(&self, policy: &AdminPolicy) -> bool {
        self.role != Role::Viewer && policy.mfa_for_admins
    }

    /// A time-boxed account past its end.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|e| now > e)
    }

    /// Whether the account may be used now (not disabled, locked, suspended or expired).
    pub fn usable(&self, now: DateTime<Utc>) -> bool {
        !self.disabled
            && self.locked_at.is_none()
            && self.suspended_at.is_none()
            && !self.expired(now)
    }

    pub fn status(&self, policy: &AdminPolicy, now: DateTime<Utc>) -> Status {
        if self.disabled || self.expired(now) {
            Status::Disabled
        } else if self.locked_at.is_some() {
            Status::Locked
        } else if self.suspended_at.is_some() || self.unused_too_long(policy, now) {
            Status::Suspended
        } else if self.password_expired(policy, now) {
            Status::PasswordExpired
        } else {
            Status::Active
        }
    }

    /// Whether the password must be replaced before anything else.
    fn password_change_due(&self, policy: &AdminPolicy, now: DateTime<Utc>) -> bool {
        self.must_change_password || self.password_expired(policy, now)
    }

    /// What comes after an accepted password. An enrolled second factor is asked first, so a
    /// stolen (expired) password alone cannot even replace the owner's password.
    fn stage_after_password(&self, policy: &AdminPolicy, now: DateTime<Utc>) -> Stage {
        if self.totp_secret.is_some() {
            Stage::VerifyTotp
        } else if self.password_change_due(policy, now) {
            Stage::ChangePassword
        } else {
            self.stage_after_change(policy)
        }
    }

    /// What comes after an accepted second factor.
    fn stage_after_totp(&self, policy: &AdminPolicy, now: DateTime<Utc>) -> Stage {
        if self.password_change_due(policy, now) {
            Stage::ChangePassword
        } else {
            Stage::Full
        }
    }

    /// What comes after the password is in order (the second factor, if enrolled, was proved
    /// before the change).
    pub fn stage_after_change(&self, policy: &AdminPolicy) -> Stage {
        match (&self.totp_secret, self.needs_totp(policy)) {
            (Some(_), _) => Stage::Full,
            (None, true) => Stage::EnrolTotp,
            (None, false) => Stage::Full,
        }
    }

    fn record_failure(&mut self, policy: &AdminPolicy, now: DateTime<Utc>) -> LoginOutcome {
        let window = Duration::minutes(policy.lockout_window_minutes.into());
        self.failures.retain(|t| now - *t < window);
        self.failures.push(now);
        let n = self.failures.len() as u32;
        if policy.lockout_failures > 0 && n >= policy.lockout_failures {
            self.locked_at = Some(now);
            LoginOutcome::NowLocked
        } else {
            LoginOutcome::Refused {
                failures_in_window: n,
            }
        }
    }

    /// The public view (no hashes, no secrets).
    pub fn summary(&self, policy: &AdminPolicy, now: DateTime<Utc>) -> AccountSummary {
        AccountSummary {
            username: self.username.clone(),
            full_name: self.full_name.clone(),
            person_id: self.person_id.clone(),
            role: self.role,
            status: self.status(policy, now),
            totp_enrolled: self.totp_secret.is_some(),
            password_changed_at: self.password_changed_at,
            password_expires_at: match self.max_age_days(policy) {
                0 => None,
                d => Some(self.password_changed_at + Duration::days(d.into())),
            },
            last_active: self.last_active,
            failures_in_window: self.failures.len() as u32,
            created_at: self.created_at,
            department: self.request.department.clone(),
            approved_by: self.request.approved_by.clone(),
            expires_at: self.expires_at,
        }
    }
}

/// Who takes over the factory account at its first login.
#[derive(Debug, Clone, Copy)]
pub struct Takeover<'a> {
    pub full_name: &'a str,
    pub person_id: &'a str,
}

/// Proof of both current factors, to replace an enrolled second factor.
#[derive(Debug, Clone, Copy)]
pub struct Reauth<'a> {
    pub password: &'a str,
    pub code: &'a str,
}

/// An account as the UI and API show it.
#[derive(Debug, Clone, Serialize)]
pub struct AccountSummary {
    pub username: String,
    pub full_name: String,
    pub person_id: String,
    pub role: Role,
    pub status: Status,
    pub totp_enrolled: bool,
    pub password_changed_at: DateTime<Utc>,
    pub password_expires_at: Option<DateTime<Utc>>,
    pub last_active: Option<DateTime<Utc>>,
    pub failures_in_window: u32,
    pub created_at: DateTime<Utc>,
    pub department: String,
    pub approved_by: String,
    /// End of a time-boxed account.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new account as asked by a system admin.
#[derive(Debug, Clone, Deserialize)]
pub struct NewAccount {
    pub username: String,
    pub full_name: String,
    pub person_id: String,
    pub role: Role,
    /// A first password, to be replaced at first login.
    pub password: String,
    /// Required for administrator roles (000 §9.1.g); `approved_by` is ignored (the creator).
    #[serde(default, flatten)]
    pub request: AccountRequest,
    /// Last day a time-boxed (vendor) account works.
    #[serde(default)]
    pub expires_on: Option<chrono::NaiveDate>,
}

/// The request of a new account, trimmed, checked and stamped with its approver. Every field
/// is required for an administrator account (000 §9.1.g).
fn checked_request(
    r: &AccountRequest,
    role: Role,
    approver: &str,
) -> Result<AccountRequest, AccountError> {
    for (field, value) in [
        ("citizen_id", &r.citizen_id),
        ("phone", &r.phone),
        ("department", &r.department),
        ("purpose", &r.purpose),
        ("scope", &r.scope),
    ] {
        if value.trim().chars().count() > 200 {
            return Err(AccountError::Invalid {
                field,
                reason: "at most 200 characters".into(),
            });
        }
    }
    let t = |s: &str| s.trim().to_string();
    let out = AccountRequest {
        citizen_id: t(&r.citizen_id),
        phone: t(&r.phone),
        department: t(&r.department),
        purpose: t(&r.purpose),
        scope: t(&r.scope),
        approved_by: approver.to_string(),
    };
    let invalid = |field: &'static str, reason: &str| {
        Err(AccountError::Invalid {
            field,
            reason: reason.into(),
        })
    };
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).count();
    let citizen_id_ok = out.citizen_id.chars().all(|c| c.is_ascii_digit())
        && matches!(out.citizen_id.len(), 9 | 12);
    if !out.citizen_id.is_empty() && !citizen_id_ok {
        return invalid(
            "citizen_id",
            "a citizen ID has 12 digits (CCCD) or 9 (CMND)",
        );
    }
    if !out.phone.is_empty()
        && (digits(&out.phone) < 9
            || !out
                .phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +.-()".contains(c)))
    {
        return invalid("phone", "a phone number has at least 9 digits");
    }
    if role.is_admin() {
        for (field, value) in [
            ("citizen_id", &out.citizen_id),
            ("phone", &out.phone),
            ("department", &out.department),
            ("purpose", &out.purpose),
            ("scope", &out.scope),
        ] {
            if value.is_empty() {
                return invalid(
                    field,
                    "an administrator account records who asked for it, why and for what (000 §9.1.g)",
                );
            }
        }
    }
    Ok(out)
}

/// Every account, by user name.
pub struct AccountStore {
    path: PathBuf,
    accounts: BTreeMap<String, Account>,
    /// The file as last read or written (modification time, length), to notice edits made
    /// outside the daemon (`edgeward accounts recover` at the console).
    seen: Option<(std::time::SystemTime, u64)>,
}

fn file_fingerprint(path: &Path) -> Option<(std::time::SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// A random 16-character password with all four classes.
fn temporary_password() -> Result<String, String> {
    use ring::rand::SecureRandom;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut raw = [0u8; 12];
    ring::rand::SystemRandom::new()
        .fill(&mut raw)
        .map_err(|_| "no randomness available".to_string())?;
    let body: String = raw
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    Ok(format!("Ew-{body}7a"))
}

fn valid_username(name: &str) -> bool {
    (2..=32).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_' || b == b'-'
        })
        && name.as_bytes()[0].is_ascii_lowercase()
}

impl AccountStore {
    /// Open the store, creating it with the factory account if it does not exist.
    pub fn open(path: &Path, now: DateTime<Utc>) -> Result<AccountStore, AccountError> {
        let err = |reason: String| AccountError::File {
            path: path.to_path_buf(),
            reason,
        };
        match std::fs::read(path) {
            Ok(raw) => {
                let list: Vec<Account> =
                    serde_json::from_slice(&raw).map_err(|e| err(format!("damaged: {e}")))?;
                Ok(AccountStore {
                    path: path.to_path_buf(),
                    accounts: list.into_iter().map(|a| (a.username.clone(), a)).collect(),
                    seen: file_fingerprint(path),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let factory = Account {
                    username: FACTORY_USERNAME.into(),
                    full_name: String::new(),
                    person_id: String::new(),
                    role: Role::SystemAdmin,
                    password_hash: password::hash(&factory_password(path)).map_err(err)?,
                    password_changed_at: now,
                    must_change_password: true,
                    totp_secret: None,
                    totp_last_step: 0,
                    failures: Vec::new(),
                    locked_at: None,
                    suspended_at: None,
                    disabled: false,
                    created_at: now,
                    last_active: None,
                    factory: true,
                    request: AccountRequest::default(),
                    expires_at: None,
                };
                let mut store = AccountStore {
                    path: path.to_path_buf(),
                    accounts: BTreeMap::new(),
                    seen: None,
                };
                store.accounts.insert(factory.username.clone(), factory);
                store.save()?;
                Ok(store)
            }
            Err(e) => Err(err(e.to_string())),
        }
    }

    /// Write the whole store (atomically, owner-only).
    pub fn save(&mut self) -> Result<(), AccountError> {
        let list: Vec<&Account> = self.accounts.values().collect();
        let raw =
            serde_json::to_vec_pretty(&list).map_err(|e| AccountError::Internal(e.to_string()))?;
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        write_atomic(&self.path, &raw).map_err(|e| AccountError::File {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        self.seen = file_fingerprint(&self.path);
        Ok(())
    }

    /// Re-read the file if something else changed it since; true if it did.
    pub fn refresh_if_changed(&mut self) -> Result<bool, AccountError> {
        let now = file_fingerprint(&self.path);
        if now.is_none() || now == self.seen {
            return Ok(false);
        }
        let fresh = AccountStore::open(&self.path, Utc::now())?;
        self.accounts = fresh.accounts;
        self.seen = fresh.seen;
        Ok(true)
    }

    /// Console recovery (physical access to the appliance): unlock `username`, give it a fresh
    /// random temporary password and clear its TOTP, so its next login sets both anew. Returns
    /// the temporary password.
    pub fn recover(&mut self, username: &str, now: DateTime<Utc>) -> Result<String, AccountError> {
        let temporary = temporary_password().map_err(AccountError::Internal)?;
        let a = self.get_mut(username)?;
        a.password_hash = password::hash(&temporary).map_err(AccountError::Internal)?;
        a.password_changed_at = now;
        a.must_change_password = true;
        a.totp_secret = None;
        a.totp_last_step = 0;
        a.locked_at = None;
        a.suspended_at = None;
        a.disabled = false;
        a.failures.clear();
        a.last_active = Some(now);
        Ok(temporary)
    }

    pub fn get(&self, username: &str) -> Option<&Account> {
        self.accounts.get(username)
    }

    fn get_mut(&mut self, username: &str) -> Result<&mut Account, AccountError> {
        self.accounts
            .get_mut(username)
            .ok_or_else(|| AccountError::NoSuchAccount(username.to_string()))
    }

    pub fn list(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }

    /// Check user name and password. Records failures and locks; the caller saves.
    pub fn attempt_login(
        &mut self,
        username: &str,
        candidate: &str,
        policy: &AdminPolicy,
        now: DateTime<Utc>,
    ) -> LoginOutcome {
        let Some(account) = self.accounts.get_mut(username) else {
            password::burn_time(candidate);
            return LoginOutcome::Refused {
                failures_in_window: 0,
            };
        };
        // Every refusal costs one verification, so timing tells no account state apart.
        let password_ok = password::verify(candidate, &account.password_hash);
        if account.disabled || account.expired(now) {
            return LoginOutcome::Disabled;
        }
        if account.locked_at.is_some() {
            return LoginOutcome::Locked;
        }
        if account.suspended_at.is_some() {
            return LoginOutcome::Suspended;
        }
        if account.unused_too_long(policy, now) && !account.factory {
            account.suspended_at = Some(now);
            return LoginOutcome::Suspended;
        }
        if !password_ok {
            return account.record_failure(policy, now);
        }
        let stage = account.stage_after_password(policy, now);
        if stage == Stage::Full {
            account.failures.clear();
            account.last_active = Some(now);
        }
        LoginOutcome::Accepted(stage)
    }

    /// Check a TOTP code of an enrolled account; a wrong code counts as a failed login.
    pub fn verify_totp(
        &mut self,
        username: &str,
        code: &str,
        policy: &AdminPolicy,
        now: DateTime<Utc>,
    ) -> Result<LoginOutcome, AccountError> {
        let account = self.get_mut(username)?;
        if account.locked_at.is_some() {
            return Ok(LoginOutcome::Locked);
        }
        let Some(secret) = account.totp_secret.clone() else {
            return Err(AccountError::Refused("no TOTP enrolled".into()));
        };
        match totp::verify(
            &secret,
            code,
            now.timestamp().max(0) as u64,
            account.totp_last_step,
        ) {
            Some(step) => {
                account.totp_last_step = step;
                account.failures.clear();
                account.last_active = Some(now);
                Ok(LoginOutcome::Accepted(
                    account.stage_after_totp(policy, now),
                ))
            }
            None => Ok(account.record_failure(policy, now)),
        }
    }

    /// Enrol `secret` after the user proved it with a current code. An account that already has
    /// a second factor must also prove both of its current factors (`reauth`: password and a
    /// code of the enrolled secret); a wrong proof counts as a failed login. Nothing else ever
    /// replaces an enrolled secret (only an administrator's reset or console recovery clear it).
    pub fn enrol_totp(
        &mut self,
        username: &str,
        secret: &str,
        code: &str,
        reauth: Option<Reauth<'_>>,
        policy: &AdminPolicy,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let account = self.get_mut(username)?;
        let at = now.timestamp().max(0) as u64;
        if let Some(enrolled) = account.totp_secret.clone() {
            let Some(proof) = reauth else {
                return Err(AccountError::Refused(
                    "a second factor is enrolled: replacing it needs the current password and a current code".into(),
                ));
            };
            let password_ok = password::verify(proof.password, &account.password_hash);
            let code_step = totp::verify(&enrolled, proof.code, at, account.totp_last_step);
            if let (true, Some(step)) = (password_ok, code_step) {
                account.totp_last_step = step;
            } else {
                account.record_failure(policy, now);
                return Err(AccountError::Refused(
                    "wrong current password or code".into(),
                ));
            }
        }
        let step = totp::verify(secret, code, at, 0)
            .ok_or_else(|| AccountError::Refused("wrong code".into()))?;
        account.totp_secret = Some(secret.to_string());
        account.totp_last_step = step;
        account.failures.clear();
        account.last_active = Some(now);
        Ok(())
    }

    /// Set a new password chosen by the account's owner. The factory account is taken over by a
    /// named person at its first password change (`takeover`): it gets that person's name and id
    /// and stops being the factory account (from then on it is suspended when unused, like any
    /// other), and a person who already holds an enabled account cannot take it (000 §6.3.b).
    pub fn change_password(
        &mut self,
        username: &str,
        new_password: &str,
        confirm: &str,
        takeover: Option<Takeover<'_>>,
        policy: &AdminPolicy,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let person_taken = |accounts: &BTreeMap<String, Account>, id: &str| {
            let id = id.trim().to_lowercase();
            accounts
                .values()
                .any(|a| a.username != username && !a.disabled && a.person_id.to_lowercase() == id)
        };
        let is_factory = self.get_mut(username)?.factory;
        let mut identity = None;
        if is_factory {
            let Some(t) = takeover else {
                return Err(AccountError::Invalid {
                    field: "full_name",
                    reason: "the person who takes over the factory account must be named".into(),
                });
            };
            if !(3..=MAX_NAME_CHARS).contains(&t.full_name.trim().chars().count()) {
                return Err(AccountError::Invalid {
                    field: "full_name",
                    reason: "the person who takes over the factory account must be named (3–100 characters)".into(),
                });
            }
            if !(3..=MAX_NAME_CHARS).contains(&t.person_id.trim().chars().count()) {
                return Err(AccountError::Invalid {
                    field: "person_id",
                    reason: "an e-mail or staff number that identifies the person is required (3–100 characters)"
                        .into(),
                });
            }
            if person_taken(&self.accounts, t.person_id) {
                return Err(AccountError::PersonHasAccount(t.person_id.trim().into()));
            }
            identity = Some((
                t.full_name.trim().to_string(),
                t.person_id.trim().to_string(),
            ));
        }
        let label_password = self.path.parent().map(|d| d.join(FACTORY_PASSWORD_FILE));
        let account = self.get_mut(username)?;
        let mut issues = password::check(new_password, username, account.role.is_admin(), policy);
        if new_password != confirm {
            issues.push(PasswordIssue::Mismatch);
        }
        if password::verify(new_password, &account.password_hash) {
            issues.push(PasswordIssue::SameAsCurrent);
        }
        if !issues.is_empty() {
            return Err(AccountError::WeakPassword(issues));
        }
        if let Some((name, person)) = identity {
            account.full_name = name;
            account.person_id = person;
            account.factory = false;
            account.last_active = Some(now);
            // The label's password is spent: the console stops showing it.
            if let Some(file) = &label_password {
                let _ = std::fs::remove_file(file);
            }
        }
        account.password_hash = password::hash(new_password).map_err(AccountError::Internal)?;
        account.password_changed_at = now;
        account.must_change_password = false;
        Ok(())
    }

    /// A system admin creates an account for a named person.
    pub fn create(
        &mut self,
        new: &NewAccount,
        approver: &str,
        policy: &AdminPolicy,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let username = new.username.trim();
        let request = checked_request(&new.request, new.role, approver)?;
        if new.expires_on.is_some_and(|d| d < now.date_naive()) {
            return Err(AccountError::Invalid {
                field: "expires_on",
                reason: "the account would be over before it starts".into(),
            });
        }
        if !valid_username(username) {
            return Err(AccountError::Invalid {
                field: "username",
                reason: "2–32 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter".into(),
            });
        }
        if SHARED_NAMES.contains(&username) || username == FACTORY_USERNAME {
            return Err(AccountError::Invalid {
                field: "username",
                reason: format!(
                    "'{username}' names no one: accounts are personal (one account per person)"
                ),
            });
        }
        if !(3..=MAX_NAME_CHARS).contains(&new.full_name.trim().chars().count()) {
            return Err(AccountError::Invalid {
                field: "full_name",
                reason: "the person's full name is required (3–100 characters)".into(),
            });
        }
        let person = new.person_id.trim().to_lowercase();
        if !(3..=MAX_NAME_CHARS).contains(&person.chars().count()) {
            return Err(AccountError::Invalid {
                field: "person_id",
                reason: "an e-mail or staff number that identifies the person is required (3–100 characters)".into(),
            });
        }
        if self.accounts.contains_key(username) {
            return Err(AccountError::Exists(username.into()));
        }
        if self
            .accounts
            .values()
            .any(|a| !a.disabled && a.person_id.to_lowercase() == person)
        {
            return Err(AccountError::PersonHasAccount(new.person_id.trim().into()));
        }
        let issues = password::check(&new.password, username, new.role.is_admin(), policy);
        if !issues.is_empty() {
            return Err(AccountError::WeakPassword(issues));
        }
        let account = Account {
            username: username.into(),
            full_name: new.full_name.trim().into(),
            person_id: new.person_id.trim().into(),
            role: new.role,
            password_hash: password::hash(&new.password).map_err(AccountError::Internal)?,
            password_changed_at: now,
            must_change_password: true,
            totp_secret: None,
            totp_last_step: 0,
            failures: Vec::new(),
            locked_at: None,
            suspended_at: None,
            disabled: false,
            created_at: now,
            last_active: Some(now),
            factory: false,
            request,
            expires_at: new
                .expires_on
                .and_then(|d| d.and_hms_opt(23, 59, 59))
                .map(|t| t.and_utc()),
        };
        self.accounts.insert(account.username.clone(), account);
        Ok(())
    }

    /// Unlock a locked account (and lift a suspension). Never by the account itself.
    pub fn unlock(
        &mut self,
        actor: &str,
        username: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        if actor == username {
            return Err(AccountError::Refused(
                "an account cannot unlock itself: another administrator must (003 §16.2)".into(),
            ));
        }
        let a = self.get_mut(username)?;
        a.locked_at = None;
        a.suspended_at = None;
        a.failures.clear();
        a.last_active = Some(now);
        Ok(())
    }

    /// Replace the password with a temporary one and force a change (and new TOTP) at next login.
    pub fn reset(
        &mut self,
        actor: &str,
        username: &str,
        temporary: &str,
        policy: &AdminPolicy,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        if actor == username {
            return Err(AccountError::Refused(
                "use “change password” for your own account".into(),
            ));
        }
        let a = self.get_mut(username)?;
        let issues = password::check(temporary, username, a.role.is_admin(), policy);
        if !issues.is_empty() {
            return Err(AccountError::WeakPassword(issues));
        }
        a.password_hash = password::hash(temporary).map_err(AccountError::Internal)?;
        a.password_changed_at = now;
        a.must_change_password = true;
        a.totp_secret = None;
        a.totp_last_step = 0;
        a.locked_at = None;
        a.failures.clear();
        Ok(())
    }

    pub fn set_role(
        &mut self,
        actor: &str,
        username: &str,
        role: Role,
    ) -> Result<(), AccountError> {
        if actor == username {
            return Err(AccountError::Refused(
                "you cannot change your own role".into(),
            ));
        }
        self.get_mut(username)?;
        if role != Role::SystemAdmin {
            self.ensure_system_admin_left_without(username)?;
        }
        self.get_mut(username)?.role = role;
        Ok(())
    }

    pub fn set_disabled(
        &mut self,
        actor: &str,
        username: &str,
        disabled: bool,
    ) -> Result<(), AccountError> {
        if actor == username {
            return Err(AccountError::Refused(
                "you cannot disable your own account".into(),
            ));
        }
        self.get_mut(username)?;
        if disabled {
            self.ensure_system_admin_left_without(username)?;
        }
        self.get_mut(username)?.disabled = disabled;
        Ok(())
    }

    /// Refuse a change of `username` that would leave nobody able to manage accounts.
    fn ensure_system_admin_left_without(&self, username: &str) -> Result<(), AccountError> {
        if self
            .accounts
            .values()
            .any(|a| a.username != username && a.role == Role::SystemAdmin && !a.disabled)
        {
            Ok(())
        } else {
            Err(AccountError::Refused(
                "at least one enabled system administrator must remain".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn store() -> (tempfile::TempDir, AccountStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = AccountStore::open(&dir.path().join("accounts.json"), t0()).unwrap();
        (dir, s)
    }

    fn sample_request() -> AccountRequest {
        AccountRequest {
            citizen_id: "001090012345".into(),
            phone: "0912 345 678".into(),
            department: "Phòng CNTT".into(),
            purpose: "quản trị cổng".into(),
            scope: "toàn bộ".into(),
            approved_by: String::new(),
        }
    }

    fn add(s: &mut AccountStore, name: &str, role: Role, now: DateTime<Utc>) {
        s.create(
            &NewAccount {
                username: name.into(),
                full_name: format!("Nguyễn Văn {name}"),
                person_id: format!("{name}@so.gov.vn"),
                role,
                password: "Tam-thoi-2026!".into(),
                request: sample_request(),
                expires_on: None,
            },
            "admin",
            &AdminPolicy::default(),
            now,
        )
        .unwrap();
    }

    /// 000 §9.1.g: an administrator account records who asked for it, why and for what, and
    /// who approved it; 000 §14.6.c: a vendor's account ends on its date.
    #[test]
    fn admin_accounts_record_their_request_and_vendor_accounts_end() {
        let (_d, mut s) = store();
        let p = AdminPolicy::default();
        let mut new = NewAccount {
            username: "vendor".into(),
            full_name: "Kỹ sư Nhà cung cấp".into(),
            person_id: "ks@vendor.vn".into(),
            role: Role::SecurityAdmin,
            password: "Tam-thoi-2026!".into(),
            request: AccountRequest::default(),
            expires_on: None,
        };
        assert!(matches!(
            s.create(&new, "minh", &p, t0()),
            Err(AccountError::Invalid {
                field: "citizen_id",
                ..
            })
        ));
        new.request = sample_request();
        new.request.citizen_id = "12345".into();
        assert!(matches!(
            s.create(&new, "minh", &p, t0()),
            Err(AccountError::Invalid {
                field: "citizen_id",
                ..
            })
        ));
        new.request = sample_request();
        new.request.approved_by = "someone-else".into();
        new.expires_on = Some((t0() + Duration::days(7)).date_naive());
        s.create(&new, "minh", &p, t0()).unwrap();
        let a = s.get("vendor").unwrap();
        assert_eq!(
            a.request.approved_by, "minh",
            "the creator approves, not the form"
        );
        assert_eq!(a.request.department, "Phòng CNTT");
        assert!(a.usable(t0() + Duration::days(7)));
        assert!(
            !a.usable(t0() + Duration::days(8)),
            "over after its last day"
        );
        assert_eq!(a.status(&p, t0() + Duration::days(8)), Status::Disabled);
        assert_eq!(
            s.attempt_login("vendor", "Tam-thoi-2026!", &p, t0() + Duration::days(8)),
            LoginOutcome::Disabled
        );
        // Everyone who can change anything enrols a second factor, operators too; a viewer
        // changes nothing and needs none.
        add(&mut s, "hoa", Role::Operator, t0());
        assert!(s.get("hoa").unwrap().needs_totp(&p));
        // A viewer needs no request.
        let viewer = NewAccount {
            username: "xem".into(),
            full_name: "Người Xem".into(),
            person_id: "xem@so.gov.vn".into(),
            role: Role::Viewer,
            password: "Tam-thoi-2026!".into(),
            request: AccountRequest::default(),
            expires_on: None,
        };
        s.create(&viewer, "minh", &p, t0()).unwrap();
        assert!(!s.get("xem").unwrap().needs_totp(&p));
    }

    /// 003 §20.2.b (no default passwords): a box with its own factory password (made at first
    /// boot, printed on its label) does not take the built-in one, and the label's password is
    /// spent once the account is taken over.
    #[test]
    fn a_box_with_its_own_factory_password_does_not_take_the_built_in_one() {
        let dir = tempfile::tempdir().unwrap();
        let label = dir.path().join(FACTORY_PASSWORD_FILE);
        std::fs::write(&label, "Nhan-7Q4K-XPRW\n").unwrap();
        let mut s = AccountStore::open(&dir.path().join("accounts.json"), t0()).unwrap();
        let p = AdminPolicy::default();
        assert!(matches!(
            s.attempt_login("admin", FACTORY_PASSWORD, &p, t0()),
            LoginOutcome::Refused { .. }
        ));
        assert_eq!(
            s.attempt_login("admin", "Nhan-7Q4K-XPRW", &p, t0()),
            LoginOutcome::Accepted(Stage::ChangePassword)
        );
        let who = Takeover {
            full_name: "Trần Thị B",
            person_id: "b@so.gov.vn",
        };
        s.change_password(
            "admin",
            "Moi-Mat-Khau-1",
            "Moi-Mat-Khau-1",
            Some(who),
            &p,
            t0(),
        )
        .unwrap();
        assert!(!label.exists(), "the label's password is spent");
    }

    #[test]
    fn factory_account_forces_password_then_totp() {
        let (_d, mut s) = store();
        let p = AdminPolicy::default();
        assert_eq!(
            s.attempt_login("admin", "edgeward", &p, t0()),
            LoginOutcome::Accepted(Stage::ChangePassword)
        );
        // The person taking over must be named, and the factory password cannot stay.
        assert!(
            s.change_password("admin", "Moi-Mat-Khau-1", "Moi-Mat-Khau-1", None, &p, t0())
                .is_err()
        );
        let who = Takeover {
            full_name: "Trần Thị B",
            person_id: "b@so.gov.vn",
        };
        match s.change_password("admin", "short", "short", Some(who), &p, t0()) {
            Err(AccountError::WeakPassword(i)) => {
                assert!(i.contains(&PasswordIssue::TooShort { min: 11 }));
            }
            other => panic!("{other:?}"),
        }
        s.change_password(
            "admin",
            "Moi-Mat-Khau-1",
            "Moi-Mat-Khau-1",
            Some(who),
            &p,
            t0(),
        )
        .unwrap();
        assert_eq!(
            s.get("admin").unwrap().stage_after_change(&p),
            Stage::EnrolTotp
        );
        assert!(matches!(
            s.attempt_login("admin", "edgeward", &p, t0()),
            LoginOutcome::Refused { .. }
        ));
        assert_eq!(
            s.attempt_login("admin", "Moi-Mat-Khau-1", &p, t0()),
            LoginOutcome::Accepted(Stage::EnrolTotp)
        );
        let secret = totp::new_secret().unwrap();
        let now = t0();
        let code = totp::code_at(&secret, now.timestamp() as u64).unwrap();
        assert!(
            s.enrol_totp("admin", &secret, "000000", None, &p, now)
                .is_err()
                || code == "000000"
        );
        s.enrol_totp("admin", &secret, &code, None, &p, now)
            .unwrap();
        let later = now + Duration::seconds(60);
        assert_eq!(
            s.attempt_login("admin", "Moi-Mat-Khau-1", &p, later),
            LoginOutcome::Accepted(Stage::VerifyTotp)
        );
        let code = totp::code_at(&secret, later.timestamp() as u64).unwrap();
        assert_eq!(
            s.verify_totp("admin", &code, &p, later).unwrap(),
            LoginOutcome::Accepted(Stage::Full)
        );
        // The same code again is a replay.
        assert!(matches!(
            s.verify_totp("admin", &code, &p, later).unwrap(),
            LoginOutcome::Refused { .. }
        ));
        // Once the password has expired, the second factor still comes first: the password
        // alone cannot replace the password.
        s.get_mut("admin").unwrap().password_changed_at -= Duration::days(61);
        let expired = later + Duration::seconds(60);
        assert_eq!(
            s.attempt_login("admin", "Moi-Mat-Khau-1", &p, expired),
            LoginOutcome::Accepted(Stage::VerifyTotp)
        );
        let code = totp::code_at(&secret, expired.timestamp() as u64).unwrap();
        assert_eq!(
            s.verify_totp("admin", &code, &p, expired).unwrap(),
            LoginOutcome::Accepted(Stage::ChangePassword)
        );
    }

    #[test]
    fn five_failures_in_thirty_minutes_lock_until_another_admin_unlocks() {
        let (_d, mut s) = store();
        let p = AdminPolicy::default();
        add(&mut s, "lan", Role::Operator, t0());
        add(&mut s, "minh", Role::SystemAdmin, t0());
        for i in 1..=4 {
            assert_eq!(
                s.attempt_login("lan", "wrong", &p, t0() + Duration::minutes(i)),
                LoginOutcome::Refused {
                    failures_in_window: i as u32
                }
            );
        }
        assert_eq!(
            s.attempt_login("lan", "wrong", &p, t0() + Duration::minutes(5)),
            LoginOutcome::NowLocked
        );
        // Even the right password is refused now, and time does not unlock it.
        assert_eq!(
            s.attempt_login("lan", "Tam-thoi-2026!", &p, t0() + Duration::days(1)),
            LoginOutcome::Locked
        );
        assert!(s.unlock("lan", "lan", t0()).is_err(), "not by itself");
        s.unlock("minh", "lan", t0() + Duration::days(1)).unwrap();
        assert!(matches!(
            s.attempt_login("lan", "Tam-thoi-2026!", &p, t0() + Duration::days(1)),
            LoginOutcome::Accepted(_)
        ));
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let (_d, mut s) = store();
        let p = AdminPolicy::default();
        add(&mut s, "lan", Role::Operator, t0());
        for i in 0..4 {
            s.attempt_login("lan", "wrong", &p, t0() + Duration::minutes(i * 10));
        }
        // 40 minutes after the first: the first two are outside the 30-minute window.
        assert_eq!(
            s.attempt_login("lan", "wrong", &p, t0() + Duration::minutes(40)),
            LoginOutcome::Refused {
                failures_in_window: 3
            }
        );
    }

    #[test]
    fn thirty_days_unused_suspends_and_sixty_days_expire_admin_passwords() {
        let (_d, mut s) = store();
        let p = AdminPolicy::default();
        add(&mut s, "lan", Role::Operator, t0());
        add(&mut s, "minh", Role::SecurityAdmin, t0());
        assert_eq!(
            s.attempt_login("lan", "Tam-thoi-2026!", &p, t0() + Duration::days(31)),
            LoginOutcome::Suspended
        );
        assert_eq!(
            s.get("lan").unwrap().status(&p, t0() + Duration::days(31)),
            Status::Suspended
        );
        // minh logs in regularly, but the password is 61 days old.
        s.get_mut("minh").unwrap().must_change_password = false;
        s.get_mut("minh").unwrap().last_active = Some(t0() + Duration::days(60));
        assert_eq!(
            s.attempt_login("minh", "Tam-thoi-2026!", &p, t0() + Duration::days(61)),
            LoginOutcome::Accepted(Stage::ChangePassword)
        );
    }

    #[test]
    fn accounts_are_personal_and_roles_protected() {
        let (_d, mut s) = store();
        let p = AdminPolicy::default();
        add(&mut s, "lan", Role::Operator, t0());
        let mut dup = NewAccount {
            username: "lan2".into(),
            full_name: "Nguyễn Văn lan".into(),
            person_id: "LAN@so.gov.vn".into(),
            role: Role::Viewer,
            password: "Tam-thoi-2026!".into(),
            request: AccountRequest::default(),
            expires_on: None,
        };
        assert!(matches!(
            s.create(&dup, "admin", &p, t0()),
            Err(AccountError::PersonHasAccount(_))
        ));
        dup.person_id = "x@y.vn".into();
        dup.username = "shared".into();
        assert!(matches!(
            s.create(&dup, "admin", &p, t0()),
            Err(AccountError::Invalid {
                field: "username",
                ..
            })
        ));
        assert!(s.set_role("admin", "admin", Role::Viewer).is_err());
        assert!(
            s.set_disabled("lan", "admin", true).is_err(),
            "last system admin stays"
        );
    }

    #[test]
    fn console_recovery_reopens_a_locked_admin_and_the_daemon_notices() {
        let (d, mut daemon_view) = store();
        let p = AdminPolicy::default();
        for i in 0..5 {
            daemon_view.attempt_login("admin", "wrong", &p, t0() + Duration::minutes(i));
        }
        daemon_view.save().unwrap();
        assert!(
            !daemon_view.refresh_if_changed().unwrap(),
            "its own save is not news"
        );
        // At the console: another process edits the file.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut console = AccountStore::open(&d.path().join("accounts.json"), t0()).unwrap();
        let temporary = console.recover("admin", t0()).unwrap();
        assert!(
            password::check(&temporary, "admin", true, &p).is_empty(),
            "{temporary}"
        );
        console.save().unwrap();
        assert!(daemon_view.refresh_if_changed().unwrap());
        assert_eq!(
            daemon_view.attempt_login("admin", &temporary, &p, t0()),
            LoginOutcome::Accepted(Stage::ChangePassword)
        );
    }

    #[test]
    fn store_survives_reopen_and_refuses_damage() {
        let (d, mut s) = store();
        add(&mut s, "lan", Role::Viewer, t0());
        s.save().unwrap();
        let again = AccountStore::open(&d.path().join("accounts.json"), t0()).unwrap();
        assert!(again.get("lan").is_some());
        std::fs::write(d.path().join("accounts.json"), "{").unwrap();
        assert!(AccountStore::open(&d.path().join("accounts.json"), t0()).is_err());
    }
}
