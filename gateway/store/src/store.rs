//! The local event store: append-only segments on disk, every record encrypted with AES-256-GCM
//! (keys kept apart from the data, rotatable) and chained by SHA-256, so a changed, removed or
//! reordered record is found by `edgeward logs verify`. Retention by age and by a size cap
//! removes whole segments, oldest first. After a crash the store reopens cleanly: a torn last
//! record is cut; a record that is complete but does not decrypt is evidence and is never cut
//! (writing continues in a new segment).
//!
//! Segment file: a 64-byte header (`EWSEG001`, segment number, first seq, hash of the previous
//! segment's last record, creation time), then records `[len u32][key id u32][nonce 12][AES-GCM
//! ciphertext]`. The plaintext is `[seq u64][unix µs i64][previous record hash 32][event JSON]`;
//! the record hash is SHA-256(previous hash ‖ the record's bytes on disk).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use edgeward_event::Event;
use edgeward_event::Sink;

const MAGIC: &[u8; 8] = b"EWSEG001";
const HEADER_LEN: usize = 64;
const PLAIN_FIXED: usize = 8 + 8 + 32;
const TAG_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key store {0}: {1}")]
    Keys(PathBuf, String),
    #[error("event cannot be encoded: {0}")]
    Encode(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One encryption key of the keyring.
#[derive(Clone, Serialize, Deserialize)]
struct KeyEntry {
    id: u32,
    created: DateTime<Utc>,
    key_hex: String,
}

/// The keys of the store, in their own directory (not next to the data). New records use the
/// newest key; older keys stay to read older records.
#[derive(Clone)]
pub struct Keyring {
    path: PathBuf,
    keys: Vec<(u32, [u8; 32])>,
}

impl Keyring {
    /// Open the keyring at `dir/store-keys.json`, creating it with a first key if absent.
    pub fn open_or_create(dir: &Path) -> Result<Keyring, StoreError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        set_mode(dir, 0o700);
        let path = dir.join("store-keys.json");
        if !path.exists() {
            let ring = Keyring {
                path: path.clone(),
                keys: Vec::new(),
            };
            return ring.with_new_key();
        }
        Self::open(dir)
    }

    pub fn open(dir: &Path) -> Result<Keyring, StoreError> {
        let path = dir.join("store-keys.json");
        let raw = std::fs::read(&path).map_err(io(&path))?;
        let entries: Vec<KeyEntry> = serde_json::from_slice(&raw)
            .map_err(|e| StoreError::Keys(path.clone(), e.to_string()))?;
        let mut keys = Vec::new();
        for e in entries {
            let bytes = hex::decode(&e.key_hex)
                .map_err(|e| StoreError::Keys(path.clone(), e.to_string()))?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| {
                StoreError::Keys(path.clone(), format!("key {} is not 256 bits", e.id))
            })?;
            keys.push((e.id, key));
        }
        if keys.is_empty() {
            return Err(StoreError::Keys(path, "no keys".into()));
        }
        Ok(Keyring { path, keys })
    }

    /// Add a new key and make it current; returns the updated keyring (written to disk, 0600).
    pub fn with_new_key(mut self) -> Result<Keyring, StoreError> {
        let mut key = [0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| StoreError::Keys(self.path.clone(), "no randomness".into()))?;
        let id = self.keys.iter().map(|k| k.0).max().unwrap_or(0) + 1;
        self.keys.push((id, key));
        let entries: Vec<KeyEntry> = self
            .keys
            .iter()
            .map(|(id, k)| KeyEntry {
                id: *id,
                created: Utc::now(),
                key_hex: hex::encode(k),
            })
            .collect();
        let bytes = serde_json::to_vec_pretty(&entries)
            .map_err(|e| StoreError::Keys(self.path.clone(), e.to_string()))?;
        edgeward_config::history::write_atomic(&self.path, &bytes).map_err(io(&self.path))?;
        Ok(self)
    }

    pub fn current_id(&self) -> u32 {
        self.keys.iter().map(|k| k.0).max().unwrap_or(0)
    }

    pub(crate) fn key(&self, id: u32) -> Option<LessSafeKey> {
        let (_, bytes) = self.keys.iter().find(|k| k.0 == id)?;
        UnboundKey::new(&AES_256_GCM, bytes)
            .ok()
            .map(LessSafeKey::new)
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
}

fn segment_name(index: u64) -> String {
    format!("seg-{index:08}.log")
}

fn aad(segment: u64, key_id: u32) -> [u8; 12] {
    let mut a = [0u8; 12];
    a[..8].copy_from_slice(&segment.to_be_bytes());
    a[8..].copy_from_slice(&key_id.to_be_bytes());
    a
}

