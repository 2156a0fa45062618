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

Each run also reports where the CPU went (client processes, PgBouncer, PostgreSQL, from
/proc), to tell a saturated client harness from the pooler's own cost. The clients run in
``--client-processes`` worker processes (default 2, one per core of the reference
machine): one Python process is one core at most (the GIL), and a saturated event loop
holds each pooled server connection across its four round trips for as long as it takes
to come back to that client, which queues the other clients behind it -- a harness
artifact that real fleets (many app pods) do not have. ``--client-processes 1`` shows it.
Figures, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.postgres.apply import apply_plan  # noqa: E402
from components.postgres.session import async_tenant_session  # noqa: E402
from components.postgres.sqlplan import APP_LOGIN_ROLE, TenantDb, build_plan  # noqa: E402
from tests.support.pgbouncer import ADMIN_USER, PgBouncer, start_pgbouncer  # noqa: E402
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


async def _client(
    conn: psycopg.AsyncConnection, tenant: str, until: float, pipeline: bool
) -> list[float]:
    latencies = []
    while time.perf_counter() < until:
        started = time.perf_counter()
        if pipeline:
            # BEGIN, set_config and the SELECT leave in one round trip, COMMIT in a second.
            async with conn.pipeline(), async_tenant_session(conn, tenant):
                await (await conn.execute(READ)).fetchall()
        else:
            async with async_tenant_session(conn, tenant):
                await (await conn.execute(READ)).fetchall()
        latencies.append(time.perf_counter() - started)
    return latencies


def release_server_connections(bouncer: PgBouncer, server_dsn: str, dbname: str) -> None:
    """Make PgBouncer close its idle server connections before a direct run: otherwise
    they hold max_connections slots and the direct run serves fewer clients than asked."""
    with psycopg.connect(bouncer.dsn("pgbouncer", ADMIN_USER), autocommit=True) as admin:
        admin.prepare_threshold = None
        admin.execute(f"KILL {dbname}", prepare=False)
        admin.execute(f"RESUME {dbname}", prepare=False)
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        for _ in range(100):
            [(left,)] = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = %s", [APP_LOGIN_ROLE]
            ).fetchall()
            if left == 0:
                return
            time.sleep(0.05)


async def _run_clients(
    dsn: str, clients: int, first: int, start_at: float, seconds: float, pipeline: bool
) -> tuple[int, list[float]]:
    """One worker's share: connect, wait for the common start, run until the deadline."""
    conns: list[psycopg.AsyncConnection | None] = []
    for wave in range(0, clients, 50):  # in waves: a connection storm is not the question
        batch = min(50, clients - wave)
        conns += await asyncio.gather(*(_connect(dsn) for _ in range(batch)))
    served = [c for c in conns if c is not None]
    await asyncio.sleep(max(0.0, start_at - time.time()))
    until = time.perf_counter() + seconds
    results = await asyncio.gather(
        *(_client(c, TENANTS[(first + i) % 2], until, pipeline) for i, c in enumerate(served))
    )
    for conn in served:
        await conn.close()
    return len(served), [x for r in results for x in r]


def _worker(args: tuple[str, int, int, float, float, bool]) -> tuple[int, list[float], float]:
    served, latencies = asyncio.run(_run_clients(*args))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return served, latencies, usage.ru_utime + usage.ru_stime


def _ticks(pid: int, children: bool) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11 : 15 if children else 13])


def _cpu_seconds(pid: int, tree: bool = False) -> float:
    """utime+stime of ``pid``; with ``tree``, plus its live children and the ones it has
    reaped (a postmaster's backends, ended or still serving PgBouncer)."""
    ticks = _ticks(pid, tree)
    if tree:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[1]) == pid:
                    ticks += int(stat[11]) + int(stat[12])
            except (OSError, IndexError, ValueError):
                continue  # ended meanwhile
    return ticks / os.sysconf("SC_CLK_TCK")


