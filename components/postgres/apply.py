"""Apply a ``SqlPlan`` to a live server with psycopg 3; the one code path shared by
``tenancy db apply`` and the Pulumi ``DatabaseIsolation`` provider.

For each statement: ask its ``done`` query, run it only when the answer is no,
and record it as a change. Consecutive statements for the same database run in
one transaction, so a failure leaves no half-built tenant behind and earlier
batches stay applied (a re-run continues where it stopped). CREATE DATABASE
runs in autocommit because PostgreSQL forbids it in a transaction.

Nothing here ever drops anything. Tenants that left the catalog are reported as
orphans; deciding what happens to their data is an explicit, human step.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from components.postgres.datamodel import destructive_changes, table_from_dict
from components.postgres.sqlplan import APP_ROLE, META_SCHEMA, SqlPlan, Statement, tenant_of

LOCK_TIMEOUT_MS = 10_000  # never queue forever behind an application's long transaction
SERVER_TAG = "tenancy:server="
# Key of the session-level advisory lock that serialises concurrent applies on one server.
_ADVISORY_LOCK_KEY = 0x7E9A9C1


class ApplyError(Exception):
    """The server refused a statement, or the DSN points at another server's database."""


@dataclass(frozen=True)
class Orphan:
    kind: str  # role | schema | database
    name: str
    tenant_id: str

    def render(self) -> str:
        return f"{self.kind} {self.name} (tenant {self.tenant_id})"


@dataclass
class ApplyReport:
    plan: SqlPlan
    changed: list[Statement] = field(default_factory=list)
    unchanged: int = 0
    orphans: list[Orphan] = field(default_factory=list)


def describe(conninfo: str) -> str:
    """``user@host:port/dbname`` for messages; never echoes a password."""
    parts = conninfo_to_dict(conninfo)
    host = parts.get("host") or parts.get("hostaddr") or "localhost"
    return f"{parts.get('user', '')}@{host}:{parts.get('port', 5432)}/{parts.get('dbname', '')}".lstrip(
        "@"
    )


def connect(conninfo: str, dbname: str | None = None) -> psycopg.Connection:
    target = make_conninfo(conninfo, dbname=dbname) if dbname else conninfo
    conn = psycopg.connect(target, autocommit=True)
    conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT_MS)))
    return conn


def _batches(statements: tuple[Statement, ...]) -> Iterator[list[Statement]]:
    for _, group in itertools.groupby(statements, key=lambda s: (s.database, s.transactional)):
        yield list(group)


def _run(conn: psycopg.Connection, statement: Statement) -> bool:
    """Run ``statement`` unless already in effect; True when it changed something."""
    try:
        row = conn.execute(statement.done).fetchone()
        if row is not None and row[0]:
            return False
        conn.execute(statement.sql)
    except psycopg.Error as error:
        owner = "shared objects" if statement.owner == "shared" else f"tenant {statement.owner}"
        raise ApplyError(f"{statement.summary} ({owner}) failed: {error}".strip()) from error
    return True


def _claim_server(conn: psycopg.Connection, plan: SqlPlan, report: ApplyReport) -> None:
    """Refuse to apply free-01's plan to free-02: every tenant of free-02 would look orphaned.

    The database records which server it is in its comment the first time.
    """
    row = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
    ).fetchone()
    comment = (row[0] if row else None) or ""
    tag = f"{SERVER_TAG}{plan.server}"
    if comment.startswith(SERVER_TAG) and comment != tag:
        claimed = comment[len(SERVER_TAG) :]
        raise ApplyError(
            f"this database belongs to server {claimed!r}, not {plan.server!r}: check --dsn/--shard"
            f" (to re-home it deliberately: COMMENT ON DATABASE ... IS NULL)"
        )
    if comment != tag:
        dbname = conn.info.dbname
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(dbname), sql.Literal(tag))
        )
        report.changed.append(
            Statement(
                "shared", f"tag database {dbname} as server {plan.server}", sql.SQL(""), sql.SQL("")
            )
        )


def _refuse_destructive_model_change(conn: psycopg.Connection, plan: SqlPlan) -> None:
    """Compare the model the server last recorded with the plan's; refuse anything lossy.

    ``db apply`` only ever adds (tables, columns, indexes); a dropped column or
    a type change must be a hand-written migration, never a side effect.
    """
    if not plan.tables:
        return
    row = conn.execute(
        sql.SQL("SELECT to_regclass({}) IS NOT NULL").format(sql.Literal(f"{META_SCHEMA}.server"))
    ).fetchone()
    if not (row and row[0]):
        return
    recorded = conn.execute(sql.SQL("SELECT model FROM tenancy_meta.server")).fetchone()
    if recorded is None:
        return
    old = [table_from_dict(table) for table in recorded[0]]
    changes = destructive_changes(old, plan.tables)
    if changes:
        raise ApplyError(
            f"the tenant data model change is destructive and was refused: {'; '.join(changes)}."
            " db apply only adds tables, nullable (or defaulted) columns and indexes; migrate"
            " existing rows by hand first, or restore the previous definition"
        )


def apply_plan(conninfo: str, plan: SqlPlan) -> ApplyReport:
    """Bring the server to ``plan``; raises ``ApplyError`` or ``psycopg.OperationalError``."""
    report = ApplyReport(plan)
    with ExitStack() as stack:
        admin = stack.enter_context(connect(conninfo))
        admin.execute("SELECT pg_advisory_lock(%s)", [_ADVISORY_LOCK_KEY])
        _claim_server(admin, plan, report)
        _refuse_destructive_model_change(admin, plan)
        others: dict[str, psycopg.Connection] = {}
        for batch in _batches(plan.statements):
            database = batch[0].database
            if database is not None and database not in others:
                others[database] = stack.enter_context(connect(conninfo, database))
            conn = others[database] if database is not None else admin
            with conn.transaction() if batch[0].transactional else ExitStack():
                for statement in batch:
                    if _run(conn, statement):
                        report.changed.append(statement)
                    else:
                        report.unchanged += 1
        report.orphans = find_orphans(admin, plan)
    return report


_ORPHAN_QUERIES = {
    # Pool tenants are known by their membership in the app role (roles are cluster-wide).
    "pool": (
        "role",
        "SELECT u.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
        " JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = {app} AND u.rolname LIKE 'tenant\\_%'",
    ),
    "bridge": ("schema", "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'"),
    "silo": ("database", "SELECT datname FROM pg_database WHERE datname LIKE 'tenant\\_%'"),
}


def find_orphans(conn: psycopg.Connection, plan: SqlPlan) -> list[Orphan]:
    """Tenant objects on this server whose tenant is not in the plan (kept, never dropped)."""
    kind, query = _ORPHAN_QUERIES[plan.isolation]
    names = [row[0] for row in conn.execute(sql.SQL(query).format(app=sql.Literal(APP_ROLE)))]
    orphans = []
    for name in sorted(names):
        tenant_id = tenant_of(name)
        if tenant_id is not None and tenant_id not in plan.tenants:
            orphans.append(Orphan(kind, name, tenant_id))
    return orphans