/// The segments of a store directory, oldest first.
pub fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for e in std::fs::read_dir(dir).map_err(io(dir))? {
        let p = e.map_err(io(dir))?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if let Some(n) = name
            .strip_prefix("seg-")
            .and_then(|r| r.strip_suffix(".log"))
            .and_then(|n| n.parse().ok())
        {
            out.push((n, p));
        }
    }
    out.sort();
    Ok(out)
}

/// A record read back from a segment.
pub struct ReadRecord {
    pub offset: u64,
    pub seq: u64,
    pub time_micros: i64,
    pub prev_hash: [u8; 32],
    pub json: Vec<u8>,
    /// Hash of this record (chains into the next).
    pub hash: [u8; 32],
}

/// What reading one record produced.
pub enum Step {
    Record(ReadRecord),
    /// The file ends inside a record (a torn write): `offset` is where it starts.
    Torn {
        offset: u64,
    },
    /// A complete record that does not decrypt: changed, damaged, or unknown key.
    Undecryptable {
        offset: u64,
        key_id: u32,
        len: usize,
    },
    End,
}

struct Header {
    segment: u64,
    first_seq: u64,
    prev_hash: [u8; 32],
}

fn read_header(f: &mut File, path: &Path) -> Result<Option<Header>, StoreError> {
    let mut h = [0u8; HEADER_LEN];
    match f.read_exact(&mut h) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    }
    if &h[..8] != MAGIC {
        return Ok(None);
    }
    let mut prev = [0u8; 32];
    prev.copy_from_slice(&h[24..56]);
    Ok(Some(Header {
        segment: u64::from_be_bytes(h[8..16].try_into().unwrap_or_default()),
        first_seq: u64::from_be_bytes(h[16..24].try_into().unwrap_or_default()),
        prev_hash: prev,
    }))
}

/// Reads one segment record by record.
pub struct SegmentReader {
    file: std::io::BufReader<File>,
    pub segment: u64,
    pub first_seq: u64,
    pub prev_hash: [u8; 32],
    offset: u64,
    keys: Keyring,
}

impl SegmentReader {
    /// `None` if the file has no valid header.
    pub fn open(path: &Path, keys: &Keyring) -> Result<Option<SegmentReader>, StoreError> {
        let mut f = File::open(path).map_err(io(path))?;
        let Some(h) = read_header(&mut f, path)? else {
            return Ok(None);
        };
        Ok(Some(SegmentReader {
            file: std::io::BufReader::with_capacity(256 * 1024, f),
            segment: h.segment,
            first_seq: h.first_seq,
            prev_hash: h.prev_hash,
            offset: HEADER_LEN as u64,
            keys: keys.clone(),
        }))
    }

    /// Open a segment positioned at `offset` (a record boundary returned by an earlier read).
    pub fn open_at(
        path: &Path,
        keys: &Keyring,
        offset: u64,
    ) -> Result<Option<SegmentReader>, StoreError> {
        let Some(mut r) = Self::open(path, keys)? else {
            return Ok(None);
        };
        if offset > HEADER_LEN as u64 {
            r.file.seek(SeekFrom::Start(offset)).map_err(io(path))?;
            r.offset = offset;
        }
        Ok(Some(r))
    }

    /// Offset of the next record.
    pub fn position(&self) -> u64 {
        self.offset
    }

