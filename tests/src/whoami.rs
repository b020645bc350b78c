//! A tiny HTTP responder for lab hosts: answers every request with who it is and who asked,
//! so a test can see the source address after NAT. Run as `edgeward-lab serve`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

fn answer(mut stream: TcpStream, name: &str) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".into(), |a| a.to_string());
    let mut req = Vec::new();
    let mut buf = [0u8; 2048];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 16 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let body = format!("server={name} client={peer}\n");
    let resp = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nServer: edgeward-lab\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(resp.as_bytes());
}

/// Serve forever on every address in `listen`.
pub fn serve(listen: &[SocketAddr], name: &str) -> std::io::Result<()> {
    let mut threads = Vec::new();
    for addr in listen {
        let listener = TcpListener::bind(addr)?;
        let name = name.to_string();
        threads.push(std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let name = name.clone();
                std::thread::spawn(move || answer(stream, &name));
            }
        }));
    }
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

/// Echo every byte back, for as long as the client keeps the connection (long-lived flows).
pub fn serve_echo(listen: &[SocketAddr]) -> std::io::Result<()> {
    let mut threads = Vec::new();
    for addr in listen {
        let listener = TcpListener::bind(addr)?;
        threads.push(std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0 || stream.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        }));
    }
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}
