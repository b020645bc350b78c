//! Who made a network card, from its MAC's first three bytes: the IEEE's public registry as
//! Debian's `ieee-data` ships it (`/usr/share/ieee-data/oui.csv`, kept up to date by the
//! package), and whether a MAC is locally administered — randomised by a phone or laptop for
//! privacy, or made up — in which case no maker can be named.

use std::collections::HashMap;
use std::path::Path;

/// The registry file Debian's `ieee-data` installs.
pub const DEBIAN_OUI_CSV: &str = "/usr/share/ieee-data/oui.csv";

/// MAC prefix → organisation.
#[derive(Debug, Default, Clone)]
pub struct OuiTable {
    by_prefix: HashMap<[u8; 3], String>,
}

/// The first three bytes of `mac` (`aa:bb:cc:…` or `aa-bb-cc-…`).
fn prefix(mac: &str) -> Option<[u8; 3]> {
    let mut out = [0u8; 3];
    let mut parts = mac.split([':', '-']);
    for b in &mut out {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    Some(out)
}

/// A locally administered MAC (bit 1 of the first byte): a randomised or made-up address.
pub fn is_locally_administered(mac: &str) -> bool {
    prefix(mac).is_some_and(|p| p[0] & 0x02 != 0)
}

impl OuiTable {
    /// The table from the registry's CSV (`Registry,Assignment,Organization Name,…`); rows that
    /// do not parse are skipped.
    pub fn parse_csv(text: &str) -> OuiTable {
        let mut by_prefix = HashMap::new();
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(text.as_bytes());
        for rec in rdr.records().flatten() {
            let (Some(assignment), Some(org)) = (rec.get(1), rec.get(2)) else {
                continue;
            };
            if assignment.len() != 6 {
                continue;
            }
            let Ok(n) = u32::from_str_radix(assignment, 16) else {
                continue;
            };
            let [_, a, b, c] = n.to_be_bytes();
            by_prefix.insert([a, b, c], org.trim().to_string());
        }
        OuiTable { by_prefix }
    }

    /// The table from `path`; empty (every lookup unknown) when the file is missing.
    pub fn load(path: &Path) -> OuiTable {
        std::fs::read_to_string(path)
            .map(|t| OuiTable::parse_csv(&t))
            .unwrap_or_default()
    }

    /// Entries known.
    pub fn len(&self) -> usize {
        self.by_prefix.len()
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.by_prefix.is_empty()
    }

    /// The maker of `mac`'s card; none for a locally administered MAC.
    pub fn vendor(&self, mac: &str) -> Option<&str> {
        if is_locally_administered(mac) {
            return None;
        }
        self.by_prefix.get(&prefix(mac)?).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Registry,Assignment,Organization Name,Organization Address\n\
MA-L,002272,American Micro-Fuel Device Corp.,2181 Buchanan Loop Ferndale WA US 98248 \n\
MA-L,3C5AB4,Google, Inc.,1600 Amphitheatre Parkway Mountain View CA US 94043 \n\
MA-L,\"F4F5D8\",\"Google, Inc.\",\"1600 Amphitheatre Parkway\"\n\
MA-L,XYZ,broken,\n";

    #[test]
    fn makers_are_found_by_prefix_in_either_notation() {
        let t = OuiTable::parse_csv(SAMPLE);
        assert_eq!(t.len(), 3);
        assert_eq!(
            t.vendor("00:22:72:01:02:03"),
            Some("American Micro-Fuel Device Corp.")
        );
        assert_eq!(t.vendor("F4-F5-D8-aa-bb-cc"), Some("Google, Inc."));
        assert_eq!(t.vendor("00:00:01:00:00:00"), None);
        assert_eq!(t.vendor("garbage"), None);
    }

    #[test]
    fn a_locally_administered_mac_has_no_maker() {
        assert!(is_locally_administered("02:ed:00:00:00:77"));
        assert!(is_locally_administered("da:a1:19:00:00:01"));
        assert!(!is_locally_administered("00:22:72:01:02:03"));
        let t = OuiTable::parse_csv("Registry,Assignment,Organization Name\nMA-L,02ED00,X\n");
        assert_eq!(t.vendor("02:ed:00:00:00:01"), None);
    }

    /// Debian's registry (installed by `scripts/setup.sh`) names a well-known maker.
    #[test]
    fn the_installed_registry_loads() {
        let t = OuiTable::load(Path::new(DEBIAN_OUI_CSV));
        assert!(
            !t.is_empty(),
            "{DEBIAN_OUI_CSV} missing: scripts/setup.sh installs ieee-data"
        );
        assert!(t.len() > 10_000, "{}", t.len());
        assert!(
            t.vendor("00:00:0c:00:00:00")
                .is_some_and(|v| v.contains("Cisco"))
        );
    }
}