    /// Read the next record; `chain` is the hash of the previous record.
    pub fn next(&mut self, chain: &[u8; 32]) -> std::io::Result<Step> {
        let offset = self.offset;
        let mut head = [0u8; 8];
        let n = read_full(&mut self.file, &mut head)?;
        if n == 0 {
            return Ok(Step::End);
        }
        if n < 8 {
            return Ok(Step::Torn { offset });
        }
        let len = u32::from_be_bytes(head[..4].try_into().unwrap_or_default()) as usize;
        let key_id = u32::from_be_bytes(head[4..].try_into().unwrap_or_default());
        if !(12 + TAG_LEN + PLAIN_FIXED..=16 << 20).contains(&len) {
            // A length no writer produces: treat as damage where it stands.
            let mut rest = Vec::new();
            self.file.read_to_end(&mut rest)?;
            return Ok(if rest.len() < len {
                Step::Torn { offset }
            } else {
                Step::Undecryptable {
                    offset,
                    key_id,
                    len,
                }
            });
        }
        let mut body = vec![0u8; len];
        let got = read_full(&mut self.file, &mut body)?;
        if got < len {
            return Ok(Step::Torn { offset });
        }
        self.offset += 8 + len as u64;
        let mut hasher = Sha256::new();
        hasher.update(chain);
        hasher.update(head);
        hasher.update(&body);
        let hash: [u8; 32] = hasher.finalize().into();
        let Some(key) = self.keys.key(key_id) else {
            return Ok(Step::Undecryptable {
                offset,
                key_id,
                len,
            });
        };
        let nonce = Nonce::try_assume_unique_for_key(&body[..12])
            .map_err(|_| std::io::Error::other("nonce"))?;
        let mut ct = body[12..].to_vec();
        let Ok(plain) = key.open_in_place(nonce, Aad::from(aad(self.segment, key_id)), &mut ct)
        else {
            return Ok(Step::Undecryptable {
                offset,
                key_id,
                len,
            });
        };
        if plain.len() < PLAIN_FIXED {
            return Ok(Step::Undecryptable {
                offset,
                key_id,
                len,
            });
        }
        let mut prev = [0u8; 32];
        prev.copy_from_slice(&plain[16..48]);
        Ok(Step::Record(ReadRecord {
            offset,
            seq: u64::from_be_bytes(plain[..8].try_into().unwrap_or_default()),
            time_micros: i64::from_be_bytes(plain[8..16].try_into().unwrap_or_default()),
            prev_hash: prev,
            json: plain[PLAIN_FIXED..].to_vec(),
            hash,
        }))
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A segment removed by retention, for the event that says so.
#[derive(Debug, Clone)]
pub struct Removed {
    pub segment: u64,
    pub bytes: u64,
    pub why: &'static str,
}

/// The writer side of the store.
pub struct EventStore {
    dir: PathBuf,
    keys: Keyring,
    key_dir: PathBuf,
    rng: SystemRandom,
    segment_bytes: u64,
    current: Option<(u64, BufWriter<File>, u64)>,
    chain: [u8; 32],
    last_seq: Option<u64>,
    /// Records of the current segment start after this seq - 1.
    segment_opened: DateTime<Utc>,
    /// Problems found while reopening (evidence kept), reported once.
    pub notices: Vec<String>,
}

impl EventStore {
    /// Open the store in `dir` with keys from `key_dir`; recovers after a crash.
    pub fn open(dir: &Path, key_dir: &Path, segment_bytes: u64) -> Result<EventStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        set_mode(dir, 0o700);
        let keys = Keyring::open_or_create(key_dir)?;
        let mut store = EventStore {
            dir: dir.to_path_buf(),
            keys,
            key_dir: key_dir.to_path_buf(),
            rng: SystemRandom::new(),
            segment_bytes: segment_bytes.max(64 * 1024),
            current: None,
            chain: [0u8; 32],
            last_seq: None,
            segment_opened: Utc::now(),
            notices: Vec::new(),
        };
        store.recover()?;
        Ok(store)
    }

    /// Sequence number of the last durable record.
    pub fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }

    fn recover(&mut self) -> Result<(), StoreError> {
        let segs = segments(&self.dir)?;
        let Some((index, path)) = segs.last().cloned() else {
            return Ok(());
        };
        let Some(mut reader) = SegmentReader::open(&path, &self.keys)? else {
            self.notices.push(format!(
                "{}: no valid header; left as it is, writing continues in a new segment",
                path.display()
            ));
            self.start_segment(index + 1)?;
            return Ok(());
        };
        let mut chain = reader.prev_hash;
        let mut last = reader.first_seq.checked_sub(1);
        let mut good_end = HEADER_LEN as u64;
        let mut damaged = false;
        loop {
            match reader.next(&chain).map_err(io(&path))? {
                Step::Record(r) => {
                    chain = r.hash;
                    last = Some(r.seq);
                    good_end = reader.offset;
                }
                Step::Torn { offset } => {
                    good_end = offset;
                    break;
                }
                Step::Undecryptable { offset, .. } => {
                    self.notices.push(format!("{} record at offset {offset} does not decrypt; kept as evidence, writing continues in a new segment", path.display()));
                    damaged = true;
                    break;
                }
                Step::End => break,
            }
        }
        self.chain = chain;
        self.last_seq = last;
        if damaged {
            self.start_segment(index + 1)?;
            return Ok(());
        }
        // Cut a torn tail left by a crash; everything before it was acknowledged durable.
        let f = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        let len = f.metadata().map_err(io(&path))?.len();
        if good_end < len {
            self.notices.push(format!(
                "{}: cut {} bytes of a record torn by a crash",
                path.display(),
                len - good_end
            ));
            f.set_len(good_end).map_err(io(&path))?;
        }
        let mut f = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        f.seek(SeekFrom::End(0)).map_err(io(&path))?;
        self.current = Some((index, BufWriter::with_capacity(256 * 1024, f), good_end));
        self.segment_opened = std::fs::metadata(&path)
            .and_then(|m| m.created().or_else(|_| m.modified()))
            .map_or_else(|_| Utc::now(), DateTime::<Utc>::from);
        Ok(())
    }

