"""An Azure Database for PostgreSQL Flexible Server: VNet-only, TLS-only, encrypted with its own key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure

from components.args import ADMIN_USER, ServerArgs, admin_password
from components.azure.alarms import ServerAlertsArgs, metrics_parameter, server_alerts
from components.azure.audit_logging import audit_parameters
from components.azure.entra_admin import entra_administrator
from components.azure.key import VaultKey, VaultKeyArgs, VaultRef
from components.azure.log_workspace import diagnostic_logs
from components.azure.read_replica import FlexibleReadReplica, FlexibleReadReplicaArgs
from components.azure.server_guards import delete_lock, tls_parameters
from components.model.alarms import AlarmSpec, flexible_server_alarms
from components.model.entra import EntraAdminGroup
from components.model.naming import physical_name
from components.model.regions import GeoBackupDecision
from components.model.windows import window_start
from components.tier_server import BuiltServer, one_replica_at_a_time

STORAGE_SIZE_GB = 32  # the smallest disk; auto-grow takes it from there
GEO_BACKUP_TAG = "tenancy:geo-backup"
# General Purpose D-series: 4 GiB per vCore; Burstable cannot do zone-redundant HA.
VCORE_STEPS = (2, 4, 8, 16, 32, 48, 64)


def vcores_for(min_capacity: float) -> int:
    """Smallest General Purpose size whose memory covers the tier's minimum (1 ACU ~ 2 GiB)."""
    return next((v for v in VCORE_STEPS if v * 4 >= min_capacity * 2), VCORE_STEPS[-1])


def sku_for(min_capacity: float) -> dict[str, str]:
    return {"name": f"Standard_D{vcores_for(min_capacity)}ds_v5", "tier": "GeneralPurpose"}


@dataclass(frozen=True)
class FlexibleServerArgs:
    server: ServerArgs
    resource_group_name: Any  # Input[str]
    vault: VaultRef  # where the admin password is kept
    key_uri: Any  # Input[str]: versionless URI of the server's own key
    identity_id: Any  # Input[str]: the only identity that may use that key
    entra_tenant_id: Any  # Input[str]: Microsoft Entra authentication (the IAM-auth analogue)
    geo_backup: GeoBackupDecision
    entra_admin_group: EntraAdminGroup  # the server's only Entra administrator
    geo_key_uri: Any = None  # Input[str]: required by Azure when geo backup is on
    geo_identity_id: Any = None
    log_workspace_id: Any = None  # Input[str]: the cell's Log Analytics workspace; None: none
    # Input[str]: the cell's immutable archive; a regulated server's logs also go there.
    archive_account_id: Any = None
    alert_action_group_id: Any = None  # Input[str]: where the alerts notify; None: nobody


