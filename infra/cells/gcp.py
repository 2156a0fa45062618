"""A GCP cell: private network, the Cloud SQL service agent, then one Cloud SQL instance
per silo tenant and per shard."""

from __future__ import annotations

import pulumi

from components.args import NetworkArgs, PoolerEndpoint, ServerArgs
from components.gcp.alarms import CellAlerting, CellAlertingArgs
from components.gcp.cloudsql import CellFacts
from components.gcp.export_bucket import ExportBucket, ExportBucketArgs
from components.gcp.log_bucket import CellLogBucket, CellLogBucketArgs
from components.gcp.network import PrivateNetwork, PrivateNetworkArgs
from components.gcp.service_agent import ServiceAgent, ServiceAgentArgs
from components.gcp.shard import Shard, ShardArgs
from components.gcp.silo import (
    DepartedSiloTenant,
    DepartedSiloTenantArgs,
    SiloTenant,
    SiloTenantArgs,
)
from components.gcp.workload_identity import WorkloadIdentity as GkeIdentity
from components.gcp.workload_identity import WorkloadIdentityArgs as GkeIdentityArgs
from components.k8s.workload import APP_NAME
from components.model.blueprint import NAME_PREFIX, Blueprint, DepartedSilo, ServerSpec
from components.model.keys import is_regulated
from components.model.naming import CELL_ALERTS, CELL_EXPORTS, CELL_LOGS, physical_name
from components.model.pgbouncer import PGBOUNCER_PORT, service_host
from components.model.regions import gcp_backup_location, gcp_secret_replicas
from components.model.stack import StackSettings
from components.model.workloads import WorkloadSpec, namespace_name
from components.postgres.sqlplan import APP_LOGIN_ROLE, tenant_role
from components.tier_server import TierServer
from infra.cells import WorkloadIdentity, cell_tags, export_bucket_output
from infra.servers import (
    DeployedServers,
    InClusterPooler,
    deploy_servers,
    keep_departed_keys,
    server_audit,
)


def _network(settings: StackSettings) -> NetworkArgs:
    """An existing VPC (with private services access) from the stack config, else a new one."""
    given = settings.network
    if given.get("networkId"):
        return NetworkArgs(
            network_id=given["networkId"],
            allowed_cidrs=tuple(given.get("allowedCidrs", ("10.0.0.0/8",))),
        )
    network = PrivateNetwork(
        "cell-network",
        PrivateNetworkArgs(
            project=settings.gcp_project,
            network_name=physical_name(
                "gcp.resource", NAME_PREFIX, settings.cell.environment, "vpc"
            ),
        ),
    )
    return network.network


def cell_facts(settings: StackSettings, blueprint: Blueprint) -> CellFacts:
    region, zone, regions = settings.cell.region, blueprint.residency, blueprint.zone_regions
    project = settings.gcp_project
    services = [
        ("cloudsql", "sqladmin.googleapis.com"),
        ("secretmanager", "secretmanager.googleapis.com"),
    ]
    # Immutable backup vaults (regulated tiers in prod) encrypt with the servers' keys too.
    if settings.cell.is_production and any(
        is_regulated(spec.tier_compliance) for spec in blueprint.servers
    ):
        services.append(("backupdr", "backupdr.googleapis.com"))
    agents = {
        agent: ServiceAgent(f"{agent}-agent", ServiceAgentArgs(project, service)).member
        for agent, service in services
    }
    alerting = _alerting(settings, blueprint)
    return CellFacts(
        project=settings.gcp_project,
        service_agent_members=agents,
        alert_channel_ids=tuple(alerting.channel_ids),
        failed_connections_metric=alerting.failed_connections_metric,
        # Both raise ResidencyError before anything is registered if they would leave the zone.
        backup_location=gcp_backup_location(region, zone, regions),
        secret_replica_locations=gcp_secret_replicas(region, zone, regions),
    )


def _alerting(settings: StackSettings, blueprint: Blueprint) -> CellAlerting:
    """The cell's notification channels and failed-login log metric."""
    cell = settings.cell
    prefix = physical_name("gcp.resource", NAME_PREFIX, cell.environment, cell.region, CELL_ALERTS)
    return CellAlerting(
        "cell-alerts",
        CellAlertingArgs(
            project=settings.gcp_project,
            # Log metrics are per project: the cell's region keeps two cells' apart.
            metric_name=f"{prefix}-failed-connections",
            channel_prefix=prefix,
            channels=settings.alerts,
            labels=cell_tags(settings, blueprint),
        ),
    )


def _log_bucket(settings: StackSettings, blueprint: Blueprint) -> CellLogBucket | None:
    """The cell's log bucket and sink, in the cell's region (needs the stack's gcp:project)."""
    if not settings.gcp_project:
        return None
    cell = settings.cell
    audits = [server_audit(spec) for spec in blueprint.servers]
    labels = cell_tags(settings, blueprint)
    return CellLogBucket(
        "cell-logs",
        CellLogBucketArgs(
            bucket_id=physical_name("gcp.resource", NAME_PREFIX, cell.environment, CELL_LOGS),
            key_name=physical_name("gcp.kms", NAME_PREFIX, cell.environment, CELL_LOGS),
            project=settings.gcp_project,
            region=cell.region,
            retention_days=max((a.log_retention_days for a in audits), default=90),
            # Locked retention cannot be shortened: production evidence of regulated data only.
            locked=cell.is_production and any(a.regulated for a in audits),
            labels=labels,
            protect=cell.is_production,
        ),
    )


