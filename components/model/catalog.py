"""The tenant catalog's typed model (``stacks/tenants.yaml``).

Field names are a public contract (see DESIGN.md): extend, never rename. The
models only check *shape* (types, enums, ranges of single fields); rules that
relate fields to each other live in ``validation.py`` so that every violation
in a catalog can be reported at once.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from components.model.audit import DEFAULT_SLOW_STATEMENT_MS, AuditClass

Cloud = Literal["aws", "azure", "gcp"]
Isolation = Literal["pool", "bridge", "silo"]
Framework = Literal["gdpr", "hipaa", "pci", "soc2", "iso27001"]
# The tenant lifecycle, in order (docs/offboarding.md says when each step may happen):
# active -> suspended -> offboarded -> erased. Offboarded and erased tenants get no new
# resources; their entries stay so ids are never reused and the erasure stays on record.
Status = Literal["active", "suspended", "offboarded", "erased"]
DEPARTED_STATUSES: tuple[Status, ...] = ("offboarded", "erased")

# The one list of clouds the catalog accepts; each has a traits record in clouds.py.
CLOUDS: tuple[Cloud, ...] = get_args(Cloud)
ISOLATIONS: tuple[Isolation, ...] = ("pool", "bridge", "silo")
FRAMEWORKS: tuple[Framework, ...] = ("gdpr", "hipaa", "pci", "soc2", "iso27001")

TENANT_ID_PATTERN = r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$"
TIER_NAME_PATTERN = r"^[a-z][a-z0-9]{1,14}$"
# ddd:hh:mm-ddd:hh:mm, the RDS form; Azure and GCP windows are derived from it.
MAINTENANCE_WINDOW_PATTERN = (
    r"^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-"
    r"(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$"
)

# The newest PostgreSQL major all three services offer GA (clouds.py postgres_major_versions;
# a test keeps it so). Changing a tier's major is an in-place upgrade, rolled out by waves.
DEFAULT_POSTGRES_MAJOR_VERSION = 17
Percent = Annotated[int, Field(ge=1, le=100)]
Capacity = Annotated[float, Field(ge=0, le=256, multiple_of=0.5)]
Replicas = Annotated[int, Field(ge=0, le=1000)]
RetentionDays = Annotated[int, Field(ge=1, le=365)]
ReadReplicas = Annotated[int, Field(ge=0, le=15)]  # Aurora's ceiling; Cloud SQL allows more
Millicores = Annotated[int, Field(ge=10, le=256_000)]
MiB = Annotated[int, Field(ge=16, le=1_048_576)]
# A window's name becomes part of Kubernetes and AWS resource names.
WINDOW_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$"


class _Strict(BaseModel):
    # extra="forbid": a misspelt key is an error, never silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _ScaleWindow(_Strict):
    """A recurring period (start/end as 5-field cron in ``timezone``) with a raised floor."""

    name: str = Field(pattern=WINDOW_NAME_PATTERN, description="e.g. business-hours")
    start: str = Field(description="5-field cron when the window opens, e.g. '0 8 * * 1-5'.")
    end: str = Field(description="5-field cron when the window closes, e.g. '0 19 * * 1-5'.")
    timezone: str = Field(
        default="UTC", description="IANA time zone of start/end, e.g. Europe/Berlin."
    )


class AppScaleWindow(_ScaleWindow):
    """Predictive scaling of the service: a higher replica floor inside the window."""

    min_replicas: Annotated[int, Field(ge=1, le=1000)] = Field(
        description="Replica floor while the window is open (within the tier's min..max)."
    )


class DatabaseScaleWindow(_ScaleWindow):
    """Predictive scaling of the database: a higher read-replica floor inside the window.

    Compute (ACU) floors are not scheduled: Application Auto Scaling cannot drive
    Serverless v2 capacity, and Azure/GCP have no compute autoscale at all.
    """

    min_read_replicas: ReadReplicas = Field(
        description="Read-replica floor while open (AWS shards: Application Auto Scaling)."
    )


class AuditProfile(_Strict):
    """What every server of the tier records in its PostgreSQL log (pgaudit and friends)."""

    log_classes: list[AuditClass] | None = Field(
        default=None,
        min_length=1,
        description=(
            "pgaudit.log classes. Default: [ddl, role, write] on a server holding a HIPAA or "
            "PCI tenant, [ddl, role] otherwise."
        ),
    )
    slow_statement_ms: Annotated[int, Field(ge=0, le=3_600_000)] = Field(
        default=DEFAULT_SLOW_STATEMENT_MS,
        description="log_min_duration_statement: log statements slower than this (ms).",
    )
    log_retention_days: Annotated[int, Field(ge=1, le=3653)] | None = Field(
        default=None,
        description="Days the server's logs are kept. Default: 365 if regulated, else 90.",
    )


class MonitoringProfile(_Strict):
    """Alarm thresholds for every server of the tier (defaults: README's alarm table)."""

    cpu_percent: Percent = Field(default=80, description="Alarm above this CPU %.")
    connections_percent: Percent = Field(
        default=80, description="Alarm above this share of the connection limit (%)."
    )
    memory_percent: Percent = Field(
        default=90, description="Alarm above this memory % (Azure and GCP; Aurora scales it)."
    )
    storage_used_percent: Percent = Field(
        default=85, description="Alarm above this share of storage used (%)."
    )
    replica_lag_seconds: Annotated[int, Field(ge=1, le=86_400)] = Field(
        default=30, description="Alarm when a read replica lags more than this (s)."
    )
    capacity_percent: Percent = Field(
        default=90, description="Alarm when compute nears its max (Aurora ACU utilisation %)."
    )
    deadlocks: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=1, description="Alarm at this many deadlocks in one period."
    )
    failed_connections: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=10, description="Alarm at this many failed connections in one period."
    )
    period_minutes: Annotated[int, Field(ge=1, le=60)] = Field(
        default=5, description="Evaluation period of every alarm (minutes)."
    )
    enhanced_monitoring_interval_seconds: Literal[1, 5, 10, 15, 30, 60] = Field(
        default=60, description="AWS enhanced monitoring interval (s)."
    )


