"""One side of a move: a server reached by an admin DSN, and what its marker says it is.

The marker (schema ``tenancy_meta``, written by ``tenancy db apply``) is the
only source of a side's server name and isolation: nobody types them, so a
DSN pointing at the wrong server is caught instead of trusted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from components.postgres.apply import describe
from components.postgres.datamodel import (
    Isolation,
    TenantHome,
    TenantTable,
    home_of,
    table_from_dict,
)
from tenancy.tenant.errors import MoveInputError

LOCK_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Site:
    dsn: str  # the admin connection string, as given
    label: str  # "source", "target", "clone", "live": for messages
    server: str
    isolation: Isolation
    cell: str
    model: tuple[TenantTable, ...]

    @property
    def where(self) -> str:
        return f"{self.label} {describe(self.dsn)} (server {self.server}, {self.isolation})"

    @property
    def admin_database(self) -> str:
        return str(conninfo_to_dict(self.dsn).get("dbname") or "postgres")

    def home(self, tenant_id: str) -> TenantHome:
        return home_of(self.isolation, tenant_id)

    def dsn_for(self, database: str | None) -> str:
        return make_conninfo(self.dsn, dbname=database) if database else self.dsn

    def connect(self, database: str | None = None) -> psycopg.Connection:
        return open_admin(self.dsn_for(database))

    @contextmanager
    def session(self, database: str | None = None) -> Iterator[psycopg.Connection]:
        with self.connect(database) as conn:
            yield conn


def open_admin(dsn: str) -> psycopg.Connection:
    conn = psycopg.connect(dsn, autocommit=True)
    # Checksums compare the text of rows: both sides must print timestamps alike.
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET DateStyle = 'ISO, YMD'")
    conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT_MS)))
    return conn


def read_site(dsn: str, label: str) -> Site:
    """Connect and read the marker; MoveInputError when unreachable or never applied."""
    try:
        where = describe(dsn)
    except psycopg.ProgrammingError as error:
        raise MoveInputError(f"invalid --{label}-dsn: {error}") from error
    try:
        with open_admin(dsn) as conn:
            present = conn.execute("SELECT to_regclass('tenancy_meta.server') IS NOT NULL")
            row = present.fetchone()
            if not (row and row[0]):
                raise MoveInputError(
                    f"{label} {where} has no tenancy marker (schema tenancy_meta):"
                    " run `tenancy db apply` against it first"
                )
            marker = conn.execute(
                "SELECT server, isolation, cell, model FROM tenancy_meta.server"
            ).fetchone()
    except psycopg.OperationalError as error:
        raise MoveInputError(f"cannot connect to {label} {where}: {str(error).strip()}") from error
    if marker is None:
        raise MoveInputError(f"{label} {where}: tenancy_meta.server is empty; run db apply")
    server, isolation, cell, model = marker
    tables = tuple(table_from_dict(table) for table in model)
    return Site(dsn, label, server, isolation, cell, tables)
