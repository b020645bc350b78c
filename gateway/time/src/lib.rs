//! Time synchronisation (003 §30.8): log timestamps, TOTP codes and certificates depend on the
//! clock. [`render`] turns the model's `[time]` section into chrony's configuration, [`tracking`]
//! reads `chronyc -c tracking`, and [`alarm`] decides when the offset is an alarm. The daemon
//! runs chronyd (the real NTP client and server) and feeds these.

pub mod alarm;
pub mod render;
pub mod tracking;
