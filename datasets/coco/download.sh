#!/usr/bin/env bash
# Downloads COCO 2017 annotations and val images (train images with WITH_TRAIN=1) from the official site.
# Documentation for users: run it yourself; nothing in the build or CI runs it.
# Usage: ./download.sh [TARGET_DIR]      (default ./coco)
set -euo pipefail
target="${1:-coco}"
base="http://images.cocodataset.org"
mkdir -p "$target"
cd "$target"

fetch() {  # fetch URL: download (resumable) and unzip into the current folder
    local url="$1" file
    file="$(basename "$url")"
    if command -v wget >/dev/null; then wget -c "$url" -O "$file"; else curl -fL -C - -o "$file" "$url"; fi
    unzip -q -n "$file"
}

fetch "$base/annotations/annotations_trainval2017.zip"
fetch "$base/zips/val2017.zip"
if [[ "${WITH_TRAIN:-0}" == "1" ]]; then
    fetch "$base/zips/train2017.zip"
fi
echo "COCO 2017 in $(pwd): annotations/instances_{train,val}2017.json, val2017/${WITH_TRAIN:+ train2017/}"
echo "Check it with: man-vision data stats $(pwd) --split val2017"
