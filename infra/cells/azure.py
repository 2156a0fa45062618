"""An Azure cell: resource group, private network, Key Vault, then one Flexible Server
per silo tenant and per shard."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_azure_native as azure

from components.args import EncryptionArgs, NetworkArgs, PoolerEndpoint, ServerArgs
from components.azure.alarms import CellAlerting, CellAlertingArgs
from components.azure.audit_archive import AuditArchive, AuditArchiveArgs
from components.azure.export_bucket import ExportBucket, ExportBucketArgs
from components.azure.flexible_server import CellFacts, sku_for
from components.azure.key import VaultRef
from components.azure.log_workspace import LogWorkspace, LogWorkspaceArgs
from components.azure.network import PrivateNetwork, PrivateNetworkArgs
from components.azure.pgbouncer import BuiltinPgBouncer, BuiltinPgBouncerArgs
from components.azure.resource_group import ResourceGroup, ResourceGroupArgs
from components.azure.shard import Shard, ShardArgs
from components.azure.silo import (
    DepartedSiloTenant,
    DepartedSiloTenantArgs,
    SiloTenant,
    SiloTenantArgs,
)
from components.azure.vault import KeyVault, KeyVaultArgs
from components.azure.workload_identity import WorkloadIdentity as EntraWorkloadIdentity
from components.azure.workload_identity import (
    WorkloadIdentityArgs as EntraWorkloadIdentityArgs,
)
from components.k8s.workload import APP_NAME
from components.model.audit import archive_retention_days
from components.model.blueprint import NAME_PREFIX, Blueprint, DepartedSilo, ServerSpec
from components.model.entra import EntraAdminGroup
from components.model.keys import REGULATED_ROTATION_DAYS, is_regulated
from components.model.naming import CELL_ALERTS, CELL_EXPORTS, CELL_LOGS, physical_name
from components.model.regions import GeoBackupDecision, azure_geo_backup
from components.model.stack import StackSettings
from components.model.workloads import WorkloadSpec
from components.postgres.sqlplan import entra_login_role
from components.tier_server import TierServer
from infra.cells import WorkloadIdentity, cell_tags, export_bucket_output, workload_tags
from infra.servers import (
    DeployedServers,
    archived_frameworks,
    deploy_servers,
    keep_departed_keys,
    server_audit,
)


def _resource_group(settings: StackSettings, tags: dict[str, str]) -> Any:
    """An existing resource group from the stack config, else the cell's own."""
    given = settings.network.get("resourceGroupName")
    if given:
        return given
    cell = settings.cell
    group = ResourceGroup(
        "cell-rg",
        ResourceGroupArgs(
            name=physical_name("azure.resource_group", NAME_PREFIX, cell.environment, cell.region),
            location=cell.region,
            tags=tags,
            protect=cell.is_production,
        ),
    )
    return group.name


def _network(settings: StackSettings, group: Any, tags: dict[str, str]) -> NetworkArgs:
    """An existing delegated subnet and private DNS zone from the stack config, else new ones."""
    given = settings.network
    if given.get("delegatedSubnetId") and given.get("privateDnsZoneId"):
        return NetworkArgs(
            network_id=given.get("vnetId"),
            subnet_ids=(given["delegatedSubnetId"],),
            allowed_cidrs=tuple(given.get("allowedCidrs", ("10.0.0.0/8",))),
            private_dns_zone_id=given["privateDnsZoneId"],
        )
    cell = settings.cell
    network = PrivateNetwork(
        "cell-network",
        PrivateNetworkArgs(
            resource_group_name=group,
            location=cell.region,
            vnet_name=physical_name("azure.resource", NAME_PREFIX, cell.environment, "vnet"),
            # Flexible Server requires a zone name ending in its own private DNS suffix.
            dns_zone_name=f"{NAME_PREFIX}-{cell.environment}.private.postgres.database.azure.com",
            tags=tags,
        ),
    )
    return network.network


def _vault(
    name: str,
    suffix: str,
    location: str,
    settings: StackSettings,
    group: Any,
    tenant_id: Any,
    tags: dict[str, str],
    premium: bool,
) -> VaultRef:
    cell = settings.cell
    vault = KeyVault(
        name,
        KeyVaultArgs(
            name=physical_name(
                "azure.key_vault",
                NAME_PREFIX,
                cell.environment,
                suffix,
                unique_seed=f"{pulumi.get_project()}/{cell.stack}",
            ),
            resource_group_name=group,
            location=location,
            tenant_id=tenant_id,
            tags=tags,
            protect=cell.is_production,
            premium=premium,
        ),
    )
    return VaultRef(name=vault.name, resource_group_name=group, location=location)


