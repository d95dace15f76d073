#!/usr/bin/env bash
# Downloads the Cityscapes fine annotations and left images (an account on cityscapes-dataset.com is needed).
# Documentation for users: run it yourself; nothing in the build or CI runs it.
# Usage: CITYSCAPES_USERNAME=you CITYSCAPES_PASSWORD=secret ./download.sh [TARGET_DIR]      (default ./cityscapes)
set -euo pipefail
target="${1:-cityscapes}"
packages=(gtFine_trainvaltest.zip leftImg8bit_trainvaltest.zip)
mkdir -p "$target"
cd "$target"

if command -v csDownload >/dev/null; then
    # The official tool (pip install cityscapesscripts); it asks for the credentials when they are not in the environment.
    csDownload "${packages[@]}"
else
    : "${CITYSCAPES_USERNAME:?set CITYSCAPES_USERNAME (or pip install cityscapesscripts for csDownload)}"
    : "${CITYSCAPES_PASSWORD:?set CITYSCAPES_PASSWORD}"
    cookies="$(mktemp)"
    trap 'rm -f "$cookies"' EXIT
    wget --keep-session-cookies --save-cookies="$cookies" \
         --post-data "username=${CITYSCAPES_USERNAME}&password=${CITYSCAPES_PASSWORD}&submit=Login" \
         -O /dev/null https://www.cityscapes-dataset.com/login/
    for id in 1 3; do  # 1 = gtFine_trainvaltest.zip, 3 = leftImg8bit_trainvaltest.zip
        wget -c --load-cookies="$cookies" --content-disposition "https://www.cityscapes-dataset.com/file-handling/?packageID=$id"
    done
fi
for p in "${packages[@]}"; do unzip -q -n "$p"; done
echo "Cityscapes in $(pwd): leftImg8bit/{train,val,test}, gtFine/{train,val,test}"
echo "Check it with: man-vision data stats $(pwd) --split val --max-label-images 100"
