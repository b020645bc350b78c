#!/usr/bin/env bash
# Fuzz what NAC reads from the LAN (needs nightly and cargo-fuzz):
#   dhcp_frame — any Ethernet frame through the DHCP reader, fingerprint table and rogue watch;
#   lease_file — any text as dnsmasq's lease file.
# usage: scripts/fuzz-nac.sh [SECONDS per target, default 120]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-120}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
cd gateway/nac/fuzz
mkdir -p corpus/dhcp_frame corpus/lease_file
printf '1700000000 02:ed:00:00:00:77 10.10.0.150 visitor-1 01:02:ed:00:00:00:77\n' > corpus/lease_file/seed
status=0
for t in dhcp_frame lease_file; do
  log=/tmp/fuzz-nac-$t.log
  cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$SECS" -max_len=2048 >"$log" 2>&1 || true
  grep -E "Done " "$log" || true
  if grep -q "panicked\|ERROR: libFuzzer" "$log"; then echo "$t: FAILED (see $log)"; status=1; fi
done
exit $status
