"""Two (or three) real PostgreSQL 15 servers with wal_level=logical, laid out as cells.

Everything runs as ``admin`` (LOGIN CREATEDB CREATEROLE REPLICATION), the
imitation of rds_superuser / azure_pg_admin / cloudsqlsuperuser. The one
exception: CREATE SUBSCRIPTION, which PostgreSQL 15 reserves for superusers,
runs through ``--subscription-dsn`` as the superuser (PG 16 has
pg_create_subscription; the clouds let their admin role do it).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from components.postgres.apply import apply_plan
from components.postgres.datamodel import DEFAULT_MODEL, home_of
from components.postgres.session import tenant_session
from components.postgres.sqlplan import TenantDb, build_plan
from tenancy.tenant.rows import Place, checksums
from tenancy.tenant.site import open_admin
from tests.support.pgserver import PgServer

STACK = "dev-aws-eu-west-1"
# Logical replication, plus quicker worker restarts and feedback so the suite stays fast
# (production keeps the defaults; a move then takes a few seconds longer).
LOGICAL = {
    "wal_level": "logical",
    "wal_retrieve_retry_interval": "200ms",
    "wal_receiver_status_interval": "1s",
}
ADMIN = "admin"
REPO = Path(__file__).resolve().parents[3]

CATALOG_HEAD = """
version: 1
residency_zones:
  eu: {aws: [eu-west-1]}
tiers:
  free:
    isolation: pool
    database: {min_capacity: 0.5, max_capacity: 8, backup_retention_days: 7}
  standard:
    isolation: bridge
    database: {min_capacity: 1, max_capacity: 16, backup_retention_days: 14}
  enterprise:
    isolation: silo
    database: {min_capacity: 2, max_capacity: 64, backup_retention_days: 35}
tenants:
"""


def write_catalog(
    path: Path,
    tenants: dict[str, str],
    status: dict[str, str] | None = None,
    moving_from: dict[str, str] | None = None,
) -> Path:
    """A catalog giving each tenant its tier (the NEW home while it moves)."""
    lines = []
    for tid, tier in tenants.items():
        origin = (moving_from or {}).get(tid)
        extra = f", moving_from: {{tier: {origin}}}" if origin else ""
        lines.append(
            f"  - {{id: {tid}, name: {tid}, tier: {tier}, cloud: aws, region: eu-west-1,"
            f" residency: eu, status: {(status or {}).get(tid, 'active')}{extra}}}\n"
        )
    path.write_text(CATALOG_HEAD + "".join(lines))
    return path


def add_admin(server: PgServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {ADMIN} LOGIN CREATEDB CREATEROLE REPLICATION")


def admin_dsn(server: PgServer, dbname: str) -> str:
    return server.dsn(dbname, user=ADMIN)


def superuser_dsn(server: PgServer, dbname: str) -> str:
    return server.dsn(dbname)


def lay_out(server: PgServer, dbname: str, name: str, isolation: str, tenants: list[str]) -> str:
    """What `tenancy db apply` does for one server; returns its admin DSN."""
    with psycopg.connect(admin_dsn(server, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    dsn = admin_dsn(server, dbname)
    apply_plan(dsn, build_plan(name, isolation, [TenantDb(t) for t in tenants], cell=STACK))  # type: ignore[arg-type]
    return dsn


def tenant_dsn(site_dsn: str, isolation: str, tenant_id: str) -> str:
    home = home_of(isolation, tenant_id)  # type: ignore[arg-type]
    role = "tenant_" + tenant_id.replace("-", "_")
    return make_conninfo(
        site_dsn, user=role, **({"dbname": home.database} if home.database else {})
    )


def _qualified(isolation: str, tenant_id: str, table: str) -> str:
    home = home_of(isolation, tenant_id)  # type: ignore[arg-type]
    return f'"{home.schema}"."{table}"'


def seed(site_dsn: str, isolation: str, tenant_id: str, documents: int = 20) -> None:
    """Rows written the way the app writes them: as the tenant's own login."""
    docs = _qualified(isolation, tenant_id, "documents")
    comments = _qualified(isolation, tenant_id, "comments")
    with (
        psycopg.connect(tenant_dsn(site_dsn, isolation, tenant_id)) as conn,
        tenant_session(conn, tenant_id),
    ):
        for i in range(documents):
            doc = conn.execute(
                f"INSERT INTO {docs} (tenant_id, title, body) VALUES (%s, %s, %s) RETURNING id",
                [tenant_id, f"doc {i}", "x" * (i % 7)],
            ).fetchone()
            conn.execute(
                f"INSERT INTO {comments} (tenant_id, document_id, author, body)"
                " VALUES (%s, %s, 'a', 'c')",
                [tenant_id, doc[0]],  # type: ignore[index]
            )


