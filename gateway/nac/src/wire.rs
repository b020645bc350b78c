//! DHCP on the wire, as the gateway's listener sees it on an internal segment: an Ethernet
//! frame → IPv4 → UDP 67/68 → a DHCP message (RFC 2131's fixed header, the magic cookie and the
//! options' type-length-value list), reduced to what NAC uses — who sent it, which message it
//! is, and the client's fingerprint (option 55, vendor class, hostname); and the DHCPDISCOVER
//! probe the gateway broadcasts to make every server on the segment answer. Read by hand, not
//! with `dhcproto`: that crate's option decoder asserts on lengths a sender chooses (found by
//! this module's property test), and NAC needs five options of a format that has not changed
//! since 1997. Frames from the wire are untrusted: every failure is an error naming the layer
//! and offset, never a panic.

use std::net::Ipv4Addr;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};

/// Why a frame is not a DHCP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Ethernet/IP/UDP headers do not parse.
    #[error("headers: {0}")]
    Headers(String),
    /// Not IPv4 UDP between ports 67 and 68.
    #[error("not DHCP (IPv4 UDP port 67/68)")]
    NotDhcp,
    /// The BOOTP/DHCP payload does not parse.
    #[error("DHCP message: {0}")]
    Message(String),
    /// A BOOTP message without a DHCP message type (option 53).
    #[error("no DHCP message type (option 53)")]
    NoMessageType,
}

/// Who speaks in a DHCP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A client (DISCOVER, REQUEST, DECLINE, RELEASE, INFORM).
    Client,
    /// A server (OFFER, ACK, NAK).
    Server,
}

/// What NAC keeps of one DHCP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// Source MAC of the frame (the server's for a server message).
    pub src_mac: String,
    /// Source IPv4 address.
    pub src_ip: Ipv4Addr,
    /// The message type's name (`DISCOVER`, `OFFER`, …).
    pub message: &'static str,
    /// Client or server.
    pub role: Role,
    /// The client hardware address in the message, `aa:bb:…`.
    pub client_mac: String,
    /// Transaction id.
    pub xid: u32,
    /// The address offered or acknowledged (servers).
    pub your_ip: Ipv4Addr,
    /// Option 54: the server's identifier.
    pub server_id: Option<Ipv4Addr>,
    /// Option 55 as a list of codes, `1,3,6,15` (the client's fingerprint).
    pub params: String,
    /// Option 60, printable.
    pub vendor_class: Option<String>,
    /// Option 12, printable.
    pub hostname: Option<String>,
}

/// `aa:bb:cc:dd:ee:ff` from six bytes (fewer or more: what there is).
pub fn mac_text(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Text a person can read from bytes a client chose: printable ASCII kept, the rest dropped,
/// at most 64 characters.
fn printable(b: &[u8]) -> String {
    b.iter()
        .filter(|c| c.is_ascii_graphic() || **c == b' ')
        .take(64)
        .map(|c| char::from(*c))
        .collect()
}

/// RFC 2132's magic cookie before the options.
const COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Bytes of the fixed BOOTP header before the cookie.
const FIXED: usize = 236;

fn name(t: u8) -> (&'static str, Role) {
    match t {
        1 => ("DISCOVER", Role::Client),
        3 => ("REQUEST", Role::Client),
        4 => ("DECLINE", Role::Client),
        7 => ("RELEASE", Role::Client),
        8 => ("INFORM", Role::Client),
        2 => ("OFFER", Role::Server),
        5 => ("ACK", Role::Server),
        6 => ("NAK", Role::Server),
        _ => ("OTHER", Role::Server),
    }
}

fn ipv4_at(b: &[u8], at: usize) -> Ipv4Addr {
    match b.get(at..at + 4) {
        Some(&[a, b2, c, d]) => Ipv4Addr::new(a, b2, c, d),
        _ => Ipv4Addr::UNSPECIFIED,
    }
}

/// The DHCP message in a UDP payload, with the frame's source MAC and IP.
pub fn parse_message(payload: &[u8], src_mac: String, src_ip: Ipv4Addr) -> Result<Seen, WireError> {
    let bad = |what: &str| WireError::Message(what.to_string());
    if payload.len() < FIXED + COOKIE.len() {
        return Err(bad("shorter than the BOOTP header"));
    }
    if payload[FIXED..FIXED + 4] != COOKIE {
        return Err(bad("no DHCP magic cookie at offset 236"));
    }
    let hlen = usize::from(payload[2]).min(16);
    let chaddr = &payload[28..28 + hlen.min(6)];
    let xid = u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]);
    let mut message_type = None;
    let (mut params, mut vendor_class, mut hostname, mut server_id) =
        (String::new(), None, None, None);
    let opts = &payload[FIXED + 4..];
    let mut i = 0;
    while i < opts.len() {
        let code = opts[i];
        match code {
            0 => {
                i += 1;
                continue;
            }
            255 => break,
            _ => {}
        }
        let len = usize::from(*opts.get(i + 1).ok_or_else(|| {
            WireError::Message(format!(
                "option {code} at offset {} has no length",
                FIXED + 4 + i
            ))
        })?);
        let value = opts.get(i + 2..i + 2 + len).ok_or_else(|| {
            WireError::Message(format!(
                "option {code} at offset {} runs past the end ({len} bytes)",
                FIXED + 4 + i
            ))
        })?;
        match code {
            53 if len == 1 => message_type = Some(value[0]),
            55 => {
                params = value
                    .iter()
                    .map(u8::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
            }
            60 => vendor_class = Some(printable(value)),
            12 => hostname = Some(printable(value)),
            54 if len == 4 => server_id = Some(ipv4_at(value, 0)),
            _ => {}
        }
        i += 2 + len;
    }
    let (message, role) = name(message_type.ok_or(WireError::NoMessageType)?);
    Ok(Seen {
        src_mac,
        src_ip,
        message,
        role,
        client_mac: mac_text(chaddr),
        xid,
        your_ip: ipv4_at(payload, 16),
        server_id,
        params,
        vendor_class,
        hostname,
    })
}

