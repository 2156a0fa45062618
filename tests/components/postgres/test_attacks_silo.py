"""Silo isolation under attack: a database and owner role per tenant.

Two silo tenants share this one test cluster (in production each has its own
server), which makes the cross-database probes meaningful.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from psycopg import errors

from components.postgres.sqlplan import TenantDb

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def db(new_database: Callable[[str], str], apply: Callable[..., object], pg: object) -> str:
    dsn = new_database("silo_admin")
    apply(dsn, "silo-test", "silo", "echo", "foxtrot", TenantDb("golf", active=False))
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS outsider")
        admin.execute("CREATE ROLE outsider LOGIN")
    return dsn


def test_silo_tenant_connects_to_its_own_database(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    with login(db, "tenant_echo", "tenant_echo") as conn:
        owner = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        ).fetchone()
    assert owner == ("tenant_echo",)


def test_silo_tenant_cannot_connect_to_other_tenants_database(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        login(db, "tenant_foxtrot", "tenant_echo")


def test_silo_database_has_no_public_connect(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        login(db, "outsider", "tenant_echo")


def test_silo_public_schema_has_no_create_for_public(db: str) -> None:
    with psycopg.connect(psycopg.conninfo.make_conninfo(db, dbname="tenant_echo")) as conn:
        allowed = conn.execute(
            "SELECT has_schema_privilege('outsider', 'public', 'CREATE')"
        ).fetchone()
    assert allowed == (False,)


@pytest.mark.parametrize("target", ["tenant_echo", "postgres"])
def test_silo_tenant_cannot_set_role_to_escalate(
    db: str, login: Callable[..., psycopg.Connection], target: str
) -> None:
    with (
        login(db, "tenant_foxtrot", "tenant_foxtrot") as conn,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        conn.execute(f'SET ROLE "{target}"')


def test_suspended_silo_tenant_cannot_log_in(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        login(db, "tenant_golf", "tenant_golf")
