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
import pulumi_random as random

from components.model.audit import ServerAudit
from components.model.catalog import DEFAULT_POSTGRES_MAJOR_VERSION, Isolation, MonitoringProfile
from components.model.cell import PlacedTenant
from components.model.keys import DEFAULT_ROTATION_DAYS, EXPIRY_MARGIN_DAYS


@dataclass(frozen=True)
class EncryptionArgs:
    """Customer-managed key settings (one key per silo tenant, one per shard)."""

    # Yearly by default (PCI DSS 3.6.4); 90 days for regulated tiers (components/model/keys.py).
    rotation_period_days: int = DEFAULT_ROTATION_DAYS
    deletion_window_days: int = (
        30  # the longest grace period KMS allows; a deleted key makes data unreadable
    )
    hsm: bool = False  # HSM-backed key material (Azure: Premium vault, RSA-HSM): pci/hipaa tiers
    # AWS: IAM role names of the tenant's own workloads that may use the key (silo tenants).
    tenant_role_names: tuple[str, ...] = ()

    @property
    def expiry_days(self) -> int:
        """How long a key version lives (Key Vault): past its rotation, never before it."""
        return self.rotation_period_days + EXPIRY_MARGIN_DAYS


@dataclass(frozen=True)
class BackupArgs:
    retention_days: int
    pitr: bool = True
    window_utc: str = "01:00-02:00"  # before the default maintenance window, never overlapping it
    # Copies in the cloud's backup vault that no one can delete before retention ends
    # (AWS Backup Vault Lock, compliance mode): regulated tiers in prod.
    immutable: bool = False


@dataclass(frozen=True)
class NetworkArgs:
    """Where a server lives: private subnets only; ``None`` ids mean 'create them'."""

    network_id: Any  # Input[str]: VPC id / VNet id / VPC network self link
    subnet_ids: Sequence[Any] = ()  # Input[str] each
    allowed_cidrs: Sequence[str] = ("10.0.0.0/8",)  # only private address space may connect
    private_dns_zone_id: Any = None  # Azure only: Input[str]


# The admin login every cloud's server is created with; its password never leaves the
# cloud's secret store (AWS: RDS-managed; Azure, GCP: ``admin_password``).
ADMIN_USER = "tenancy_admin"


@dataclass(frozen=True)
class ReplicaWindowArgs:
    """A scheduled floor on the replica count (AWS scheduled actions; no effect elsewhere)."""

    name: str
    start_cron: str  # 5-field cron, as in the catalog
    end_cron: str
    timezone: str
    min_replicas: int  # the floor while the window is open


@dataclass(frozen=True)
class ReplicaArgs:
    """Read replicas of one server, the same on every cloud.

    Aurora autoscales between ``min_count`` and ``max_count`` on reader CPU (and the
    windows); Flexible Server and Cloud SQL cannot autoscale replicas, so they create
    ``min_count`` fixed replicas and the rest has no effect there (README's knob table).
    """

    min_count: int = 0
    max_count: int = 0
    cpu_target_percent: int = 70
    windows: Sequence[ReplicaWindowArgs] = ()


@dataclass(frozen=True)
class PoolerArgs:
    """The connection pooler in front of one server, from its tier's ``pooling`` section."""

    mode: str  # "transaction" (bridge/pool) or "session" (a silo that asks)
    default_pool_size: int  # server connections per (login role, database)
    max_client_connections: int
    idle_timeout_seconds: int
    max_connections_percent: int  # AWS RDS Proxy's share of the server's max_connections


@dataclass(frozen=True)
class PoolerEndpoint:
    """Where clients of a pooled server connect: the pooler, not the server."""

    endpoint: Any  # Output[str]: private host name or IP of the pooler
    port: int


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
    postgres_major_version: int = DEFAULT_POSTGRES_MAJOR_VERSION  # the tier's setting
    storage_limit_gb: int = 1024  # ceiling for automatic storage growth, where the cloud has one
    replicas: ReplicaArgs = field(default_factory=ReplicaArgs)
    # What the server records in its log (pgaudit classes, slow statements) and for how long.
    audit: ServerAudit = field(default_factory=ServerAudit)
    # Alarm thresholds of the tier (README: alarms per tier).
    monitoring: MonitoringProfile = field(default_factory=MonitoringProfile)
    # The tenants on this server, whose isolation inside PostgreSQL the server applies.
    tenants: tuple[PlacedTenant, ...] = ()
    pooler: PoolerArgs | None = None  # None: clients connect to the server itself


def depends_on_of(opts: pulumi.ResourceOptions | None) -> list[Any]:
    """A component's ``depends_on``, as a list to pass on to its children: Pulumi makes a
    component wait for its dependencies but does not carry them over to its children."""
    depends = opts.depends_on if opts is not None else None
    if depends is None:
        return []
    return list(depends) if isinstance(depends, list | tuple) else [depends]


def admin_password(name: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """A generated admin password (pulumi-random), for clouds that do not manage one.

    Kept in Pulumi state as a secret and written to the cloud's secret store by the caller.
    """
    password = random.RandomPassword(
        f"{name}-admin-password",
        length=32,
        special=True,
        override_special="-_.~",  # URL- and shell-safe
        min_lower=2,
        min_upper=2,
        min_numeric=2,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return password.result
