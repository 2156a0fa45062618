"""Cost of row-level security on a pool table: the same queries with and without RLS.

    .venv/bin/python benchmarks/rls_bench.py [--rows 1000000] [--tenants 1000] [--iterations 3000]

Starts a throwaway PostgreSQL (tests/support/pgserver.py), applies the real pool plan
for N tenants, loads app.documents with generate_series, then runs a
single-tenant read and a single-row write, interleaved in random order:

- with RLS: as ``tenancy_app_login`` (NOBYPASSRLS) inside ``tenant_session``;
- without RLS: as a BYPASSRLS role on the *same* table, also inside
  ``tenant_session``.

Why this baseline is the fair one: same table, same rows, same indexes, same
buffer cache, same SQL text (both keep their explicit ``WHERE tenant_id = %s``,
as an app without RLS must), and the same transaction shape (BEGIN,
set_config, query, COMMIT). The only difference is whether PostgreSQL adds the
policies' quals. A copy of the table would differ in physical layout and
cache state; dropping the policy mid-run would serialise behind DDL locks.

Two views are reported: p50/p95 of the end-to-end transaction latency seen by
the client (the target: ratios <= 1.10), and the server-side mean execution
time of the same statements from pg_stat_statements (no network; stricter,
since fixed per-transaction costs no longer dilute the policy's cost).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.postgres.apply import apply_plan  # noqa: E402
from components.postgres.session import tenant_session  # noqa: E402
from components.postgres.sqlplan import APP_LOGIN_ROLE, TenantDb, build_plan  # noqa: E402
from tests.support.pgserver import start_server  # noqa: E402

BASELINE_ROLE = "bench_bypassrls"
READ = "SELECT id, title, created_at FROM app.documents WHERE tenant_id = %s ORDER BY created_at DESC LIMIT 20"
WRITE = "UPDATE app.documents SET title = %s, updated_at = now() WHERE tenant_id = %s AND id = %s"
TARGET = 1.10


def tenant_ids(count: int) -> list[str]:
    return [f"t{n:04d}" for n in range(1, count + 1)]


def load(dsn: str, rows: int, tenants: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as admin:  # superuser: loads past RLS
        admin.execute(
            "INSERT INTO app.documents (tenant_id, title, body, created_at)"
            " SELECT 't' || lpad((g %% %(t)s + 1)::text, 4, '0'), 'doc ' || g, repeat('x', 120),"
            " now() - make_interval(secs => g) FROM generate_series(1, %(n)s) g",
            {"t": tenants, "n": rows},
        )
        admin.execute("VACUUM ANALYZE app.documents")
        admin.execute(f"CREATE ROLE {BASELINE_ROLE} LOGIN BYPASSRLS IN ROLE tenancy_app")


def sample_rows(dsn: str, ids: list[str], per_tenant: int = 5) -> dict[str, list[str]]:
    with psycopg.connect(dsn) as admin:
        rows = admin.execute(
            "SELECT tenant_id, (array_agg(id))[1:%s] FROM app.documents GROUP BY tenant_id",
            [per_tenant],
        ).fetchall()
    return {tenant: [str(i) for i in doc_ids] for tenant, doc_ids in rows if tenant in ids}


def timed(conn: psycopg.Connection, tenant: str, query: str, params: Sequence[object]) -> float:
    start = time.perf_counter_ns()
    with tenant_session(conn, tenant):
        cursor = conn.execute(query, params)
        if cursor.description is not None:
            cursor.fetchall()
    return (time.perf_counter_ns() - start) / 1000  # microseconds


def server_means(dsn: str) -> dict[str, dict[str, float]]:
    """Mean execution time per query and role from pg_stat_statements (no per-node instrumentation)."""
    variants = {APP_LOGIN_ROLE: "rls", BASELINE_ROLE: "no_rls"}
    with psycopg.connect(dsn) as admin:
        rows = admin.execute(
            "SELECT r.rolname, s.query, s.mean_exec_time FROM pg_stat_statements s"
            " JOIN pg_roles r ON r.oid = s.userid WHERE r.rolname = ANY(%s)"
            " AND (s.query LIKE 'SELECT id, title%%' OR s.query LIKE 'UPDATE app.documents%%')",
            [list(variants)],
        ).fetchall()
    means: dict[str, dict[str, float]] = {"read": {}, "write": {}}
    for role, query, mean_ms in rows:
        means["read" if query.startswith("SELECT") else "write"][variants[role]] = mean_ms * 1000
    for row in means.values():
        row["ratio"] = row["rls"] / row["no_rls"]
    return means


def run(
    conns: dict[str, psycopg.Connection],
    samples: dict[str, list[str]],
    iterations: int,
    measure: Callable[[psycopg.Connection, str, str, Sequence[object]], float],
) -> dict[str, dict[str, list[float]]]:
    """Interleave both variants per iteration, in random order, on random tenants."""
    rng = random.Random(42)
    tenants = sorted(samples)
    results: dict[str, dict[str, list[float]]] = {
        k: {"rls": [], "no_rls": []} for k in ("read", "write")
    }
    for n in range(iterations):
        tenant = rng.choice(tenants)
        doc = rng.choice(samples[tenant])
        work = [("read", READ, [tenant]), ("write", WRITE, [f"t{n}", tenant, doc])]
        for kind, query, params in work:
            order = ["rls", "no_rls"]
            rng.shuffle(order)
            for variant in order:
                results[kind][variant].append(measure(conns[variant], tenant, query, params))
    return results


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summarise(results: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    summary = {}
    for kind, variants in results.items():
        row = {}
        for variant, values in variants.items():
            row[f"{variant}_p50_us"] = percentile(values, 50)
            row[f"{variant}_p95_us"] = percentile(values, 95)
        row["ratio_p50"] = row["rls_p50_us"] / row["no_rls_p50_us"]
        row["ratio_p95"] = row["rls_p95_us"] / row["no_rls_p95_us"]
        summary[kind] = row
    return summary


def report(title: str, summary: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(
        f"  {'query':<6} {'RLS p50':>9} {'no-RLS p50':>11} {'ratio':>6}   {'RLS p95':>9} {'no-RLS p95':>11} {'ratio':>6}"
    )
    for kind, row in summary.items():
        verdict = "ok" if max(row["ratio_p50"], row["ratio_p95"]) <= TARGET else "ABOVE TARGET"
        print(
            f"  {kind:<6} {row['rls_p50_us']:>7.0f}us {row['no_rls_p50_us']:>9.0f}us {row['ratio_p50']:>6.3f}"
            f"   {row['rls_p95_us']:>7.0f}us {row['no_rls_p95_us']:>9.0f}us {row['ratio_p95']:>6.3f}  {verdict}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=1_000)
    parser.add_argument("--iterations", type=int, default=3_000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--drop-login-binding",
        action="store_true",
        help="experiment: drop the restrictive per-tenant-login policy to measure its share",
    )
    args = parser.parse_args()
    settings = {"shared_buffers": "512MB", "shared_preload_libraries": "pg_stat_statements"}
    with start_server(settings) as server:
        dsn = server.dsn()
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute("CREATE EXTENSION pg_stat_statements")
        ids = tenant_ids(args.tenants)
        started = time.perf_counter()
        applied = apply_plan(dsn, build_plan("bench-01", "pool", [TenantDb(i) for i in ids]))
        print(
            f"applied pool plan for {args.tenants} tenants: {len(applied.changed)} changes in {time.perf_counter() - started:.1f}s",
            file=sys.stderr,
        )
        started = time.perf_counter()
        load(dsn, args.rows, args.tenants)
        print(f"loaded {args.rows} rows in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        samples = sample_rows(dsn, ids)
        if args.drop_login_binding:
            with psycopg.connect(dsn) as admin:
                admin.execute("DROP POLICY tenant_login_binding ON app.documents")
        with (
            psycopg.connect(server.dsn(user=APP_LOGIN_ROLE)) as rls,
            psycopg.connect(server.dsn(user=BASELINE_ROLE)) as no_rls,
        ):
            conns = {"rls": rls, "no_rls": no_rls}
            with tenant_session(rls, ids[0]):
                plan = rls.execute(f"EXPLAIN {READ}", [ids[0]]).fetchall()
            print("RLS read plan:\n  " + "\n  ".join(row[0] for row in plan), file=sys.stderr)
            run(conns, samples, max(args.iterations // 10, 50), timed)  # warm-up
            with psycopg.connect(dsn) as admin:
                admin.execute("SELECT pg_stat_statements_reset()")
            client = summarise(run(conns, samples, args.iterations, timed))
        server_side = server_means(dsn)
    load_avg = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"RLS benchmark: {args.rows} rows, {args.tenants} tenants, {args.iterations} iterations per variant"
    )
    print(f"host: {os.cpu_count()} CPUs, load average {load_avg} (p95 is sensitive to other load)")
    report("end-to-end transaction latency (BEGIN; set_config; query; COMMIT)", client)
    print("\nserver-side mean execution time (pg_stat_statements, same run)")
    for kind, row in server_side.items():
        print(
            f"  {kind:<6} RLS {row['rls']:.1f}us  no-RLS {row['no_rls']:.1f}us  ratio {row['ratio']:.3f}"
        )
    if args.json:
        args.json.write_text(json.dumps({"client": client, "server": server_side}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
