//! The SOC hub (`edgeward-hub serve`): accepts QUIC connections from many gateways,
//! authenticates each by its client certificate (issued by the SOC's CA, and enrolled), writes
//! each gateway's events to its own JSON-lines file in sequence order — de-duplicated by
//! (gateway, seq) — and acknowledges what it has made durable. `edgeward-hub status` shows who is
//! connected and how far behind each gateway is.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use edgeward_soc::pki;
use edgeward_soc::proto::{self, Msg};

/// What the hub knows of one gateway.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GatewayState {
    pub last_seq: Option<u64>,
    pub connected: bool,
    pub peer: Option<String>,
    pub last_seen: Option<DateTime<Utc>>,
    /// Newest seq the gateway had when it connected (lag = this − last_seq, at that moment).
    pub reported_seq: Option<u64>,
    pub clock_skew_ms: Option<f64>,
    pub events: u64,
}

type Board = Arc<Mutex<BTreeMap<String, GatewayState>>>;

fn gateway_dir(dir: &Path, gw: &str) -> PathBuf {
    dir.join("gateways").join(gw)
}

fn state_path(dir: &Path) -> PathBuf {
    dir.join("status.json")
}

fn save(dir: &Path, board: &Board) {
    let snapshot = board
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    if let Ok(bytes) = serde_json::to_vec_pretty(&snapshot) {
        let _ = edgeward_config::history::write_atomic(&state_path(dir), &bytes);
    }
}

/// Last seq held for `gw`: from its events file's last line (the file is the truth).
/// Only the file's tail is read: a gateway's file grows to millions of lines.
fn last_seq_on_disk(dir: &Path, gw: &str) -> Option<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(gateway_dir(dir, gw).join("events.jsonl")).ok()?;
    let len = f.metadata().ok()?.len();
    // Events are a few hundred bytes; 1 MiB always holds the last complete line.
    f.seek(SeekFrom::Start(len.saturating_sub(1 << 20))).ok()?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).ok()?;
    String::from_utf8_lossy(&tail)
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v["seq"].as_u64())
}

/// Serve until the process is stopped.
pub async fn serve(dir: PathBuf, listen: SocketAddr, relay: Option<Relay>) -> anyhow::Result<()> {
    let endpoint = edgeward_soc::tls::server_endpoint(&dir, listen)?;
    if let Some(r) = relay {
        spawn_relay(dir.clone(), r);
    }
    let board: Board = Arc::new(Mutex::new(BTreeMap::new()));
    // Nobody is connected when the hub starts.
    if let Ok(raw) = std::fs::read(state_path(&dir)) {
        if let Ok(mut prev) = serde_json::from_slice::<BTreeMap<String, GatewayState>>(&raw) {
            for s in prev.values_mut() {
                s.connected = false;
            }
            *board
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = prev;
        }
    }
    save(&dir, &board);
    // Keep `status.json` current while the hub runs.
    let (sdir, sboard) = (dir.clone(), board.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            save(&sdir, &sboard);
        }
    });
    tracing::info!(%listen, "SOC hub listening");
    while let Some(incoming) = endpoint.accept().await {
        let (dir, board) = (dir.clone(), board.clone());
        tokio::spawn(async move {
            let peer = incoming.remote_address();
            match incoming.await {
                Ok(conn) => {
                    if let Err(e) = handle(conn, &dir, &board).await {
                        tracing::warn!(%peer, "gateway session ended: {e}");
                    }
                }
                Err(e) => tracing::warn!(%peer, "handshake refused: {e}"),
            }
        });
    }
    Ok(())
}

