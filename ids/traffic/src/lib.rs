//! Traffic generator for tests and benchmarks: complete, valid conversations written as pcap —
//! TCP with handshake, segmentation, ACKs and FIN close; HTTP/1.1 requests and responses; DNS
//! queries and answers over UDP; TLS 1.2 handshakes with SNI and a real X.509 certificate followed
//! by application data. [`trigger_capture`] adds flows crafted to fire chosen ET Open rules;
//! [`bench_capture`] makes a large realistic mix.
#![warn(missing_docs)]

use std::net::Ipv4Addr;
use std::path::Path;

use etherparse::PacketBuilder;
use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};

const MSS: usize = 1448;

/// Deterministic xorshift random numbers.
/// A small deterministic generator (xorshift64): the same seed writes the same capture.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is taken as 1).
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
    /// A word of `n` lower-case letters.
    pub fn word(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| (b'a' + self.below(26) as u8) as char)
            .collect()
    }
}

/// A capture being written in memory.
pub struct Capture {
    /// Timestamp (seconds) and Ethernet frame of every packet so far.
    pub frames: Vec<(f64, Vec<u8>)>,
    t: f64,
    rng: Rng,
}

/// One side of a TCP conversation's message: who sends it and what.
pub enum Msg {
    /// Bytes the client sends.
    Client(Vec<u8>),
    /// Bytes the server sends.
    Server(Vec<u8>),
}

impl Capture {
    /// An empty capture whose random choices follow `seed`.
    pub fn new(seed: u64) -> Self {
        Capture {
            frames: Vec::new(),
            t: 1_713_700_000.0,
            rng: Rng::new(seed),
        }
    }

    /// The capture's random generator (to draw sizes and names consistently with it).
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    fn tick(&mut self) -> f64 {
        self.t += 0.000_05 + (self.rng.below(50) as f64) * 0.000_001;
        self.t
    }

    /// Let `seconds` of capture time pass.
    pub fn wait(&mut self, seconds: f64) {
        self.t += seconds;
    }

    fn push(&mut self, frame: Vec<u8>) {
        let t = self.tick();
        self.frames.push((t, frame));
    }

    fn tcp_frame(
        src: (Ipv4Addr, u16),
        dst: (Ipv4Addr, u16),
        seq: u32,
        ack: Option<u32>,
        flags: &str,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(src.0.octets(), dst.0.octets(), 64)
            .tcp(src.1, dst.1, seq, 64240);
        if let Some(a) = ack {
            b = b.ack(a);
        }
        for f in flags.chars() {
            b = match f {
                'S' => b.syn(),
                'F' => b.fin(),
                'P' => b.psh(),
                'R' => b.rst(),
                _ => b,
            };
        }
        let mut out = Vec::with_capacity(b.size(payload.len()));
        // Writing into a Vec cannot fail for a well-formed builder.
        let _ = b.write(&mut out, payload);
        out
    }

    /// A whole TCP connection: handshake, the messages in order (segmented, acknowledged), close.
    pub fn tcp(&mut self, client: (Ipv4Addr, u16), server: (Ipv4Addr, u16), msgs: &[Msg]) {
        let mut cseq = self.rng.next_u64() as u32;
        let mut sseq = self.rng.next_u64() as u32;
        self.push(Self::tcp_frame(client, server, cseq, None, "S", &[]));
        cseq = cseq.wrapping_add(1);
        self.push(Self::tcp_frame(server, client, sseq, Some(cseq), "S", &[]));
        sseq = sseq.wrapping_add(1);
        self.push(Self::tcp_frame(client, server, cseq, Some(sseq), "", &[]));
        for m in msgs {
            let (from_client, data) = match m {
                Msg::Client(d) => (true, d),
                Msg::Server(d) => (false, d),
            };
            let chunks: Vec<&[u8]> = data.chunks(MSS).collect();
            for (i, chunk) in chunks.iter().enumerate() {
                let last = i + 1 == chunks.len();
                let flags = if last { "P" } else { "" };
                if from_client {
                    self.push(Self::tcp_frame(
                        client,
                        server,
                        cseq,
                        Some(sseq),
                        flags,
                        chunk,
                    ));
                    cseq = cseq.wrapping_add(chunk.len() as u32);
                } else {
                    self.push(Self::tcp_frame(
                        server,
                        client,
                        sseq,
                        Some(cseq),
                        flags,
                        chunk,
                    ));
                    sseq = sseq.wrapping_add(chunk.len() as u32);
                }
                if i % 2 == 1 || last {
                    if from_client {
                        self.push(Self::tcp_frame(server, client, sseq, Some(cseq), "", &[]));
                    } else {
                        self.push(Self::tcp_frame(client, server, cseq, Some(sseq), "", &[]));
                    }
                }
            }
        }
        self.push(Self::tcp_frame(client, server, cseq, Some(sseq), "F", &[]));
        cseq = cseq.wrapping_add(1);
        self.push(Self::tcp_frame(server, client, sseq, Some(cseq), "F", &[]));
        sseq = sseq.wrapping_add(1);
        self.push(Self::tcp_frame(client, server, cseq, Some(sseq), "", &[]));
    }

    /// Add a frame as the next packet.
    pub fn push_frame(&mut self, frame: Vec<u8>) {
        self.push(frame);
    }

