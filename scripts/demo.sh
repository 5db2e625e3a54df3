#!/usr/bin/env bash
# The story of a fix, end to end, on the embedded TPNS emulator:
# validate -> plan -> apply -> plan (empty); then a bad link is overridden and a scheduled
# campaign cancelled, with the audit trail; last, a link policy that would have caught the typo.
# Runs in a scratch copy of manifests/.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pushctl-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$repo/manifests" "$work/manifests"
cp -r "$repo/manifests" "$work/before-fix"
cp "$repo/pushctl.yaml" "$work/pushctl.yaml"
cd "$work"
export SHOP_ANDROID_SECRET_KEY=demo-android-secret SHOP_IOS_SECRET_KEY=demo-ios-secret

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s==> %s%s\n$ %s\n' "$bold" "$1" "$plain" "$2"; }
run() { step "$1" "${*:2}"; "${@:2}"; }
# A step whose command must refuse (exit non-zero); the demo stops if it does not.
refused() { step "$1" "${*:2}"; if "${@:2}"; then echo "expected a refusal" >&2; exit 1; fi; }

# The emulator's clock is pinned so the story reads the same on any day.
pushctl emulator clock --db .pushctl/emulator.db --set 2026-11-28T10:00:00+08:00 >/dev/null

run "Check the manifests (no TPNS call)" pushctl validate -f manifests
run "What would change?" pushctl plan -f manifests --out plan.json
run "Make exactly those calls" pushctl apply plan.json
run "Nothing is left to do" pushctl plan -f manifests --detailed-exitcode

printf '\n%s==> Support reports: the flash-sale link has a typo (exmaple.com).%s\n' "$bold" "$plain"
printf 'Declare an override with the fixed link, and cancel tomorrow'"'"'s teaser until it is reviewed.\n'
cp "$repo/scripts/demo-fix.yaml" manifests/campaigns/black-friday.yaml
run "Review the fix" pushctl plan -f manifests --out fix.json
run "Apply the fix" pushctl apply fix.json
run "Converged" pushctl plan -f manifests --detailed-exitcode
run "Who did what, and when" pushctl audit log
run "The audit chain is intact" pushctl audit verify

printf '\n%s==> Could a machine have caught the typo before review?%s\n' "$bold" "$plain"
printf 'A policy in pushctl.yaml: links may open example.com and its subdomains only.\n'
cp "$repo/scripts/demo-policy.yaml" policy.yaml
refused "The manifests as first reviewed, against the policy" \
  pushctl --config policy.yaml validate -f before-fix
run "The fixed manifests keep it" pushctl --config policy.yaml validate -f manifests
