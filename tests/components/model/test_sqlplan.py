"""The SQL plan generator, without a server: quoting, ordering, digests, ownership."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.model.catalog import TENANT_ID_PATTERN
from components.model.cell import parse_stack_name
from components.model.validation import parse_catalog
from components.postgres.datamodel import (
    DEFAULT_MODEL,
    Column,
    TenantTable,
    table_from_dict,
    table_to_dict,
)
from components.postgres.sqlplan import (
    SHARED,
    TenantDb,
    build_plan,
    cell_servers,
    plan_for_server,
    tenant_of,
    tenant_role,
)

ISOLATIONS = ("pool", "bridge", "silo")
tenant_ids = st.from_regex(TENANT_ID_PATTERN, fullmatch=True)


def _plan(isolation: str, *ids: str, **overrides: object):  # type: ignore[no-untyped-def]
    return build_plan("srv", isolation, [TenantDb(i, **overrides) for i in ids])  # type: ignore[arg-type]


def _fingerprints(plan) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.fingerprint() for s in plan.statements]


def test_tenant_ids_that_are_not_catalog_ids_are_rejected() -> None:
    for bad in ('x"; drop', "Acme", "a", "acme_corp", "acme-"):
        with pytest.raises(ValueError, match="invalid tenant id"):
            TenantDb(bad)


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_tenant_names_only_appear_quoted(isolation: str) -> None:
    text = _plan(isolation, "o-brien").render()
    sql_lines = [line for line in text.splitlines() if not line.startswith("--")]
    body = "\n".join(sql_lines)
    assert '"tenant_o_brien"' in body
    # Every mention is inside an identifier ("...") or a literal ('...'), never bare.
    assert not re.search(r"[^\"'_a-z]tenant_o_brien", body)


def test_identifiers_from_table_data_are_escaped() -> None:
    table = TenantTable(
        "odd", (Column("id", "uuid", "gen_random_uuid()"), Column('we"ird', "text"))
    )
    text = build_plan("srv", "pool", [TenantDb("acme")], [table]).render()
    assert '"we""ird" text NOT NULL' in text


def test_pool_plan_secures_every_table() -> None:
    text = _plan("pool", "acme").render()
    for table in DEFAULT_MODEL:
        qualified = f'"app"."{table.name}"'
        assert (
            f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;" in text
        )
        assert f'GRANT DELETE, INSERT, SELECT, UPDATE ON TABLE {qualified} TO "tenancy_app"' in text
    assert "USING (\"tenant_id\" = nullif(current_setting('tenancy.tenant_id', true), ''))" in text
    assert (
        "WITH CHECK (\"tenant_id\" = nullif(current_setting('tenancy.tenant_id', true), ''))"
        in text
    )
    assert 'CREATE ROLE "tenancy_app" WITH NOLOGIN NOINHERIT NOBYPASSRLS;' in text
    assert "TRUNCATE" not in text


def test_tier_guardrails_reach_the_tenant_role() -> None:
    text = _plan("bridge", "acme", connection_limit=7, statement_timeout_ms=1500).render()
    assert 'ALTER ROLE "tenant_acme" WITH LOGIN CONNECTION LIMIT 7;' in text
    assert 'ALTER ROLE "tenant_acme" SET statement_timeout = 1500;' in text


def test_suspended_tenant_role_cannot_log_in() -> None:
    text = _plan("silo", "acme", active=False).render()
    assert 'ALTER ROLE "tenant_acme" WITH NOLOGIN CONNECTION LIMIT 20;' in text


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_shared_statements_come_first_then_tenants_by_id(isolation: str) -> None:
    owners = [s.owner for s in _plan(isolation, "zulu", "alpha", "mike").statements]
    tenants_in_order = list(dict.fromkeys(o for o in owners if o != SHARED))
    assert tenants_in_order == ["alpha", "mike", "zulu"]
    first_tenant = owners.index("alpha")
    # ... and last, the marker recording the model version every copy now has.
    assert SHARED not in owners[first_tenant:-1] and owners[-1] == SHARED


def test_silo_creates_the_role_before_its_database_outside_a_transaction() -> None:
    statements = _plan("silo", "acme").statements
    summaries = [s.summary for s in statements]
    create_db = statements[summaries.index("create database tenant_acme")]
    assert summaries.index("create role tenant_acme") < summaries.index(
        "create database tenant_acme"
    )
    assert create_db.transactional is False
    revoke = statements[summaries.index("revoke CREATE on schema public from PUBLIC")]
    assert revoke.database == "tenant_acme"


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_digest_ignores_input_order(isolation: str) -> None:
    assert (
        _plan(isolation, "bravo", "alpha").digest() == _plan(isolation, "alpha", "bravo").digest()
    )


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_digest_changes_with_any_tenant_setting(isolation: str) -> None:
    base = _plan(isolation, "alpha").digest()
    assert _plan(isolation, "alpha", connection_limit=21).digest() != base
    assert _plan(isolation, "alpha", "bravo").digest() != base


@pytest.mark.parametrize("isolation", ISOLATIONS)
@given(ids=st.sets(tenant_ids, min_size=1, max_size=6), new=tenant_ids)
def test_adding_a_tenant_adds_only_that_tenants_statements(
    isolation: str, ids: set[str], new: str
) -> None:
    ids.discard(new)
    before = _fingerprints(_plan(isolation, *ids))
    after = _plan(isolation, *ids, new)
    added = [s for s in after.statements if s.fingerprint() not in before]
    assert added and {s.owner for s in added} == {new}
    assert [f for f in _fingerprints(after) if f in before] == before


def test_tenant_names_round_trip() -> None:
    assert tenant_role("o-brien") == "tenant_o_brien"
    assert tenant_of("tenant_o_brien") == "o-brien"
    assert tenant_of("tenancy_app") is None


def test_pool_keys_must_lead_with_tenant_id() -> None:
    with pytest.raises(ValueError, match="must lead with tenant_id"):
        TenantTable("t", (Column("id", "uuid"),), indexes=(("created_at",),))
    with pytest.raises(ValueError, match="planner adds it"):
        TenantTable("t", (Column("tenant_id", "text"),))


def test_pool_tables_survive_pulumi_input_form() -> None:
    assert tuple(table_from_dict(table_to_dict(t)) for t in DEFAULT_MODEL) == DEFAULT_MODEL


def test_cell_servers_of_the_example_catalog() -> None:
    path = Path(__file__).resolve().parents[3] / "stacks" / "tenants.yaml"
    catalog = parse_catalog(path.read_text(), str(path))
    servers = cell_servers(catalog, parse_stack_name("prod-aws-eu-central-1"))  # type: ignore[arg-type]
    kinds = {name: isolation for name, (isolation, _) in servers.items()}
    assert kinds == {"acme": "silo", "globex": "silo", "free-01": "pool", "standard-01": "bridge"}


def test_plan_for_server_rejects_tenants_of_another_model() -> None:
    path = Path(__file__).resolve().parents[3] / "stacks" / "tenants.yaml"
    catalog = parse_catalog(path.read_text(), str(path))
    servers = cell_servers(catalog, parse_stack_name("prod-aws-eu-central-1"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="are not pool tenants"):
        plan_for_server("acme", "pool", servers["acme"][1])
