"""An AWS cell: private network, then one Aurora server per silo tenant and per shard."""

from __future__ import annotations

from dataclasses import replace

import pulumi

from components.args import NetworkArgs, PoolerEndpoint, ServerArgs
from components.aws.alarms import CellAlerting, CellAlertingArgs
from components.aws.audit_archive import ArchiveFacts, AuditArchive, AuditArchiveArgs
from components.aws.aurora import CellFacts
from components.aws.export_bucket import ExportBucket, ExportBucketArgs
from components.aws.log_archive import CellLogKey, CellLogKeyArgs
from components.aws.network import PrivateNetwork, PrivateNetworkArgs
from components.aws.rds_proxy import RdsProxy, RdsProxyArgs
from components.aws.shard import Shard, ShardArgs
from components.aws.silo import (
    DepartedSiloTenant,
    DepartedSiloTenantArgs,
    SiloTenant,
    SiloTenantArgs,
)
from components.aws.workload_identity import IrsaRole, IrsaRoleArgs
from components.k8s.workload import APP_NAME
from components.model.audit import archive_lock_mode, archive_retention_days
from components.model.blueprint import NAME_PREFIX, Blueprint, DepartedSilo, ServerSpec
from components.model.naming import CELL_ALERTS, CELL_EXPORTS, CELL_LOGS, physical_name
from components.model.stack import StackSettings
from components.model.workloads import WorkloadSpec
from components.postgres.sqlplan import tenant_role
from components.tier_server import TierServer
from infra.cells import WorkloadIdentity, cell_tags, export_bucket_output, workload_tags
from infra.servers import (
    DeployedServers,
    archived_frameworks,
    deploy_servers,
    keep_departed_keys,
    server_audit,
)


def _network(settings: StackSettings, blueprint: Blueprint) -> NetworkArgs:
    """Existing private subnets from the stack config, else a new private-only VPC."""
    given = settings.network
    if given.get("privateSubnetIds"):
        return NetworkArgs(
            network_id=given["vpcId"],
            subnet_ids=tuple(given["privateSubnetIds"]),
            allowed_cidrs=tuple(given.get("allowedCidrs", ("10.0.0.0/8",))),
        )
    tags = cell_tags(settings, blueprint)
    network = PrivateNetwork(
        "cell-network", PrivateNetworkArgs(region=settings.cell.region, tags=tags)
    )
    return network.network


def _log_key(settings: StackSettings, blueprint: Blueprint) -> CellLogKey:
    """The cell's key for its servers' PostgreSQL logs, in the cell's region."""
    env = settings.cell.environment
    tags = cell_tags(settings, blueprint)
    return CellLogKey(
        "cell-log-key",
        CellLogKeyArgs(
            alias=physical_name("aws.kms_alias", NAME_PREFIX, env, CELL_LOGS),
            region=settings.cell.region,
            tags=tags,
            protect=settings.cell.is_production,
        ),
    )


def _alerting(settings: StackSettings, blueprint: Blueprint, key_arn: object) -> CellAlerting:
    """The cell's alarm topic (encrypted with the log key) and enhanced-monitoring role."""
    env = settings.cell.environment
    return CellAlerting(
        "cell-alerts",
        CellAlertingArgs(
            topic_name=physical_name("aws.resource", NAME_PREFIX, env, CELL_ALERTS),
            role_name=physical_name("aws.resource", NAME_PREFIX, env, CELL_ALERTS, "em"),
            kms_key_arn=key_arn,
            channels=settings.alerts,
            region=settings.cell.region,
            tags=cell_tags(settings, blueprint),
        ),
    )


def _export_bucket(settings: StackSettings, blueprint: Blueprint) -> ExportBucket:
    """The cell's bucket for tenant export archives, in the cell's region."""
    cell = settings.cell
    env = cell.environment
    bucket = ExportBucket(
        "cell-exports",
        ExportBucketArgs(
            bucket_name=physical_name(
                "aws.s3_bucket",
                NAME_PREFIX,
                env,
                CELL_EXPORTS,
                unique_seed=f"{pulumi.get_project()}/{cell.stack}",
            ),
            key_alias=physical_name("aws.kms_alias", NAME_PREFIX, env, CELL_EXPORTS),
            region=cell.region,
            tags=cell_tags(settings, blueprint),
            lock_mode="COMPLIANCE" if cell.is_production else "GOVERNANCE",
            protect=cell.is_production,
        ),
    )
    export_bucket_output("s3", bucket.bucket_name, cell.region, bucket.retention_days)
    return bucket


