//! NFQUEUE for the inline IPS: the kernel queues packets (iptables-nft `-j NFQUEUE
//! --queue-balance a:b --queue-bypass`, or nft's `queue` statement where the kernel has it); a
//! reader takes them in batches over netlink and answers each with accept or drop. Messages are
//! built and walked with `edgeward-netlink`.
//!
//! The queue is bound with `NFQA_CFG_F_FAIL_OPEN` when the uplink's policy is fail-open (a full
//! queue lets packets pass instead of dropping them) and with `NFQA_CFG_F_GSO` (the kernel does
//! not segment GSO packets for us).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use edgeward_netlink as netlink;

const NETLINK_NETFILTER: i32 = 12;
const NFNL_SUBSYS_QUEUE: u16 = 3;
const NFQNL_MSG_PACKET: u16 = 0;
const NFQNL_MSG_VERDICT: u16 = 1;
const NFQNL_MSG_CONFIG: u16 = 2;
const NFQNL_MSG_VERDICT_BATCH: u16 = 3;

const NFQA_CFG_CMD: u16 = 1;
const NFQA_CFG_PARAMS: u16 = 2;
const NFQA_CFG_QUEUE_MAXLEN: u16 = 3;
const NFQA_CFG_MASK: u16 = 4;
const NFQA_CFG_FLAGS: u16 = 5;
const NFQNL_CFG_CMD_BIND: u8 = 1;
const NFQNL_COPY_PACKET: u8 = 2;
const NFQA_CFG_F_FAIL_OPEN: u32 = 1;
const NFQA_CFG_F_GSO: u32 = 4;

const NFQA_PACKET_HDR: u16 = 1;
const NFQA_VERDICT_HDR: u16 = 2;
const NFQA_MARK: u16 = 3;
const NFQA_PAYLOAD: u16 = 10;

/// The verdict on a queued packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let it go on (`NF_ACCEPT`).
    Accept,
    /// Drop it (`NF_DROP`).
    Drop,
}

/// How the queue behaves when it is full or nobody reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueConfig {
    /// Queue number.
    pub number: u16,
    /// Packets the kernel holds before the policy applies.
    pub max_len: u32,
    /// A full queue lets packets pass (`true`) or drops them.
    pub fail_open: bool,
}

/// One queued packet.
#[derive(Debug, Clone, Copy)]
pub struct Queued<'a> {
    /// The kernel's id, for the verdict.
    pub id: u32,
    /// The packet's mark.
    pub mark: u32,
    /// The IP packet (no link header).
    pub payload: &'a [u8],
}

/// A bound queue.
#[derive(Debug)]
pub struct Queue {
    fd: OwnedFd,
    number: u16,
    buf: Vec<u8>,
    seq: u32,
}

fn nfgen(family: u8, res_id: u16) -> [u8; 4] {
    let r = res_id.to_be_bytes();
    [family, 0, r[0], r[1]]
}

