//! TLS handshakes from the in-order stream: ClientHello (SNI, JA3), ServerHello (JA3S) and the
//! server's Certificate message (DER certificates, subject and issuer as Suricata prints them).
//! Parsing of a direction stops at ChangeCipherSpec or application data (TLS 1.3 certificates are
//! encrypted and therefore not seen).

use md5::{Digest, Md5};

/// Handshake bytes kept per direction while waiting for a message to complete.
const MAX_HANDSHAKE: usize = 64 * 1024;

#[derive(Debug, Default)]
struct Direction {
    record: Vec<u8>,
    handshake: Vec<u8>,
    done: bool,
    failed: bool,
    /// After the handshake: bytes left of the current record's body, and the header bytes of
    /// the next record seen so far (record framing is followed without keeping the data).
    body_left: usize,
    header: [u8; 5],
    header_len: u8,
}

/// Largest TLSCiphertext fragment: 2^14 + 2048 (RFC 8446 §5.2, RFC 5246 §6.2.3).
const MAX_RECORD: usize = 16_384 + 2048;

/// What became available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsEvent {
    ClientHello,
    /// Server side finished (certificate seen, or handshake over without one).
    ServerDone,
}

/// TLS state of one flow.
#[derive(Debug, Default)]
pub struct TlsState {
    client: Direction,
    server: Direction,
    pub sni: Vec<u8>,
    pub ja3: Vec<u8>,
    pub ja3_hash: Vec<u8>,
    pub ja3s_hash: Vec<u8>,
    certs: Vec<Vec<u8>>,
    cert_count: usize,
    ext_types: Vec<u16>,
    pub cert_subject: Vec<u8>,
    pub cert_issuer: Vec<u8>,
    pub client_hello_seen: bool,
    pub server_done: bool,
    server_hello_seen: bool,
    /// Encrypted application data flows and the record framing holds: payload inspection is
    /// pointless (as Suricata's default `encryption-handling`), `tls.*` buffers stay.
    pub encrypted: bool,
    /// The record framing broke after the handshake: whatever this is, it is not TLS, and its
    /// payload is inspected again for the rest of the flow.
    pub framing_broken: bool,
}

/// Whether a client's first bytes look like a TLS handshake record.
pub fn looks_like_tls(data: &[u8]) -> bool {
    data.len() >= 3 && data[0] == 0x16 && data[1] == 3 && data[2] <= 4
}

/// Whether more bytes could still make `data` a TLS handshake record header.
pub fn could_become_tls(data: &[u8]) -> bool {
    matches!(data, [0x16] | [0x16, 3])
}

fn grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

fn push_decimal(out: &mut Vec<u8>, mut v: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn join_u16(out: &mut Vec<u8>, values: impl Iterator<Item = u16>) {
    let mut first = true;
    for v in values.filter(|v| !grease(*v)) {
        if !first {
            out.push(b'-');
        }
        first = false;
        push_decimal(out, u32::from(v));
    }
}

fn md5_hex(data: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.clear();
    for b in Md5::digest(data) {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 15) as usize]);
    }
}

struct Reader<'a> {
    d: &'a [u8],
    p: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Option<u8> {
        let v = *self.d.get(self.p)?;
        self.p += 1;
        Some(v)
    }
    fn u16(&mut self) -> Option<u16> {
        let v = u16::from_be_bytes([*self.d.get(self.p)?, *self.d.get(self.p + 1)?]);
        self.p += 2;
        Some(v)
    }
    fn u24(&mut self) -> Option<usize> {
        let b = self.d.get(self.p..self.p + 3)?;
        self.p += 3;
        Some((b[0] as usize) << 16 | (b[1] as usize) << 8 | b[2] as usize)
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.d.get(self.p..self.p.checked_add(n)?)?;
        self.p += n;
        Some(s)
    }
}

impl TlsState {
    /// Forget the flow, keeping buffer capacity for the next one.
    pub fn reset(&mut self) {
        for d in [&mut self.client, &mut self.server] {
            d.record.clear();
            d.handshake.clear();
            d.done = false;
            d.failed = false;
            d.body_left = 0;
            d.header_len = 0;
        }
        for v in [
            &mut self.sni,
            &mut self.ja3,
            &mut self.ja3_hash,
            &mut self.ja3s_hash,
            &mut self.cert_subject,
            &mut self.cert_issuer,
        ] {
            v.clear();
        }
        self.cert_count = 0;
        self.client_hello_seen = false;
        self.server_done = false;
        self.server_hello_seen = false;
        self.encrypted = false;
        self.framing_broken = false;
    }

