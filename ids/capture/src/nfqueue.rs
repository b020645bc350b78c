//! NFQUEUE for the inline IPS: the kernel queues packets (iptables-nft `-j NFQUEUE
//! --queue-balance a:b --queue-bypass`, or nft's `queue` statement where the kernel has it); a
//! reader takes them in batches over netlink and answers each with accept or drop. Messages are
//! built and walked with `edgeward-netlink`.
//!
//! The queue is bound with `NFQA_CFG_F_FAIL_OPEN` when the uplink's policy is fail-open (a full
//! queue lets packets pass instead of dropping them) and with `NFQA_CFG_F_GSO` (the kernel does
//! not segment GSO packets for us).

use std::io;

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
    /// Let it go on with this mark (the flow bypass mark: a rule before the queue sees it in
    /// conntrack and stops queueing the flow).
    AcceptMarked(u32),
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
    socket: netlink::Socket,
    number: u16,
    buf: Vec<u8>,
    seq: u32,
    /// Reused per batch: the verdicts, and the messages carrying them.
    verdicts: Vec<(u32, Verdict)>,
    out: Vec<u8>,
}

fn nfgen(family: u8, res_id: u16) -> [u8; 4] {
    let r = res_id.to_be_bytes();
    [family, 0, r[0], r[1]]
}

impl Queue {
    /// Bind queue `config.number` (in the calling thread's network namespace).
    pub fn bind(config: QueueConfig) -> io::Result<Queue> {
        let socket = netlink::Socket::open(NETLINK_NETFILTER, 8 << 20, 0)?;
        socket.ignore_overruns();
        let mut q = Queue {
            socket,
            number: config.number,
            buf: vec![0; 1 << 18],
            seq: 0,
            verdicts: Vec::with_capacity(512),
            out: Vec::with_capacity(1 << 14),
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
        q.socket.send(&msg)?;
        q.socket.expect_ack(&mut q.buf)?;
        Ok(q)
    }

    /// The descriptor, for polling.
    pub fn raw_fd(&self) -> i32 {
        self.socket.raw_fd()
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
            fd: self.socket.raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&raw mut p, 1, timeout_ms) } <= 0 {
            return Ok(0);
        }
        let mut verdicts = std::mem::take(&mut self.verdicts);
        verdicts.clear();
        let mut count = 0;
        loop {
            let n = match self.socket.recv(&mut self.buf, libc::MSG_DONTWAIT) {
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
        let sent = self.send_verdicts(&verdicts);
        self.verdicts = verdicts;
        sent?;
        Ok(count)
    }

    /// Accepts in a row up to a drop become one batch verdict; each drop its own.
    /// Accepts in a row become one batch verdict (it covers every id up to the last); a drop or
    /// a marked accept is its own message, after the batch of the accepts before it.
    fn send_verdicts(&mut self, verdicts: &[(u32, Verdict)]) -> io::Result<()> {
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        let mut last_accept: Option<u32> = None;
        for &(id, v) in verdicts {
            match v {
                Verdict::Accept => last_accept = Some(id),
                Verdict::Drop | Verdict::AcceptMarked(_) => {
                    if let Some(a) = last_accept.take() {
                        self.verdict_msg(&mut out, NFQNL_MSG_VERDICT_BATCH, a, 1, None);
                    }
                    match v {
                        Verdict::AcceptMarked(mark) => {
                            self.verdict_msg(&mut out, NFQNL_MSG_VERDICT, id, 1, Some(mark));
                        }
                        _ => self.verdict_msg(&mut out, NFQNL_MSG_VERDICT, id, 0, None),
                    }
                }
            }
        }
        if let Some(a) = last_accept {
            self.verdict_msg(&mut out, NFQNL_MSG_VERDICT_BATCH, a, 1, None);
        }
        let sent = if out.is_empty() {
            Ok(())
        } else {
            self.socket.send(&out)
        };
        self.out = out;
        sent
    }

    /// Append one verdict message (`NF_ACCEPT` = 1, `NF_DROP` = 0), with a new mark if given.
    fn verdict_msg(
        &mut self,
        out: &mut Vec<u8>,
        msg: u16,
        id: u32,
        verdict: u32,
        mark: Option<u32>,
    ) {
        let mut body = nfgen(libc::AF_UNSPEC as u8, self.number).to_vec();
        let mut hdr = [0u8; 8];
        hdr[..4].copy_from_slice(&verdict.to_be_bytes());
        hdr[4..].copy_from_slice(&id.to_be_bytes());
        netlink::push_attribute(&mut body, NFQA_VERDICT_HDR, &hdr);
        if let Some(m) = mark {
            netlink::push_attribute(&mut body, NFQA_MARK, &m.to_be_bytes());
        }
        self.seq += 1;
        out.extend_from_slice(&netlink::message(
            (NFNL_SUBSYS_QUEUE << 8) | msg,
            libc::NLM_F_REQUEST as u16,
            self.seq,
            &body,
        ));
    }
}
