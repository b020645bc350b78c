//! Packet decoding: Ethernet (with VLAN tags) or raw IP → IPv4/IPv6 → TCP/UDP/ICMP, borrowing the
//! frame (no copy, no allocation). An IP fragment is returned as such ([`Fragment`]); the
//! engine reassembles fragments ([`crate::defrag`]) and decodes the whole datagram again.

use std::net::IpAddr;

use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};

/// IANA protocol numbers used by the engine.
pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const ICMP: u8 = 1;
pub const ICMPV6: u8 = 58;

/// Link types the decoder reads (pcap's LINKTYPE values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Ethernet,
    RawIp,
}

/// TCP header fields the engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpInfo {
    pub seq: u32,
    pub ack: u32,
    /// FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 URG=0x20 ECE=0x40 CWR=0x80.
    pub flags: u8,
}

impl TcpInfo {
    pub fn syn(&self) -> bool {
        self.flags & 0x02 != 0
    }
    pub fn ack_flag(&self) -> bool {
        self.flags & 0x10 != 0
    }
    pub fn fin(&self) -> bool {
        self.flags & 0x01 != 0
    }
    pub fn rst(&self) -> bool {
        self.flags & 0x04 != 0
    }
}

/// One IP fragment (IPv4, or IPv6 with a Fragment header).
#[derive(Debug, Clone, Copy)]
pub struct Fragment<'a> {
    /// Identification (IPv4: 16 bits).
    pub id: u32,
    /// Offset of `data` in the datagram's payload, in bytes.
    pub offset: usize,
    /// More fragments follow.
    pub more: bool,
    pub v6: bool,
    /// The fixed IP header of this fragment (IPv4: 20 bytes, options dropped; IPv6: 40), copied:
    /// the first fragment's becomes the reassembled datagram's.
    pub header: [u8; 40],
    pub data: &'a [u8],
}

/// The Fragment header among IPv6 extension headers `exts` (starting with type `next`): its
/// identification, byte offset and M flag (RFC 8200 §4.5).
fn ipv6_fragment(mut next: u8, exts: &[u8]) -> Option<(u32, usize, bool)> {
    let mut at = 0usize;
    for _ in 0..8 {
        let h = exts.get(at..)?;
        match next {
            44 => {
                let f = h.get(..8)?;
                let off = u16::from_be_bytes([f[2], f[3]]);
                let id = u32::from_be_bytes([f[4], f[5], f[6], f[7]]);
                return Some((id, usize::from(off & 0xfff8), off & 1 != 0));
            }
            // Hop-by-hop, routing, destination options: (len + 1) * 8 bytes.
            0 | 43 | 60 => {
                next = *h.first()?;
                at += (usize::from(*h.get(1)?) + 1) * 8;
            }
            // Authentication header: (len + 2) * 4 bytes.
            51 => {
                next = *h.first()?;
                at += (usize::from(*h.get(1)?) + 2) * 4;
            }
            _ => return None,
        }
    }
    None
}

/// IPv6 payload length minus the extension headers before the transport.
fn ip_payload_len_hint(ip: &etherparse::LaxIpv6Slice<'_>) -> usize {
    usize::from(ip.header().payload_length()).saturating_sub(ip.extensions().slice().len())
}

fn fixed_header(h: &[u8], len: usize) -> [u8; 40] {
    let mut out = [0u8; 40];
    let n = len.min(h.len());
    out[..n].copy_from_slice(&h[..n]);
    out
}

/// A decoded packet borrowing its frame.
#[derive(Debug, Clone)]
pub struct Packet<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IP protocol number.
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
    pub tcp: Option<TcpInfo>,
    /// ICMP type and code.
    pub icmp: Option<(u8, u8)>,
    pub payload: &'a [u8],
    /// Length of the frame on the wire.
    pub wire_len: usize,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// Set when this is an IP fragment: the transport is not decoded.
    pub frag: Option<Fragment<'a>>,
    /// The whole transport segment (header and payload), for checksum validation.
    pub transport: &'a [u8],
    /// Whether `transport` is as long as the IP header says (not cut by the capture).
    pub transport_complete: bool,
}

