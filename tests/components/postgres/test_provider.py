"""The Pulumi dynamic provider applies the same plan as ``tenancy db apply``, on a real server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from components.model.cell import cell_tenants, parse_stack_name
from components.model.validation import parse_catalog
from components.postgres.isolation import (
    AdminConnectionArgs,
    DatabaseIsolationArgs,
    IsolationProvider,
    resource_props,
)
from components.postgres.sqlplan import plan_for_server

pytestmark = pytest.mark.postgres

CATALOG = """
version: 1
residency_zones: {eu: {gcp: [europe-west1]}}
tiers:
  free: {isolation: pool, database: {min_capacity: 0.5, max_capacity: 8, backup_retention_days: 7}}
tenants:
"""


def _props(dsn: str, *tenant_ids: str) -> dict[str, Any]:
    entries = "".join(
        f"  - {{id: {t}, name: {t}, tier: free, cloud: gcp, region: europe-west1, residency: eu}}\n"
        for t in tenant_ids
    )
    catalog = parse_catalog(CATALOG + entries, "inline.yaml")
    tenants = cell_tenants(catalog, parse_stack_name("dev-gcp-europe-west1"))  # type: ignore[arg-type]
    parts = conninfo_to_dict(dsn)
    connection = AdminConnectionArgs(
        host=str(parts["host"]),
        port=int(str(parts["port"])),
        database=str(parts["dbname"]),
        username=str(parts["user"]),
        password="unused-with-trust-auth",
        sslmode="disable",
    )
    args = DatabaseIsolationArgs("free-01", "pool", tenants, connection)
    return resource_props(args, plan_for_server("free-01", "pool", tenants))


def _outs(result: Any) -> dict[str, Any]:
    assert result.outs is not None
    return dict(result.outs)


def test_provider_create_applies_the_plan(new_database: Callable[[str], str]) -> None:
    dsn = new_database("provider")
    result = IsolationProvider().create(_props(dsn, "pva", "pvb"))
    assert result.id == "free-01"
    assert "[pva] create role tenant_pva" in _outs(result)["changed"]
    with psycopg.connect(dsn) as admin:
        forced = admin.execute(
            "SELECT relforcerowsecurity FROM pg_class WHERE oid = 'app.documents'::regclass"
        ).fetchone()
    assert forced == (True,)


def test_provider_update_adds_only_the_new_tenant_and_reports_orphans(
    new_database: Callable[[str], str],
) -> None:
    dsn = new_database("provider_update")
    provider = IsolationProvider()
    old = _outs(provider.create(_props(dsn, "pua", "pub")))
    new = _props(dsn, "pua", "puc")
    diff = provider.diff("free-01", old, new)
    assert diff.changes and not diff.replaces
    outs = _outs(provider.update("free-01", old, new))
    assert {line.split("]")[0] for line in outs["changed"]} == {"[puc"}
    assert "tenant_pub" in outs["orphans"]


def test_provider_delete_never_drops_tenant_data(new_database: Callable[[str], str]) -> None:
    dsn = new_database("provider_delete")
    provider = IsolationProvider()
    props = _outs(provider.create(_props(dsn, "pda")))
    provider.delete("free-01", props)
    with psycopg.connect(dsn) as admin:
        role = admin.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname = 'tenant_pda'"
        ).fetchone()
        table = admin.execute("SELECT to_regclass('app.documents') IS NOT NULL").fetchone()
    assert role == (1,) and table == (True,)


def test_provider_refuses_a_plan_digest_from_other_code(new_database: Callable[[str], str]) -> None:
    props = {**_props(new_database("provider_skew"), "psa"), "planDigest": "0" * 64}
    with pytest.raises(ValueError, match="plan digest mismatch"):
        IsolationProvider().create(props)
