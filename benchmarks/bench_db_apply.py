"""``tenancy db apply`` at fleet size: a first apply and a no-op apply of N tenants.

    .venv/bin/python benchmarks/bench_db_apply.py [--tenants 1000] [--isolation pool bridge]

A throwaway PostgreSQL 15 (tests/support/pgserver.py) and, like every cloud, no
superuser: the plan is applied by ``admin`` (LOGIN CREATEDB CREATEROLE), the role the
tests use to imitate rds_superuser / azure_pg_admin / cloudsqlsuperuser. For each
isolation model with shared servers (pool, bridge), one fresh database gets the real
plan of ``--tenants`` tenants (``components/postgres/apply.py``, the code path of
``tenancy db apply``), then the same plan again. Printed per model: the statement
count, the first apply's time and changes, the no-op apply's time, and the round
trips each took (targets: first <= 10 s, no-op <= 1 s at 1,000 tenants). Silo
servers hold one tenant each, so fleet size does not apply to them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.postgres.apply import apply_plan  # noqa: E402
from components.postgres.sqlplan import TenantDb, build_plan  # noqa: E402
from tests.support.pgserver import PgServer, start_server  # noqa: E402

ADMIN = "admin"
FIRST_TARGET_S = 10.0
NOOP_TARGET_S = 1.0


def _admin_database(server: PgServer, name: str) -> str:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER {ADMIN}')
    return server.dsn(name, user=ADMIN)


def _run(isolation: str, tenants: int, dsn: str) -> None:
    specs = [TenantDb(f"t{i:05d}") for i in range(tenants)]
    plan = build_plan(f"{isolation}-01", isolation, specs, cell="bench-aws-eu-central-1")  # type: ignore[arg-type]
    started = time.perf_counter()
    first = apply_plan(dsn, plan)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    again = apply_plan(dsn, plan)
    noop_s = time.perf_counter() - started
    verdict_first = "ok" if first_s <= FIRST_TARGET_S else "OVER"
    verdict_noop = "ok" if noop_s <= NOOP_TARGET_S else "OVER"
    print(
        f"{isolation:6} {tenants:5d} tenants {len(plan.statements):6d} statements |"
        f" first apply {first_s:6.2f} s ({len(first.changed)} changed,"
        f" {first.round_trips} round trips, target <= {FIRST_TARGET_S:.0f} s: {verdict_first}) |"
        f" no-op apply {noop_s:5.2f} s ({len(again.changed)} changed,"
        f" {again.round_trips} round trips, target <= {NOOP_TARGET_S:.0f} s: {verdict_noop})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--isolation", nargs="+", default=["pool", "bridge"])
    args = parser.parse_args()
    with start_server() as server:
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {ADMIN} LOGIN CREATEDB CREATEROLE")
        print(f"db apply at fleet size (PostgreSQL 15, as {ADMIN}: LOGIN CREATEDB CREATEROLE)")
        for isolation in args.isolation:
            dsn = _admin_database(server, f"bench_{isolation}")
            _run(isolation, args.tenants, dsn)


if __name__ == "__main__":
    main()
