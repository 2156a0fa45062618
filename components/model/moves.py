"""Tenants in motion: the home a tenant is leaving is kept until its move is verified.

A catalog entry with ``moving_from: {tier, shard}`` says the tenant's new home is its
``tier`` and its data still lives in the old one. Every deploy then keeps the old
home (a silo server and key, or the tenant's place in an old shard's tenant list)
under the logical names it always had, so nothing there is replaced or deleted,
and also creates the new home. ``tenancy tenant move`` copies and verifies the
data; removing ``moving_from`` afterwards lets the next deploy delete the old home.
"""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import Overrides, Tenant, Tier
from .placement import shard_of


@dataclass(frozen=True, order=True)
class Home:
    """One server a tenant's data lives on: its own silo server, or a shard."""

    kind: str  # "silo" | "shard"
    name: str  # tenant id (silo) or shard name

    def describe(self) -> str:
        return f"silo server of {self.name}" if self.kind == "silo" else f"shard {self.name}"


def home(tenant_id: str, isolation: str, shard: str | None) -> Home:
    return Home("silo", tenant_id) if isolation == "silo" or not shard else Home("shard", shard)


def old_tier_tenant(tenant: Tenant) -> Tenant:
    """The tenant as its old tier placed it. Overrides follow the tenant to its new tier, and
    a shared old home's settings must not depend on one of its tenants."""
    assert tenant.moving_from is not None
    return tenant.model_copy(
        update={
            "tier": tenant.moving_from.tier,
            "shard": tenant.moving_from.shard,
            "overrides": Overrides(),
            "moving_from": None,
        }
    )


def old_shard(tenant: Tenant, old_tier: Tier) -> str | None:
    """The shard a moving tenant is leaving (its pin, else its rendezvous shard); None for silo."""
    return shard_of(old_tier_tenant(tenant), old_tier)


# Shell variables, not placeholders in angle brackets: a pasted command must not redirect.
SOURCE_DSN, TARGET_DSN = '"$SOURCE_DSN"', '"$TARGET_DSN"'


def move_command(tenant_id: str, stack: str) -> str:
    """The command that moves the data and verifies it (the issue's contract)."""
    return (
        f"tenancy tenant move {tenant_id} --stack {stack} "
        f"--source-dsn {SOURCE_DSN} --target-dsn {TARGET_DSN}"
    )


def dsn_hint(source: Home, target: Home) -> str:
    return (
        f"SOURCE_DSN: admin DSN of the {source.describe()}; "
        f"TARGET_DSN: admin DSN of the {target.describe()}"
    )