def cell_facts(
    settings: StackSettings, blueprint: Blueprint, group: Any, tags: dict[str, str]
) -> CellFacts:
    client = azure.authorization.get_client_config_output()
    geo: GeoBackupDecision = azure_geo_backup(
        settings.cell.region, blueprint.residency, blueprint.zone_regions
    )
    # HSM-backed keys need a Premium vault: any server of a pci/hipaa tier in the cell.
    # Departed silo tenants' keys count too: their vault keeps them until destruction.
    specs = (*blueprint.servers, *(departed.spec for departed in blueprint.departed_silos))
    premium = any(is_regulated(spec.tier_compliance) for spec in specs)
    vault = _vault(
        "cell-vault", "kv", settings.cell.region, settings, group, client.tenant_id, tags, premium
    )
    geo_vault = None
    if geo.enabled and geo.pair_region is not None:
        geo_vault = _vault(
            "cell-geo-vault",
            "kvgeo",
            geo.pair_region,
            settings,
            group,
            client.tenant_id,
            tags,
            premium,
        )
    return CellFacts(
        resource_group_name=group,
        vault=vault,
        subscription_id=client.subscription_id,
        entra_tenant_id=client.tenant_id,
        geo_backup=geo,
        entra_admin_group=_entra_admin_group(settings),
        geo_vault=geo_vault,
        log_workspace_id=_log_workspace(settings, blueprint, group, tags).workspace_id,
        archive_account_id=_archive(settings, blueprint, group, vault, client),
        alert_action_group_id=_alerting(settings, group, tags),
    )


def _entra_admin_group(settings: StackSettings) -> EntraAdminGroup:
    group = settings.entra_admin_group
    if group is None:  # parse_stack_settings refuses an Azure stack without one (exit 2)
        raise ValueError("an Azure cell needs tenancy:entraAdminGroup")
    return group


def _archive(
    settings: StackSettings,
    blueprint: Blueprint,
    group: Any,
    vault: VaultRef,
    client: Any,
) -> Any:
    """The cell's immutable copy of its regulated servers' logs; None without one."""
    retention = archive_retention_days(server_audit(spec) for spec in blueprint.servers)
    if retention is None:
        return None
    cell = settings.cell
    env = cell.environment
    archive = AuditArchive(
        "cell-audit-archive",
        AuditArchiveArgs(
            account_name=physical_name(
                "azure.storage_account",
                NAME_PREFIX,
                env,
                CELL_LOGS,
                unique_seed=f"{pulumi.get_project()}/{cell.stack}",
            ),
            key_name=physical_name("azure.key_vault_key", NAME_PREFIX, env, CELL_LOGS, "archive"),
            identity_name=physical_name("azure.resource", NAME_PREFIX, env, CELL_LOGS, "archive"),
            resource_group_name=group,
            location=cell.region,
            vault=vault,
            subscription_id=client.subscription_id,
            retention_days=retention,
            # Azure creates the policy only Unlocked; production locks it from the next deploy.
            locked=cell.is_production and not settings.log_archive_first_deploy,
            tags=cell_tags(settings, blueprint, archived_frameworks(blueprint)),
            # The archive exists only for regulated tiers: their key rules (HSM, 90 days).
            encryption=EncryptionArgs(rotation_period_days=REGULATED_ROTATION_DAYS, hsm=True),
            protect=cell.is_production,
        ),
    )
    return archive.account_id


def _alerting(settings: StackSettings, group: Any, tags: dict[str, str]) -> Any:
    """The cell's action group (its id), or None when the stack names no channel."""
    if not settings.alerts:
        return None
    env = settings.cell.environment
    alerting = CellAlerting(
        "cell-alerts",
        CellAlertingArgs(
            group_name=physical_name("azure.resource", NAME_PREFIX, env, CELL_ALERTS),
            short_name=f"{NAME_PREFIX}-{env}-{CELL_ALERTS}"[:12],
            resource_group_name=group,
            channels=settings.alerts,
            tags=tags,
        ),
    )
    return alerting.action_group_id


def _log_workspace(
    settings: StackSettings, blueprint: Blueprint, group: Any, tags: dict[str, str]
) -> LogWorkspace:
    """The cell's Log Analytics workspace, in the cell's own region, kept as long as the
    cell's longest-retained server needs."""
    cell = settings.cell
    retention = max((server_audit(s).log_retention_days for s in blueprint.servers), default=90)
    return LogWorkspace(
        "cell-logs",
        LogWorkspaceArgs(
            workspace_name=physical_name(
                "azure.resource", NAME_PREFIX, cell.environment, CELL_LOGS
            ),
            resource_group_name=group,
            location=cell.region,
            retention_days=retention,
            tags=tags,
            protect=cell.is_production,
        ),
    )


