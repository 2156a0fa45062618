"""Azure's narrow Entra mapping (issue 15, item 6b): a silo tenant's managed identity logs
in as ``entra_tenant_<id>``, which holds the tenant role and nothing else.

``pgaadauth_create_principal_with_oid`` belongs to Azure's pgaadauth extension and cannot
exist on vanilla PostgreSQL, so the test server gets a stand-in that does what Microsoft
documents the function doing: create a LOGIN role named ``roleName`` (failing when it
exists) and record ``aadauth,oid=<objectId>,type=<objectType>[,admin]`` as the role's
security label from provider ``pgaadauth`` (pg_shseclabel). Vanilla PostgreSQL has no
such label provider, so the stand-in, owned by the superuser and SECURITY DEFINER like
the extension's own functions, writes the catalog row directly. The plan is applied by
the non-superuser admin (LOGIN CREATEDB CREATEROLE), as on Azure.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from components.postgres.apply import ApplyError, apply_plan
from components.postgres.sqlplan import (
    ENTRA_MAPPING_FUNCTION,
    SqlPlan,
    TenantDb,
    build_plan,
    entra_label,
    entra_login_role,
)
from tests.support.pgserver import PgServer

pytestmark = pytest.mark.postgres

ADMIN = "entra_admin_user"
OBJECT_ID = "0f1e2d3c-4b5a-6978-8a9b-acbdcedfe0f1"
_names = itertools.count(1)

STAND_IN = f"""
CREATE FUNCTION public.{ENTRA_MAPPING_FUNCTION}(
    "roleName" text, "objectId" text, "objectType" text, "isAdmin" boolean, "isMfa" boolean
) RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    EXECUTE format('CREATE ROLE %I LOGIN', "roleName");
    INSERT INTO pg_shseclabel (objoid, classoid, provider, label)
    VALUES ((SELECT oid FROM pg_authid WHERE rolname = "roleName"), 'pg_authid'::regclass,
            'pgaadauth', 'aadauth,oid=' || "objectId" || ',type=' || "objectType"
            || CASE WHEN "isAdmin" THEN ',admin' ELSE '' END);
    RETURN 'Created role for ' || "roleName";
END $$;
REVOKE ALL ON FUNCTION public.{ENTRA_MAPPING_FUNCTION} FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.{ENTRA_MAPPING_FUNCTION} TO {ADMIN};
"""


@pytest.fixture(scope="module")
def azure_like(pg: PgServer) -> Callable[[str], str]:
    """A fresh database with the stand-in; returns the non-superuser admin's DSN."""
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {ADMIN} LOGIN CREATEDB CREATEROLE")

    def create(prefix: str) -> str:
        name = f"{prefix}_{next(_names)}"
        with psycopg.connect(pg.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER {ADMIN}')
        with psycopg.connect(pg.dsn(name), autocommit=True) as conn:
            conn.execute(STAND_IN)
        return pg.dsn(name, user=ADMIN)

    return create


def _plan(tenant: str, object_id: str | None = OBJECT_ID, active: bool = True) -> SqlPlan:
    return build_plan(tenant, "silo", [TenantDb(tenant, active=active, entra_object_id=object_id)])


def _label(dsn: str, role: str) -> str | None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT label FROM pg_shseclabel WHERE provider = 'pgaadauth'"
            " AND objoid = (SELECT oid FROM pg_roles WHERE rolname = %s)",
            [role],
        ).fetchone()
    return row[0] if row else None


def _memberships(dsn: str, role: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
            " WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = %s)",
            [role],
        ).fetchall()
    return {row[0] for row in rows}


