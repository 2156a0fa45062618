"""What a cell deploys, decided before anything is registered.

The blueprint resolves every server (silo tenant or shard), its settings, tags
and physical names in pure Python. Building it first means a naming clash or
a config mismatch stops the run before the first resource is registered.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace

from .catalog import Catalog, DatabaseProfile, Isolation, PoolingProfile
from .cell import Cell, PlacedTenant, cell_tenants, place_tenant, shards_in_use, silo_homes
from .clouds import traits
from .erasure import ErasureSchedule, KeyPhase, erasure_schedule, key_phase, key_protected
from .naming import NameRegistry
from .tags import SHARED_TENANT, resource_tags

NAME_PREFIX = "tnc"  # short, so tenant ids keep most of each cloud's length budget


@dataclass(frozen=True)
class ServerSpec:
    """One PostgreSQL server to build: a silo tenant's own, or a shared shard."""

    owner: str  # tenant id or shard name: the root of every logical name
    isolation: Isolation
    tier: str
    tenants: tuple[PlacedTenant, ...]
    database: DatabaseProfile
    tags: dict[str, str]
    server_name: str
    key_name: str
    compliance: tuple[str, ...]  # the server's own tenants' frameworks (its tags)
    pooling: PoolingProfile | None = None  # the tier's pooler (mode resolved), or none
    # Every framework the tier's tenants carry, catalog-wide (components/model/keys.py).
    tier_compliance: tuple[str, ...] = ()

    @property
    def is_silo(self) -> bool:
        return self.isolation == "silo"

    @property
    def component_name(self) -> str:
        """The server component's logical name on every cloud: part of the URN, so API."""
        return f"{'silo' if self.is_silo else 'shard'}-{self.owner}"

    @property
    def tenant_ids(self) -> tuple[str, ...]:
        return tuple(placed.id for placed in self.tenants)


@dataclass(frozen=True)
class DepartedSilo:
    """An offboarded or erased silo tenant of the cell: no server, but its own key, under the
    names its server had, until the erasure schedule lets the key go (``phase``)."""

    spec: ServerSpec  # the server it had: names, tags and key settings stay as they were
    phase: KeyPhase
    protect: bool
    schedule: ErasureSchedule | None  # None while offboarded (no erasure date yet)


@dataclass(frozen=True)
class Blueprint:
    cell: Cell
    residency: str
    tenants: tuple[PlacedTenant, ...]
    servers: tuple[ServerSpec, ...]
    # The cell cloud's regions of the residency zone: where backups, replicas and keys may go.
    zone_regions: tuple[str, ...] = ()
    departed_silos: tuple[DepartedSilo, ...] = ()


def _union_compliance(tenants: list[PlacedTenant]) -> tuple[str, ...]:
    return tuple(
        sorted({framework for placed in tenants for framework in placed.tenant.compliance})
    )


def _server(
    cell: Cell,
    residency: str,
    owner: str,
    tenants: list[PlacedTenant],
    names: NameRegistry,
    seed: str,
    catalog: Catalog,
) -> ServerSpec:
    first = tenants[0]
    silo = first.isolation == "silo"
    compliance = _union_compliance(tenants)
    tags = resource_tags(
        cell.cloud,
        tenant=first.id if silo else SHARED_TENANT,
        tier=first.tier_name,
        isolation=first.isolation,
        residency=residency,
        compliance=compliance,
        environment=cell.environment,
        shard=None if silo else owner,
    )
    # A silo tenant may carry a shard's name as its id (e.g. "free-01"): the claimant
    # says which kind of owner it is, so that clash is caught instead of shared.
    claimant = f"tenant {owner}" if silo else f"shard {owner}"
    server_name = names.claim(
        f"{cell.cloud}.{traits(cell.cloud).server_name_kind}",
        claimant,
        NAME_PREFIX,
        cell.environment,
        owner,
        unique_seed=seed,
    )
    key_name = names.claim(
        f"{cell.cloud}.{traits(cell.cloud).key_name_kind}",
        claimant,
        NAME_PREFIX,
        cell.environment,
        owner,
    )
    return ServerSpec(
        owner,
        first.isolation,
        first.tier_name,
        tuple(tenants),
        first.database,
        tags,
        server_name,
        key_name,
        compliance,
        first.pooling,
        catalog.tier_frameworks(first.tier_name),
    )


def build_blueprint(
    catalog: Catalog,
    cell: Cell,
    residency: str,
    project: str = "tenancy",
    today: datetime.date | None = None,
) -> Blueprint:
    """Servers of a cell: one per silo tenant, one per shard in use, and the old home of every
    tenant in motion (same owner, so same names as before). Raises NamingError on clashes."""
    tenants = cell_tenants(catalog, cell)
    names = NameRegistry()
    seed = f"{project}/{cell.stack}"
    servers = [
        _server(cell, residency, placed.id, [placed], names, seed, catalog)
        for placed in silo_homes(tenants)
    ]
    servers += [
        _server(cell, residency, shard, members, names, seed, catalog)
        for shard, members in shards_in_use(tenants).items()
    ]
    departed = _departed_silos(catalog, cell, residency, names, seed, today)
    zone_regions = tuple(catalog.residency_zones.get(residency, {}).get(cell.cloud, []))
    return Blueprint(cell, residency, tuple(tenants), tuple(servers), zone_regions, departed)


def _departed_silos(
    catalog: Catalog,
    cell: Cell,
    residency: str,
    names: NameRegistry,
    seed: str,
    today: datetime.date | None,
) -> tuple[DepartedSilo, ...]:
    """Offboarded and erased silo tenants of the cell whose key the plan still holds."""
    day = today or datetime.datetime.now(datetime.UTC).date()
    found = []
    for tenant in sorted(catalog.tenants, key=lambda t: t.id):
        in_cell = tenant.cloud == cell.cloud and tenant.region == cell.region
        if not (in_cell and tenant.departed and catalog.tiers[tenant.tier].isolation == "silo"):
            continue
        placed = place_tenant(catalog, tenant)
        spec = _server(cell, residency, tenant.id, [placed], names, seed, catalog)
        # The tier's frameworks leave departed tenants out; the key was built with this
        # tenant's frameworks in them (rotation, HSM), and must not change now.
        spec = replace(spec, tier_compliance=(*spec.tier_compliance, *tenant.compliance))
        schedule = None
        if tenant.status == "erased" and tenant.erasure is not None:
            schedule = erasure_schedule(
                catalog, tenant.id, tenant.erasure.erased_on, cell.environment
            )
        key = schedule.key if schedule else None
        phase = key_phase(tenant, key, day)
        protect = key_protected(phase, key, cell.is_production)
        found.append(DepartedSilo(spec, phase, protect, schedule))
    return tuple(found)
