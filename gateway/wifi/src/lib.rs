//! `edgeward-wifi`: the appliance's access point, driven by hostapd.
//!
//! Pure parts only: [`plan`] turns the model's radios and Wi-Fi networks into one hostapd
//! configuration per radio (a BSS per SSID, each bridged into its zone) and the PSK files that
//! hold the WPA2 passphrases (reloaded without restarting the radio on rotation);
//! [`hostapd`] writes a configuration; [`qr`] the text of a Wi-Fi QR code for the printable
//! sheet; [`ctrl`] parses hostapd's control-socket replies and events. The daemon's `wifi`
//! subsystem runs hostapd with them.

pub mod ctrl;
pub mod hostapd;
pub mod plan;
pub mod qr;
pub mod rotation;

pub use hostapd::{Bss, RadioSpec};
pub use plan::{RadioPlan, plan};
