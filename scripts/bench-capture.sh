#!/usr/bin/env bash
# Passive IDS benchmark (root): the highest packet rate the AF_PACKET path holds with 0 kernel
# drops — edgeward's capture workers (`edgeward ids --interface`, the daemon's IDS-mode code,
# one worker per core, TPACKET_V3 rings in a fanout group) against Suricata 7 in af-packet mode
# (workers runmode, one thread per core, cluster_flow), same ET Open rules and HOME_NET, same
# veth interface. A capture (the byte-heavy or the packet-heavy benchmark capture) is replayed
# by tcpreplay at increasing rates into a namespace whose interface both engines watch; after
# each step the engine's kernel-drop counter is read (edgeward: its stats file; Suricata:
# `suricatasc dump-counters`). The last rate with no new drop is the engine's figure.
# usage: scripts/bench-capture.sh [packets|bytes]   env: RATES (pps list), SECS per step (5)
set -euo pipefail
cd "$(dirname "$0")/.."
KIND=${1:-bytes}
RATES=${RATES:-"100000 140000 180000 200000 230000 260000 300000 350000 420000 540000"}
SECS=${SECS:-5}
scripts/setup.sh
if ! command -v tcpreplay >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tcpreplay >/dev/null
fi
RULES=$(scripts/et-open.sh)
cargo build --release -q -p edgeward-gateway -p edgeward-traffic
EW=$PWD/target/release/edgeward
DIR=$(mktemp -d /tmp/edgeward-capture-bench.XXXX)
chmod 755 "$DIR"
P=ewc$$
S=${P}s R=${P}r
cleanup() {
  for ns in $S $R; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}
trap cleanup EXIT
ip netns add "$S"; ip netns add "$R"
ip -n "$S" link add tx0 type veth peer name rx0 netns "$R"
ip -n "$S" link set tx0 up; ip -n "$R" link set rx0 up
case $KIND in
  bytes) target/release/edgeward-traffic bytes --flows 300 --out "$DIR/cap.pcap" ;;
  packets) target/release/edgeward-traffic bench --flows 8000 --out "$DIR/cap.pcap" ;;
esac
cat "$RULES"/*.rules >"$DIR/all.rules"
python3 scripts/suricata-config.py "$DIR/suricata.yaml" --unix-socket "$DIR/suricata.sock" --af-packet rx0

drops() { # engine
  case $1 in
    edgeward) python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["kernel_drops"])' "$DIR/ew-stats.json" 2>/dev/null || echo 0 ;;
    suricata) suricatasc -c dump-counters "$DIR/suricata.sock" 2>/dev/null \
      | python3 -c 'import json,sys; m=json.load(sys.stdin)["message"]; print(m["capture"]["kernel_drops"])' 2>/dev/null || echo 0 ;;
  esac
}
PID=
start() { # engine
  case $1 in
    edgeward)
      ip netns exec "$R" "$EW" ids --interface rx0 --rules "$RULES" --home-net 10.0.0.0/8 \
        --eve "$DIR/ew-eve.json" --stats "$DIR/ew-stats.json" 2>"$DIR/ew.log" &
      PID=$!
      for _ in $(seq 1 600); do grep -q "watching rx0" "$DIR/ew.log" 2>/dev/null && break; sleep 0.1; done
      sleep 2 ;;
    suricata)
      ip netns exec "$R" suricata -c "$DIR/suricata.yaml" --af-packet -S "$DIR/all.rules" --runmode workers \
        -l "$DIR" --set classification-file="$RULES/classification.config" --set mpm-algo=hs --set spm-algo=hs \
        --set "vars.address-groups.HOME_NET=[10.0.0.0/8]" >"$DIR/suri.out" 2>&1 &
      PID=$!
      for _ in $(seq 1 1200); do grep -q "Engine started" "$DIR/suricata.log" 2>/dev/null && break; sleep 0.1; done
      sleep 2 ;;
  esac
}
stop() { kill -INT "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }

PACKETS=$(tcpdump -r "$DIR/cap.pcap" -qn 2>/dev/null | wc -l)
echo "capture: $KIND, $PACKETS packets"
for engine in edgeward suricata; do
  start $engine
  best=0
  for rate in $RATES; do
    before=$(drops $engine)
    limit=$((rate * SECS))
    ip netns exec "$S" tcpreplay -q --pps="$rate" --loop=0 --limit="$limit" -i tx0 "$DIR/cap.pcap" >"$DIR/replay-$engine-$rate.txt" 2>&1 || true
    sleep 2
    after=$(drops $engine)
    actual=$(grep -oE "Rated: [0-9.]+ Bps, [0-9.]+ Mbps, [0-9.]+ pps" "$DIR/replay-$engine-$rate.txt" | grep -oE "[0-9.]+ pps" | cut -d' ' -f1)
    echo "$engine: $rate pps asked (${actual:-?} sent): kernel drops +$((after - before))"
    # The rate tcpreplay reached (it tops out around one core's worth), not the one asked.
    if [ "$((after - before))" -eq 0 ]; then best=${actual:-$rate}; else break; fi
  done
  echo "$engine: highest rate with 0 kernel drops: $best pps (first drops at ${actual:-?} pps sent)" | tee -a "$DIR/result"
  stop
done
cat "$DIR/result"
echo "results in $DIR"
