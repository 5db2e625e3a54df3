#!/usr/bin/env bash
# Post BODY_FILE on the pull request, replacing the earlier comment that carries the same
# hidden marker (its first line), so each pull request keeps one pushctl comment.
# Needs GH_TOKEN (pull-requests: write), GITHUB_REPOSITORY, the gh CLI, and the pull request's
# number: PR_NUMBER, else the one in the event payload at GITHUB_EVENT_PATH.
set -euo pipefail
: "${BODY_FILE:?}" "${GITHUB_REPOSITORY:?}"
if [[ -z ${PR_NUMBER:-} ]]; then
  PR_NUMBER=$(python3 -c 'import json, os, sys
event = json.load(open(os.environ["GITHUB_EVENT_PATH"], encoding="utf-8"))
sys.stdout.write(str((event.get("pull_request") or {}).get("number", "")))')
fi
[[ -n $PR_NUMBER ]] || { echo "::warning::not a pull request: no comment posted"; exit 0; }
marker=$(head -n 1 "$BODY_FILE")
comments="repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments"
existing=$(gh api --paginate "$comments" \
  --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | tail -n 1)
if [[ -n $existing ]]; then
  gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$existing" -F "body=@$BODY_FILE" >/dev/null
  echo "Updated comment $existing."
else
  gh api --method POST "$comments" -F "body=@$BODY_FILE" >/dev/null
  echo "Posted a new comment."
fi
