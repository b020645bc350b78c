//! The event bus: every subsystem emits into it; it stamps each event with time, host id and
//! the next sequence number, then a dispatcher task writes batches to the durable sinks (in
//! sequence order) and fans them out to live subscribers (UI, metrics). The channel to the
//! dispatcher is bounded, so a slow disk pushes back on producers instead of growing memory.

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::{Mutex, broadcast, mpsc};

use crate::model::{Event, EventBody, MAX_EVENT_BYTES};

/// Where events go to be kept: the JSON-lines journal now; the encrypted store and SOC spool later.
pub trait Sink: Send {
    fn name(&self) -> &str;
    fn write(&mut self, event: &Event) -> std::io::Result<()>;
    /// Make everything written so far durable.
    fn flush(&mut self) -> std::io::Result<()>;
}

struct Inner {
    host: String,
    next_seq: Mutex<u64>,
    tx: mpsc::Sender<Event>,
    live: broadcast::Sender<Arc<Event>>,
}

/// A cheap, clonable handle to emit events.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

/// Why [`Bus::try_emit`] did not take an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmitError {
    /// The dispatcher is behind: the queue is full.
    Full,
    /// Another producer holds the sequence counter this instant.
    Busy,
    /// The dispatcher has stopped.
    Stopped,
}

impl std::fmt::Display for EmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EmitError::Full => "the event queue is full",
            EmitError::Busy => "the event counter is busy",
            EmitError::Stopped => "the event dispatcher has stopped",
        })
    }
}

impl std::error::Error for EmitError {}

/// The receiving side, handed to [`run_dispatcher`].
pub struct Dispatch {
    rx: mpsc::Receiver<Event>,
    live: broadcast::Sender<Arc<Event>>,
}

impl Bus {
    /// A bus for `host` whose first event gets sequence number `next_seq`.
    pub fn new(host: &str, next_seq: u64, capacity: usize) -> (Bus, Dispatch) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let (live, _) = broadcast::channel(1024);
        let bus = Bus {
            inner: Arc::new(Inner {
                host: host.to_string(),
                next_seq: Mutex::new(next_seq),
                tx,
                live: live.clone(),
            }),
        };
        (bus, Dispatch { rx, live })
    }

    /// Emit an event; returns its sequence number. Waits if the dispatcher is behind.
    pub async fn emit(&self, body: EventBody) -> u64 {
        // The lock spans numbering and enqueueing, so the queue is always in sequence order.
        let body = checked_size(body.bounded());
        let mut next = self.inner.next_seq.lock().await;
        let seq = *next;
        let event = self.stamp(seq, body);
        if self.inner.tx.send(event).await.is_err() {
            tracing::error!(seq, "event bus dispatcher has stopped; event lost");
        }
        *next += 1;
        seq
    }

    /// Emit from a dedicated thread outside the async runtime (netlink readers): waits like
    /// [`Bus::emit`] without needing a runtime handle. Never call it from an async task.
    pub fn emit_blocking(&self, body: EventBody) -> u64 {
        let body = checked_size(body.bounded());
        let mut next = self.inner.next_seq.blocking_lock();
        let seq = *next;
        let event = self.stamp(seq, body);
        if self.inner.tx.blocking_send(event).is_err() {
            tracing::error!(seq, "event bus dispatcher has stopped; event lost");
        }
        *next += 1;
        seq
    }

    /// Emit without waiting, for packet paths that must never stall: the event is refused
    /// (and the caller counts it) when the queue is full or another producer is numbering one
    /// at this instant. A refused event takes no sequence number, so the stream has no gap.
    pub fn try_emit(&self, body: EventBody) -> Result<u64, EmitError> {
        let mut next = self
            .inner
            .next_seq
            .try_lock()
            .map_err(|_| EmitError::Busy)?;
        let permit = self.inner.tx.try_reserve().map_err(|e| match e {
            mpsc::error::TrySendError::Full(()) => EmitError::Full,
            mpsc::error::TrySendError::Closed(()) => EmitError::Stopped,
        })?;
        let seq = *next;
        permit.send(self.stamp(seq, checked_size(body.bounded())));
        *next += 1;
        Ok(seq)
    }

    fn stamp(&self, seq: u64, body: EventBody) -> Event {
        Event {
            timestamp: Utc::now(),
            host: self.inner.host.clone(),
            seq,
            body,
        }
    }

    /// Live events, for the UI and other readers that may skip when they fall behind.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.inner.live.subscribe()
    }
}

