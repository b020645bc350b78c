//! Standard syslog output for SOCs that already run a SIEM: RFC 5424 messages over TLS with
//! RFC 5425 octet-counting framing, to every receiver in `soc.syslog`, read from the encrypted
//! store — so, like the SOC link, it resumes after an outage from where it stopped. Delivery is
//! at least once: a receiver that goes away mid-batch may see the last batch again.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::ServerName;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use edgeward_event::Bus;
use edgeward_event::{EventBody, Level};
use edgeward_store::store::{Keyring, Tail};

/// Facility local4 (20): `<PRI> = facility * 8 + severity`.
const FACILITY: u8 = 20;

pub struct SyslogTarget {
    pub endpoint: String,
    pub server_name: String,
    /// The CA that issued the receiver's certificate (the SOC's).
    pub ca: PathBuf,
    pub host: String,
    pub store_dir: PathBuf,
    pub key_dir: PathBuf,
    pub cursor_path: PathBuf,
}

#[derive(Default, Serialize, Deserialize)]
struct Cursor {
    sent_seq: Option<u64>,
}

/// Syslog severity of an event (0 emergency … 7 debug).
fn severity(json: &serde_json::Value) -> u8 {
    match json["event_type"].as_str() {
        Some("alert") => match json["alert"]["severity"].as_u64() {
            Some(1) => 2,
            Some(2) => 3,
            Some(3) => 4,
            _ => 5,
        },
        Some("system") => match json["level"].as_str() {
            Some("error") => 3,
            Some("warning") => 4,
            _ => 6,
        },
        Some("uplink") if json["state"] == "down" => 4,
        Some("firewall" | "nac" | "uplink") => 5,
        Some("audit") if json["outcome"] == "failure" => 4,
        Some("audit") => 5,
        _ => 6,
    }
}

/// One event as an RFC 5424 message, framed for RFC 5425 (`LEN SP MSG`).
pub fn frame(host: &str, seq: u64, event_json: &str) -> Vec<u8> {
    let v: serde_json::Value = serde_json::from_str(event_json).unwrap_or_default();
    let pri = FACILITY * 8 + severity(&v);
    let ts = v["timestamp"].as_str().unwrap_or("-");
    let msgid = v["event_type"].as_str().unwrap_or("-");
    let host = if host.is_empty() { "-" } else { host };
    // [meta sequenceId] (RFC 5424 §7.3.1) carries the gateway's sequence number (1..2^31-1).
    let seq_id = (seq % 2_147_483_647).max(1);
    let msg = format!(
        "<{pri}>1 {ts} {host} edgeward - {msgid} [meta sequenceId=\"{seq_id}\"] {event_json}"
    );
    let mut out = format!("{} ", msg.len()).into_bytes();
    out.extend_from_slice(msg.as_bytes());
    out
}

/// A TLS client for a SIEM whose certificate `ca` (PEM) vouches for.
pub fn tls(ca: &std::path::Path) -> Result<TlsConnector, String> {
    let mut roots = rustls::RootCertStore::empty();
    for c in crate::pki::load_certs(ca).map_err(|e| e.to_string())? {
        roots.add(c).map_err(|e| e.to_string())?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(cfg)))
}

/// Send events to one receiver forever, reconnecting with backoff.
pub async fn run(t: SyslogTarget, bus: Bus) {
    let mut reported = false;
    loop {
        match session(&t).await {
            Ok(()) => {}
            Err(e) => {
                if !reported {
                    bus.emit(EventBody::system(
                        Level::Warning,
                        "syslog",
                        format!(
                            "syslog receiver {} unavailable: {e}; resuming later from the store",
                            t.endpoint
                        ),
                    ))
                    .await;
                    reported = true;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn session(t: &SyslogTarget) -> Result<(), String> {
    let connector = tls(&t.ca)?;
    let tcp = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&t.endpoint))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let name = ServerName::try_from(t.server_name.clone()).map_err(|e| e.to_string())?;
    let mut stream = connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let keys = Keyring::open(&t.key_dir).map_err(|e| e.to_string())?;
    let cursor_file = edgeward_store::cursor::CursorFile::new(&t.cursor_path);
    let cursor: Cursor = cursor_file.load();
    let mut tail = Tail::new(&t.store_dir, keys, cursor.sent_seq.map_or(1, |s| s + 1));
    loop {
        let batch = tokio::task::block_in_place(|| tail.read(512)).map_err(|e| e.to_string())?;
        if batch.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        let mut buf = Vec::with_capacity(batch.len() * 450);
        for (seq, json) in &batch {
            buf.extend_from_slice(&frame(&t.host, *seq, json));
        }
        stream.write_all(&buf).await.map_err(|e| e.to_string())?;
        stream.flush().await.map_err(|e| e.to_string())?;
        let last = batch.last().map(|b| b.0);
        cursor_file.save(&Cursor { sent_seq: last });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_rfc5424_with_octet_counting() {
        let ev = r#"{"timestamp":"2026-11-22T10:00:00.000001Z","host":"gw1","seq":7,"event_type":"system","level":"error","component":"x","message":"y"}"#;
        let f = String::from_utf8(frame("gw1", 7, ev)).unwrap();
        let (len, msg) = f.split_once(' ').unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), msg.len());
        assert!(
            msg.starts_with(
                "<163>1 2026-11-22T10:00:00.000001Z gw1 edgeward - system [meta sequenceId=\"7\"] {"
            ),
            "{msg}"
        );
    }
}
