//! Reading the firewall's NFLOG groups (netlink, `NETLINK_NETFILTER`), and folding logged packets
//! into per-flow counts so that a flood becomes a few events, not a few million.
//!
//! The parser ([`parse_messages`]) takes bytes from the kernel — i.e. from the wire — and never
//! panics on any input (property-tested).

use std::collections::HashMap;
use std::net::IpAddr;

const NETLINK_NETFILTER: i32 = 12;
const NFNL_SUBSYS_ULOG: u16 = 4;
const NFULNL_MSG_PACKET: u16 = 0;
const NFULNL_MSG_CONFIG: u16 = 1;
const NFULA_CFG_CMD: u16 = 1;
const NFULA_CFG_MODE: u16 = 2;
const NFULNL_CFG_CMD_BIND: u8 = 1;
const NFULNL_COPY_PACKET: u8 = 2;
const NFULA_IFINDEX_INDEV: u16 = 4;
const NFULA_IFINDEX_OUTDEV: u16 = 5;
const NFULA_PAYLOAD: u16 = 9;
const NFULA_PREFIX: u16 = 10;
use edgeward_netlink as netlink;

/// One packet the firewall logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedPacket {
    pub group: u16,
    pub prefix: String,
    pub in_ifindex: Option<u32>,
    pub out_ifindex: Option<u32>,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// `TCP`, `UDP`, `ICMP`, `IPv6-ICMP` or the protocol number.
    pub proto: String,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
}

