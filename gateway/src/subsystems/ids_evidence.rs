//! Evidence pcaps leave the packet path here: the worker hashes a finished recording and names
//! it (the alert event carries both at once); a writer thread seals and stores it.

use edgeward_event::eve::EvidenceRef;
use edgeward_store::evidence::EvidenceStore;

/// Writes evidence pcaps off the packet path: the worker hashes the pcap and names it (the
/// alert event carries both at once), a writer thread seals and stores it. Several alerts of one
/// recording share one file.
pub struct EvidenceWriter {
    tx: std::sync::mpsc::SyncSender<(String, Vec<u8>)>,
    /// The last recording named: (SHA-256, id).
    last: std::sync::Mutex<(String, String)>,
    next: std::sync::atomic::AtomicU64,
}

impl EvidenceWriter {
    pub fn start(store: EvidenceStore) -> EvidenceWriter {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(String, Vec<u8>)>(256);
        let _ = std::thread::Builder::new()
            .name("ids-evidence".into())
            .spawn(move || {
                while let Ok((id, pcap)) = rx.recv() {
                    if let Err(e) = store.put(&id, &pcap) {
                        tracing::error!(error = %e, id, "evidence not kept");
                    }
                }
            });
        EvidenceWriter {
            tx,
            last: std::sync::Mutex::new((String::new(), String::new())),
            next: std::sync::atomic::AtomicU64::new(1),
        }
    }

    /// Name and queue a recording (once per recording); `None` when the writer is saturated.
    pub fn keep(
        &self,
        evidence: &edgeward_capture::evidence::Evidence,
        ts: f64,
    ) -> Option<EvidenceRef> {
        let sha256 = EvidenceStore::digest(&evidence.pcap);
        let mut last = self.last.lock().ok()?;
        if last.0 != sha256 {
            let when =
                chrono::DateTime::from_timestamp(ts as i64, 0).unwrap_or_else(chrono::Utc::now);
            let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let id = format!(
                "{}-{:x}-{n}",
                when.format("%Y%m%dT%H%M%SZ"),
                evidence.flow_id
            );
            self.tx.try_send((id.clone(), evidence.pcap.clone())).ok()?;
            *last = (sha256.clone(), id);
        }
        Some(EvidenceRef {
            id: last.1.clone(),
            sha256,
            packets: evidence.packets,
        })
    }
}
