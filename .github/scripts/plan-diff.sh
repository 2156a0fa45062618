#!/usr/bin/env bash
# Offline plan of STACK on this checkout and on BASE_REF, then `tenancy diff`.
#   usage: .github/scripts/plan-diff.sh STACK BASE_REF OUT_DIR
# Writes OUT_DIR/{head,base}.json, comment.md (PR comment), summary.md (full report),
# diff.json. Exit code: tenancy diff's (0 safe, 1 danger flag, 2 bad input); 2 when
# the head plan could not be written. The head plan's own exit code (1 = mandatory
# policy violations) goes to $GITHUB_OUTPUT as plan_rc.
set -uo pipefail
stack=$1 base_ref=$2
mkdir -p "$3"
out=$(cd "$3" && pwd)
repo=$(pwd)
python="$repo/.venv/bin/python"

"$python" -m tenancy plan "$stack" --json "$out/head.json" --markdown "$out/head.md"
plan_rc=$?
echo "plan_rc=$plan_rc" >> "${GITHUB_OUTPUT:-/dev/null}"
if [ ! -s "$out/head.json" ]; then
  echo "::error title=tenancy plan $stack::the plan failed (exit $plan_rc); see the log above"
  exit 2
fi

# The base plan runs the base branch's own code and catalog (PYTHONPATH puts the
# worktree ahead of this checkout's editable install).
base_dir=$(mktemp -d)
rm -f "$out/base.json"
if git worktree add --detach "$base_dir" "$base_ref" >/dev/null 2>&1; then
  if [ -f "$base_dir/stacks/Pulumi.$stack.yaml" ]; then
    # The CLI moved from infra.cli to the tenancy package; a base from before still has infra.cli.
    cli=tenancy
    [ -f "$base_dir/tenancy/cli.py" ] || cli=infra.cli
    (cd "$base_dir" && PYTHONPATH="$base_dir" "$python" -m "$cli" plan "$stack" --json "$out/base.json") || true
  fi
  git worktree remove --force "$base_dir"
fi
if [ ! -s "$out/base.json" ]; then
  echo "::notice title=tenancy diff $stack::no base plan on $base_ref (a new stack?): diffing against an empty stack"
  printf '{"stack": "%s", "project": "tenancy", "resources": [], "tenants": [], "outputs": {}, "violations": []}\n' \
    "$stack" > "$out/base.json"
fi

"$python" -m tenancy diff "$out/base.json" "$out/head.json" \
  --markdown "$out/comment.md" --summary "$out/summary.md" --json "$out/diff.json"