class FlexibleServer(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    server_id: pulumi.Output[str]
    secret_uri: pulumi.Output[str]
    admin_password: pulumi.Output[str]  # secret
    inputs: dict[str, Any]  # the Server's inputs but the password (read replicas copy them)
    alarms: list[AlarmSpec]  # the server's alarms, its replicas' among them

    def __init__(
        self, name: str, args: FlexibleServerArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:azure:FlexibleServer", name, None, opts)
        server = args.server
        child = pulumi.ResourceOptions(parent=self)
        password = admin_password(name, self)
        self.inputs = self._server_inputs(args)
        flexible = azure.dbforpostgresql.Server(
            f"{name}-server",
            **self.inputs,
            administrator_login_password=password,
            # Stateful: Pulumi refuses to delete it in prod until someone unprotects it on purpose.
            opts=pulumi.ResourceOptions(parent=self, protect=server.protect),
        )
        last_tls = tls_parameters(self, name, flexible.name, args.resource_group_name, primary=True)
        last_audit = audit_parameters(
            self, name, flexible.name, args.resource_group_name, server.audit, after=last_tls
        )
        last_parameter = metrics_parameter(
            self, name, flexible.name, args.resource_group_name, after=last_audit
        )
        entra_administrator(
            self,
            name,
            flexible.name,
            args.resource_group_name,
            args.entra_admin_group,
            args.entra_tenant_id,
            after=last_parameter,
        )
        self.alarms = flexible_server_alarms(server.monitoring, vcores_for(server.min_capacity))
        server_alerts(
            self,
            name,
            ServerAlertsArgs(
                server_id=flexible.id,
                rule_prefix=server.physical_name,
                specs=[spec for spec in self.alarms if not spec.on_replica],
                period_minutes=server.monitoring.period_minutes,
                action_group_id=args.alert_action_group_id,
                resource_group_name=args.resource_group_name,
                tags=server.tags,
            ),
        )
        azure.dbforpostgresql.Database(
            f"{name}-database",
            database_name=server.database_name,
            server_name=flexible.name,
            resource_group_name=args.resource_group_name,
            charset="UTF8",
            collation="en_US.utf8",
            opts=pulumi.ResourceOptions(parent=self, protect=server.protect),
        )
        secret = azure.keyvault.Secret(
            f"{name}-admin-secret",
            secret_name=physical_name("azure.key_vault_key", server.physical_name, "admin"),
            vault_name=args.vault.name,
            resource_group_name=args.vault.resource_group_name,
            properties={"value": password, "content_type": "text/plain"},
            tags=dict(server.tags),
            opts=child,
        )
        if server.deletion_protection:
            delete_lock(self, name, flexible.id, server.owner)
        if args.log_workspace_id is not None:
            archive = args.archive_account_id if server.audit.regulated else None
            diagnostic_logs(self, name, flexible.id, args.log_workspace_id, archive)
        self.endpoint = flexible.fully_qualified_domain_name
        self.server_id = flexible.id
        # The URI names the secret; it is not the password, so it need not stay secret.
        self.secret_uri = pulumi.Output.unsecret(secret.properties.secret_uri)
        self.admin_password = pulumi.Output.secret(password)
        self.register_outputs(
            {"endpoint": self.endpoint, "server_id": self.server_id, "secret_uri": self.secret_uri}
        )

    @staticmethod
    def _server_inputs(args: FlexibleServerArgs) -> dict[str, Any]:
        server = args.server
        start = window_start(server.maintenance_window)
        ha = server.high_availability
        geo = args.geo_backup.enabled
        identities = [args.identity_id] + ([args.geo_identity_id] if geo else [])
        encryption: dict[str, Any] = {
            "type": "AzureKeyVault",
            "primary_key_uri": args.key_uri,
            "primary_user_assigned_identity_id": args.identity_id,
        }
        if geo:
            encryption |= {
                "geo_backup_key_uri": args.geo_key_uri,
                "geo_backup_user_assigned_identity_id": args.geo_identity_id,
            }
        return {
            "server_name": server.physical_name,
            "resource_group_name": args.resource_group_name,
            "location": server.region,
            "version": str(server.postgres_major_version),
            "create_mode": "Create",
            "administrator_login": ADMIN_USER,
            "auth_config": {
                "active_directory_auth": "Enabled",
                "password_auth": "Enabled",
                "tenant_id": args.entra_tenant_id,
            },
            "sku": sku_for(server.min_capacity),
            "storage": {"storage_size_gb": STORAGE_SIZE_GB, "auto_grow": "Enabled"},
            "backup": {
                # Azure keeps PITR for the whole retention: there is no separate switch.
                "backup_retention_days": server.backup.retention_days,
                "geo_redundant_backup": "Enabled" if geo else "Disabled",
            },
            "high_availability": (
                {"mode": "ZoneRedundant", "standby_availability_zone": "2"}
                if ha
                else {"mode": "Disabled"}
            ),
            "availability_zone": "1",
            "network": {
                "delegated_subnet_resource_id": server.network.subnet_ids[0],
                "private_dns_zone_arm_resource_id": server.network.private_dns_zone_id,
                "public_network_access": "Disabled",
            },
            "identity": pulumi.Output.all(*identities).apply(
                lambda ids: {
                    "type": "UserAssigned",
                    "user_assigned_identities": {identity: {} for identity in ids},
                }
            ),
            "data_encryption": encryption,
            "maintenance_window": {
                "custom_window": "Enabled",
                "day_of_week": start.azure_day_of_week,
                "start_hour": start.hour,
                "start_minute": start.minute,
            },
            "tags": {**server.tags, GEO_BACKUP_TAG: args.geo_backup.tag_value},
        }


@dataclass(frozen=True)
class CellFacts:
    """What every server of an Azure cell shares: its group, vault(s) and directory."""

    resource_group_name: Any  # Input[str]
    vault: VaultRef
    subscription_id: Any  # Input[str]
    entra_tenant_id: Any  # Input[str]
    geo_backup: GeoBackupDecision
    entra_admin_group: EntraAdminGroup  # tenancy:entraAdminGroup: administers every server
    geo_vault: VaultRef | None = None  # in the paired region, only when geo backup is on
    log_workspace_id: Any = None  # Input[str]: the cell's Log Analytics workspace
    archive_account_id: Any = None  # Input[str]: the cell's immutable log archive, if any
    alert_action_group_id: Any = None  # Input[str]: the cell's action group; None: none


def server_key_args(
    server: ServerArgs, key_name: str, cell: CellFacts, enabled: bool = True
) -> VaultKeyArgs:
    """A server's own key (and identity, and geo-backup key). A departed silo tenant keeps
    the same key under the same name, so both build it here: any drift would replace it."""
    return VaultKeyArgs(
        key_name=key_name,
        identity_name=physical_name("azure.resource", server.physical_name, "cmk"),
        vault=cell.vault,
        subscription_id=cell.subscription_id,
        tags=server.tags,
        encryption=server.encryption,
        geo_vault=cell.geo_vault if cell.geo_backup.enabled else None,
        protect=server.protect,
        enabled=enabled,
    )


def encrypted_flexible_server(
    parent: pulumi.Resource, name: str, server: ServerArgs, key_name: str, cell: CellFacts
) -> BuiltServer:
    """The server's own key and identity, the server and its fixed read replicas (Azure
    cannot autoscale them), as children of ``parent``."""
    key = VaultKey(
        f"{name}-key",
        server_key_args(server, key_name, cell),
        pulumi.ResourceOptions(parent=parent),
    )
    database = FlexibleServer(
        f"{name}-db",
        FlexibleServerArgs(
            server=server,
            resource_group_name=cell.resource_group_name,
            vault=cell.vault,
            key_uri=key.key_uri,
            identity_id=key.identity_id,
            entra_tenant_id=cell.entra_tenant_id,
            geo_backup=cell.geo_backup,
            entra_admin_group=cell.entra_admin_group,
            geo_key_uri=key.geo_key_uri,
            geo_identity_id=key.geo_identity_id,
            log_workspace_id=cell.log_workspace_id,
            archive_account_id=cell.archive_account_id,
            alert_action_group_id=cell.alert_action_group_id,
        ),
        pulumi.ResourceOptions(parent=parent),
    )
    replicas = one_replica_at_a_time(
        parent,
        database,
        server.replicas.min_count,
        lambda index, opts: FlexibleReadReplica(
            f"{name}-replica-{index}",
            FlexibleReadReplicaArgs(
                server=server,
                index=index,
                resource_group_name=cell.resource_group_name,
                source_server_id=database.server_id,
                key_uri=key.key_uri,
                identity_id=key.identity_id,
                primary_inputs=database.inputs,
            ),
            opts,
        ),
    )
    for replica in replicas:
        server_alerts(
            replica,
            replica.logical_name,
            ServerAlertsArgs(
                server_id=replica.server_id,
                rule_prefix=replica.physical_name,
                specs=[spec for spec in database.alarms if spec.on_replica],
                period_minutes=server.monitoring.period_minutes,
                action_group_id=cell.alert_action_group_id,
                resource_group_name=cell.resource_group_name,
                tags=server.tags,
            ),
        )
    return BuiltServer(
        endpoint=database.endpoint,
        secret_ref=database.secret_uri,
        key_ref=key.key_uri,
        admin_user=ADMIN_USER,
        admin_password=database.admin_password,
        ready=database,
        iam_resource=database.server_id,
        replica_endpoints=tuple(replica.endpoint for replica in replicas),
    )
