#!/usr/bin/env bash
# IDS benchmark against Suricata 7 in one run, on the same captures and the same rules:
#   rules loaded/skipped, per-flow SID agreement on the trigger capture, and on the bench
#   capture throughput (packets/s, Gbit/s, load time excluded), load time and peak memory as
#   edgeward/Suricata ratios.
# usage: scripts/bench-ids.sh [FLOWS]   (default 20000 conversations ≈ 400k packets)
# env: EDGEWARD_ET_RULES (default: the copy shipped in ids/rules/, see scripts/et-open.sh), BENCH_DIR (default a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
FLOWS=${1:-20000}
RULES=$(scripts/et-open.sh)
DIR=${BENCH_DIR:-$(mktemp -d /tmp/edgeward-ids-bench.XXXX)}
mkdir -p "$DIR"
cargo build --release -q -p edgeward-gateway -p edgeward-traffic
EW=target/release/edgeward
GEN=target/release/edgeward-traffic
cat "$RULES"/*.rules > "$DIR/all.rules"

suricata_run() { # capture outdir
  rm -rf "$2"; mkdir -p "$2"
  /usr/bin/time -f '%e %M' -o "$2/time" suricata -r "$1" -S "$DIR/all.rules" -k none --runmode single \
    -l "$2" --set classification-file="$RULES/classification.config" \
    --set mpm-algo=hs --set spm-algo=hs >/dev/null 2>&1
}
edgeward_run() { # capture outdir
  rm -rf "$2"; mkdir -p "$2"
  /usr/bin/time -f '%e %M' -o "$2/time" "$EW" ids --pcap "$1" --rules "$RULES" --eve "$2/eve.json" \
    --stats "$2/stats.json" 2>"$2/log"
}

echo "== captures"
"$GEN" trigger --out "$DIR/trigger.pcap"
"$GEN" bench --flows "$FLOWS" --out "$DIR/bench.pcap"
"$GEN" bench --flows 1 --out "$DIR/empty.pcap"

echo "== trigger capture: alert agreement per flow"
suricata_run "$DIR/trigger.pcap" "$DIR/suri-trigger"
edgeward_run "$DIR/trigger.pcap" "$DIR/ew-trigger"
agree=0
python3 scripts/ids-compare.py "$DIR/suri-trigger/eve.json" "$DIR/ew-trigger/eve.json" || agree=$?

echo "== bench capture: throughput, load, memory"
suricata_run "$DIR/empty.pcap" "$DIR/suri-empty"
suricata_run "$DIR/bench.pcap" "$DIR/suri-bench"
edgeward_run "$DIR/bench.pcap" "$DIR/ew-bench"
python3 scripts/ids-compare.py "$DIR/suri-bench/eve.json" "$DIR/ew-bench/eve.json" | tail -1 || true

python3 - "$DIR" <<'PY'
import json, re, sys
d = sys.argv[1]
def suri(name):
    log = open(f"{d}/{name}/suricata.log").read()
    run = float(re.search(r"time elapsed ([0-9.]+)s", log).group(1))
    pk = re.search(r"read 1 file, (\d+) packets, (\d+) bytes", log)
    wall, rss = open(f"{d}/{name}/time").read().split()
    loaded = re.search(r"(\d+) rules successfully loaded, (\d+) rules failed", log)
    return dict(run=run, packets=int(pk.group(1)), bytes=int(pk.group(2)), wall=float(wall), rss_kib=int(rss),
                loaded=int(loaded.group(1)) if loaded else None, failed=int(loaded.group(2)) if loaded else None)
s_empty, s = suri("suri-empty"), suri("suri-bench")
e = json.load(open(f"{d}/ew-bench/stats.json"))
e_wall, e_rss = open(f"{d}/ew-bench/time").read().split()
s_pps = s["packets"] / s["run"]
s_gbps = s["bytes"] * 8 / s["run"] / 1e9
s_load = s_empty["wall"] - s_empty["run"]
print(f"rules: suricata {s['loaded']} loaded / {s['failed']} failed; edgeward {e['rules_loaded']} loaded of {e['rules_total']}, skipped {sum(e['rules_skipped'].values())} {e['rules_skipped']}, errors {e['rules_errors']}")
print(f"packets: {s['packets']} ({s['bytes']/1e6:.1f} MB)")
print(f"throughput: suricata {s_pps:,.0f} pkt/s {s_gbps:.2f} Gbit/s ({s['run']:.2f} s); edgeward {e['pps']:,.0f} pkt/s {e['gbps']:.2f} Gbit/s ({e['seconds']:.2f} s); ratio {e['pps']/s_pps:.2f}")
print(f"load time: suricata {s_load:.2f} s; edgeward {e['load_seconds']:.2f} s; ratio {e['load_seconds']/s_load:.3f}")
print(f"peak RSS: suricata {s['rss_kib']/1024:.0f} MiB; edgeward {int(e_rss)/1024:.0f} MiB; ratio {int(e_rss)/s['rss_kib']:.2f}")
PY
echo "results in $DIR"
exit $agree
