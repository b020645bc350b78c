#!/usr/bin/env bash
# Build the edgeward appliance image from this repository: image/out/edgeward.raw (GPT, EFI
# system partition with systemd-boot, root file system). One command on a fresh Debian 12
# machine, as root: installs mkosi 24 and its tools from bookworm-backports, builds the daemon in
# release mode, then the image from Debian 12 packages.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")

need=()
command -v mkosi >/dev/null && mkosi --version | grep -q '^mkosi 2[4-9]' || need+=(mkosi)
for t in depmod:kmod cpio:cpio zstd:zstd mkfs.fat:dosfstools mcopy:mtools mkfs.erofs:erofs-utils; do
    command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
[ -e /usr/lib/systemd/boot/efi/systemd-bootx64.efi ] || need+=(systemd-boot systemd-boot-efi)
python3 -c 'import pefile' 2>/dev/null || need+=(python3-pefile)
if [ ${#need[@]} -gt 0 ]; then
    grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/ ||
        echo 'deb http://deb.debian.org/debian bookworm-backports main' >/etc/apt/sources.list.d/backports.list
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports "${need[@]}" >/dev/null
fi

(cd "$repo" && cargo build --release -q -p edgeward-gateway --bin edgeward)

stage="$here/out/stage"
rm -rf "$stage"
install -D -m 0755 "$repo/target/release/edgeward" "$stage/usr/bin/edgeward"
install -D -m 0644 "$repo/profiles/agency-default.toml" "$stage/usr/share/edgeward/edgeward.toml"
install -D -m 0644 "$repo/README.md" "$stage/usr/share/doc/edgeward/README.md"
mkdir -p "$stage/usr/share/edgeward/rules"
cp -r "$("$repo/scripts/et-open.sh")/." "$stage/usr/share/edgeward/rules/"

start=$(date +%s)
cd "$here"
mkosi --extra-tree="$stage" -f build
echo "image: $here/out/edgeward.raw ($(du -h --apparent-size out/edgeward.raw | cut -f1)), built in $(($(date +%s) - start)) s"
