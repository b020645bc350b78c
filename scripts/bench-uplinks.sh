#!/usr/bin/env bash
# Uplink failover benchmark (root): failover time over N trials (default 20) with the default
# health settings, and probe traffic per uplink. Takes about 40 s per trial (the 30 s failback hold).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --quiet -p edgeward-gateway
EDGEWARD_BIN=target/release/edgeward cargo run --release --quiet -p edgeward-lab --example bench_uplinks -- "${1:-20}"