    /// A connection whose request is sent as `pieces` — each at its byte offset in the request
    /// (overlaps and repeats allowed), with its own [`Tweak`] — in the order given, then
    /// `response`, then close. For evasion tests.
    pub fn tcp_pieces(
        &mut self,
        client: (Ipv4Addr, u16),
        server: (Ipv4Addr, u16),
        pieces: &[(usize, Vec<u8>, Tweak)],
        request_len: usize,
        response: &[u8],
    ) {
        let mut cseq = self.rng.next_u64() as u32;
        let mut sseq = self.rng.next_u64() as u32;
        self.push(Self::tcp_frame(client, server, cseq, None, "S", &[]));
        cseq = cseq.wrapping_add(1);
        self.push(Self::tcp_frame(server, client, sseq, Some(cseq), "S", &[]));
        sseq = sseq.wrapping_add(1);
        self.push(Self::tcp_frame(client, server, cseq, Some(sseq), "", &[]));
        for (offset, data, tweak) in pieces {
            let seq = cseq.wrapping_add(*offset as u32);
            let mut b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
                .ipv4(
                    client.0.octets(),
                    server.0.octets(),
                    tweak.ttl.unwrap_or(64),
                )
                .tcp(client.1, server.1, seq, 64240)
                .ack(sseq)
                .psh();
            if let Some(ptr) = tweak.urgent {
                b = b.urg(ptr);
            }
            let mut frame = Vec::with_capacity(b.size(data.len()));
            let _ = b.write(&mut frame, data);
            if tweak.bad_checksum && frame.len() > 14 + 20 + 17 {
                frame[14 + 20 + 16] ^= 0x5a;
            }
            self.push(frame);
        }
        cseq = cseq.wrapping_add(request_len as u32);
        self.push(Self::tcp_frame(server, client, sseq, Some(cseq), "", &[]));
        for chunk in response.chunks(MSS) {
            self.push(Self::tcp_frame(
                server,
                client,
                sseq,
                Some(cseq),
                "P",
                chunk,
            ));
            sseq = sseq.wrapping_add(chunk.len() as u32);
        }
        self.push(Self::tcp_frame(client, server, cseq, Some(sseq), "F", &[]));
        cseq = cseq.wrapping_add(1);
        self.push(Self::tcp_frame(server, client, sseq, Some(cseq), "F", &[]));
        sseq = sseq.wrapping_add(1);
        self.push(Self::tcp_frame(client, server, cseq, Some(sseq), "", &[]));
    }

    /// A connection whose request is sent as the given segments (each its own packet, in the
    /// given order of `order`, a permutation of the segment indices; sequence numbers follow the
    /// bytes, so a receiver reassembles them), then `response` normally, then close. For
    /// evasion tests: one byte per segment, a first segment of two bytes, shuffled segments.
    pub fn tcp_segments(
        &mut self,
        client: (Ipv4Addr, u16),
        server: (Ipv4Addr, u16),
        segments: &[Vec<u8>],
        order: &[usize],
        response: &[u8],
    ) {
        let mut offsets = Vec::with_capacity(segments.len());
        let mut at = 0;
        for s in segments {
            offsets.push(at);
            at += s.len();
        }
        let pieces: Vec<(usize, Vec<u8>, Tweak)> = order
            .iter()
            .filter_map(|&i| {
                let seg = segments.get(i)?;
                Some((offsets[i], seg.clone(), Tweak::default()))
            })
            .collect();
        self.tcp_pieces(client, server, &pieces, at, response);
    }

    /// One UDP datagram.
    pub fn udp(&mut self, src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), payload: &[u8]) {
        let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(src.0.octets(), dst.0.octets(), 64)
            .udp(src.1, dst.1);
        let mut out = Vec::with_capacity(b.size(payload.len()));
        let _ = b.write(&mut out, payload);
        self.push(out);
    }

    /// A DNS query for `name` and its answer.
    pub fn dns(&mut self, client: Ipv4Addr, resolver: Ipv4Addr, name: &str) {
        let id = self.rng.below(65535) as u16;
        let sport = 1024 + self.rng.below(60000) as u16;
        let q = dns_message(id, name, false);
        self.udp((client, sport), (resolver, 53), &q);
        let r = dns_message(id, name, true);
        self.udp((resolver, 53), (client, sport), &r);
    }

    /// An HTTP/1.1 exchange on one connection.
    pub fn http(
        &mut self,
        client: (Ipv4Addr, u16),
        server: (Ipv4Addr, u16),
        request: Vec<u8>,
        response: Vec<u8>,
    ) {
        self.tcp(
            client,
            server,
            &[Msg::Client(request), Msg::Server(response)],
        );
    }

    /// A TLS 1.2 handshake for `sni` with a certificate for `subject`, then `app_bytes` of
    /// application data each way.
    pub fn tls(
        &mut self,
        client: (Ipv4Addr, u16),
        server: (Ipv4Addr, u16),
        sni: &str,
        cert_der: &[u8],
        app_bytes: usize,
    ) {
        let ch = client_hello(sni, &mut self.rng);
        let mut flight = server_hello(&mut self.rng);
        flight.extend(record(22, &handshake(11, &cert_list(cert_der))));
        flight.extend(record(22, &handshake(14, &[])));
        let mut fin = record(20, &[1]);
        fin.extend(record(22, &self.rng.bytes(40)));
        let mut sfin = record(20, &[1]);
        sfin.extend(record(22, &self.rng.bytes(40)));
        let mut msgs = vec![
            Msg::Client(ch),
            Msg::Server(flight),
            Msg::Client(fin),
            Msg::Server(sfin),
        ];
        let mut left = app_bytes;
        while left > 0 {
            let n = left.min(16_000);
            let req = record(23, &self.rng.bytes(200.min(n)));
            msgs.push(Msg::Client(req));
            msgs.push(Msg::Server(record(23, &self.rng.bytes(n))));
            left -= n;
        }
        self.tcp(client, server, &msgs);
    }

    /// A TLS 1.3 session for `sni`: hellos in the clear, everything after (certificate
    /// included) encrypted, then about `app_bytes` of application data, mostly from the server.
    pub fn tls13(
        &mut self,
        client: (Ipv4Addr, u16),
        server: (Ipv4Addr, u16),
        sni: &str,
        app_bytes: usize,
    ) {
        let ch = client_hello(sni, &mut self.rng);
        let mut sh = vec![3, 3];
        sh.extend(self.rng.bytes(32));
        sh.push(0);
        sh.extend_from_slice(&0x1301u16.to_be_bytes());
        sh.push(0);
        let mut exts = ext(43, &[3, 4]);
        let mut share = vec![0, 0x1d, 0, 32];
        share.extend(self.rng.bytes(32));
        exts.extend(ext(51, &share));
        sh.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        sh.extend(exts);
        let mut flight = record(22, &handshake(2, &sh));
        flight.extend(record(20, &[1]));
        let encrypted_handshake = 2000 + self.rng.below(3000) as usize;
        flight.extend(record(23, &self.rng.bytes(encrypted_handshake)));
        let mut fin = record(20, &[1]);
        fin.extend(record(23, &self.rng.bytes(53)));
        let mut msgs = vec![Msg::Client(ch), Msg::Server(flight), Msg::Client(fin)];
        let mut left = app_bytes;
        while left > 0 {
            let request = 100 + self.rng.below(700) as usize;
            msgs.push(Msg::Client(record(23, &self.rng.bytes(request))));
            let mut response = Vec::new();
            let n = left.min(16_384 * (1 + self.rng.below(16) as usize));
            let mut r = n;
            while r > 0 {
                let k = r.min(16_384);
                response.extend(record(23, &self.rng.bytes(k)));
                r -= k;
            }
            msgs.push(Msg::Server(response));
            left -= n;
        }
        self.tcp(client, server, &msgs);
    }

    /// Write a pcap file (Ethernet link type).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let file = std::io::BufWriter::new(std::fs::File::create(path)?);
        let header = PcapHeader {
            datalink: DataLink::ETHERNET,
            snaplen: 65535,
            ..Default::default()
        };
        let mut w = PcapWriter::with_header(file, header).map_err(std::io::Error::other)?;
        for (t, f) in &self.frames {
            let ts = std::time::Duration::from_secs_f64(*t);
            w.write_packet(&PcapPacket::new(ts, f.len() as u32, f))
                .map_err(std::io::Error::other)?;
        }
        Ok(())
    }
}

