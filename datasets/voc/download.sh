#!/usr/bin/env bash
# Downloads PASCAL VOC 2007 and/or 2012 from the official server and unpacks them into TARGET_DIR/VOCdevkit/.
# Documentation for users: run it yourself; nothing in the build or CI runs it.
# Usage: ./download.sh [TARGET_DIR] [2007|2012|all]      (default ./voc all)
set -euo pipefail
target="${1:-voc}"
which="${2:-all}"
base="http://host.robots.ox.ac.uk/pascal/VOC"
mkdir -p "$target"
cd "$target"

fetch() {  # fetch URL: download (resumable) and untar into the current folder
    local url="$1" file
    file="$(basename "$url")"
    if command -v wget >/dev/null; then wget -c "$url" -O "$file"; else curl -fL -C - -o "$file" "$url"; fi
    tar -xf "$file"
}

case "$which" in
    2007|all) fetch "$base/voc2007/VOCtrainval_06-Nov-2007.tar"; fetch "$base/voc2007/VOCtest_06-Nov-2007.tar" ;;&
    2012|all) fetch "$base/voc2012/VOCtrainval_11-May-2012.tar" ;;
    2007) ;;
    *) echo "usage: $0 [TARGET_DIR] [2007|2012|all]" >&2; exit 2 ;;
esac
echo "VOC in $(pwd)/VOCdevkit. Check it with: man-vision data stats $(pwd)/VOCdevkit/VOC2012 --split val"
