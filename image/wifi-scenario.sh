#!/usr/bin/env bash
# The Wi-Fi scenario of image/test.sh, run inside the booted appliance as root (over SSH from
# the management LAN): mac80211_hwsim radios stand in for the box's Wi-Fi card and for client
# devices. The appliance serves two guest SSIDs from the configuration (WPA2 and WPA3-SAE, on
# radio wlan0); each client radio is moved into a network namespace of its own and joined with
# wpa_supplicant, then asks for an address with udhcpc. The third client radio belongs to a
# device the inventory puts on the TSLCD: on Wi-Fi it is an alert and is disconnected. At the end
# the clock is moved past the passphrases' rotation: both are reported overdue, and the network
# set to be blocked when overdue accepts no client. Prints `ok: …` per check, `FAIL: …` and exits
# 1 at the first failure.
# Usage: wifi-scenario.sh INTERNET_HOST STAFF_HOST SERVER_HOST
set -uo pipefail
internet=$1 staff=$2 server=$3
fail() { echo "FAIL: $*"; journalctl -u edgeward -n 30 --no-pager | tail -n 30; exit 1; }
pass() { echo "ok: $*"; }
# The appliance has busybox (udhcpc's) for ping: a missing tool must fail the test, never make
# a "cannot reach" check pass.
for t in awk nsenter iw wpa_supplicant wpa_cli udhcpc curl busybox; do
    command -v "$t" >/dev/null || fail "the appliance lacks $t"
done
busybox ping -c 1 -W 1 127.0.0.1 >/dev/null || fail "busybox ping does not work"
# The pid of the appliance's hostapd for radio0 (no procps on the appliance).
hostapd_pid() {
    local p
    for p in /proc/[0-9]*; do
        tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q '^hostapd /var/lib/edgeward/wifi/radio0.conf' && { echo "${p#/proc/}"; return 0; }
    done
    return 1
}
cfg=/var/lib/edgeward/edgeward.toml
# The CLI's files on the appliance (as in edgeward.service).
export EDGEWARD_CONFIG=$cfg EDGEWARD_STATE_DIR=/var/lib/edgeward
today=$(date -u +%F)
# Events in the appliance's store matching TEXT (kind KIND), as JSON lines.
events() { edgeward logs --key-dir /var/lib/edgeward-keys query --kind "$1" --text "$2" 2>/dev/null; }
# Wait up to 20 s for such an event.
wait_event() {
    for _ in $(seq 20); do events "$1" "$2" | grep -q . && return 0; sleep 1; done
    return 1
}

modprobe mac80211_hwsim radios=4 || fail "mac80211_hwsim: no simulated radios"
for i in 0 1 2 3; do
    for _ in $(seq 30); do [ -e "/sys/class/ieee80211/phy$i" ] && break; sleep 0.2; done
done
[ -e /sys/class/ieee80211/phy3 ] || fail "4 simulated radios expected"
pass "mac80211_hwsim radios=4: phy0 for the appliance, phy1–phy3 for clients"
tslcd_mac=$(cat /sys/class/ieee80211/phy3/macaddress)
# The staff and server hosts the guests must not reach: inventoried (approved) machines, so that
# only the guest policy, not onboarding, keeps guests from them, and the appliance itself can
# show they answer.
mac_of() {
    busybox ping -c 1 -W 2 "$1" >/dev/null 2>&1
    ip neigh show "$1" | sed -n 's/.* lladdr \([0-9a-f:]*\).*/\1/p' | head -1
}
staff_mac=$(mac_of "$staff") server_mac=$(mac_of "$server")
[ -n "$staff_mac" ] && [ -n "$server_mac" ] || fail "the staff ($staff) and server ($server) hosts do not answer ARP"

# The configuration: the guest NIC becomes a bridge the SSIDs join, the guest zone hands out
# addresses, and the box has a radio with two guest networks.
# (The appliance has no Python: awk edits the running file.)
awk -v staff="$staff" -v staff_mac="$staff_mac" '
    held != "" {
        if ($0 == "role = \"guest\"") { print "name = \"guest\""; print; print "ports = [\"guest0\"]"; held = ""; next }
        print held; held = ""
    }
    mac != "" {
        # The inventoried machine at the staff host address is the staff host.
        if ($0 == "ip = \"" staff "\"") print "mac = \"" staff_mac "\""; else print mac
        mac = ""
    }
    !iface && $0 == "name = \"guest0\"" { held = $0; iface = 1; next }
    /^mac = / { mac = $0; next }
    { print }
    !zone && prev == "name = \"guest\"" && $0 ~ /^kind = "guest"/ { print "dhcp = { from = \"10.20.0.100\", to = \"10.20.0.199\" }"; zone = 1 }
    { prev = $0 }
