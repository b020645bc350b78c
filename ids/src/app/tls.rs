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
}

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
}

/// Whether a client's first bytes look like a TLS handshake record.
pub fn looks_like_tls(data: &[u8]) -> bool {
    data.len() >= 3 && data[0] == 0x16 && data[1] == 3 && data[2] <= 4
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
        if dir.done || dir.failed {
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
}
