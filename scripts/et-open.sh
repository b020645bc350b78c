#!/usr/bin/env bash
# Print the directory of the ET Open 2024-04-21 ruleset: $EDGEWARD_ET_RULES if set, else the copy
# shipped in ids/rules/, extracted once into target/et-open-2024-04-21.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${EDGEWARD_ET_RULES:-}" ]; then realpath "$EDGEWARD_ET_RULES"; exit 0; fi
dir=target/et-open-2024-04-21
if [ ! -f "$dir/classification.config" ]; then
  mkdir -p target
  tmp=$(mktemp -d target/et-open.XXXX)
  tar -xJf ids/rules/et-open-2024-04-21.tar.xz -C "$tmp"
  rm -rf "$dir"
  mv "$tmp/et-open-2024-04-21" "$dir"
  rmdir "$tmp"
fi
realpath "$dir"
