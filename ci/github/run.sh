#!/usr/bin/env bash
# The pushctl action's main step: run pushctl, then write the step outputs, the job summary and
# the pull-request comment body. Runs outside GitHub too: point GITHUB_OUTPUT and
# GITHUB_STEP_SUMMARY at scratch files and set the INPUT_* variables (see action.yml).
#
# Exit status: pushctl's, except that "changes present" (2) is a success; the exit-code output
# keeps the raw code.
set -uo pipefail

command=${INPUT_COMMAND:-plan}
plan_file=${INPUT_PLAN_FILE:-plan.json}
work=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/pushctl-action.$$
mkdir -p "$work"
comment_file="$work/comment.md"
: "${GITHUB_OUTPUT:?set GITHUB_OUTPUT to a file}" "${GITHUB_STEP_SUMMARY:?set GITHUB_STEP_SUMMARY to a file}"

read -r -a paths <<<"${INPUT_PATHS:-manifests}"
files=()
for path in "${paths[@]}"; do files+=(-f "$path"); done
global=()
if [[ -n ${INPUT_CONFIG:-} ]]; then global+=(--config "$INPUT_CONFIG"); fi
if [[ -n ${INPUT_STATE:-} ]]; then export PUSHCTL_STATE="$INPUT_STATE"; fi
export NO_COLOR=1
marker="<!-- pushctl:${INPUT_COMMENT_KEY:-plan} -->"

pushctl() { "${PUSHCTL_BIN:-pushctl}" "$@"; }
output() { printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"; }

plan_digest() {
  # The digest of the plan's seal (what apply checks); else the SHA-256 of the file's bytes.
  python3 - "$1" <<'PY'
import hashlib, json, sys
raw = open(sys.argv[1], "rb").read()
try:
    document = json.loads(raw)
except ValueError:
    document = {}
seal = document.get("seal") if isinstance(document, dict) else None
digest = seal.get("digest") if isinstance(seal, dict) else None
print(digest if isinstance(digest, str) and digest else "sha256:" + hashlib.sha256(raw).hexdigest())
PY
}

fenced() { printf '```text\n'; sed 's/```/` ` `/g' "$1"; printf '```\n'; }

run_validate() {
  # Annotations go to stdout, where the runner turns them into file:line marks on the diff.
  pushctl "${global[@]}" validate "${files[@]}" --format github
  local code=$?
  if ((code != 0)); then
    pushctl "${global[@]}" validate "${files[@]}" --format text >"$work/validate.txt" 2>&1
    {
      printf '%s\n### pushctl: the manifests are invalid\n\n' "$marker"
      fenced "$work/validate.txt"
    } >"$comment_file"
  else
    printf '%s\n### pushctl: manifests valid\n' "$marker" >"$comment_file"
  fi
  return "$code"
}

run_plan() {
  rm -f "$plan_file"
  run_validate || return $?
  pushctl "${global[@]}" plan "${files[@]}" --out "$plan_file" --detailed-exitcode \
    --format github 2>"$work/plan.err"
  local code=$?
  cat "$work/plan.err" >&2
  if [[ -s $plan_file ]]; then
    { printf '%s\n' "$marker"; pushctl show "$plan_file" --format markdown; } >"$comment_file"
    output plan-file "$plan_file"
    output plan-digest "$(plan_digest "$plan_file")"
  else
    {
      printf '%s\n### pushctl plan failed (exit %s)\n\n' "$marker" "$code"
      fenced "$work/plan.err"
    } >"$comment_file"
  fi
  if ((code == 2)); then output has-changes true; else output has-changes false; fi
  return "$code"
}

run_apply() {
  [[ -s $plan_file ]] || { echo "::error title=pushctl apply::no plan file $plan_file"; return 1; }
  output plan-file "$plan_file"
  output plan-digest "$(plan_digest "$plan_file")"
  local check=()
  if [[ ${INPUT_CHECK_MANIFESTS:-true} == true ]]; then check=("${files[@]}"); fi
  pushctl "${global[@]}" apply "$plan_file" "${check[@]}" --auto-approve 2>&1 | tee "$work/apply.txt"
  local code=${PIPESTATUS[0]}
  {
    printf '%s\n### pushctl apply: %s\n\n' "$marker" "$([[ $code == 0 ]] && echo done || echo "failed (exit $code)")"
    fenced "$work/apply.txt"
  } >"$comment_file"
  return "$code"
}

case $command in
  validate) run_validate; code=$? ;;
  plan) run_plan; code=$? ;;
  apply) run_apply; code=$? ;;
  *) echo "::error title=pushctl action::command must be validate, plan or apply, not $command"; exit 64 ;;
esac

output exit-code "$code"
output comment-file "$comment_file"
# The job summary shows the same text as the comment, without the marker line.
tail -n +2 "$comment_file" >>"$GITHUB_STEP_SUMMARY"
if [[ $code == 0 || ($code == 2 && $command == plan) ]]; then exit 0; fi
exit "$code"
