"""Export and erase a large pool tenant while its neighbours keep working.

    .venv/bin/python benchmarks/bench_offboard.py [--rows 1000000] [--neighbour-rows 1000000]

One throwaway PostgreSQL 15 server, one pool shard. The leaving tenant gets
``--rows`` rows (half documents, half comments); ten neighbours share the same
tables with ``--neighbour-rows`` rows between them. Then, as the non-superuser
admin, each in its own process:

- ``tenancy tenant export``: rows/s, archive size, and the process's peak RSS
  next to the RSS of a ``tenancy`` process that does nothing (the baseline);
- ``tenancy tenant erase --yes``: rows/s (batched deletes + VACUUM), while a
  neighbour probe (the shared service login, one neighbour set per
  transaction) reads, updates and inserts its own rows in a loop: the longest
  probe, and how many took over 1 s (target: none).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.postgres.session import tenant_session  # noqa: E402
from tests.support.pgserver import start_server  # noqa: E402
from tests.tenancy.tenant.movekit import (  # noqa: E402
    CATALOG_HEAD,
    REPO,
    STACK,
    add_admin,
    lay_out,
    superuser_dsn,
)

TENANT = "bigco"
NEIGHBOURS = [f"nb{n}" for n in range(10)]


def load(server_dsn: str, tenant: str, rows: int) -> None:
    """Bulk load as the superuser (it bypasses RLS): setup only, not what is measured."""
    docs = rows // 2
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO app.documents (tenant_id, id, title, body)"
            " SELECT %s, md5(%s || g::text)::uuid, 'doc ' || g, repeat('x', 40)"
            " FROM generate_series(1, %s) g",
            [tenant, tenant, docs],
        )
        conn.execute(
            "INSERT INTO app.comments (tenant_id, document_id, author, body)"
            " SELECT %s, md5(%s || g::text)::uuid, 'author', 'comment ' || g"
            " FROM generate_series(1, %s) g",
            [tenant, tenant, rows - docs],
        )
        conn.execute("ANALYZE")


def tenancy(*argv: str) -> tuple[subprocess.CompletedProcess[str], float, int]:
    """Run ``tenancy`` in a child; returns (result, seconds, peak RSS of all children so far, KiB)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "tenancy.cli", *argv], capture_output=True, text=True, cwd=REPO
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"tenancy {' '.join(argv[:2])} failed:\n{result.stderr}")
    return result, elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


class Probe:
    """A neighbour at work through the shared service login; records each round trip."""

    def __init__(self, dsn: str, tenant: str):
        self.dsn, self.tenant = dsn, tenant
        self.latencies: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.dsn) as conn:
            while not self.stop.is_set():
                started = time.perf_counter()
                with tenant_session(conn, self.tenant):
                    doc = conn.execute(
                        "SELECT id FROM app.documents WHERE tenant_id = %s ORDER BY id LIMIT 1",
                        [self.tenant],
                    ).fetchone()
                    assert doc is not None
                    conn.execute(
                        "UPDATE app.documents SET updated_at = now() WHERE id = %s", [doc[0]]
                    )
                    conn.execute(
                        "INSERT INTO app.comments (tenant_id, document_id, author, body)"
                        " VALUES (%s, %s, 'probe', 'still here')",
                        [self.tenant, doc[0]],
                    )
                    conn.execute(
                        "SELECT count(*) FROM app.comments WHERE tenant_id = %s", [self.tenant]
                    )
                self.latencies.append(time.perf_counter() - started)
                self.stop.wait(0.02)


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2] if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--neighbour-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    server = start_server()
    work = Path(server.base_dir) / "offboard"
    work.mkdir()
    try:
        add_admin(server)
        dsn = lay_out(server, "pooldb", "free-01", "pool", [TENANT, *NEIGHBOURS])
        started = time.perf_counter()
        load(superuser_dsn(server, "pooldb"), TENANT, args.rows)
        for name in NEIGHBOURS:
            load(superuser_dsn(server, "pooldb"), name, args.neighbour_rows // len(NEIGHBOURS))
        print(f"loaded {args.rows:,} rows of {TENANT} and {args.neighbour_rows:,} of"
              f" {len(NEIGHBOURS)} neighbours in {time.perf_counter() - started:.1f} s")  # fmt: skip
        catalog = work / "catalog.yaml"
        catalog.write_text(
            CATALOG_HEAD
            + "".join(
                f"  - {{id: {t}, name: {t}, tier: free, cloud: aws, region: eu-west-1,"
                f" residency: eu, status: {'offboarded' if t == TENANT else 'active'}}}\n"
                for t in (TENANT, *NEIGHBOURS)
            )
        )
        common = ("--stack", STACK, "--catalog", str(catalog), "--dsn", dsn)
        chain = str(work / "chain.jsonl")
        subprocess.run(
            [sys.executable, "-m", "tenancy.cli", "--help"], capture_output=True, cwd=REPO
        )
        baseline_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        archive = work / f"{TENANT}.zip"
        result, export_s, export_kib = tenancy(
            "tenant", "export", TENANT, *common, "-o", str(archive), "--chain", chain
        )
        print(f"export: {args.rows:,} rows in {export_s:.1f} s = {args.rows / export_s:,.0f} rows/s;"
              f" archive {archive.stat().st_size / 1e6:.1f} MB;"
              f" peak RSS {export_kib / 1024:.0f} MiB (a tenancy process doing nothing: {baseline_kib / 1024:.0f} MiB)")  # fmt: skip
        probe = Probe(make_conninfo(dsn, user="tenancy_app_login"), NEIGHBOURS[0])
        probe.thread.start()
        time.sleep(2.0)  # the probe's own latency on a quiet table, for comparison
        before_probes = len(probe.latencies)
        result, erase_s, _ = tenancy(
            "tenant", "erase", TENANT, *common, "--yes", "--chain", chain,
            "--evidence", str(work / "erasure.json"),
        )  # fmt: skip
        probe.stop.set()
        probe.thread.join(10)
        idle, during = probe.latencies[:before_probes], probe.latencies[before_probes:]
        evidence = json.loads((work / "erasure.json").read_text())
        assert evidence["checks_found_nothing"], "the checks after erasure found a trace"
        slow = [s for s in during if s > 1.0]
        print(f"erase: {args.rows:,} rows in {erase_s:.1f} s = {args.rows / erase_s:,.0f} rows/s"
              f" (batched DELETE + VACUUM + role + checks)")  # fmt: skip
        print(f"neighbour probe during erase: {len(during)} transactions, longest"
              f" {max(during, default=0) * 1000:.0f} ms, median"
              f" {_median(during) * 1000:.1f} ms,"
              f" over 1 s: {len(slow)} (target: 0); before the erase: median"
              f" {_median(idle) * 1000:.1f} ms")  # fmt: skip
    finally:
        server.stop()


if __name__ == "__main__":
    main()