fn dns_message(id: u16, name: &str, response: bool) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(if response {
        &[0x81, 0x80]
    } else {
        &[0x01, 0x00]
    });
    m.extend_from_slice(&[0, 1, 0, u8::from(response), 0, 0, 0, 0]);
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    if response {
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 203, 0, 113, 7]);
    }
    m
}

fn record(ctype: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ctype, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

fn handshake(mtype: u8, body: &[u8]) -> Vec<u8> {
    let mut h = vec![mtype];
    h.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    h.extend_from_slice(body);
    h
}

fn cert_list(der: &[u8]) -> Vec<u8> {
    let mut one = (der.len() as u32).to_be_bytes()[1..].to_vec();
    one.extend_from_slice(der);
    let mut list = (one.len() as u32).to_be_bytes()[1..].to_vec();
    list.extend_from_slice(&one);
    list
}

fn ext(t: u16, data: &[u8]) -> Vec<u8> {
    let mut e = t.to_be_bytes().to_vec();
    e.extend_from_slice(&(data.len() as u16).to_be_bytes());
    e.extend_from_slice(data);
    e
}

/// A TLS 1.2 ClientHello record with SNI.
pub fn client_hello(sni: &str, rng: &mut Rng) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend(rng.bytes(32));
    b.push(0);
    let ciphers: [u16; 6] = [0xc02b, 0xc02f, 0xc02c, 0xc030, 0x009e, 0x009f];
    b.extend_from_slice(&((ciphers.len() * 2) as u16).to_be_bytes());
    for c in ciphers {
        b.extend_from_slice(&c.to_be_bytes());
    }
    b.extend_from_slice(&[1, 0]);
    let mut exts = Vec::new();
    let mut sn = ((sni.len() + 3) as u16).to_be_bytes().to_vec();
    sn.push(0);
    sn.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    sn.extend_from_slice(sni.as_bytes());
    exts.extend(ext(0, &sn));
    exts.extend(ext(10, &[0, 4, 0, 0x1d, 0, 0x17]));
    exts.extend(ext(11, &[1, 0]));
    exts.extend(ext(13, &[0, 4, 4, 3, 8, 4]));
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend(exts);
    record(22, &handshake(1, &b))
}

fn server_hello(rng: &mut Rng) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend(rng.bytes(32));
    b.push(0);
    b.extend_from_slice(&0xc02fu16.to_be_bytes());
    b.push(0);
    let exts = ext(0xff01, &[0]);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend(exts);
    record(22, &handshake(2, &b))
}

/// A self-signed certificate's DER with the given subject parts (`CN`, optional `O`).
pub fn certificate(cn: &str, org: Option<&str>) -> Vec<u8> {
    let mut params = rcgen::CertificateParams::new(vec![cn.to_string()]).unwrap_or_default();
    let mut dn = rcgen::DistinguishedName::new();
    if let Some(o) = org {
        dn.push(rcgen::DnType::OrganizationName, o);
    }
    dn.push(rcgen::DnType::CommonName, cn);
    params.distinguished_name = dn;
    let Ok(key) = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256) else {
        return Vec::new();
    };
    match params.self_signed(&key) {
        Ok(c) => c.der().to_vec(),
        Err(_) => Vec::new(),
    }
}

