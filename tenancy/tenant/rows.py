"""One tenant's rows: checksums, a frozen copy between homes, removal.

In the pool the admin sees no rows (FORCE ROW LEVEL SECURITY, no policy for
it), so every pool access here runs as ``tenancy_app`` with the tenant set
transaction-locally -- the same path the application takes, so the policy's
WITH CHECK guards every row written into the pool. Bridge and silo homes
belong to one tenant; the admin reads and writes them directly (their CHECK
still pins tenant_id).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql

from components.postgres.datamodel import TENANT_COLUMN, TenantHome, TenantTable, parents_first
from components.postgres.sqlplan import APP_ROLE, SETTING

MOVE_WRITER = "tenancy.move_writer"  # see tenancy/tenant/freeze.py

Checksums = dict[str, tuple[int, str]]  # table -> (row count, order-independent checksum)


@dataclass(frozen=True)
class Place:
    """Where to find the tenant's tables: a home, or a move's staging schema of it."""

    home: TenantHome
    schema: str

    def table(self, table: TenantTable) -> sql.Identifier:
        return sql.Identifier(self.schema, table.name)


@contextmanager
def tenant_transaction(
    conn: psycopg.Connection, place: Place, tenant_id: str
) -> Iterator[psycopg.Connection]:
    """A transaction in which ``place``'s rows of ``tenant_id`` are visible and writable."""
    with conn.transaction():
        if place.home.rls and place.schema == place.home.schema:
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(APP_ROLE)))
            conn.execute("SELECT set_config(%s, %s, true)", [SETTING, tenant_id])
        yield conn


def _row_hash(table: TenantTable) -> sql.Composed:
    # A 64-bit hash of each whole row, summed as numeric (no overflow): equal multisets of
    # rows give equal sums whatever the physical order. hash_record_extended hashes each
    # column with its type's own hash function (binary values, not text), so neither
    # TimeZone nor DateStyle can make equal rows differ; it is ~5x cheaper than md5 of the
    # row's text, which matters because verification runs while the tenant is frozen.
    # Every model column type needs an extended hash function (all common types have one).
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names)
    return sql.SQL("hash_record_extended(ROW({}), 0)::numeric").format(columns)


def checksums(
    conn: psycopg.Connection, place: Place, tenant_id: str, tables: Sequence[TenantTable]
) -> Checksums:
    result: Checksums = {}
    with tenant_transaction(conn, place, tenant_id):
        for table in tables:
            row = conn.execute(
                sql.SQL("SELECT count(*), coalesce(sum({}), 0)::text FROM {} WHERE {} = {}").format(
                    _row_hash(table),
                    place.table(table),
                    sql.Identifier(TENANT_COLUMN),
                    sql.Literal(tenant_id),
                )
            ).fetchone()
            assert row is not None
            result[table.name] = (int(row[0]), str(row[1]))
    return result


def checksums_at_once(
    sides: Sequence[tuple[Callable[[], psycopg.Connection], Place]],
    tenant_id: str,
    tables: Sequence[TenantTable],
) -> list[Checksums]:
    """``checksums`` of several sides, every (side, table) on its own connection at once.

    Verification runs while the tenant is frozen, so its wall time is the
    freeze window's largest part: hash the tables of both servers concurrently.
    ``sides`` are (connect, place) pairs; returns one Checksums per side.
    """

    def one(side: int, table: TenantTable) -> tuple[int, str, tuple[int, str]]:
        connect, place = sides[side]
        with connect() as conn:
            return side, table.name, checksums(conn, place, tenant_id, [table])[table.name]

    jobs = [(side, table) for side in range(len(sides)) for table in tables]
    results: list[Checksums] = [{} for _ in sides]
    with ThreadPoolExecutor(max_workers=len(jobs) or 1) as pool:
        for side, name, sums in pool.map(lambda job: one(*job), jobs):
            results[side][name] = sums
    return [{t.name: result[t.name] for t in tables} for result in results]


def row_count(
    conn: psycopg.Connection, place: Place, tenant_id: str, tables: Sequence[TenantTable]
) -> int:
    return sum(count for count, _ in checksums(conn, place, tenant_id, tables).values())