/// Parse a buffer of netlink messages into logged packets; anything malformed is skipped.
pub fn parse_messages(buf: &[u8]) -> Vec<LoggedPacket> {
    netlink::messages(buf)
        .filter(|m| m.kind == (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET && m.body.len() >= 4)
        .filter_map(|m| parse_packet(u16::from_be_bytes([m.body[2], m.body[3]]), &m.body[4..]))
        .collect()
}

fn parse_packet(group: u16, attrs: &[u8]) -> Option<LoggedPacket> {
    let (mut prefix, mut payload, mut indev, mut outdev) = (String::new(), None, None, None);
    for a in netlink::attributes(attrs) {
        match a.kind {
            NFULA_PREFIX => prefix = a.string(),
            NFULA_PAYLOAD => payload = Some(a.data),
            NFULA_IFINDEX_INDEV => indev = a.u32_be().or(indev),
            NFULA_IFINDEX_OUTDEV => outdev = a.u32_be().or(outdev),
            _ => {}
        }
    }
    let (src, dst, proto, sport, dport) = parse_ip(payload?)?;
    Some(LoggedPacket {
        group,
        prefix,
        in_ifindex: indev,
        out_ifindex: outdev,
        src,
        dst,
        proto,
        src_port: sport,
        dst_port: dport,
    })
}

type Flow = (IpAddr, IpAddr, String, Option<u16>, Option<u16>);

/// Addresses, protocol and ports of an IP packet (truncated transport headers are fine).
fn parse_ip(data: &[u8]) -> Option<Flow> {
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    let lax = etherparse::LaxSlicedPacket::from_ip(data).ok();
    let strict = SlicedPacket::from_ip(data).ok();
    let (src, dst, proto_num) = match (&strict, &lax) {
        (Some(p), _) => match p.net.as_ref()? {
            NetSlice::Ipv4(v4) => (
                IpAddr::V4(v4.header().source_addr()),
                IpAddr::V4(v4.header().destination_addr()),
                v4.header().protocol().0,
            ),
            NetSlice::Ipv6(v6) => (
                IpAddr::V6(v6.header().source_addr()),
                IpAddr::V6(v6.header().destination_addr()),
                v6.payload().ip_number.0,
            ),
            _ => return None,
        },
        (None, Some(p)) => match p.net.as_ref()? {
            etherparse::LaxNetSlice::Ipv4(v4) => (
                IpAddr::V4(v4.header().source_addr()),
                IpAddr::V4(v4.header().destination_addr()),
                v4.header().protocol().0,
            ),
            etherparse::LaxNetSlice::Ipv6(v6) => (
                IpAddr::V6(v6.header().source_addr()),
                IpAddr::V6(v6.header().destination_addr()),
                v6.payload().ip_number.0,
            ),
            _ => return None,
        },
        (None, None) => return None,
    };
    let ports = strict.as_ref().and_then(|p| match p.transport.as_ref()? {
        TransportSlice::Tcp(t) => Some((t.source_port(), t.destination_port())),
        TransportSlice::Udp(u) => Some((u.source_port(), u.destination_port())),
        _ => None,
    });
    let proto = match proto_num {
        6 => "TCP".to_string(),
        17 => "UDP".to_string(),
        1 => "ICMP".to_string(),
        58 => "IPv6-ICMP".to_string(),
        n => n.to_string(),
    };
    Some((src, dst, proto, ports.map(|p| p.0), ports.map(|p| p.1)))
}

/// A netlink socket bound to NFLOG groups.
pub struct NflogSocket {
    socket: netlink::Socket,
    buf: Vec<u8>,
}

/// An nfnetlink message for `group` with `attrs`.
fn nlmsg(kind: u16, flags: u16, seq: u32, group: u16, attrs: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = vec![libc::AF_UNSPEC as u8, 0 /* NFNETLINK_V0 */];
    body.extend_from_slice(&group.to_be_bytes());
    for (t, data) in attrs {
        netlink::push_attribute(&mut body, *t, data);
    }
    netlink::message(kind, flags, seq, &body)
}

impl NflogSocket {
    /// Open a socket bound to `groups`, copying up to `copy_range` bytes of each packet.
    pub fn bind(groups: &[u16], copy_range: u32) -> std::io::Result<NflogSocket> {
        let socket = netlink::Socket::open(NETLINK_NETFILTER, 4 << 20, 0)?;
        // Wake up at least once a second, so callers can flush what they folded.
        socket.set_timeout(std::time::Duration::from_secs(1));
        let mut sock = NflogSocket {
            socket,
            buf: vec![0; 1 << 16],
        };
        let kind = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
        for (i, g) in groups.iter().enumerate() {
            let mut mode = copy_range.to_be_bytes().to_vec();
            mode.push(NFULNL_COPY_PACKET);
            mode.push(0);
            let msg = nlmsg(
                kind,
                (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16,
                i as u32 + 1,
                *g,
                &[
                    (NFULA_CFG_CMD, vec![NFULNL_CFG_CMD_BIND]),
                    (NFULA_CFG_MODE, mode),
                ],
            );
            sock.socket.send(&msg)?;
            sock.socket.expect_ack(&mut sock.buf)?;
        }
        Ok(sock)
    }

    /// Wait (at most a second) for the kernel to send a batch; return the packets in it.
    /// A timeout, or ENOBUFS (we fell behind and the kernel dropped messages), is an empty batch.
    pub fn recv(&mut self) -> std::io::Result<Vec<LoggedPacket>> {
        match self.socket.recv(&mut self.buf, 0) {
            Ok(n) => Ok(parse_messages(&self.buf[..n])),
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ENOBUFS | libc::EAGAIN | libc::EINTR)
                ) =>
            {
                Ok(Vec::new())
            }
            Err(e) => Err(e),
        }
    }
}

/// Interface name of an index, if it exists.
pub fn ifname(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf has IF_NAMESIZE bytes as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: if_indextoname wrote a NUL-terminated string into buf.
    Some(
        unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// A flow's identity for folding: same rule, same endpoints, same protocol and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FoldKey {
    pub prefix: String,
    pub in_ifindex: Option<u32>,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: String,
    pub dst_port: Option<u16>,
}

/// Folded packets of one key in one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    pub key: FoldKey,
    /// A representative source port (the first one seen).
    pub src_port: Option<u16>,
    pub count: u64,
}

/// Folds logged packets per key; at most `max_keys` distinct keys per window, the rest counted
/// as `overflow`.
pub struct Aggregator {
    max_keys: usize,
    entries: HashMap<FoldKey, Folded>,
    order: Vec<FoldKey>,
    pub overflow: u64,
}

impl Aggregator {
    pub fn new(max_keys: usize) -> Self {
        Aggregator {
            max_keys,
            entries: HashMap::new(),
            order: Vec::new(),
            overflow: 0,
        }
    }

