"""A Cloud SQL for PostgreSQL instance: private IP only, TLS only, encrypted with its own CMEK."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from components.args import ADMIN_USER, ServerArgs, admin_password
from components.gcp.alarms import InstanceAlertsArgs, instance_alerts
from components.gcp.audit_logging import cloudsql_audit_flags
from components.gcp.backup import ImmutableBackup, ImmutableBackupArgs
from components.gcp.key import CloudKmsKey, CloudKmsKeyArgs
from components.gcp.read_replica import CloudSqlReadReplica, CloudSqlReadReplicaArgs
from components.gcp.secret import DatabaseSecret, DatabaseSecretArgs
from components.model.alarms import AlarmSpec, cloudsql_alarms
from components.model.naming import physical_name
from components.model.pgbouncer import server_ca_bundle
from components.model.windows import hh_mm_start, window_start
from components.tier_server import BuiltServer, one_replica_at_a_time

DISK_SIZE_GB = 20  # the starting disk; auto-resize grows it up to the tier's limit
# Enterprise edition keeps at most 7 days of transaction logs: the PITR window.
MAX_TRANSACTION_LOG_DAYS = 7
DATABASE_FLAGS = {
    "cloudsql.iam_authentication": "on",  # IAM database authentication (the AWS IAM-auth analogue)
    "log_connections": "on",
    # Logical decoding, which `tenancy tenant move` streams with (Cloud SQL restarts the
    # instance to apply it). Replicas copy the flags: PostgreSQL 16 decodes on standbys too.
    "cloudsql.logical_decoding": "on",
}
VCPU_STEPS = (2, 4, 8, 16, 32, 64)


def machine_vcpus(min_capacity: float) -> int:
    """Smallest custom machine whose memory covers the tier's minimum (1 ACU ~ 2 GiB)."""
    return next((v for v in VCPU_STEPS if v * 3.75 >= min_capacity * 2), VCPU_STEPS[-1])


def machine_tier(min_capacity: float) -> str:
    vcpus = machine_vcpus(min_capacity)
    return f"db-custom-{vcpus}-{vcpus * 3840}"


def machine_memory_gib(min_capacity: float) -> float:
    return machine_vcpus(min_capacity) * 3.75


def instance_alarms(server: ServerArgs, failed_connections_metric: str | None) -> list[AlarmSpec]:
    """The tier's alarms for an instance of this size (no failed-login alarm without the
    cell's log metric)."""
    specs = cloudsql_alarms(
        server.monitoring, machine_memory_gib(server.min_capacity), failed_connections_metric or ""
    )
    return [s for s in specs if failed_connections_metric or s.key != "failed-connections"]


@dataclass(frozen=True)
class CloudSqlServerArgs:
    server: ServerArgs
    project: str | None
    kms_key_id: Any  # Input[str]: the tenant's or shard's own crypto key
    backup_location: str  # a region of the residency zone (model.regions)
    secret_replica_locations: Sequence[str]  # regions of the residency zone (model.regions)
    alert_channel_ids: Sequence[Any] = ()  # Input[str] each: where the alerts notify
    failed_connections_metric: str | None = None  # the cell's log metric; None: no such alert


