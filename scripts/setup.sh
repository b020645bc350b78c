#!/usr/bin/env bash
# Install every system package edgeward's build, lab and tests need (Debian 12, as root).
# Idempotent: packages already present are left alone.
set -euo pipefail
# chromium + chromium-driver + python3-selenium: the browser test of the admin UI (fonts-dejavu-core
# renders Vietnamese); openssl: TLS version checks against the admin UI; libhyperscan-dev: the IDS
# prefilters (the same libhs Suricata links); python3-yaml: the IDS benchmark's Suricata config;
# iptables (iptables-nft): NFQUEUE for the inline IPS where nft has no `queue`; nmap and hping3:
# the scan and flood attacks of the IDS lab tests; nginx-light and wrk: the HTTP mix of the
# inline IPS benchmark; isc-dhcp-client: lab hosts that ask for an address (dhclient); ieee-data: the OUI registry naming a device's maker; dnsmasq-utils: dhcp_release, which frees a removed device's lease; chrony: the gateway's NTP client and server (the lab runs it with -x, never setting this machine's clock); openssh-server and openssh-client: SSH to the gateway when the model turns it on (keys only); hostapd: the Wi-Fi access point, whose rendered configurations the unit tests check with `hostapd -dd` (driver=none).
PKGS=(nftables iproute2 dnsmasq-base iputils-ping curl iperf3 tcpdump conntrack procps psmisc ca-certificates rsyslog rsyslog-gnutls
      chromium chromium-driver python3-selenium fonts-dejavu-core openssl libhyperscan-dev python3-yaml iptables
      nmap hping3 nginx-light wrk isc-dhcp-client ieee-data unzip dnsmasq-utils chrony openssh-server openssh-client hostapd)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  # Packages with services (rsyslog, chrony, ssh) must not start them on this machine: the lab runs its own.
  guard=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; guard=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$guard" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
# Suricata 7 (the IDS edgeward's engine is compared against) comes from bookworm-backports.
if ! command -v suricata >/dev/null || ! suricata -V 2>/dev/null | grep -q 'version 7'; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install suricata 7" >&2
    exit 1
  fi
  . /etc/os-release
  if ! grep -rqs "${VERSION_CODENAME}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deb http://deb.debian.org/debian ${VERSION_CODENAME}-backports main" > /etc/apt/sources.list.d/backports.list
  fi
  echo "setup: installing suricata from ${VERSION_CODENAME}-backports"
  apt-get update -qq
  guard=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; guard=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t "${VERSION_CODENAME}-backports" suricata >/dev/null
  if [ "$guard" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  # The package's service must not run on the developer's machine or CI.
  systemctl disable --now suricata >/dev/null 2>&1 || true
fi
command -v cargo >/dev/null || { echo "setup: cargo (Rust 1.85+) is required" >&2; exit 1; }