    pub fn add(&mut self, p: &LoggedPacket) {
        let key = FoldKey {
            prefix: p.prefix.clone(),
            in_ifindex: p.in_ifindex,
            src: p.src,
            dst: p.dst,
            proto: p.proto.clone(),
            dst_port: p.dst_port,
        };
        if let Some(e) = self.entries.get_mut(&key) {
            e.count += 1;
        } else if self.entries.len() < self.max_keys {
            self.order.push(key.clone());
            self.entries.insert(
                key.clone(),
                Folded {
                    key,
                    src_port: p.src_port,
                    count: 1,
                },
            );
        } else {
            self.overflow += 1;
        }
    }

    /// Everything folded so far, in first-seen order, and the overflow count; resets the window.
    pub fn drain(&mut self) -> (Vec<Folded>, u64) {
        let mut out = Vec::with_capacity(self.order.len());
        for k in self.order.drain(..) {
            if let Some(e) = self.entries.remove(&k) {
                out.push(e);
            }
        }
        (out, std::mem::take(&mut self.overflow))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ipv4_tcp(src: [u8; 4], dst: [u8; 4], dport: u16) -> Vec<u8> {
        let builder = etherparse::PacketBuilder::ipv4(src, dst, 64).tcp(40000, dport, 1, 1000);
        let mut out = Vec::new();
        builder.write(&mut out, &[]).unwrap();
        out
    }

    fn packet_msg(group: u16, prefix: &str, indev: u32, payload: &[u8]) -> Vec<u8> {
        let mut p = prefix.as_bytes().to_vec();
        p.push(0);
        nlmsg(
            (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET,
            0,
            0,
            group,
            &[
                (NFULA_PREFIX, p),
                (NFULA_IFINDEX_INDEV, indev.to_be_bytes().to_vec()),
                (NFULA_PAYLOAD, payload.to_vec()),
            ],
        )
    }

    #[test]
    fn parses_a_logged_tcp_packet() {
        let mut buf = packet_msg(
            1,
            "ew:deny:fwd_guest",
            7,
            &ipv4_tcp([10, 20, 0, 11], [10, 10, 0, 11], 445),
        );
        buf.extend(packet_msg(
            2,
            "ew:rate:input",
            3,
            &ipv4_tcp([1, 2, 3, 4], [203, 0, 113, 2], 22),
        ));
        let got = parse_messages(&buf);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].prefix, "ew:deny:fwd_guest");
        assert_eq!(got[0].group, 1);
        assert_eq!(got[0].in_ifindex, Some(7));
        assert_eq!(got[0].src, "10.20.0.11".parse::<IpAddr>().unwrap());
        assert_eq!(got[0].dst_port, Some(445));
        assert_eq!(got[0].proto, "TCP");
        assert_eq!(got[1].group, 2);
    }

    #[test]
    fn a_flood_folds_into_one_entry_per_flow() {
        let p = parse_messages(&packet_msg(
            1,
            "ew:deny:fwd_guest",
            7,
            &ipv4_tcp([10, 20, 0, 11], [10, 10, 0, 11], 445),
        ))
        .remove(0);
        let mut agg = Aggregator::new(2);
        for _ in 0..10_000 {
            agg.add(&p);
        }
        let mut other = p.clone();
        other.dst_port = Some(80);
        agg.add(&other);
        let mut third = p.clone();
        third.dst_port = Some(81);
        agg.add(&third);
        let (folded, overflow) = agg.drain();
        assert_eq!(folded.len(), 2);
        assert_eq!(folded[0].count, 10_000);
        assert_eq!(overflow, 1);
        assert!(agg.drain().0.is_empty());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_messages(&buf);
        }

        #[test]
        fn truncated_real_messages_never_panic(cut in 0usize..200, dport in any::<u16>()) {
            let buf = packet_msg(1, "ew:x", 1, &ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], dport));
            let cut = cut.min(buf.len());
            let mut b = buf[..cut].to_vec();
            // Keep the length field consistent with the cut to reach the attribute parser.
            if b.len() >= 4 { let l = (b.len() as u32).to_ne_bytes(); b[..4].copy_from_slice(&l); }
            let _ = parse_messages(&b);
        }
    }
}
