//! `chronyc -c tracking`: the CSV line chrony reports about its reference and the clock.

use serde::{Deserialize, Serialize};

/// What the system page and the alarm need of the tracking report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tracking {
    /// The source's address or name (`127.127.1.1`-style and empty when unsynchronised).
    pub reference: String,
    pub stratum: u32,
    /// How far the system clock is from NTP time, in milliseconds (positive: slow).
    pub offset_ms: f64,
    /// `Normal`, `Insert second`, `Delete second` or `Not synchronised`.
    pub leap: String,
}

impl Tracking {
    /// Whether chrony has a usable reference.
    pub fn synchronised(&self) -> bool {
        self.leap != "Not synchronised" && self.stratum > 0 && self.stratum < 16
    }
}

/// Parse the first line of `chronyc -c tracking`; `None` if it is not one.
pub fn parse(csv: &str) -> Option<Tracking> {
    let line = csv.lines().next()?;
    let fields: Vec<&str> = line.split(',').collect();
    if fields.len() < 14 {
        return None;
    }
    let offset_s: f64 = fields[4].trim().parse().ok()?;
    if !offset_s.is_finite() {
        return None;
    }
    Some(Tracking {
        reference: fields[1].trim().to_string(),
        stratum: fields[2].trim().parse().ok()?,
        offset_ms: offset_s * 1000.0,
        leap: fields[13].trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_synchronised_report() {
        let t = parse("0A4D0001,10.77.0.1,2,1796176143.532329217,5.000032425,0.000000170,0.000005323,-0.260,0.003,0.514,0.000102810,0.000248635,1.0,Normal\n").unwrap();
        assert_eq!(t.reference, "10.77.0.1");
        assert_eq!(t.stratum, 2);
        assert!((t.offset_ms - 5000.032).abs() < 0.01);
        assert!(t.synchronised());
    }

    #[test]
    fn an_unsynchronised_report() {
        let t = parse("00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,1.000000000,1.000000000,0.0,Not synchronised\n").unwrap();
        assert!(!t.synchronised());
    }

    proptest! {
        #[test]
        fn anything_parses_or_is_refused_without_panicking(s in ".{0,300}") {
            let _ = parse(&s);
        }
    }
}