def login_roles(spec: ServerSpec) -> tuple[str, ...]:
    """Who logs in through a server's pooler: the pool's shared service login, or each
    bridge/silo tenant's own role (bridge isolation rides on the per-tenant login)."""
    if spec.isolation == "pool":
        return (APP_LOGIN_ROLE,)
    return tuple(tenant_role(tenant_id) for tenant_id in spec.tenant_ids)


def in_cluster_pooler(spec: ServerSpec, args: ServerArgs, server: TierServer) -> InClusterPooler:
    assert args.pooler is not None  # deploy_servers asks only for pooled servers
    return InClusterPooler(
        spec=spec,
        args=args.pooler,
        # The apps that use it live in the tier's namespace (a silo's: the tenant's).
        namespace=namespace_name(spec.owner if spec.is_silo else spec.tier, spec.is_silo),
        service_name=physical_name("k8s.dns1123_label", "pgbouncer", spec.owner),
        server_host=server.endpoint,
        server_ca_pem=server.server_ca_pem,
        database=args.database_name,
        login_roles=login_roles(spec),
        server=server,
    )


def _export_bucket(settings: StackSettings, blueprint: Blueprint) -> ExportBucket:
    """The cell's bucket for tenant export archives, in the cell's region."""
    cell = settings.cell
    env = cell.environment
    labels = cell_tags(settings, blueprint)
    bucket = ExportBucket(
        "cell-exports",
        ExportBucketArgs(
            bucket_name=physical_name(
                "gcp.bucket",
                NAME_PREFIX,
                env,
                CELL_EXPORTS,
                unique_seed=f"{pulumi.get_project()}/{cell.stack}",
            ),
            key_name=physical_name("gcp.kms", NAME_PREFIX, env, CELL_EXPORTS),
            project=settings.gcp_project,
            region=cell.region,
            labels=labels,
            locked=cell.is_production,
            protect=cell.is_production,
        ),
    )
    export_bucket_output("gcs", bucket.bucket_name, cell.region, bucket.retention_days)
    return bucket


class Cell:
    """A GCP cell (see ``infra.cells.CloudCell``)."""

    def __init__(self, settings: StackSettings, blueprint: Blueprint):
        self.settings, self.blueprint = settings, blueprint

    def deploy_servers(self) -> DeployedServers:
        cell = cell_facts(self.settings, self.blueprint)
        network = _network(self.settings)
        _log_bucket(self.settings, self.blueprint)
        _export_bucket(self.settings, self.blueprint)

        def build(spec: ServerSpec, args: ServerArgs) -> TierServer:
            if spec.is_silo:
                return SiloTenant(spec.component_name, SiloTenantArgs(args, spec.key_name, cell))
            return Shard(spec.component_name, ShardArgs(args, spec.key_name, cell))

        deployed = DeployedServers()

        def build_pooler(spec: ServerSpec, args: ServerArgs, server: TierServer) -> PoolerEndpoint:
            # PgBouncer on the cluster (Cloud SQL's managed pooling needs Enterprise Plus):
            # deployed with the namespace it serves; its Service name is known already.
            pooler = in_cluster_pooler(spec, args, server)
            deployed.in_cluster_poolers.append(pooler)
            return PoolerEndpoint(
                service_host(pooler.service_name, pooler.namespace), PGBOUNCER_PORT
            )

        def build_departed(departed: DepartedSilo, args: ServerArgs) -> None:
            DepartedSiloTenant(
                departed.spec.component_name,
                DepartedSiloTenantArgs(
                    args, departed.spec.key_name, cell, departed.phase == "kept"
                ),
            )

        deploy_servers(self.settings, self.blueprint, network, build, build_pooler, deployed)
        keep_departed_keys(self.settings, self.blueprint, network, build_departed)
        return deployed

    def workload_identity(self, spec: WorkloadSpec, server: TierServer) -> WorkloadIdentity:
        """GKE Workload Identity: a Google service account the pod's ServiceAccount acts as."""
        env = self.settings.cell.environment
        account = GkeIdentity(
            f"silo-{spec.owner}-workload-identity",
            GkeIdentityArgs(
                account_id=physical_name("gcp.service_account", NAME_PREFIX, env, spec.owner),
                project=str(self.settings.gcp_project),
                namespace=spec.namespace,
                service_account=APP_NAME,
                instance=server.iam_resource,
                database_role=tenant_role(spec.owner),
                database_ready=server.isolation,
            ),
        )
        return WorkloadIdentity({"iam.gke.io/gcp-service-account": account.email})
