//! Reachability probes run from inside a namespace: TCP connect, HTTP GET, ping. Each is bounded
//! in time; retries are explicit and bounded too.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::netns;

/// Outcome of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    Ok,
    /// Connection refused: the packet got there and a host said no (a firewall that drops does not).
    Refused,
    TimedOut,
    Error(String),
}

impl Reach {
    pub fn is_ok(&self) -> bool {
        *self == Reach::Ok
    }
}

/// One TCP connect from `ns` to `addr`.
pub fn tcp_connect(ns: &str, addr: SocketAddr, timeout: Duration) -> Reach {
    netns::within(ns, move || {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(_) => Reach::Ok,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Reach::Refused,
            Err(e)
                if e.kind() == std::io::ErrorKind::TimedOut
                    || e.kind() == std::io::ErrorKind::WouldBlock =>
            {
                Reach::TimedOut
            }
            Err(e) => Reach::Error(e.to_string()),
        }
    })
    .unwrap_or_else(|e| Reach::Error(e.to_string()))
}

/// A minimal HTTP/1.0 GET from `ns`; returns status code and body.
pub fn http_get(
    ns: &str,
    addr: SocketAddr,
    host: &str,
    path: &str,
    timeout: Duration,
) -> Result<(u16, String), Reach> {
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: edgeward-lab\r\nConnection: close\r\n\r\n"
    );
    netns::within(ns, move || {
        let mut stream = match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err(Reach::Refused);
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return Err(Reach::TimedOut),
            Err(e) => return Err(Reach::Error(e.to_string())),
        };
        let _ = stream.set_read_timeout(Some(timeout));
        let _ = stream.set_write_timeout(Some(timeout));
        stream
            .write_all(request.as_bytes())
            .map_err(|e| Reach::Error(e.to_string()))?;
        let mut raw = Vec::new();
        let mut buf = [0u8; 8192];
        let deadline = Instant::now() + timeout;
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                Err(e)
                    if Instant::now() < deadline && e.kind() == std::io::ErrorKind::Interrupted =>
                {
                    continue;
                }
                Err(e) => return Err(Reach::Error(e.to_string())),
            }
            if raw.len() > 1 << 20 {
                break;
            }
        }
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                Reach::Error(format!(
                    "not an HTTP response: {:?}",
                    text.chars().take(80).collect::<String>()
                ))
            })?;
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Ok((status, body))
    })
    .unwrap_or_else(|e| Err(Reach::Error(e.to_string())))
}

/// One ICMP echo from `ns` (uses the system `ping`).
pub fn ping(ns: &str, addr: std::net::IpAddr, timeout: Duration) -> bool {
    let secs = timeout.as_secs().max(1).to_string();
    netns::command(ns, "ping")
        .args(["-n", "-q", "-c", "1", "-W", &secs, &addr.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Retry `probe` until it succeeds or `attempts` run out, `pause` apart.
pub fn retry<T>(
    attempts: u32,
    pause: Duration,
    mut probe: impl FnMut() -> Result<T, Reach>,
) -> Result<T, Reach> {
    let mut last = Reach::Error("no attempt made".into());
    for i in 0..attempts.max(1) {
        match probe() {
            Ok(v) => return Ok(v),
            Err(e) => last = e,
        }
        if i + 1 < attempts {
            std::thread::sleep(pause);
        }
    }
    Err(last)
}