def scenario(
    dsn: str, clients: int, seconds: float, processes: int, pids: dict[str, int], pipeline: bool
) -> dict[str, float]:
    processes = max(1, min(processes, clients))
    shares = [
        clients // processes + (1 if i < clients % processes else 0) for i in range(processes)
    ]
    starts = [sum(shares[:i]) for i in range(processes)]
    start_at = time.time() + 2.0 + clients / 100  # every worker connected by then
    before = {name: _cpu_seconds(pid, name == "postgres") for name, pid in pids.items()}
    jobs = [
        (dsn, n, first, start_at, seconds, pipeline)
        for n, first in zip(shares, starts, strict=True)
    ]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = pool.map(_worker, jobs)
    time.sleep(0.5)  # the postmaster reaps the ended backends: their CPU joins its total
    latencies = sorted(x for _, lat, _ in results for x in lat)
    served = sum(n for n, _, _ in results)
    figures: dict[str, float] = {
        "clients": clients,
        "connected": served,
        "refused": clients - served,
        "client_processes": processes,
        # CPU per wall second of the measured window (2.0 = both cores of the machine).
        "cpu_clients": sum(cpu for *_, cpu in results) / seconds,
    }
    figures |= {
        f"cpu_{name}": (_cpu_seconds(pid, name == "postgres") - before[name]) / seconds
        for name, pid in pids.items()
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
    cpu = "  cpu/s: " + " ".join(
        f"{key[4:]} {f[key]:.2f}"
        for key in ("cpu_clients", "cpu_pgbouncer", "cpu_postgres")
        if key in f
    )
    return f"  {name:<28} clients {f['clients']:4.0f} (refused {f['refused']:4.0f})  {timing}{cpu}"


def _postmaster(server: Any) -> int:
    return int((server.data_dir / "postmaster.pid").read_text().split()[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--server-connections", type=int, default=20)
    parser.add_argument("--max-connections", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="pairs at the fair client count")
    parser.add_argument(
        "--pipeline",
        action="store_true",
        help="psycopg pipeline mode around each tenant_session (2 round trips instead of 4)",
    )
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
            # The fair comparison, repeated and interleaved (direct, pooled, direct, ...):
            # on a shared machine one pair alone mostly measures the neighbours' load.
            runs: dict[str, tuple[str, int]] = {}
            for rep in range(1, args.repeat + 1):
                runs[f"direct, {served} clients #{rep}"] = (direct, served)
                runs[f"pooled, {served} clients #{rep}"] = (pooled, served)
            runs[f"pooled, {args.clients} clients"] = (pooled, args.clients)
            runs[f"direct, {args.clients} clients"] = (direct, args.clients)
            pids = {"pgbouncer": bouncer.process.pid, "postgres": _postmaster(server)}
            figures = {}
            for name, (dsn, clients) in runs.items():
                if dsn == direct:
                    release_server_connections(bouncer, server.dsn(), "postgres")
                figures[name] = scenario(
                    dsn, clients, args.seconds, args.client_processes, pids, args.pipeline
                )
    print(
        f"pooler benchmark: tenant-scoped read through async_tenant_session; PostgreSQL "
        f"max_connections={args.max_connections}, PgBouncer 1.18 transaction mode, "
        f"default_pool_size={args.server_connections}, {args.seconds:g} s per run, "
        f"{args.client_processes} client process(es), {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}, "
        f"{'pipelined (2 round trips)' if args.pipeline else '4 round trips'} per transaction; "
        "cpu/s = CPU seconds per wall second"
    )
    for name, f in figures.items():
        print(row(name, f))
    ratios = [
        figures[f"pooled, {served} clients #{rep}"]["p95_ms"]
        / figures[f"direct, {served} clients #{rep}"]["p95_ms"]
        for rep in range(1, args.repeat + 1)
        if "p95_ms" in figures[f"pooled, {served} clients #{rep}"]
        and "p95_ms" in figures[f"direct, {served} clients #{rep}"]
    ]
    if ratios:
        ratio = statistics.median(ratios)
        verdict = "meets" if ratio <= TARGET else "misses"
        each = ", ".join(f"{r:.2f}x" for r in ratios)
        print(
            f"  pooled/direct p95 at {served} clients: median {ratio:.2f}x of {each} "
            f"({verdict} target <= {TARGET}x)"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
