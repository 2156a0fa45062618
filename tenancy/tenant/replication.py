"""The logical-replication leg of a move: publication, subscription, slot, lag.

Object names are deterministic per tenant (``tenancy_move_<id>``) so that a
rerun after a crash finds -- and can drop -- whatever the killed run created.
Nothing here may leave a replication slot behind: a forgotten slot retains
WAL until the source's disk fills.

PostgreSQL 15 reserves CREATE SUBSCRIPTION for superusers (16 adds
``pg_create_subscription``; the clouds' admin roles may create them). So the
subscription statements run through their own connection string, which
defaults to the target's admin DSN and which tests point at a superuser.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import psycopg
from psycopg import sql

from components.postgres.datamodel import TENANT_COLUMN, TenantTable
from tenancy.tenant.errors import MoveInputError
from tenancy.tenant.rows import Place
from tenancy.tenant.site import Site, open_admin

# What each cloud calls the switch that turns logical decoding on.
LOGICAL_DECODING_PARAMETER = {
    "aws": "rds.logical_replication=1 in the Aurora cluster parameter group",
    "azure": "wal_level=logical in the Flexible Server's server parameters",
    "gcp": "the cloudsql.logical_decoding=on database flag of the Cloud SQL instance",
}


def move_name(tenant_id: str) -> str:
    """Publication, subscription, slot and policy name of one tenant's move."""
    return "tenancy_move_" + tenant_id.replace("-", "_")


def require_logical_decoding(site: Site, cloud: str) -> None:
    with site.session() as conn:
        row = conn.execute("SHOW wal_level").fetchone()
    level = row[0] if row else "?"
    if level != "logical":
        fix = LOGICAL_DECODING_PARAMETER.get(cloud, "wal_level=logical")
        raise MoveInputError(
            f"{site.where} has wal_level={level}: a live move needs logical decoding."
            f" Set {fix} (a restart applies it), then rerun"
        )


def require_tenant_in_replica_identity(
    conn: psycopg.Connection, place: Place, tables: Sequence[TenantTable]
) -> None:
    """A row filter on a column outside the replica identity breaks UPDATE/DELETE for
    *every* tenant of the table while the publication exists: refuse before creating it."""
    for table in tables:
        row = conn.execute(
            "SELECT c.relreplident, (SELECT array_agg(a.attname::text) FROM pg_index i"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
            " WHERE i.indrelid = c.oid AND ((c.relreplident = 'd' AND i.indisprimary)"
            " OR (c.relreplident = 'i' AND i.indisreplident)))"
            " FROM pg_class c WHERE c.oid = to_regclass(%s)",
            [f"{place.schema}.{table.name}"],
        ).fetchone()
        ident, columns = (row[0], row[1] or []) if row else ("n", [])
        if ident != "f" and TENANT_COLUMN not in columns:
            raise MoveInputError(
                f"table {place.schema}.{table.name}: {TENANT_COLUMN} is not in its replica"
                " identity, so a row filter on it would break UPDATE/DELETE for every tenant."
                f" Give it a primary key that leads with {TENANT_COLUMN}"
            )


def create_publication(
    conn: psycopg.Connection, place: Place, tenant_id: str, tables: Sequence[TenantTable]
) -> None:
    """Pool: row-filtered on tenant_id; bridge/silo: every model table of the tenant's home.

    ``publish`` leaves out truncate: row filters do not apply to TRUNCATE.
    A bridge source lists its tables instead of ``FOR TABLES IN SCHEMA``,
    which PostgreSQL 15 reserves for superusers (no managed cloud grants it).
    """
    name = sql.Identifier(move_name(tenant_id))
    exists = conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", [move_name(tenant_id)])
    if exists.fetchone():
        return
    items = []
    for table in tables:
        item = sql.SQL("{}").format(place.table(table))
        if place.home.rls:
            item = sql.SQL("{} WHERE ({} = {})").format(
                place.table(table), sql.Identifier(TENANT_COLUMN), sql.Literal(tenant_id)
            )
        items.append(item)
    conn.execute(
        sql.SQL(
            "CREATE PUBLICATION {} FOR TABLE {} WITH (publish = 'insert, update, delete')"
        ).format(name, sql.SQL(", ").join(items))
    )


def create_subscription(subscription_dsn: str, source_dsn: str, tenant_id: str) -> None:
    """Subscribe (initial copy + streaming); the slot is created on the source by this."""
    name = move_name(tenant_id)
    with open_admin(subscription_dsn) as conn:
        if conn.execute("SELECT 1 FROM pg_subscription WHERE subname = %s", [name]).fetchone():
            return
        conn.execute(
            sql.SQL(
                "CREATE SUBSCRIPTION {} CONNECTION {} PUBLICATION {} WITH (copy_data = true)"
            ).format(sql.Identifier(name), sql.Literal(source_dsn), sql.Identifier(name))
        )


class SlotLost(psycopg.OperationalError):
    """The move's replication slot vanished from the source (e.g. an HA failover)."""


def require_slot(source: psycopg.Connection, tenant_id: str) -> None:
    """Before PostgreSQL 17 slots do not survive a failover: notice instead of waiting."""
    name = move_name(tenant_id)
    if not source.execute(
        "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", [name]
    ).fetchone():
        raise SlotLost(
            f"replication slot {name} is gone from the source (failover?); the move is"
            " rolled back, rerun it to start again"
        )