' "$cfg" >/tmp/wifi.toml || fail "cannot write the Wi-Fi configuration"
cat >>/tmp/wifi.toml <<EOF

[[radios]]
name = "radio0"
interface = "wlan0"
channel = 6

[[wifi]]
ssid = "Khach-SoVD"
zone = "guest"
security = "wpa2"
passphrase = "Khach-2026-hoa-sen"
passphrase_changed = "$today"

[[wifi]]
ssid = "Khach-WPA3"
zone = "guest"
security = "wpa3"
passphrase = "Khach-2026-sen-vang"
passphrase_changed = "$today"
block_when_overdue = true

[[devices]]
user = "Kế toán (máy nối TSLCD)"
type = "pc"
brand = "Dell"
serial = "TSLCD-WIFI-0001"
mac = "$tslcd_mac"
zone = "staff"

[[devices]]
user = "Máy chủ (thử nghiệm Wi-Fi)"
type = "server"
brand = "Lab"
serial = "LAB-SRV-0050"
mac = "$server_mac"
ip = "$server"
zone = "servers"
EOF
grep -q '^dhcp = { from = "10.20.0.100"' /tmp/wifi.toml || fail "the guest zone of the running configuration is not the one expected"
grep -q "^mac = \"$staff_mac\"" /tmp/wifi.toml || fail "no inventoried machine at the staff host's address $staff"
grep -q 'ports = \["guest0"\]' /tmp/wifi.toml || fail "the guest interface of the running configuration is not the one expected"
edgeward config check /tmp/wifi.toml >/tmp/check.txt 2>&1 || fail "the Wi-Fi configuration is refused: $(cat /tmp/check.txt)"
edgeward config apply /tmp/wifi.toml --author wifi-test --reason "Wi-Fi test" --no-confirm >/tmp/apply.txt 2>&1 ||
    fail "apply: $(cat /tmp/apply.txt)"
for _ in $(seq 60); do
    [ -S /var/lib/edgeward/wifi/ctrl-radio0/wlan0 ] && [ -S /var/lib/edgeward/wifi/ctrl-radio0/wlan0-1 ] && break
    sleep 1
done
# hostapd runs inside the daemon's sandbox (its own /tmp, where hostapd_cli would wait for the
# reply): ask it from that mount namespace.
ctl() {
    nsenter -t "$(hostapd_pid)" -m -- \
        hostapd_cli -p /var/lib/edgeward/wifi/ctrl-radio0 -i "$1" "${@:2}"
}
for _ in $(seq 30); do [ "$(ctl wlan0 status 2>/dev/null | sed -n 's/^state=//p')" = ENABLED ] && break; sleep 1; done
[ "$(ctl wlan0 status | sed -n 's/^state=//p')" = ENABLED ] || fail "hostapd did not enable wlan0: $(ctl wlan0 status)"
iw dev wlan0-1 info | grep -q "type AP" || fail "wlan0-1 is not an access point: $(iw dev wlan0-1 info)"
stat -c %a /var/lib/edgeward/wifi/wlan0.psk | grep -qx 600 || fail "the PSK file is not 0600"
bridge link show | grep -q "wlan0: .*master guest" || fail "wlan0 is not a port of the guest bridge: $(bridge link show)"
bridge link show | grep -q "wlan0-1: .*master guest" || fail "wlan0-1 is not a port of the guest bridge"
pass "hostapd serves Khach-SoVD (WPA2) on wlan0 and Khach-WPA3 (WPA3-SAE) on wlan0-1, both bridged into the guest zone; PSK file 0600"

