//! Link (carrier) events from the kernel: an rtnetlink socket subscribed to `RTMGRP_LINK`, so a
//! cable pulled or a port gone down counts at once, without waiting for probes to time out.
//!
//! [`parse_link_messages`] reads kernel bytes and never panics (property-tested).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const IFLA_IFNAME: u16 = 3;
const IFF_UP: u32 = 0x1;
const IFF_LOWER_UP: u32 = 0x10000;
use edgeward_netlink as netlink;
const IFINFOMSG_LEN: usize = 16;

/// A link's name and whether it can carry traffic (administratively up with carrier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEvent {
    pub ifname: String,
    pub carrier: bool,
}

/// Parse a buffer of rtnetlink messages into link events; malformed parts are skipped.
pub fn parse_link_messages(buf: &[u8]) -> Vec<LinkEvent> {
    netlink::messages(buf)
        .filter(|m| {
            (m.kind == RTM_NEWLINK || m.kind == RTM_DELLINK) && m.body.len() >= IFINFOMSG_LEN
        })
        .filter_map(|m| {
            let b = m.body;
            let flags = u32::from_ne_bytes([b[8], b[9], b[10], b[11]]);
            let ifname = netlink::attributes(&b[IFINFOMSG_LEN..])
                .filter(|a| a.kind == IFLA_IFNAME)
                .map(|a| a.string())
                .last()?;
            let carrier = m.kind == RTM_NEWLINK && flags & IFF_UP != 0 && flags & IFF_LOWER_UP != 0;
            Some(LinkEvent { ifname, carrier })
        })
        .collect()
}

/// A socket receiving link events of the current network namespace.
pub struct LinkMonitor {
    fd: OwnedFd,
    buf: Vec<u8>,
}

impl LinkMonitor {
    pub fn open() -> std::io::Result<LinkMonitor> {
        // SAFETY: socket(2); the descriptor is owned by OwnedFd at once.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if raw < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: zeroed sockaddr_nl is valid; we set family and groups.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        addr.nl_groups = libc::RTMGRP_LINK as u32;
        // SAFETY: bind with a correctly sized sockaddr_nl.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const addr).cast::<libc::sockaddr>(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if rc < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(LinkMonitor {
            fd,
            buf: vec![0; 32 * 1024],
        })
    }

    /// Block until the kernel reports link changes.
    pub fn recv(&mut self) -> std::io::Result<Vec<LinkEvent>> {
        // SAFETY: recv into our own buffer.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                self.buf.as_mut_ptr().cast::<libc::c_void>(),
                self.buf.len(),
                0,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            return if e.raw_os_error() == Some(libc::ENOBUFS)
                || e.raw_os_error() == Some(libc::EINTR)
            {
                Ok(Vec::new())
            } else {
                Err(e)
            };
        }
        Ok(parse_link_messages(&self.buf[..n as usize]))
    }
}

/// Current carrier of an interface, from sysfs (`None` if it does not exist).
pub fn carrier(ifname: &str) -> Option<bool> {
    let base = std::path::Path::new("/sys/class/net").join(ifname);
    let oper = std::fs::read_to_string(base.join("operstate")).ok()?;
    let carrier = std::fs::read_to_string(base.join("carrier")).is_ok_and(|c| c.trim() == "1");
    Some(carrier && oper.trim() != "down")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn newlink(name: &str, flags: u32) -> Vec<u8> {
        let mut body = vec![0u8; IFINFOMSG_LEN];
        body[8..12].copy_from_slice(&flags.to_ne_bytes());
        let mut n = name.as_bytes().to_vec();
        n.push(0);
        netlink::push_attribute(&mut body, IFLA_IFNAME, &n);
        netlink::message(RTM_NEWLINK, 0, 0, &body)
    }

    #[test]
    fn carrier_needs_up_and_lower_up() {
        let mut buf = newlink("wan1", IFF_UP | IFF_LOWER_UP);
        buf.extend(newlink("wan2", IFF_UP));
        let ev = parse_link_messages(&buf);
        assert_eq!(
            ev,
            vec![
                LinkEvent {
                    ifname: "wan1".into(),
                    carrier: true
                },
                LinkEvent {
                    ifname: "wan2".into(),
                    carrier: false
                }
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(buf in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = parse_link_messages(&buf);
        }
    }
}
