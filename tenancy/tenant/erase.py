"""``tenancy tenant erase``: remove every trace of one tenant from its server, with evidence.

- pool: its rows in every model table, deleted in small batches (each its own
  short transaction, through the app role with the tenant set, so RLS limits
  every statement to its rows and neighbours wait at most one batch), then
  ``VACUUM``; then its login role;
- bridge: its schema (``DROP SCHEMA ... CASCADE``) and its role;
- silo: its database (``DROP DATABASE ... WITH (FORCE)``) and its role.

Everywhere, its ``tenancy_meta`` rows (home, move journal) go too: they hold
its id. Roles go with ``DROP OWNED BY`` in every database first (privileges and
default privileges would otherwise keep ``DROP ROLE`` from working).

What a managed admin (rds_superuser, azure_pg_admin, cloudsqlsuperuser; here a
``LOGIN CREATEDB CREATEROLE`` role) needs, and has after ``db apply``:
``DROP DATABASE`` and ``DROP OWNED``/``VACUUM`` need the privileges of the
owner (the admin is a member of the tenant role and of ``tenancy_owner``); the
``FORCE`` of ``DROP DATABASE`` and ``pg_terminate_backend`` need the
privileges of the role whose sessions they end (same membership) -- a session
of a role it cannot signal (a provider's own superuser) makes the drop fail,
and a rerun retries; ``DROP ROLE`` needs ``CREATEROLE``.

Then the checks: the role in ``pg_roles``, the database in ``pg_database``,
the schema in ``pg_namespace`` of every database, and every table with a
``tenant_id`` column in every database (through the app role where RLS would
hide rows from the admin). Anything found, or a place the admin could not look
into, makes the checks fail (exit 1), and the evidence says where.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from components.postgres.datamodel import TENANT_COLUMN, TenantTable, parents_first, tenant_role
from components.postgres.sqlplan import APP_ROLE, SETTING
from tenancy.tenant.chain import now_utc
from tenancy.tenant.freeze import join
from tenancy.tenant.rows import MOVE_WRITER, Place
from tenancy.tenant.site import Site

BATCH_ROWS = 5_000  # a batch deletes in well under a second: the longest a neighbour can wait
META_TABLES = ("homes", "moves")

Say = Callable[[str], None]


@dataclass
class Trace:
    """One thing of the tenant's on the server, counted before and after the erasure."""

    kind: str  # "rows", "schema", "database", "role", "marker rows"
    name: str
    database: str
    before: int
    after: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "database": self.database,
            "before": self.before,
            "after": self.after,
        }


