#!/usr/bin/env bash
# Post BODY_FILE on the pull request, replacing the earlier comment that carries the same
# hidden marker (its first line), so each pull request keeps one pushctl comment.
# Needs GH_TOKEN (pull-requests: write), GITHUB_REPOSITORY, PR_NUMBER and the gh CLI.
set -euo pipefail
: "${BODY_FILE:?}" "${PR_NUMBER:?}" "${GITHUB_REPOSITORY:?}"
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
