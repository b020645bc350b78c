//! TCP resets for `reject` rules: from the IP packet a rule dropped, the two RST segments that
//! end the connection at both hosts (to the sender: from the receiver with the sender's
//! acknowledgement number as sequence; to the receiver: from the sender at the sequence after the
//! dropped segment), sent through a raw socket in the gateway's namespace. On the way out the
//! connection's NAT applies to them as to the connection's own packets.

use std::net::IpAddr;

use etherparse::{NetSlice, PacketBuilder, SlicedPacket, TransportSlice};

/// The two RST packets (to the sender, to the receiver) for a dropped TCP segment, or `None`
/// when `ip_packet` is not TCP or is itself a reset.
pub fn resets_for(ip_packet: &[u8]) -> Option<[(IpAddr, Vec<u8>); 2]> {
    let sliced = SlicedPacket::from_ip(ip_packet).ok()?;
    let Some(TransportSlice::Tcp(tcp)) = sliced.transport else {
        return None;
    };
    if tcp.rst() {
        return None;
    }
    let (src, dst) = match sliced.net? {
        NetSlice::Ipv4(v4) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
        ),
        NetSlice::Ipv6(v6) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
        ),
        NetSlice::Arp(_) => return None,
    };
    let consumed =
        u32::try_from(tcp.payload().len()).ok()? + u32::from(tcp.syn()) + u32::from(tcp.fin());
    let after = tcp.sequence_number().wrapping_add(consumed);
    // To the sender, as if from the receiver.
    let to_sender = segment(
        dst,
        src,
        tcp.destination_port(),
        tcp.source_port(),
        if tcp.ack() {
            tcp.acknowledgment_number()
        } else {
            0
        },
        after,
    )?;
    // To the receiver, as if from the sender.
    let to_receiver = segment(
        src,
        dst,
        tcp.source_port(),
        tcp.destination_port(),
        after,
        tcp.acknowledgment_number(),
    )?;
    Some([(src, to_sender), (dst, to_receiver)])
}

/// One RST+ACK segment.
fn segment(
    from: IpAddr,
    to: IpAddr,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
) -> Option<Vec<u8>> {
    let builder = match (from, to) {
        (IpAddr::V4(a), IpAddr::V4(b)) => PacketBuilder::ipv4(a.octets(), b.octets(), 64),
        (IpAddr::V6(a), IpAddr::V6(b)) => PacketBuilder::ipv6(a.octets(), b.octets(), 64),
        _ => return None,
    };
    let builder = builder.tcp(sport, dport, seq, 0).rst().ack(ack);
    let mut out = Vec::with_capacity(builder.size(0));
    builder.write(&mut out, &[]).ok()?;
    Some(out)
}

/// Raw sockets (IPv4 and IPv6, header included) for sending resets; opened in the calling
/// thread's namespace.
#[derive(Debug)]
pub struct ResetSender {
    v4: Option<std::os::fd::OwnedFd>,
    v6: Option<std::os::fd::OwnedFd>,
}