@dataclass
class Log:
    """Every statement that changed something, with when it ran and what it touched."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def run(
        self, conn: psycopg.Connection, database: str, statement: sql.Composed, **note: Any
    ) -> int:
        started = now_utc()
        cursor = conn.execute(statement)
        self.entries.append(
            {
                "started_at": started,
                "finished_at": now_utc(),
                "database": database,
                "sql": statement.as_string(conn),
                "rows": max(cursor.rowcount, 0),
                **note,
            }
        )
        return max(cursor.rowcount, 0)


# --- what the tenant has here -------------------------------------------------------------


def inventory(site: Site, tenant_id: str) -> list[Trace]:
    role = tenant_role(tenant_id)
    home = site.home(tenant_id)
    admin_db = site.admin_database
    traces: list[Trace] = []
    with site.session() as conn:
        traces.append(Trace("role", role, "(cluster)", _exists(conn, "pg_roles", "rolname", role)))
        if home.isolation == "silo":
            traces.append(
                Trace("database", role, "(cluster)", _exists(conn, "pg_database", "datname", role))
            )
        if home.isolation == "bridge":
            traces.append(
                Trace("schema", role, admin_db, _exists(conn, "pg_namespace", "nspname", role))
            )
        for meta in META_TABLES:
            found = conn.execute(
                sql.SQL("SELECT count(*) FROM tenancy_meta.{} WHERE tenant_id = %s").format(
                    sql.Identifier(meta)
                ),
                [tenant_id],
            ).fetchone()
            traces.append(
                Trace(
                    "marker rows", f"tenancy_meta.{meta}", admin_db, int(found[0]) if found else 0
                )
            )
        if home.rls:
            join(conn, APP_ROLE)
    database = home.database or admin_db
    if home.isolation != "silo" or traces[1].before:
        with site.session(home.database) as conn:
            for table in site.model:
                count = count_rows(conn, Place(home, home.schema), tenant_id, table)
                traces.append(Trace("rows", f"{home.schema}.{table.name}", database, count))
    return traces


def _exists(conn: psycopg.Connection, catalog: str, column: str, name: str) -> int:
    row = conn.execute(
        sql.SQL("SELECT count(*) FROM {} WHERE {} = %s").format(
            sql.Identifier("pg_catalog", catalog), sql.Identifier(column)
        ),
        [name],
    ).fetchone()
    return int(row[0]) if row else 0


@contextmanager
def as_tenant(conn: psycopg.Connection, place: Place, tenant_id: str) -> Iterator[None]:
    """A transaction that sees (and may delete) the tenant's rows; in a pool, through RLS."""
    with conn.transaction():
        if place.home.rls:
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(APP_ROLE)))
            conn.execute("SELECT set_config(%s, %s, true)", [SETTING, tenant_id])
            # A tenant frozen by an unfinished move: the mover's writer passes its triggers.
            conn.execute("SELECT set_config(%s, %s, true)", [MOVE_WRITER, tenant_id])
        yield


def count_rows(conn: psycopg.Connection, place: Place, tenant_id: str, table: TenantTable) -> int:
    name = f"{place.schema}.{table.name}"
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [_quoted(name)]).fetchone()
    if not (exists and exists[0]):
        return 0
    with as_tenant(conn, place, tenant_id):
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE {} = {}").format(
                place.table(table), sql.Identifier(TENANT_COLUMN), sql.Literal(tenant_id)
            )
        ).fetchone()
    return int(row[0]) if row else 0


def _quoted(name: str) -> str:
    return ".".join(f'"{part}"' for part in name.split("."))


# --- removal --------------------------------------------------------------------------------


@dataclass
class Batches:
    """One table's batched delete: how many transactions, the longest one (what a neighbour
    could wait at most behind it)."""

    rows: int = 0
    count: int = 0
    longest_s: float = 0.0


def erase(site: Site, tenant_id: str, say: Say) -> Log:
    """Remove the tenant; returns every statement that ran."""
    log = Log()
    home = site.home(tenant_id)
    role = tenant_role(tenant_id)
    with site.session() as conn:
        if _exists(conn, "pg_roles", "rolname", role):
            join(conn, role)  # to end its sessions and DROP OWNED BY it
            _lock_out(conn, site.admin_database, role, log)
    if home.isolation == "pool":
        _delete_pool_rows(site, tenant_id, log, say)
    elif home.isolation == "bridge":
        with site.session() as conn:
            log.run(
                conn,
                site.admin_database,
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(role)),
            )
    else:
        with site.session() as conn:
            log.run(
                conn,
                "(cluster)",
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(role)),
            )
    _drop_role(site, role, log)
    with site.session() as conn:
        for table in META_TABLES:
            log.run(
                conn,
                site.admin_database,
                sql.SQL("DELETE FROM tenancy_meta.{} WHERE tenant_id = {}").format(
                    sql.Identifier(table), sql.Literal(tenant_id)
                ),
            )
    return log


def _lock_out(conn: psycopg.Connection, database: str, role: str, log: Log) -> None:
    """No new sessions of the tenant, and none left: nothing writes while it is erased."""
    ident = sql.Identifier(role)
    log.run(conn, "(cluster)", sql.SQL("ALTER ROLE {} NOLOGIN").format(ident))
    log.run(
        conn,
        "(cluster)",
        sql.SQL("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = {}").format(
            sql.Literal(role)
        ),
    )