class DatabaseProfile(_Strict):
    """Database sizing and durability for a tier; capacity is in AWS ACUs (1 ACU ~ 2 GiB)."""

    min_capacity: Capacity = Field(description="Minimum compute capacity (ACU-equivalent).")
    max_capacity: Capacity = Field(description="Maximum compute capacity (ACU-equivalent).")
    backup_retention_days: RetentionDays = Field(description="Days automated backups are kept.")
    pitr: bool = Field(
        default=True, description="Point-in-time recovery. On unless explicitly false."
    )
    high_availability: bool = Field(default=False, description="Standby in a second zone.")
    connection_limit: Annotated[int, Field(ge=1, le=10000)] = Field(
        default=20, description="Per-tenant role CONNECTION LIMIT (noisy-neighbour guardrail)."
    )
    statement_timeout_ms: Annotated[int, Field(ge=100, le=86_400_000)] = Field(
        default=30_000, description="Per-tenant role statement_timeout in milliseconds."
    )
    maintenance_window: str = Field(
        "sun:03:00-sun:04:00",
        pattern=MAINTENANCE_WINDOW_PATTERN,
        description="Weekly maintenance window in UTC, ddd:hh:mm-ddd:hh:mm.",
    )
    min_read_replicas: ReadReplicas = Field(
        default=0, description="Fewest read replicas (0: none)."
    )
    max_read_replicas: ReadReplicas = Field(
        default=0, description="Most read replicas autoscaling may add (0: no replica autoscaling)."
    )
    read_replica_cpu_target: Percent = Field(
        default=70, description="Average reader CPU % that replica autoscaling tracks."
    )
    storage_limit_gb: Annotated[int, Field(ge=10, le=65_536)] = Field(
        default=1024, description="Ceiling for automatic storage growth, in GB."
    )
    postgres_major_version: Annotated[int, Field(ge=14, le=18)] = Field(
        default=DEFAULT_POSTGRES_MAJOR_VERSION,
        description=(
            "PostgreSQL major version of the tier's servers (default: the newest major every "
            "cloud offers GA). Raising it upgrades the servers in place, wave by wave."
        ),
    )
    scale_windows: list[DatabaseScaleWindow] = Field(
        default=[], description="Scheduled scale-up windows (predictive scaling)."
    )
    audit: AuditProfile = Field(
        default=AuditProfile(), description="Audit logging of every server of the tier."
    )
    monitoring: MonitoringProfile = Field(
        default=MonitoringProfile(), description="Alarm thresholds of every server of the tier."
    )


