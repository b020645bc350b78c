#!/usr/bin/env bash
# Fuzz what the admin plane takes from the network (needs nightly and cargo-fuzz), each target
# for SECONDS through the real router (guards, extractors, handlers) with sessions of every role:
#   api_request — any method, path, content type, cookies and body, with or without a session
#   login_json  — any body to POST /api/v1/login, from a fresh source address each time
#   forms       — URL-encoded forms (login, password, TOTP, devices, Wi-Fi, accounts, editor)
#   multipart   — uploads (backup import, certificate, CSV import)
#   cookies     — Cookie and Origin headers on pages and the API
# Each must never panic, answer 5xx (other than 503), or show a passphrase to a role that may
# not see it.
# usage: scripts/fuzz-admin.sh [SECONDS, default 600] [TARGET…]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-600}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(api_request login_json forms multipart cookies)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
cd gateway/web/fuzz
seed() { mkdir -p "corpus/$1"; [ -n "$(ls -A "corpus/$1")" ] || printf '%b' "$2" > "corpus/$1/seed"; }
seed api_request '\x01\x01\x01/api/v1/config/check\0application/json\0ew_lang=en\0{"text":"[gateway]\\nhostname = \\"x\\"","reason":"r"}'
seed login_json '{"username":"admin","password":"edgeward","totp":"123456"}'
seed forms '\x01\x00username=admin&password=edgeward&_pre=fuzz'
seed multipart '\x00\x04--XfuzzX\r\nContent-Disposition: form-data; name="file"; filename="b"\r\n\r\nEDGEWARD-CONFIG-BACKUP v1\r\n--XfuzzX\r\nContent-Disposition: form-data; name="passphrase"\r\n\r\nSao-Luu-Cau-2026\r\n--XfuzzX--\r\n'
seed cookies '\x02ew_session=SESSION; ew_lang=vi; ew_pre=x\0https://10.10.99.1'
status=0
for t in "${TARGETS[@]}"; do
  log=/tmp/fuzz-admin-$t.log
  cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$SECS" -max_len=65536 -rss_limit_mb=4096 >"$log" 2>&1 || true
  grep -E "^Done |panicked|ERROR" "$log" | sed "s/^/$t: /" || true
  if grep -q "panicked\|ERROR: libFuzzer\|deadly signal" "$log"; then status=1; fi
done
exit $status