fn raw_socket(family: i32) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket(2); the descriptor is owned from here on.
    let fd = unsafe {
        libc::socket(
            family,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::IPPROTO_RAW,
        )
    };
    // SAFETY: fd is a fresh descriptor we own.
    (fd >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

impl ResetSender {
    /// Open the sockets (needs CAP_NET_RAW); a family that cannot be opened is skipped.
    pub fn open() -> ResetSender {
        ResetSender {
            v4: raw_socket(libc::AF_INET),
            v6: raw_socket(libc::AF_INET6),
        }
    }

    /// Send the resets for a dropped packet that carried `mark` (the connection's uplink mark:
    /// the reset to the far end is routed like the connection); returns how many went out.
    pub fn reset(&self, ip_packet: &[u8], mark: u32) -> usize {
        let Some(packets) = resets_for(ip_packet) else {
            return 0;
        };
        for fd in [&self.v4, &self.v6].into_iter().flatten() {
            use std::os::fd::AsRawFd;
            // SAFETY: setsockopt with a c_uint of the right size on our own socket.
            unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_MARK,
                    (&raw const mark).cast(),
                    4,
                );
            }
        }
        packets
            .iter()
            .filter(|(to, bytes)| match self.send(*to, bytes) {
                Ok(()) => true,
                Err(e) => {
                    tracing::debug!(error = %e, %to, "TCP reset not sent");
                    false
                }
            })
            .count()
    }

    fn send(&self, to: IpAddr, bytes: &[u8]) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        let unavailable = || std::io::Error::from(std::io::ErrorKind::Unsupported);
        let rc = match to {
            IpAddr::V4(a) => {
                let fd = self.v4.as_ref().ok_or_else(unavailable)?;
                let sa = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: 0,
                    sin_addr: libc::in_addr {
                        s_addr: u32::from_ne_bytes(a.octets()),
                    },
                    sin_zero: [0; 8],
                };
                // SAFETY: sendto with a valid buffer and a sockaddr_in of the right size.
                unsafe {
                    libc::sendto(
                        fd.as_raw_fd(),
                        bytes.as_ptr().cast(),
                        bytes.len(),
                        0,
                        (&raw const sa).cast(),
                        std::mem::size_of::<libc::sockaddr_in>() as u32,
                    )
                }
            }
            IpAddr::V6(a) => {
                let fd = self.v6.as_ref().ok_or_else(unavailable)?;
                let sa = libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: 0,
                    sin6_flowinfo: 0,
                    sin6_addr: libc::in6_addr {
                        s6_addr: a.octets(),
                    },
                    sin6_scope_id: 0,
                };
                // SAFETY: sendto with a valid buffer and a sockaddr_in6 of the right size.
                unsafe {
                    libc::sendto(
                        fd.as_raw_fd(),
                        bytes.as_ptr().cast(),
                        bytes.len(),
                        0,
                        (&raw const sa).cast(),
                        std::mem::size_of::<libc::sockaddr_in6>() as u32,
                    )
                }
            }
        };
        if rc < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_segment(v6: bool) -> Vec<u8> {
        let b = if v6 {
            PacketBuilder::ipv6(
                [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
                64,
            )
        } else {
            PacketBuilder::ipv4([10, 10, 0, 11], [192, 0, 2, 80], 64)
        };
        let b = b.tcp(40000, 80, 1000, 500).ack(7000).psh();
        let mut out = Vec::new();
        b.write(&mut out, b"GET /x HTTP/1.1\r\n\r\n").unwrap();
        out
    }

    #[test]
    fn resets_end_the_connection_at_both_hosts_with_the_sequence_numbers_they_expect() {
        for v6 in [false, true] {
            let [(to_a, a), (to_b, b)] = resets_for(&data_segment(v6)).unwrap();
            let a = SlicedPacket::from_ip(&a).unwrap();
            let b = SlicedPacket::from_ip(&b).unwrap();
            let (Some(TransportSlice::Tcp(ta)), Some(TransportSlice::Tcp(tb))) =
                (a.transport, b.transport)
            else {
                panic!("not TCP");
            };
            // To the client (the sender): from the server's port, at the client's ack.
            assert!(ta.rst() && tb.rst());
            assert_eq!((ta.source_port(), ta.destination_port()), (80, 40000));
            assert_eq!(ta.sequence_number(), 7000);
            // To the server: from the client, just after the dropped bytes.
            assert_eq!((tb.source_port(), tb.destination_port()), (40000, 80));
            assert_eq!(tb.sequence_number(), 1000 + 19);
            assert_ne!(to_a, to_b);
        }
    }

    #[test]
    fn no_reset_for_a_reset_or_for_udp_or_garbage() {
        let mut rst = Vec::new();
        PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(1, 2, 3, 4)
            .rst()
            .write(&mut rst, &[])
            .unwrap();
        assert!(resets_for(&rst).is_none());
        let mut udp = Vec::new();
        PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(1, 2)
            .write(&mut udp, b"x")
            .unwrap();
        assert!(resets_for(&udp).is_none());
        assert!(resets_for(&[0x45, 0, 1]).is_none());
    }
}
