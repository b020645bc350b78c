//! `edgeward ids`: the IDS engine offline — a capture through the engine with EVE output, a
//! ruleset's load report, and the traffic generator used by tests and benchmarks.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use edgeward_ids::engine::{Engine, EngineConfig};
use edgeward_ids::loader::LoadedRules;
use edgeward_ids::offline;
use edgeward_ids::ruleset::RuleSet;
use edgeward_ids::vars::Vars;

/// Peak resident memory of this process in KiB (Linux `VmHWM`).
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Load and compile a rules directory, printing the load report to stderr.
pub fn load(rules: &Path, home_net: &[String]) -> anyhow::Result<(Arc<RuleSet>, f64)> {
    let (set, secs) = load_set(rules, home_net)?;
    Ok((Arc::new(set), secs))
}

/// As [`load`], the ruleset not yet shared.
fn load_set(rules: &Path, home_net: &[String]) -> anyhow::Result<(RuleSet, f64)> {
    let started = Instant::now();
    let vars = Vars::with_home_net(home_net);
    let loaded = LoadedRules::load(rules, &vars)?;
    let set = RuleSet::compile(loaded);
    let secs = started.elapsed().as_secs_f64();
    eprint!("{}", set.report.table());
    eprintln!("{}", set.summary());
    Ok((set, secs))
}

