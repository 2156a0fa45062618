"""Blueprint server specs -> the cloud-neutral ``ServerArgs`` every cloud's components take."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from components.args import (
    BackupArgs,
    EncryptionArgs,
    NetworkArgs,
    PoolerArgs,
    PoolerEndpoint,
    ReplicaArgs,
    ReplicaWindowArgs,
    ServerArgs,
)
from components.model.audit import ServerAudit, resolve_audit
from components.model.blueprint import Blueprint, DepartedSilo, ServerSpec
from components.model.catalog import PoolingProfile
from components.model.keys import is_regulated, rotation_days
from components.model.stack import StackSettings
from components.postgres.sqlplan import tenant_role
from components.tier_server import TierServer


def pooler_args(pooling: PoolingProfile | None) -> PoolerArgs | None:
    if pooling is None or pooling.mode in (None, "none"):
        return None
    return PoolerArgs(
        mode=str(pooling.mode),
        default_pool_size=pooling.default_pool_size,
        max_client_connections=pooling.max_client_connections,
        idle_timeout_seconds=pooling.idle_timeout_seconds,
        max_connections_percent=pooling.max_connections_percent,
    )


def server_args(spec: ServerSpec, settings: StackSettings, network: NetworkArgs) -> ServerArgs:
    """The cloud-neutral server settings every cloud's components take."""
    database = spec.database
    return ServerArgs(
        owner=spec.owner,
        physical_name=spec.server_name,
        isolation=spec.isolation,
        region=settings.cell.region,
        backup=BackupArgs(
            retention_days=database.backup_retention_days,
            pitr=database.pitr,
            immutable=settings.cell.is_production and is_regulated(spec.tier_compliance),
        ),
        network=network,
        tags=spec.tags,
        min_capacity=database.min_capacity,
        max_capacity=database.max_capacity,
        high_availability=database.high_availability,
        maintenance_window=database.maintenance_window,
        # A silo tenant's database is the one its isolation plan owns (tenant_<id>).
        database_name=tenant_role(spec.owner) if spec.is_silo else "app",
        protect=settings.cell.is_production,
        deletion_protection=settings.deletion_protection,
        storage_limit_gb=database.storage_limit_gb,
        postgres_major_version=database.postgres_major_version,
        encryption=EncryptionArgs(
            rotation_period_days=rotation_days(spec.tier_compliance),
            hsm=is_regulated(spec.tier_compliance),
        ),
        tenants=spec.tenants,
        pooler=pooler_args(spec.pooling),
        audit=server_audit(spec),
        monitoring=database.monitoring,
        replicas=ReplicaArgs(
            min_count=database.min_read_replicas,
            max_count=database.max_read_replicas,
            cpu_target_percent=database.read_replica_cpu_target,
            windows=tuple(
                ReplicaWindowArgs(w.name, w.start, w.end, w.timezone, w.min_read_replicas)
                for w in database.scale_windows
            ),
        ),
    )


def archived_frameworks(blueprint: Blueprint) -> tuple[str, ...]:
    """The frameworks of what a cell's immutable log archive holds: its regulated tiers'
    (its tags say so, and its key follows their rules)."""
    audits = [(spec, server_audit(spec)) for spec in blueprint.servers]
    return tuple(sorted({f for spec, a in audits if a.regulated for f in spec.tier_compliance}))


def server_audit(spec: ServerSpec) -> ServerAudit:
    """The tier's audit section, with defaults from the frameworks of the tier's tenants
    (catalog-wide, as for keys and backups): every server of a regulated tier records
    writes, keeps its log a year and copies it to the cell's immutable archive."""
    audit = spec.database.audit
    return resolve_audit(
        audit.log_classes, audit.slow_statement_ms, audit.log_retention_days, spec.tier_compliance
    )