/// `body`, or the marker that replaces it when its JSON would be over [`MAX_EVENT_BYTES`]: no
/// event can wedge a sink or the SOC link.
fn checked_size(body: EventBody) -> EventBody {
    // Numbers, keys and the envelope take well under 4 KiB; text at most six bytes a byte.
    if body.text_bytes() * 6 + 4096 <= MAX_EVENT_BYTES {
        return body;
    }
    match serde_json::to_string(&body) {
        Ok(line) if line.len() <= MAX_EVENT_BYTES => body,
        Ok(line) => EventBody::oversize_marker(body.kind(), line.len(), &line),
        Err(e) => EventBody::system(
            crate::model::Level::Error,
            "events",
            format!("an event of kind {} could not be written: {e}", body.kind()),
        ),
    }
}

/// Write events to `sinks` in batches until every [`Bus`] handle is dropped. `observe` sees each
/// event once it is written (metrics).
pub async fn run_dispatcher(
    mut dispatch: Dispatch,
    mut sinks: Vec<Box<dyn Sink>>,
    observe: impl Fn(&Event) + Send,
) {
    let mut batch = Vec::with_capacity(256);
    loop {
        batch.clear();
        if dispatch.rx.recv_many(&mut batch, 256).await == 0 {
            break;
        }
        let _span = tracing::debug_span!("event_batch", n = batch.len()).entered();
        for sink in &mut sinks {
            for ev in &batch {
                if let Err(e) = sink.write(ev) {
                    tracing::error!(sink = sink.name(), seq = ev.seq, error = %e, "event sink write failed");
                }
            }
            if let Err(e) = sink.flush() {
                tracing::error!(sink = sink.name(), error = %e, "event sink flush failed");
            }
        }
        for ev in batch.drain(..) {
            observe(&ev);
            let _ = dispatch.live.send(Arc::new(ev));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Level;
    use std::sync::Mutex as StdMutex;

    struct Collect(Arc<StdMutex<Vec<u64>>>);
    impl Sink for Collect {
        fn name(&self) -> &'static str {
            "collect"
        }
        fn write(&mut self, event: &Event) -> std::io::Result<()> {
            self.0.lock().unwrap().push(event.seq);
            Ok(())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A packet path never waits: with the queue full, `try_emit` refuses at once and takes no
    /// sequence number; a blocking thread and async producers share one gap-free sequence.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn try_emit_never_waits_and_leaves_no_gap() {
        let (bus, dispatch) = Bus::new("gw", 1, 2);
        assert_eq!(
            bus.try_emit(EventBody::system(Level::Info, "t", "a")),
            Ok(1)
        );
        assert_eq!(
            bus.try_emit(EventBody::system(Level::Info, "t", "b")),
            Ok(2)
        );
        assert_eq!(
            bus.try_emit(EventBody::system(Level::Info, "t", "c")),
            Err(EmitError::Full)
        );
        let seen = Arc::new(StdMutex::new(Vec::new()));
        let task = tokio::spawn(run_dispatcher(
            dispatch,
            vec![Box::new(Collect(seen.clone()))],
            |_| {},
        ));
        let b = bus.clone();
        let thread = std::thread::spawn(move || {
            for i in 0..50 {
                b.emit_blocking(EventBody::system(Level::Info, "thread", format!("{i}")));
            }
        });
        for i in 0..50 {
            bus.emit(EventBody::system(Level::Info, "task", format!("{i}")))
                .await;
        }
        thread.join().unwrap();
        drop(bus);
        task.await.unwrap();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen, (1..=102).collect::<Vec<u64>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_producers_keep_sequence_order() {
        let (bus, dispatch) = Bus::new("gw", 100, 8);
        let seen = Arc::new(StdMutex::new(Vec::new()));
        let mut live = bus.subscribe();
        let task = tokio::spawn(run_dispatcher(
            dispatch,
            vec![Box::new(Collect(seen.clone()))],
            |_| {},
        ));
        let mut producers = Vec::new();
        for p in 0..4 {
            let bus = bus.clone();
            producers.push(tokio::spawn(async move {
                for i in 0..250 {
                    bus.emit(EventBody::system(Level::Info, "test", format!("{p}/{i}")))
                        .await;
                }
            }));
        }
        for p in producers {
            p.await.unwrap();
        }
        drop(bus);
        task.await.unwrap();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1000);
        assert!(seen.windows(2).all(|w| w[1] == w[0] + 1), "not in order");
        assert_eq!(seen[0], 100);
        assert_eq!(live.recv().await.unwrap().seq, 100);
    }
}