class AppProfile(_Strict):
    """Kubernetes sizing and autoscaling of the tenant-facing service.

    Defaults are the product's reference ("standard") configuration.
    """

    min_replicas: Replicas = 2
    max_replicas: Replicas = 50
    cpu_target: Percent = Field(
        default=70, description="HPA average CPU utilisation target, % of request."
    )
    memory_target: Percent = Field(
        default=80, description="HPA average memory utilisation target, % of request."
    )
    cpu_request_millicores: Millicores = 250
    cpu_limit_millicores: Millicores = 1000
    memory_request_mib: MiB = 256
    memory_limit_mib: MiB = 512
    pdb_min_available: Annotated[int, Field(ge=0, le=1000)] = Field(
        default=1,
        description="PodDisruptionBudget minAvailable; below min_replicas so drains can proceed.",
    )
    scale_down_stabilization_seconds: Annotated[int, Field(ge=0, le=3600)] = Field(
        default=300, description="HPA scale-down stabilisation window (Kubernetes allows 0-3600)."
    )
    quota_pods: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        default=None,
        description="Namespace pod quota. Default: max_replicas + 1 (one rollout surge pod).",
    )
    quota_cpu_millicores: Annotated[int, Field(ge=10)] | None = Field(
        default=None,
        description="Namespace CPU-limit quota. Default: quota pods x cpu_limit_millicores.",
    )
    quota_memory_mib: Annotated[int, Field(ge=16)] | None = Field(
        default=None,
        description="Namespace memory-limit quota. Default: quota pods x memory_limit_mib.",
    )
    scale_windows: list[AppScaleWindow] = Field(
        default=[], description="Scheduled scale-up windows (predictive scaling)."
    )

    @property
    def effective_quota_pods(self) -> int:
        return self.quota_pods if self.quota_pods is not None else self.max_replicas + 1

    @property
    def effective_quota_cpu_millicores(self) -> int:
        if self.quota_cpu_millicores is not None:
            return self.quota_cpu_millicores
        return self.effective_quota_pods * self.cpu_limit_millicores

    @property
    def effective_quota_memory_mib(self) -> int:
        if self.quota_memory_mib is not None:
            return self.quota_memory_mib
        return self.effective_quota_pods * self.memory_limit_mib


class Slo(_Strict):
    """What the tier promises; validation checks each figure against the architecture."""

    availability: Annotated[float, Field(ge=90, lt=100)] | None = Field(
        None, description="Monthly uptime % promised, e.g. 99.95."
    )
    rpo_seconds: Annotated[int, Field(ge=0, le=31_536_000)] | None = Field(
        None, description="Most data (in seconds of writes) a failure may lose."
    )
    rto_minutes: Annotated[int, Field(ge=0, le=525_600)] | None = Field(
        None, description="Longest time to get the database back after a failure."
    )


PoolMode = Literal["transaction", "session", "none"]


class PoolingProfile(_Strict):
    """The connection pooler in front of the tier's servers (RDS Proxy, Azure's built-in
    PgBouncer, PgBouncer on GKE); see docs/connection-pooling.md."""

    mode: PoolMode | None = Field(
        default=None,
        description=(
            "transaction (bridge/pool: the default and the only choice), session or none "
            "(silo: default none, no pooler)."
        ),
    )
    default_pool_size: Annotated[int, Field(ge=1, le=4950)] = Field(
        default=10,
        description=(
            "Server connections per (login role, database) pool; at most the tier's "
            "connection_limit."
        ),
    )
    max_client_connections: Annotated[int, Field(ge=1, le=50_000)] = Field(
        default=2000, description="Client connections the pooler accepts in total."
    )
    idle_timeout_seconds: Annotated[int, Field(ge=1, le=28_800)] = Field(
        default=1800,
        description="Idle connections are closed after this (RDS Proxy allows at most 8 h).",
    )
    max_connections_percent: Percent = Field(
        default=90,
        description="AWS RDS Proxy: share of the server's max_connections the proxy may open.",
    )


