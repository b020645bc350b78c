#!/usr/bin/env bash
# The main job: bring up the edgeward lab with the gateway running.
#   scripts/lab.sh up [--prefix P]      build everything (packages, binary) and start the lab
#   scripts/lab.sh status [--json]      topology and reachability
#   scripts/lab.sh down                 stop the gateway, remove the lab
set -euo pipefail
cd "$(dirname "$0")/.."
cmd="${1:-up}"; shift || true
extra=()
if [ "$cmd" = up ]; then
  scripts/setup.sh
  cargo build --release -p edgeward-gateway -p edgeward-hub -p edgeward-lab --quiet
  # The IDS watches the uplinks with the ET Open ruleset shipped in ids/rules/.
  extra+=("--gateway-arg=--ids-rules=$(scripts/et-open.sh)")
fi
bin=target/release/edgeward-lab
[ -x "$bin" ] || bin=target/debug/edgeward-lab
exec "$bin" "$cmd" "$@" "${extra[@]}"
