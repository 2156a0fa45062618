"""tenant_session through a real PgBouncer in transaction mode: no tenant ever leaks.

Two tenants' clients share fewer server connections than there are clients, so
consecutive transactions of different tenants run on the same PostgreSQL
backend; that is where a session-level setting would leak. The same harness
shows the leak when a client uses ``SET`` instead (so it can see one), and the
tier's guardrails (statement_timeout, per-tenant CONNECTION LIMIT) still hold.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import errors

from components.postgres.session import tenant_session
from components.postgres.sqlplan import APP_LOGIN_ROLE, TenantDb
from tests.support.pgbouncer import PgBouncer, start_pgbouncer
from tests.support.pgserver import PgServer

pytestmark = pytest.mark.postgres

TENANTS = ("pba", "pbb")
CLIENTS_PER_TENANT = 4
SERVER_CONNECTIONS = 3  # PgBouncer's default_pool_size: fewer than the 8 clients
TRANSACTIONS = 10_000
ROLES = (APP_LOGIN_ROLE, "postgres", *(f"tenant_{t}" for t in TENANTS))


@pytest.fixture(scope="module")
def db(new_database: Callable[[str], str], apply: Callable[..., object]) -> str:
    dsn = new_database("pgbouncer")
    apply(
        dsn, "free-01", "pool", TenantDb("pba", connection_limit=2, statement_timeout_ms=300), "pbb"
    )
    with psycopg.connect(dsn) as admin:  # superuser: seeds both tenants past RLS
        for tenant in TENANTS:
            admin.execute(
                "INSERT INTO app.documents (tenant_id, title) VALUES (%s, %s)",
                [tenant, f"{tenant}-seed"],
            )
    return dsn


@pytest.fixture(scope="module")
def dbname(db: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(db)["dbname"])


@pytest.fixture(scope="module")
def bouncer(pg: PgServer) -> Iterator[PgBouncer]:
    # A short query_wait_timeout: a client refused a server connection hears so in seconds.
    settings = {"default_pool_size": str(SERVER_CONNECTIONS), "query_wait_timeout": "2"}
    with start_pgbouncer(pg, ROLES, settings) as running:
        yield running


@pytest.fixture
def single_connection_bouncer(pg: PgServer) -> Iterator[PgBouncer]:
    """One server connection per pool: every client's next transaction lands on it."""
    with start_pgbouncer(pg, ROLES, {"default_pool_size": "1"}) as running:
        yield running


class _Client(threading.Thread):
    """One app replica's connection, running ``count`` transactions for ``tenant``."""

    def __init__(self, bouncer: PgBouncer, dbname: str, tenant: str, count: int):
        super().__init__(name=f"{tenant}-client")
        self.bouncer, self.dbname, self.tenant, self.count = bouncer, dbname, tenant, count
        self.foreign: list[tuple[int, object]] = []  # (transaction, what it saw)
        self.backends: set[int] = set()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.bouncer.connect(self.dbname, APP_LOGIN_ROLE) as conn:
                for n in range(self.count):
                    self._transaction(conn, n)
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error

    def _transaction(self, conn: psycopg.Connection, n: int) -> None:
        with tenant_session(conn, self.tenant):
            pid, seen = conn.execute(
                "SELECT pg_backend_pid(), array_agg(DISTINCT tenant_id) FROM app.documents"
            ).fetchone() or (0, None)
            self.backends.add(pid)
            if seen != [self.tenant]:
                self.foreign.append((n, seen))
            if n % 10 == 0:  # and write: the row must land as this tenant, whatever it claims
                row = conn.execute(
                    "INSERT INTO app.documents (title) VALUES (%s) RETURNING tenant_id",
                    [f"{self.tenant}-{n}"],
                ).fetchone()
                if row != (self.tenant,):
                    self.foreign.append((n, row))


