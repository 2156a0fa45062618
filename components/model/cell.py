"""Cells (environment x cloud x region) and the tenants each one deploys."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .catalog import CLOUDS, AppProfile, Catalog, Cloud, DatabaseProfile, Isolation, Tenant
from .placement import shard_of

STACK_NAME_PATTERN = re.compile(
    rf"^(?P<env>[a-z][a-z0-9]{{1,9}})-(?P<cloud>{'|'.join(CLOUDS)})-(?P<region>[a-z0-9-]+)$"
)
PRODUCTION_ENVIRONMENTS = frozenset({"prod", "production"})


@dataclass(frozen=True)
class Cell:
    environment: str
    cloud: Cloud
    region: str

    @property
    def stack(self) -> str:
        return f"{self.environment}-{self.cloud}-{self.region}"

    @property
    def is_production(self) -> bool:
        return self.environment in PRODUCTION_ENVIRONMENTS


def parse_stack_name(name: str) -> Cell | None:
    """``prod-aws-eu-central-1`` -> Cell; None when the name is not a cell name."""
    match = STACK_NAME_PATTERN.match(name)
    if not match or match["cloud"] not in CLOUDS:
        return None
    return Cell(match["env"], match["cloud"], match["region"])  # type: ignore[arg-type]


@dataclass(frozen=True)
class PlacedTenant:
    """A tenant of a cell with its tier's settings resolved (overrides merged)."""

    tenant: Tenant
    tier_name: str
    isolation: Isolation
    shard: str | None
    database: DatabaseProfile
    app: AppProfile

    @property
    def id(self) -> str:
        return self.tenant.id


def place_tenant(catalog: Catalog, tenant: Tenant) -> PlacedTenant:
    tier = catalog.tiers[tenant.tier]
    overrides = tenant.overrides
    return PlacedTenant(
        tenant=tenant,
        tier_name=tenant.tier,
        isolation=tier.isolation,
        shard=shard_of(tenant, tier),
        database=tier.database.model_copy(update=overrides.database.model_dump(exclude_none=True)),
        app=tier.app.model_copy(update=overrides.app.model_dump(exclude_none=True)),
    )


def cell_tenants(catalog: Catalog, cell: Cell) -> list[PlacedTenant]:
    """Tenants this cell deploys, sorted by id so output never depends on list order.

    Offboarded tenants get nothing: their entries stay in the catalog so ids are
    never reused, and prod `protect` keeps Pulumi from deleting their data.
    """
    chosen = [
        place_tenant(catalog, tenant)
        for tenant in catalog.tenants
        if tenant.cloud == cell.cloud
        and tenant.region == cell.region
        and tenant.status != "offboarded"
    ]
    return sorted(chosen, key=lambda placed: placed.id)


def shards_in_use(tenants: list[PlacedTenant]) -> dict[str, list[PlacedTenant]]:
    """Shard name -> its tenants; only shards with tenants get a server."""
    shards: dict[str, list[PlacedTenant]] = {}
    for placed in tenants:
        if placed.shard is not None:
            shards.setdefault(placed.shard, []).append(placed)
    return dict(sorted(shards.items()))
