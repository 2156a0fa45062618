"""A live tenant move under load, against the offline alternative (pg_dump | pg_restore).

    .venv/bin/python benchmarks/bench_move.py [--rows 1000000] [--writes-per-s 200]

Two throwaway PostgreSQL 15 servers (wal_level=logical). One bridge tenant
gets ``--rows`` rows across the model's tables (half documents, half
comments) next to a neighbour; then ``tenancy tenant move`` takes it to a
silo server while a writer inserts/updates/deletes its documents at
``--writes-per-s``, as the tenant's own login, following it to the new home
when the old one refuses it. Printed: total move time, initial-copy rate,
the mover's freeze window, and the longest gap the writer saw between two
successful commits. Then, in the same run, ``pg_dump -Fc -n tenant_<id> |
pg_restore`` of the same tenant into an empty database: the offline move,
whose freeze is its whole duration.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.pgserver import start_server  # noqa: E402
from tests.tenancy.tenant.movekit import (  # noqa: E402
    LOGICAL,
    STACK,
    add_admin,
    lay_out,
    run_cli,
    superuser_dsn,
    tenant_dsn,
    write_catalog,
)

TENANT = "bigco"


def load(bridge_dsn: str, rows: int) -> None:
    docs = rows // 2
    with psycopg.connect(bridge_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO tenant_bigco.documents (tenant_id, id, title, body)"
            " SELECT 'bigco', md5(g::text)::uuid, 'doc ' || g, repeat('x', 40)"
            " FROM generate_series(1, %s) g",
            [docs],
        )
        conn.execute(
            "INSERT INTO tenant_bigco.comments (tenant_id, document_id, author, body)"
            " SELECT 'bigco', md5(g::text)::uuid, 'author', 'comment ' || g"
            " FROM generate_series(1, %s) g",
            [rows - docs],
        )
        conn.execute("ANALYZE")


class Writer(threading.Thread):
    """~rate writes/s on the old home, then on the new one; records the longest gap."""

    def __init__(self, homes: list[tuple[str, str]], rate: float) -> None:
        super().__init__(daemon=True)
        self.homes, self.interval = homes, 1.0 / rate
        self.stop = threading.Event()
        self.writes, self.max_gap = 0, 0.0

    def run(self) -> None:
        last = time.monotonic()
        rng = random.Random(1)
        home = 0
        while not self.stop.is_set():
            dsn, isolation = self.homes[home]
            try:
                with psycopg.connect(tenant_dsn(dsn, isolation, TENANT), autocommit=True) as conn:
                    due = time.monotonic()
                    while not self.stop.is_set():
                        self._write(conn, rng)
                        now = time.monotonic()
                        self.max_gap = max(self.max_gap, now - last)
                        last = now
                        self.writes += 1
                        due = max(due + self.interval, now - 1.0)  # paced, no burst after a stall
                        self.stop.wait(max(0.0, due - now))
            except psycopg.Error:
                home = (home + 1) % len(self.homes)  # refused here: try the other home
                self.stop.wait(0.01)

    def _write(self, conn: psycopg.Connection, rng: random.Random) -> None:
        action = rng.random()
        if action < 0.5:
            conn.execute(
                "INSERT INTO documents (id, title) VALUES (%s, 'live')", [str(uuid.uuid4())]
            )
        elif action < 0.9:
            conn.execute(
                "UPDATE documents SET title = title || '+'"
                " WHERE tenant_id = 'bigco' AND id = md5(%s::text)::uuid",
                [rng.randint(1, 1000)],
            )
        else:
            conn.execute(
                "DELETE FROM documents WHERE tenant_id = 'bigco' AND id = md5(%s::text)::uuid"
                " AND NOT EXISTS (SELECT 1 FROM comments c"
                " WHERE c.tenant_id = 'bigco' AND c.document_id = documents.id)",
                [rng.randint(1, 1000)],
            )


def pg_dump_restore(server_bin: Path, source: str, target: str) -> float:
    started = time.monotonic()
    dump = subprocess.Popen(
        [str(server_bin / "pg_dump"), "-Fc", "-n", "tenant_bigco", "--no-owner", source],
        stdout=subprocess.PIPE,
    )
    restore = subprocess.run(
        [str(server_bin / "pg_restore"), "--no-owner", "-d", target], stdin=dump.stdout
    )
    dump.wait()
    if dump.returncode or restore.returncode:
        raise SystemExit("pg_dump | pg_restore failed")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--writes-per-s", type=float, default=200.0)
    args = parser.parse_args()
    a, b = start_server(LOGICAL), start_server(LOGICAL)
    try:
        for server in (a, b):
            add_admin(server)
        bridge = lay_out(b, "bridgedb", "standard-01", "bridge", [TENANT, "neighbour"])
        silo = lay_out(a, "silo_bigco", TENANT, "silo", [TENANT])
        t0 = time.monotonic()
        load(bridge, args.rows)
        print(f"loaded {args.rows:,} rows in {time.monotonic() - t0:.1f} s", file=sys.stderr)
        catalog = write_catalog(
            Path(b.base_dir) / "tenants.yaml", {TENANT: "enterprise", "neighbour": "standard"}
        )
        writer = Writer([(bridge, "bridge"), (silo, "silo")], args.writes_per_s)
        writer.start()
        time.sleep(1)
        report_path = Path(b.base_dir) / "move.json"
        result = run_cli(
            "tenant", "move", TENANT, "--stack", STACK, "--catalog", str(catalog),
            "--source-dsn", bridge, "--target-dsn", silo,
            "--subscription-dsn", superuser_dsn(a, "tenant_bigco"),  # PG15: superuser only
            "--report", str(report_path),
        )  # fmt: skip
        time.sleep(1)
        writer.stop.set()
        writer.join(10)
        if result.returncode != 0:
            raise SystemExit(f"move failed: {result.stderr}")
        report = json.loads(report_path.read_text())
        copy_s = report["phases_s"]["copy"]
        catch_up_s = report["phases_s"]["catch_up"]
        with psycopg.connect(superuser_dsn(b, "postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE dumped")
        dump_s = pg_dump_restore(
            a.bin_dir, superuser_dsn(b, "bridgedb"), superuser_dsn(b, "dumped")
        )
        rows = report["rows"]
        print(f"live move of {rows:,} rows (bridge -> silo), writer {writer.writes} writes:")
        print(f"  total move time        {report['total_s']:.2f} s")
        print(f"  initial copy           {copy_s:.2f} s  ({rows / copy_s:,.0f} rows/s)")
        print(f"  indexes + catch-up     {catch_up_s:.2f} s")
        print(f"  freeze window (mover)  {report['freeze_window_s']:.2f} s")
        print(f"  longest writer gap     {writer.max_gap:.2f} s")
        print(f"  phases                 {report['phases_s']}")
        print(f"pg_dump | pg_restore of the same tenant: {dump_s:.2f} s (all of it frozen)")
    finally:
        a.stop()
        b.stop()


if __name__ == "__main__":
    main()