def _delete_pool_rows(site: Site, tenant_id: str, log: Log, say: Say) -> None:
    home = site.home(tenant_id)
    place = Place(home, home.schema)
    database = site.admin_database
    with site.session() as conn:
        for table in reversed(parents_first(site.model)):  # children first
            started = now_utc()
            batches = _delete_batches(conn, place, tenant_id, table)
            log.entries.append(
                {
                    "started_at": started,
                    "finished_at": now_utc(),
                    "database": database,
                    "sql": _batch_delete(place, table, tenant_id).as_string(conn),
                    "rows": batches.rows,
                    "batches": batches.count,
                    "longest_batch_ms": round(batches.longest_s * 1000, 1),
                    "note": f"repeated in transactions of at most {BATCH_ROWS} rows until none was left",
                }
            )
            say(
                f"deleted {batches.rows} rows of {tenant_id} from {place.schema}.{table.name}"
                f" in {batches.count} batches (longest {batches.longest_s * 1000:.0f} ms)"
            )
        for table in site.model:
            _vacuum(conn, place, table, database, log)


def _batch_delete(place: Place, table: TenantTable, tenant_id: str) -> sql.Composed:
    # ctid = ANY(ARRAY(...)) runs as a TID scan over one index-found batch: each
    # transaction locks at most BATCH_ROWS of the tenant's own rows, no neighbour's.
    return sql.SQL(
        "DELETE FROM {t} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {t} WHERE {c} = {v} LIMIT {n}))"
    ).format(
        t=place.table(table),
        c=sql.Identifier(TENANT_COLUMN),
        v=sql.Literal(tenant_id),
        n=sql.Literal(BATCH_ROWS),
    )


def _delete_batches(
    conn: psycopg.Connection, place: Place, tenant_id: str, table: TenantTable
) -> Batches:
    statement = _batch_delete(place, table, tenant_id)
    batches = Batches()
    while True:
        started = time.monotonic()
        with as_tenant(conn, place, tenant_id):
            deleted = conn.execute(statement).rowcount
        batches.longest_s = max(batches.longest_s, time.monotonic() - started)
        batches.count += 1
        batches.rows += max(deleted, 0)
        if deleted <= 0:
            return batches


def _vacuum(
    conn: psycopg.Connection, place: Place, table: TenantTable, database: str, log: Log
) -> None:
    # VACUUM by a non-owner only warns ("skipping"), so check first that the admin has the
    # owner's privileges (it is a member of tenancy_owner after db apply). Plain VACUUM takes
    # SHARE UPDATE EXCLUSIVE, which no DML waits for; VACUUM FULL would lock out neighbours.
    name = _quoted(f"{place.schema}.{table.name}")
    owner = conn.execute(
        "SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class WHERE oid = %s::regclass",
        [name],
    ).fetchone()
    if not (owner and owner[0]):
        raise PermissionError(
            f"cannot VACUUM {name}: the admin lacks its owner's privileges"
            " (run `tenancy db apply` on this server: it makes the admin a member of tenancy_owner)"
        )
    log.run(conn, database, sql.SQL("VACUUM (ANALYZE) {}").format(place.table(table)))


