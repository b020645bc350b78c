//! TCP stream reassembly of one direction: in-order bytes are handed on at once; segments ahead of
//! a gap wait (up to [`MAX_PENDING`] bytes) until the gap fills; retransmitted bytes are
//! dropped (first copy wins). Bytes beyond [`DEPTH`] of a direction are not reassembled.

/// Bytes per direction handed to the app-layer (Suricata's default `reassembly.depth` is 1 MiB).
pub const DEPTH: u64 = 1024 * 1024;
/// Out-of-order bytes held per direction.
pub const MAX_PENDING: usize = 256 * 1024;

/// One direction of a TCP connection.
#[derive(Debug, Default)]
pub struct Stream {
    /// Next expected sequence number, once the initial one is known.
    next: Option<u32>,
    pending: Vec<(u32, Vec<u8>)>,
    pending_bytes: usize,
    pub delivered: u64,
    /// A gap was never filled and the stream was skipped past it.
    pub gaps: u64,
}

fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

impl Stream {
    pub fn reset(&mut self) {
        self.next = None;
        self.pending.clear();
        self.pending_bytes = 0;
        self.delivered = 0;
        self.gaps = 0;
    }

    /// The next sequence number expected in order, once known.
    pub fn next_seq(&self) -> Option<u32> {
        self.next
    }

    /// The SYN (or SYN/ACK) of this direction sets the initial sequence number.
    pub fn syn(&mut self, seq: u32) {
        self.next = Some(seq.wrapping_add(1));
    }

    /// A segment; `deliver` receives in-order bytes.
    pub fn segment(&mut self, seq: u32, payload: &[u8], mut deliver: impl FnMut(&[u8])) {
        if payload.is_empty() {
            return;
        }
        // Mid-stream pickup: start where we are.
        let next = *self.next.get_or_insert(seq);
        if self.delivered >= DEPTH {
            return;
        }
        let end = seq.wrapping_add(payload.len() as u32);
        if !seq_lt(next, end) {
            return; // entirely old
        }
        if seq_lt(next, seq) {
            // Ahead of a gap: keep a copy.
            if self.pending_bytes + payload.len() <= MAX_PENDING
                && !self.pending.iter().any(|(s, _)| *s == seq)
            {
                self.pending_bytes += payload.len();
                self.pending.push((seq, payload.to_vec()));
            } else if self.pending_bytes + payload.len() > MAX_PENDING {
                // Give up on the gap: skip to the oldest pending data.
                self.gaps += 1;
                self.skip_gap(&mut deliver);
            }
            return;
        }
        let skip = next.wrapping_sub(seq) as usize;
        self.deliver(&payload[skip..], &mut deliver);
        self.drain_pending(&mut deliver);
    }

    fn deliver(&mut self, data: &[u8], deliver: &mut impl FnMut(&[u8])) {
        let room = (DEPTH - self.delivered.min(DEPTH)) as usize;
        let d = &data[..data.len().min(room)];
        if !d.is_empty() {
            deliver(d);
        }
        self.delivered += data.len() as u64;
        self.next = Some(self.next.unwrap_or(0).wrapping_add(data.len() as u32));
    }

    fn drain_pending(&mut self, deliver: &mut impl FnMut(&[u8])) {
        while !self.pending.is_empty() {
            let next = self.next.unwrap_or(0);
            let Some(i) = self.pending.iter().position(|(s, d)| {
                !seq_lt(next, *s) && seq_lt(next, s.wrapping_add(d.len() as u32))
            }) else {
                // Drop pending segments that are entirely old.
                let before = self.pending.len();
                self.pending
                    .retain(|(s, d)| seq_lt(next, s.wrapping_add(d.len() as u32)));
                if self.pending.len() == before {
                    return;
                }
                continue;
            };
            let (s, d) = self.pending.swap_remove(i);
            self.pending_bytes -= d.len();
            let skip = next.wrapping_sub(s) as usize;
            self.deliver(&d[skip..], deliver);
        }
    }

    fn skip_gap(&mut self, deliver: &mut impl FnMut(&[u8])) {
        if let Some(min) = self
            .pending
            .iter()
            .map(|(s, _)| *s)
            .reduce(|a, b| if seq_lt(a, b) { a } else { b })
        {
            self.next = Some(min);
            self.drain_pending(deliver);
        }
    }

    /// End of flow: deliver what waits behind a gap.
    pub fn flush(&mut self, mut deliver: impl FnMut(&[u8])) {
        while !self.pending.is_empty() {
            let before = self.pending.len();
            self.skip_gap(&mut deliver);
            if self.pending.len() == before {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(segs: &[(u32, &[u8])]) -> Vec<u8> {
        let mut s = Stream::default();
        s.syn(99);
        let mut out = Vec::new();
        for (seq, p) in segs {
            s.segment(*seq, p, |d| out.extend_from_slice(d));
        }
        s.flush(|d| out.extend_from_slice(d));
        out
    }

    #[test]
    fn reorders_and_drops_retransmissions() {
        assert_eq!(run(&[(100, b"abc"), (103, b"def")]), b"abcdef");
        assert_eq!(run(&[(103, b"def"), (100, b"abc")]), b"abcdef");
        assert_eq!(
            run(&[(100, b"abc"), (101, b"bcdX"), (100, b"abc")]),
            b"abcdX"
        );
        assert_eq!(
            run(&[(106, b"ghi"), (103, b"def"), (100, b"abc")]),
            b"abcdefghi"
        );
    }
}