impl Packet<'_> {
    /// Whether the TCP or UDP checksum is right (other protocols, and IPv4 UDP without a
    /// checksum, count as right). A host drops a segment whose checksum is wrong, so an IDS
    /// that inspected it would see bytes the host never got (an insertion attack).
    pub fn checksum_ok(&self) -> bool {
        if self.frag.is_some()
            || !self.transport_complete
            || !(self.proto == TCP || self.proto == UDP)
        {
            return true;
        }
        let seg = self.transport;
        if self.proto == UDP && seg.len() >= 8 && seg[6] == 0 && seg[7] == 0 && self.src.is_ipv4() {
            return true;
        }
        let mut sum: u64 = 0;
        match (self.src, self.dst) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                sum += ones_sum(&a.octets()) + ones_sum(&b.octets());
                sum += u64::from(self.proto) + seg.len() as u64;
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                sum += ones_sum(&a.octets()) + ones_sum(&b.octets());
                sum += u64::from(self.proto) + seg.len() as u64;
            }
            _ => return true,
        }
        sum += ones_sum(seg);
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum == 0xffff
    }
}

/// Sum of big-endian 16-bit words (odd tail padded with zero), not yet folded.
fn ones_sum(data: &[u8]) -> u64 {
    let mut sum: u64 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        sum += (w >> 48) + ((w >> 32) & 0xffff) + ((w >> 16) & 0xffff) + (w & 0xffff);
    }
    let mut rest = chunks.remainder().chunks_exact(2);
    for c in &mut rest {
        sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = rest.remainder() {
        sum += u64::from(*b) << 8;
    }
    sum
}

/// Why a frame was not decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed frame: {0}")]
    Malformed(String),
    #[error("not IP")]
    NotIp,
}

