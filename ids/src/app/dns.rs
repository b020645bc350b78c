//! DNS messages (UDP payloads, or TCP with the 2-byte length prefix): header and the names of the
//! question section, decoded into dotted text the way Suricata presents `dns.query`.

/// A parsed DNS message; `names` is reused between messages.
#[derive(Debug, Default)]
pub struct DnsMessage {
    pub id: u16,
    pub response: bool,
    pub names: Vec<Vec<u8>>,
    used: usize,
}

impl DnsMessage {
    /// The question names of the last parsed message.
    pub fn queries(&self) -> &[Vec<u8>] {
        &self.names[..self.used]
    }

    /// Parse a message; `false` when it is not DNS.
    pub fn parse(&mut self, msg: &[u8]) -> bool {
        self.used = 0;
        if msg.len() < 12 {
            return false;
        }
        self.id = u16::from_be_bytes([msg[0], msg[1]]);
        self.response = msg[2] & 0x80 != 0;
        let opcode = (msg[2] >> 3) & 0x0f;
        if opcode > 6 {
            return false;
        }
        let qdcount = u16::from_be_bytes([msg[4], msg[5]]) as usize;
        if qdcount == 0 || qdcount > 16 {
            return false;
        }
        let mut pos = 12;
        for _ in 0..qdcount {
            if self.names.len() <= self.used {
                self.names.push(Vec::new());
            }
            let name = &mut self.names[self.used];
            name.clear();
            match read_name(msg, pos, name) {
                Some(next) => pos = next,
                None => return false,
            }
            if pos + 4 > msg.len() {
                return false;
            }
            pos += 4;
            self.used += 1;
        }
        true
    }
}

/// Read a (possibly compressed) name at `pos` into `out` as dotted text; returns the position
/// after the name in the original message.
fn read_name(msg: &[u8], mut pos: usize, out: &mut Vec<u8>) -> Option<usize> {
    let mut after = None;
    let mut jumps = 0;
    loop {
        let len = *msg.get(pos)? as usize;
        if len == 0 {
            return Some(after.unwrap_or(pos + 1));
        }
        if len & 0xc0 == 0xc0 {
            let ptr = ((len & 0x3f) << 8) | *msg.get(pos + 1)? as usize;
            if after.is_none() {
                after = Some(pos + 2);
            }
            jumps += 1;
            if jumps > 16 || ptr >= msg.len() {
                return None;
            }
            pos = ptr;
            continue;
        }
        if len > 63 {
            return None;
        }
        let label = msg.get(pos + 1..pos + 1 + len)?;
        if !out.is_empty() {
            out.push(b'.');
        }
        out.extend_from_slice(label);
        if out.len() > 255 {
            return None;
        }
        pos += 1 + len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_names() {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in ["www", "example", "com"] {
            q.push(l.len() as u8);
            q.extend_from_slice(l.as_bytes());
        }
        q.extend_from_slice(&[0, 0, 1, 0, 1]);
        let mut m = DnsMessage::default();
        assert!(m.parse(&q));
        assert_eq!(m.queries(), &[b"www.example.com".to_vec()]);
        assert!(!m.response);
        assert!(!m.parse(&q[..15]));
        // A pointer loop is refused.
        let mut bad = q[..12].to_vec();
        bad.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert!(!m.parse(&bad));
    }
}
