//! A netlink socket to the kernel: open and bind, send a message, receive a batch, wait for the
//! acknowledgement of a request. Shared by every kernel reader (NFLOG, NFQUEUE, link events).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use crate::{NLMSG_ERROR, messages};

/// An open netlink socket.
#[derive(Debug)]
pub struct Socket {
    fd: OwnedFd,
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl Socket {
    /// Open a socket of netlink `protocol` (e.g. 12 for netfilter), bound to a port the kernel
    /// picks, with a receive buffer of `rcvbuf` bytes and `groups` joined (a bit mask, 0: none).
    pub fn open(protocol: i32, rcvbuf: usize, groups: u32) -> io::Result<Socket> {
        // SAFETY: socket(2); the descriptor is owned at once.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                protocol,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let socket = Socket { fd };
        let size = libc::c_int::try_from(rcvbuf).unwrap_or(libc::c_int::MAX);
        socket.set_int(libc::SOL_SOCKET, libc::SO_RCVBUF, size);
        // SAFETY: sockaddr_nl is plain data; zeroed is valid.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        addr.nl_groups = groups;
        // SAFETY: bind with a correctly sized sockaddr_nl.
        check(unsafe {
            libc::bind(
                socket.fd.as_raw_fd(),
                (&raw const addr).cast::<libc::sockaddr>(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        })?;
        Ok(socket)
    }

    fn set_int(&self, level: libc::c_int, name: libc::c_int, value: libc::c_int) {
        // SAFETY: setsockopt with a c_int of the right size on our own socket.
        unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                level,
                name,
                (&raw const value).cast::<libc::c_void>(),
                std::mem::size_of::<libc::c_int>() as u32,
            );
        }
    }

    /// Do not report ENOBUFS (the kernel dropped messages the reader did not take in time).
    pub fn ignore_overruns(&self) {
        self.set_int(libc::SOL_NETLINK, libc::NETLINK_NO_ENOBUFS, 1);
    }

    /// Let a blocking receive return after `timeout` with nothing.
    pub fn set_timeout(&self, timeout: Duration) {
        let tv = libc::timeval {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_usec: libc::suseconds_t::from(timeout.subsec_micros()),
        };
        // SAFETY: setsockopt with a timeval of the right size on our own socket.
        unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const tv).cast::<libc::c_void>(),
                std::mem::size_of::<libc::timeval>() as u32,
            );
        }
    }

    /// The descriptor, for polling.
    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Send one or more messages to the kernel.
    pub fn send(&self, msg: &[u8]) -> io::Result<()> {
        // SAFETY: zeroed sockaddr_nl = the kernel.
        let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        kernel.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: a buffer we own and a valid address.
        let rc = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                msg.as_ptr().cast::<libc::c_void>(),
                msg.len(),
                0,
                (&raw const kernel).cast::<libc::sockaddr>(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Receive one datagram (one or more messages) into `buf`; `flags` as recv(2).
    pub fn recv(&self, buf: &mut [u8], flags: i32) -> io::Result<usize> {
        // SAFETY: recv into a buffer of its own length.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast::<libc::c_void>(),
                buf.len(),
                flags,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    /// Wait for the acknowledgement of a request sent with `NLM_F_ACK`: an error message with
    /// errno 0, or the error the kernel reports.
    pub fn expect_ack(&self, buf: &mut [u8]) -> io::Result<()> {
        let n = self.recv(buf, 0)?;
        for m in messages(&buf[..n]) {
            if m.kind == NLMSG_ERROR && m.body.len() >= 4 {
                let errno = i32::from_ne_bytes([m.body[0], m.body[1], m.body[2], m.body[3]]);
                if errno != 0 {
                    return Err(io::Error::from_raw_os_error(-errno));
                }
            }
        }
        Ok(())
    }
}
