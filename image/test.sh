#!/usr/bin/env bash
# Boot the built image under qemu (software emulation, `-accel tcg`) and check it: it boots to
# the console prompt without a first-boot wizard, the admin UI answers on the management
# interface (mgmt0, through a qemu user-network port forward), the health check passes and
# systemd-bless-boot marks the boot good. Slow (a minute or more): kept out of scripts/test.sh.
# Usage: image/test.sh [IMAGE]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=${1:-$here/out/edgeward.raw}
[ -e "$image" ] || { echo "no image at $image: run image/build.sh first" >&2; exit 1; }
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v curl >/dev/null || need+=(curl)
[ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] || need+=(ovmf)
[ ${#need[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
work=$(mktemp -d)
qemu_pid=
cleanup() { [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$work/vars.fd"
start_ms=$(($(date +%s%N) / 1000000))
since_start() { local ms=$(($(date +%s%N) / 1000000 - start_ms)); printf '%d.%01d s' $((ms / 1000)) $((ms % 1000 / 100)); }
# mgmt0 is the NIC with MAC 52:54:00:ed:00:01 (the qemu box profile); the user network is the
# management LAN 10.10.99.0/24 with the host as 10.10.99.2, an admin workstation.
qemu-system-x86_64 -accel tcg -m 2048 -smp 2 -nographic \
    -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
    -drive if=pflash,format=raw,file="$work/vars.fd" \
    -drive file="$image",format=raw,if=virtio,snapshot=on \
    -nic user,model=virtio-net-pci,mac=52:54:00:ed:00:01,net=10.10.99.0/24,host=10.10.99.2,dhcpstart=10.10.99.100,hostfwd=tcp:127.0.0.1:$port-10.10.99.1:443 \
    >"$work/console.log" 2>&1 </dev/null &
qemu_pid=$!
fail() { echo "FAIL: $*"; echo "--- console (last 40 lines)"; tail -n 40 "$work/console.log" | sed 's/\x1b\[[0-9;]*m//g'; exit 1; }
pass() { echo "ok: $*"; }

deadline=$((SECONDS + 240))
until grep -q "edgeward login:" "$work/console.log"; do
    [ $SECONDS -lt $deadline ] || fail "no login prompt within 240 s"
    kill -0 "$qemu_pid" 2>/dev/null || fail "qemu exited"
    sleep 1
done
pass "booted to the console prompt ($(since_start) after power-on)"

until curl -sk --max-time 3 -o "$work/login.html" "https://127.0.0.1:$port/login"; do
    [ $SECONDS -lt $deadline ] || fail "the admin UI did not answer on mgmt0 within 240 s"
    sleep 2
done
grep -qi "edgeward\|đăng nhập" "$work/login.html" || fail "the answer on mgmt0 is not the admin UI's login page"
pass "admin UI answers on mgmt0 ($(since_start) after power-on: UI ready)"

deadline=$((SECONDS + 120))
until grep -q "edgeward health: daemon running" "$work/console.log"; do
    [ $SECONDS -lt $deadline ] || fail "the health check did not pass within 120 s of UI ready"
    sleep 1
done
pass "health check passed (daemon running, firewall applied, admin UI answering)"
until grep -qi "Mark the Current Boot Loader Entry as Good\|marked boot as good" "$work/console.log"; do
    [ $SECONDS -lt $deadline ] || fail "the boot was not blessed (systemd-bless-boot)"
    sleep 1
done
pass "boot blessed: systemd-bless-boot ran after boot-complete.target"

grep -q "Please configure your system" "$work/console.log" && fail "a first-boot wizard waits on the console"
pass "no first-boot wizard on the console"
echo "all image checks passed"