    /// The certificates of the server's Certificate message.
    pub fn certs(&self) -> &[Vec<u8>] {
        &self.certs[..self.cert_count]
    }

    /// Consume in-order stream bytes of one direction.
    pub fn feed(&mut self, to_server: bool, data: &[u8], events: &mut Vec<TlsEvent>) {
        let dir = if to_server {
            &mut self.client
        } else {
            &mut self.server
        };
        if dir.failed {
            return;
        }
        if dir.done {
            self.follow_records(to_server, data);
            return;
        }
        dir.record.extend_from_slice(data);
        let mut records = std::mem::take(&mut dir.record);
        let mut pos = 0;
        while records.len() - pos >= 5 {
            let ctype = records[pos];
            let len = u16::from_be_bytes([records[pos + 3], records[pos + 4]]) as usize;
            if records[pos + 1] != 3 || len > 18 * 1024 {
                self.dir(to_server).failed = true;
                return;
            }
            if records.len() - pos < 5 + len {
                break;
            }
            let fragment = &records[pos + 5..pos + 5 + len];
            pos += 5 + len;
            match ctype {
                22 => {
                    let dir = self.dir(to_server);
                    if dir.handshake.len() + fragment.len() > MAX_HANDSHAKE {
                        dir.failed = true;
                        return;
                    }
                    dir.handshake.extend_from_slice(fragment);
                    self.handshake_messages(to_server, events);
                }
                20 | 23 => {
                    self.dir(to_server).done = true;
                    if !to_server && !self.server_done {
                        self.server_done = true;
                        events.push(TlsEvent::ServerDone);
                    }
                    if ctype == 23 {
                        self.application_data(to_server);
                    }
                    // The rest is encrypted: follow its record framing only.
                    let rest = records[pos..].to_vec();
                    self.dir(to_server).record.clear();
                    self.follow_records(to_server, &rest);
                    return;
                }
                21 => {}
                _ => {
                    self.dir(to_server).failed = true;
                    return;
                }
            }
        }
        records.drain(..pos);
        let dir = self.dir(to_server);
        if records.len() > MAX_HANDSHAKE {
            dir.failed = true;
            return;
        }
        dir.record = records;
    }

    /// Application data: the handshake is over (0-RTT data before the ServerHello does not count,
    /// as in Suricata).
    fn application_data(&mut self, to_server: bool) {
        if (self.server_hello_seen || !to_server) && !self.framing_broken {
            self.encrypted = true;
        }
    }

    /// After the handshake: check each record header (type, version, length) and skip its body.
    /// Anything that is not TLS record framing ends the encrypted state for good.
    fn follow_records(&mut self, to_server: bool, mut data: &[u8]) {
        while !data.is_empty() {
            let dir = self.dir(to_server);
            if dir.failed {
                return;
            }
            if dir.body_left > 0 {
                let n = dir.body_left.min(data.len());
                dir.body_left -= n;
                data = &data[n..];
                continue;
            }
            let need = 5 - usize::from(dir.header_len);
            let n = need.min(data.len());
            let at = usize::from(dir.header_len);
            dir.header[at..at + n].copy_from_slice(&data[..n]);
            dir.header_len += n as u8;
            data = &data[n..];
            if dir.header_len < 5 {
                return;
            }
            dir.header_len = 0;
            let h = dir.header;
            let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
            if !(20..=24).contains(&h[0]) || h[1] != 3 || len == 0 || len > MAX_RECORD {
                dir.failed = true;
                self.framing_broken = true;
                self.encrypted = false;
                return;
            }
            dir.body_left = len;
            if h[0] == 23 {
                self.application_data(to_server);
            }
        }
    }

    fn dir(&mut self, to_server: bool) -> &mut Direction {
        if to_server {
            &mut self.client
        } else {
            &mut self.server
        }
    }

