#!/usr/bin/env bash
# Fuzz the IDS's parsers of untrusted input (needs the nightly toolchain and cargo-fuzz):
#   rule_parser    — any text through the rule parser, then the parsed rule's inspection
#   packet_decoder — any frames through the decoder and the whole engine (defragmentation, flows,
#                    reassembly, protocol detection, HTTP/DNS/TLS parsers, detection)
# Seeds: real ET Open rules and the frames of the generated trigger capture.
# usage: scripts/fuzz-ids.sh [SECONDS per target, default 600]  (both targets run in parallel)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-600}
RULES=$(scripts/et-open.sh)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
cargo build --release -q -p edgeward-traffic
mkdir -p ids/fuzz/corpus/rule_parser ids/fuzz/corpus/packet_decoder
if [ -z "$(ls -A ids/fuzz/corpus/rule_parser)" ]; then
  grep -h -v '^#' "$RULES"/emerging-{dns,user_agents,exploit,ja3,policy}.rules | grep alert | head -300 \
    | split -l 1 - ids/fuzz/corpus/rule_parser/seed_
fi
if [ -z "$(ls -A ids/fuzz/corpus/packet_decoder)" ]; then
  target/release/edgeward-traffic trigger --out /tmp/edgeward-fuzz-trigger.pcap
  python3 - /tmp/edgeward-fuzz-trigger.pcap ids/fuzz/corpus/packet_decoder <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
e = '<' if data[:4] == b'\xd4\xc3\xb2\xa1' else '>'
pos, frames = 24, []
while pos + 16 <= len(data):
    _, _, incl, _ = struct.unpack(e + 'IIII', data[pos:pos + 16]); pos += 16
    frames.append(data[pos + 14:pos + incl]); pos += incl   # strip Ethernet: the target reads raw IP
for i in range(0, len(frames), 12):
    open(f'{sys.argv[2]}/conv_{i}', 'wb').write(b'\xfe'.join(frames[i:i + 12]))
PY
fi
# The evasion capture's fragments and tiny, overlapping, shuffled segments as seeds too.
if [ ! -e ids/fuzz/corpus/packet_decoder/evasion_0 ]; then
  target/release/edgeward-traffic evasion --out /tmp/edgeward-fuzz-evasion.pcap
  python3 - /tmp/edgeward-fuzz-evasion.pcap ids/fuzz/corpus/packet_decoder <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
e = '<' if data[:4] == b'\xd4\xc3\xb2\xa1' else '>'
pos, frames = 24, []
while pos + 16 <= len(data):
    _, _, incl, _ = struct.unpack(e + 'IIII', data[pos:pos + 16]); pos += 16
    frames.append(data[pos + 14:pos + incl]); pos += incl
for i in range(0, len(frames), 16):
    open(f'{sys.argv[2]}/evasion_{i}', 'wb').write(b'\xfe'.join(frames[i:i + 16]))
PY
fi
cd ids/fuzz
cargo +nightly fuzz run -O rule_parser corpus/rule_parser -- -max_total_time="$SECS" -max_len=4096 > /tmp/fuzz-rule.log 2>&1 &
r=$!
cargo +nightly fuzz run -O packet_decoder corpus/packet_decoder -- -max_total_time="$SECS" -max_len=16384 > /tmp/fuzz-packet.log 2>&1 &
p=$!
rc=0
wait $r || rc=1
wait $p || rc=1
grep -h "Done " /tmp/fuzz-rule.log /tmp/fuzz-packet.log || true
exit $rc
