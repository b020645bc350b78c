#!/usr/bin/env bash
# IDS benchmark against Suricata 7 (Hyperscan, single-threaded) in one run, on the same captures
# and the same rules, both engines writing alerts only:
#   - rules loaded/skipped; per-flow SID agreement on the trigger capture (must be exact) and on
#     both benchmark captures;
#   - on a packet-heavy capture (many small flows) and a byte-heavy one (large HTTP bodies,
#     downloads, TLS 1.3 sessions, interleaved flows): RUNS alternating runs of each engine,
#     packets/s ratio edgeward/Suricata as median and spread (load time excluded on both sides),
#     peak RSS and load time.
# usage: scripts/bench-ids.sh [FLOWS] [BYTE_FLOWS]   (defaults 20000 ≈ 400k packets; 1000 ≈ 475k packets, 470 MB)
# env: RUNS (default 5), EDGEWARD_ET_RULES (default: the copy in ids/rules/, see scripts/et-open.sh),
#      BENCH_DIR (default a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
FLOWS=${1:-20000}
BYTE_FLOWS=${2:-1000}
RUNS=${RUNS:-5}
RULES=$(scripts/et-open.sh)
DIR=${BENCH_DIR:-$(mktemp -d /tmp/edgeward-ids-bench.XXXX)}
mkdir -p "$DIR"
cargo build --release -q -p edgeward-gateway -p edgeward-traffic
EW=target/release/edgeward
GEN=target/release/edgeward-traffic
cat "$RULES"/*.rules > "$DIR/all.rules"
# Suricata's own configuration with EVE reduced to alerts (what edgeward writes) and no other logs.
python3 scripts/suricata-config.py "$DIR/suricata.yaml"

suricata_run() { # capture outdir
  rm -rf "$2"; mkdir -p "$2"
  # Checksums validated on both sides (Suricata's default `auto`, edgeward's default).
  /usr/bin/time -f '%e %M' -o "$2/time" suricata -c "$DIR/suricata.yaml" -r "$1" -S "$DIR/all.rules" \
    --runmode single -l "$2" --set classification-file="$RULES/classification.config" \
    --set mpm-algo=hs --set spm-algo=hs >/dev/null 2>&1
}
edgeward_run() { # capture outdir
  rm -rf "$2"; mkdir -p "$2"
  /usr/bin/time -f '%e %M' -o "$2/time" "$EW" ids --pcap "$1" --rules "$RULES" --eve "$2/eve.json" \
    --stats "$2/stats.json" 2>"$2/log"
}

echo "== captures"
"$GEN" trigger --out "$DIR/trigger.pcap"
"$GEN" bench --flows "$FLOWS" --out "$DIR/packets.pcap"
"$GEN" bytes --flows "$BYTE_FLOWS" --out "$DIR/bytes.pcap"
"$GEN" bench --flows 1 --out "$DIR/empty.pcap"

echo "== trigger capture: alert agreement per flow"
suricata_run "$DIR/trigger.pcap" "$DIR/suri-trigger"
edgeward_run "$DIR/trigger.pcap" "$DIR/ew-trigger"
agree=0
python3 scripts/ids-compare.py "$DIR/suri-trigger/eve.json" "$DIR/ew-trigger/eve.json" || agree=$?
suricata_run "$DIR/empty.pcap" "$DIR/suri-empty"

for cap in packets bytes; do
  echo "== $cap capture: $RUNS alternating runs"
  for i in $(seq 1 "$RUNS"); do
    suricata_run "$DIR/$cap.pcap" "$DIR/suri-$cap-$i"
    edgeward_run "$DIR/$cap.pcap" "$DIR/ew-$cap-$i"
  done
  echo "alert agreement on the $cap capture:"
  python3 scripts/ids-compare.py "$DIR/suri-$cap-1/eve.json" "$DIR/ew-$cap-1/eve.json" | tail -1 || true
done

python3 - "$DIR" "$RUNS" <<'PY'
import json, re, statistics, sys
d, runs = sys.argv[1], int(sys.argv[2])
def suri(name):
    log = open(f"{d}/{name}/suricata.log").read()
    run = float(re.search(r"time elapsed ([0-9.]+)s", log).group(1))
    pk = re.search(r"read 1 file, (\d+) packets, (\d+) bytes", log)
    wall, rss = open(f"{d}/{name}/time").read().split()
    loaded = re.search(r"(\d+) rules successfully loaded, (\d+) rules failed", log)
    return dict(run=run, packets=int(pk.group(1)), bytes=int(pk.group(2)), wall=float(wall), rss_kib=int(rss),
                loaded=int(loaded.group(1)) if loaded else None, failed=int(loaded.group(2)) if loaded else None)
def ew(name):
    e = json.load(open(f"{d}/{name}/stats.json"))
    e["rss_kib"] = int(open(f"{d}/{name}/time").read().split()[1])
    return e
s_empty = suri("suri-empty")
s_load = s_empty["wall"] - s_empty["run"]
first = ew("ew-packets-1")
print(f"rules: suricata {s_empty['loaded']} loaded / {s_empty['failed']} failed; edgeward {first['rules_loaded']} loaded of {first['rules_total']}, skipped {sum(first['rules_skipped'].values())}, errors {first['rules_errors']}")
for cap in ["packets", "bytes"]:
    S = [suri(f"suri-{cap}-{i}") for i in range(1, runs + 1)]
    E = [ew(f"ew-{cap}-{i}") for i in range(1, runs + 1)]
    ratios = sorted(s["run"] / e["seconds"] for s, e in zip(S, E))
    s_pps = statistics.median(s["packets"] / s["run"] for s in S)
    e_pps = statistics.median(e["pps"] for e in E)
    gb = lambda pps, s: pps * s["bytes"] / s["packets"] * 8 / 1e9
    print(f"{cap}: {S[0]['packets']} packets, {S[0]['bytes']/1e6:.0f} MB, {S[0]['bytes']/S[0]['packets']:.0f} B/packet")
    print(f"  throughput (median of {runs}): suricata {s_pps:,.0f} pkt/s {gb(s_pps, S[0]):.2f} Gbit/s; edgeward {e_pps:,.0f} pkt/s {gb(e_pps, S[0]):.2f} Gbit/s")
    print(f"  ratio edgeward/suricata: median {statistics.median(ratios):.2f} (min {ratios[0]:.2f}, max {ratios[-1]:.2f})")
    s_rss = statistics.median(s["rss_kib"] for s in S) / 1024
    e_rss = statistics.median(e["rss_kib"] for e in E) / 1024
    print(f"  peak RSS: suricata {s_rss:.0f} MiB; edgeward {e_rss:.0f} MiB; ratio {e_rss/s_rss:.2f}")
e_load = statistics.median(e["load_seconds"] for e in [ew(f"ew-bytes-{i}") for i in range(1, runs + 1)])
print(f"load time: suricata {s_load:.2f} s; edgeward {e_load:.2f} s; ratio {e_load/s_load:.3f}")
PY
echo "results in $DIR"
exit $agree
