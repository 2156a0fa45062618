#!/usr/bin/env bash
# SARIF of STACK's policy findings for code scanning: the offline plan, then `tenancy check`.
#   usage: .github/scripts/sarif.sh STACK OUT_DIR     (writes OUT_DIR/STACK.json and .sarif)
# Exit 1 from plan or check means mandatory findings: they are what the upload is for (the
# pull request's plan job fails on them), so only a broken run (2, 3) fails this script.
set -uo pipefail
stack=$1 out=$2
tenancy="$(pwd)/.venv/bin/tenancy"
for step in plan check; do
  rc=0
  if [ "$step" = plan ]; then
    "$tenancy" plan "$stack" --json "$out/$stack.json" || rc=$?
  else
    "$tenancy" check "$out/$stack.json" --format sarif -o "$out/$stack.sarif" || rc=$?
  fi
  if [ "$rc" -gt 1 ]; then
    echo "::error title=tenancy $step $stack::exited $rc"
    exit 1
  fi
done