def wait_for_initial_copy(
    source: psycopg.Connection, subscription_dsn: str, tenant_id: str, timeout_s: float
) -> None:
    """Every table of the subscription has finished its initial copy ('r'eady)."""
    deadline = time.monotonic() + timeout_s
    with open_admin(subscription_dsn) as conn:
        while True:
            require_slot(source, tenant_id)
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE r.srsubstate <> 'r'), count(*)"
                " FROM pg_subscription s JOIN pg_subscription_rel r ON r.srsubid = s.oid"
                " WHERE s.subname = %s",
                [move_name(tenant_id)],
            ).fetchone()
            if row and row[1] > 0 and row[0] == 0:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"initial copy not finished after {timeout_s:.0f} s")
            time.sleep(0.1)


def source_lsn(conn: psycopg.Connection) -> str:
    row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    return str(row[0])


def wait_for_lsn(
    source: psycopg.Connection, subscription_dsn: str, tenant_id: str, lsn: str, timeout_s: float
) -> None:
    """Lag 0: the subscription has received and applied the source's WAL up to ``lsn``.

    The slot's confirmed_flush_lsn on the source is the authority (the apply
    worker reports it after applying); the subscriber's own view, read from
    pg_stat_subscription, only nudges the wait along.
    """
    name = move_name(tenant_id)
    deadline = time.monotonic() + timeout_s
    with open_admin(subscription_dsn) as sub:
        while True:
            require_slot(source, tenant_id)
            row = source.execute(
                "SELECT confirmed_flush_lsn >= %s::pg_lsn FROM pg_replication_slots"
                " WHERE slot_name = %s",
                [lsn, name],
            ).fetchone()
            if row and row[0]:
                return
            applied = sub.execute(
                "SELECT latest_end_lsn >= %s::pg_lsn FROM pg_stat_subscription"
                " WHERE subname = %s AND relid IS NULL",
                [lsn, name],
            ).fetchone()
            if applied and applied[0]:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"replication lag did not reach 0 within {timeout_s:.0f} s")
            time.sleep(0.05)


def drop_subscription(subscription_dsn: str, tenant_id: str) -> None:
    """Drop the subscription and, through it, the slot on the source (idempotent)."""
    name = move_name(tenant_id)
    with open_admin(subscription_dsn) as conn:
        if not conn.execute("SELECT 1 FROM pg_subscription WHERE subname = %s", [name]).fetchone():
            return
        try:
            conn.execute(sql.SQL("DROP SUBSCRIPTION {}").format(sql.Identifier(name)))
        except psycopg.Error:
            # The slot is gone (a failover lost it) or the source is unreachable: detach
            # the subscription from its slot so it can go; drop_slot cleans the source.
            ident = sql.Identifier(name)
            conn.execute(sql.SQL("ALTER SUBSCRIPTION {} DISABLE").format(ident))
            conn.execute(sql.SQL("ALTER SUBSCRIPTION {} SET (slot_name = NONE)").format(ident))
            conn.execute(sql.SQL("DROP SUBSCRIPTION {}").format(ident))


def drop_source_objects(
    conn: psycopg.Connection, place: Place, tenant_id: str, tables: Sequence[TenantTable]
) -> None:
    """Publication, the copy policy, and any slot a killed run left on the source."""
    name = move_name(tenant_id)
    conn.execute(sql.SQL("DROP PUBLICATION IF EXISTS {}").format(sql.Identifier(name)))
    if place.home.rls:
        for table in tables:
            conn.execute(
                sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(
                    sql.Identifier(name), place.table(table)
                )
            )
    drop_slot(conn, tenant_id)


def drop_slot(conn: psycopg.Connection, tenant_id: str, timeout_s: float = 30) -> None:
    """Drop the tenant's slot if it exists, ending the walsender that holds it first."""
    name = move_name(tenant_id)
    deadline = time.monotonic() + timeout_s
    while True:
        row = conn.execute(
            "SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s", [name]
        ).fetchone()
        if row is None:
            return
        if row[0] is None:
            try:
                conn.execute("SELECT pg_drop_replication_slot(%s)", [name])
                return
            except psycopg.errors.ObjectInUse:
                pass
        else:
            conn.execute("SELECT pg_terminate_backend(%s)", [row[0]])
        if time.monotonic() > deadline:
            raise TimeoutError(f"replication slot {name} is still in use after {timeout_s} s")
        time.sleep(0.1)


def grant_copy_policy(
    conn: psycopg.Connection, place: Place, tenant_id: str, tables: Sequence[TenantTable]
) -> None:
    """Let the replication connection's role read this tenant's pool rows, and only those.

    The initial copy of a FORCE-RLS table runs under RLS as the role the
    subscription connects with: with no policy for it, it copies 0 rows
    without an error (verification would then fail the move).
    """
    if not place.home.rls:
        return
    name = move_name(tenant_id)
    for table in tables:
        present = conn.execute(
            "SELECT 1 FROM pg_policy WHERE polrelid = to_regclass(%s) AND polname = %s",
            [f"{place.schema}.{table.name}", name],
        ).fetchone()
        if present:
            continue
        conn.execute(
            sql.SQL("CREATE POLICY {} ON {} FOR SELECT TO CURRENT_USER USING ({} = {})").format(
                sql.Identifier(name),
                place.table(table),
                sql.Identifier(TENANT_COLUMN),
                sql.Literal(tenant_id),
            )
        )
