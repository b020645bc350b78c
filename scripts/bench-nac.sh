#!/usr/bin/env bash
# NAC at an agency's scale: 5,000 devices in the inventory.
#   1. CPU per step of an approval on the gateway (parse + validate, decision, DHCP render,
#      firewall render, bridge table), median of 11 runs: the DHCP render goal is ≤ 100 ms.
#   2. In the lab, end to end: `edgeward devices approve` / `quarantine` to the first connection
#      that behaves accordingly (goal ≤ 2 s each), median of RUNS labs (default 3).
# No peer runs here (PacketFence needs a 16 GB, 4-core server and switch integration).
# usage: scripts/bench-nac.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
cargo run --release --quiet -p edgeward-nac --example bench_nac -- 5000 11
# The lab runs the release daemon and hub (and the lab's own helpers beside them), as an appliance would.
cargo build --quiet --release -p edgeward-gateway -p edgeward-hub -p edgeward-lab
cargo build --quiet --workspace --bins
cargo test --quiet -p edgeward-lab --test nac --no-run
export EDGEWARD_BIN=$PWD/target/release/edgeward
approvals=(); quarantines=()
for i in $(seq "$RUNS"); do
  out=$(cargo test --quiet -p edgeward-lab --test nac bench_decisions_with_5000_devices -- --ignored --nocapture 2>&1)
  a=$(grep -o 'approval_s=[0-9.]*' <<<"$out" | cut -d= -f2)
  q=$(grep -o 'quarantine_s=[0-9.]*' <<<"$out" | cut -d= -f2)
  [ -n "$a" ] && [ -n "$q" ] || { echo "run $i failed:"; echo "$out" | tail -20; exit 1; }
  echo "lab run $i: approval ${a} s, quarantine ${q} s"
  approvals+=("$a"); quarantines+=("$q")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "median over $RUNS lab runs with 5,000 devices: approval $(median "${approvals[@]}") s, quarantine $(median "${quarantines[@]}") s (goal ≤ 2 s)"