    fn handshake_messages(&mut self, to_server: bool, events: &mut Vec<TlsEvent>) {
        let mut hs = std::mem::take(&mut self.dir(to_server).handshake);
        let mut pos = 0;
        while hs.len() - pos >= 4 {
            let mtype = hs[pos];
            let len =
                (hs[pos + 1] as usize) << 16 | (hs[pos + 2] as usize) << 8 | hs[pos + 3] as usize;
            if hs.len() - pos < 4 + len {
                break;
            }
            let body = &hs[pos + 4..pos + 4 + len];
            pos += 4 + len;
            match (to_server, mtype) {
                (true, 1) if !self.client_hello_seen => {
                    self.client_hello_seen = true;
                    let _ = self.client_hello(body);
                    events.push(TlsEvent::ClientHello);
                }
                (false, 2) => {
                    self.server_hello_seen = true;
                    let _ = self.server_hello(body);
                }
                (false, 11) => {
                    let _ = self.certificate(body);
                    if !self.server_done {
                        self.server_done = true;
                        events.push(TlsEvent::ServerDone);
                    }
                }
                (false, 14) if !self.server_done => {
                    self.server_done = true;
                    events.push(TlsEvent::ServerDone);
                }
                _ => {}
            }
        }
        hs.drain(..pos);
        self.dir(to_server).handshake = hs;
    }