def _archive(settings: StackSettings, blueprint: Blueprint, key_arn: object) -> ArchiveFacts | None:
    """The cell's immutable copy of its regulated servers' logs (none without one)."""
    retention = archive_retention_days(server_audit(spec) for spec in blueprint.servers)
    if retention is None:
        return None
    cell = settings.cell
    env = cell.environment
    archive = AuditArchive(
        "cell-audit-archive",
        AuditArchiveArgs(
            bucket_name=physical_name(
                "aws.s3_bucket",
                NAME_PREFIX,
                env,
                CELL_LOGS,
                "archive",
                unique_seed=f"{pulumi.get_project()}/{cell.stack}",
            ),
            stream_name=physical_name("aws.resource", NAME_PREFIX, env, CELL_LOGS, "archive"),
            region=cell.region,
            kms_key_arn=key_arn,
            retention_days=retention,
            lock_mode=archive_lock_mode(cell.is_production),
            tags=cell_tags(settings, blueprint, archived_frameworks(blueprint)),
            protect=cell.is_production,
        ),
    )
    return archive.facts


class Cell:
    """An AWS cell (see ``infra.cells.CloudCell``)."""

    def __init__(self, settings: StackSettings, blueprint: Blueprint):
        self.settings, self.blueprint = settings, blueprint

    def deploy_servers(self) -> DeployedServers:
        network = _network(self.settings, self.blueprint)
        log_key = _log_key(self.settings, self.blueprint)
        alerting = _alerting(self.settings, self.blueprint, log_key.arn)
        _export_bucket(self.settings, self.blueprint)
        cell = CellFacts(
            log_key_arn=log_key.arn,
            alert_topic_arn=alerting.topic_arn,
            monitoring_role_arn=alerting.monitoring_role_arn,
            archive=_archive(self.settings, self.blueprint, log_key.arn),
        )

        def build(spec: ServerSpec, args: ServerArgs) -> TierServer:
            if spec.is_silo:
                # The tenant's own workload role is the one principal its key policy names.
                role = self._irsa_role_name(spec.owner)
                encryption = replace(args.encryption, tenant_role_names=(role,))
                args = replace(args, encryption=encryption)
                return SiloTenant(spec.component_name, SiloTenantArgs(args, spec.key_name, cell))
            return Shard(spec.component_name, ShardArgs(args, spec.key_name, cell))

        def build_pooler(spec: ServerSpec, args: ServerArgs, server: TierServer) -> PoolerEndpoint:
            proxy = RdsProxy(
                f"{spec.component_name}-pooler",
                RdsProxyArgs(
                    server=args,
                    cluster_identifier=args.physical_name,
                    secret_arn=server.secret_ref,
                    kms_key_arn=server.key_ref,
                ),
                # A sibling of the server, not a child: the server's name tree stays as it was.
                pulumi.ResourceOptions(depends_on=[server]),
            )
            return proxy.facts

        def build_departed(departed: DepartedSilo, args: ServerArgs) -> None:
            DepartedSiloTenant(
                departed.spec.component_name,
                DepartedSiloTenantArgs(args, departed.spec.key_name, departed.phase == "kept"),
            )

        deployed = deploy_servers(self.settings, self.blueprint, network, build, build_pooler)
        keep_departed_keys(self.settings, self.blueprint, network, build_departed)
        return deployed

    def _irsa_role_name(self, tenant_id: str) -> str:
        env = self.settings.cell.environment
        return physical_name("aws.resource", NAME_PREFIX, env, tenant_id, "app")

    def workload_identity(self, spec: WorkloadSpec, server: TierServer) -> WorkloadIdentity:
        """IRSA: an IAM role the pod's ServiceAccount assumes through the EKS OIDC provider."""
        role = IrsaRole(
            f"silo-{spec.owner}-irsa",
            IrsaRoleArgs(
                role_name=self._irsa_role_name(spec.owner),
                oidc_provider_arn=str(self.settings.app.oidc_provider_arn),
                namespace=spec.namespace,
                service_account=APP_NAME,
                tags=workload_tags(self.settings, self.blueprint, spec),
                # The SQL plan's login role of the tenant, on its own cluster only.
                db_user_arn=pulumi.Output.concat(server.iam_resource, "/", tenant_role(spec.owner)),
            ),
        )
        return WorkloadIdentity({"eks.amazonaws.com/role-arn": role.arn})
