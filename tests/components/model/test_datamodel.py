"""The tenant data model, pure: homes per tier, FK order, what counts as destructive."""

from __future__ import annotations

import pytest

from components.postgres.datamodel import (
    DEFAULT_MODEL,
    Column,
    ForeignKey,
    TenantTable,
    destructive_changes,
    home_of,
    model_version,
    parents_first,
)
from components.postgres.sqlplan import TenantDb, build_plan

DOCS, COMMENTS = DEFAULT_MODEL


def test_each_tier_has_its_home() -> None:
    assert home_of("pool", "acme") == home_of("pool", "other")
    assert (home_of("pool", "acme").schema, home_of("pool", "acme").pinned) == ("app", None)
    bridge, silo = home_of("bridge", "o-brien"), home_of("silo", "o-brien")
    assert (bridge.schema, bridge.database, bridge.pinned) == ("tenant_o_brien", None, "o-brien")
    assert (silo.schema, silo.database, silo.pinned) == ("app", "tenant_o_brien", "o-brien")


@pytest.mark.parametrize("isolation", ["bridge", "silo"])
def test_bridge_and_silo_plans_pin_tenant_id(isolation: str) -> None:
    text = build_plan("srv", isolation, [TenantDb("acme")]).render()  # type: ignore[arg-type]
    assert "\"tenant_id\" text DEFAULT 'acme' NOT NULL" in text
    assert 'CONSTRAINT "documents_tenant_pinned" CHECK ("tenant_id" = \'acme\')' in text


def test_pool_plan_has_no_pin() -> None:
    assert "tenant_pinned" not in build_plan("srv", "pool", [TenantDb("acme")]).render()


def test_parents_come_before_children() -> None:
    assert [t.name for t in parents_first((COMMENTS, DOCS))] == ["documents", "comments"]


def test_foreign_key_cycle_is_reported() -> None:
    a = TenantTable(
        "a",
        (Column("id", "uuid"), Column("b_id", "uuid")),
        foreign_keys=(ForeignKey(("tenant_id", "b_id"), "b", ("tenant_id", "id")),),
    )
    b = TenantTable(
        "b",
        (Column("id", "uuid"), Column("a_id", "uuid")),
        foreign_keys=(ForeignKey(("tenant_id", "a_id"), "a", ("tenant_id", "id")),),
    )
    with pytest.raises(ValueError, match="cycle"):
        parents_first((a, b))


def test_additive_changes_are_not_destructive() -> None:
    grown = TenantTable(
        "documents",
        (*DOCS.columns, Column("tags", "text[]", not_null=False), Column("n", "int", "0")),
        indexes=(*DOCS.indexes, ("tenant_id", "title")),
    )
    new_table = TenantTable("notes", (Column("id", "uuid"),))
    assert destructive_changes(DEFAULT_MODEL, (grown, COMMENTS, new_table)) == []
    assert model_version((grown, COMMENTS)) != model_version(DEFAULT_MODEL)


def test_not_null_on_an_existing_column_is_destructive() -> None:
    loose = TenantTable("t", (Column("id", "uuid"), Column("x", "text", not_null=False)))
    strict = TenantTable("t", (Column("id", "uuid"), Column("x", "text")))
    assert destructive_changes((loose,), (strict,)) == ["NOT NULL added to existing column t.x"]


def test_primary_key_change_is_destructive() -> None:
    other = TenantTable("documents", DOCS.columns, primary_key=("tenant_id", "title"))
    assert destructive_changes((DOCS,), (other,)) == [
        "primary key of documents changed from (tenant_id, id) to (tenant_id, title)"
    ]