fn get(path: &str, host: &str, ua: &str, extra: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {ua}\r\nAccept: */*\r\n{extra}Connection: keep-alive\r\n\r\n"
    )
    .into_bytes()
}

fn ok(body: &[u8], ctype: &str) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

const BROWSER_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36";

fn lan(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 10, 0, n)
}

fn internet(rng: &mut Rng) -> Ipv4Addr {
    Ipv4Addr::new(198, 51, 100, 1 + rng.below(200) as u8)
}

/// Benign flows: browsing, TLS, lookups.
pub fn noise(cap: &mut Capture, flows: usize) {
    let cert = certificate("www.example.org", Some("Example Org"));
    for i in 0..flows {
        let client = lan(20 + (i % 50) as u8);
        let cport = 20000 + (i % 40000) as u16;
        let server = internet(cap.rng());
        match i % 7 {
            0..=3 => {
                let path = format!("/static/{}/{}.css", cap.rng().word(6), cap.rng().word(8));
                let size = 500 + cap.rng().below(20_000) as usize;
                let body: Vec<u8> = (0..size).map(|j| b"abcdefghij klmnop\n"[j % 18]).collect();
                let req = get(
                    &path,
                    "www.example.org",
                    BROWSER_UA,
                    "Accept-Language: vi-VN,vi;q=0.9\r\n",
                );
                cap.http((client, cport), (server, 80), req, ok(&body, "text/css"));
            }
            4 | 5 => {
                let bytes = 2000 + cap.rng().below(20_000) as usize;
                cap.tls(
                    (client, cport),
                    (server, 443),
                    "www.example.org",
                    &cert,
                    bytes,
                );
            }
            _ => {
                let name = format!("{}.example.vn", cap.rng().word(7));
                cap.dns(client, Ipv4Addr::new(10, 10, 0, 2), &name);
            }
        }
    }
}

/// Flows crafted to fire chosen ET Open rules (listed in the comments with their sids), mixed
/// with noise. Every one is a complete, valid conversation.
pub fn trigger_capture(seed: u64) -> Capture {
    let mut cap = Capture::new(seed);
    noise(&mut cap, 30);
    let resolver = Ipv4Addr::new(10, 10, 0, 2);
    let ext = |n: u8| Ipv4Addr::new(203, 0, 113, n);
    // DNS lookups: 2025531, 2034831, 2014169 (.su), 2043093 (bsize), 2036289 (coin miner).
    for (i, name) in [
        "suggedin.info",
        "log4j.leakix.net",
        "update.evil.su",
        "omnatuor.com",
        "pool.hashvault.pro",
    ]
    .iter()
    .enumerate()
    {
        cap.dns(lan(100 + i as u8), resolver, name);
    }
    // 2xxxx .top with `threshold: type limit, count 1, seconds 30, track by_src`: three lookups
    // from one host alert once; a fourth after 31 s alerts again.
    for n in ["a.top", "b.top", "c.top"] {
        cap.dns(lan(110), resolver, n);
    }
    cap.wait(31.0);
    cap.dns(lan(110), resolver, "d.top");
    // TLS SNI: 2033900 honeygain, 2031615 fiberswatch, 2033967 telegram, 2034098 autodesk.
    let cert = certificate("www.example.org", None);
    for (i, sni) in [
        "api.honeygain.com",
        "fiberswatch.com",
        "api.telegram.org",
        "developer.api.autodesk.com",
    ]
    .iter()
    .enumerate()
    {
        cap.tls(
            (lan(120 + i as u8), 40000 + i as u16),
            (ext(10 + i as u8), 443),
            sni,
            &cert,
            3000,
        );
    }
    // Certificate subjects: 2030666 CN=ifconfig.me, 2011540 O=Internet Widgits Pty Ltd.
    let c1 = certificate("ifconfig.me", None);
    cap.tls((lan(130), 41000), (ext(20), 443), "ifconfig.me", &c1, 1000);
    let c2 = certificate("localhost", Some("Internet Widgits Pty Ltd"));
    cap.tls(
        (lan(131), 41001),
        (ext(21), 443),
        "portal.example.net",
        &c2,
        1000,
    );
    // HTTP user agents: 2028834, 2029569, 2029748.
    for (i, ua) in ["IExplorer 34", "easyhttp client", "xPCAP"]
        .iter()
        .enumerate()
    {
        let req = get("/index.html", "www.example.net", ua, "");
        cap.http(
            (lan(140 + i as u8), 42000 + i as u16),
            (ext(30 + i as u8), 80),
            req,
            ok(b"hello", "text/html"),
        );
    }
    // HTTP hosts: 2034899 ip.dnsexit.com; 2039621 OpenSea API with a URI prefix.
    cap.http(
        (lan(150), 43000),
        (ext(40), 80),
        get("/", "ip.dnsexit.com", BROWSER_UA, ""),
        ok(b"1.2.3.4", "text/plain"),
    );
    cap.http(
        (lan(151), 43001),
        (ext(41), 80),
        get(
            "/api/v1/collections?asset_owner=0xabc&offset=0",
            "api.opensea.io",
            BROWSER_UA,
            "",
        ),
        ok(b"[]", "application/json"),
    );
    // URI pcre: 2017814 (/flash.php?id=).
    cap.http(
        (lan(152), 43002),
        (ext(42), 80),
        get("/flash.php?id=1f2e3d", "cdn.example.net", BROWSER_UA, ""),
        ok(b"x", "text/html"),
    );
    // Flowbits chain: a Java client (2013035 sets ET.http.javaclient, no alert) downloads a JAR
    // (2017748 checks it, sets et.JavaArchiveOrClass, no alert) that references the security
    // manager (2017760 checks that bit and alerts).
    let mut jar = b"PK\x03\x04".to_vec();
    jar.extend_from_slice(b"....java/lang/System.getSecurityManager....");
    cap.http(
        (lan(153), 43003),
        (ext(43), 80),
        get(
            "/lib/app.jar",
            "dl.example.net",
            "Mozilla/4.0 (Windows 10) Java/1.8.0_301",
            "",
        ),
        ok(&jar, "application/java-archive"),
    );
    // The same JAR to a browser: no Java client bit, so nothing may fire.
    cap.http(
        (lan(154), 43004),
        (ext(43), 80),
        get("/lib/app.jar", "dl.example.net", BROWSER_UA, ""),
        ok(&jar, "application/java-archive"),
    );
    // Raw TCP content: 2100498 "id check returned root" in a shell session.
    cap.tcp(
        (lan(160), 44000),
        (ext(50), 4444),
        &[
            Msg::Client(b"id\n".to_vec()),
            Msg::Server(b"uid=0(root) gid=0(root) groups=0(root)\n".to_vec()),
        ],
    );
    // IP-only: a connection from an address on the CI Army list to a LAN host.
    cap.tcp(
        (Ipv4Addr::new(1, 117, 204, 147), 51000),
        (lan(170), 22),
        &[Msg::Client(b"SSH-2.0-Go\r\n".to_vec())],
    );
    noise(&mut cap, 30);
    cap
}

/// A large realistic mix for throughput: `flows` conversations.
pub fn bench_capture(seed: u64, flows: usize) -> Capture {
    let mut cap = Capture::new(seed);
    noise(&mut cap, flows);
    cap
}

/// How one evasion-test segment differs from an honest one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tweak {
    /// IP TTL (default 64).
    pub ttl: Option<u8>,
    /// Corrupt the TCP checksum (the host drops it).
    pub bad_checksum: bool,
    /// Set URG with this urgent pointer.
    pub urgent: Option<u16>,
}

/// Split the IPv4 packet of an Ethernet frame into fragments carrying `size` payload bytes
/// each (a multiple of 8; the IP header must have no options).
pub fn ipv4_fragments(frame: &[u8], size: usize) -> Vec<Vec<u8>> {
    let (eth, rest) = frame.split_at(14.min(frame.len()));
    if rest.len() < 20 || rest[0] != 0x45 {
        return vec![frame.to_vec()];
    }
    let (hdr, payload) = rest.split_at(20);
    let size = (size.max(8) / 8) * 8;
    let chunks: Vec<&[u8]> = payload.chunks(size).collect();
    chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut h = hdr.to_vec();
            h[2..4].copy_from_slice(&((20 + c.len()) as u16).to_be_bytes());
            let units = (i * size / 8) as u16;
            let more = if i + 1 < chunks.len() { 0x2000 } else { 0 };
            h[6..8].copy_from_slice(&(units | more).to_be_bytes());
            h[10] = 0;
            h[11] = 0;
            let sum = ipv4_header_checksum(&h);
            h[10..12].copy_from_slice(&sum.to_be_bytes());
            let mut f = eth.to_vec();
            f.extend_from_slice(&h);
            f.extend_from_slice(c);
            f
        })
        .collect()
}

/// One IPv4 fragment of a frame's packet at byte `offset` (a multiple of 8) carrying `data`
/// instead of the packet's own bytes — for overlap tests.
pub fn ipv4_fragment_with(frame: &[u8], offset: usize, data: &[u8], more: bool) -> Vec<u8> {
    let mut h = frame[14..34].to_vec();
    h[2..4].copy_from_slice(&((20 + data.len()) as u16).to_be_bytes());
    let v = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
    h[6..8].copy_from_slice(&v.to_be_bytes());
    h[10] = 0;
    h[11] = 0;
    let sum = ipv4_header_checksum(&h);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    let mut f = frame[..14].to_vec();
    f.extend_from_slice(&h);
    f.extend_from_slice(data);
    f
}

fn ipv4_header_checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in h.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A UDP datagram over IPv6 as an Ethernet frame.
pub fn udp6_frame(
    src: (std::net::Ipv6Addr, u16),
    dst: (std::net::Ipv6Addr, u16),
    payload: &[u8],
) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv6(src.0.octets(), dst.0.octets(), 64)
        .udp(src.1, dst.1);
    let mut out = Vec::with_capacity(b.size(payload.len()));
    let _ = b.write(&mut out, payload);
    out
}

/// Split the IPv6 packet of an Ethernet frame (no extension headers) into fragments of `size`
/// payload bytes (a multiple of 8) with a Fragment header; `replace` swaps in other bytes for
/// the fragment at that offset, sent again after the original (an overlap).
pub fn ipv6_fragments(
    frame: &[u8],
    size: usize,
    id: u32,
    replace: Option<(usize, &[u8])>,
) -> Vec<Vec<u8>> {
    if frame.len() < 54 {
        return vec![frame.to_vec()];
    }
    let eth = &frame[..14];
    let hdr = &frame[14..54];
    let next = hdr[6];
    let payload = &frame[54..];
    let size = (size.max(8) / 8) * 8;
    let make = |offset: usize, data: &[u8], more: bool| {
        let mut h = hdr.to_vec();
        h[4..6].copy_from_slice(&((8 + data.len()) as u16).to_be_bytes());
        h[6] = 44;
        let mut f = eth.to_vec();
        f.extend_from_slice(&h);
        f.push(next);
        f.push(0);
        f.extend_from_slice(&(((offset / 8) as u16) << 3 | u16::from(more)).to_be_bytes());
        f.extend_from_slice(&id.to_be_bytes());
        f.extend_from_slice(data);
        f
    };
    let n = payload.len().div_ceil(size);
    let mut out = Vec::new();
    for i in 0..n {
        let off = i * size;
        let data = &payload[off..(off + size).min(payload.len())];
        out.push(make(off, data, i + 1 < n));
        if let Some((at, other)) = replace
            && at == off
        {
            out.push(make(off, other, i + 1 < n));
        }
    }
    out
}

/// Words for generated page text, scripts and JSON (a gateway's browsing mix, in Vietnamese and
/// English, with the tokens web pages are made of).
const WORDS: &[&str] = &[
    "thông", "tin", "cổng", "điện", "tử", "tỉnh", "văn", "bản", "quyết", "định", "the", "and",
    "for", "with", "news", "data", "user", "page", "document", "window", "function", "return",
    "var", "const", "let", "this", "null", "true", "false", "length", "push", "value", "style",
    "class", "div", "span", "href", "src", "img", "script", "http", "https", "www", "com", "vn",
    "gov", "json", "id", "name", "type", "items", "title", "content", "update", "2024",
];

fn words(rng: &mut Rng, n: usize) -> String {
    let mut s = String::with_capacity(n * 7);
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
    }
    s
}

/// An HTML page of about `size` bytes: head, links, paragraphs, inline script.
fn html_page(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut s = String::from(
        "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Cổng thông tin</title>\n<link rel=\"stylesheet\" href=\"/static/site.css\"><script src=\"/static/app.js\"></script></head>\n<body>\n",
    );
    while s.len() < size {
        match rng.below(5) {
            0 => s.push_str(&format!(
                "<div class=\"{}\"><a href=\"/tin-tuc/{}-{}.html\">{}</a></div>\n",
                rng.word(6),
                rng.word(8),
                rng.below(99_999),
                words(rng, 6)
            )),
            1 => s.push_str(&format!(
                "<img src=\"/uploads/{}/{}.jpg\" alt=\"{}\" width=\"{}\">\n",
                rng.below(2024),
                rng.word(10),
                words(rng, 3),
                100 + rng.below(900)
            )),
            2 => s.push_str(&format!(
                "<script>var {} = document.getElementById(\"{}\"); if ({}) {{ {}.style.display = \"none\"; }}</script>\n",
                rng.word(5),
                rng.word(7),
                rng.word(5),
                rng.word(5)
            )),
            _ => s.push_str(&format!("<p>{}</p>\n", words(rng, 40))),
        }
    }
    s.push_str("</body></html>\n");
    s.into_bytes()
}

/// A script of about `size` bytes.
fn javascript(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut s = String::from("\"use strict\";\n");
    while s.len() < size {
        let f = rng.word(7);
        s.push_str(&format!(
            "function {f}(a, b) {{\n  var r = [];\n  for (var i = 0; i < a.length; i++) {{ if (a[i].{} === b) r.push(a[i].{}); }}\n  return r.length ? r : null; // {}\n}}\nwindow.{f} = {f};\n",
            rng.word(4),
            rng.word(5),
            words(rng, 5)
        ));
    }
    s.into_bytes()
}

/// A JSON document of about `size` bytes.
fn json_doc(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut s = String::from("{\"items\":[");
    let mut first = true;
    while s.len() < size {
        if !first {
            s.push(',');
        }
        first = false;
        s.push_str(&format!(
            "{{\"id\":{},\"name\":\"{}\",\"title\":\"{}\",\"updated\":\"2024-04-{:02}T10:{:02}:00Z\",\"active\":{}}}",
            rng.below(1_000_000),
            rng.word(8),
            words(rng, 6),
            1 + rng.below(28),
            rng.below(60),
            rng.below(2) == 1
        ));
    }
    s.push_str("]}");
    s.into_bytes()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn chunked(body: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / chunk.max(1) * 8 + 8);
    for c in body.chunks(chunk.max(1)) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// One response of the byte-heavy mix: the request path, content type and the response bytes.
fn heavy_response(rng: &mut Rng) -> (String, Vec<u8>) {
    let kind = rng.below(100);
    let (path, ctype, body, gz, chunk) = match kind {
        0..=24 => {
            let size = 20_000 + rng.below(180_000) as usize;
            let b = html_page(rng, size);
            (
                format!("/tin-tuc/{}.html", rng.word(9)),
                "text/html; charset=utf-8",
                b,
                rng.below(2) == 0,
                rng.below(3) == 0,
            )
        }
        25..=44 => {
            let size = 10_000 + rng.below(300_000) as usize;
            let b = javascript(rng, size);
            (
                format!("/static/js/{}.js", rng.word(8)),
                "application/javascript",
                b,
                rng.below(2) == 0,
                false,
            )
        }
        45..=64 => {
            let size = 500 + rng.below(60_000) as usize;
            let b = json_doc(rng, size);
            (
                format!("/api/v1/{}?page={}", rng.word(6), rng.below(50)),
                "application/json",
                b,
                false,
                rng.below(2) == 0,
            )
        }
        65..=84 => {
            let size = 5_000 + rng.below(400_000) as usize;
            let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
            b.extend(rng.bytes(size));
            (
                format!("/uploads/{}.png", rng.word(10)),
                "image/png",
                b,
                false,
                false,
            )
        }
        _ => {
            let size = 100_000 + rng.below(900_000) as usize;
            let mut b = b"PK\x03\x04".to_vec();
            b.extend(rng.bytes(size));
            (
                format!("/files/{}.zip", rng.word(8)),
                "application/octet-stream",
                b,
                false,
                false,
            )
        }
    };
    let body = if gz { gzip(&body) } else { body };
    let mut head = format!(
        "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: {ctype}\r\nCache-Control: max-age=3600\r\n"
    );
    if gz {
        head.push_str("Content-Encoding: gzip\r\n");
    }
    let body = if chunk {
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
        chunked(&body, 8192)
    } else {
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        body
    };
    let mut r = head.into_bytes();
    r.extend(body);
    (path, r)
}

/// A byte-heavy gateway mix as an agency uplink carries it: HTTP/1.1 keep-alive connections of
/// 1–6 exchanges with HTML, scripts, JSON (gzip and chunked among them), images and downloads
/// of 100 KB–1 MB; TLS 1.3 sessions with long application data; DNS lookups — `flows`
/// conversations, up to 64 in progress at once with their packets interleaved.
pub fn byte_heavy_capture(seed: u64, flows: usize) -> Capture {
    let mut rng = Rng::new(seed);
    let mut conversations: Vec<Vec<Vec<u8>>> = Vec::with_capacity(flows);
    for i in 0..flows {
        let mut cap = Capture::new(rng.next_u64());
        let client = lan(20 + (i % 200) as u8);
        let cport = 20000 + (i % 40000) as u16;
        let server = internet(&mut rng);
        match rng.below(10) {
            0..=5 => {
                let mut msgs = Vec::new();
                for _ in 0..=rng.below(6) {
                    let (path, resp) = heavy_response(&mut rng);
                    msgs.push(Msg::Client(get(
                        &path,
                        "www.example.gov.vn",
                        BROWSER_UA,
                        "Accept-Language: vi-VN,vi;q=0.9\r\nAccept-Encoding: gzip, deflate\r\n",
                    )));
                    msgs.push(Msg::Server(resp));
                }
                cap.tcp((client, cport), (server, 80), &msgs);
            }
            6..=8 => {
                let bytes = 20_000 + rng.below(600_000) as usize;
                cap.tls13((client, cport), (server, 443), "www.example.gov.vn", bytes);
            }
            _ => {
                for _ in 0..4 {
                    let name = format!("{}.example.vn", rng.word(7));
                    cap.dns(client, Ipv4Addr::new(10, 10, 0, 2), &name);
                }
            }
        }
        conversations.push(cap.frames.into_iter().map(|(_, f)| f).collect());
    }
    interleave(seed, conversations, 64)
}

/// Merge conversations into one capture, `concurrent` at a time, packets taken in random turns
/// (each conversation keeps its own order).
fn interleave(seed: u64, conversations: Vec<Vec<Vec<u8>>>, concurrent: usize) -> Capture {
    let mut out = Capture::new(seed ^ 0x5eed);
    let mut waiting = conversations.into_iter();
    let mut active: Vec<std::vec::IntoIter<Vec<u8>>> = Vec::new();
    loop {
        while active.len() < concurrent {
            match waiting.next() {
                Some(c) => active.push(c.into_iter()),
                None => break,
            }
        }
        if active.is_empty() {
            break;
        }
        let i = out.rng.below(active.len() as u64) as usize;
        match active[i].next() {
            Some(frame) => out.push(frame),
            None => {
                active.swap_remove(i);
            }
        }
    }
    out
}

/// The rules the evasion cases are written for (addresses `any`, so IPv4 and IPv6 alike).
pub const EVASION_RULES: &str = r#"alert http any any -> any any (msg:"EVASION curl user agent"; flow:established,to_server; http.user_agent; content:"curl/"; startswith; classtype:policy-violation; sid:9100001; rev:1;)
alert tcp any any -> any 80 (msg:"EVASION raw marker in a request"; flow:established,to_server; content:"X-Marker|3a| evil-payload-0042"; classtype:trojan-activity; sid:9100002; rev:1;)
alert dns any any -> any any (msg:"EVASION DNS query for a flagged name"; dns.query; content:"evil-domain.example"; nocase; classtype:trojan-activity; sid:9100003; rev:1;)
alert udp any any -> any 53 (msg:"EVASION raw flagged name in a datagram"; content:"|0b|evil-domain|07|example"; nocase; classtype:trojan-activity; sid:9100004; rev:1;)
"#;

/// One evasion case: a flow built to hide a request from an IDS, and what must still fire.
#[derive(Debug, Clone)]
pub struct EvasionCase {
    /// What the case does.
    pub name: &'static str,
    /// The flow's client end (address, port).
    pub client: (std::net::IpAddr, u16),
    /// The flow's server end.
    pub server: (std::net::IpAddr, u16),
    /// SIDs of [`EVASION_RULES`] that must fire on this flow.
    pub expect: Vec<u32>,
}

/// The HTTP request every TCP case carries: it fires 9100001 (curl user agent) and 9100002
/// (raw marker).
pub const EVASION_REQUEST: &[u8] = b"GET /x HTTP/1.1\r\nHost: example.org\r\nUser-Agent: curl/8.5.0\r\nX-Marker: evil-payload-0042\r\nAccept: */*\r\n\r\n";

fn dns_query_for(name: &str, id: u16) -> Vec<u8> {
    dns_message(id, name, false)
}

/// Every evasion case in one capture, each its own flow: IP fragments (tiny, reversed,
/// overlapping; IPv4 and IPv6; TCP and UDP), TCP segmentation (one byte per segment in order
/// and shuffled, a tiny first segment, overlapping and out-of-order segments), insertion tricks
/// (a junk segment with a bad checksum or a TTL that expires at the gateway, sent first), urgent
/// data. `scripts/evasion.sh` and `ids/tests/evasion.rs` run it through both engines.
pub fn evasion_capture() -> (Capture, Vec<EvasionCase>) {
    use std::net::{IpAddr, Ipv6Addr};
    let mut cap = Capture::new(21);
    let mut cases = Vec::new();
    let server = Ipv4Addr::new(198, 51, 100, 9);
    let req = EVASION_REQUEST;
    let http = vec![9_100_001, 9_100_002];
    let dns = vec![9_100_003, 9_100_004];
    let response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec();
    let whole = |r: &[u8]| vec![(0usize, r.to_vec(), Tweak::default())];
    let bytes = |r: &[u8], sizes: &[usize]| {
        let mut out = Vec::new();
        let mut at = 0;
        for &n in sizes {
            let end = (at + n).min(r.len());
            out.push((at, r[at..end].to_vec(), Tweak::default()));
            at = end;
        }
        if at < r.len() {
            out.push((at, r[at..].to_vec(), Tweak::default()));
        }
        out
    };
    let mut port = 41_000u16;
    let mut tcp_case = |cap: &mut Capture,
                        cases: &mut Vec<EvasionCase>,
                        name: &'static str,
                        pieces: Vec<(usize, Vec<u8>, Tweak)>,
                        fragment: Option<(usize, bool, bool)>| {
        port += 1;
        let client = (lan(30), port);
        let mut c = Capture::new(u64::from(port));
        c.tcp_pieces(client, (server, 80), &pieces, req.len(), &response);
        for (_, f) in c.frames {
            let is_request_data =
                f.len() > 54 && f[14 + 9] == 6 && f[36..38] == 80u16.to_be_bytes();
            match fragment {
                Some((size, reverse, overlap)) if is_request_data => {
                    let mut frags = ipv4_fragments(&f, size);
                    if overlap {
                        // The same offset again with junk, right after the original: under
                        // the default (BSD) policy the destination keeps the original bytes.
                        let junk = vec![b'Z'; size];
                        let at = size * 3;
                        let more = at + size < f.len() - 34;
                        frags.insert(4, ipv4_fragment_with(&f, at, &junk, more));
                    }
                    if reverse {
                        frags.reverse();
                    }
                    for fr in frags {
                        cap.push_frame(fr);
                    }
                }
                _ => cap.push_frame(f),
            }
        }
        cases.push(EvasionCase {
            name,
            client: (IpAddr::V4(client.0), client.1),
            server: (IpAddr::V4(server), 80),
            expect: http.clone(),
        });
    };
    tcp_case(
        &mut cap,
        &mut cases,
        "control: the request in one segment",
        whole(req),
        None,
    );
    tcp_case(
        &mut cap,
        &mut cases,
        "IPv4 fragments of 8 bytes, in order",
        whole(req),
        Some((8, false, false)),
    );
    tcp_case(
        &mut cap,
        &mut cases,
        "IPv4 fragments of 8 bytes, reverse order",
        whole(req),
        Some((8, true, false)),
    );
    tcp_case(
        &mut cap,
        &mut cases,
        "IPv4 fragments of 16 bytes with an overlapping junk fragment",
        whole(req),
        Some((16, false, true)),
    );
    tcp_case(
        &mut cap,
        &mut cases,
        "one byte per TCP segment, in order",
        bytes(req, &vec![1; req.len()]),
        None,
    );
    let mut shuffled = bytes(req, &vec![1; req.len()]);
    let mut rng = Rng::new(5);
    for i in (1..shuffled.len()).rev() {
        shuffled.swap(i, rng.below(i as u64 + 1) as usize);
    }
    tcp_case(
        &mut cap,
        &mut cases,
        "one byte per TCP segment, shuffled",
        shuffled,
        None,
    );
    tcp_case(
        &mut cap,
        &mut cases,
        "a first segment of two bytes",
        bytes(req, &[2]),
        None,
    );
    tcp_case(
        &mut cap,
        &mut cases,
        "a first segment of one byte",
        bytes(req, &[1]),
        None,
    );
    let overlapping = vec![
        (0, req[..40].to_vec(), Tweak::default()),
        (20, req[20..70].to_vec(), Tweak::default()),
        (60, req[60..].to_vec(), Tweak::default()),
    ];
    tcp_case(
        &mut cap,
        &mut cases,
        "overlapping TCP segments carrying the same bytes",
        overlapping,
        None,
    );
    let mut out_of_order = bytes(req, &[30, 30]);
    out_of_order.reverse();
    tcp_case(
        &mut cap,
        &mut cases,
        "TCP segments out of order",
        out_of_order,
        None,
    );
    let junk: Vec<u8> = req
        .iter()
        .map(|b| if b.is_ascii_alphabetic() { b'q' } else { *b })
        .collect();
    let bad_checksum = vec![
        (
            0,
            junk.clone(),
            Tweak {
                bad_checksum: true,
                ..Tweak::default()
            },
        ),
        (0, req.to_vec(), Tweak::default()),
    ];
    tcp_case(
        &mut cap,
        &mut cases,
        "insertion: a junk segment with a bad checksum first",
        bad_checksum,
        None,
    );
    let low_ttl = vec![
        (
            0,
            junk,
            Tweak {
                ttl: Some(1),
                ..Tweak::default()
            },
        ),
        (0, req.to_vec(), Tweak::default()),
    ];
    tcp_case(
        &mut cap,
        &mut cases,
        "insertion: a junk segment whose TTL expires at the gateway first",
        low_ttl,
        None,
    );
    let urgent = vec![(
        0,
        req.to_vec(),
        Tweak {
            urgent: Some(5),
            ..Tweak::default()
        },
    )];
    tcp_case(
        &mut cap,
        &mut cases,
        "urgent data in the request segment",
        urgent,
        None,
    );

    // DNS over UDP, fragmented.
    let name = "evil-domain.example.ftp.sh";
    let resolver = Ipv4Addr::new(10, 10, 0, 2);
    for (i, (size, reverse)) in [(8usize, false), (16, true)].into_iter().enumerate() {
        let client = (lan(31), 42_000 + i as u16);
        let mut c = Capture::new(9);
        c.udp(client, (resolver, 53), &dns_query_for(name, 77 + i as u16));
        let mut frags = ipv4_fragments(&c.frames[0].1, size);
        if reverse {
            frags.reverse();
        }
        for f in frags {
            cap.push_frame(f);
        }
        cases.push(EvasionCase {
            name: if reverse {
                "IPv4 UDP DNS query in 16-byte fragments, reverse order"
            } else {
                "IPv4 UDP DNS query in 8-byte fragments"
            },
            client: (IpAddr::V4(client.0), client.1),
            server: (IpAddr::V4(resolver), 53),
            expect: dns.clone(),
        });
    }
    let c6: Ipv6Addr = "fd00:10::30".parse().unwrap_or(Ipv6Addr::LOCALHOST);
    let r6: Ipv6Addr = "fd00:10::2".parse().unwrap_or(Ipv6Addr::LOCALHOST);
    let frame = udp6_frame((c6, 43_001), (r6, 53), &dns_query_for(name, 91));
    for f in ipv6_fragments(&frame, 8, 0x1234, None) {
        cap.push_frame(f);
    }
    cases.push(EvasionCase {
        name: "IPv6 UDP DNS query in 8-byte fragments",
        client: (IpAddr::V6(c6), 43_001),
        server: (IpAddr::V6(r6), 53),
        expect: dns.clone(),
    });
    let frame = udp6_frame((c6, 43_002), (r6, 53), &dns_query_for(name, 92));
    for f in ipv6_fragments(&frame, 16, 0x1235, Some((32, b"ZZZZZZZZZZZZZZZZ"))) {
        cap.push_frame(f);
    }
    cases.push(EvasionCase {
        name: "IPv6 UDP DNS query in 16-byte fragments with an overlapping junk fragment",
        client: (IpAddr::V6(c6), 43_002),
        server: (IpAddr::V6(r6), 53),
        expect: dns,
    });
    (cap, cases)
}
