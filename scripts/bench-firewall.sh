#!/usr/bin/env bash
# Firewall benchmarks (root): render+apply at scale, loss during apply, throughput vs accept-all.
# Results go to docs/BENCHMARKS.md by hand, with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --quiet -p edgeward-gateway
EDGEWARD_BIN=target/release/edgeward cargo run --release --quiet -p edgeward-lab --example bench_firewall
