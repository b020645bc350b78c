#!/usr/bin/env bash
# Fuzz configuration texts as the admin API receives them (needs nightly and cargo-fuzz):
#   config_text — any text through parse + validation, secret redaction (idempotent) and the
#                 restore of hidden Wi-Fi passphrases.
# Seeds: the agency profile, split into its sections, plus a Wi-Fi section.
# usage: scripts/fuzz-config.sh [SECONDS, default 300]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-300}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
mkdir -p config/fuzz/corpus/config_text
if [ -z "$(ls -A config/fuzz/corpus/config_text)" ]; then
  cp profiles/agency-default.toml config/fuzz/corpus/config_text/seed_profile
  awk '/^\[/{n++} {print > ("config/fuzz/corpus/config_text/seed_section_" n)}' profiles/agency-default.toml
  printf '[[wifi]]\nssid = "Khach"\nzone = "guest"\nsecurity = "wpa2-wpa3"\npassphrase = "••••••••"\npassphrase_changed = "2026-11-01"\n' \
    > config/fuzz/corpus/config_text/seed_wifi
fi
cd config/fuzz
cargo +nightly fuzz run -O config_text corpus/config_text -- -max_total_time="$SECS" -max_len=8192 2>&1 \
  | tee /tmp/fuzz-config.log | grep -E "Done |panicked|ERROR" || true
! grep -q "panicked\|ERROR: libFuzzer" /tmp/fuzz-config.log
