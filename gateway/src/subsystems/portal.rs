//! The waiting page for machines not yet approved (`nac.onboarding_zones`): plain HTTP on the
//! gateway's addresses in those zones at `nac.portal_port` (the firewall sends their web
//! requests there and lets nothing else through). Every request gets the page, which names the
//! machine's MAC (from the neighbour table) and its reference.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;

use crate::reconcile::{Desired, Report, Step, Subsystem};

/// The portal subsystem.
#[derive(Default)]
pub struct Portal {
    running: Option<(Vec<SocketAddr>, String, Vec<JoinHandle<()>>)>,
    planned: Option<(Vec<SocketAddr>, String)>,
}

impl Portal {
    fn stop(&mut self) {
        if let Some((_, _, tasks)) = self.running.take() {
            for t in tasks {
                t.abort();
            }
        }
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn answer(mut stream: tokio::net::TcpStream, peer: IpAddr, agency: String) {
    let mut buf = vec![0u8; 8192];
    let mut got = 0;
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        while got < buf.len() {
            match stream.read(&mut buf[got..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    got += n;
                    if buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    if read.is_err() {
        return;
    }
    let arp = std::fs::read_to_string("/proc/net/arp").unwrap_or_default();
    let mac = edgeward_nac::portal::mac_of(&arp, peer);
    let body = edgeward_nac::portal::page(&agency, peer, mac.as_deref());
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

impl Subsystem for Portal {
    fn name(&self) -> &'static str {
        "portal"
    }

    fn plan(&mut self, desired: &Desired<'_>) -> Result<(), String> {
        let c = desired.config;
        let addrs: Vec<SocketAddr> = c
            .interfaces
            .iter()
            .filter(|i| !i.role.is_uplink() && c.nac.onboarding_zones.contains(&i.zone))
            .flat_map(|i| i.addresses.iter().map(ipnetwork::IpNetwork::ip))
            .filter(IpAddr::is_ipv4)
            .map(|ip| SocketAddr::new(ip, c.nac.portal_port))
            .collect();
        self.planned = Some((addrs, c.gateway.agency.clone()));
        Ok(())
    }

    fn apply<'a>(&'a mut self, _desired: &'a Desired<'a>) -> Step<'a> {
        Box::pin(async move {
            let Some((addrs, agency)) = self.planned.take() else {
                return Ok(Report::quiet());
            };
            if self
                .running
                .as_ref()
                .is_some_and(|(a, g, _)| *a == addrs && *g == agency)
            {
                return Ok(Report::quiet());
            }
            self.stop();
            if addrs.is_empty() {
                return Ok(Report::quiet());
            }
            let mut tasks = Vec::new();
            let mut report = Report::done(format!(
                "waiting page for unapproved devices on {}",
                addrs
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            for addr in &addrs {
                let listener = match tokio::net::TcpListener::bind(addr).await {
                    Ok(l) => l,
                    Err(e) => {
                        report = report.note(
                            edgeward_event::model::Level::Error,
                            format!("waiting page not served on {addr}: {e}"),
                        );
                        continue;
                    }
                };
                let agency = agency.clone();
                tasks.push(tokio::spawn(async move {
                    while let Ok((stream, peer)) = listener.accept().await {
                        tokio::spawn(answer(stream, peer.ip(), agency.clone()));
                    }
                }));
            }
            self.running = Some((addrs, agency, tasks));
            Ok(report)
        })
    }

    fn discard(&mut self) {
        self.planned = None;
    }
}
