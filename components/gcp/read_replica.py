"""A Cloud SQL read replica of a tenant's or shard's instance.

Cloud SQL cannot autoscale read replicas, so a server gets the tier's
``min_read_replicas`` as a fixed number. A replica is the primary's twin where a
guarantee lives on the instance: same region (residency), same CMEK, private IP
only, TLS only, deletion protection, labels. It differs where Cloud SQL requires:
no backups or PITR of its own (the primary's cover the data), zonal, and never a
failover target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from components.args import ServerArgs, depends_on_of
from components.model.naming import physical_name


def replica_settings(
    primary: gcp.sql.DatabaseInstanceSettingsArgsDict,
) -> gcp.sql.DatabaseInstanceSettingsArgsDict:
    """The primary's settings (tier, disk, network, TLS, flags, labels, deletion
    protection, maintenance) as a replica accepts them."""
    settings = primary.copy()
    # Primary-only settings: a replica inherits the primary's data, not its backup schedule.
    settings.pop("retain_backups_on_delete", None)
    settings["availability_type"] = "ZONAL"
    # Cloud SQL rejects backups and PITR on a replica.
    settings["backup_configuration"] = {"enabled": False}
    return settings


@dataclass(frozen=True)
class CloudSqlReadReplicaArgs:
    server: ServerArgs  # the primary's server settings
    index: int  # 1-based
    project: str | None
    master_instance_name: Any  # Input[str]: the primary instance's name
    kms_key_id: Any  # Input[str]: the primary's CMEK (Cloud SQL requires the same region)
    primary_settings: gcp.sql.DatabaseInstanceSettingsArgsDict  # the primary's ``settings`` input


class CloudSqlReadReplica(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    connection_name: pulumi.Output[str]
    logical_name: str  # the component's name: its children's names start with it
    physical_name: str  # the replica instance's name
    project: pulumi.Output[str]

    def __init__(
        self, name: str, args: CloudSqlReadReplicaArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:gcp:CloudSqlReadReplica", name, None, opts)
        server = args.server
        self.logical_name = name
        self.physical_name = physical_name(
            "gcp.sql_instance", server.physical_name, f"r{args.index}"
        )
        replica = gcp.sql.DatabaseInstance(
            f"{name}-instance",
            name=self.physical_name,
            project=args.project,
            region=server.region,
            database_version=f"POSTGRES_{server.postgres_major_version}",
            master_instance_name=args.master_instance_name,
            instance_type="READ_REPLICA_INSTANCE",
            replica_configuration={"failover_target": False},
            encryption_key_name=args.kms_key_id,
            deletion_protection=server.deletion_protection,
            settings=replica_settings(args.primary_settings),
            # depends_on of a component does not reach its children: pass it on.
            opts=pulumi.ResourceOptions(
                parent=self, protect=server.protect, depends_on=depends_on_of(opts)
            ),
        )
        self.endpoint = replica.private_ip_address
        self.connection_name = replica.connection_name
        self.project = replica.project
        self.register_outputs({"endpoint": self.endpoint, "connection_name": self.connection_name})
