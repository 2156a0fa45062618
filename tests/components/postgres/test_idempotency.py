"""Applying a plan twice changes nothing; adding a tenant touches only its objects;
drift is repaired; a removed tenant is an orphan whose data stays."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from components.postgres.apply import ApplyError, ApplyReport, apply_plan
from components.postgres.sqlplan import SHARED, TenantDb, build_plan

pytestmark = pytest.mark.postgres

# Tenant ids per model; distinct across modules because roles are cluster-wide.
IDS = {
    "pool": ("ida", "idb", "idc"),
    "bridge": ("ibx", "iby", "ibz"),
    "silo": ("isx", "isy", "isz"),
}
Apply = Callable[..., ApplyReport]


def _tenant_changes(report: ApplyReport) -> set[str]:
    return {s.owner for s in report.changed}


@pytest.mark.parametrize("isolation", ["pool", "bridge", "silo"])
def test_second_apply_changes_nothing(
    isolation: str, new_database: Callable[[str], str], apply: Apply
) -> None:
    dsn = new_database(f"idem_{isolation}")
    a, b, _ = IDS[isolation]
    first = apply(dsn, f"{isolation}-01", isolation, a, b)
    second = apply(dsn, f"{isolation}-01", isolation, a, b)
    assert first.changed
    assert second.changed == []
    plan = build_plan(f"{isolation}-01", isolation, [TenantDb(a), TenantDb(b)])  # type: ignore[arg-type]
    assert second.unchanged == len(plan.statements)


@pytest.mark.parametrize("isolation", ["pool", "bridge", "silo"])
def test_adding_a_tenant_touches_only_that_tenants_objects(
    isolation: str, new_database: Callable[[str], str], apply: Apply
) -> None:
    dsn = new_database(f"grow_{isolation}")
    a, b, c = IDS[isolation]
    apply(dsn, f"{isolation}-02", isolation, a, b)
    grown = apply(dsn, f"{isolation}-02", isolation, a, b, c)
    assert _tenant_changes(grown) == {c}


def test_tier_change_of_one_tenant_touches_only_that_tenant(
    new_database: Callable[[str], str], apply: Apply
) -> None:
    dsn = new_database("retier")
    apply(dsn, "pool-03", "pool", "rta", "rtb")
    report = apply(dsn, "pool-03", "pool", "rta", TenantDb("rtb", connection_limit=5))
    assert [(s.owner, s.summary) for s in report.changed] == [
        ("rtb", "set login=true and connection limit 5 on tenant_rtb")
    ]


def test_apply_repairs_a_policy_tampered_with(
    new_database: Callable[[str], str], apply: Apply
) -> None:
    dsn = new_database("drift_policy")
    apply(dsn, "pool-04", "pool", "dpa")
    with psycopg.connect(dsn) as admin:
        admin.execute("ALTER POLICY tenant_isolation ON app.documents USING (true)")
        admin.execute("ALTER TABLE app.comments NO FORCE ROW LEVEL SECURITY")
        admin.execute("GRANT TRUNCATE ON app.documents TO tenancy_app")
    repaired = {s.summary for s in apply(dsn, "pool-04", "pool", "dpa").changed}
    assert repaired == {
        "policy tenant_isolation on app.documents",
        "enable and force row level security on app.comments",
        "table app.documents: grants exactly DELETE+INSERT+SELECT+UPDATE to tenancy_app beyond its owner",
    }
    assert apply(dsn, "pool-04", "pool", "dpa").changed == []


def test_apply_revokes_a_schema_grant_to_another_tenant(
    new_database: Callable[[str], str], apply: Apply, login: Callable[..., psycopg.Connection]
) -> None:
    dsn = new_database("drift_schema")
    apply(dsn, "bridge-05", "bridge", "dsa", "dsb")
    with psycopg.connect(dsn) as admin:
        admin.execute("GRANT USAGE ON SCHEMA tenant_dsa TO tenant_dsb")
    report = apply(dsn, "bridge-05", "bridge", "dsa", "dsb")
    assert _tenant_changes(report) == {"dsa"}
    with login(dsn, "tenant_dsb") as conn:
        allowed = conn.execute("SELECT has_schema_privilege('tenant_dsa', 'USAGE')").fetchone()
    assert allowed == (False,)


def test_removed_tenant_is_an_orphan_and_keeps_its_data(
    new_database: Callable[[str], str], apply: Apply
) -> None:
    dsn = new_database("orphans")
    apply(dsn, "pool-06", "pool", "ora", "orb")
    with psycopg.connect(dsn) as admin:
        admin.execute("INSERT INTO app.documents (tenant_id, title) VALUES ('orb', 'keep me')")
    report = apply(dsn, "pool-06", "pool", "ora")
    orphans = [o.render() for o in report.orphans]  # roles are cluster-wide: other tests' too
    assert (
        "role tenant_orb (tenant orb)" in orphans and "role tenant_ora (tenant ora)" not in orphans
    )
    assert {s.owner for s in report.changed} <= {SHARED}
    with psycopg.connect(dsn) as admin:
        kept = admin.execute("SELECT title FROM app.documents WHERE tenant_id = 'orb'").fetchall()
        role = admin.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname = 'tenant_orb'"
        ).fetchone()
    assert kept == [("keep me",)] and role == (1,)


def test_apply_refuses_another_servers_database(
    new_database: Callable[[str], str], apply: Apply
) -> None:
    dsn = new_database("wrong_server")
    apply(dsn, "pool-07", "pool", "wsa")
    with pytest.raises(ApplyError, match="belongs to server 'pool-07'"):
        apply_plan(dsn, build_plan("pool-08", "pool", [TenantDb("wsb")]))