# client NAME PHY SSID PASSPHRASE KEY_MGMT: a namespace with that radio and wpa_supplicant.
client() {
    local name=$1 phy=$2 ssid=$3 pass=$4 mgmt=$5
    ip netns add "$name"
    iw phy "$phy" set netns name "$name" || fail "cannot move $phy into $name"
    local dev
    dev=$(ip netns exec "$name" ls /sys/class/net | grep -v lo | head -1)
    ip netns exec "$name" ip link set lo up
    local pmf=0
    [ "$mgmt" = SAE ] && pmf=2
    cat >"/tmp/$name.conf" <<EOC
ctrl_interface=/run/wpa-$name
sae_pwe=2
network={
    ssid="$ssid"
    psk="$pass"
    key_mgmt=$mgmt
    ieee80211w=$pmf
}
EOC
    ip netns exec "$name" wpa_supplicant -B -D nl80211 -i "$dev" -c "/tmp/$name.conf" -P "/run/wpa-$name.pid" >"/tmp/$name.wpa.log" 2>&1 ||
        fail "wpa_supplicant did not start in $name on $dev: $(cat "/tmp/$name.wpa.log")"
    echo "$dev" >"/tmp/$name.dev"
}
state() { ip netns exec "$1" wpa_cli -p "/run/wpa-$1" -i "$(cat "/tmp/$1.dev")" status 2>/dev/null | sed -n 's/^wpa_state=//p'; }
wait_state() {
    local want=$2
    for _ in $(seq "${3:-60}"); do [ "$(state "$1")" = "$want" ] && return 0; sleep 1; done
    return 1
}
# udhcpc's hook: the leased address and default route on the client's interface (the stock
# script would also rewrite the appliance's own resolv.conf).
cat >/tmp/udhcpc-hook.sh <<'EOS'
#!/bin/sh
case $1 in
    deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
    bound | renew)
        ip -4 addr flush dev "$interface"
        ip -4 addr add "$ip/${mask:-24}" dev "$interface"
        [ -n "$router" ] && ip -4 route replace default via "${router%% *}" dev "$interface"
        ;;
esac
exit 0
EOS
chmod +x /tmp/udhcpc-hook.sh
dhcp() {
    ip netns exec "$1" udhcpc -i "$(cat "/tmp/$1.dev")" -n -q -t 8 -T 2 -s /tmp/udhcpc-hook.sh >"/tmp/$1.dhcp" 2>&1
}
addr() { ip netns exec "$1" ip -4 -o addr show dev "$(cat "/tmp/$1.dev")" | awk '{print $4}' | cut -d/ -f1; }

client c-wpa2 phy1 Khach-SoVD Khach-2026-hoa-sen WPA-PSK
client c-wpa3 phy2 Khach-WPA3 Khach-2026-sen-vang SAE
wait_state c-wpa2 COMPLETED || fail "the WPA2 client did not associate (state $(state c-wpa2))"
wait_state c-wpa3 COMPLETED || fail "the WPA3-SAE client did not associate (state $(state c-wpa3))"
pass "a WPA2 client and a WPA3-SAE client associate"
dhcp c-wpa2 || fail "the WPA2 client got no address: $(cat /tmp/c-wpa2.dhcp)"
dhcp c-wpa3 || fail "the WPA3 client got no address: $(cat /tmp/c-wpa3.dhcp)"
a2=$(addr c-wpa2) a3=$(addr c-wpa3)
case "$a2 $a3" in 10.20.0.1[0-9][0-9]\ 10.20.0.1[0-9][0-9]) ;; *) fail "addresses not from the guest zone's range: $a2 $a3" ;; esac
pass "both got addresses from the guest zone by DHCP ($a2, $a3)"

client c-wrong phy3 Khach-SoVD sai-mat-khau-roi WPA-PSK
sleep 15
[ "$(state c-wrong)" != COMPLETED ] || fail "a client with a wrong passphrase associated"
wait_event nac wifi.auth_failed || fail "no wifi.auth_failed event in the store for the wrong passphrase"
pass "a wrong passphrase is refused (state $(state c-wrong)) and recorded as wifi.auth_failed"

# The same radio is an inventoried TSLCD computer (000 §5.6.b): with the right passphrase it
# associates, and is disconnected with an alert.
wcli() { ip netns exec "$1" wpa_cli -p "/run/wpa-$1" -i "$(cat "/tmp/$1.dev")" "${@:2}"; }
wcli c-wrong set_network 0 psk '"Khach-2026-hoa-sen"' >/dev/null
wcli c-wrong reassociate >/dev/null
wait_event nac wifi.tslcd_device || fail "no alert for the TSLCD computer on Wi-Fi"
events system "inventoried on the TSLCD" | grep -q "$tslcd_mac" || fail "the TSLCD alert does not name $tslcd_mac"
for _ in $(seq 20); do events nac wifi.disassociated | grep -q "$tslcd_mac" && break; sleep 1; done
events nac wifi.disassociated | grep -q "$tslcd_mac" || fail "the TSLCD computer was not disconnected"
pass "a TSLCD computer on Wi-Fi ($tslcd_mac) raises an alert and is disconnected"
wcli c-wrong terminate >/dev/null 2>&1