def test_the_identity_is_mapped_to_a_login_that_holds_the_tenant_role_only(
    azure_like: Callable[[str], str],
) -> None:
    dsn = azure_like("entra_map")
    report = apply_plan(dsn, _plan("ena"))
    login = entra_login_role("ena")
    assert (
        f"map Entra identity {OBJECT_ID} (the workload's managed identity) to login role {login}"
        in {s.summary for s in report.changed}
    )
    assert _label(dsn, login) == entra_label(OBJECT_ID) == f"aadauth,oid={OBJECT_ID},type=service"
    assert _memberships(dsn, login) == {"tenant_ena"}
    with psycopg.connect(dsn) as conn:
        attrs = conn.execute(
            "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolconnlimit"
            " FROM pg_roles WHERE rolname = %s",
            [login],
        ).fetchone()
    assert attrs == (True, False, False, False, False, 20)


def test_the_mapped_login_reaches_its_tenants_data_and_no_other_database(
    azure_like: Callable[[str], str],
) -> None:
    dsn = azure_like("entra_reach")
    apply_plan(dsn, _plan("enb"))
    login = entra_login_role("enb")
    as_login = make_conninfo(dsn, user=login, dbname="tenant_enb")
    with psycopg.connect(as_login) as conn:
        conn.execute("INSERT INTO documents (title) VALUES ('mine')")  # search_path: app
        assert conn.execute("SELECT count(*) FROM app.documents").fetchone() == (1,)
        assert conn.execute("SHOW statement_timeout").fetchone() == ("30s",)
    # Another tenant's database on the same cluster: its CONNECT is revoked from PUBLIC.
    apply_plan(azure_like("entra_reach"), _plan("enz", object_id=None))
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(make_conninfo(dsn, user=login, dbname="tenant_enz")).close()


def test_a_second_apply_does_not_call_the_mapping_again(
    azure_like: Callable[[str], str],
) -> None:
    dsn = azure_like("entra_idem")
    apply_plan(dsn, _plan("enc"))
    # The stand-in fails on an existing role, as Azure's does: a re-run must not call it.
    again = apply_plan(dsn, _plan("enc"))
    assert again.changed == []


def test_a_suspended_tenants_identity_cannot_log_in(azure_like: Callable[[str], str]) -> None:
    dsn = azure_like("entra_suspend")
    apply_plan(dsn, _plan("end"))
    report = apply_plan(dsn, _plan("end", active=False))
    login = entra_login_role("end")
    assert f"set login=false and connection limit 20 on {login}" in {
        s.summary for s in report.changed
    }
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        psycopg.connect(make_conninfo(dsn, user=login, dbname="tenant_end")).close()


def test_a_login_role_mapped_to_another_identity_is_refused_not_repointed(
    azure_like: Callable[[str], str],
) -> None:
    dsn = azure_like("entra_other")
    other = "99999999-8888-7777-6666-555555555555"
    apply_plan(dsn, _plan("ene", object_id=other))
    with pytest.raises(
        ApplyError, match=r"map Entra identity .* \(tenant ene\) failed: .*already exists"
    ):
        apply_plan(dsn, _plan("ene"))
    assert _label(dsn, entra_login_role("ene")) == entra_label(other)


def test_without_an_object_id_the_plan_maps_nothing() -> None:
    plan = _plan("enf", object_id=None)
    assert not [s for s in plan.statements if ENTRA_MAPPING_FUNCTION in s.render()]
    assert not [s for s in plan.statements if "entra_" in s.summary]


def test_the_mapping_sql_is_the_documented_call_for_a_service_principal() -> None:
    (mapping,) = [s for s in _plan("eng").statements if ENTRA_MAPPING_FUNCTION in s.render()]
    assert mapping.render() == (
        f"SELECT * FROM {ENTRA_MAPPING_FUNCTION}('entra_tenant_eng', '{OBJECT_ID}',"
        " 'service', false, false);"
    )


@pytest.mark.parametrize(
    "bad", ["not-a-guid", "0f1e2d3c4b5a69788a9bacbdcedfe0f1", "'; DROP ROLE x; --"]
)
def test_an_object_id_that_is_no_guid_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="must be a GUID"):
        TenantDb("enh", entra_object_id=bad)