def delete_rows(
    conn: psycopg.Connection, place: Place, tenant_id: str, tables: Sequence[TenantTable]
) -> None:
    """Remove the tenant's rows, children first (in the caller's transaction if any)."""
    with tenant_transaction(conn, place, tenant_id):
        if place.home.rls:
            conn.execute("SELECT set_config(%s, %s, true)", [MOVE_WRITER, tenant_id])
        _delete(conn, place, tenant_id, tables)


def _delete(
    conn: psycopg.Connection, place: Place, tenant_id: str, tables: Sequence[TenantTable]
) -> None:
    for table in reversed(parents_first(tables)):
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE {} = {}").format(
                place.table(table), sql.Identifier(TENANT_COLUMN), sql.Literal(tenant_id)
            )
        )


def copy_rows(
    source: psycopg.Connection,
    source_place: Place,
    target: psycopg.Connection,
    target_place: Place,
    tenant_id: str,
    tables: Sequence[TenantTable],
    replace: bool = False,
) -> int:
    """Copy the tenant's rows in one target transaction (all or nothing); returns the count.

    The source is read in one REPEATABLE READ snapshot. Each table streams with
    COPY into a temporary table, then one INSERT ... SELECT moves it into place:
    COPY FROM itself is refused on RLS tables, and the INSERT runs as the app
    role so the pool policy checks every row. ``replace`` first deletes the
    tenant's rows at the target in the same transaction (restore, rollback).
    """
    copied = 0
    ordered = parents_first(tables)
    source.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        _enter_place(source, source_place, tenant_id)
        with target.transaction():
            stages = {}
            for table in ordered:
                stages[table.name] = stage = create_stage(target, table)
                copied += _copy_to_stage(source, source_place, target, table, tenant_id, stage)
            _enter_place(target, target_place, tenant_id)
            if replace:
                _delete(target, target_place, tenant_id, ordered)
            for table in ordered:
                insert_from_stage(target, target_place, table, stages[table.name])
            target.execute("RESET ROLE")
    finally:
        source.execute("ROLLBACK")
    return copied


def _enter_place(conn: psycopg.Connection, place: Place, tenant_id: str) -> None:
    if place.home.rls and place.schema == place.home.schema:
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(APP_ROLE)))
        conn.execute("SELECT set_config(%s, %s, true)", [SETTING, tenant_id])
        # The mover's own writes pass the tenant's freeze triggers (tenancy/tenant/freeze.py).
        conn.execute("SELECT set_config(%s, %s, true)", [MOVE_WRITER, tenant_id])


def create_stage(conn: psycopg.Connection, table: TenantTable) -> sql.Identifier:
    """A temporary table of the transaction shaped like ``table`` for COPY FROM to fill:
    COPY FROM is refused on RLS tables, so rows land here and are INSERTed under the
    policy (``insert_from_stage``). The app role may read it for that INSERT."""
    stage = sql.Identifier(f"tenancy_copy_{table.name}")
    typed = [sql.SQL("{} text").format(sql.Identifier(TENANT_COLUMN))]
    typed += [
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type)) for c in table.columns
    ]
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(stage, sql.SQL(", ").join(typed))
    )
    conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(stage, sql.Identifier(APP_ROLE)))
    return stage


def insert_from_stage(
    conn: psycopg.Connection, place: Place, table: TenantTable, stage: sql.Identifier
) -> int:
    """Move a staged table's rows into the tenant's home; the number of rows inserted."""
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names)
    cursor = conn.execute(
        sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
            place.table(table), columns, columns, stage
        )
    )
    return cursor.rowcount


def _copy_to_stage(
    source: psycopg.Connection,
    source_place: Place,
    target: psycopg.Connection,
    table: TenantTable,
    tenant_id: str,
    stage: sql.Identifier,
) -> int:
    """COPY the tenant's rows of ``table`` into its stage in the target transaction."""
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names)
    out = sql.SQL("COPY (SELECT {} FROM {} WHERE {} = {}) TO STDOUT (FORMAT binary)").format(
        columns,
        source_place.table(table),
        sql.Identifier(TENANT_COLUMN),
        sql.Literal(tenant_id),
    )
    into = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(stage, columns)
    with source.cursor().copy(out) as reader, target.cursor().copy(into) as writer:
        for chunk in reader:
            writer.write(chunk)
    count = target.execute(sql.SQL("SELECT count(*) FROM {}").format(stage)).fetchone()
    return int(count[0]) if count else 0
