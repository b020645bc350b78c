//! Heap allocations per packet in steady state: the bench capture through the engine twice (the
//! first pass warms flow slots and buffers), allocations counted during the second.
//! `cargo run --release -p edgeward-ids --example alloc_per_packet -- RULES_DIR [FLOWS]`
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}
#[global_allocator]
static A: Counting = Counting;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: alloc_per_packet RULES_DIR [FLOWS]");
    let flows: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let loaded = edgeward_ids::loader::LoadedRules::load(
        std::path::Path::new(&dir),
        &edgeward_ids::vars::Vars::default(),
    )
    .expect("load");
    let set = Arc::new(edgeward_ids::ruleset::RuleSet::compile(loaded));
    let cap = edgeward_traffic::bench_capture(5, flows);
    let mut engine = edgeward_ids::engine::Engine::new(set, Default::default());
    let mut alerts = Vec::with_capacity(1024);
    let link = edgeward_ids::decode::Link::Ethernet;
    for (t, f) in &cap.frames {
        engine.process(*t, f, link, &mut alerts);
    }
    alerts.clear();
    // Second pass, shifted in time so every flow is new again.
    let shift = 10_000.0;
    let (mut data_pkts, mut tls_hs) = (0u64, 0u64);
    let before = ALLOCS.load(Ordering::Relaxed);
    for (t, f) in &cap.frames {
        engine.process(*t + shift, f, link, &mut alerts);
        alerts.clear();
        data_pkts += u64::from(f.len() > 66);
    }
    let n = ALLOCS.load(Ordering::Relaxed) - before;
    tls_hs += engine.counters.tls_handshakes / 2;
    println!(
        "{} packets ({} with payload), {} allocations in steady state: {:.3} per packet; TLS handshakes in the pass: {}",
        cap.frames.len(),
        data_pkts,
        n,
        n as f64 / cap.frames.len() as f64,
        tls_hs
    );
}
