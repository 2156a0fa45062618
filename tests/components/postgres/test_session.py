"""``tenant_session``: transaction-local tenant, refusal of leaky usage, async variant."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import psycopg
import pytest

from components.postgres.session import TenantSessionError, async_tenant_session, tenant_session
from components.postgres.sqlplan import APP_LOGIN_ROLE

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def db(new_database: Callable[[str], str], apply: Callable[..., object]) -> str:
    dsn = new_database("session")
    apply(dsn, "free-01", "pool", "sea", "seb")
    with psycopg.connect(dsn) as admin:
        admin.execute(
            "INSERT INTO app.documents (tenant_id, title) VALUES ('sea', 'a'), ('seb', 'b')"
        )
    return dsn


def test_tenant_session_commits_and_scopes_to_the_tenant(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    with login(db, APP_LOGIN_ROLE) as conn:
        with tenant_session(conn, "sea"):
            conn.execute("INSERT INTO app.documents (title) VALUES ('committed')")
        with tenant_session(conn, "sea"):
            titles = sorted(row[0] for row in conn.execute("SELECT title FROM app.documents"))
    assert titles == ["a", "committed"]


def test_tenant_session_refuses_an_open_transaction(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    # Nested in an outer transaction, the "local" setting would outlive the block.
    with login(db, APP_LOGIN_ROLE) as conn:
        conn.execute("SELECT 1")
        with (
            pytest.raises(TenantSessionError, match="idle connection"),
            tenant_session(conn, "sea"),
        ):
            pass


def test_tenant_session_rejects_an_invalid_tenant_id(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    with (
        login(db, APP_LOGIN_ROLE) as conn,
        pytest.raises(ValueError),
        tenant_session(conn, "x'; --"),
    ):
        pass


def test_async_tenant_session_is_transaction_local(db: str) -> None:
    async def scenario() -> tuple[object, object]:
        dsn = psycopg.conninfo.make_conninfo(db, user=APP_LOGIN_ROLE)
        async with await psycopg.AsyncConnection.connect(dsn) as conn:
            async with async_tenant_session(conn, "seb"):
                inside = await (await conn.execute("SELECT title FROM app.documents")).fetchall()
            async with conn.transaction():
                after = await (await conn.execute("SELECT count(*) FROM app.documents")).fetchone()
        return inside, after

    inside, after = asyncio.run(scenario())
    assert inside == [("b",)] and after == (0,)