class CloudSqlServer(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    connection_name: pulumi.Output[str]
    instance_name: pulumi.Output[str]
    iam_resource: pulumi.Output[str]
    secret_id: pulumi.Output[str]
    admin_password: pulumi.Output[str]  # secret
    # The instance's settings input (read replicas copy it).
    settings: gcp.sql.DatabaseInstanceSettingsArgsDict
    alarms: list[AlarmSpec]  # the instance's alarms, its replicas' among them

    def __init__(
        self, name: str, args: CloudSqlServerArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:gcp:CloudSqlServer", name, None, opts)
        server = args.server
        child = pulumi.ResourceOptions(parent=self)
        self.settings = self._settings(args)
        instance = gcp.sql.DatabaseInstance(
            f"{name}-instance",
            name=server.physical_name,
            project=args.project,
            region=server.region,
            database_version=f"POSTGRES_{server.postgres_major_version}",
            # A major upgrade of a primary with read replicas takes them along (pulumi-gcp
            # 10.2: "in-place major version upgrades of read replicas along with the primary
            # instance when database_version is updated"). The replicas' own databaseVersion
            # is the same tier setting and they depend on the primary, so Pulumi updates
            # them after it, to the version they already run by then.
            **(
                {"include_replicas_for_major_version_upgrade": True}
                if server.replicas.min_count
                else {}
            ),
            encryption_key_name=args.kms_key_id,
            # The provider's flag: `pulumi destroy` refuses while it is on.
            deletion_protection=server.deletion_protection,
            settings=self.settings,
            # Stateful: Pulumi refuses to delete it in prod until someone unprotects it on purpose.
            opts=pulumi.ResourceOptions(parent=self, protect=server.protect),
        )
        gcp.sql.Database(
            f"{name}-database",
            name=server.database_name,
            instance=instance.name,
            project=args.project,
            charset="UTF8",
            collation="en_US.UTF8",
            opts=pulumi.ResourceOptions(parent=self, protect=server.protect),
        )
        password = admin_password(name, self)
        gcp.sql.User(
            f"{name}-admin",
            name=ADMIN_USER,
            instance=instance.name,
            project=args.project,
            type="BUILT_IN",
            password=password,
            opts=child,
        )
        secret = DatabaseSecret(
            f"{name}-admin-secret",
            DatabaseSecretArgs(
                secret_id=physical_name("gcp.secret", server.physical_name, "admin"),
                project=args.project,
                replica_locations=tuple(args.secret_replica_locations),
                value=password,
                kms_key_id=args.kms_key_id,
                labels=server.tags,
                protect=server.protect,
            ),
            child,
        )
        self.alarms = instance_alarms(server, args.failed_connections_metric)
        instance_alerts(
            self,
            name,
            InstanceAlertsArgs(
                project=args.project or instance.project,
                instance_name=server.physical_name,
                specs=[spec for spec in self.alarms if not spec.on_replica],
                period_minutes=server.monitoring.period_minutes,
                channel_ids=args.alert_channel_ids,
                labels=server.tags,
            ),
        )
        self.endpoint = instance.private_ip_address
        # Every CA the instance lists (two during a CA rotation): what its pooler trusts. The
        # instance has a CA of its own (server_ca_mode GOOGLE_MANAGED_INTERNAL_CA, below),
        # so these are its own CAs and no other instance's.
        self.server_ca_pem = instance.server_ca_certs.apply(
            lambda certs: server_ca_bundle([cert.cert for cert in certs or []])
        )
        self.connection_name = instance.connection_name
        self.instance_name = instance.name
        # The instance as IAM conditions name it (resource.name).
        self.iam_resource = pulumi.Output.concat(
            "projects/", instance.project, "/instances/", instance.name
        )
        self.secret_id = secret.secret_id
        self.admin_password = pulumi.Output.secret(password)
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "connection_name": self.connection_name,
                "instance_name": self.instance_name,
                "secret_id": self.secret_id,
            }
        )

    @staticmethod
    def _settings(args: CloudSqlServerArgs) -> gcp.sql.DatabaseInstanceSettingsArgsDict:
        server = args.server
        start = window_start(server.maintenance_window)
        return {
            "tier": machine_tier(server.min_capacity),
            "edition": "ENTERPRISE",
            "availability_type": "REGIONAL" if server.high_availability else "ZONAL",
            # The API's flag: the instance cannot be deleted by any client while it is on.
            "deletion_protection_enabled": server.deletion_protection,
            "disk_type": "PD_SSD",
            "disk_size": DISK_SIZE_GB,
            "disk_autoresize": True,
            "disk_autoresize_limit": server.storage_limit_gb,
            "ip_configuration": {
                "ipv4_enabled": False,
                "private_network": server.network.network_id,
                "ssl_mode": "ENCRYPTED_ONLY",
                # Cloud SQL's default, set so no default change can move it: a CA of this
                # instance alone, so the pooler that trusts its serverCaCerts trusts no other
                # instance's certificate (docs/connection-pooling.md).
                "server_ca_mode": "GOOGLE_MANAGED_INTERNAL_CA",
                "enable_private_path_for_google_cloud_services": False,
            },
            "backup_configuration": {
                "enabled": True,
                "point_in_time_recovery_enabled": server.backup.pitr,
                "start_time": hh_mm_start(server.backup.window_utc),
                "location": args.backup_location,
                "transaction_log_retention_days": min(
                    server.backup.retention_days, MAX_TRANSACTION_LOG_DAYS
                ),
                # One automated backup a day: a count of backups is a number of days.
                "backup_retention_settings": {
                    "retained_backups": server.backup.retention_days,
                    "retention_unit": "COUNT",
                },
            },
            "retain_backups_on_delete": True,
            "database_flags": [
                {"name": flag, "value": value}
                for flag, value in {**DATABASE_FLAGS, **cloudsql_audit_flags(server.audit)}.items()
            ],
            "maintenance_window": {
                "day": start.gcp_day,
                "hour": start.hour,
                "update_track": "stable",
            },
            "insights_config": {"query_insights_enabled": True},
            "user_labels": dict(server.tags),
        }