def tenant_sums(site_dsn: str, isolation: str, tenant_id: str) -> dict[str, tuple[int, str]]:
    home = home_of(isolation, tenant_id)  # type: ignore[arg-type]
    dsn = make_conninfo(site_dsn, dbname=home.database) if home.database else site_dsn
    with open_admin(dsn) as conn:
        if home.rls:
            conn.execute("GRANT tenancy_app TO CURRENT_USER")
        return checksums(conn, Place(home, home.schema), tenant_id, DEFAULT_MODEL)


def doc_ids(site_dsn: str, isolation: str, tenant_id: str) -> set[str]:
    home = home_of(isolation, tenant_id)  # type: ignore[arg-type]
    dsn = make_conninfo(site_dsn, dbname=home.database) if home.database else site_dsn
    with open_admin(dsn) as conn, conn.transaction():
        if home.rls:
            conn.execute("GRANT tenancy_app TO CURRENT_USER")
            conn.execute("SET LOCAL ROLE tenancy_app")
            conn.execute("SELECT set_config('tenancy.tenant_id', %s, true)", [tenant_id])
        rows = conn.execute(
            f"SELECT id::text FROM {_qualified(isolation, tenant_id, 'documents')}"
            " WHERE tenant_id = %s",
            [tenant_id],
        ).fetchall()
    return {r[0] for r in rows}


def replication_leftovers(*dsns: str) -> list[str]:
    found = []
    for dsn in dsns:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for kind, query in (
                ("slot", "SELECT slot_name FROM pg_replication_slots"),
                ("publication", "SELECT pubname FROM pg_publication"),
                ("subscription", "SELECT subname FROM pg_subscription"),
            ):
                found += [f"{kind} {row[0]}" for row in conn.execute(query)]
    return found


@dataclass
class Writer:
    """Inserts, updates and deletes one tenant's documents until stopped.

    ``committed`` is the set of document ids that exist after the last commit
    that surely succeeded; ids touched by a commit whose outcome is unknown (the
    connection was ended mid-commit by the freeze) go to ``unsure``.
    """

    dsn: str
    isolation: str
    tenant_id: str
    committed: set[str] = field(default_factory=set)
    unsure: set[str] = field(default_factory=set)
    writes: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    pause_s: float = 0.005
    user: str | None = None  # log in as this role instead of the tenant's (pool: shared login)

    def start(self, existing: set[str]) -> Writer:
        self.committed = set(existing)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def finish(self) -> Writer:
        self.stop.set()
        assert self.thread is not None
        self.thread.join(30)
        return self

    def _run(self) -> None:
        rng = random.Random(self.tenant_id)
        docs = _qualified(self.isolation, self.tenant_id, "documents")
        while not self.stop.is_set():
            try:
                dsn = tenant_dsn(self.dsn, self.isolation, self.tenant_id)
                if self.user:
                    dsn = make_conninfo(self.dsn, user=self.user)
                with psycopg.connect(dsn) as conn:
                    while not self.stop.is_set():
                        self._one(conn, rng, docs)
                        self.stop.wait(self.pause_s)
            except psycopg.Error:
                self.stop.wait(0.05)  # frozen (NOLOGIN) or terminated: try again

    def _one(self, conn: psycopg.Connection, rng: random.Random, docs: str) -> None:
        action = rng.random()
        new_id = str(uuid.uuid4())
        victim = rng.choice(sorted(self.committed)) if self.committed else None
        touched = {new_id} if action < 0.6 or victim is None else {victim}
        try:
            with tenant_session(conn, self.tenant_id):
                if action < 0.6 or victim is None:
                    conn.execute(
                        f"INSERT INTO {docs} (tenant_id, id, title) VALUES (%s, %s, 'w')",
                        [self.tenant_id, new_id],
                    )
                elif action < 0.85:
                    conn.execute(
                        f"UPDATE {docs} SET title = title || '+', updated_at = now() WHERE id = %s",
                        [victim],
                    )
                else:
                    conn.execute(f"DELETE FROM {docs} WHERE id = %s", [victim])
        except psycopg.OperationalError:
            self.unsure |= touched
            raise
        self.writes += 1
        if action < 0.6 or victim is None:
            self.committed.add(new_id)
        elif action >= 0.85:
            self.committed.discard(victim)


def cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tenancy.cli", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    """``tenancy`` in this process (no interpreter start-up); same result shape as ``cli``."""
    import contextlib
    import io

    from tenancy.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return subprocess.CompletedProcess(list(argv), code, out.getvalue(), err.getvalue())
