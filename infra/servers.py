"""Blueprint server specs -> the cloud-neutral ``ServerArgs`` every cloud's components take."""

from __future__ import annotations

from components.args import BackupArgs, NetworkArgs, ServerArgs
from components.model.blueprint import ServerSpec
from components.model.stack import StackSettings


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
        database_name=spec.owner.replace("-", "_") if spec.is_silo else "app",
        protect=settings.cell.is_production,
        deletion_protection=settings.deletion_protection,
        storage_limit_gb=database.storage_limit_gb,
        read_replicas=database.min_read_replicas,
    )