@dataclass(frozen=True)
class CellFacts:
    """What every server of a GCP cell shares."""

    project: str | None
    service_agent_members: Mapping[str, Any]  # agent -> Input[str] IAM member
    backup_location: str
    secret_replica_locations: tuple[str, ...]
    alert_channel_ids: tuple[Any, ...] = ()  # Input[str] each: the cell's channels
    failed_connections_metric: str | None = None  # the cell's failed-login log metric


def encrypted_cloudsql(
    parent: pulumi.Resource, name: str, server: ServerArgs, key_name: str, cell: CellFacts
) -> BuiltServer:
    """The CMEK, the instance it encrypts and the server's fixed read replicas (Cloud SQL
    cannot autoscale them), as children of ``parent`` (a silo tenant or a shard)."""
    key = CloudKmsKey(
        f"{name}-key",
        CloudKmsKeyArgs(
            name=key_name,
            project=cell.project,
            location=server.region,
            service_agent_members=cell.service_agent_members,
            labels=server.tags,
            encryption=server.encryption,
            protect=server.protect,
        ),
        pulumi.ResourceOptions(parent=parent),
    )
    database = CloudSqlServer(
        f"{name}-db",
        CloudSqlServerArgs(
            server=server,
            project=cell.project,
            kms_key_id=key.key_id,
            backup_location=cell.backup_location,
            secret_replica_locations=cell.secret_replica_locations,
            alert_channel_ids=cell.alert_channel_ids,
            failed_connections_metric=cell.failed_connections_metric,
        ),
        pulumi.ResourceOptions(parent=parent),
    )
    replicas = one_replica_at_a_time(
        parent,
        database,
        server.replicas.min_count,
        lambda index, opts: CloudSqlReadReplica(
            f"{name}-replica-{index}",
            CloudSqlReadReplicaArgs(
                server=server,
                index=index,
                project=cell.project,
                master_instance_name=database.instance_name,
                kms_key_id=key.key_id,
                primary_settings=database.settings,
            ),
            opts,
        ),
    )
    for replica in replicas:
        instance_alerts(
            replica,
            replica.logical_name,
            InstanceAlertsArgs(
                project=cell.project or replica.project,
                instance_name=replica.physical_name,
                specs=[spec for spec in database.alarms if spec.on_replica],
                period_minutes=server.monitoring.period_minutes,
                channel_ids=cell.alert_channel_ids,
                labels=server.tags,
            ),
        )
    if server.backup.immutable:
        ImmutableBackup(
            f"{name}-backup",
            ImmutableBackupArgs(
                owner_name=server.physical_name,
                project=cell.project,
                instance_id=database.iam_resource,
                kms_key_id=key.key_id,
                retention_days=server.backup.retention_days,
                region=server.region,
                labels=server.tags,
                protect=server.protect,
            ),
            pulumi.ResourceOptions(parent=parent),
        )
    return BuiltServer(
        endpoint=database.endpoint,
        secret_ref=database.secret_id,
        key_ref=key.key_id,
        admin_user=ADMIN_USER,
        admin_password=database.admin_password,
        ready=database,
        iam_resource=database.iam_resource,
        replica_endpoints=tuple(replica.endpoint for replica in replicas),
        server_ca_pem=database.server_ca_pem,
    )