def test_interleaved_tenants_through_pgbouncer_never_see_each_others_rows(
    db: str, dbname: str, bouncer: PgBouncer
) -> None:
    per_client = TRANSACTIONS // (len(TENANTS) * CLIENTS_PER_TENANT)
    clients = [
        _Client(bouncer, dbname, tenant, per_client)
        for _ in range(CLIENTS_PER_TENANT)
        for tenant in TENANTS
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    assert [c.error for c in clients if c.error] == []
    assert [(c.tenant, c.foreign[:3]) for c in clients if c.foreign] == []
    # The interleaving was real: fewer backends than clients, each serving both tenants.
    served: dict[int, set[str]] = defaultdict(set)
    for client in clients:
        for pid in client.backends:
            served[pid].add(client.tenant)
    assert len(served) <= SERVER_CONNECTIONS < len(clients)
    assert any(tenants == set(TENANTS) for tenants in served.values())
    with psycopg.connect(db) as admin:  # superuser: reads past RLS
        misfiled = admin.execute(
            "SELECT count(*) FROM app.documents WHERE split_part(title, '-', 1) <> tenant_id"
        ).fetchone()
        written = admin.execute("SELECT count(*) FROM app.documents").fetchone()
    assert misfiled == (0,)
    assert written == (len(TENANTS) + len(clients) * len(range(0, per_client, 10)),)


def test_set_session_through_pgbouncer_leaks_to_the_next_client(
    dbname: str, single_connection_bouncer: PgBouncer
) -> None:
    # The hazard the harness must be able to see: a plain SET stays on the server
    # connection after the client's transaction, and the next client inherits it.
    bouncer = single_connection_bouncer
    with (
        bouncer.connect(dbname, APP_LOGIN_ROLE, autocommit=True) as careless,
        bouncer.connect(dbname, APP_LOGIN_ROLE, autocommit=True) as victim,
    ):
        careless.execute("SET tenancy.tenant_id = 'pba'")
        leaked = victim.execute("SELECT DISTINCT tenant_id FROM app.documents").fetchall()
        victim.execute("RESET tenancy.tenant_id")
    assert leaked == [("pba",)]


def test_tenant_session_through_pgbouncer_leaves_nothing_for_the_next_client(
    dbname: str, single_connection_bouncer: PgBouncer
) -> None:
    bouncer = single_connection_bouncer
    with (
        bouncer.connect(dbname, APP_LOGIN_ROLE) as careful,
        bouncer.connect(dbname, APP_LOGIN_ROLE) as next_client,
    ):
        with tenant_session(careful, "pba"):
            own_pid = careful.execute("SELECT pg_backend_pid()").fetchone()
        with next_client.transaction():
            pid = next_client.execute("SELECT pg_backend_pid()").fetchone()
            seen = next_client.execute("SELECT count(*) FROM app.documents").fetchone()
    assert pid == own_pid  # the very backend tenant pba just used
    assert seen == (0,)


def test_statement_timeout_holds_through_pgbouncer(dbname: str, bouncer: PgBouncer) -> None:
    # ALTER ROLE ... SET statement_timeout lives on the server connection of the tenant's
    # own pool (PgBouncer pools per user and database), so it applies there too.
    with (
        bouncer.connect(dbname, "tenant_pba") as conn,
        pytest.raises(errors.QueryCanceled),
    ):
        conn.execute("SELECT pg_sleep(5)")


def test_tenant_connection_limit_holds_through_pgbouncer(
    db: str, dbname: str, bouncer: PgBouncer
) -> None:
    # PgBouncer may open 3 server connections for the role; its CONNECTION LIMIT 2 refuses
    # the third, so the third client waits and is turned away: a tenant cannot take more
    # of the shared server through the pooler than its limit.
    holders = [bouncer.connect(dbname, "tenant_pba") for _ in range(3)]
    try:
        for conn in holders[:2]:
            conn.execute("SELECT 1")  # opens a transaction: holds a server connection
        with pytest.raises(psycopg.OperationalError, match="query_wait_timeout"):
            holders[2].execute("SELECT 1")
        with psycopg.connect(db) as admin:
            held = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = 'tenant_pba'"
            ).fetchone()
        assert held == (2,)
    finally:
        for conn in holders:
            conn.close()