impl Queue {
    /// Bind queue `config.number` (in the calling thread's network namespace).
    pub fn bind(config: QueueConfig) -> io::Result<Queue> {
        // SAFETY: socket(2); the descriptor is owned at once.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                NETLINK_NETFILTER,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh descriptor owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: zeroed sockaddr_nl is valid; bind with its size.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: as above.
        if unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const addr).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        } < 0
        {
            return Err(io::Error::last_os_error());
        }
        let rcvbuf: libc::c_int = 8 << 20;
        // SAFETY: setsockopt with a c_int.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                (&raw const rcvbuf).cast(),
                4,
            );
        }
        // ENOBUFS is reported, not fatal: the kernel dropped messages we did not read in time.
        let one: libc::c_int = 1;
        // SAFETY: setsockopt with a c_int.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_NETLINK,
                libc::NETLINK_NO_ENOBUFS,
                (&raw const one).cast(),
                4,
            );
        }
        let mut q = Queue {
            fd,
            number: config.number,
            buf: vec![0; 1 << 18],
            seq: 0,
        };
        let kind = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG;
        let flags = (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16;
        let mut body = nfgen(libc::AF_UNSPEC as u8, config.number).to_vec();
        netlink::push_attribute(&mut body, NFQA_CFG_CMD, &[NFQNL_CFG_CMD_BIND, 0, 0, 0]);
        let mut params = 0xffffu32.to_be_bytes().to_vec();
        params.push(NFQNL_COPY_PACKET);
        netlink::push_attribute(&mut body, NFQA_CFG_PARAMS, &params);
        netlink::push_attribute(
            &mut body,
            NFQA_CFG_QUEUE_MAXLEN,
            &config.max_len.to_be_bytes(),
        );
        let f = NFQA_CFG_F_GSO
            | if config.fail_open {
                NFQA_CFG_F_FAIL_OPEN
            } else {
                0
            };
        netlink::push_attribute(&mut body, NFQA_CFG_FLAGS, &f.to_be_bytes());
        netlink::push_attribute(
            &mut body,
            NFQA_CFG_MASK,
            &(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN).to_be_bytes(),
        );
        q.seq += 1;
        let msg = netlink::message(kind, flags, q.seq, &body);
        q.send(&msg)?;
        q.expect_ack()?;
        Ok(q)
    }

    fn send(&self, msg: &[u8]) -> io::Result<()> {
        // SAFETY: zeroed sockaddr_nl = the kernel.
        let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        kernel.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: valid buffer and address.
        let rc = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                msg.as_ptr().cast(),
                msg.len(),
                0,
                (&raw const kernel).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    fn recv_raw(&mut self, flags: i32) -> io::Result<usize> {
        // SAFETY: recv into our buffer of its length.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                self.buf.as_mut_ptr().cast(),
                self.buf.len(),
                flags,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    fn expect_ack(&mut self) -> io::Result<()> {
        let n = self.recv_raw(0)?;
        for m in netlink::messages(&self.buf[..n]) {
            if m.kind == netlink::NLMSG_ERROR && m.body.len() >= 4 {
                let errno = i32::from_ne_bytes([m.body[0], m.body[1], m.body[2], m.body[3]]);
                if errno != 0 {
                    return Err(io::Error::from_raw_os_error(-errno));
                }
            }
        }
        Ok(())
    }

    /// The descriptor, for polling.
    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Receive what the kernel has queued (waiting up to `timeout_ms` for the first message)
    /// and hand each packet to `judge`; its verdicts are sent back, accepts as one batch
    /// verdict where they run in a row. Returns the number of packets.
    pub fn process(
        &mut self,
        timeout_ms: i32,
        mut judge: impl FnMut(&Queued<'_>) -> Verdict,
    ) -> io::Result<usize> {
        let mut p = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&raw mut p, 1, timeout_ms) } <= 0 {
            return Ok(0);
        }
        let mut verdicts: Vec<(u32, Verdict)> = Vec::new();
        let mut count = 0;
        loop {
            let n = match self.recv_raw(libc::MSG_DONTWAIT) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => continue,
                Err(e) => return Err(e),
            };
            for m in netlink::messages(&self.buf[..n]) {
                if m.kind != (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET || m.body.len() < 4 {
                    continue;
                }
                let mut id = None;
                let mut mark = 0;
                let mut payload: &[u8] = &[];
                for a in netlink::attributes(&m.body[4..]) {
                    match a.kind {
                        NFQA_PACKET_HDR => id = a.u32_be(),
                        NFQA_MARK => mark = a.u32_be().unwrap_or(0),
                        NFQA_PAYLOAD => payload = a.data,
                        _ => {}
                    }
                }
                let Some(id) = id else { continue };
                let v = judge(&Queued { id, mark, payload });
                verdicts.push((id, v));
                count += 1;
            }
            if count >= 256 {
                break;
            }
        }
        self.send_verdicts(&verdicts)?;
        Ok(count)
    }

    /// Accepts in a row up to a drop become one batch verdict; each drop its own.
    fn send_verdicts(&mut self, verdicts: &[(u32, Verdict)]) -> io::Result<()> {
        let mut out = Vec::new();
        let mut last_accept: Option<u32> = None;
        for &(id, v) in verdicts {
            match v {
                Verdict::Accept => last_accept = Some(id),
                Verdict::Drop => {
                    if let Some(a) = last_accept.take() {
                        out.extend(self.verdict_msg(NFQNL_MSG_VERDICT_BATCH, a, 1));
                    }
                    out.extend(self.verdict_msg(NFQNL_MSG_VERDICT, id, 0));
                }
            }
        }
        if let Some(a) = last_accept {
            out.extend(self.verdict_msg(NFQNL_MSG_VERDICT_BATCH, a, 1));
        }
        if out.is_empty() {
            Ok(())
        } else {
            self.send(&out)
        }
    }

    fn verdict_msg(&mut self, msg: u16, id: u32, verdict: u32) -> Vec<u8> {
        let mut body = nfgen(libc::AF_UNSPEC as u8, self.number).to_vec();
        let mut hdr = verdict.to_be_bytes().to_vec();
        hdr.extend_from_slice(&id.to_be_bytes());
        netlink::push_attribute(&mut body, NFQA_VERDICT_HDR, &hdr);
        self.seq += 1;
        netlink::message(
            (NFNL_SUBSYS_QUEUE << 8) | msg,
            libc::NLM_F_REQUEST as u16,
            self.seq,
            &body,
        )
    }
}
