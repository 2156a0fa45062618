"""Sticky placement: a tenant's shard depends on that tenant alone."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from components.model.catalog import TENANT_ID_PATTERN, Catalog, DatabaseProfile, Tenant, Tier
from components.model.cell import Cell, cell_tenants
from components.model.placement import overflow_issues, shard_names, shard_of

DB = DatabaseProfile(min_capacity=1, max_capacity=8, backup_retention_days=7)
TIERS = {
    "free": Tier(isolation="pool", shards=4, tenants_per_shard=10_000, database=DB),
    "basic": Tier(isolation="pool", shards=1, tenants_per_shard=10_000, database=DB),
    "standard": Tier(isolation="bridge", shards=3, tenants_per_shard=10_000, database=DB),
    "enterprise": Tier(isolation="silo", database=DB),
}
ZONES: dict[str, Any] = {"eu": {"aws": ["eu-central-1"]}}


def _tenant(tenant_id: str, tier: str, shard: str | None = None) -> Tenant:
    return Tenant(
        id=tenant_id,
        name=tenant_id,
        tier=tier,
        cloud="aws",
        region="eu-central-1",
        residency="eu",
        shard=shard,
    )


def _catalog(tenants: list[Tenant], tiers: dict[str, Tier] = TIERS) -> Catalog:
    return Catalog(version=1, residency_zones=ZONES, tiers=tiers, tenants=tenants)


def _placement(catalog: Catalog) -> dict[str, str | None]:
    return {
        placed.id: placed.shard
        for placed in cell_tenants(catalog, Cell("dev", "aws", "eu-central-1"))
    }


ids = st.from_regex(TENANT_ID_PATTERN, fullmatch=True)
tier_names = st.sampled_from(sorted(TIERS))
tenant_lists = st.lists(
    st.tuples(ids, tier_names), min_size=1, max_size=30, unique_by=lambda t: t[0]
)


def _tenants(pairs: list[tuple[str, str]]) -> list[Tenant]:
    return [_tenant(tenant_id, tier) for tenant_id, tier in pairs]


def test_silo_tenants_have_no_shard() -> None:
    assert shard_of(_tenant("acme", "enterprise"), TIERS["enterprise"]) is None


def test_a_pin_wins_over_hashing() -> None:
    for name in shard_names("free", TIERS["free"]):
        assert shard_of(_tenant("acme", "free", shard=name), TIERS["free"]) == name


def test_shard_names_are_tier_and_two_digit_ordinal() -> None:
    assert shard_names("standard", TIERS["standard"]) == [
        "standard-01",
        "standard-02",
        "standard-03",
    ]


def test_hashing_spreads_tenants_over_every_shard() -> None:
    shards = {shard_of(_tenant(f"tenant{n}", "free"), TIERS["free"]) for n in range(200)}
    assert shards == set(shard_names("free", TIERS["free"]))


@settings(max_examples=150, deadline=None)
@given(pairs=tenant_lists, new=st.tuples(ids, tier_names))
def test_adding_a_tenant_never_moves_another(
    pairs: list[tuple[str, str]], new: tuple[str, str]
) -> None:
    before = _placement(_catalog(_tenants(pairs)))
    if new[0] in before:
        return
    after = _placement(_catalog(_tenants([*pairs, new])))
    assert {key: after[key] for key in before} == before


@settings(max_examples=150, deadline=None)
@given(pairs=tenant_lists, data=st.data())
def test_removing_a_tenant_never_moves_another(pairs: list[tuple[str, str]], data: Any) -> None:
    gone = data.draw(st.integers(0, len(pairs) - 1))
    before = _placement(_catalog(_tenants(pairs)))
    after = _placement(_catalog(_tenants(pairs[:gone] + pairs[gone + 1 :])))
    assert after == {key: value for key, value in before.items() if key != pairs[gone][0]}


@settings(max_examples=150, deadline=None)
@given(pairs=tenant_lists, data=st.data())
def test_retiering_a_tenant_never_moves_another(pairs: list[tuple[str, str]], data: Any) -> None:
    index = data.draw(st.integers(0, len(pairs) - 1))
    new_tier = data.draw(tier_names)
    moved = list(pairs)
    moved[index] = (pairs[index][0], new_tier)
    before = _placement(_catalog(_tenants(pairs)))
    after = _placement(_catalog(_tenants(moved)))
    others = {key for key in before if key != pairs[index][0]}
    assert {key: after[key] for key in others} == {key: before[key] for key in others}


@settings(max_examples=150, deadline=None)
@given(pairs=tenant_lists, data=st.data())
def test_placement_does_not_depend_on_list_order(pairs: list[tuple[str, str]], data: Any) -> None:
    shuffled = data.draw(st.permutations(pairs))
    assert _placement(_catalog(_tenants(pairs))) == _placement(_catalog(_tenants(shuffled)))


@settings(max_examples=100, deadline=None)
@given(pairs=tenant_lists, data=st.data())
def test_pins_are_respected(pairs: list[tuple[str, str]], data: Any) -> None:
    tenants = []
    pins = {}
    for tenant_id, tier in pairs:
        pin = None
        if TIERS[tier].isolation != "silo" and data.draw(st.booleans()):
            pin = data.draw(st.sampled_from(shard_names(tier, TIERS[tier])))
            pins[tenant_id] = pin
        tenants.append(_tenant(tenant_id, tier, shard=pin))
    placement = _placement(_catalog(tenants))
    assert {key: placement[key] for key in pins} == pins


@settings(max_examples=100, deadline=None)
@given(pairs=tenant_lists, extra_shards=st.integers(1, 3))
def test_raising_shards_moves_only_tenants_to_new_shards(
    pairs: list[tuple[str, str]], extra_shards: int
) -> None:
    before = _placement(_catalog(_tenants(pairs)))
    grown = dict(TIERS)
    grown["free"] = TIERS["free"].model_copy(update={"shards": TIERS["free"].shards + extra_shards})
    after = _placement(_catalog(_tenants(pairs), grown))
    old_shards = set(shard_names("free", TIERS["free"]))
    for tenant_id, shard in before.items():
        assert after[tenant_id] == shard or after[tenant_id] not in old_shards


def test_overflow_is_reported_for_the_tenants_beyond_capacity() -> None:
    tiers = {"standard": Tier(isolation="bridge", shards=1, tenants_per_shard=2, database=DB)}
    catalog = _catalog([_tenant(f"tenant{n}", "standard") for n in range(4)], tiers)
    issues = overflow_issues(catalog)
    assert [index for index, _message, _hint in issues] == [2, 3]
    assert all("standard-01" in message and "capacity 2" in message for _i, message, _h in issues)


def test_overflow_hint_points_at_a_shard_with_room() -> None:
    tiers = {"standard": Tier(isolation="bridge", shards=2, tenants_per_shard=1, database=DB)}
    tenants = [
        _tenant("alpha", "standard", "standard-01"),
        _tenant("bravo", "standard", "standard-01"),
    ]
    ((index, _message, hint),) = overflow_issues(_catalog(tenants, tiers))
    assert index == 1 and "shard: standard-02" in hint


def test_overflow_counts_each_region_separately() -> None:
    tiers = {"standard": Tier(isolation="bridge", shards=1, tenants_per_shard=1, database=DB)}
    zones: dict[str, Any] = {"eu": {"aws": ["eu-central-1", "eu-west-1"]}}
    first = _tenant("alpha", "standard")
    second = _tenant("bravo", "standard").model_copy(update={"region": "eu-west-1"})
    catalog = Catalog(version=1, residency_zones=zones, tiers=tiers, tenants=[first, second])
    assert overflow_issues(catalog) == []
