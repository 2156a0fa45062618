"""Block one tenant's writes on a server, and let them back in.

Two doors lead to a tenant's rows:

- its own login role (every tier): made NOLOGIN, then its sessions ended;
- in the pool, also the shared service login (``tenancy_app_login``) with the
  tenant set per transaction. Roles cannot stop that one without stopping
  every tenant, so each pool table gets row triggers that refuse writes of
  this tenant's rows. Creating a trigger takes a SHARE ROW EXCLUSIVE lock,
  which waits for every transaction already writing the table to finish:
  once the triggers exist, no write of the tenant is in flight anywhere.

The mover's own writes into a pool (rollback, restore) pass the triggers by
setting ``tenancy.move_writer`` to the tenant in their transaction. That
guards against accidents, not against the shared login, which is trusted to
set the tenant anyway.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import psycopg
from psycopg import sql

from components.postgres.datamodel import MODEL_SCHEMA, TenantTable, tenant_role

MOVE_WRITER = "tenancy.move_writer"
_FUNCTION = sql.Identifier("tenancy_meta", "refuse_frozen_write")
_EVENTS = {
    "ins": ("INSERT", "NEW.tenant_id = {a}"),
    "upd": ("UPDATE", "OLD.tenant_id = {a} OR NEW.tenant_id = {a}"),
    "del": ("DELETE", "OLD.tenant_id = {a}"),
}


def freeze_tenant(
    conn: psycopg.Connection,
    tenant_id: str,
    pool_tables: Sequence[TenantTable] = (),
    timeout_s: float = 30,
) -> None:
    """NOLOGIN, end the tenant's sessions, and (pool) refuse its rows' writes."""
    role = tenant_role(tenant_id)
    set_login(conn, tenant_id, False)
    if pool_tables:
        _pool_triggers(conn, tenant_id, pool_tables)
    join(conn, role)  # a non-superuser may only signal backends of roles it belongs to
    deadline = time.monotonic() + timeout_s
    while True:
        left = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = %s",
            [role],
        ).fetchone()
        if not left or left[0] == 0:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"sessions of {role} still running after {timeout_s} s")
        time.sleep(0.05)


def unfreeze_tenant(
    conn: psycopg.Connection, tenant_id: str, pool_tables: Sequence[TenantTable] = ()
) -> None:
    drop_pool_triggers(conn, tenant_id, pool_tables)
    set_login(conn, tenant_id, True)


def _trigger_name(tenant_id: str, event: str) -> str:
    return f"tenancy_freeze_{tenant_id.replace('-', '_')}_{event}"


def _pool_triggers(conn: psycopg.Connection, tenant_id: str, tables: Sequence[TenantTable]) -> None:
    with conn.transaction():
        conn.execute(
            sql.SQL(
                "CREATE OR REPLACE FUNCTION {f}() RETURNS trigger LANGUAGE plpgsql AS $fn$"
                " BEGIN"
                " IF current_setting({w}, true) = TG_ARGV[0] THEN"
                "   RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;"
                " END IF;"
                " RAISE EXCEPTION 'tenant % is frozen: it is being moved or restored', TG_ARGV[0]"
                "   USING ERRCODE = 'object_not_in_prerequisite_state';"
                " END $fn$"
            ).format(f=_FUNCTION, w=sql.Literal(MOVE_WRITER))
        )
        for table in tables:
            for event, (verb, when) in _EVENTS.items():
                name = _trigger_name(tenant_id, event)
                conn.execute(
                    sql.SQL(
                        "DROP TRIGGER IF EXISTS {n} ON {t}; CREATE TRIGGER {n} BEFORE {verb}"
                        " ON {t} FOR EACH ROW WHEN (" + when + ") EXECUTE FUNCTION {f}({a})"
                    ).format(
                        n=sql.Identifier(name),
                        t=sql.Identifier(MODEL_SCHEMA, table.name),
                        verb=sql.SQL(verb),
                        f=_FUNCTION,
                        a=sql.Literal(tenant_id),
                    )
                )


def drop_pool_triggers(
    conn: psycopg.Connection, tenant_id: str, tables: Sequence[TenantTable]
) -> None:
    for table in tables:
        for event in _EVENTS:
            conn.execute(
                sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
                    sql.Identifier(_trigger_name(tenant_id, event)),
                    sql.Identifier(MODEL_SCHEMA, table.name),
                )
            )


def set_login(conn: psycopg.Connection, tenant_id: str, login: bool) -> None:
    conn.execute(
        sql.SQL("ALTER ROLE {} WITH {}").format(
            sql.Identifier(tenant_role(tenant_id)), sql.SQL("LOGIN" if login else "NOLOGIN")
        )
    )


def join(conn: psycopg.Connection, role: str) -> None:
    """Make the admin a member of ``role`` (what a managed admin must be to act for it)."""
    row = conn.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", [role]).fetchone()
    if not (row and row[0]):
        conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(role)))
