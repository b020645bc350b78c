#!/usr/bin/env bash
# Build the edgeward appliance image from this repository, one command on a fresh Debian 12
# machine as root. It installs mkosi 24 and its tools from bookworm-backports, builds the daemon
# in release mode, then the image from Debian 12 packages. Output in image/out/:
#   edgeward.raw              the disk image to flash (GPT: ESP, root slots A and B, data)
#   edgeward_VERSION.ewu      the same version as a signed update bundle (for boxes in the field)
# VERSION is EDGEWARD_IMAGE_VERSION if set, else MAJOR.MINOR.<commits on this branch>. Bundles
# are signed with the vendor key in EDGEWARD_UPDATE_KEY_DIR (default image/keys/, made on the
# first build; keep the private key off the build machine in production); its public half goes
# into the image as the only key updates are accepted from.
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

(cd "$repo" && cargo build --release -q -p edgeward-gateway --bin edgeward -p edgeward-hub --bin edgeward-hub)
hub="$repo/target/release/edgeward-hub"

if [ -n "${EDGEWARD_IMAGE_VERSION:-}" ]; then
    version=$EDGEWARD_IMAGE_VERSION
else
    base=$(sed -n 's/^version = "\([0-9]*\)\.\([0-9]*\)\..*/\1.\2/p' "$repo/Cargo.toml" | head -1)
    version="$base.$(git -C "$repo" rev-list --count HEAD 2>/dev/null || echo 0)"
fi
keys=${EDGEWARD_UPDATE_KEY_DIR:-$here/keys}
[ -e "$keys/update-signing.key" ] || "$hub" update-key --dir "$keys" >/dev/null

stage="$here/out/stage"
rm -rf "$stage"
install -D -m 0755 "$repo/target/release/edgeward" "$stage/usr/bin/edgeward"
install -D -m 0644 "$repo/profiles/agency-default.toml" "$stage/usr/share/edgeward/edgeward.toml"
install -D -m 0644 "$repo/README.md" "$stage/usr/share/doc/edgeward/README.md"
install -D -m 0644 "$keys/update-signing.pub" "$stage/usr/share/edgeward/update-keys/vendor.pub"
mkdir -p "$stage/usr/share/edgeward/rules"
cp -r "$("$repo/scripts/et-open.sh")/." "$stage/usr/share/edgeward/rules/"

start=$(date +%s)
cd "$here"
# The factory image boots slot A from a unified kernel image named for its version, with the
# try counter in the name (systemd-boot boot counting); updates add entries of their own.
rm -f out/edgeward*
# The root file system is LZ4HC-compressed erofs (smaller slots and update bundles).
mkosi --extra-tree="$stage" --image-version="$version" --output=edgeward \
    -E SYSTEMD_REPART_MKFS_OPTIONS_EROFS=-zlz4hc \
    --unified-kernel-image-format="edgeward_${version}+&c" --split-artifacts=yes -f build

# The update bundle: slot A's file system (cut to its own size), the kernel and the initrd,
# signed. The command line is the image's without root=, which the installer sets per slot.
python3 - out/edgeward.root.raw out/edgeward.root.erofs <<'PY'
import shutil, struct, sys
src, dst = sys.argv[1], sys.argv[2]
with open(src, "rb") as f:
    f.seek(1024)
    sb = f.read(64)
    magic, = struct.unpack_from("<I", sb, 0)
    if magic != 0xE0F5E1E2:
        sys.exit(f"{src}: not an erofs file system")
    size = struct.unpack_from("<I", sb, 36)[0] << sb[12]
    f.seek(0)
    with open(dst, "wb") as out:
        left = size
        while left:
            chunk = f.read(min(left, 1 << 20))
            out.write(chunk)
            left -= len(chunk)
PY
rm -f out/edgeward.root.raw
cmdline=$(sed -n 's/^KernelCommandLine=//p' mkosi.conf | sed 's/root=[^ ]* *//')
"$hub" sign-update --key "$keys/update-signing.key" --version "$version" --cmdline "$cmdline" \
    --root out/edgeward.root.erofs --kernel out/edgeward.vmlinuz --initrd out/edgeward.initrd \
    --out "out/edgeward_$version.ewu" >/dev/null
echo "$version" >out/VERSION
echo "image: $here/out/edgeward.raw ($(du -h --apparent-size out/edgeward.raw | cut -f1)), edgeward $version, built in $(($(date +%s) - start)) s"
echo "update bundle: $here/out/edgeward_$version.ewu ($(du -h --apparent-size "out/edgeward_$version.ewu" | cut -f1))"
