#!/usr/bin/env bash
# Inline IPS benchmark (root): traffic forwarded through a gateway namespace whose FORWARD chain
# queues every packet to NFQUEUE (iptables-nft --queue-balance 0:1, as the daemon does here),
# judged by edgeward's inline workers (`edgeward ids --nfqueue`, the daemon's IPS code) or by
# Suricata 7 in NFQ mode (workers runmode, one thread per queue), with the same ET Open rules
# and HOME_NET, against bare forwarding, in RUNS alternating rounds of the same run:
#   - TCP bulk: iperf3, 10 s;
#   - HTTP mix: wrk (2 threads, 32 connections, 10 s) against nginx, 70 % 1 KiB, 25 % 64 KiB,
#     5 % 1 MiB responses — requests/s, Gbit/s, latency p50/p99 under load;
#   - added latency: ping RTT p50/p99 through the gateway (every packet judged);
#   - packets lost to queue overflow (nfnetlink_queue queue_dropped + user_dropped).
# Fail-open (--queue-bypass, NFQA_CFG_F_FAIL_OPEN) and fail-closed rounds for both engines.
# usage: scripts/bench-ips.sh        env: RUNS (default 3), SECS (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SECS=${SECS:-10}
scripts/setup.sh
RULES=$(scripts/et-open.sh)
cargo build --release -q -p edgeward-gateway
EW=$PWD/target/release/edgeward
DIR=$(mktemp -d /tmp/edgeward-ips-bench.XXXX)
P=ewb$$
C=${P}c G=${P}g S=${P}s
cleanup() {
  for ns in $C $G $S; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}
trap cleanup EXIT
for ns in $C $G $S; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n "$C" link add eth0 type veth peer name lan0 netns "$G"
ip -n "$S" link add eth0 type veth peer name wan0 netns "$G"
ip -n "$C" addr add 10.77.1.2/24 dev eth0; ip -n "$C" link set eth0 up
ip -n "$S" addr add 10.77.2.2/24 dev eth0; ip -n "$S" link set eth0 up
ip -n "$G" addr add 10.77.1.1/24 dev lan0; ip -n "$G" link set lan0 up
ip -n "$G" addr add 10.77.2.1/24 dev wan0; ip -n "$G" link set wan0 up
ip -n "$C" route add default via 10.77.1.1
ip -n "$S" route add default via 10.77.2.1
ip netns exec "$G" sysctl -qw net.ipv4.ip_forward=1

# Server: iperf3 and nginx with three response sizes.
chmod 755 "$DIR"
mkdir -p "$DIR/www"
head -c 1024 /dev/urandom >"$DIR/www/1k"
head -c 65536 /dev/urandom >"$DIR/www/64k"
head -c 1048576 /dev/urandom >"$DIR/www/1m"
cat >"$DIR/nginx.conf" <<EOF
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 100000;
  server { listen 10.77.2.2:80; root $DIR/www; }
}
EOF
ip netns exec "$S" nginx -c "$DIR/nginx.conf"
ip netns exec "$S" iperf3 -s -D -B 10.77.2.2 >/dev/null
cat >"$DIR/mix.lua" <<'EOF'
request = function()
  local r = math.random(100)
  local path = "/1k"
  if r > 95 then path = "/1m" elseif r > 70 then path = "/64k" end
  return wrk.format("GET", path)
end
EOF