class Tier(_Strict):
    """A product tier: one isolation model plus sizing, autoscaling and backups."""

    isolation: Isolation
    database: DatabaseProfile
    app: AppProfile = AppProfile()
    slo: Slo | None = Field(None, description="Service level objectives, checked per cloud.")
    tenants_per_shard: Annotated[int, Field(ge=1, le=10000)] | None = Field(
        None,
        description="Capacity of one shared server (bridge/pool). Default: pool 100, bridge 25.",
    )
    shards: Annotated[int, Field(ge=1, le=99)] = Field(
        1, description="Shared servers per cell for this tier (bridge/pool)."
    )
    pooling: PoolingProfile = PoolingProfile()

    @property
    def pool_mode(self) -> PoolMode:
        """The pooling mode in effect: transaction for shared servers, none for silo."""
        if self.pooling.mode is not None:
            return self.pooling.mode
        return "none" if self.isolation == "silo" else "transaction"


class DatabaseOverrides(_Strict):
    min_capacity: Capacity | None = None
    max_capacity: Capacity | None = None
    backup_retention_days: RetentionDays | None = None


class AppOverrides(_Strict):
    min_replicas: Replicas | None = None
    max_replicas: Replicas | None = None
    cpu_target: Percent | None = None
    memory_target: Percent | None = None


class Overrides(_Strict):
    """Per-tenant adjustments; each must stay within its tier's bounds."""

    database: DatabaseOverrides = DatabaseOverrides()
    app: AppOverrides = AppOverrides()


class MovingFrom(_Strict):
    """The home a tenant is leaving: kept by every deploy until the move is verified."""

    tier: str = Field(description="The tier the tenant is moving out of.")
    shard: str | None = Field(
        None,
        description=(
            "Bridge/pool: the shard it is leaving, e.g. free-01. Default: where placement "
            "put it in that tier (its rendezvous shard)."
        ),
    )


class Erasure(_Strict):
    """The record of a tenant's erasure (status: erased), written after `tenancy tenant erase`."""

    # Lax: YAML reads 2026-10-01 as a date, but a quoted "2026-10-01" is just as clear.
    erased_on: datetime.date = Field(
        strict=False, description="Day the tenant's data was erased from its servers (YYYY-MM-DD)."
    )
    evidence: str | None = Field(
        None,
        min_length=1,
        description="Path of the erasure evidence file (JSON), as appended to evidence/chain.jsonl.",
    )
    destroy_key: bool = Field(
        False,
        description=(
            "Silo tenants: approve the destruction of the tenant's own key once the tier's backup "
            "retention has passed (crypto-shredding). Prod requires this explicit approval; dev "
            "schedules it without."
        ),
    )


class Tenant(_Strict):
    id: str = Field(pattern=TENANT_ID_PATTERN, description="Stable id; never reused.")
    name: str = Field(min_length=1, max_length=200)
    tier: str
    cloud: Cloud
    region: str
    residency: str
    compliance: list[Framework] = []
    status: Status = "active"
    legal_hold: bool = Field(
        False, description="Blocks erasure (and key destruction) while true; needs a reason."
    )
    legal_hold_reason: str | None = Field(
        None, min_length=3, max_length=500, description="Why the data must be kept (case, ticket)."
    )
    erasure: Erasure | None = Field(None, description="Set with 'status: erased'.")
    overrides: Overrides = Overrides()
    shard: str | None = Field(None, description="Pin to a shard of the tier, e.g. free-02.")
    moving_from: MovingFrom | None = Field(
        None,
        description=(
            "Set while the tenant moves to 'tier' (its new home): the old home is kept until "
            "`tenancy tenant move` has verified the move; remove it afterwards."
        ),
    )

    @property
    def departed(self) -> bool:
        """Offboarded or erased: the tenant gets no new resources and holds no shard slot."""
        return self.status in DEPARTED_STATUSES


class Catalog(_Strict):
    version: Literal[1]
    residency_zones: dict[str, dict[Cloud, list[str]]] = Field(
        description="zone -> cloud -> regions where the zone's data may live."
    )
    tiers: dict[str, Tier]
    tenants: list[Tenant]

    def tier_frameworks(self, tier: str) -> tuple[str, ...]:
        """Every framework a tenant of ``tier`` carries, in any cell (offboarded and erased
        ones hold no data and are left out): what the tier's keys and backups are built for."""
        return tuple(
            sorted(
                {
                    framework
                    for tenant in self.tenants
                    if tenant.tier == tier and not tenant.departed
                    for framework in tenant.compliance
                }
            )
        )


DEFAULT_TENANTS_PER_SHARD: dict[Isolation, int] = {"pool": 100, "bridge": 25, "silo": 1}