async fn handle(conn: quinn::Connection, dir: &Path, board: &Board) -> anyhow::Result<()> {
    let peer = conn.remote_address();
    let certs = conn
        .peer_identity()
        .and_then(|i| {
            i.downcast::<Vec<rustls_pki_types::CertificateDer<'static>>>()
                .ok()
        })
        .ok_or_else(|| anyhow::anyhow!("no client certificate"))?;
    let gw = certs
        .first()
        .and_then(pki::common_name)
        .ok_or_else(|| anyhow::anyhow!("client certificate has no common name"))?;
    if !pki::enrolled(dir)?.contains(&gw) {
        conn.close(quinn::VarInt::from_u32(403), b"not enrolled");
        anyhow::bail!("{gw} is not enrolled");
    }
    let (mut send, mut recv) = conn.accept_bi().await?;
    let Some(Msg::Hello {
        host,
        latest_seq,
        time_micros,
    }) = proto::read(&mut recv).await?
    else {
        anyhow::bail!("{gw}: no hello")
    };
    if host != gw {
        conn.close(
            quinn::VarInt::from_u32(403),
            b"host id does not match the certificate",
        );
        anyhow::bail!("{gw} introduced itself as {host}");
    }
    let gdir = gateway_dir(dir, &gw);
    std::fs::create_dir_all(&gdir)?;
    let mut last = last_seq_on_disk(dir, &gw);
    {
        let mut b = board
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let s = b.entry(gw.clone()).or_default();
        s.connected = true;
        s.peer = Some(peer.to_string());
        s.last_seen = Some(Utc::now());
        s.reported_seq = latest_seq;
        s.last_seq = last;
        s.clock_skew_ms = Some((time_micros - proto::now_micros()) as f64 / 1000.0);
    }
    save(dir, board);
    proto::write(
        &mut send,
        &Msg::Welcome {
            last_seq: last,
            time_micros: proto::now_micros(),
        },
    )
    .await?;
    let path = gdir.join("events.jsonl");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .mode(0o600)
        .append(true)
        .open(&path)?;
    // One writer owns the send side: acks and pushed bundles share it. `in_flight` counts the
    // update chunks queued but not yet written, so a large update is read from disk as it goes.
    let (out_tx, mut out_rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
    let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let written = in_flight.clone();
    let writer = tokio::spawn(async move {
        while let Some(m) = out_rx.recv().await {
            let chunk = matches!(m, Msg::UpdateChunk { .. });
            if proto::write(&mut send, &m).await.is_err() {
                break;
            }
            if chunk {
                written.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    let outbox = spawn_outbox(dir.to_path_buf(), gw.clone(), out_tx.clone(), in_flight);
    let result = async {
        while let Some(msg) = proto::read(&mut recv).await? {
            let events = match msg {
                Msg::Batch { events } => events,
                Msg::BundleResult {
                    version,
                    applied,
                    detail,
                } => {
                    record_result(dir, &gw, version, applied, &detail)?;
                    continue;
                }
                Msg::OrderResult {
                    serial,
                    accepted,
                    detail,
                } => {
                    record_order_result(dir, &gw, serial, accepted, &detail)?;
                    continue;
                }
                Msg::UpdateResult {
                    name,
                    queued,
                    detail,
                } => {
                    record_update_result(dir, &gw, &name, queued, &detail)?;
                    continue;
                }
                Msg::Backup { version, sealed } => {
                    store_backup(dir, &gw, version, &sealed)?;
                    let _ = out_tx.send(Msg::BackupAck { version });
                    continue;
                }
                other => anyhow::bail!("unexpected message {other:?}"),
            };
            let mut buf = Vec::with_capacity(events.len() * 400);
            let mut written = 0;
            for (seq, json) in events {
                // De-duplicate by (gateway, seq): a resend after a reconnect is dropped here.
                if last.is_some_and(|l| seq <= l) {
                    continue;
                }
                let line = match checked_event(&gw, seq, &json) {
                    Ok(line) => line,
                    Err(why) => {
                        tracing::warn!(gateway = %gw, seq, %why, "event refused");
                        refused_marker(&gw, seq, &why)
                    }
                };
                buf.extend_from_slice(line.as_bytes());
                buf.push(b'\n');
                last = Some(seq);
                written += 1;
            }
            if written > 0 {
                file.write_all(&buf)?;
                file.sync_data()?;
            }
            if let Some(seq) = last {
                let _ = out_tx.send(Msg::Ack {
                    seq,
                    time_micros: proto::now_micros(),
                });
            }
            let mut b = board
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let s = b.entry(gw.clone()).or_default();
            s.last_seq = last;
            s.last_seen = Some(Utc::now());
            s.events += written;
        }
        Ok(())
    }
    .await;
    outbox.abort();
    writer.abort();
    board
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(gw.clone())
        .or_default()
        .connected = false;
    save(dir, board);
    result
}

/// `edgeward-hub status`: connected gateways and how far behind each is.
pub fn print_status(dir: &Path) -> anyhow::Result<u8> {
    let raw = std::fs::read(state_path(dir))
        .map_err(|e| anyhow::anyhow!("{}: {e} (has the hub run?)", state_path(dir).display()))?;
    let board: BTreeMap<String, GatewayState> = serde_json::from_slice(&raw)?;
    println!(
        "{:<20} {:<10} {:>10} {:>10} {:>8} {:>10}  last seen",
        "gateway", "state", "last seq", "events", "lag", "skew ms"
    );
    for (gw, s) in &board {
        let lag = match (s.reported_seq, s.last_seq) {
            (Some(r), Some(l)) => r.saturating_sub(l).to_string(),
            _ => "-".into(),
        };
        println!(
            "{:<20} {:<10} {:>10} {:>10} {:>8} {:>10}  {}",
            gw,
            if s.connected { "connected" } else { "offline" },
            s.last_seq.map_or_else(|| "-".into(), |x| x.to_string()),
            s.events,
            lag,
            s.clock_skew_ms
                .map_or_else(|| "-".into(), |x| format!("{x:.1}")),
            s.last_seen
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default()
        );
    }
    Ok(0)
}

fn outbox_dir(dir: &Path, gw: &str) -> PathBuf {
    dir.join("outbox").join(gw)
}

fn results_path(dir: &Path, gw: &str) -> PathBuf {
    dir.join("results").join(format!("{gw}.jsonl"))
}

/// Send every bundle waiting in the gateway's outbox, then move it to `sent/`.
fn spawn_outbox(
    dir: PathBuf,
    gw: String,
    out: tokio::sync::mpsc::UnboundedSender<Msg>,
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let outbox = outbox_dir(&dir, &gw);
        loop {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&outbox)
                .map(|r| {
                    r.flatten()
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "json" || x == "ewu"))
                        .collect()
                })
                .unwrap_or_default();
            files.sort();
            for f in files {
                if f.extension().is_some_and(|x| x == "ewu") {
                    if !send_update(&f, &out, &in_flight).await {
                        return;
                    }
                    let sent = outbox.join("sent");
                    let _ = std::fs::create_dir_all(&sent);
                    let _ = std::fs::rename(&f, sent.join(f.file_name().unwrap_or_default()));
                    continue;
                }
                let Ok(raw) = std::fs::read(&f) else { continue };
                let is_order = f
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("order-"));
                if is_order {
                    match serde_json::from_slice::<edgeward_soc::order::Order>(&raw) {
                        Ok(order) => {
                            if out
                                .send(Msg::Order {
                                    order: Box::new(order),
                                })
                                .is_err()
                            {
                                return;
                            }
                        }
                        Err(e) => tracing::warn!(file = %f.display(), "not an order: {e}"),
                    }
                    let sent = outbox.join("sent");
                    let _ = std::fs::create_dir_all(&sent);
                    let _ = std::fs::rename(&f, sent.join(f.file_name().unwrap_or_default()));
                    continue;
                }
                match serde_json::from_slice::<edgeward_soc::bundle::Bundle>(&raw) {
                    Ok(bundle) => {
                        if out
                            .send(Msg::Bundle {
                                bundle: Box::new(bundle),
                            })
                            .is_err()
                        {
                            return;
                        }
                    }
                    Err(e) => tracing::warn!(file = %f.display(), "not a bundle: {e}"),
                }
                let sent = outbox.join("sent");
                let _ = std::fs::create_dir_all(&sent);
                let _ = std::fs::rename(&f, sent.join(f.file_name().unwrap_or_default()));
            }
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    })
}

