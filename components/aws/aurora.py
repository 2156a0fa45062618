"""An Aurora PostgreSQL (Serverless v2) cluster, private and encrypted with a tenant or shard CMK."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.args import ADMIN_USER, ServerArgs
from components.aws.alarms import cluster_alarms
from components.aws.audit_archive import ArchiveFacts, archive_subscription
from components.aws.audit_logging import aurora_audit_parameters
from components.aws.backup import ImmutableBackup, ImmutableBackupArgs
from components.aws.key import KmsKey, KmsKeyArgs
from components.aws.log_archive import postgres_log_group
from components.aws.replica_autoscaling import replica_autoscaling
from components.model.alarms import aurora_alarms
from components.model.naming import physical_name
from components.tier_server import BuiltServer

POSTGRES_PORT = 5432
ENGINE = "aurora-postgresql"
# A minor of each major Aurora offers (clouds.py AWS postgres_major_versions); minors then
# move by auto_minor_version_upgrade. A major bump is a deliberate catalog change.
ENGINE_VERSIONS = {14: "14.15", 15: "15.10", 16: "16.6", 17: "17.5"}


def db_user_arn_prefix(cluster_arn: str, cluster_resource_id: str) -> str:
    """``arn:<partition>:rds:<region>:<account>:cluster:<name>`` + ``cluster-ABC`` ->
    ``arn:<partition>:rds-db:<region>:<account>:dbuser:cluster-ABC`` (IAM auth's resource;
    append ``/<db user>``)."""
    _arn, partition, _rds, region, account, *_rest = cluster_arn.split(":")
    return f"arn:{partition}:rds-db:{region}:{account}:dbuser:{cluster_resource_id}"


@dataclass(frozen=True)
class AuroraServerArgs:
    server: ServerArgs
    kms_key_arn: Any  # Input[str]: the tenant's or shard's own CMK
    # Input[str]: the cell's log key; None: RDS creates the log group (unencrypted, kept forever)
    log_key_arn: Any = None
    alert_topic_arn: Any = None  # Input[str]: where the cluster's alarms notify; None: nowhere
    monitoring_role_arn: Any = None  # Input[str]: enhanced monitoring's role; None: off
    # The cell's immutable archive; a regulated server's log group streams into it.
    archive: ArchiveFacts | None = None


class AuroraServer(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    secret_arn: pulumi.Output[str | None]
    cluster_identifier: pulumi.Output[str]
    cluster_resource_id: pulumi.Output[str]
    db_user_arn_prefix: pulumi.Output[str]

    def __init__(
        self, name: str, args: AuroraServerArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:aws:AuroraServer", name, None, opts)
        server = args.server
        child = pulumi.ResourceOptions(parent=self)
        security_group = self._security_group(name, server, child)
        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name=physical_name("aws.db_subnet_group", server.physical_name),
            description=f"Private subnets of {server.owner}",
            subnet_ids=list(server.network.subnet_ids),
            region=server.region,
            tags=dict(server.tags),
            opts=child,
        )
        parameters = self._parameter_group(name, server, child)
        # Before the cluster, or RDS makes the log group itself on first export.
        logs = []
        if args.log_key_arn is not None:
            logs.append(
                postgres_log_group(
                    self,
                    name,
                    server.physical_name,
                    server.audit.log_retention_days,
                    args.log_key_arn,
                    server.region,
                    server.tags,
                    server.protect,
                )
            )
            if server.audit.regulated and args.archive is not None:
                archive_subscription(self, name, logs[0], args.archive, server.region)
        cluster = aws.rds.Cluster(
            f"{name}-cluster",
            **self._cluster_inputs(server, args.kms_key_arn),
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            db_cluster_parameter_group_name=parameters.name,
            # Stateful: Pulumi refuses to delete it in prod until someone unprotects it on purpose.
            opts=pulumi.ResourceOptions(parent=self, protect=server.protect, depends_on=logs),
        )
        for ordinal in range(2 if server.high_availability else 1):
            self._instance(name, server, cluster, ordinal, args)
        readers = server.high_availability or server.replicas.max_count > 0
        cluster_alarms(
            self,
            name,
            server.physical_name,
            aurora_alarms(server.monitoring, server.max_capacity, readers),
            server.monitoring.period_minutes,
            args.alert_topic_arn,
            logs[0] if logs else None,
            server.region,
            server.tags,
        )
        self.endpoint = cluster.endpoint
        self.cluster_arn = cluster.arn
        self.reader_endpoint = cluster.reader_endpoint
        self.cluster_identifier = cluster.cluster_identifier
        self.cluster_resource_id = cluster.cluster_resource_id
        self.db_user_arn_prefix = pulumi.Output.all(cluster.arn, cluster.cluster_resource_id).apply(
            lambda facts: db_user_arn_prefix(facts[0], facts[1])
        )
        # RDS keeps the managed master password in Secrets Manager, encrypted with our CMK.
        self.secret_arn = cluster.master_user_secrets.apply(
            lambda secrets: secrets[0]["secret_arn"] if secrets else None
        )
        self.admin_password = self._managed_password(server.region)
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "reader_endpoint": self.reader_endpoint,
                "secret_arn": self.secret_arn,
            }
        )

    def _managed_password(self, region: str) -> pulumi.Output[str]:
        """The RDS-managed master password, read from Secrets Manager at deploy time (secret)."""

        def read(secret_arn: str | None) -> pulumi.Output[str]:
            version = aws.secretsmanager.get_secret_version_output(
                secret_id=secret_arn or "",
                region=region,
                opts=pulumi.InvokeOutputOptions(parent=self),
            )
            return version.secret_string.apply(lambda text: json.loads(text)["password"])

        return pulumi.Output.secret(self.secret_arn.apply(read))

    @staticmethod
    def _cluster_inputs(server: ServerArgs, kms_key_arn: Any) -> dict[str, Any]:
        return {
            "cluster_identifier": server.physical_name,
            "engine": ENGINE,
            "engine_mode": "provisioned",
            "engine_version": ENGINE_VERSIONS[server.postgres_major_version],
            # A new tier major upgrades the cluster in place (with its instances and its new
            # parameter group) in the maintenance window, instead of being refused.
            "allow_major_version_upgrade": True,
            "database_name": server.database_name,
            "port": POSTGRES_PORT,
            "master_username": ADMIN_USER,
            "manage_master_user_password": True,
            "master_user_secret_kms_key_id": kms_key_arn,
            "storage_encrypted": True,
            "kms_key_id": kms_key_arn,
            "iam_database_authentication_enabled": True,
            "enabled_cloudwatch_logs_exports": ["postgresql"],
            "backup_retention_period": server.backup.retention_days,
            "preferred_backup_window": server.backup.window_utc,
            "preferred_maintenance_window": server.maintenance_window,
            "copy_tags_to_snapshot": True,
            "deletion_protection": server.deletion_protection,
            "skip_final_snapshot": False,
            "final_snapshot_identifier": physical_name(
                "aws.rds_cluster", server.physical_name, "final"
            ),
            "delete_automated_backups": False,
            "serverlessv2_scaling_configuration": {
                "min_capacity": server.min_capacity,
                "max_capacity": server.max_capacity,
            },
            "region": server.region,
            "tags": dict(server.tags),
        }

    @staticmethod
    def _security_group(
        name: str, server: ServerArgs, child: pulumi.ResourceOptions
    ) -> aws.ec2.SecurityGroup:
        return aws.ec2.SecurityGroup(
            f"{name}-sg",
            description=f"PostgreSQL of {server.owner}: private clients only",
            vpc_id=server.network.network_id,
            ingress=[
                {
                    "description": "PostgreSQL from private address space",
                    "protocol": "tcp",
                    "from_port": POSTGRES_PORT,
                    "to_port": POSTGRES_PORT,
                    "cidr_blocks": list(server.network.allowed_cidrs),
                }
            ],
            egress=[],  # a database initiates nothing; an explicit empty list drops AWS's allow-all default
            revoke_rules_on_delete=True,
            region=server.region,
            tags=dict(server.tags),
            opts=child,
        )

    @staticmethod
    def _parameter_group(
        name: str, server: ServerArgs, child: pulumi.ResourceOptions
    ) -> aws.rds.ClusterParameterGroup:
        # A parameter group belongs to one major (its family), so each major gets its own:
        # the upgrade creates the new group, switches the cluster to it in the same modify
        # call, then deletes the old one. One group renamed in place would be replaced while
        # the cluster still uses it.
        major = server.postgres_major_version
        return aws.rds.ClusterParameterGroup(
            f"{name}-params-pg{major}",
            name=physical_name("aws.rds_parameter_group", server.physical_name, f"pg{major}"),
            family=f"{ENGINE}{major}",
            description=f"TLS-only settings for {server.owner}",
            parameters=[
                {"name": "rds.force_ssl", "value": "1", "apply_method": "pending-reboot"},
                # Logical decoding, which `tenancy tenant move` streams with. A static
                # parameter: AWS accepts only pending-reboot, so it takes effect at the
                # cluster's next reboot (the move refuses a source without it, exit 2).
                {
                    "name": "rds.logical_replication",
                    "value": "1",
                    "apply_method": "pending-reboot",
                },
                {
                    "name": "ssl_min_protocol_version",
                    "value": "TLSv1.2",
                    "apply_method": "pending-reboot",
                },
                {"name": "log_connections", "value": "1", "apply_method": "immediate"},
                *aurora_audit_parameters(server.audit),
            ],
            region=server.region,
            tags=dict(server.tags),
            opts=child,
        )

    def _instance(
        self,
        name: str,
        server: ServerArgs,
        cluster: aws.rds.Cluster,
        ordinal: int,
        args: AuroraServerArgs,
    ) -> aws.rds.ClusterInstance:
        # Two instances in two AZs give a failover target when the tier asks for HA.
        zone = f"{server.region}{'ab'[ordinal]}"
        return aws.rds.ClusterInstance(
            f"{name}-instance-{ordinal + 1}",
            identifier=physical_name("aws.rds_instance", server.physical_name, str(ordinal + 1)),
            cluster_identifier=cluster.id,
            instance_class="db.serverless",
            # The SDK types an instance's engine as the EngineType enum only (a cluster's takes a str).
            engine=aws.rds.EngineType(ENGINE),
            engine_version=cluster.engine_version,
            availability_zone=zone,
            publicly_accessible=False,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=args.kms_key_arn,
            **self._enhanced_monitoring(server, args.monitoring_role_arn),
            auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True,
            region=server.region,
            tags=dict(server.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )

    @staticmethod
    def _enhanced_monitoring(server: ServerArgs, role_arn: Any) -> dict[str, Any]:
        """OS metrics every ``enhanced_monitoring_interval_seconds``, when the cell has a role."""
        if role_arn is None:
            return {}
        return {
            "monitoring_interval": server.monitoring.enhanced_monitoring_interval_seconds,
            "monitoring_role_arn": role_arn,
        }


@dataclass(frozen=True)
class CellFacts:
    """What every server of an AWS cell shares beyond ``ServerArgs`` (the network travels
    in ``ServerArgs.network``)."""

    log_key_arn: Any = None  # Input[str]: the cell's key for its servers' logs
    alert_topic_arn: Any = None  # Input[str]: the cell's alarm topic
    monitoring_role_arn: Any = None  # Input[str]: the cell's enhanced-monitoring role
    archive: ArchiveFacts | None = None  # the cell's immutable log archive (regulated tiers)


def encrypted_aurora(
    parent: pulumi.Resource,
    name: str,
    server: ServerArgs,
    key_name: str,
    purpose: str,
    cell: CellFacts | None = None,
) -> BuiltServer:
    """The CMK, the cluster it encrypts and its replica autoscaling (``server.replicas``),
    as children of ``parent`` (a silo tenant or a shard)."""
    key = KmsKey(
        f"{name}-key",
        KmsKeyArgs(
            alias=key_name,
            description=f"tenancy: data, secret and backups of {purpose}",
            region=server.region,
            tags=server.tags,
            encryption=server.encryption,
            protect=server.protect,
        ),
        pulumi.ResourceOptions(parent=parent),
    )
    database = AuroraServer(
        f"{name}-db",
        AuroraServerArgs(
            server=server,
            kms_key_arn=key.arn,
            log_key_arn=cell.log_key_arn if cell is not None else None,
            alert_topic_arn=cell.alert_topic_arn if cell is not None else None,
            monitoring_role_arn=cell.monitoring_role_arn if cell is not None else None,
            archive=cell.archive if cell is not None else None,
        ),
        pulumi.ResourceOptions(parent=parent),
    )
    replica_autoscaling(
        parent, name, database.cluster_identifier, server.region, server.tags, server.replicas
    )
    if server.backup.immutable:
        ImmutableBackup(
            f"{name}-backup",
            ImmutableBackupArgs(
                owner_name=server.physical_name,
                cluster_arn=database.cluster_arn,
                kms_key_arn=key.arn,
                retention_days=server.backup.retention_days,
                region=server.region,
                tags=server.tags,
                protect=server.protect,
            ),
            pulumi.ResourceOptions(parent=parent),
        )
    return BuiltServer(
        endpoint=database.endpoint,
        secret_ref=database.secret_arn,
        key_ref=key.arn,
        admin_user=ADMIN_USER,
        admin_password=database.admin_password,
        ready=database,
        iam_resource=database.db_user_arn_prefix,
        replica_endpoints=(database.reader_endpoint,),
    )
