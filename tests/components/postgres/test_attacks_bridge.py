"""Bridge isolation under attack: schema per tenant on a shared server.

charlie and delta each log in as their own role and own a table in their
schema; delta then tries every way into charlie's.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from psycopg import errors

pytestmark = pytest.mark.postgres

# Without USAGE on a schema, PostgreSQL either refuses or does not even see its objects.
DENIED = (errors.InsufficientPrivilege, errors.UndefinedTable, errors.UndefinedFunction)


@pytest.fixture(scope="module")
def db(
    new_database: Callable[[str], str],
    apply: Callable[..., object],
    login: Callable[..., psycopg.Connection],
) -> str:
    dsn = new_database("bridge_attacks")
    apply(dsn, "standard-01", "bridge", "charlie", "delta")
    for tenant in ("charlie", "delta"):
        with login(dsn, f"tenant_{tenant}") as conn:
            # Unqualified names land in the tenant's schema: search_path is pinned.
            conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
            conn.execute("INSERT INTO notes VALUES (1, %s)", [f"{tenant} secret"])
            conn.execute("CREATE FUNCTION secret() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$")
    return dsn


def _as(db: str, login: Callable[..., psycopg.Connection], tenant: str) -> psycopg.Connection:
    return login(db, f"tenant_{tenant}")


def test_bridge_tenant_search_path_is_pinned_to_its_schema(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    with _as(db, login, "charlie") as conn:
        path = conn.execute("SHOW search_path").fetchone()
        body = conn.execute("SELECT body FROM notes").fetchone()
        schema = conn.execute(
            "SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = 'notes'::regclass"
        ).fetchone()
    assert (
        path == ("tenant_charlie",)
        and body == ("charlie secret",)
        and schema == ("tenant_charlie",)
    )


def test_bridge_tenant_cannot_read_other_schema_by_qualified_name(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    with (
        _as(db, login, "delta") as conn,
        pytest.raises(errors.InsufficientPrivilege, match="schema tenant_charlie"),
    ):
        conn.execute("SELECT body FROM tenant_charlie.notes")


def test_bridge_tenant_cannot_read_other_schema_through_search_path(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    with _as(db, login, "delta") as conn:
        conn.execute("SET search_path = tenant_charlie, tenant_delta")
        body = conn.execute("SELECT body FROM notes").fetchone()
        conn.execute("SET search_path = tenant_charlie")
        with pytest.raises(DENIED):
            conn.execute("SELECT body FROM notes")
    # The name resolves to delta's own table: charlie's schema is invisible without USAGE.
    assert body == ("delta secret",)


def test_bridge_tenant_cannot_write_other_schema(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    for statement in (
        "INSERT INTO tenant_charlie.notes VALUES (2, 'planted')",
        "CREATE TABLE tenant_charlie.planted (id int)",
        "DROP TABLE tenant_charlie.notes",
        "DROP SCHEMA tenant_charlie CASCADE",
    ):
        with _as(db, login, "delta") as conn, pytest.raises(DENIED):
            conn.execute(statement)


def test_bridge_tenant_cannot_call_other_tenants_function(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    with _as(db, login, "delta") as conn, pytest.raises(DENIED):
        conn.execute("SELECT tenant_charlie.secret()")


def test_bridge_tenant_cannot_open_its_schema_to_others(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    # The schema belongs to tenancy_owner and charlie holds no grant option on it, so
    # PostgreSQL grants nothing (with a warning); charlie's own table grant is moot.
    with _as(db, login, "charlie") as conn:
        conn.execute("GRANT SELECT ON notes TO PUBLIC")
        conn.execute("GRANT USAGE ON SCHEMA tenant_charlie TO PUBLIC")
        conn.execute("GRANT USAGE ON SCHEMA tenant_charlie TO tenant_delta")
        conn.commit()
    with _as(db, login, "delta") as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT body FROM tenant_charlie.notes")


def test_bridge_tenant_cannot_create_in_public_schema(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    with _as(db, login, "delta") as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("CREATE TABLE public.drop_box (body text)")


@pytest.mark.parametrize("target", ["tenant_charlie", "tenancy_owner", "postgres"])
def test_bridge_tenant_cannot_set_role_to_escalate(
    db: str, login: Callable[..., psycopg.Connection], target: str
) -> None:
    with _as(db, login, "delta") as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(f'SET ROLE "{target}"')


def test_bridge_tenant_role_has_tier_guardrails(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    with _as(db, login, "delta") as conn:
        timeout = conn.execute("SHOW statement_timeout").fetchone()
        limit = conn.execute(
            "SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    assert timeout == ("30s",) and limit == (20,)
