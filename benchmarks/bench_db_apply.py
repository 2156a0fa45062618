"""``tenancy db apply`` at fleet size: a first apply and a no-op apply of N tenants.

    .venv/bin/python benchmarks/bench_db_apply.py [--tenants 1000] [--isolation pool bridge]

A throwaway PostgreSQL 15 (tests/support/pgserver.py) and, like every cloud, no
superuser: the plan is applied by ``admin`` (LOGIN CREATEDB CREATEROLE), the role the
tests use to imitate rds_superuser / azure_pg_admin / cloudsqlsuperuser. For each
isolation model with shared servers (pool, bridge), a fresh server gets the real
plan of ``--tenants`` tenants (``components/postgres/apply.py``, the code path of
``tenancy db apply``, with ``--connections`` sessions), then the same plan again.
Printed per model: the statement count, the time to build the plan, the first
apply's time and changes, the no-op apply's time, and the round trips each took
(targets: first <= 10 s, no-op <= 1 s at 1,000 tenants). Silo servers hold one
tenant each, so fleet size does not apply to them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.postgres.apply import CONNECTIONS, apply_plan  # noqa: E402
from components.postgres.sqlplan import TenantDb, build_plan  # noqa: E402
from tests.support.pgserver import PgServer, start_server  # noqa: E402

ADMIN = "admin"
FIRST_TARGET_S = 10.0
NOOP_TARGET_S = 1.0


def _admin_database(server: PgServer, name: str) -> str:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {ADMIN} LOGIN CREATEDB CREATEROLE")
        conn.execute(f'CREATE DATABASE "{name}" OWNER {ADMIN}')
    return server.dsn(name, user=ADMIN)


def _verdict(seconds: float, target: float) -> str:
    return f"target <= {target:.0f} s: {'ok' if seconds <= target else 'OVER'}"


def _run(isolation: str, tenants: int, connections: int) -> None:
    """One fresh server per run: roles are cluster-wide, so a second run would find them."""
    specs = [TenantDb(f"t{i:05d}") for i in range(tenants)]
    started = time.perf_counter()
    plan = build_plan(f"{isolation}-01", isolation, specs, cell="bench-aws-eu-central-1")  # type: ignore[arg-type]
    build_s = time.perf_counter() - started
    with start_server() as server:
        dsn = _admin_database(server, f"bench_{isolation}")
        started = time.perf_counter()
        first = apply_plan(dsn, plan, connections)
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        again = apply_plan(dsn, plan, connections)
        noop_s = time.perf_counter() - started
    print(
        f"{isolation:6} {tenants:5d} tenants {len(plan.statements):6d} statements,"
        f" {connections} connection(s) | plan built in {build_s:4.2f} s |"
        f" first apply {first_s:6.2f} s ({len(first.changed)} changed, {first.round_trips}"
        f" round trips, {_verdict(first_s, FIRST_TARGET_S)}; with the plan build"
        f" {build_s + first_s:5.2f} s) | no-op apply {noop_s:5.2f} s ({len(again.changed)}"
        f" changed, {again.round_trips} round trips, {_verdict(noop_s, NOOP_TARGET_S)})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--isolation", nargs="+", default=["pool", "bridge"])
    parser.add_argument(
        "--connections",
        type=int,
        nargs="+",
        default=[CONNECTIONS],
        help=f"sessions per apply (default {CONNECTIONS}, tenancy db apply's default)",
    )
    args = parser.parse_args()
    print(f"db apply at fleet size (PostgreSQL 15, as {ADMIN}: LOGIN CREATEDB CREATEROLE)")
    for isolation in args.isolation:
        for connections in args.connections:
            _run(isolation, args.tenants, connections)


if __name__ == "__main__":
    main()
