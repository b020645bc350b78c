//! `edgeward-traffic trigger|bench|bytes|evasion [--flows N] --out FILE`: write a generated capture for the
//! IDS tests and benchmarks (`scripts/bench-ids.sh`, `scripts/fuzz-ids.sh`).

use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!("usage: edgeward-traffic trigger|bench|bytes|evasion [--flows N] --out FILE");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(kind) = args.first() else {
        return usage();
    };
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let Some(out) = value("--out").map(PathBuf::from) else {
        return usage();
    };
    let flows = match value("--flows").map(|f| f.parse::<usize>()) {
        None => 20_000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("--flows: {e}");
            return usage();
        }
    };
    let capture = match kind.as_str() {
        "trigger" => edgeward_traffic::trigger_capture(7),
        "bench" => edgeward_traffic::bench_capture(11, flows),
        "bytes" => edgeward_traffic::byte_heavy_capture(13, flows),
        "evasion" => edgeward_traffic::evasion_capture().0,
        _ => return usage(),
    };
    if let Err(e) = capture.write(&out) {
        eprintln!("writing {}: {e}", out.display());
        return ExitCode::from(1);
    }
    eprintln!("{}: {} packets", out.display(), capture.frames.len());
    ExitCode::SUCCESS
}
