"""Cells (environment x cloud x region) and the tenants each one deploys."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .catalog import (
    CLOUDS,
    AppProfile,
    Catalog,
    Cloud,
    DatabaseProfile,
    Isolation,
    PoolingProfile,
    Tenant,
)
from .moves import old_tier_tenant
from .placement import shard_of
from .pooling import pools

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
    # While the catalog says ``moving_from``: the old home, placed as its old tier placed it.
    old_home: PlacedTenant | None = None
    leaving: bool = False  # this placement is an old home (``old_home`` of another)
    # The tier's pooler, its mode resolved; None: the tier's servers get no pooler.
    pooling: PoolingProfile | None = None

    @property
    def id(self) -> str:
        return self.tenant.id

    def homes(self) -> tuple[PlacedTenant, ...]:
        """Every placement that needs a server: the new home, and the old one while moving."""
        return (self,) if self.old_home is None else (self, self.old_home)


def place_tenant(catalog: Catalog, tenant: Tenant) -> PlacedTenant:
    placed = _placed(catalog, tenant, tenant)
    if tenant.moving_from is None:
        return placed
    old = _placed(catalog, tenant, old_tier_tenant(tenant), leaving=True)
    return replace(placed, old_home=old)


def _placed(
    catalog: Catalog, tenant: Tenant, as_placed: Tenant, leaving: bool = False
) -> PlacedTenant:
    """``tenant`` placed where ``as_placed`` (itself, or itself in its old tier) says."""
    tier = catalog.tiers[as_placed.tier]
    overrides = as_placed.overrides
    return PlacedTenant(
        tenant=tenant,
        tier_name=as_placed.tier,
        isolation=tier.isolation,
        shard=shard_of(as_placed, tier),
        database=tier.database.model_copy(update=overrides.database.model_dump(exclude_none=True)),
        app=tier.app.model_copy(update=overrides.app.model_dump(exclude_none=True)),
        leaving=leaving,
        pooling=tier.pooling.model_copy(update={"mode": tier.pool_mode}) if pools(tier) else None,
    )


def cell_tenants(catalog: Catalog, cell: Cell) -> list[PlacedTenant]:
    """Tenants this cell deploys, sorted by id so output never depends on list order.

    Offboarded and erased tenants get nothing: their entries stay in the catalog so ids are
    never reused, and prod `protect` keeps Pulumi from deleting their data.
    """
    chosen = [
        place_tenant(catalog, tenant)
        for tenant in catalog.tenants
        if tenant.cloud == cell.cloud and tenant.region == cell.region and not tenant.departed
    ]
    return sorted(chosen, key=lambda placed: placed.id)


def all_homes(tenants: list[PlacedTenant]) -> list[PlacedTenant]:
    """Every placement that needs a server, old homes of moving tenants included."""
    return [home for placed in tenants for home in placed.homes()]


def silo_homes(tenants: list[PlacedTenant]) -> list[PlacedTenant]:
    """One per silo server: silo tenants, and silo tenants moving out of their own server."""
    return [home for home in all_homes(tenants) if home.isolation == "silo"]


def shards_in_use(tenants: list[PlacedTenant]) -> dict[str, list[PlacedTenant]]:
    """Shard name -> its tenants; only shards with tenants get a server. A moving tenant is
    in its old shard's list too, so that shard keeps its schema or rows until the move."""
    shards: dict[str, list[PlacedTenant]] = {}
    for placed in all_homes(tenants):
        if placed.shard is not None:
            shards.setdefault(placed.shard, []).append(placed)
    return dict(sorted(shards.items()))