/// Decode one frame.
pub fn decode(frame: &[u8], link: Link) -> Result<Packet<'_>, DecodeError> {
    let sliced = match link {
        Link::Ethernet => LaxSlicedPacket::from_ethernet(frame)
            .map_err(|e| DecodeError::Malformed(e.to_string()))?,
        Link::RawIp => {
            LaxSlicedPacket::from_ip(frame).map_err(|e| DecodeError::Malformed(e.to_string()))?
        }
    };
    let (src, dst, ip_payload, proto, ttl, frag, claimed) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            let h = ip.header();
            let p = ip.payload();
            let frag = p.fragmented.then(|| Fragment {
                id: u32::from(h.identification()),
                offset: usize::from(h.fragments_offset().byte_offset()),
                more: h.more_fragments(),
                v6: false,
                header: fixed_header(h.slice(), 20),
                data: p.payload,
            });
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                p.payload,
                p.ip_number.0,
                h.ttl(),
                frag,
                usize::from(h.total_len()).saturating_sub(usize::from(h.ihl()) * 4),
            )
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
            let h = ip.header();
            let p = ip.payload();
            // Every Fragment header is looked at (not only when etherparse says "fragmented":
            // it decides from misread bits); an atomic fragment (offset 0, no M) is whole. The
            // extension headers are walked here with bounds checks: etherparse 0.19's extension
            // iterator reads past the buffer on malformed headers (found by the fuzz target).
            let frag = ipv6_fragment(h.next_header().0, ip.extensions().slice())
                .map(|(id, offset, more)| Fragment {
                    id,
                    offset,
                    more,
                    v6: true,
                    header: fixed_header(h.slice(), 40),
                    data: p.payload,
                })
                .filter(|f| f.offset != 0 || f.more);
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                p.payload,
                p.ip_number.0,
                h.hop_limit(),
                frag,
                // Extension headers are not counted in the payload slice: only a shorter frame
                // than the header claims matters here.
                usize::from(h.payload_length()).min(ip_payload_len_hint(ip)),
            )
        }
        Some(LaxNetSlice::Arp(_)) | None => return Err(DecodeError::NotIp),
    };
    let fragmented = frag.is_some();
    let mut packet = Packet {
        src,
        dst,
        proto,
        sport: 0,
        dport: 0,
        tcp: None,
        icmp: None,
        payload: ip_payload,
        wire_len: frame.len(),
        ttl,
        frag,
        transport: ip_payload,
        transport_complete: ip_payload.len() >= claimed,
    };
    if fragmented {
        return Ok(packet);
    }
    match &sliced.transport {
        Some(TransportSlice::Tcp(t)) => {
            packet.sport = t.source_port();
            packet.dport = t.destination_port();
            let flags = u8::from(t.fin())
                | u8::from(t.syn()) << 1
                | u8::from(t.rst()) << 2
                | u8::from(t.psh()) << 3
                | u8::from(t.ack()) << 4
                | u8::from(t.urg()) << 5
                | u8::from(t.ece()) << 6
                | u8::from(t.cwr()) << 7;
            packet.tcp = Some(TcpInfo {
                seq: t.sequence_number(),
                ack: t.acknowledgment_number(),
                flags,
            });
            packet.payload = t.payload();
        }
        Some(TransportSlice::Udp(u)) => {
            packet.sport = u.source_port();
            packet.dport = u.destination_port();
            packet.payload = u.payload();
        }
        Some(TransportSlice::Icmpv4(i)) => {
            packet.icmp = Some((i.type_u8(), i.code_u8()));
            packet.payload = i.payload();
        }
        Some(TransportSlice::Icmpv6(i)) => {
            packet.icmp = Some((i.type_u8(), i.code_u8()));
            packet.payload = i.payload();
        }
        None => {}
    }
    Ok(packet)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv6 fragment is recognised with its offset, flag, id and next protocol.
    #[test]
    fn ipv6_fragment_header_is_read() {
        // Ethernet + IPv6 (next header 44) + Fragment header (next 17, offset 1 (8 bytes), M) + 8 bytes.
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x86, 0xdd]);
        f.extend_from_slice(&[0x60, 0, 0, 0, 0, 16, 44, 64]);
        f.extend_from_slice(&[0xfd; 16]);
        f.extend_from_slice(&[0xfe; 16]);
        f.extend_from_slice(&[17, 0, 0, 9, 0, 0, 0x12, 0x34]);
        f.extend_from_slice(b"abcdefgh");
        let p = decode(&f, Link::Ethernet).unwrap();
        let frag = p.frag.expect("a fragment");
        assert_eq!(
            (frag.offset, frag.more, frag.id, frag.v6),
            (8, true, 0x1234, true)
        );
        assert_eq!(p.proto, 17);
        assert_eq!(frag.data, b"abcdefgh");
    }
}

#[cfg(test)]
mod malformed {
    use super::*;

    /// Extension headers whose lengths run past the packet never read out of bounds (the fuzz
    /// target found etherparse's own iterator doing so).
    #[test]
    fn truncated_ipv6_extension_chains_are_safe() {
        for next in [0u8, 43, 44, 51, 60] {
            for len_byte in [0u8, 1, 7, 255] {
                for tail in 0..24usize {
                    let mut f = vec![0x60, 0, 0, 0, 0, tail as u8, next, 64];
                    f.extend_from_slice(&[0xfd; 32]);
                    let mut ext = vec![44u8, len_byte, 0, 9, 0, 0, 0, 1];
                    ext.resize(tail, 0xaa);
                    f.extend_from_slice(&ext);
                    let _ = decode(&f, Link::RawIp);
                }
            }
        }
        assert_eq!(ipv6_fragment(0, &[44, 200]), None);
        assert_eq!(
            ipv6_fragment(44, &[17, 0, 0, 9, 0, 0, 0, 7]),
            Some((7, 8, true))
        );
    }
}