/// The DHCP message in an Ethernet frame.
pub fn parse_frame(frame: &[u8]) -> Result<Seen, WireError> {
    let sliced =
        SlicedPacket::from_ethernet(frame).map_err(|e| WireError::Headers(e.to_string()))?;
    let Some(etherparse::LinkSlice::Ethernet2(eth)) = &sliced.link else {
        return Err(WireError::NotDhcp);
    };
    let Some(NetSlice::Ipv4(ip)) = &sliced.net else {
        return Err(WireError::NotDhcp);
    };
    let Some(TransportSlice::Udp(udp)) = &sliced.transport else {
        return Err(WireError::NotDhcp);
    };
    let ports = (udp.source_port(), udp.destination_port());
    if !matches!(ports, (67 | 68, 67 | 68)) {
        return Err(WireError::NotDhcp);
    }
    parse_message(
        udp.payload(),
        mac_text(&eth.source()),
        ip.header().source_addr(),
    )
}

/// A broadcast DHCPDISCOVER from `mac` with the broadcast flag set, so that every server on the
/// segment answers to the broadcast address where the gateway hears it (a server answers a
/// client without the flag by unicast, which a switch delivers to the client alone).
pub fn discover_probe(mac: [u8; 6], xid: u32) -> Vec<u8> {
    let mut payload = vec![0u8; FIXED];
    payload[0] = 1; // BOOTREQUEST
    payload[1] = 1; // Ethernet
    payload[2] = 6; // hardware address length
    payload[4..8].copy_from_slice(&xid.to_be_bytes());
    payload[10] = 0x80; // the broadcast flag
    payload[28..34].copy_from_slice(&mac);
    payload.extend_from_slice(&COOKIE);
    payload.extend_from_slice(&[53, 1, 1]); // DHCPDISCOVER
    payload.extend_from_slice(&[55, 3, 1, 3, 6]); // subnet mask, router, DNS
    payload.push(255);
    let builder = etherparse::PacketBuilder::ethernet2(mac, [0xff; 6])
        .ipv4([0, 0, 0, 0], [255, 255, 255, 255], 64)
        .udp(68, 67);
    let mut frame = Vec::with_capacity(builder.size(payload.len()));
    // Writing into a Vec only fails on a payload over 64 KiB.
    let _ = builder.write(&mut frame, &payload);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcproto::v4::{self, DhcpOption, MessageType, OptionCode};
    use dhcproto::{Encodable, Encoder};
    use proptest::prelude::*;

    const MAC: [u8; 6] = [0x02, 0xed, 0, 0, 0, 0x77];

    #[test]
    fn the_probe_parses_back_as_a_broadcast_discover_from_its_mac() {
        let frame = discover_probe(MAC, 0x1234_5678);
        let seen = parse_frame(&frame).unwrap();
        assert_eq!(seen.message, "DISCOVER");
        assert_eq!(seen.role, Role::Client);
        assert_eq!(seen.src_mac, "02:ed:00:00:00:77");
        assert_eq!(seen.client_mac, "02:ed:00:00:00:77");
        assert_eq!(seen.xid, 0x1234_5678);
        assert_eq!(seen.params, "1,3,6");
        assert_eq!(&frame[..6], &[0xff; 6]);
        // The broadcast flag (bit 15 of the flags field, at UDP payload offset 10).
        let bootp = &frame[14 + 20 + 8..];
        assert_eq!(bootp[10] & 0x80, 0x80);
    }

    #[test]
    fn a_server_offer_names_its_server_and_offered_address() {
        let mut msg = v4::Message::new_with_id(
            7,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::new(10, 10, 0, 55),
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            &MAC,
        );
        msg.set_opcode(v4::Opcode::BootReply);
        msg.opts_mut()
            .insert(DhcpOption::MessageType(MessageType::Offer));
        msg.opts_mut()
            .insert(DhcpOption::ServerIdentifier(Ipv4Addr::new(10, 10, 0, 21)));
        let mut payload = Vec::new();
        msg.encode(&mut Encoder::new(&mut payload)).unwrap();
        let b = etherparse::PacketBuilder::ethernet2([2, 0xed, 0, 0, 0, 0x21], [0xff; 6])
            .ipv4([10, 10, 0, 21], [255, 255, 255, 255], 64)
            .udp(67, 68);
        let mut frame = Vec::new();
        b.write(&mut frame, &payload).unwrap();
        let seen = parse_frame(&frame).unwrap();
        assert_eq!(seen.role, Role::Server);
        assert_eq!(seen.message, "OFFER");
        assert_eq!(seen.src_mac, "02:ed:00:00:00:21");
        assert_eq!(seen.server_id, Some(Ipv4Addr::new(10, 10, 0, 21)));
        assert_eq!(seen.your_ip, Ipv4Addr::new(10, 10, 0, 55));
    }

    #[test]
    fn a_client_request_carries_its_fingerprint_hostname_and_vendor_class() {
        let mut msg = v4::Message::new_with_id(
            9,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            &MAC,
        );
        let o = msg.opts_mut();
        o.insert(DhcpOption::MessageType(MessageType::Request));
        o.insert(DhcpOption::Hostname("may-ke-toan\u{7}".into()));
        o.insert(DhcpOption::ClassIdentifier(b"MSFT 5.0".to_vec()));
        o.insert(DhcpOption::ParameterRequestList(vec![
            OptionCode::SubnetMask,
            OptionCode::Router,
            OptionCode::DomainNameServer,
            OptionCode::DomainName,
        ]));
        let mut payload = Vec::new();
        msg.encode(&mut Encoder::new(&mut payload)).unwrap();
        let b = etherparse::PacketBuilder::ethernet2(MAC, [0xff; 6])
            .ipv4([0, 0, 0, 0], [255, 255, 255, 255], 64)
            .udp(68, 67);
        let mut frame = Vec::new();
        b.write(&mut frame, &payload).unwrap();
        let seen = parse_frame(&frame).unwrap();
        assert_eq!(seen.message, "REQUEST");
        assert_eq!(seen.params, "1,3,6,15");
        assert_eq!(seen.vendor_class.as_deref(), Some("MSFT 5.0"));
        // A control character a client put in its name does not reach a page or a log.
        assert_eq!(seen.hostname.as_deref(), Some("may-ke-toan"));
    }

    #[test]
    fn other_traffic_is_not_dhcp() {
        let b = etherparse::PacketBuilder::ethernet2(MAC, [0xff; 6])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(5353, 5353);
        let mut frame = Vec::new();
        b.write(&mut frame, b"hello").unwrap();
        assert_eq!(parse_frame(&frame), Err(WireError::NotDhcp));
        assert!(matches!(
            parse_frame(&[0u8; 10]),
            Err(WireError::Headers(_))
        ));
    }

    proptest! {
        /// Any bytes after valid headers: an error or a message, never a panic.
        #[test]
        fn arbitrary_payloads_never_panic(payload in proptest::collection::vec(any::<u8>(), 0..600)) {
            let b = etherparse::PacketBuilder::ethernet2(MAC, [0xff; 6])
                .ipv4([0, 0, 0, 0], [255, 255, 255, 255], 64)
                .udp(68, 67);
            let mut frame = Vec::new();
            b.write(&mut frame, &payload).unwrap();
            let _ = parse_frame(&frame);
        }

        /// A probe mutated anywhere still never panics the parser.
        #[test]
        fn mutated_probes_never_panic(at in 0usize..342, byte in any::<u8>()) {
            let mut frame = discover_probe(MAC, 1);
            if at < frame.len() { frame[at] = byte; }
            let _ = parse_frame(&frame);
        }
    }
}