/// Stream a system update bundle to the gateway in order, a few chunks ahead of the writer.
/// Returns false when the connection is gone.
async fn send_update(
    file: &Path,
    out: &tokio::sync::mpsc::UnboundedSender<Msg>,
    in_flight: &std::sync::atomic::AtomicUsize,
) -> bool {
    use base64::Engine;
    use std::io::Read;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Ok(mut f) = std::fs::File::open(file) else {
        return true;
    };
    let total = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut offset = 0u64;
    let mut buf = vec![0u8; proto::UPDATE_CHUNK];
    loop {
        while in_flight.load(std::sync::atomic::Ordering::SeqCst) >= 4 {
            if out.is_closed() {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let mut filled = 0;
        while filled < buf.len() {
            match f.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => {
                    tracing::warn!(file = %file.display(), "cannot read the update: {e}");
                    return true;
                }
            }
        }
        if filled == 0 && offset > 0 {
            return true;
        }
        in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let msg = Msg::UpdateChunk {
            name: name.clone(),
            offset,
            total,
            data: base64::engine::general_purpose::STANDARD.encode(&buf[..filled]),
        };
        if out.send(msg).is_err() {
            return false;
        }
        offset += filled as u64;
        if offset >= total {
            return true;
        }
    }
}

/// Where the hub keeps a gateway's configuration backups (sealed by the gateway; the hub cannot
/// read them, and a changed copy does not open on restore).
pub fn backups_dir(dir: &Path, gw: &str) -> PathBuf {
    dir.join("backups").join(gw)
}

fn store_backup(dir: &Path, gw: &str, version: u64, sealed: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        sealed.len() <= 4 << 20 && sealed.starts_with("EDGEWARD-CONFIG-AUTOBACKUP v1\n"),
        "{gw}: backup v{version} is not a sealed configuration backup"
    );
    let out = backups_dir(dir, gw);
    std::fs::create_dir_all(&out)?;
    edgeward_config::history::write_atomic_mode(
        &out.join(format!("v{version:08}.ewb")),
        sealed.as_bytes(),
        0o600,
    )?;
    tracing::info!(gateway = gw, version, "configuration backup stored");
    Ok(())
}

