"""Clients through PgBouncer (transaction mode) vs the same clients connecting directly.

    .venv/bin/python benchmarks/bench_pooler.py [--clients 500] [--server-connections 20]
        [--max-connections 100] [--seconds 4]

Starts a throwaway PostgreSQL with a small ``max_connections`` and a PgBouncer in front
of it (tests/support/), applies the real pool plan for two tenants and loads a few
thousand rows. Every client is one asyncio connection that runs, for ``--seconds``, a
tenant-scoped read inside ``async_tenant_session`` (BEGIN, set_config, SELECT, COMMIT)
as ``tenancy_app_login``. Latency is what the client sees, waits for a pooled server
connection included. Reported side by side, in one run:

- the largest client count direct connections still serve (max_connections minus the
  superuser reserve and a margin), direct and pooled: the target is pooled p95 <= 1.5x
  direct p95;
- ``--clients`` clients pooled over ``--server-connections`` server connections, and the
  same clients directly, where PostgreSQL refuses every connection past max_connections.

The clients share one Python process, so on a small machine the client side is part of
what is measured, equally for both paths. Figures, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.postgres.apply import apply_plan  # noqa: E402
from components.postgres.session import async_tenant_session  # noqa: E402
from components.postgres.sqlplan import APP_LOGIN_ROLE, TenantDb, build_plan  # noqa: E402
from tests.support.pgbouncer import start_pgbouncer  # noqa: E402
from tests.support.pgserver import start_server  # noqa: E402

TENANTS = ("benchpa", "benchpb")
READ = "SELECT id, title FROM app.documents ORDER BY created_at DESC LIMIT 20"
ROWS = 20_000
TARGET = 1.5
RESERVED = 3  # superuser_reserved_connections
MARGIN = 7  # the harness's own admin connections, and headroom


def load(dsn: str) -> None:
    apply_plan(dsn, build_plan("bench-01", "pool", [TenantDb(t) for t in TENANTS]))
    with psycopg.connect(dsn, autocommit=True) as admin:  # superuser: loads past RLS
        admin.execute(
            "INSERT INTO app.documents (tenant_id, title, created_at)"
            " SELECT (%(t)s::text[])[g %% 2 + 1], 'doc ' || g, now() - make_interval(secs => g)"
            " FROM generate_series(1, %(n)s) g",
            {"t": list(TENANTS), "n": ROWS},
        )
        admin.execute("VACUUM ANALYZE app.documents")


async def _connect(dsn: str) -> psycopg.AsyncConnection | None:
    try:
        conn = await psycopg.AsyncConnection.connect(dsn)
    except psycopg.OperationalError:
        return None  # refused: "sorry, too many clients already"
    conn.prepare_threshold = None  # PgBouncer 1.18 has no prepared-statement support
    return conn


async def _client(conn: psycopg.AsyncConnection, tenant: str, until: float) -> list[float]:
    latencies = []
    while time.perf_counter() < until:
        started = time.perf_counter()
        async with async_tenant_session(conn, tenant):
            await (await conn.execute(READ)).fetchall()
        latencies.append(time.perf_counter() - started)
    return latencies


async def scenario(dsn: str, clients: int, seconds: float) -> dict[str, float]:
    conns: list[psycopg.AsyncConnection | None] = []
    for start in range(0, clients, 50):  # in waves: a connection storm is not the question
        batch = min(50, clients - start)
        conns += await asyncio.gather(*(_connect(dsn) for _ in range(batch)))
    served = [c for c in conns if c is not None]
    until = time.perf_counter() + seconds
    results = await asyncio.gather(
        *(_client(c, TENANTS[i % 2], until) for i, c in enumerate(served))
    )
    for conn in served:
        await conn.close()
    latencies = sorted(x for r in results for x in r)
    figures: dict[str, float] = {
        "clients": clients,
        "connected": len(served),
        "refused": clients - len(served),
    }
    if latencies:
        figures |= {
            "tps": len(latencies) / seconds,
            "p50_ms": 1000 * statistics.median(latencies),
            "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        }
    return figures


def row(name: str, f: dict[str, float]) -> str:
    timing = (
        f"{f['tps']:9.0f} tx/s  p50 {f['p50_ms']:7.2f} ms  p95 {f['p95_ms']:7.2f} ms"
        if "tps" in f
        else "no client connected"
    )
    return f"  {name:<28} clients {f['clients']:4.0f} (refused {f['refused']:4.0f})  {timing}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--server-connections", type=int, default=20)
    parser.add_argument("--max-connections", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    settings = {"max_connections": str(args.max_connections)}
    bouncer_settings = {
        "default_pool_size": str(args.server_connections),
        "max_client_conn": str(args.clients + 100),
    }
    served = args.max_connections - RESERVED - MARGIN
    with start_server(settings) as server:
        load(server.dsn())
        direct = server.dsn(user=APP_LOGIN_ROLE)
        with start_pgbouncer(server, [APP_LOGIN_ROLE, "postgres"], bouncer_settings) as bouncer:
            pooled = bouncer.dsn("postgres", APP_LOGIN_ROLE)
            runs = {
                f"direct, {served} clients": (direct, served),
                f"pooled, {served} clients": (pooled, served),
                f"pooled, {args.clients} clients": (pooled, args.clients),
                f"direct, {args.clients} clients": (direct, args.clients),
            }
            figures = {
                name: asyncio.run(scenario(dsn, clients, args.seconds))
                for name, (dsn, clients) in runs.items()
            }
    print(
        f"pooler benchmark: tenant-scoped read through async_tenant_session; PostgreSQL "
        f"max_connections={args.max_connections}, PgBouncer 1.18 transaction mode, "
        f"default_pool_size={args.server_connections}, {args.seconds:g} s per run"
    )
    for name, f in figures.items():
        print(row(name, f))
    same = figures[f"direct, {served} clients"], figures[f"pooled, {served} clients"]
    if "p95_ms" in same[0] and "p95_ms" in same[1]:
        ratio = same[1]["p95_ms"] / same[0]["p95_ms"]
        verdict = "meets" if ratio <= TARGET else "misses"
        print(
            f"  pooled/direct p95 at {served} clients: {ratio:.2f}x ({verdict} target <= {TARGET}x)"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
