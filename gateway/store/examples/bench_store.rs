//! Event store benchmark: events per second from the bus to the encrypted store on disk (fsync
//! per batch, as the daemon does), and bytes on disk per event.
//! `cargo run --release -p edgeward-store --example bench_store [EVENTS]`

use std::time::Instant;

use edgeward_event::bus::{Bus, Sink, run_dispatcher};
use edgeward_event::{EventBody, FirewallEvent};
use edgeward_store::store::{EventStore, Keyring, SharedStore, verify};

fn firewall_event(i: u64) -> EventBody {
    EventBody::Firewall(FirewallEvent {
        action: "drop".into(),
        rule: "default deny forwarded from guest".into(),
        rule_id: "ew:deny:fwd_guest".into(),
        in_zone: Some("guest".into()),
        out_zone: None,
        in_iface: Some("guest0".into()),
        src_ip: format!("10.20.0.{}", 10 + i % 200).parse().unwrap(),
        src_port: Some(40000 + (i % 20000) as u16),
        dest_ip: "10.10.0.11".parse().unwrap(),
        dest_port: Some(445),
        proto: "TCP".into(),
        count: 1 + i % 7,
    })
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(500_000);
    let dir = tempfile::tempdir().unwrap();
    let (store_dir, key_dir) = (dir.path().join("store"), dir.path().join("keys"));
    let store = SharedStore::new(EventStore::open(&store_dir, &key_dir, 16 << 20).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    rt.block_on(async {
        let (bus, dispatch) = Bus::new("bench-gw", 1, 4096);
        let sinks: Vec<Box<dyn Sink>> = vec![Box::new(store.clone())];
        let task = tokio::spawn(run_dispatcher(dispatch, sinks, |_| {}));
        for i in 0..n {
            bus.emit(firewall_event(i)).await;
        }
        drop(bus);
        task.await.unwrap();
    });
    let secs = started.elapsed().as_secs_f64();
    let bytes: u64 = std::fs::read_dir(&store_dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    let sample = edgeward_event::Event {
        timestamp: chrono::Utc::now(),
        host: "bench-gw".into(),
        seq: n,
        body: firewall_event(1),
    };
    let json_len = serde_json::to_vec(&sample).unwrap().len();
    println!(
        "## event store: {n} firewall events from the bus to disk (AES-256-GCM, SHA-256 chain, fsync per batch)"
    );
    let per = bytes as f64 / n as f64;
    println!(
        "{:.0} events/s ({secs:.2} s), {per:.1} bytes on disk per event (the event's JSON is {json_len} bytes; {:.0} bytes of record framing, nonce, tag, seq, time and chain hash)",
        n as f64 / secs,
        per - json_len as f64
    );
    let t = Instant::now();
    let v = verify(&store_dir, &Keyring::open(&key_dir).unwrap()).unwrap();
    println!(
        "verify: {} records in {:.2} s ({:.0} records/s), {} findings",
        v.records,
        t.elapsed().as_secs_f64(),
        v.records as f64 / t.elapsed().as_secs_f64(),
        v.findings.len()
    );
}
