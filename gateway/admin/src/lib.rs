//! `edgeward-admin`: the rules of the appliance's own administration, as plain code the web
//! plane (`gateway/web`) and the console (`edgeward accounts`) call — no HTTP here.
//!
//! - [`accounts`]: one account per person with the request behind it (000 §9.1.g), lockout,
//!   suspension, expiry, time-boxed accounts, the factory account's takeover;
//! - [`password`] policy and hashing (argon2id); [`totp`] second factors;
//! - [`session`]: login sessions, CSRF tokens, the per-source login limit;
//! - [`roles`]: roles, permissions and which role owns each configuration section;
//! - [`backup`]: encrypted configuration backups; [`autobackup`]: the backup of every confirmed
//!   configuration, sealed with the gateway's key and verified after writing.

pub mod accounts;
pub mod autobackup;
pub mod backup;
pub mod ct;
pub mod password;
pub mod roles;
pub mod session;
pub mod totp;