/// Run a capture; write EVE alerts to `eve` (or stdout) and statistics as JSON to `stats`.
pub fn run_pcap(
    pcap: &Path,
    rules: &Path,
    eve: Option<&Path>,
    stats: Option<&Path>,
    home_net: &[String],
) -> anyhow::Result<u8> {
    let (set, load_secs) = load(rules, home_net)?;
    let mut engine = Engine::new(Arc::clone(&set), EngineConfig::default());
    let mut out: Box<dyn Write> = match eve {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let mut write_error = None;
    let run = offline::run_file(&mut engine, pcap, |a| {
        if write_error.is_none()
            && let Err(e) = offline::write_eve(&mut out, &set, a)
        {
            write_error = Some(e);
        }
    })?;
    // Fragment anomalies (evasion signals, limits reached) as EVE `anomaly` records.
    let mut anomaly_counts: std::collections::BTreeMap<&str, u64> = Default::default();
    for a in engine.anomalies.drain(..) {
        let name = a.kind.eve_name(a.src.is_ipv6());
        *anomaly_counts.entry(name).or_default() += 1;
        let record = serde_json::json!({
            "timestamp": edgeward_event::eve::packet_timestamp(a.ts),
            "event_type": "anomaly",
            "src_ip": a.src,
            "dest_ip": a.dst,
            "anomaly": { "type": "decode", "event": name },
        });
        if write_error.is_none()
            && let Err(e) = writeln!(out, "{record}")
        {
            write_error = Some(e);
        }
    }
    out.flush()?;
    if let Some(why) = &run.truncated {
        eprintln!(
            "warning: {}: the capture is cut short ({why}); the {} packets before it were inspected",
            pcap.display(),
            run.packets
        );
    }
    if let Some(e) = write_error {
        return Err(e).context("writing EVE output");
    }
    let c = &engine.counters;
    // Per-rule hits (matches, including rules that only set flowbits), by sid.
    let mut hits: Vec<(u32, u64)> = c
        .rule_hits
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(i, n)| (set.rules[i].sid, *n))
        .collect();
    hits.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let rule_hits: serde_json::Map<String, serde_json::Value> = hits
        .into_iter()
        .map(|(sid, n)| (sid.to_string(), n.into()))
        .collect();
    let summary = serde_json::json!({
        "rules_total": set.report.total,
        "rules_loaded": set.report.loaded,
        "rules_skipped": set.report.skipped,
        "rules_errors": set.report.errors.len(),
        "load_seconds": load_secs,
        "packets": run.packets,
        "bytes": run.bytes,
        "alerts": run.alerts,
        "truncated": run.truncated,
        "seconds": run.elapsed.as_secs_f64(),
        "pps": run.pps(),
        "gbps": run.gbps(),
        "peak_rss_kib": peak_rss_kib(),
        "counters": c,
        "defrag": engine.defrag.counters,
        "anomalies": anomaly_counts,
        "rule_hits": rule_hits,
    });
    eprintln!(
        "{} packets in {:.3} s: {:.0} packets/s, {:.2} Gbit/s; {} alerts; load {:.2} s; peak RSS {} MiB",
        run.packets,
        run.elapsed.as_secs_f64(),
        run.pps(),
        run.gbps(),
        run.alerts,
        load_secs,
        peak_rss_kib() / 1024
    );
    if let Some(p) = stats {
        std::fs::write(p, serde_json::to_vec_pretty(&summary)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(0)
}

/// Print the load report; exit 1 when a rule is malformed.
pub fn check(rules: &Path, home_net: &[String]) -> anyhow::Result<u8> {
    let (set, secs) = load(rules, home_net)?;
    eprintln!("loaded and compiled in {secs:.2} s");
    for e in &set.report.errors {
        println!("{e}");
    }
    Ok(u8::from(!set.report.errors.is_empty()))
}

/// Where the live commands write EVE alerts: `eve` or stdout, shared by the workers.
type EveOut = Arc<std::sync::Mutex<Box<dyn Write + Send>>>;

/// The EVE writer and the workers' alert sink that writes to it.
fn eve_sink(eve: Option<&Path>) -> anyhow::Result<(EveOut, edgeward_capture::pool::AlertSink)> {
    let out: Box<dyn Write + Send> = match eve {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let out = Arc::new(std::sync::Mutex::new(out));
    let sink_out = Arc::clone(&out);
    let sink: edgeward_capture::pool::AlertSink = Arc::new(move |set, alert, _| {
        if let Ok(mut o) = sink_out.lock() {
            let _ = offline::write_eve(&mut *o, set, alert);
        }
    });
    Ok((out, sink))
}

/// SIGINT and SIGTERM set [`STOP`].
fn stop_on_signals() {
    // SAFETY: installing a handler that only stores to an atomic.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_stop_signal as *const () as libc::sighandler_t,
        );
        libc::signal(
            libc::SIGTERM,
            on_stop_signal as *const () as libc::sighandler_t,
        );
    }
}

/// Set by SIGINT/SIGTERM while `run_inline` runs.
static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    STOP.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Parse `A:B` (or `A`) into the first queue and the number of queues.
pub fn parse_queues(text: &str) -> anyhow::Result<(u16, u16)> {
    let (a, b) = text.split_once(':').unwrap_or((text, text));
    let first: u16 = a
        .trim()
        .parse()
        .with_context(|| format!("--nfqueue {text}: `{a}` is not a queue number"))?;
    let last: u16 = b
        .trim()
        .parse()
        .with_context(|| format!("--nfqueue {text}: `{b}` is not a queue number"))?;
    anyhow::ensure!(
        last >= first,
        "--nfqueue {text}: the last queue is before the first"
    );
    Ok((first, last - first + 1))
}

/// The inline IPS by hand (console and benchmarks): judge queues `queues` (`A:B`, one worker
/// each) with the rules until SIGINT/SIGTERM or `seconds`; EVE alerts to `eve` (or stdout),
/// counters as JSON to `stats`. The same workers the daemon runs in IPS mode; the caller sets
/// the NFQUEUE rules.
#[allow(clippy::too_many_arguments)]
pub fn run_inline(
    queues: &str,
    rules: &Path,
    fail_open: bool,
    bypass_mark: Option<u32>,
    eve: Option<&Path>,
    stats: Option<&Path>,
    seconds: Option<u64>,
    home_net: &[String],
) -> anyhow::Result<u8> {
    use edgeward_capture::inline::{InlineConfig, InlinePool};
    use std::sync::atomic::Ordering;
    let (first_queue, workers) = parse_queues(queues)?;
    let (set, load_secs) = load_set(rules, home_net)?;
    let shared = Arc::new(edgeward_ids::reload::SharedRules::new(set));
    let (out, sink) = eve_sink(eve)?;
    stop_on_signals();
    let pool = InlinePool::start(
        InlineConfig {
            first_queue,
            workers,
            max_len: 4096,
            fail_open,
            netns: None,
            engine: EngineConfig::default(),
            bypass_mark,
            evidence: None,
        },
        shared,
        sink,
    )
    .with_context(|| format!("binding NFQUEUE {queues}"))?;
    eprintln!(
        "judging NFQUEUE {queues} ({}); SIGINT or SIGTERM stops",
        if fail_open {
            "fail-open"
        } else {
            "fail-closed"
        }
    );
    let started = Instant::now();
    while !STOP.load(Ordering::Relaxed) && seconds.is_none_or(|s| started.elapsed().as_secs() < s) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let s = &pool.stats;
    let summary = serde_json::json!({
        "load_seconds": load_secs,
        "seconds": started.elapsed().as_secs_f64(),
        "packets": s.packets.load(Ordering::Relaxed),
        "dropped": s.dropped.load(Ordering::Relaxed),
        "alerts": s.alerts.load(Ordering::Relaxed),
        "restarts": s.restarts.load(Ordering::Relaxed),
        "bypassed": s.bypassed.load(Ordering::Relaxed),
        "resets": s.resets.load(Ordering::Relaxed),
        "verdict_latency_us": s.latency.summary(),
        "peak_rss_kib": peak_rss_kib(),
    });
    drop(pool);
    if let Ok(mut o) = out.lock() {
        o.flush()?;
    }
    eprintln!("{summary}");
    if let Some(p) = stats {
        std::fs::write(p, serde_json::to_vec_pretty(&summary)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(0)
}

/// `edgeward ids evidence [ID]`: list the kept evidence pcaps, or write one decrypted (to
/// `out` or stdout) and print its SHA-256 to stderr.
pub fn evidence(
    dir: &Path,
    key_dir: &Path,
    id: Option<&str>,
    out: Option<&Path>,
) -> anyhow::Result<u8> {
    use edgeward_store::evidence::EvidenceStore;
    let keys = edgeward_store::store::Keyring::open(key_dir)
        .with_context(|| format!("opening the store's keys in {}", key_dir.display()))?;
    let store = EvidenceStore::new(dir, keys);
    let Some(id) = id else {
        let kept = store.list();
        for k in &kept {
            println!(
                "{}  {:>9} bytes  {}",
                k.id,
                k.bytes,
                k.modified.to_rfc3339()
            );
        }
        eprintln!("{} evidence pcaps in {}", kept.len(), dir.display());
        return Ok(0);
    };
    let pcap = store.get(id).with_context(|| format!("evidence {id}"))?;
    match out {
        Some(p) => std::fs::write(p, &pcap).with_context(|| format!("writing {}", p.display()))?,
        None => std::io::stdout().write_all(&pcap)?,
    }
    eprintln!("sha256 {}", EvidenceStore::digest(&pcap));
    Ok(0)
}

/// `edgeward ids update SOURCE`: install a signed SOC bundle, or local rules into
/// `ids.rules_dir` (checked first; the previous ones kept as `<dir>.previous`), and tell the
/// daemon (SIGHUP: it recompiles off the packet path and swaps the rules in).
#[allow(clippy::case_sensitive_file_extension_comparisons)] // on the lowercased name
pub fn update(
    source: &Path,
    config: &Path,
    state_dir: &Path,
    soc_dir: &Path,
) -> anyhow::Result<u8> {
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("reading the configuration {}", config.display()))?;
    let cfg = edgeward_config::parse(
        &text,
        &config.display().to_string(),
        edgeward_config::today(),
    )
    .map_err(|p| anyhow::anyhow!("{p}"))?;
    if source.extension().is_some_and(|e| e == "json") {
        let raw = std::fs::read(source).with_context(|| format!("reading {}", source.display()))?;
        let bundle: edgeward_soc::bundle::Bundle = serde_json::from_slice(&raw)
            .with_context(|| format!("{}: not a rule bundle", source.display()))?;
        let rules = edgeward_soc::bundle::apply(
            &bundle,
            &soc_dir.join("bundle-signing.pub"),
            &state_dir.join("rules"),
            &cfg.gateway.host_id,
        )
        .with_context(|| format!("bundle {} refused", source.display()))?;
        println!(
            "bundle v{} ({rules} rules, mode {}) applied; the daemon takes it up within seconds",
            bundle.meta.version, bundle.meta.mode
        );
        return Ok(0);
    }
    let target = PathBuf::from(&cfg.ids.rules_dir);
    let staging = target.with_extension("staging");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
    let name = source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    if source.is_dir() {
        for e in std::fs::read_dir(source)?.flatten() {
            let p = e.path();
            let keep = p.extension().is_some_and(|x| x == "rules")
                || p.file_name().is_some_and(|n| n == "classification.config");
            if keep && p.is_file() {
                std::fs::copy(&p, staging.join(e.file_name()))?;
            }
        }
    } else if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
        let out = std::process::Command::new("tar")
            .arg("-xzf")
            .arg(source)
            .arg("-C")
            .arg(&staging)
            .output()
            .context("running tar")?;
        anyhow::ensure!(
            out.status.success(),
            "{}: not a readable archive: {}",
            source.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        // ET Open's archive holds a `rules/` directory: take the files up.
        let inner = staging.join("rules");
        if inner.is_dir() {
            for e in std::fs::read_dir(&inner)?.flatten() {
                std::fs::rename(e.path(), staging.join(e.file_name()))?;
            }
            let _ = std::fs::remove_dir_all(&inner);
        }
    } else if lower.ends_with(".rules") {
        std::fs::copy(source, staging.join(&name))
            .with_context(|| format!("reading {}", source.display()))?;
    } else {
        let _ = std::fs::remove_dir_all(&staging);
        anyhow::bail!(
            "{}: expected a signed bundle (.json), a .rules file, a directory or a .tar.gz archive",
            source.display()
        );
    }
    // The engine's own check: every rule loads, or nothing changes.
    let vars = Vars::with_home_net::<&str>(&[]);
    match edgeward_ids::reload::SharedRules::compile(&staging, &vars) {
        Ok(set) => eprintln!("{}", set.summary()),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            anyhow::bail!("{}: refused, the running rules stay: {e}", source.display());
        }
    }
    let previous = target.with_extension("previous");
    if target.exists() {
        let _ = std::fs::remove_dir_all(&previous);
        std::fs::rename(&target, &previous)
            .with_context(|| format!("keeping {} as {}", target.display(), previous.display()))?;
    }
    std::fs::rename(&staging, &target)
        .with_context(|| format!("installing {}", target.display()))?;
    println!(
        "rules from {} installed in {}",
        source.display(),
        target.display()
    );
    match crate::config_cmd::signal_daemon(state_dir) {
        Ok(pid) => println!("daemon (pid {pid}) told to load them"),
        Err(e) => println!("the daemon was not told ({e}); it loads them when it starts"),
    }
    Ok(0)
}

/// The passive IDS by hand (console and benchmarks): watch `interfaces` with the daemon's
/// capture workers (one per core, AF_PACKET rings in a fanout group per interface) until
/// SIGINT/SIGTERM or `seconds`; EVE alerts to `eve` (or stdout); the counters as JSON to
/// `stats`, rewritten every second while it runs.
pub fn run_passive(
    interfaces: &[String],
    rules: &Path,
    eve: Option<&Path>,
    stats: Option<&Path>,
    seconds: Option<u64>,
    home_net: &[String],
) -> anyhow::Result<u8> {
    use edgeward_capture::afpacket::RingConfig;
    use edgeward_capture::pool::{Pool, PoolConfig};
    use std::sync::atomic::Ordering;
    let (set, load_secs) = load_set(rules, home_net)?;
    let shared = Arc::new(edgeward_ids::reload::SharedRules::new(set));
    let (out, sink) = eve_sink(eve)?;
    stop_on_signals();
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let pool = Pool::start(
        PoolConfig {
            interfaces: interfaces.to_vec(),
            workers,
            ring: RingConfig::default(),
            netns: None,
            engine: EngineConfig::default(),
            evidence: None,
            zone_interfaces: Vec::new(),
            zone_ring: RingConfig::default(),
        },
        shared,
        sink,
    )
    .with_context(|| format!("opening capture rings on {}", interfaces.join(", ")))?;
    eprintln!(
        "watching {} with {workers} workers; SIGINT or SIGTERM stops",
        interfaces.join(", ")
    );
    let started = Instant::now();
    let snapshot = |s: &edgeward_capture::pool::PoolStats| {
        serde_json::json!({
            "load_seconds": load_secs,
            "seconds": started.elapsed().as_secs_f64(),
            "packets": s.packets.load(Ordering::Relaxed),
            "kernel_drops": s.kernel_drops.load(Ordering::Relaxed),
            "alerts": s.alerts.load(Ordering::Relaxed),
            "bytes": s.interfaces.iter().map(|i| i.bytes.load(Ordering::Relaxed)).sum::<u64>(),
            "peak_rss_kib": peak_rss_kib(),
        })
    };
    let mut last_write = Instant::now();
    while !STOP.load(Ordering::Relaxed) && seconds.is_none_or(|s| started.elapsed().as_secs() < s) {
        std::thread::sleep(std::time::Duration::from_millis(100));
        if let Some(p) = stats
            && last_write.elapsed().as_secs() >= 1
        {
            last_write = Instant::now();
            let _ = edgeward_config::history::write_atomic(
                p,
                &serde_json::to_vec_pretty(&snapshot(&pool.stats))?,
            );
        }
    }
    let stats_arc = Arc::clone(&pool.stats);
    drop(pool);
    let summary = snapshot(&stats_arc);
    if let Ok(mut o) = out.lock() {
        o.flush()?;
    }
    eprintln!("{summary}");
    if let Some(p) = stats {
        std::fs::write(p, serde_json::to_vec_pretty(&summary)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(0)
}
