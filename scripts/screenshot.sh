#!/usr/bin/env bash
# Redraws docs/plan-preview.png, the README's picture of `pushctl plan --format html`: the
# demo's first plan on the embedded emulator, drawn by headless Chromium.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pushctl-shot.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$repo/manifests" "$work/manifests"
cp "$repo/pushctl.yaml" "$work/pushctl.yaml"
cd "$work"
export SHOP_ANDROID_SECRET_KEY=demo-android-secret SHOP_IOS_SECRET_KEY=demo-ios-secret
pushctl emulator clock --db .pushctl/emulator.db --set 2026-11-28T10:00:00+08:00 >/dev/null
pushctl plan -f manifests --format html > plan.html
chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
  --window-size=1100,1500 --screenshot="$repo/docs/plan-preview.png" "file://$work/plan.html" \
  2>/dev/null
echo "wrote docs/plan-preview.png"
