"""The pool isolation suite's attacks, every one through PgBouncer in transaction mode.

The attacks are imported from ``test_attacks_pool`` unchanged; only where they
connect differs: ``db`` is a PgBouncer DSN and ``login`` goes through it too,
with client-side prepared statements off (PgBouncer 1.18). One attack is
replaced, not skipped: a pooler accepts client logins without opening server
connections, so the per-tenant CONNECTION LIMIT shows when queries need server
connections (``test_pgbouncer.py: test_tenant_connection_limit_holds_through_pgbouncer``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest

from components.postgres.sqlplan import APP_LOGIN_ROLE, TenantDb
from tests.components.postgres import test_attacks_pool as direct
from tests.components.postgres.test_attacks_pool import *  # noqa: F403 -- the same attacks
from tests.support.pgbouncer import PgBouncer, start_pgbouncer
from tests.support.pgserver import PgServer

del test_pool_tenant_connection_limit_caps_its_connections  # noqa: F405, F821 -- see the docstring

ROLES = (APP_LOGIN_ROLE, "postgres", "tenant_alpha", "tenant_bravo", "tenancy_owner")


@pytest.fixture(scope="module")
def bouncer(pg: PgServer) -> Iterator[PgBouncer]:
    with start_pgbouncer(pg, ROLES, {"default_pool_size": "2"}) as running:
        yield running


@pytest.fixture(scope="module")  # type: ignore[no-redef]  # overrides the star-imported db
def db(new_database: Callable[[str], str], apply: Callable[..., object], bouncer: PgBouncer) -> str:
    dsn = new_database("pool_attacks_pgb")
    apply(
        dsn,
        "free-01",
        "pool",
        TenantDb("alpha", connection_limit=2, statement_timeout_ms=300),
        "bravo",
    )
    with psycopg.connect(dsn) as admin:  # superuser, directly: seeds both tenants past RLS
        for tenant in ("alpha", "bravo"):
            for n in range(direct.ROWS_PER_TENANT):
                admin.execute(
                    "INSERT INTO app.documents (tenant_id, title) VALUES (%s, %s)",
                    [tenant, f"{tenant}-{n}"],
                )
    dbname = str(psycopg.conninfo.conninfo_to_dict(dsn)["dbname"])
    return bouncer.dsn(dbname, "postgres")


@pytest.fixture(scope="module")
def login() -> Callable[..., psycopg.Connection]:
    """Log in as ``role`` through the PgBouncer that ``db`` names."""

    def connect(dsn: str, role: str, dbname: str | None = None) -> psycopg.Connection:
        extra = {"dbname": dbname} if dbname else {}
        conn = psycopg.connect(psycopg.conninfo.make_conninfo(dsn, user=role, **extra))
        conn.prepare_threshold = None
        return conn

    return connect


def test_attacks_really_go_through_pgbouncer(db: str, bouncer: PgBouncer) -> None:
    assert psycopg.conninfo.conninfo_to_dict(db)["port"] == str(bouncer.port)