    fn client_hello(&mut self, body: &[u8]) -> Option<()> {
        let mut r = Reader { d: body, p: 0 };
        let version = r.u16()?;
        r.take(32)?;
        let sid_len = r.u8()? as usize;
        r.take(sid_len)?;
        let cs_len = r.u16()? as usize;
        let ciphers = r.take(cs_len)?;
        let comp_len = r.u8()? as usize;
        r.take(comp_len)?;
        let mut ext_types = std::mem::take(&mut self.ext_types);
        ext_types.clear();
        let mut curves: &[u8] = &[];
        let mut formats: &[u8] = &[];
        if r.p < body.len() {
            let ext_len = r.u16()? as usize;
            let exts = r.take(ext_len)?;
            let mut e = Reader { d: exts, p: 0 };
            while e.p + 4 <= exts.len() {
                let t = e.u16()?;
                let l = e.u16()? as usize;
                let data = e.take(l)?;
                ext_types.push(t);
                match t {
                    0 => {
                        // server_name list: len(2) type(1) len(2) name
                        let mut s = Reader { d: data, p: 0 };
                        let _list = s.u16()?;
                        if s.u8()? == 0 {
                            let n = s.u16()? as usize;
                            self.sni.clear();
                            self.sni.extend_from_slice(s.take(n)?);
                        }
                    }
                    10 => curves = data.get(2..).unwrap_or(&[]),
                    11 => formats = data.get(1..).unwrap_or(&[]),
                    _ => {}
                }
            }
        }
        let mut ja3 = std::mem::take(&mut self.ja3);
        ja3.clear();
        push_decimal(&mut ja3, u32::from(version));
        ja3.push(b',');
        join_u16(
            &mut ja3,
            ciphers
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]])),
        );
        ja3.push(b',');
        join_u16(&mut ja3, ext_types.iter().copied());
        ja3.push(b',');
        join_u16(
            &mut ja3,
            curves
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]])),
        );
        ja3.push(b',');
        join_u16(&mut ja3, formats.iter().map(|&f| u16::from(f)));
        md5_hex(&ja3, &mut self.ja3_hash);
        self.ja3 = ja3;
        self.ext_types = ext_types;
        Some(())
    }

    fn server_hello(&mut self, body: &[u8]) -> Option<()> {
        let mut r = Reader { d: body, p: 0 };
        let version = r.u16()?;
        r.take(32)?;
        let sid_len = r.u8()? as usize;
        r.take(sid_len)?;
        let cipher = r.u16()?;
        r.u8()?;
        let mut s = std::mem::take(&mut self.ja3);
        let client_ja3_len = s.len();
        push_decimal(&mut s, u32::from(version));
        s.push(b',');
        push_decimal(&mut s, u32::from(cipher));
        s.push(b',');
        if r.p < body.len() {
            let ext_len = r.u16()? as usize;
            let exts = r.take(ext_len)?;
            let mut e = Reader { d: exts, p: 0 };
            let mut first = true;
            while e.p + 4 <= exts.len() {
                let t = e.u16()?;
                let l = e.u16()? as usize;
                e.take(l)?;
                if grease(t) {
                    continue;
                }
                if !first {
                    s.push(b'-');
                }
                first = false;
                push_decimal(&mut s, u32::from(t));
            }
        }
        md5_hex(&s[client_ja3_len..], &mut self.ja3s_hash);
        s.truncate(client_ja3_len);
        self.ja3 = s;
        Some(())
    }

    fn certificate(&mut self, body: &[u8]) -> Option<()> {
        let mut r = Reader { d: body, p: 0 };
        let total = r.u24()?;
        let list = r.take(total)?;
        let mut c = Reader { d: list, p: 0 };
        self.cert_count = 0;
        while c.p + 3 <= list.len() {
            let n = c.u24()?;
            let der = c.take(n)?;
            if self.certs.len() <= self.cert_count {
                self.certs.push(Vec::new());
            }
            let slot = &mut self.certs[self.cert_count];
            slot.clear();
            slot.extend_from_slice(der);
            self.cert_count += 1;
        }
        if self.cert_count > 0
            && let Some(first) = self.certs.first()
            && let Ok((_, cert)) = x509_parser::parse_x509_certificate(first)
        {
            self.cert_subject = cert.subject().to_string().into_bytes();
            self.cert_issuer = cert.issuer().to_string().into_bytes();
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease_values_are_recognised() {
        assert!(grease(0x0a0a) && grease(0xfafa) && !grease(0x0a1a) && !grease(0x1301));
    }

    #[test]
    fn garbage_never_panics_and_fails_the_direction() {
        let mut s = TlsState::default();
        let mut ev = Vec::new();
        s.feed(true, &[0x16, 3, 1, 0, 5, 1, 0, 0, 1, 0], &mut ev);
        s.feed(true, &[0x99; 40], &mut ev);
        assert!(ev.len() <= 1);
    }

    fn rec(ctype: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![ctype, 3, 3];
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    /// A ServerHello handshake record (contents are not needed for the state tests).
    fn server_hello() -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[7; 32]);
        b.extend_from_slice(&[0, 0x13, 0x01, 0, 0, 0]);
        let mut h = vec![2, 0, 0, b.len() as u8];
        h.extend(b);
        rec(22, &h)
    }

    fn handshake_then(tail_from_client: &[u8]) -> TlsState {
        let mut s = TlsState::default();
        let mut ev = Vec::new();
        let mut flight = server_hello();
        flight.extend(rec(20, &[1]));
        flight.extend(rec(23, &[9; 300]));
        s.feed(false, &flight, &mut ev);
        let mut client = rec(20, &[1]);
        client.extend(rec(23, &[5; 53]));
        client.extend_from_slice(tail_from_client);
        // Delivered in awkward pieces: framing must be followed across them.
        for piece in client.chunks(3) {
            s.feed(true, piece, &mut ev);
        }
        s
    }

    #[test]
    fn application_data_after_the_handshake_turns_payload_inspection_off() {
        let mut more = rec(23, &[1; 1000]);
        more.extend(rec(21, &[1, 0]));
        let s = handshake_then(&more);
        assert!(s.encrypted && !s.framing_broken);
    }

    /// Plaintext disguised as TLS after a handshake is inspected again (the bypass would
    /// otherwise hide it).
    #[test]
    fn broken_record_framing_turns_inspection_back_on_for_good() {
        let mut s = handshake_then(b"GET /evil HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(s.framing_broken && !s.encrypted);
        let mut ev = Vec::new();
        s.feed(true, &rec(23, &[1; 10]), &mut ev);
        assert!(!s.encrypted, "once broken, it stays inspected");
        // An oversized record length is broken framing too.
        let s = handshake_then(&[23, 3, 3, 0xff, 0xff]);
        assert!(s.framing_broken);
    }

    #[test]
    fn early_data_before_the_server_hello_does_not_count() {
        let mut s = TlsState::default();
        let mut ev = Vec::new();
        s.feed(true, &rec(23, &[1; 100]), &mut ev);
        assert!(!s.encrypted);
    }
}
