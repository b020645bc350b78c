//! The JSON-lines event journal: one event per line, appended and fsynced per batch. On open it
//! finds the last complete event (to continue the sequence) and cuts off a torn last line left by
//! a crash.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use edgeward_event::Event;
use edgeward_event::Sink;

pub struct JsonlJournal {
    path: PathBuf,
    out: BufWriter<File>,
}

impl JsonlJournal {
    /// Open (or create) the journal; returns it and the sequence number of its last event.
    pub fn open(path: &Path) -> std::io::Result<(JsonlJournal, Option<u64>)> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .mode(0o600)
            .read(true)
            .append(true)
            .open(path)?;
        let (good_len, last_seq) = last_complete_event(&mut file)?;
        if good_len < file.metadata()?.len() {
            tracing::warn!(path = %path.display(), "journal ends with a torn line; truncating it");
            file.set_len(good_len)?;
        }
        Ok((
            JsonlJournal {
                path: path.to_path_buf(),
                out: BufWriter::with_capacity(64 * 1024, file),
            },
            last_seq,
        ))
    }
}

/// Byte length up to the end of the last line that parses as an event, and that event's seq.
/// A file with no parseable line is left whole (`(len, None)`): never cut what we cannot read.
fn last_complete_event(file: &mut File) -> std::io::Result<(u64, Option<u64>)> {
    const CHUNK: u64 = 64 * 1024;
    const MAX_SCAN: usize = 4 * 1024 * 1024;
    let len = file.metadata()?.len();
    let mut start = len;
    let mut buf: Vec<u8> = Vec::new(); // the bytes [start, len)
    while start > 0 && buf.len() < MAX_SCAN {
        let new_start = start.saturating_sub(CHUNK);
        let mut chunk = vec![0; (start - new_start) as usize];
        file.seek(SeekFrom::Start(new_start))?;
        file.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&buf);
        buf = chunk;
        start = new_start;
        let newlines: Vec<usize> = buf
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .collect();
        for (k, &end) in newlines.iter().enumerate().rev() {
            let begin = match k {
                0 if start == 0 => 0,
                0 => break, // this line may start before the bytes read so far
                _ => newlines[k - 1] + 1,
            };
            if let Ok(ev) = serde_json::from_slice::<Event>(&buf[begin..end]) {
                return Ok((start + end as u64 + 1, Some(ev.seq)));
            }
        }
    }
    Ok((len, None))
}

impl Sink for JsonlJournal {
    fn name(&self) -> &'static str {
        "journal"
    }
    fn write(&mut self, event: &Event) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, event)?;
        self.out.write_all(b"\n")
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_data()
    }
}

impl Drop for JsonlJournal {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::error!(path = %self.path.display(), error = %e, "journal flush on close failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use edgeward_event::{EventBody, Level};

    fn ev(seq: u64) -> Event {
        Event {
            timestamp: Utc::now(),
            host: "gw".into(),
            seq,
            body: EventBody::system(Level::Info, "t", "x"),
        }
    }

    #[test]
    fn continues_sequence_and_cuts_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        {
            let (mut j, last) = JsonlJournal::open(&path).unwrap();
            assert_eq!(last, None);
            for s in 1..=3 {
                j.write(&ev(s)).unwrap();
            }
            j.flush().unwrap();
        }
        // Simulate a crash in the middle of writing event 4.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"timestamp\":\"2026-").unwrap();
        drop(f);
        let (_, last) = JsonlJournal::open(&path).unwrap();
        assert_eq!(last, Some(3));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.ends_with('\n'));
        let _ = EventBody::kind(&ev(1).body);
    }
}