    fn start_segment(&mut self, index: u64) -> Result<(), StoreError> {
        if let Some((_, mut w, _)) = self.current.take() {
            w.flush().ok();
            let _ = w.get_ref().sync_data();
        }
        // A rotated key is picked up with each new segment.
        if let Ok(k) = Keyring::open(&self.key_dir) {
            self.keys = k;
        }
        let path = self.dir.join(segment_name(index));
        let mut f = OpenOptions::new()
            .create_new(true)
            .mode(0o600)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        let mut h = [0u8; HEADER_LEN];
        h[..8].copy_from_slice(MAGIC);
        h[8..16].copy_from_slice(&index.to_be_bytes());
        h[16..24].copy_from_slice(&self.last_seq.map_or(1, |s| s + 1).to_be_bytes());
        h[24..56].copy_from_slice(&self.chain);
        h[56..64].copy_from_slice(&Utc::now().timestamp().to_be_bytes());
        f.write_all(&h).map_err(io(&path))?;
        f.sync_all().map_err(io(&path))?;
        self.current = Some((
            index,
            BufWriter::with_capacity(256 * 1024, f),
            HEADER_LEN as u64,
        ));
        self.segment_opened = Utc::now();
        Ok(())
    }

    /// Append one event (buffered until [`Sink::flush`]).
    pub fn append(&mut self, event: &Event) -> Result<(), StoreError> {
        let json = serde_json::to_vec(event).map_err(|e| StoreError::Encode(e.to_string()))?;
        let new_day = self.segment_opened.date_naive() != Utc::now().date_naive();
        let full = self
            .current
            .as_ref()
            .is_some_and(|c| c.2 >= self.segment_bytes);
        if self.current.is_none() || full || new_day {
            let next = self
                .current
                .as_ref()
                .map(|c| c.0 + 1)
                .or_else(|| {
                    segments(&self.dir)
                        .ok()
                        .and_then(|s| s.last().map(|l| l.0 + 1))
                })
                .unwrap_or(1);
            self.start_segment(next)?;
        }
        let Some((segment, _, _)) = self.current.as_ref() else {
            return Ok(());
        };
        let segment = *segment;
        let key_id = self.keys.current_id();
        let key = self.keys.key(key_id).ok_or_else(|| {
            StoreError::Keys(self.key_dir.clone(), format!("key {key_id} unusable"))
        })?;
        let mut plain = Vec::with_capacity(PLAIN_FIXED + json.len() + TAG_LEN);
        plain.extend_from_slice(&event.seq.to_be_bytes());
        plain.extend_from_slice(&event.timestamp.timestamp_micros().to_be_bytes());
        plain.extend_from_slice(&self.chain);
        plain.extend_from_slice(&json);
        let mut nonce_bytes = [0u8; 12];
        self.rng
            .fill(&mut nonce_bytes)
            .map_err(|_| StoreError::Encode("no randomness".into()))?;
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::from(aad(segment, key_id)),
            &mut plain,
        )
        .map_err(|_| StoreError::Encode("encryption failed".into()))?;
        let len = (12 + plain.len()) as u32;
        let mut head = [0u8; 8];
        head[..4].copy_from_slice(&len.to_be_bytes());
        head[4..].copy_from_slice(&key_id.to_be_bytes());
        let mut hasher = Sha256::new();
        hasher.update(self.chain);
        hasher.update(head);
        hasher.update(nonce_bytes);
        hasher.update(&plain);
        let Some((_, w, size)) = self.current.as_mut() else {
            return Ok(());
        };
        let path = self.dir.join(segment_name(segment));
        w.write_all(&head).map_err(io(&path))?;
        w.write_all(&nonce_bytes).map_err(io(&path))?;
        w.write_all(&plain).map_err(io(&path))?;
        *size += 8 + u64::from(len);
        self.chain = hasher.finalize().into();
        self.last_seq = Some(event.seq);
        Ok(())
    }

    /// Remove whole segments older than `max_age_days` (by their last record's time) and, past
    /// `max_bytes`, the oldest ones; never the segment being written.
    pub fn enforce_retention(
        &mut self,
        max_age_days: u32,
        max_bytes: u64,
    ) -> Result<Vec<Removed>, StoreError> {
        let segs = segments(&self.dir)?;
        let current = self.current.as_ref().map(|c| c.0);
        let cutoff = Utc::now() - chrono::Duration::days(max_age_days.into());
        let mut removed = Vec::new();
        let mut sizes: Vec<(u64, PathBuf, u64, DateTime<Utc>)> = Vec::new();
        for (n, p) in segs {
            let meta = std::fs::metadata(&p).map_err(io(&p))?;
            // A segment's last write is the time of its newest record.
            let modified: DateTime<Utc> = meta
                .modified()
                .map_or_else(|_| Utc::now(), DateTime::<Utc>::from);
            sizes.push((n, p, meta.len(), modified));
        }
        let mut total: u64 = sizes.iter().map(|s| s.2).sum();
        for (n, p, len, modified) in &sizes {
            if Some(*n) == current {
                continue;
            }
            let why = if *modified < cutoff {
                "older than the retention period"
            } else if total > max_bytes {
                "disk cap reached"
            } else {
                continue;
            };
            std::fs::remove_file(p).map_err(io(p))?;
            total = total.saturating_sub(*len);
            removed.push(Removed {
                segment: *n,
                bytes: *len,
                why,
            });
        }
        Ok(removed)
    }

    /// Bytes on disk of all segments.
    pub fn disk_bytes(&self) -> u64 {
        segments(&self.dir)
            .unwrap_or_default()
            .iter()
            .filter_map(|(_, p)| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }
}

