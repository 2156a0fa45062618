"""Sticky placement of bridge/pool tenants onto the shared servers (shards) of a cell.

Mechanism: a tenant's shard is its explicit pin (``shard:`` in the catalog) or,
when unpinned, the winner of rendezvous (highest-random-weight) hashing of its
id over the tier's shards. Either way the result depends on the tenant alone
-- its id, tier and the tier's shard count -- never on which other tenants
exist or where they sit in the list. So adding, removing or re-tiering one
tenant cannot move another; that is the stickiness guarantee, and the property
tests in tests/components/model/test_placement.py check it.

Capacity (``tenants_per_shard``) is therefore enforced, not balanced: a shard
that would overflow is a validation error naming the tenants, with a pin to a
shard that has room as the fix. Raising ``shards`` is an operator decision;
rendezvous hashing then moves only the unpinned tenants whose winner becomes
a *new* shard, and ``tenancy diff`` flags every such move.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from .catalog import DEFAULT_TENANTS_PER_SHARD, Catalog, Tenant, Tier


@dataclass(frozen=True, order=True)
class ShardKey:
    """A shared server: one per (cloud, region, tier, ordinal); the cell adds the environment."""

    cloud: str
    region: str
    tier: str
    ordinal: int

    @property
    def name(self) -> str:
        return f"{self.tier}-{self.ordinal:02d}"


def shard_names(tier_name: str, tier: Tier) -> list[str]:
    return [f"{tier_name}-{n:02d}" for n in range(1, tier.shards + 1)]


def _weight(tenant_id: str, shard: str) -> int:
    digest = hashlib.blake2b(f"{shard}/{tenant_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def shard_of(tenant: Tenant, tier: Tier) -> str | None:
    """The shard a tenant lives on, or None for silo tenants (they own their server)."""
    if tier.isolation == "silo":
        return None
    if tenant.shard is not None:
        return tenant.shard
    return max(shard_names(tenant.tier, tier), key=lambda shard: _weight(tenant.id, shard))


def capacity(tier: Tier) -> int:
    return tier.tenants_per_shard or DEFAULT_TENANTS_PER_SHARD[tier.isolation]


def _occupied(catalog: Catalog, tenant: Tenant) -> list[tuple[str, str]]:
    """(tier, shard) of every shard holding the tenant: a moving tenant holds its old one too."""
    from .moves import old_tier_tenant  # local: moves builds on this module

    placements = [tenant]
    if tenant.moving_from is not None and tenant.moving_from.tier in catalog.tiers:
        placements.append(old_tier_tenant(tenant))
    found = []
    for placed in placements:
        shard = shard_of(placed, catalog.tiers[placed.tier])
        if shard is not None:
            found.append((placed.tier, shard))
    return found


def occupancy(catalog: Catalog) -> dict[ShardKey, list[int]]:
    """Tenant indices per shard, across all cells; offboarded and erased tenants free their slot."""
    shards: dict[ShardKey, list[int]] = defaultdict(list)
    for index, tenant in enumerate(catalog.tenants):
        if tenant.departed:
            continue
        for tier, shard in _occupied(catalog, tenant):
            ordinal = int(shard.rsplit("-", 1)[1])
            shards[ShardKey(tenant.cloud, tenant.region, tier, ordinal)].append(index)
    return shards


def overflow_issues(catalog: Catalog) -> list[tuple[int, str, str]]:
    """(tenant index, message, hint) for every tenant beyond its shard's capacity."""
    shards = occupancy(catalog)
    issues = []
    for key, indices in sorted(shards.items()):
        tier = catalog.tiers[key.tier]
        limit = capacity(tier)
        if len(indices) <= limit:
            continue
        roomy = [
            name
            for name in shard_names(key.tier, tier)
            if len(shards.get(ShardKey(key.cloud, key.region, key.tier, int(name[-2:])), []))
            < limit
        ]
        fix = f"pin it with 'shard: {roomy[0]}'" if roomy else f"raise tiers.{key.tier}.shards"
        for index in indices[limit:]:
            message = f"shard {key.name} in {key.cloud}/{key.region} is full ({len(indices)} tenants, capacity {limit})"
            issues.append((index, message, f"{fix}, or raise tiers.{key.tier}.tenants_per_shard"))
    return issues
