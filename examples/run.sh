#!/usr/bin/env bash
# Run one example's story on the embedded TPNS emulator, in a scratch folder:
# apply before/, then plan and apply after/, then check that a fresh plan is empty.
# Usage: examples/run.sh fix-bad-link | cancel-scheduled-campaign | stop-running-push
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=${1:?usage: examples/run.sh EXAMPLE}
src="$here/$name"
[ -d "$src/before" ] || { echo "no example named $name" >&2; exit 64; }
work=$(mktemp -d "${TMPDIR:-/tmp}/pushctl-example.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$src/pushctl.yaml" "$work/"
mkdir "$work/manifests"
cp "$src"/before/*.yaml "$work/manifests/"
cd "$work"
export SHOP_ANDROID_SECRET_KEY=example-secret

show() { printf '\n$ %s\n' "$*"; "$@"; }
pushctl emulator clock --db .pushctl/emulator.db --set "$(cat "$src/clock")" >/dev/null
show pushctl apply -f manifests --auto-approve
cp "$src"/after/*.yaml manifests/
show pushctl plan -f manifests --out plan.json
show pushctl apply plan.json
show pushctl plan -f manifests --detailed-exitcode