impl Sink for EventStore {
    fn name(&self) -> &'static str {
        "store"
    }
    fn write(&mut self, event: &Event) -> std::io::Result<()> {
        self.append(event)
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if let Some((_, w, _)) = self.current.as_mut() {
            w.flush()?;
            w.get_ref().sync_data()?;
        }
        Ok(())
    }
}

/// The store shared between the bus (as a sink) and the daemon (retention).
#[derive(Clone)]
pub struct SharedStore(std::sync::Arc<std::sync::Mutex<EventStore>>);

impl SharedStore {
    pub fn new(store: EventStore) -> Self {
        SharedStore(std::sync::Arc::new(std::sync::Mutex::new(store)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, EventStore> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn enforce_retention(
        &self,
        max_age_days: u32,
        max_bytes: u64,
    ) -> Result<Vec<Removed>, StoreError> {
        self.lock().enforce_retention(max_age_days, max_bytes)
    }
}

impl Sink for SharedStore {
    fn name(&self) -> &'static str {
        "store"
    }
    fn write(&mut self, event: &Event) -> std::io::Result<()> {
        self.lock().write(event)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.lock().flush()
    }
}

/// Follows the store from a sequence number on, as the writer appends: what the SOC link and
/// other readers ship. Each call reopens the segment at the remembered offset, so a record the
/// writer is still writing is simply read next time.
pub struct Tail {
    dir: PathBuf,
    keys: Keyring,
    next_seq: u64,
    at: Option<(u64, PathBuf, u64)>,
    /// Records that could not be read (skipped), for the caller to report.
    pub skipped: u64,
}

impl Tail {
    pub fn new(dir: &Path, keys: Keyring, from_seq: u64) -> Tail {
        Tail {
            dir: dir.to_path_buf(),
            keys,
            next_seq: from_seq,
            at: None,
            skipped: 0,
        }
    }

    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    fn locate(&mut self) -> Result<bool, StoreError> {
        let segs = segments(&self.dir)?;
        // The last segment that starts at or before the wanted seq (or the first one).
        let mut pick = None;
        for (n, p) in &segs {
            let Some(r) = SegmentReader::open(p, &self.keys)? else {
                continue;
            };
            if r.first_seq <= self.next_seq || pick.is_none() {
                pick = Some((*n, p.clone()));
            }
        }
        match pick {
            Some((n, p)) => {
                self.at = Some((n, p, HEADER_LEN as u64));
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Up to `max` records with seq ≥ the next wanted one: (seq, event JSON).
    pub fn read(&mut self, max: usize) -> Result<Vec<(u64, String)>, StoreError> {
        self.read_bounded(max, usize::MAX)
    }

    /// As [`Tail::read`], stopping once the records read reach `max_bytes` of JSON (at least one
    /// record is read, so a batch is at most `max_bytes` plus one event).
    pub fn read_bounded(
        &mut self,
        max: usize,
        max_bytes: usize,
    ) -> Result<Vec<(u64, String)>, StoreError> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        if self.at.is_none() && !self.locate()? {
            return Ok(out);
        }
        while out.len() < max {
            let Some((n, path, offset)) = self.at.clone() else {
                break;
            };
            let Some(mut r) = SegmentReader::open_at(&path, &self.keys, offset)? else {
                break;
            };
            let mut ended = false;
            while out.len() < max {
                match r.next(&[0u8; 32]).map_err(io(&path))? {
                    Step::Record(rec) => {
                        if rec.seq >= self.next_seq {
                            self.next_seq = rec.seq + 1;
                            bytes += rec.json.len();
                            out.push((rec.seq, String::from_utf8_lossy(&rec.json).into_owned()));
                            if bytes >= max_bytes {
                                break;
                            }
                        }
                    }
                    Step::Undecryptable { offset, len, .. } => {
                        // Skip it; `verify` names it.
                        self.skipped += 1;
                        r = match SegmentReader::open_at(
                            &path,
                            &self.keys,
                            offset + 8 + len as u64,
                        )? {
                            Some(r) => r,
                            None => break,
                        };
                    }
                    Step::Torn { .. } | Step::End => {
                        ended = true;
                        break;
                    }
                }
            }
            self.at = Some((n, path, r.position()));
            if !ended || bytes >= max_bytes {
                break;
            }
            // At the end of this segment: move on if a newer one exists, else wait for more.
            match segments(&self.dir)?.into_iter().find(|(m, _)| *m > n) {
                Some((m, p)) => self.at = Some((m, p, HEADER_LEN as u64)),
                None => break,
            }
        }
        Ok(out)
    }
}

/// One problem `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub segment: String,
    /// Record number within the segment, from 1.
    pub record: u64,
    pub offset: u64,
    pub what: String,
}

/// Result of verifying the whole store.
#[derive(Debug, Default)]
pub struct Verification {
    pub segments: usize,
    pub records: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub findings: Vec<Finding>,
}

/// Check every record of every segment: decryption (integrity), sequence continuity and the
/// hash chain, within and across segments.
pub fn verify(dir: &Path, keys: &Keyring) -> Result<Verification, StoreError> {
    let mut v = Verification::default();
    let mut chain: Option<[u8; 32]> = None;
    let mut expect_seq: Option<u64> = None;
    for (idx, (n, path)) in segments(dir)?.into_iter().enumerate() {
        let name = segment_name(n);
        v.segments += 1;
        let Some(mut r) = SegmentReader::open(&path, keys)? else {
            v.findings.push(Finding {
                segment: name,
                record: 0,
                offset: 0,
                what: "header missing or damaged".into(),
            });
            chain = None;
            expect_seq = None;
            continue;
        };
        if r.segment != n {
            v.findings.push(Finding {
                segment: name.clone(),
                record: 0,
                offset: 0,
                what: format!(
                    "header says segment {} (file renamed or swapped)",
                    r.segment
                ),
            });
        }
        match (idx, chain) {
            (0, _) => {}
            (_, Some(c)) if c != r.prev_hash => v.findings.push(Finding { segment: name.clone(), record: 0, offset: 0, what: "does not continue the previous segment's chain (a segment is missing, replaced or reordered)".into() }),
            _ => {}
        }
        if let Some(e) = expect_seq {
            if r.first_seq != e {
                v.findings.push(Finding {
                    segment: name.clone(),
                    record: 0,
                    offset: 0,
                    what: format!("starts at seq {} but seq {e} was expected", r.first_seq),
                });
            }
        }
        let mut running = r.prev_hash;
        let mut expected = r.first_seq;
        let mut k = 0;
        loop {
            k += 1;
            match r.next(&running).map_err(io(&path))? {
                Step::Record(rec) => {
                    if rec.prev_hash != running {
                        v.findings.push(Finding { segment: name.clone(), record: k, offset: rec.offset, what: format!("seq {} does not follow the previous record (record removed, inserted or reordered)", rec.seq) });
                    }
                    if rec.seq != expected {
                        v.findings.push(Finding {
                            segment: name.clone(),
                            record: k,
                            offset: rec.offset,
                            what: format!("seq {} where {expected} was expected", rec.seq),
                        });
                    }
                    v.first_seq.get_or_insert(rec.seq);
                    v.last_seq = Some(rec.seq);
                    v.records += 1;
                    expected = rec.seq + 1;
                    running = rec.hash;
                }
                Step::Torn { offset } => {
                    v.findings.push(Finding {
                        segment: name.clone(),
                        record: k,
                        offset,
                        what: "ends inside a record (truncated)".into(),
                    });
                    break;
                }
                Step::Undecryptable { offset, key_id, .. } => {
                    v.findings.push(Finding {
                        segment: name.clone(),
                        record: k,
                        offset,
                        what: format!("cannot be decrypted with key {key_id}: changed or damaged"),
                    });
                    // The chain cannot be followed past a record we cannot read.
                    expect_seq = None;
                    chain = None;
                    break;
                }
                Step::End => {
                    expect_seq = Some(expected);
                    chain = Some(running);
                    break;
                }
            }
        }
    }
    Ok(v)
}

/// Filter for [`query`].
#[derive(Debug, Default, Clone)]
pub struct Query {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub kind: Option<String>,
    pub text: Option<String>,
    pub limit: Option<usize>,
}

/// Events matching `q`, oldest first, as JSON lines written to `out`; returns how many.
pub fn query(
    dir: &Path,
    keys: &Keyring,
    q: &Query,
    out: &mut impl Write,
) -> Result<usize, StoreError> {
    let since = q.since.map(|t| t.timestamp_micros());
    let until = q.until.map(|t| t.timestamp_micros());
    let kind = q.kind.as_ref().map(|k| format!("\"event_type\":\"{k}\""));
    let text = q.text.as_ref().map(|t| t.to_lowercase());
    let mut n = 0;
    for (_, path) in segments(dir)? {
        let Some(mut r) = SegmentReader::open(&path, keys)? else {
            continue;
        };
        let mut chain = r.prev_hash;
        while let Step::Record(rec) = r.next(&chain).map_err(io(&path))? {
            chain = rec.hash;
            if since.is_some_and(|s| rec.time_micros < s)
                || until.is_some_and(|u| rec.time_micros > u)
            {
                continue;
            }
            let line = String::from_utf8_lossy(&rec.json);
            if kind.as_ref().is_some_and(|k| !line.contains(k.as_str()))
                || text
                    .as_ref()
                    .is_some_and(|t| !line.to_lowercase().contains(t.as_str()))
            {
                continue;
            }
            out.write_all(line.as_bytes()).map_err(io(&path))?;
            out.write_all(b"\n").map_err(io(&path))?;
            n += 1;
            if q.limit.is_some_and(|l| n >= l) {
                return Ok(n);
            }
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeward_event::{EventBody, Level};

    fn ev(seq: u64) -> Event {
        Event {
            timestamp: Utc::now(),
            host: "gw".into(),
            seq,
            body: EventBody::system(Level::Info, "t", format!("event number {seq}")),
        }
    }

    fn fill(dir: &Path, keys: &Path, n: u64, seg: u64) -> EventStore {
        let mut s = EventStore::open(dir, keys, seg).unwrap();
        let start = s.last_seq().map_or(1, |x| x + 1);
        for i in start..start + n {
            s.append(&ev(i)).unwrap();
        }
        s.flush().unwrap();
        s
    }

    #[test]
    fn round_trip_verify_query_and_continue_after_reopen() {
        let t = tempfile::tempdir().unwrap();
        let (dir, keys) = (t.path().join("store"), t.path().join("keys"));
        drop(fill(&dir, &keys, 3000, 64 * 1024));
        assert!(segments(&dir).unwrap().len() > 3, "small segments rotate");
        let s = fill(&dir, &keys, 10, 64 * 1024);
        assert_eq!(s.last_seq(), Some(3010));
        let ring = Keyring::open(&keys).unwrap();
        let v = verify(&dir, &ring).unwrap();
        assert!(v.findings.is_empty(), "{:?}", v.findings);
        assert_eq!(
            (v.records, v.first_seq, v.last_seq),
            (3010, Some(1), Some(3010))
        );
        let mut out = Vec::new();
        let n = query(
            &dir,
            &ring,
            &Query {
                text: Some("NUMBER 2999".into()),
                ..Default::default()
            },
            &mut out,
        )
        .unwrap();
        assert_eq!(n, 1);
        assert!(String::from_utf8(out).unwrap().contains("\"seq\":2999"));
        // Nothing readable in the clear on disk.
        let raw = std::fs::read(&segments(&dir).unwrap()[0].1).unwrap();
        assert!(!raw.windows(12).any(|w| w == b"event number"));
    }

    #[test]
    fn a_flipped_byte_is_named_by_segment_and_record() {
        let t = tempfile::tempdir().unwrap();
        let (dir, keys) = (t.path().join("store"), t.path().join("keys"));
        drop(fill(&dir, &keys, 500, 64 * 1024));
        let (_, path) = segments(&dir).unwrap()[1].clone();
        let mut raw = std::fs::read(&path).unwrap();
        let at = HEADER_LEN + 2000;
        raw[at] ^= 0x01;
        std::fs::write(&path, raw).unwrap();
        let v = verify(&dir, &Keyring::open(&keys).unwrap()).unwrap();
        assert!(!v.findings.is_empty());
        let f = &v.findings[0];
        assert_eq!(f.segment, segment_name(2));
        assert!(
            f.record > 1 && f.what.contains("cannot be decrypted"),
            "{f:?}"
        );
    }

    #[test]
    fn removed_or_swapped_records_break_the_chain() {
        let t = tempfile::tempdir().unwrap();
        let (dir, keys) = (t.path().join("store"), t.path().join("keys"));
        drop(fill(&dir, &keys, 20, 1 << 20));
        let (_, path) = segments(&dir).unwrap()[0].clone();
        let raw = std::fs::read(&path).unwrap();
        // Split into records and drop the 5th.
        let mut recs = Vec::new();
        let mut off = HEADER_LEN;
        while off < raw.len() {
            let len = u32::from_be_bytes(raw[off..off + 4].try_into().unwrap()) as usize;
            recs.push(raw[off..off + 8 + len].to_vec());
            off += 8 + len;
        }
        let mut without = raw[..HEADER_LEN].to_vec();
        for (i, r) in recs.iter().enumerate() {
            if i != 4 {
                without.extend_from_slice(r);
            }
        }
        std::fs::write(&path, &without).unwrap();
        let v = verify(&dir, &Keyring::open(&keys).unwrap()).unwrap();
        assert!(
            v.findings
                .iter()
                .any(|f| f.record == 5 && f.what.contains("seq 6")),
            "{:?}",
            v.findings
        );
        // Swap two records.
        let mut swapped = raw[..HEADER_LEN].to_vec();
        let mut order: Vec<usize> = (0..recs.len()).collect();
        order.swap(2, 3);
        for i in order {
            swapped.extend_from_slice(&recs[i]);
        }
        std::fs::write(&path, &swapped).unwrap();
        let v = verify(&dir, &Keyring::open(&keys).unwrap()).unwrap();
        assert!(v.findings.iter().any(|f| f.record == 3), "{:?}", v.findings);
    }

    #[test]
    fn a_torn_tail_is_cut_on_reopen_and_nothing_durable_is_lost() {
        let t = tempfile::tempdir().unwrap();
        let (dir, keys) = (t.path().join("store"), t.path().join("keys"));
        drop(fill(&dir, &keys, 100, 1 << 20));
        let (_, path) = segments(&dir).unwrap()[0].clone();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[0, 0, 1, 0, 0, 0, 0, 1, 9, 9, 9]).unwrap();
        drop(f);
        let s = EventStore::open(&dir, &keys, 1 << 20).unwrap();
        assert_eq!(s.last_seq(), Some(100));
        assert!(
            s.notices.iter().any(|n| n.contains("torn")),
            "{:?}",
            s.notices
        );
        drop(s);
        let s = fill(&dir, &keys, 5, 1 << 20);
        assert_eq!(s.last_seq(), Some(105));
        assert!(
            verify(&dir, &Keyring::open(&keys).unwrap())
                .unwrap()
                .findings
                .is_empty()
        );
    }

    #[test]
    fn key_rotation_keeps_old_records_readable() {
        let t = tempfile::tempdir().unwrap();
        let (dir, keys) = (t.path().join("store"), t.path().join("keys"));
        drop(fill(&dir, &keys, 10, 64 * 1024));
        Keyring::open(&keys).unwrap().with_new_key().unwrap();
        drop(fill(&dir, &keys, 3000, 64 * 1024));
        let ring = Keyring::open(&keys).unwrap();
        assert_eq!(ring.current_id(), 2);
        let v = verify(&dir, &ring).unwrap();
        assert!(v.findings.is_empty(), "{:?}", v.findings);
        assert_eq!(v.records, 3010);
    }

    #[test]
    fn retention_removes_the_oldest_segments_past_the_cap() {
        let t = tempfile::tempdir().unwrap();
        let (dir, keys) = (t.path().join("store"), t.path().join("keys"));
        let mut s = fill(&dir, &keys, 3000, 64 * 1024);
        let before = segments(&dir).unwrap().len();
        let cap = s.disk_bytes() / 2;
        let removed = s.enforce_retention(183, cap).unwrap();
        assert!(!removed.is_empty() && removed.iter().all(|r| r.why == "disk cap reached"));
        assert_eq!(removed[0].segment, 1, "oldest first");
        assert!(s.disk_bytes() <= cap + 64 * 1024 + 4096);
        assert_eq!(segments(&dir).unwrap().len(), before - removed.len());
        // The remaining segments still verify (the chain starts at the first kept segment).
        assert!(
            verify(&dir, &Keyring::open(&keys).unwrap())
                .unwrap()
                .findings
                .is_empty()
        );
    }
}
