#!/usr/bin/env bash
# Make PostgreSQL's server binaries (initdb, pg_ctl) and PgBouncer available for the
# integration tests (tests/support/pgserver.py, tests/support/pgbouncer.py).
set -euo pipefail
# Also pgaudit for the packaged major: the audit-logging tests read its records in the log.
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
missing=()
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
  missing+=(pgbouncer)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "not found: ${missing[*]}; installing with apt-get" >&2
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
for bin in /usr/lib/postgresql/*/bin; do
  major=$(basename "$(dirname "$bin")")
  if [ ! -e "/usr/lib/postgresql/$major/lib/pgaudit.so" ]; then
    echo "pgaudit for PostgreSQL $major not found; installing postgresql-$major-pgaudit" >&2
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "postgresql-$major-pgaudit" >/dev/null
  fi
done
ls /usr/lib/postgresql/*/bin/initdb
# Debian starts a pgbouncer service on install; the tests start their own on free ports.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now pgbouncer >/dev/null 2>&1 || true; fi
