"""Blueprint server specs -> the cloud-neutral ``ServerArgs`` every cloud's components take."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from components.args import BackupArgs, NetworkArgs, ReplicaArgs, ReplicaWindowArgs, ServerArgs
from components.model.blueprint import Blueprint, ServerSpec
from components.model.stack import StackSettings
from components.postgres.sqlplan import tenant_role
from components.tier_server import TierServer


def server_args(spec: ServerSpec, settings: StackSettings, network: NetworkArgs) -> ServerArgs:
    """The cloud-neutral server settings every cloud's components take."""
    database = spec.database
    return ServerArgs(
        owner=spec.owner,
        physical_name=spec.server_name,
        isolation=spec.isolation,
        region=settings.cell.region,
        backup=BackupArgs(retention_days=database.backup_retention_days, pitr=database.pitr),
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
        tenants=spec.tenants,
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


def connection_facts(
    spec: ServerSpec, args: ServerArgs, server: TierServer, tenant_id: str
) -> dict[str, Any]:
    """What an app needs to reach one tenant's data: never a password, only where it lives."""
    facts: dict[str, Any] = {
        "endpoint": server.endpoint,
        "database": args.database_name,
        "isolation": spec.isolation,
        "secret_ref": server.secret_ref,
    }
    if not spec.is_silo:
        facts["shard"] = spec.owner
    if spec.isolation == "bridge":
        facts["schema"] = tenant_role(tenant_id)  # the tenant's schema (and login role)
    return facts


@dataclass(frozen=True)
class DeployedServers:
    """What a cloud cell's deploy hands on, per tenant."""

    connections: dict[str, dict[str, Any]] = field(default_factory=dict)  # the stack output
    # Silo tenants: their own server, whose facts (``iam_resource``) their workload identity needs.
    silo_servers: dict[str, TierServer] = field(default_factory=dict)


def deploy_servers(
    settings: StackSettings,
    blueprint: Blueprint,
    network: NetworkArgs,
    build: Callable[[ServerSpec, ServerArgs], TierServer],
) -> DeployedServers:
    """One server per silo tenant and per shard (``build`` is the cloud's); facts per tenant."""
    deployed = DeployedServers()
    moving_to: dict[str, dict[str, Any]] = {}
    for spec in blueprint.servers:
        args = server_args(spec, settings, network)
        server = build(spec, args)
        if spec.is_silo:  # a tenant has at most one silo home: validation rejects silo->silo
            deployed.silo_servers[spec.owner] = server
        for placed in spec.tenants:
            facts = connection_facts(spec, args, server, placed.id)
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
