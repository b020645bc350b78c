//! `edgeward-netlink`: walking and building netlink messages, the one place that knows the
//! framing every kernel reader of edgeward shares (NFLOG in the firewall, link events in the
//! uplink monitor, and the coming NFQUEUE and conntrack readers). Parsing takes kernel bytes and
//! never panics: a message or attribute that does not fit is where the walk stops.
#![warn(missing_docs)]

mod socket;
pub use socket::Socket;

/// Length of `struct nlmsghdr`.
pub const NLMSG_HDRLEN: usize = 16;
/// `NLMSG_ERROR`: an acknowledgement or error.
pub const NLMSG_ERROR: u16 = 2;
/// Attribute type bits that are flags (`NLA_F_NESTED`, `NLA_F_NET_BYTEORDER`), not the type.
const NLA_TYPE_MASK: u16 = 0x3fff;

/// Netlink's 4-byte alignment.
pub fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// One netlink message: its type, flags and payload (after the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// `nlmsg_type` (for netfilter: subsystem << 8 | message).
    pub kind: u16,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// Everything after the 16-byte header, up to the message's own length.
    pub body: &'a [u8],
}

/// The messages of a buffer as the kernel delivered it, in order.
pub fn messages(buf: &[u8]) -> Messages<'_> {
    Messages { buf }
}

/// Iterator over the messages of a buffer; stops at the first malformed length.
pub struct Messages<'a> {
    buf: &'a [u8],
}

impl<'a> Iterator for Messages<'a> {
    type Item = Message<'a>;

    fn next(&mut self) -> Option<Message<'a>> {
        let b = self.buf;
        if b.len() < NLMSG_HDRLEN {
            return None;
        }
        let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if len < NLMSG_HDRLEN || len > b.len() {
            self.buf = &[];
            return None;
        }
        let message = Message {
            kind: u16::from_ne_bytes([b[4], b[5]]),
            flags: u16::from_ne_bytes([b[6], b[7]]),
            body: &b[NLMSG_HDRLEN..len],
        };
        self.buf = &b[align4(len).min(b.len())..];
        Some(message)
    }
}

/// One attribute: its type (flag bits removed) and data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute<'a> {
    /// `nla_type` without the nested and byte-order flag bits.
    pub kind: u16,
    /// The attribute's payload (without padding).
    pub data: &'a [u8],
}

impl Attribute<'_> {
    /// The data as a NUL-terminated string (lossy UTF-8).
    pub fn string(&self) -> String {
        let end = self
            .data
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(self.data.len());
        String::from_utf8_lossy(&self.data[..end]).into_owned()
    }

    /// The data as a big-endian `u32` (netfilter attributes), if it has four bytes or more.
    pub fn u32_be(&self) -> Option<u32> {
        let d = self.data.get(..4)?;
        Some(u32::from_be_bytes([d[0], d[1], d[2], d[3]]))
    }
}

/// The attributes that follow a message's fixed header.
pub fn attributes(buf: &[u8]) -> Attributes<'_> {
    Attributes { buf }
}

/// Iterator over attributes; stops at the first malformed length.
pub struct Attributes<'a> {
    buf: &'a [u8],
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Attribute<'a>;

    fn next(&mut self) -> Option<Attribute<'a>> {
        let b = self.buf;
        if b.len() < 4 {
            return None;
        }
        let len = u16::from_ne_bytes([b[0], b[1]]) as usize;
        if len < 4 || len > b.len() {
            self.buf = &[];
            return None;
        }
        let attribute = Attribute {
            kind: u16::from_ne_bytes([b[2], b[3]]) & NLA_TYPE_MASK,
            data: &b[4..len],
        };
        self.buf = &b[align4(len).min(b.len())..];
        Some(attribute)
    }
}

/// A netlink message: header (`kind`, `flags`, `seq`), then `body` (fixed header and
/// attributes, already aligned).
pub fn message(kind: u16, flags: u16, seq: u32, body: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(NLMSG_HDRLEN + body.len());
    msg.extend_from_slice(&((NLMSG_HDRLEN + body.len()) as u32).to_ne_bytes());
    msg.extend_from_slice(&kind.to_ne_bytes());
    msg.extend_from_slice(&flags.to_ne_bytes());
    msg.extend_from_slice(&seq.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(body);
    msg
}

/// Append attribute `kind` with `data` (padded to alignment) to `out`.
pub fn push_attribute(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(data);
    out.resize(align4(out.len()), 0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn builds_and_walks_messages_and_attributes() {
        let mut body = vec![0u8; 4];
        push_attribute(&mut body, 3, b"wan1\0");
        push_attribute(&mut body, 0x8000 | 7, &42u32.to_be_bytes());
        let mut buf = message(16, 0, 1, &body);
        buf.extend(message(17, 2, 2, &[]));
        let msgs: Vec<_> = messages(&buf).collect();
        assert_eq!(msgs.len(), 2);
        assert_eq!((msgs[0].kind, msgs[1].kind, msgs[1].flags), (16, 17, 2));
        let attrs: Vec<_> = attributes(&msgs[0].body[4..]).collect();
        assert_eq!(attrs[0].kind, 3);
        assert_eq!(attrs[0].string(), "wan1");
        assert_eq!((attrs[1].kind, attrs[1].u32_be()), (7, Some(42)));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..600)) {
            for m in messages(&buf) {
                for a in attributes(m.body) {
                    let _ = (a.string(), a.u32_be());
                }
            }
            for a in attributes(&buf) {
                let _ = a.string();
            }
        }
    }
}
