"""Tenants in motion (``moving_from``): catalog rules, and the blueprint keeping the old home.

Pure model tests: no Pulumi, no plan. The offline-plan side is in tests/tenancy/test_diff.py.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.model.blueprint import Blueprint, ServerSpec, build_blueprint
from components.model.cell import Cell
from components.model.errors import InputError
from components.model.moves import move_command
from components.model.validation import parse_catalog
from components.model.workloads import cell_workloads
from components.postgres.sqlplan import cell_servers
from tests.components.model.test_catalog_validation import (
    FILE,
    Mutation,
    _dump,
    _issues,
    _set,
    _tenant,
    valid_catalog,
)

CELL = Cell("dev", "aws", "eu-central-1")
# valid_catalog(): tenants[0] acme (enterprise, silo), [1] initech (standard, bridge),
# [2] hooli (free, pool; the free tier has two shards).


def _moving(index: int, new_tier: str, **moving_from: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        tenant = data["tenants"][index]
        tenant["tier"] = new_tier
        tenant.pop("overrides", None)  # app overrides are for silo tiers only
        tenant["moving_from"] = moving_from

    return mutate


def _then(*mutations: Mutation) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(data)

    return mutate


def _facts(spec: ServerSpec) -> tuple[Any, ...]:
    """What a server is built from: a change here is a change to its resources."""
    tenants = tuple((p.id, p.isolation, p.shard, p.database) for p in spec.tenants)
    return (
        spec.isolation,
        spec.tier,
        spec.database,
        spec.tags,
        spec.server_name,
        spec.key_name,
        spec.compliance,
        tenants,
    )


def _blueprint(*mutations: Mutation) -> Blueprint:
    data = copy.deepcopy(valid_catalog())
    for mutation in mutations:
        mutation(data)
    return build_blueprint(parse_catalog(_dump(data), FILE), CELL, "eu")


# (case, mutation, YAML path, message fragment, fix fragment)
BAD_MOVES: list[tuple[str, Mutation, str, str, str]] = [
    (
        "unknown old tier",
        _moving(2, "enterprise", tier="gold"),
        "tenants[2].moving_from.tier",
        "unknown tier 'gold'",
        "enterprise, free, standard",
    ),
    (
        "old shard that is not a shard of the old tier",
        _moving(2, "enterprise", tier="free", shard="free-09"),
        "tenants[2].moving_from.shard",
        "'free-09' is not a shard of tier 'free'",
        "free-01, free-02",
    ),
    (
        "old shard named for a silo old tier",
        _moving(1, "standard", tier="enterprise", shard="enterprise-01"),
        "tenants[1].moving_from.shard",
        "tier 'enterprise' is silo",
        "remove moving_from.shard",
    ),
    (
        "old home equal to the new one (shared)",
        _moving(2, "free", tier="free"),
        "tenants[2].moving_from",
        "already lives on shard",
        "remove moving_from",
    ),
    (
        "old home equal to the new one (silo)",
        _moving(0, "enterprise", tier="enterprise"),
        "tenants[0].moving_from",
        "already in silo tier 'enterprise'",
        "remove moving_from",
    ),
    (
        "suspended tenant",
        _then(_moving(2, "enterprise", tier="free"), _set("tenants.2.status", "suspended")),
        "tenants[2].moving_from",
        "only an active tenant can move; this one is suspended",
        "status: active",
    ),
    (
        "offboarded tenant",
        _then(_moving(2, "enterprise", tier="free"), _set("tenants.2.status", "offboarded")),
        "tenants[2].moving_from",
        "this one is offboarded",
        "remove moving_from",
    ),
    (
        "misspelt key",
        _moving(2, "enterprise", tier="free", shrad="free-01"),
        "tenants[2].moving_from.shrad",
        "Extra inputs are not permitted",
        "spelling",
    ),
    (
        "no old tier",
        _moving(2, "enterprise", shard="free-01"),
        "tenants[2].moving_from.tier",
        "Field required",
        "add this required field",
    ),
]


@pytest.mark.parametrize(
    ("mutation", "path", "fragment", "fix"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_MOVES],
)
def test_bad_moving_from_is_reported_with_its_path_and_fix(
    mutation: Mutation, path: str, fragment: str, fix: str
) -> None:
    data = copy.deepcopy(valid_catalog())
    mutation(data)
    issues = _issues(_dump(data))
    matching = [issue for issue in issues if issue.path == path]
    assert matching, [(i.path, i.message) for i in issues]
    assert any(fragment in i.message and fix in i.hint for i in matching), matching
    assert all(i.line for i in matching)


def test_a_move_between_tiers_and_a_move_between_shards_are_valid() -> None:
    data = copy.deepcopy(valid_catalog())
    _moving(2, "enterprise", tier="free")(data)
    data["tenants"].append(
        _tenant("newco", "free", shard="free-02", moving_from={"tier": "free", "shard": "free-01"})
    )
    catalog = parse_catalog(_dump(data), FILE)
    assert catalog.tenants[2].moving_from is not None
    assert catalog.tenants[3].moving_from is not None


def test_a_moving_tenant_keeps_its_slot_in_the_old_shard() -> None:
    # One slot per free shard: hooli fills free-01's, so a tenant leaving free-01 overflows it.
    data = copy.deepcopy(valid_catalog())
    data["tiers"]["free"]["tenants_per_shard"] = 1
    data["tenants"][2]["shard"] = "free-01"
    data["tenants"].append(
        _tenant("newco", "enterprise", moving_from={"tier": "free", "shard": "free-01"})
    )
    with pytest.raises(InputError) as caught:
        parse_catalog(_dump(data), FILE)
    assert any("shard free-01" in i.message and "is full" in i.message for i in caught.value.issues)


def test_silo_to_pool_keeps_the_old_silo_server_with_its_names() -> None:
    before = _blueprint()
    during = _blueprint(_moving(0, "free", tier="enterprise"))
    old = next(s for s in before.servers if s.owner == "acme")
    kept = next(s for s in during.servers if s.owner == "acme")
    assert kept.is_silo and kept.component_name == "silo-acme"
    assert (kept.server_name, kept.key_name, kept.tier) == (
        old.server_name,
        old.key_name,
        "enterprise",
    )
    (shard,) = [s for s in during.servers if "acme" in s.tenant_ids and not s.is_silo]
    assert shard.owner.startswith("free-") and shard.isolation == "pool"
    # The blueprint's tenant is the new home; its old home rides along.
    (acme,) = [p for p in during.tenants if p.id == "acme"]
    assert acme.isolation == "pool" and acme.old_home is not None and acme.old_home.leaving


def test_pool_to_silo_keeps_the_tenant_in_its_old_shards_list() -> None:
    before = _blueprint()
    during = _blueprint(_moving(2, "enterprise", tier="free"))
    (old_shard,) = [s for s in before.servers if "hooli" in s.tenant_ids]
    kept = next(s for s in during.servers if s.owner == old_shard.owner)
    assert _facts(kept) == _facts(old_shard)  # same tenants, settings, tags, names
    assert any(s.owner == "hooli" and s.is_silo for s in during.servers)


def test_a_move_changes_no_other_tenants_server() -> None:
    before = {s.owner: s for s in _blueprint().servers}
    during = {s.owner: s for s in _blueprint(_moving(1, "enterprise", tier="standard")).servers}
    assert set(during) == set(before) | {"initech"}
    assert all(_facts(during[owner]) == _facts(spec) for owner, spec in before.items())


def test_the_sql_plan_of_the_old_home_keeps_the_moving_tenant() -> None:
    data = copy.deepcopy(valid_catalog())
    _moving(2, "standard", tier="free", shard="free-01")(data)
    data["tenants"][2]["shard"] = None
    servers = cell_servers(parse_catalog(_dump(data), FILE), CELL)
    isolation, members = servers["free-01"]
    assert isolation == "pool" and [p.id for p in members] == ["hooli"]
    assert members[0].leaving and members[0].isolation == "pool"
    assert "hooli" in [p.id for p in servers["standard-01"][1]]


def test_the_move_command_is_the_issues_contract() -> None:
    assert move_command("acme", "dev-aws-eu-central-1") == (
        'tenancy tenant move acme --stack dev-aws-eu-central-1 --source-dsn "$SOURCE_DSN" '
        '--target-dsn "$TARGET_DSN"'
    )


def test_the_old_homes_workloads_keep_serving_the_moving_tenant() -> None:
    # initech is the standard tier's only tenant, acme the enterprise silo: both move.
    before = {w.namespace: w for w in cell_workloads(_blueprint())}
    during = {
        w.namespace: w
        for w in cell_workloads(
            _blueprint(
                _moving(1, "enterprise", tier="standard"), _moving(0, "free", tier="enterprise")
            )
        )
    }
    assert set(before) <= set(during)  # no namespace of an old home goes away
    assert during["tnc-tier-standard"].tenant_ids == ("initech",)
    assert during["tnc-tier-standard"].leaving_ids == ("initech",)
    assert during["tnc-tenant-acme"].leaving_ids == ("acme",)
    assert "tnc-tenant-initech" in during and not during["tnc-tenant-initech"].leaving_ids
