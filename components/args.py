"""Argument objects shared by every cloud's components.

An AWS, Azure and GCP server read alike because they take the same
``ServerArgs``; the parity test compares the clouds field by field. The
secure settings are the defaults: opting out takes an explicit argument that
the example stacks never use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.model.catalog import Isolation
from components.model.cell import PlacedTenant


@dataclass(frozen=True)
class EncryptionArgs:
    """Customer-managed key settings (one key per silo tenant, one per shard)."""

    rotation_period_days: int = (
        365  # yearly rotation: PCI DSS 3.6.4, and the AWS/GCP maximum cadence we accept
    )
    deletion_window_days: int = (
        30  # the longest grace period KMS allows; a deleted key makes data unreadable
    )


@dataclass(frozen=True)
class BackupArgs:
    retention_days: int
    pitr: bool = True
    window_utc: str = "01:00-02:00"  # before the default maintenance window, never overlapping it


@dataclass(frozen=True)
class NetworkArgs:
    """Where a server lives: private subnets only; ``None`` ids mean 'create them'."""

    network_id: Any  # Input[str]: VPC id / VNet id / VPC network self link
    subnet_ids: Sequence[Any] = ()  # Input[str] each
    allowed_cidrs: Sequence[str] = ("10.0.0.0/8",)  # only private address space may connect
    private_dns_zone_id: Any = None  # Azure only: Input[str]


@dataclass(frozen=True)
class ServerArgs:
    """One PostgreSQL server: a silo tenant's own, or a bridge/pool shard."""

    owner: str  # tenant id (silo) or shard name (bridge/pool); logical names derive from it
    physical_name: str  # already validated by the naming module for this cloud
    isolation: Isolation
    region: str
    backup: BackupArgs
    network: NetworkArgs
    tags: Mapping[str, str]
    min_capacity: float
    max_capacity: float
    high_availability: bool = False
    maintenance_window: str = "sun:03:00-sun:04:00"
    database_name: str = "app"
    protect: bool = False  # Pulumi `protect`: on in prod
    deletion_protection: bool = True  # the cloud API flag: on everywhere unless opted out
    encryption: EncryptionArgs = field(default_factory=EncryptionArgs)
    postgres_major_version: int = 16
    storage_limit_gb: int = 1024  # ceiling for automatic storage growth, where the cloud has one
    # Fixed read replicas (the tier's min_read_replicas) on Azure and GCP, which cannot
    # autoscale them; AWS autoscales replicas from the whole profile instead (ShardArgs,
    # SiloTenantArgs ``database``), with this number as its floor.
    read_replicas: int = 0
    # The tenants on this server, whose isolation inside PostgreSQL the server applies.
    tenants: tuple[PlacedTenant, ...] = ()


def depends_on_of(opts: pulumi.ResourceOptions | None) -> list[Any]:
    """A component's ``depends_on``, as a list to pass on to its children: Pulumi makes a
    component wait for its dependencies but does not carry them over to its children."""
    depends = opts.depends_on if opts is not None else None
    if depends is None:
        return []
    return list(depends) if isinstance(depends, list | tuple) else [depends]
