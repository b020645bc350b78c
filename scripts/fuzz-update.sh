#!/usr/bin/env bash
# Fuzz what the update installer reads from an upload or the SOC link (needs nightly and
# cargo-fuzz): bundle_open — any bytes as an update bundle.
# usage: scripts/fuzz-update.sh [SECONDS, default 120]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-120}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
cd gateway/update/fuzz
mkdir -p corpus/bundle_open
log=/tmp/fuzz-update-bundle_open.log
cargo +nightly fuzz run -O bundle_open corpus/bundle_open -- -max_total_time="$SECS" -max_len=65536 >"$log" 2>&1 || true
grep -E "Done " "$log" || true
if grep -q "panicked\|ERROR: libFuzzer" "$log"; then echo "bundle_open: FAILED (see $log)"; exit 1; fi
