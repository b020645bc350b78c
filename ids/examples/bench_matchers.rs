//! Matcher micro-benchmark on the real ET Open fast-pattern sets: for the largest sets of the
//! compiled ruleset (TCP payload, HTTP request and response buffers, DNS, TLS) and three kinds
//! of input (HTTP text, binary downloads, TLS-like random bytes), the scan speed, build time and
//! memory of aho-corasick (contiguous NFA and DFA), daachorse (on a lower-cased copy: it has no
//! case-insensitive mode) and Hyperscan (the system's libhs). Every matcher reports the set of
//! patterns found; the table also checks that they agree.
//! usage: cargo run --release -p edgeward-ids --example bench_matchers -- RULES_DIR [MiB]

use std::collections::BTreeSet;
use std::time::Instant;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

fn inputs(mib: usize) -> Vec<(&'static str, Vec<u8>)> {
    // Page text like the byte-heavy capture's HTTP bodies (its generator's pages and scripts).
    let cap = edgeward_traffic::byte_heavy_capture(5, 60);
    let mut text = Vec::new();
    for (_, f) in &cap.frames {
        if f.len() > 54 && f[23] == 6 {
            let ihl = usize::from(f[14] & 15) * 4;
            let doff = usize::from(f[14 + ihl + 12] >> 4) * 4;
            let p = &f[(14 + ihl + doff).min(f.len())..];
            if p.iter().take(64).all(u8::is_ascii) {
                text.extend_from_slice(p);
            }
        }
        if text.len() >= mib << 20 {
            break;
        }
    }
    let mut rng = edgeward_traffic::Rng::new(3);
    let mut binary = b"PK\x03\x04".to_vec();
    while binary.len() < mib << 20 {
        // Compressed-looking bytes with the runs of zeros binary formats have.
        if rng.below(20) == 0 {
            binary.extend(std::iter::repeat_n(0u8, rng.below(64) as usize));
        } else {
            binary.extend(rng.bytes(256));
        }
    }
    let tls = rng.bytes(mib << 20);
    vec![("http-text", text), ("binary", binary), ("tls-random", tls)]
}

trait Scan {
    fn found(&self, data: &[u8], out: &mut BTreeSet<usize>);
}

struct Ac(AhoCorasick);
impl Scan for Ac {
    fn found(&self, data: &[u8], out: &mut BTreeSet<usize>) {
        for m in self.0.find_overlapping_iter(data) {
            out.insert(m.pattern().as_usize());
        }
    }
}

struct Daac(daachorse::DoubleArrayAhoCorasick<u32>);
impl Scan for Daac {
    fn found(&self, data: &[u8], out: &mut BTreeSet<usize>) {
        let lower = data.to_ascii_lowercase();
        for m in self.0.find_overlapping_iter(&lower) {
            out.insert(m.value() as usize);
        }
    }
}

struct Hs(
    edgeward_hs::Database,
    std::cell::RefCell<edgeward_hs::Scratch>,
);
impl Scan for Hs {
    fn found(&self, data: &[u8], out: &mut BTreeSet<usize>) {
        let mut s = self.1.borrow_mut();
        let _ = self.0.scan(&mut s, data, |id| {
            out.insert(id as usize);
        });
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).ok_or("usage: bench_matchers RULES_DIR [MiB]")?;
    let mib: usize = args.get(2).map(|m| m.parse()).transpose()?.unwrap_or(16);
    let loaded = edgeward_ids::loader::LoadedRules::load(
        std::path::Path::new(dir),
        &edgeward_ids::vars::Vars::default(),
    )?;
    let rs = edgeward_ids::ruleset::RuleSet::compile(loaded);
    let mut sets: Vec<(String, &Vec<Vec<u8>>)> = Vec::new();
    let names = ["tcp", "udp", "icmp", "ip"];
    for (i, g) in rs.packet.iter().enumerate() {
        for (k, pf) in &g.prefilters {
            sets.push((format!("{} {:?}", names[i], k.0), &pf.patterns));
        }
    }
    let app = [
        "http req",
        "http resp",
        "dns req",
        "dns resp",
        "tls req",
        "tls resp",
    ];
    for (i, g) in rs.app.iter().enumerate() {
        for (k, pf) in &g.prefilters {
            sets.push((format!("{} {:?}", app[i], k.0), &pf.patterns));
        }
    }
    sets.sort_by_key(|(_, p)| std::cmp::Reverse(p.len()));
    sets.truncate(5);
    let inputs = inputs(mib);
    println!(
        "| set | patterns | matcher | build ms | memory KiB | {} |",
        inputs
            .iter()
            .map(|(n, _)| format!("{n} MB/s"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|---:|---|---:|---:|{}", "---:|".repeat(inputs.len()));
    for (name, pats) in &sets {
        let mut results: Vec<(&str, f64, usize, Box<dyn Scan>)> = Vec::new();
        for (label, kind) in [
            ("aho-corasick NFA", Some(AhoCorasickKind::ContiguousNFA)),
            ("aho-corasick DFA", Some(AhoCorasickKind::DFA)),
        ] {
            let t = Instant::now();
            let ac = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(kind)
                .build(pats.iter())?;
            let mem = ac.memory_usage();
            results.push((
                label,
                t.elapsed().as_secs_f64() * 1e3,
                mem,
                Box::new(Ac(ac)),
            ));
        }
        let t = Instant::now();
        let mut uniq: Vec<(Vec<u8>, u32)> = pats
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), i as u32))
            .collect();
        uniq.sort();
        uniq.dedup_by(|a, b| a.0 == b.0);
        let d = daachorse::DoubleArrayAhoCorasick::with_values(uniq).map_err(|e| e.to_string())?;
        let mem = d.heap_bytes();
        results.push((
            "daachorse (lower-cased copy)",
            t.elapsed().as_secs_f64() * 1e3,
            mem,
            Box::new(Daac(d)),
        ));
        let t = Instant::now();
        let lits: Vec<_> = pats
            .iter()
            .map(|p| edgeward_hs::Literal {
                bytes: p,
                caseless: true,
            })
            .collect();
        let db = edgeward_hs::Database::literals(&lits)?;
        let scratch = edgeward_hs::Scratch::new(&db)?;
        let mem = db.size();
        results.push((
            "Hyperscan",
            t.elapsed().as_secs_f64() * 1e3,
            mem,
            Box::new(Hs(db, std::cell::RefCell::new(scratch))),
        ));
        let mut reference: Vec<BTreeSet<usize>> = Vec::new();
        for (label, build_ms, mem, m) in &results {
            let mut cells = Vec::new();
            for (i, (_, data)) in inputs.iter().enumerate() {
                // Scan in 1460-byte packets, as the payload prefilter sees them; best of 3.
                let mut best = f64::MAX;
                let mut found = BTreeSet::new();
                for _ in 0..3 {
                    found.clear();
                    let t = Instant::now();
                    for chunk in data.chunks(1460) {
                        m.found(chunk, &mut found);
                    }
                    best = best.min(t.elapsed().as_secs_f64());
                }
                if reference.len() <= i {
                    reference.push(found.clone());
                }
                let agree = if reference[i] == found {
                    ""
                } else {
                    " (DIFFERS)"
                };
                cells.push(format!("{:.0}{agree}", data.len() as f64 / best / 1e6));
            }
            println!(
                "| {name} | {} | {label} | {build_ms:.0} | {} | {} |",
                pats.len(),
                mem >> 10,
                cells.join(" | ")
            );
        }
    }
    Ok(())
}