def _drop_role(site: Site, role: str, log: Log) -> None:
    with site.session() as conn:
        if not _exists(conn, "pg_roles", "rolname", role):
            return
        databases = _databases(conn)
    for database in databases:
        with site.session(database) as conn:
            log.run(conn, database, sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
    with site.session() as conn:
        log.run(conn, "(cluster)", sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _databases(conn: psycopg.Connection) -> list[str]:
    """Every database the admin can enter (templates excluded)."""
    rows = conn.execute(
        "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate"
        " AND has_database_privilege(current_user, oid, 'CONNECT') ORDER BY datname"
    ).fetchall()
    return [row[0] for row in rows]


# --- the checks after erasure ---------------------------------------------------------------


def post_checks(site: Site, tenant_id: str) -> list[dict[str, Any]]:
    """Look for the tenant everywhere on the server; each result says what it found."""
    role = tenant_role(tenant_id)
    checks: list[dict[str, Any]] = []
    with site.session() as conn:
        checks.append(
            _check(
                "pg_roles",
                "(cluster)",
                f"rolname = '{role}'",
                _exists(conn, "pg_roles", "rolname", role),
            )
        )
        checks.append(
            _check(
                "pg_database",
                "(cluster)",
                f"datname = '{role}'",
                _exists(conn, "pg_database", "datname", role),
            )
        )
        unreachable = conn.execute(
            "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate"
            " AND NOT has_database_privilege(current_user, oid, 'CONNECT') ORDER BY datname"
        ).fetchall()
        databases = _databases(conn)
        app_role = _exists(conn, "pg_roles", "rolname", APP_ROLE)
        if app_role:
            join(conn, APP_ROLE)
    for (database,) in unreachable:
        checks.append(_check("database", database, "the admin has no CONNECT", None))
    for database in databases:
        with site.session(database) as conn:
            checks.append(
                _check(
                    "pg_namespace",
                    database,
                    f"nspname = '{role}'",
                    _exists(conn, "pg_namespace", "nspname", role),
                )
            )
            checks += _table_checks(conn, database, tenant_id)
    return checks


def _check(
    what: str, database: str, where: str, found: int | None, note: str = ""
) -> dict[str, Any]:
    result = {"check": what, "database": database, "where": where, "found": found}
    if found is None:
        result["note"] = note or where
    return result


def _table_checks(conn: psycopg.Connection, database: str, tenant_id: str) -> list[dict[str, Any]]:
    tables = conn.execute(
        "SELECT n.nspname, c.relname, c.relrowsecurity,"
        " has_table_privilege(current_user, c.oid, 'SELECT'),"
        " coalesce(has_table_privilege(%s, c.oid, 'SELECT'), false)"
        " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE a.attname = %s AND NOT a.attisdropped AND c.relkind IN ('r', 'p')"
        " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%'"
        " ORDER BY 1, 2",
        [APP_ROLE if _exists(conn, "pg_roles", "rolname", APP_ROLE) else "public", TENANT_COLUMN],
    ).fetchall()
    return [_table_check(conn, database, tenant_id, *table) for table in tables]


def _table_check(
    conn: psycopg.Connection,
    database: str,
    tenant_id: str,
    schema: str,
    table: str,
    rls: bool,
    admin_reads: bool,
    app_reads: bool,
) -> dict[str, Any]:
    name = f"{schema}.{table}"
    where = f"{name}: {TENANT_COLUMN} = '{tenant_id}'"
    count = sql.SQL("SELECT count(*) FROM {} WHERE {}::text = {}").format(
        sql.Identifier(schema, table), sql.Identifier(TENANT_COLUMN), sql.Literal(tenant_id)
    )
    if rls:
        # RLS would show the admin no rows at all, which proves nothing: look as the app
        # role with the tenant set, which the policy lets see exactly the tenant's rows.
        if not app_reads:
            return _check(
                "table",
                database,
                where,
                None,
                f"{name}: row level security, and {APP_ROLE} cannot read it",
            )
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(APP_ROLE)))
            conn.execute("SELECT set_config(%s, %s, true)", [SETTING, tenant_id])
            row = conn.execute(count).fetchone()
        return _check(
            "table", database, where + f" (as {APP_ROLE}, RLS)", int(row[0]) if row else 0
        )
    if not admin_reads:
        return _check("table", database, where, None, f"{name}: the admin has no SELECT on it")
    row = conn.execute(count).fetchone()
    return _check("table", database, where, int(row[0]) if row else 0)


def checks_clean(checks: list[dict[str, Any]]) -> bool:
    return all(check["found"] == 0 for check in checks)


def today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()
