//! Health probes sent through one uplink only: every socket is bound to the uplink's interface
//! and carries its firewall mark, so a dead ISP is never "probed" through the other one.
//!
//! Kinds: ICMP echo (v4/v6, raw socket), TCP connect (a reset counts as an answer: the path
//! works), DNS query over UDP, HTTP GET (any status line), HTTPS (a TLS server answers a
//! ClientHello; no certificate is checked — this tests the path, it carries no data).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use edgeward_config::{Probe, ProbeKind};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How probe sockets are tied to an uplink.
#[derive(Debug, Clone)]
pub struct Via {
    pub device: String,
    /// The uplink's routing mark (selects its routing table).
    pub mark: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("unexpected answer: {0}")]
    Protocol(String),
    #[error("bad probe target `{0}`: {1}")]
    Target(String, String),
}

fn socket(domain: Domain, ty: Type, proto: Option<Protocol>, via: &Via) -> std::io::Result<Socket> {
    let s = Socket::new(domain, ty, proto)?;
    s.set_mark(via.mark)?;
    s.bind_device(Some(via.device.as_bytes()))?;
    s.set_nonblocking(true)?;
    Ok(s)
}

fn parse_addr(target: &str, default_port: u16) -> Result<SocketAddr, ProbeError> {
    if let Ok(sa) = target.parse::<SocketAddr>() {
        return Ok(sa);
    }
    target
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, default_port))
        .map_err(|_| {
            ProbeError::Target(target.into(), "expected an address, or address:port".into())
        })
}

/// Run one probe with a deadline; `Ok(rtt)` when the target answered.
pub async fn run(probe: &Probe, via: &Via, timeout: Duration) -> Result<Duration, ProbeError> {
    let started = Instant::now();
    let fut = async {
        match probe.kind {
            ProbeKind::Icmp => icmp_echo(parse_addr(&probe.target, 0)?.ip(), via).await,
            ProbeKind::Tcp => tcp_probe(parse_addr(&probe.target, 80)?, via).await,
            ProbeKind::Dns => {
                dns_query(
                    parse_addr(&probe.target, 53)?,
                    probe.query.as_deref().unwrap_or("."),
                    via,
                )
                .await
            }
            ProbeKind::Http | ProbeKind::Https => {
                web(&probe.target, probe.kind == ProbeKind::Https, via).await
            }
        }
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(())) => Ok(started.elapsed()),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(ProbeError::Timeout(timeout)),
    }
}

static ICMP_ID: AtomicU16 = AtomicU16::new(0x4557);

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        let word = if chunk.len() == 2 {
            u16::from_be_bytes([chunk[0], chunk[1]])
        } else {
            u16::from(chunk[0]) << 8
        };
        sum += u32::from(word);
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

async fn icmp_echo(target: IpAddr, via: &Via) -> Result<(), ProbeError> {
    let v6 = target.is_ipv6();
    let sock = if v6 {
        socket(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6), via)?
    } else {
        socket(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4), via)?
    };
    let id = ICMP_ID.fetch_add(1, Ordering::Relaxed);
    let seq: u16 = 1;
    let mut pkt = vec![if v6 { 128 } else { 8 }, 0, 0, 0];
    pkt.extend_from_slice(&id.to_be_bytes());
    pkt.extend_from_slice(&seq.to_be_bytes());
    pkt.extend_from_slice(b"edgeward-probe..");
    if !v6 {
        // ICMPv6 checksums are filled in by the kernel on raw sockets.
        let c = checksum(&pkt);
        pkt[2..4].copy_from_slice(&c.to_be_bytes());
    }
    let dest = SockAddr::from(SocketAddr::new(target, 0));
    sock.connect(&dest)?;
    // SAFETY: the AsyncFd owns `sock`, whose descriptor stays open and unchanged until it drops.
    let fd = unsafe { AsyncFd::register(sock) }
        .map_err(|e| ProbeError::Io(std::io::Error::other(e.to_string())))?;
    loop {
        let mut guard = fd.writable().await?;
        match guard.try_io(|s| s.get_ref().send(&pkt)) {
            Ok(r) => {
                r?;
                break;
            }
            Err(_would_block) => {}
        }
    }
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1500];
    loop {
        let mut guard = fd.readable().await?;
        let n = match guard.try_io(|s| s.get_ref().recv(&mut buf)) {
            Ok(r) => r?,
            Err(_would_block) => continue,
        };
        // SAFETY: recv initialised the first `n` bytes.
        let data: Vec<u8> = buf[..n]
            .iter()
            .map(|b| unsafe { b.assume_init() })
            .collect();
        let icmp = if v6 {
            &data[..]
        } else {
            let ihl = usize::from(data.first().copied().unwrap_or(0) & 0x0f) * 4;
            data.get(ihl..).unwrap_or(&[])
        };
        let reply_type = if v6 { 129 } else { 0 };
        if icmp.len() >= 8
            && icmp[0] == reply_type
            && icmp[4..6] == id.to_be_bytes()
            && icmp[6..8] == seq.to_be_bytes()
        {
            return Ok(());
        }
    }
}