fn update_results_path(dir: &Path, gw: &str) -> PathBuf {
    dir.join("results").join(format!("{gw}.updates.jsonl"))
}

fn record_update_result(
    dir: &Path,
    gw: &str,
    name: &str,
    queued: bool,
    detail: &str,
) -> anyhow::Result<()> {
    let detail = edgeward_event::clip(detail, edgeward_event::MAX_TEXT_BYTES);
    tracing::info!(gateway = gw, name, queued, "{}", detail.escape_debug());
    append_line(
        &update_results_path(dir, gw),
        &serde_json::json!({ "time": Utc::now(), "gateway": gw, "name": name, "queued": queued, "detail": detail }),
    )
}

/// The gateways `targets` names (comma-separated, or `all` for every enrolled one), each
/// checked to be enrolled here.
fn target_gateways(dir: &Path, targets: &str) -> anyhow::Result<Vec<String>> {
    let enrolled = pki::enrolled(dir)?;
    if targets == "all" {
        return Ok(enrolled);
    }
    let gws: Vec<String> = targets
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(gw) = gws.iter().find(|g| !enrolled.contains(g)) {
        anyhow::bail!("{gw} is not enrolled at this SOC");
    }
    Ok(gws)
}

/// `edgeward-hub push-update`: queue the vendor-signed system update `bundle_file` for `targets`
/// (comma-separated gateways, or `all`); with `wait`, wait for each gateway's answer (queued for
/// installation, or refused with the reason). Exit 1 if any refused it or did not answer.
pub fn push_update(
    dir: &Path,
    bundle_file: &Path,
    targets: &str,
    wait: std::time::Duration,
) -> anyhow::Result<u8> {
    let gws = target_gateways(dir, targets)?;
    // The outbox sends `*.ewu` files as updates, whatever the pushed file was called.
    let stem = bundle_file
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = format!(
        "update-{}-{stem}.ewu",
        Utc::now().format("%Y%m%dT%H%M%S%.6f")
    );
    for gw in &gws {
        let out = outbox_dir(dir, gw);
        std::fs::create_dir_all(&out)?;
        let tmp = out.join(format!(".{name}.tmp"));
        std::fs::copy(bundle_file, &tmp)?;
        std::fs::rename(&tmp, out.join(&name))?;
        println!("{} queued for {gw} as {name}", bundle_file.display());
    }
    if wait.is_zero() {
        return Ok(0);
    }
    let deadline = std::time::Instant::now() + wait;
    let mut pending = gws.clone();
    let mut failed = false;
    while !pending.is_empty() && std::time::Instant::now() < deadline {
        pending.retain(|gw| {
            let text = std::fs::read_to_string(update_results_path(dir, gw)).unwrap_or_default();
            let answer = text
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|v| v["name"] == name.as_str());
            match answer {
                Some(v) => {
                    println!("{gw}: {}", v["detail"].as_str().unwrap_or(""));
                    failed |= v["queued"] != true;
                    false
                }
                None => true,
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    for gw in &pending {
        println!("{gw}: no answer within {} s", wait.as_secs());
    }
    Ok(u8::from(failed || !pending.is_empty()))
}

fn record_result(
    dir: &Path,
    gw: &str,
    version: u64,
    applied: bool,
    detail: &str,
) -> anyhow::Result<()> {
    // The detail comes from the gateway: one bounded line, whatever it sent.
    let detail = edgeward_event::clip(detail, edgeward_event::MAX_TEXT_BYTES);
    tracing::info!(gateway = gw, version, applied, "{}", detail.escape_debug());
    append_line(
        &results_path(dir, gw),
        &serde_json::json!({ "time": Utc::now(), "gateway": gw, "version": version, "applied": applied, "detail": detail }),
    )
}

/// Append one JSON line to a results file (0600, created with its directory).
fn append_line(path: &Path, line: &serde_json::Value) -> anyhow::Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .mode(0o600)
        .append(true)
        .open(path)?;
    writeln!(f, "{line}")?;
    Ok(())
}

fn order_results_path(dir: &Path, gw: &str) -> PathBuf {
    dir.join("results").join(format!("{gw}.orders.jsonl"))
}

fn record_order_result(
    dir: &Path,
    gw: &str,
    serial: u64,
    accepted: bool,
    detail: &str,
) -> anyhow::Result<()> {
    let detail = edgeward_event::clip(detail, edgeward_event::MAX_TEXT_BYTES);
    tracing::info!(gateway = gw, serial, accepted, "{}", detail.escape_debug());
    append_line(
        &order_results_path(dir, gw),
        &serde_json::json!({ "time": Utc::now(), "gateway": gw, "serial": serial, "accepted": accepted, "detail": detail }),
    )
}

/// `edgeward-hub order`: sign an order about one device for gateway `gw`, queue it, and with
/// `wait` wait for the gateway's answer. Exit 1 if refused or unanswered.
#[allow(clippy::too_many_arguments)]
pub fn order(
    dir: &Path,
    gw: &str,
    action: &str,
    mac: Option<String>,
    ip: Option<std::net::IpAddr>,
    reason: &str,
    analyst: &str,
    wait: std::time::Duration,
) -> anyhow::Result<u8> {
    if !pki::enrolled(dir)?.iter().any(|g| g == gw) {
        anyhow::bail!("{gw} is not enrolled at this SOC");
    }
    let order = edgeward_soc::order::create(
        dir,
        &[gw.to_string()],
        action,
        mac,
        ip,
        reason,
        analyst,
        Utc::now(),
    )?;
    let serial = order.meta.serial;
    let out = outbox_dir(dir, gw);
    std::fs::create_dir_all(&out)?;
    edgeward_config::history::write_atomic(
        &out.join(format!("order-{serial:020}.json")),
        &serde_json::to_vec_pretty(&order)?,
    )?;
    println!("order {serial} ({action}) queued for {gw}");
    if wait.is_zero() {
        return Ok(0);
    }
    let deadline = std::time::Instant::now() + wait;
    while std::time::Instant::now() < deadline {
        let text = std::fs::read_to_string(order_results_path(dir, gw)).unwrap_or_default();
        if let Some(v) = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["serial"] == serial)
        {
            println!("{gw}: {}", v["detail"].as_str().unwrap_or_default());
            return Ok(u8::from(v["accepted"] != true));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    println!("{gw}: no answer within {} s", wait.as_secs());
    Ok(1)
}

/// `edgeward-hub push`: queue `bundle` for `targets` (`all` = every enrolled gateway); with
/// `wait`, wait for each gateway's answer. Exit 1 if any rejected it or did not answer.
pub fn push(
    dir: &Path,
    bundle_file: &Path,
    targets: &str,
    wait: std::time::Duration,
) -> anyhow::Result<u8> {
    let raw = std::fs::read(bundle_file)?;
    let bundle: edgeward_soc::bundle::Bundle = serde_json::from_slice(&raw)
        .map_err(|e| anyhow::anyhow!("{}: not a bundle: {e}", bundle_file.display()))?;
    let version = bundle.meta.version;
    let gws = target_gateways(dir, targets)?;
    // Only answers that arrive after this push count (the same version may have been sent before).
    let seen: std::collections::HashMap<String, usize> = gws
        .iter()
        .map(|g| {
            (
                g.clone(),
                std::fs::read_to_string(results_path(dir, g)).map_or(0, |t| t.len()),
            )
        })
        .collect();
    for gw in &gws {
        let out = outbox_dir(dir, gw);
        std::fs::create_dir_all(&out)?;
        edgeward_config::history::write_atomic(
            &out.join(format!("bundle-v{version:08}.json")),
            &raw,
        )?;
        println!("bundle v{version} queued for {gw}");
    }
    if wait.is_zero() {
        return Ok(0);
    }
    let deadline = std::time::Instant::now() + wait;
    let mut pending: Vec<String> = gws.clone();
    let mut failed = false;
    while !pending.is_empty() && std::time::Instant::now() < deadline {
        pending.retain(|gw| {
            let text = std::fs::read_to_string(results_path(dir, gw)).unwrap_or_default();
            let new = text.get(seen.get(gw).copied().unwrap_or(0)..).unwrap_or("");
            let answer = new
                .lines()
                .rev()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|v| v["version"] == version);
            match answer {
                Some(v) => {
                    println!("{gw}: {}", v["detail"].as_str().unwrap_or_default());
                    failed |= v["applied"] != true;
                    false
                }
                None => true,
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    for gw in &pending {
        println!("{gw}: no answer yet (offline?); the bundle stays queued");
    }
    Ok(u8::from(failed || !pending.is_empty()))
}

/// Where the hub relays what it receives: a SIEM speaking syslog over TLS (RFC 5425).
#[derive(Debug, Clone)]
pub struct Relay {
    pub endpoint: String,
    pub server_name: String,
    /// CA of the SIEM's certificate.
    pub ca: PathBuf,
}

/// Relay every gateway's events to the SIEM, from per-gateway byte cursors in
/// `relay-cursors.json`, so an outage of the SIEM only delays them.
pub fn spawn_relay(dir: PathBuf, relay: Relay) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = relay_session(&dir, &relay).await {
                tracing::warn!(endpoint = %relay.endpoint, "SIEM relay: {e}; retrying");
            }
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        }
    })
}

/// At most this much of a gateway's file is relayed in one write, so one busy gateway neither
/// holds the others back nor makes the hub read a large file whole.
const RELAY_CHUNK: u64 = 4 << 20;

/// Up to `limit` bytes of `path` from offset `from`; `None` when there is nothing new.
fn read_from(path: &Path, from: u64, limit: u64) -> Option<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    if file.metadata().ok()?.len() <= from {
        return None;
    }
    file.seek(SeekFrom::Start(from)).ok()?;
    let mut data = Vec::new();
    file.take(limit).read_to_end(&mut data).ok()?;
    Some(data)
}

async fn relay_session(dir: &Path, relay: &Relay) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    let connector = edgeward_soc::syslog::tls(&relay.ca)?;
    let tcp = tokio::net::TcpStream::connect(&relay.endpoint)
        .await
        .map_err(|e| e.to_string())?;
    let name = rustls_pki_types::ServerName::try_from(relay.server_name.clone())
        .map_err(|e| e.to_string())?;
    let mut stream = connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let cursor_file = edgeward_store::cursor::CursorFile::new(dir.join("relay-cursors.json"));
    let mut cursors: BTreeMap<String, u64> = cursor_file.load();
    loop {
        let gws: Vec<String> = std::fs::read_dir(dir.join("gateways"))
            .map(|r| {
                r.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let mut sent_any = false;
        for gw in gws {
            let path = gateway_dir(dir, &gw).join("events.jsonl");
            let from = cursors.get(&gw).copied().unwrap_or(0);
            let Some(data) = read_from(&path, from, RELAY_CHUNK) else {
                continue;
            };
            // Only whole lines; the writer may be mid-line.
            let Some(end) = data.iter().rposition(|b| *b == b'\n').map(|p| p + 1) else {
                if data.len() as u64 >= RELAY_CHUNK {
                    // No event is this long (the hub files only checked events): skip it.
                    tracing::warn!(gateway = %gw, offset = from, "SIEM relay: skipping an over-long line");
                    cursors.insert(gw, from + data.len() as u64);
                    sent_any = true;
                }
                continue;
            };
            let mut buf = Vec::new();
            for line in String::from_utf8_lossy(&data[..end]).lines() {
                let seq = serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| v["seq"].as_u64())
                    .unwrap_or(0);
                buf.extend_from_slice(&edgeward_soc::syslog::frame(&gw, seq, line));
            }
            stream.write_all(&buf).await.map_err(|e| e.to_string())?;
            stream.flush().await.map_err(|e| e.to_string())?;
            cursors.insert(gw, from + end as u64);
            sent_any = true;
        }
        if sent_any {
            cursor_file.save(&cursors);
        } else {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    }
}

/// An event as a gateway sent it, made safe to file: one JSON object on one line, whose `host`
/// is the gateway its certificate names, whose `seq` is the one it was sent under and whose
/// `timestamp` is RFC 3339 — so a compromised gateway cannot file events under another one,
/// split one into several lines, or forge the SIEM's syslog header.
pub fn checked_event(gateway: &str, seq: u64, json: &str) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let object = value.as_object().ok_or("not a JSON object")?;
    match object.get("host").and_then(|h| h.as_str()) {
        Some(h) if h == gateway => {}
        Some(h) => {
            return Err(format!(
                "host {:?} is not the certificate's gateway",
                edgeward_event::clip(h, 64)
            ));
        }
        None => return Err("no host".into()),
    }
    if object.get("seq").and_then(serde_json::Value::as_u64) != Some(seq) {
        return Err("seq differs from the one it was sent under".into());
    }
    let ts = object
        .get("timestamp")
        .and_then(|t| t.as_str())
        .ok_or("no timestamp")?;
    chrono::DateTime::parse_from_rfc3339(ts).map_err(|e| format!("timestamp: {e}"))?;
    if !object
        .get("event_type")
        .is_some_and(serde_json::Value::is_string)
    {
        return Err("no event_type".into());
    }
    // Re-serialised: JSON never has a raw newline inside, so this is exactly one line.
    serde_json::to_string(&value).map_err(|e| e.to_string())
}

/// What the hub files instead of a refused event: a marker under the same seq (no gap).
fn refused_marker(gateway: &str, seq: u64, why: &str) -> String {
    let marker = edgeward_event::Event {
        timestamp: Utc::now(),
        host: gateway.to_string(),
        seq,
        body: edgeward_event::EventBody::system(
            edgeward_event::Level::Error,
            "soc-hub",
            format!("event {seq} from {gateway} refused by the hub: {why}"),
        ),
    };
    serde_json::to_string(&marker).unwrap_or_default()
}

#[cfg(test)]
mod checked_tests {
    use super::*;

    /// A compromised gateway's events cannot pose as another gateway's, break lines or carry
    /// a forged timestamp into the SIEM.
    #[test]
    fn events_are_filed_only_as_the_sending_gateway() {
        let good = r#"{"timestamp":"2026-11-30T10:00:00Z","host":"gw1","seq":5,"event_type":"system","level":"info","component":"x","message":"a\nb"}"#;
        let line = checked_event("gw1", 5, good).unwrap();
        assert!(!line.contains('\n'));
        for (bad, why) in [
            (good.replace("\"host\":\"gw1\"", "\"host\":\"gw2\""), "host"),
            (good.replace("\"seq\":5", "\"seq\":6"), "seq"),
            (
                good.replace("2026-11-30T10:00:00Z", "Nov 30 10:00:00 gw2 sshd"),
                "timestamp",
            ),
            (format!("{good}\n{good}"), "JSON"),
            ("[1,2]".to_string(), "object"),
            (good.replace("\"event_type\":\"system\",", ""), "event_type"),
        ] {
            let e = checked_event("gw1", 5, &bad).unwrap_err();
            assert!(e.contains(why), "{why}: {e}");
        }
        let marker: edgeward_event::Event =
            serde_json::from_str(&refused_marker("gw1", 5, "host")).unwrap();
        assert_eq!((marker.host.as_str(), marker.seq), ("gw1", 5));
    }
}
