#!/usr/bin/env bash
# Open an issue saying live push tasks drifted from the manifests, or update the open one.
# Needs GH_TOKEN (issues: write), BODY_FILE (the plan Markdown) and the gh CLI.
set -euo pipefail
: "${BODY_FILE:?}"
title=${DRIFT_TITLE:-"pushctl: live push tasks differ from the manifests"}
number=$(gh issue list --state open --search "\"$title\" in:title" --json number,title \
  --jq ".[] | select(.title == \"$title\") | .number" | head -n 1)
if [[ -n $number ]]; then
  gh issue edit "$number" --body-file "$BODY_FILE" >/dev/null
  echo "Updated issue #$number."
else
  gh issue create --title "$title" --body-file "$BODY_FILE" >/dev/null
  echo "Opened an issue."
fi
