//! Which packets a zone interface's ring inspects, so that no packet is inspected twice: traffic
//! to or from the uplinks is inspected on the uplink (skipped here), and traffic between two
//! internal zones — seen on both zones' interfaces — only on the interface of the zone listed
//! first. Both directions of a flow pass the same interface, so the flow stays whole on one
//! worker. Decided from the frame's addresses alone (no allocation).

use std::net::IpAddr;

use ipnetwork::IpNetwork;

/// The filter of one zone interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneFilter {
    /// This interface's zone (its position among the internal zones).
    pub zone: u16,
    /// Every internal zone's prefixes with the zone's position.
    pub prefixes: Vec<(IpNetwork, u16)>,
}

/// Source and destination of an Ethernet frame carrying IPv4 or IPv6.
fn addresses(frame: &[u8]) -> Option<(IpAddr, IpAddr)> {
    let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    match ethertype {
        0x0800 => {
            let h = frame.get(14..34)?;
            let src: [u8; 4] = h[12..16].try_into().ok()?;
            let dst: [u8; 4] = h[16..20].try_into().ok()?;
            Some((IpAddr::from(src), IpAddr::from(dst)))
        }
        0x86DD => {
            let h = frame.get(14..54)?;
            let src: [u8; 16] = h[8..24].try_into().ok()?;
            let dst: [u8; 16] = h[24..40].try_into().ok()?;
            Some((IpAddr::from(src), IpAddr::from(dst)))
        }
        _ => None,
    }
}

impl ZoneFilter {
    fn zone_of(&self, ip: IpAddr) -> Option<u16> {
        self.prefixes
            .iter()
            .find(|(net, _)| net.contains(ip))
            .map(|(_, z)| *z)
    }

    /// Whether this interface inspects the frame.
    pub fn keep(&self, frame: &[u8]) -> bool {
        let Some((src, dst)) = addresses(frame) else {
            return false;
        };
        match (self.zone_of(src), self.zone_of(dst)) {
            (Some(a), Some(b)) => a.min(b) == self.zone,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        let mut f = vec![0u8; 34];
        f[12] = 0x08;
        f[14] = 0x45;
        f[26..30].copy_from_slice(&src);
        f[30..34].copy_from_slice(&dst);
        f
    }

    fn filters() -> (ZoneFilter, ZoneFilter) {
        let prefixes = vec![
            ("10.10.0.0/24".parse().unwrap(), 0),
            ("10.10.10.0/24".parse().unwrap(), 1),
            ("fd00:10::/64".parse().unwrap(), 0),
        ];
        (
            ZoneFilter {
                zone: 0,
                prefixes: prefixes.clone(),
            },
            ZoneFilter { zone: 1, prefixes },
        )
    }

    #[test]
    fn each_packet_between_zones_is_kept_on_exactly_one_interface_both_ways() {
        let (staff, servers) = filters();
        for f in [
            frame([10, 10, 0, 11], [10, 10, 10, 5]),
            frame([10, 10, 10, 5], [10, 10, 0, 11]),
        ] {
            assert!(staff.keep(&f));
            assert!(!servers.keep(&f));
        }
        // Within one zone (or to the gateway's own address in it): that zone's interface.
        assert!(servers.keep(&frame([10, 10, 10, 5], [10, 10, 10, 1])));
    }

    #[test]
    fn uplink_traffic_and_other_frames_are_left_to_the_uplinks() {
        let (staff, _) = filters();
        assert!(!staff.keep(&frame([10, 10, 0, 11], [192, 0, 2, 80])));
        assert!(!staff.keep(&frame([192, 0, 2, 80], [10, 10, 0, 11])));
        let mut arp = frame([10, 10, 0, 11], [10, 10, 0, 1]);
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert!(!staff.keep(&arp));
        assert!(!staff.keep(&[0u8; 10]));
        let mut v6 = vec![0u8; 54];
        v6[12..14].copy_from_slice(&[0x86, 0xdd]);
        v6[22..24].copy_from_slice(&[0xfd, 0x00]);
        v6[24..26].copy_from_slice(&[0x00, 0x10]);
        v6[38..40].copy_from_slice(&[0xfd, 0x00]);
        v6[40..42].copy_from_slice(&[0x00, 0x10]);
        assert!(staff.keep(&v6));
    }
}
