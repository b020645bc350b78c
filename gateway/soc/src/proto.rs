//! The SOC link's messages on its QUIC stream: length-prefixed JSON frames.
//!
//! gateway → hub: `hello` (who, newest local seq, gateway time), then `batch`es of events in
//! sequence order. hub → gateway: `welcome` (the last seq it holds for this gateway, hub time),
//! then an `ack` (last durable seq) after each batch. The hub also pushes signed rule bundles,
//! device orders and system update bundles (in chunks); the gateway answers each.

use serde::{Deserialize, Serialize};

/// Frames larger than this are refused (a batch of 512 events is far below it).
pub const MAX_FRAME: usize = 16 << 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Msg {
    Hello {
        host: String,
        latest_seq: Option<u64>,
        time_micros: i64,
    },
    Welcome {
        last_seq: Option<u64>,
        time_micros: i64,
    },
    /// Events as (seq, JSON text), in order.
    Batch {
        events: Vec<(u64, String)>,
    },
    Ack {
        seq: u64,
        time_micros: i64,
    },
    /// hub → gateway: a signed rule bundle to apply.
    Bundle {
        bundle: Box<crate::bundle::Bundle>,
    },
    /// gateway → hub: what became of it.
    BundleResult {
        version: u64,
        applied: bool,
        detail: String,
    },
    /// hub → gateway: a signed order about one device (quarantine, release).
    Order {
        order: Box<crate::order::Order>,
    },
    /// gateway → hub: whether it was accepted.
    OrderResult {
        serial: u64,
        accepted: bool,
        detail: String,
    },
    /// hub → gateway: one piece of a vendor-signed system update bundle, in order from offset 0
    /// (the gateway checks the bundle's signature itself; the hub only carries it).
    UpdateChunk {
        /// The bundle's file name, to match the answer.
        name: String,
        offset: u64,
        total: u64,
        /// Base64 of at most [`UPDATE_CHUNK`] bytes.
        data: String,
    },
    /// gateway → hub: the sealed backup of configuration `version` (kept off the box, 000 §10.7).
    Backup {
        version: u64,
        sealed: String,
    },
    /// hub → gateway: the backup of `version` is stored.
    BackupAck {
        version: u64,
    },
    /// gateway → hub: the update bundle was queued for installation, or why not.
    UpdateResult {
        name: String,
        queued: bool,
        detail: String,
    },
}

/// Bytes of an update bundle per [`Msg::UpdateChunk`] (well under [`MAX_FRAME`] as base64).
pub const UPDATE_CHUNK: usize = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ProtoError {
    #[error("stream: {0}")]
    Io(#[from] std::io::Error),
    #[error("frame of {0} bytes is over the limit")]
    TooLarge(usize),
    #[error("malformed message: {0}")]
    Json(#[from] serde_json::Error),
}

pub async fn write(stream: &mut quinn::SendStream, msg: &Msg) -> Result<(), ProtoError> {
    let body = serde_json::to_vec(msg)?;
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    stream
        .write_all(&frame)
        .await
        .map_err(|e| ProtoError::Io(std::io::Error::other(e.to_string())))
}

async fn read_exact(stream: &mut quinn::RecvStream, buf: &mut [u8]) -> Result<bool, ProtoError> {
    match stream.read_exact(buf).await {
        Ok(()) => Ok(true),
        Err(quinn::ReadExactError::FinishedEarly(0)) => Ok(false),
        Err(e) => Err(ProtoError::Io(std::io::Error::other(e.to_string()))),
    }
}

/// Read one message; `None` when the peer finished the stream cleanly.
pub async fn read(stream: &mut quinn::RecvStream) -> Result<Option<Msg>, ProtoError> {
    let mut len = [0u8; 4];
    if !read_exact(stream, &mut len).await? {
        return Ok(None);
    }
    let n = u32::from_be_bytes(len) as usize;
    if n > MAX_FRAME {
        return Err(ProtoError::TooLarge(n));
    }
    let mut body = vec![0u8; n];
    if !read_exact(stream, &mut body).await? {
        return Err(ProtoError::Io(std::io::Error::other(
            "stream ended inside a frame",
        )));
    }
    Ok(Some(serde_json::from_slice(&body)?))
}

pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}