ip netns exec c-wpa2 busybox ping -c 3 -W 2 "$internet" >/dev/null 2>&1 || fail "the guest client does not reach the Internet host $internet"
pass "a guest client reaches the (simulated) Internet ($internet)"
ip netns exec c-wpa2 busybox ping -c 3 -W 2 "$a3" >/dev/null 2>&1 && fail "guest $a2 reaches guest $a3"
pass "two guest clients cannot reach each other"
for t in "$staff" "$server"; do
    # The host is there: the appliance itself reaches it.
    busybox ping -c 2 -W 2 "$t" >/dev/null 2>&1 || fail "internal host $t does not answer the appliance itself"
    ip netns exec c-wpa2 busybox ping -c 2 -W 2 "$t" >/dev/null 2>&1 && fail "the guest client reaches internal host $t"
done
pass "the guest client reaches neither the staff ($staff) nor the server zone ($server)"
curl -sk --max-time 5 https://10.10.99.1/login >/dev/null 2>&1 || fail "the admin UI does not answer the appliance itself"
ip netns exec c-wpa2 curl -sk --max-time 5 https://10.10.99.1/login >/dev/null 2>&1 && fail "the guest client reaches the admin UI"
ip netns exec c-wpa2 curl -sk --max-time 5 https://10.20.0.1/login >/dev/null 2>&1 && fail "the guest client reaches the admin UI on the guest side"
pass "the guest client does not reach the gateway's admin UI"

# Rotation of the WPA2 network's passphrase: reloaded without restarting the radio.
pid_before=$(hostapd_pid)
sed "0,/passphrase = \"Khach-2026-hoa-sen\"/s//passphrase = \"Khach-2027-lua-moi\"/" /tmp/wifi.toml >/tmp/wifi2.toml
edgeward config apply /tmp/wifi2.toml --author wifi-test --reason "rotation" --no-confirm >/tmp/apply.txt 2>&1 ||
    fail "rotation apply: $(cat /tmp/apply.txt)"
for _ in $(seq 30); do grep -q "Khach-2027-lua-moi" /var/lib/edgeward/wifi/wlan0.psk && break; sleep 1; done
sleep 10
[ "$(state c-wpa2)" != COMPLETED ] || fail "the client that kept the old passphrase is still connected"
pass "after the rotation the client on the old passphrase is disconnected"
[ "$(hostapd_pid)" = "$pid_before" ] || fail "hostapd was restarted for a rotation"
[ "$(state c-wpa3)" = COMPLETED ] || fail "the WPA3 client on the other SSID lost its connection"
pass "the radio was not restarted: the WPA3 client on the other SSID stayed connected"
ip netns exec c-wpa2 wpa_cli -p /run/wpa-c-wpa2 -i "$(cat /tmp/c-wpa2.dev)" set_network 0 psk '"Khach-2027-lua-moi"' >/dev/null
ip netns exec c-wpa2 wpa_cli -p /run/wpa-c-wpa2 -i "$(cat /tmp/c-wpa2.dev)" reassociate >/dev/null
wait_state c-wpa2 COMPLETED || fail "the new passphrase is not accepted"
pass "the new passphrase is accepted"

# 004 §7.2: 200 days later both passphrases are overdue. The daemon notices the new day: each is
# an event; Khach-WPA3, set to be blocked when overdue, accepts no client; Khach-SoVD is still
# served.
date -s "+200 days" >/dev/null || fail "cannot move the clock"
for _ in $(seq 30); do
    grep -q "macaddr_acl=1" /var/lib/edgeward/wifi/radio0.conf 2>/dev/null && break
    sleep 1
done
grep -q "macaddr_acl=1" /var/lib/edgeward/wifi/radio0.conf || fail "Khach-WPA3 was not blocked on the new day"
wait_event system "rotation overdue: \`Khach-WPA3\`" || fail "no overdue event for Khach-WPA3"
wait_event system "rotation overdue: \`Khach-SoVD\`" || fail "no overdue event for Khach-SoVD"
events system "rotation overdue: \`Khach-WPA3\`" | grep -q "blocked until" || fail "the overdue event does not say the network is blocked"
wait_state c-wpa2 COMPLETED 90 || fail "the WPA2 client did not come back on the network still served"
sleep 15
[ "$(state c-wpa3)" != COMPLETED ] || fail "a client still uses the blocked network Khach-WPA3"
pass "overdue rotation: an event per network; the one set to block accepts no client, the other is still served"
date -s "-200 days" >/dev/null
echo "wifi scenario passed"
