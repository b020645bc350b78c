#!/usr/bin/env bash
# Run every test: installs the system packages, builds, checks formatting and lints, then runs
# unit, property and end-to-end lab tests (the lab tests need root).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# Licences (nothing copyleft in the programs) and bans, by deny.toml.
command -v cargo-deny >/dev/null || cargo install --locked --quiet cargo-deny
cargo deny --log-level error check licenses bans
# The lab tests run the edgeward binary; build it first.
cargo build --workspace --bins --quiet
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --no-fail-fast -- --test-threads="${EDGEWARD_TEST_THREADS:-4}" 2>&1 | tee "$log" || status=$?
# One closing line with the totals of every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