# Suricata: its own configuration with EVE reduced to alerts, as in scripts/bench-ids.sh.
cat "$RULES"/*.rules >"$DIR/all.rules"
python3 scripts/suricata-config.py "$DIR/suricata.yaml"

queue_rule() { # open|closed|none
  ip netns exec "$G" iptables-nft -F FORWARD
  case $1 in
    open) ip netns exec "$G" iptables-nft -A FORWARD -j NFQUEUE --queue-balance 0:1 --queue-bypass ;;
    closed) ip netns exec "$G" iptables-nft -A FORWARD -j NFQUEUE --queue-balance 0:1 ;;
  esac
}
overflows() { # queue_dropped + user_dropped of queues 0 and 1 (lost when the queue closes: read before)
  ip netns exec "$G" cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | awk '$1<2 {s+=$6+$7} END {print s+0}'
}
ENGINE_PID=
start_engine() { # name policy outdir
  local name=$1 policy=$2 out=$3
  mkdir -p "$out"
  case $name in
    edgeward)
      local extra=()
      [ "$policy" = closed ] && extra=(--fail-closed)
      ip netns exec "$G" "$EW" ids --nfqueue 0:1 --rules "$RULES" --home-net 10.77.0.0/16 \
        --eve "$out/eve.json" --stats "$out/stats.json" "${extra[@]}" 2>"$out/log" &
      ENGINE_PID=$!
      for _ in $(seq 1 600); do grep -q "judging NFQUEUE" "$out/log" 2>/dev/null && break; sleep 0.1; done
      ;;
    suricata)
      local fo=no
      [ "$policy" = open ] && fo=yes
      ip netns exec "$G" suricata -c "$DIR/suricata.yaml" -q 0 -q 1 --runmode workers -S "$DIR/all.rules" \
        -l "$out" --set classification-file="$RULES/classification.config" --set mpm-algo=hs --set spm-algo=hs \
        --set "vars.address-groups.HOME_NET=[10.77.0.0/16]" --set nfq.fail-open=$fo --set nfq.batchcount=20 \
        >"$out/stdout" 2>&1 &
      ENGINE_PID=$!
      for _ in $(seq 1 1200); do grep -q "Engine started" "$out/suricata.log" 2>/dev/null && break; sleep 0.1; done
      ;;
  esac
  sleep 1
}
stop_engine() {
  if [ -n "$ENGINE_PID" ]; then kill -INT "$ENGINE_PID" 2>/dev/null || true; wait "$ENGINE_PID" 2>/dev/null || true; fi
  ENGINE_PID=
}
measure() { # outdir
  local out=$1
  ip netns exec "$C" ping -c 300 -i 0.005 -q 10.77.2.2 >/dev/null 2>&1 || true # warm-up
  ip netns exec "$C" ping -c 500 -i 0.005 10.77.2.2 2>/dev/null | awk -F'time=' '/time=/{split($2,a," "); print a[1]}' >"$out/rtt"
  ip netns exec "$C" iperf3 -c 10.77.2.2 -t "$SECS" -J >"$out/iperf.json" 2>/dev/null || true
  ip netns exec "$C" wrk -t2 -c32 -d"${SECS}s" --latency -s "$DIR/mix.lua" http://10.77.2.2/ >"$out/wrk.txt" 2>&1 || true
  overflows >"$out/overflows"
}

for policy in open closed; do
  for i in $(seq 1 "$RUNS"); do
    for engine in bare edgeward suricata; do
      out="$DIR/$policy-$engine-$i"
      mkdir -p "$out"
      if [ $engine = bare ]; then
        [ "$policy" = closed ] && continue
        queue_rule none
      else
        queue_rule "$policy"
        start_engine $engine "$policy" "$out"
      fi
      echo "== $policy $engine round $i"
      measure "$out"
      stop_engine
      queue_rule none
    done
  done
done

python3 - "$DIR" "$RUNS" <<'PY'
import json, re, statistics, sys
d, runs = sys.argv[1], int(sys.argv[2])
def unit(v, u):
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[u]
def read(name):
    r = {}
    try:
        j = json.load(open(f"{d}/{name}/iperf.json"))
        r["tcp_gbps"] = j["end"]["sum_received"]["bits_per_second"] / 1e9
    except Exception:
        r["tcp_gbps"] = 0.0
    w = open(f"{d}/{name}/wrk.txt").read()
    m = re.search(r"Requests/sec:\s+([0-9.]+)", w); r["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Transfer/sec:\s+([0-9.]+)(\w+)", w)
    mult = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
    r["http_gbps"] = float(m.group(1)) * mult.get(m.group(2), 1) * 8 / 1e9 if m else 0.0
    for q in ("50", "99"):
        m = re.search(rf"\s{q}%\s+([0-9.]+)(us|ms|s)", w)
        r[f"http_p{q}_ms"] = unit(m.group(1), m.group(2)) if m else float("nan")
    rtt = sorted(float(x) for x in open(f"{d}/{name}/rtt").read().split())
    r["rtt_p50_ms"] = rtt[len(rtt) // 2] if rtt else float("nan")
    r["rtt_p99_ms"] = rtt[int(len(rtt) * 0.99)] if rtt else float("nan")
    r["overflows"] = int(open(f"{d}/{name}/overflows").read().strip() or 0)
    try:
        r["verdict_us"] = json.load(open(f"{d}/{name}/stats.json"))["verdict_latency_us"]
    except Exception:
        pass
    return r
med = lambda xs: statistics.median(xs)
bare = [read(f"open-bare-{i}") for i in range(1, runs + 1)]
print(f"## inline IPS through a gateway namespace, ET Open, median of {runs} alternating rounds")
b = {k: med([x[k] for x in bare]) for k in ("tcp_gbps", "rps", "http_gbps", "rtt_p50_ms", "rtt_p99_ms")}
print(f"bare forwarding: TCP {b['tcp_gbps']:.2f} Gbit/s; HTTP {b['rps']:.0f} req/s {b['http_gbps']:.2f} Gbit/s; ping p50 {b['rtt_p50_ms']:.3f} ms p99 {b['rtt_p99_ms']:.3f} ms")
for policy in ("open", "closed"):
    E = [read(f"{policy}-edgeward-{i}") for i in range(1, runs + 1)]
    S = [read(f"{policy}-suricata-{i}") for i in range(1, runs + 1)]
    print(f"### fail-{policy}")
    for name, R in (("edgeward", E), ("suricata", S)):
        m = {k: med([x[k] for x in R]) for k in R[0] if k != "verdict_us"}
        extra = f"; verdict latency p50/p99 {R[0]['verdict_us']['p50']}/{R[0]['verdict_us']['p99']} µs (per batch)" if "verdict_us" in R[0] else ""
        print(f"{name:9}: TCP {m['tcp_gbps']:.2f} Gbit/s; HTTP {m['rps']:.0f} req/s {m['http_gbps']:.2f} Gbit/s, latency p50 {m['http_p50_ms']:.2f} ms p99 {m['http_p99_ms']:.2f} ms; ping p50 {m['rtt_p50_ms']:.3f} ms p99 {m['rtt_p99_ms']:.3f} ms; queue overflows {sum(x['overflows'] for x in R)}{extra}")
    tcp = sorted(e["tcp_gbps"] / s["tcp_gbps"] for e, s in zip(E, S) if s["tcp_gbps"] > 0)
    http = sorted(e["rps"] / s["rps"] for e, s in zip(E, S) if s["rps"] > 0)
    hb = sorted(e["http_gbps"] / s["http_gbps"] for e, s in zip(E, S) if s["http_gbps"] > 0)
    if tcp and http:
        print(f"ratio edgeward/suricata: TCP median {med(tcp):.2f} (min {tcp[0]:.2f}, max {tcp[-1]:.2f}); HTTP req/s median {med(http):.2f} (min {http[0]:.2f}, max {http[-1]:.2f}); HTTP bytes median {med(hb):.2f}")
PY
echo "results in $DIR"