def _export_bucket(settings: StackSettings, cell: CellFacts, tags: dict[str, str]) -> ExportBucket:
    """The cell's storage account for tenant export archives, in the cell's region."""
    env, region = settings.cell.environment, settings.cell.region
    store = ExportBucket(
        "cell-exports",
        ExportBucketArgs(
            account_name=physical_name(
                "azure.storage_account",
                NAME_PREFIX,
                env,
                CELL_EXPORTS,
                unique_seed=f"{pulumi.get_project()}/{settings.cell.stack}",
            ),
            key_name=physical_name("azure.key_vault_key", NAME_PREFIX, env, CELL_EXPORTS),
            identity_name=physical_name("azure.resource", NAME_PREFIX, env, CELL_EXPORTS, "cmk"),
            resource_group_name=cell.resource_group_name,
            location=region,
            vault=cell.vault,
            subscription_id=cell.subscription_id,
            tags=tags,
            locked=settings.cell.is_production,
            protect=settings.cell.is_production,
        ),
    )
    export_bucket_output("blob", store.account_name, region, store.retention_days)
    return store


class Cell:
    """An Azure cell (see ``infra.cells.CloudCell``)."""

    def __init__(self, settings: StackSettings, blueprint: Blueprint):
        self.settings, self.blueprint = settings, blueprint
        self._identity_group: ResourceGroup | None = None

    def deploy_servers(self) -> DeployedServers:
        settings, blueprint = self.settings, self.blueprint
        tags = cell_tags(settings, blueprint)
        group = _resource_group(settings, tags)
        network = _network(settings, group, tags)
        cell = cell_facts(settings, blueprint, group, tags)
        _export_bucket(settings, cell, tags)
        # "The plan says why": the geo-backup decision is a stack output (and a tag on each server).
        pulumi.export("notes", {"geo_backup": cell.geo_backup.reason})

        def build(spec: ServerSpec, args: ServerArgs) -> TierServer:
            if spec.is_silo:
                return SiloTenant(spec.component_name, SiloTenantArgs(args, spec.key_name, cell))
            return Shard(spec.component_name, ShardArgs(args, spec.key_name, cell))

        def build_pooler(spec: ServerSpec, args: ServerArgs, server: TierServer) -> PoolerEndpoint:
            assert args.pooler is not None  # deploy_servers asks only for pooled servers
            bouncer = BuiltinPgBouncer(
                f"{spec.component_name}-pooler",
                BuiltinPgBouncerArgs(
                    server_name=args.physical_name,
                    resource_group_name=cell.resource_group_name,
                    endpoint=server.endpoint,
                    pooler=args.pooler,
                    sku_tier=sku_for(args.min_capacity)["tier"],
                ),
                # After the whole server: its own parameter updates must not run concurrently.
                pulumi.ResourceOptions(depends_on=[server]),
            )
            return bouncer.facts

        def build_departed(departed: DepartedSilo, args: ServerArgs) -> None:
            DepartedSiloTenant(
                departed.spec.component_name,
                DepartedSiloTenantArgs(
                    args, departed.spec.key_name, cell, departed.phase == "kept"
                ),
            )

        deployed = deploy_servers(settings, blueprint, network, build, build_pooler)
        keep_departed_keys(settings, blueprint, network, build_departed)
        return deployed

    def workload_identity(self, spec: WorkloadSpec, server: TierServer) -> WorkloadIdentity:
        """Entra Workload ID: a user-assigned identity federated with the pod's ServiceAccount."""
        env, region = self.settings.cell.environment, self.settings.cell.region
        tags = workload_tags(self.settings, self.blueprint, spec)
        if self._identity_group is None:
            # Identities outlive no server: their own group keeps them apart from the data.
            self._identity_group = ResourceGroup(
                "workload-identities",
                ResourceGroupArgs(
                    name=physical_name(
                        "azure.resource_group", NAME_PREFIX, env, region, "identities"
                    ),
                    location=region,
                    tags=tags | {"tenancy:tenant": "shared"},
                ),
            )
        identity = EntraWorkloadIdentity(
            f"silo-{spec.owner}-workload-identity",
            EntraWorkloadIdentityArgs(
                identity_name=physical_name("azure.resource", NAME_PREFIX, env, spec.owner, "app"),
                resource_group_name=self._identity_group.name,
                location=region,
                oidc_issuer_url=str(self.settings.app.oidc_issuer_url),
                namespace=spec.namespace,
                service_account=APP_NAME,
                tags=tags,
            ),
        )
        return WorkloadIdentity(
            {"azure.workload.identity/client-id": identity.client_id},
            {"azure.workload.identity/use": "true"},
            # The login role the SQL plan maps the identity to (tenancy db apply --stack-outputs).
            {
                "database_user": entra_login_role(spec.owner),
                "entra_principal_id": identity.principal_id,
            },
        )