def connection_facts(
    spec: ServerSpec,
    args: ServerArgs,
    server: TierServer,
    tenant_id: str,
    pooler: PoolerEndpoint | None = None,
) -> dict[str, Any]:
    """What an app needs to reach one tenant's data: never a password, only where it lives.

    A pooled server's tenants connect to the pooler (``endpoint``/``port``); the server
    itself stays in ``server_endpoint`` for what needs a session of its own (migrations,
    ``tenancy db apply``, LISTEN)."""
    facts: dict[str, Any] = {
        "endpoint": server.endpoint if pooler is None else pooler.endpoint,
        "replica_endpoints": server.replica_endpoints,  # read-only traffic, straight to replicas
        "database": args.database_name,
        "isolation": spec.isolation,
        "secret_ref": server.secret_ref,
    }
    if not spec.is_silo:
        facts["shard"] = spec.owner
    if spec.isolation == "bridge":
        facts["schema"] = tenant_role(tenant_id)  # the tenant's schema (and login role)
    if pooler is not None:
        facts["port"] = pooler.port
        facts["pool_mode"] = args.pooler.mode if args.pooler else None
        facts["server_endpoint"] = server.endpoint
    return facts


# A cloud's pooler builder: the pooler in front of one built server (``args.pooler`` set).
BuildPooler = Callable[[ServerSpec, ServerArgs, TierServer], PoolerEndpoint]


@dataclass(frozen=True)
class InClusterPooler:
    """A pooler that runs on the cell's Kubernetes cluster (GCP's PgBouncer): the cell
    decides it and the facts point at it; ``infra/workloads.py`` deploys it into
    ``namespace``, next to the apps that use it."""

    spec: ServerSpec
    args: PoolerArgs
    namespace: str
    service_name: str
    server_host: Any  # Output[str]: the server's private IP
    server_ca_pem: Any  # Output[str]: the CAs of the server's certificate (PgBouncer verifies it)
    database: str
    login_roles: tuple[str, ...]
    server: TierServer  # its admin connection sets the roles' verifiers, after its SQL plan


@dataclass(frozen=True)
class DeployedServers:
    """What a cloud cell's deploy hands on, per tenant."""

    connections: dict[str, dict[str, Any]] = field(default_factory=dict)  # the stack output
    # Silo tenants: their own server, whose facts (``iam_resource``) their workload identity needs.
    silo_servers: dict[str, TierServer] = field(default_factory=dict)
    in_cluster_poolers: list[InClusterPooler] = field(default_factory=list)


def deploy_servers(
    settings: StackSettings,
    blueprint: Blueprint,
    network: NetworkArgs,
    build: Callable[[ServerSpec, ServerArgs], TierServer],
    build_pooler: BuildPooler | None = None,
    deployed: DeployedServers | None = None,
) -> DeployedServers:
    """One server per silo tenant and per shard (``build`` is the cloud's), a pooler in
    front of each whose tier pools (``build_pooler``); facts per tenant. ``deployed``: the
    record to fill (a cell's ``build_pooler`` may add its in-cluster poolers to it)."""
    deployed = deployed if deployed is not None else DeployedServers()
    moving_to: dict[str, dict[str, Any]] = {}
    for spec in blueprint.servers:
        args = server_args(spec, settings, network)
        server = build(spec, args)
        pooler = (
            build_pooler(spec, args, server)
            if build_pooler is not None and args.pooler is not None
            else None
        )
        if spec.is_silo:  # a tenant has at most one silo home: validation rejects silo->silo
            deployed.silo_servers[spec.owner] = server
        for placed in spec.tenants:
            facts = connection_facts(spec, args, server, placed.id, pooler)
            # The data of a tenant in motion is at its old home until the move's switch: an
            # app (re)deployed mid-move must keep writing there, not into the target that
            # replication is filling. The new home's facts ride along for the switch.
            if placed.old_home is not None:
                moving_to[placed.id] = facts
            else:
                deployed.connections[placed.id] = facts
    for tenant_id, facts in moving_to.items():
        deployed.connections[tenant_id]["moving_to"] = facts
    return deployed


# A cloud's builder of what a departed silo tenant keeps: its own key (see DepartedSilo).
BuildDepartedKey = Callable[[DepartedSilo, ServerArgs], None]


def keep_departed_keys(
    settings: StackSettings, blueprint: Blueprint, network: NetworkArgs, build: BuildDepartedKey
) -> None:
    """The keys of offboarded and erased silo tenants, under their old names, until the
    erasure schedule lets them go: a key in phase "destroy" is not registered, and Pulumi
    deletes it (the cloud's destruction window then runs)."""
    for departed in blueprint.departed_silos:
        if departed.phase == "destroy":
            continue
        args = server_args(departed.spec, settings, network)
        build(departed, replace(args, protect=departed.protect))