async fn tcp_connect(addr: SocketAddr, via: &Via) -> Result<tokio::net::TcpStream, ProbeError> {
    let domain = if addr.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let s = socket(domain, Type::STREAM, Some(Protocol::TCP), via)?;
    let sock = tokio::net::TcpSocket::from_std_stream(std::net::TcpStream::from(s));
    match sock.connect(addr).await {
        Ok(stream) => Ok(stream),
        // A reset is an answer from the far end: the path through this uplink works.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err(ProbeError::Protocol("connection refused".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// TCP probes count a refused connection as an answer.
async fn tcp_probe(addr: SocketAddr, via: &Via) -> Result<(), ProbeError> {
    match tcp_connect(addr, via).await {
        Ok(_) => Ok(()),
        Err(ProbeError::Protocol(m)) if m == "connection refused" => Ok(()),
        Err(e) => Err(e),
    }
}

/// A DNS query for `name` (type A); any response with the query's id is an answer.
pub fn dns_query_bytes(id: u16, name: &str) -> Vec<u8> {
    let mut q = Vec::with_capacity(32 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        let l = &label.as_bytes()[..label.len().min(63)];
        q.push(l.len() as u8);
        q.extend_from_slice(l);
    }
    q.push(0);
    q.extend_from_slice(&[0, 1, 0, 1]);
    q
}

async fn dns_query(server: SocketAddr, name: &str, via: &Via) -> Result<(), ProbeError> {
    let domain = if server.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let s = socket(domain, Type::DGRAM, Some(Protocol::UDP), via)?;
    let sock = tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(s))?;
    sock.connect(server).await?;
    let id = ICMP_ID.fetch_add(1, Ordering::Relaxed);
    sock.send(&dns_query_bytes(id, name)).await?;
    let mut buf = [0u8; 512];
    loop {
        let n = sock.recv(&mut buf).await?;
        if n >= 4 && buf[..2] == id.to_be_bytes() && buf[2] & 0x80 != 0 {
            return Ok(());
        }
    }
}

/// (address, host header, path) of an `http(s)://IP[:port]/path` target.
pub fn parse_url(url: &str, https: bool) -> Result<(SocketAddr, String, String), ProbeError> {
    let bad = |why: &str| ProbeError::Target(url.into(), why.into());
    let rest = url
        .strip_prefix(if https { "https://" } else { "http://" })
        .ok_or_else(|| bad("expected http:// or https://"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = parse_addr(authority, if https { 443 } else { 80 })
        .map_err(|_| bad("the host must be an IP address (probes do not resolve names)"))?;
    Ok((addr, authority.to_string(), path.to_string()))
}

fn client_hello(sni: &str) -> Vec<u8> {
    let mut ext = Vec::new();
    let mut push_ext = |ty: u16, body: &[u8]| {
        ext.extend_from_slice(&ty.to_be_bytes());
        ext.extend_from_slice(&(body.len() as u16).to_be_bytes());
        ext.extend_from_slice(body);
    };
    if !sni.is_empty() && sni.parse::<IpAddr>().is_err() {
        let name = sni.as_bytes();
        let mut b = Vec::new();
        b.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
        b.push(0);
        b.extend_from_slice(&(name.len() as u16).to_be_bytes());
        b.extend_from_slice(name);
        push_ext(0x0000, &b);
    }
    push_ext(0x000a, &[0, 4, 0x00, 0x1d, 0x00, 0x17]);
    push_ext(0x000d, &[0, 6, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01]);
    push_ext(0x002b, &[4, 0x03, 0x04, 0x03, 0x03]);
    let mut body = vec![0x03, 0x03];
    body.extend((0..32u8).map(|i| i.wrapping_mul(37)));
    body.push(0);
    let suites: [u8; 10] = [0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f, 0xc0, 0x2b, 0xc0, 0x30];
    body.extend_from_slice(&(suites.len() as u16).to_be_bytes());
    body.extend_from_slice(&suites);
    body.extend_from_slice(&[1, 0]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![0x01];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

async fn web(url: &str, https: bool, via: &Via) -> Result<(), ProbeError> {
    let (addr, host, path) = parse_url(url, https)?;
    let mut stream = tcp_connect(addr, via).await?;
    if https {
        stream.write_all(&client_hello(&host)).await?;
        let mut first = [0u8; 1];
        stream.read_exact(&mut first).await?;
        // A handshake record (ServerHello) or an alert: a TLS server answered through this uplink.
        return if first[0] == 0x16 || first[0] == 0x15 {
            Ok(())
        } else {
            Err(ProbeError::Protocol(format!(
                "not TLS (first byte {:#04x})",
                first[0]
            )))
        };
    }
    stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: edgeward-probe\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut head = [0u8; 5];
    stream.read_exact(&mut head).await?;
    if &head == b"HTTP/" {
        Ok(())
    } else {
        Err(ProbeError::Protocol("not an HTTP response".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_query_is_well_formed() {
        let q = dns_query_bytes(0x1234, "gov.vn");
        assert_eq!(&q[..2], &[0x12, 0x34]);
        assert_eq!(
            &q[12..],
            &[3, b'g', b'o', b'v', 2, b'v', b'n', 0, 0, 1, 0, 1]
        );
    }

    #[test]
    fn icmp_checksum_of_a_known_packet() {
        let mut p = vec![8, 0, 0, 0, 0, 1, 0, 1];
        let c = checksum(&p);
        p[2..4].copy_from_slice(&c.to_be_bytes());
        assert_eq!(checksum(&p), 0, "a packet with its checksum sums to zero");
    }

    #[test]
    fn urls_must_name_an_ip() {
        let (a, host, path) = parse_url("https://203.162.4.191/health", true).unwrap();
        assert_eq!(
            (a.port(), host.as_str(), path.as_str()),
            (443, "203.162.4.191", "/health")
        );
        let (a, _, path) = parse_url("http://[2001:db8::1]:8080", false).unwrap();
        assert_eq!((a.port(), path.as_str()), (8080, "/"));
        assert!(parse_url("http://example.vn/", false).is_err());
        assert!(parse_url("ftp://1.2.3.4/", false).is_err());
    }

    #[test]
    fn client_hello_is_a_tls_handshake_record() {
        let ch = client_hello("portal.gov.vn");
        assert_eq!(&ch[..3], &[0x16, 0x03, 0x01]);
        assert_eq!(
            usize::from(u16::from_be_bytes([ch[3], ch[4]])),
            ch.len() - 5
        );
        assert_eq!(ch[5], 0x01);
        assert!(ch.windows(13).any(|w| w == b"portal.gov.vn"));
    }
}
