"""The immutable copy of a cell's audit trail on Azure: a storage account that regulated
servers' diagnostic settings also write to, under a time-based immutability policy.

Diagnostic settings choose their own containers (``insights-logs-<category>``) and append
to blobs hour by hour, so the policy is the account's default (version-level WORM covers
every container, including those Azure Monitor creates later) and allows *protected
append writes*: new blocks may be appended, nothing written may change or go.
The policy is Locked in production (it can then only be lengthened) and Unlocked in dev.

The account is in the cell's region with zone-redundant storage (never GRS: the paired
region may lie outside the residency zone), encrypted with a key of the cell's vault
through its own identity, TLS 1.2 only, no anonymous blob access, no shared keys
(Entra ID only), and its firewall denies everything but trusted Azure services (Azure
Monitor's delivery).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure

from components.args import EncryptionArgs
from components.azure.key import VaultKey, VaultKeyArgs, VaultRef

# Azure's range for immutabilityPeriodSinceCreationInDays.
MAX_IMMUTABILITY_DAYS = 146000


@dataclass(frozen=True)
class AuditArchiveArgs:
    account_name: str  # from the naming module (globally unique, no hyphens)
    key_name: str  # the archive's key in the cell vault
    identity_name: str  # the one identity that may use that key
    resource_group_name: Any  # Input[str]
    location: str  # the cell's region: inside the residency zone
    vault: VaultRef
    subscription_id: Any  # Input[str]
    retention_days: int  # the longest log retention of the cell's regulated servers
    locked: bool  # production: the policy can no longer be shortened or removed
    tags: Mapping[str, str]
    encryption: EncryptionArgs = EncryptionArgs()
    protect: bool = False


class AuditArchive(pulumi.ComponentResource):
    account_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: AuditArchiveArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:azure:AuditArchive", name, None, opts)
        key = VaultKey(
            f"{name}-key",
            VaultKeyArgs(
                key_name=args.key_name,
                identity_name=args.identity_name,
                vault=args.vault,
                subscription_id=args.subscription_id,
                tags=args.tags,
                encryption=args.encryption,
                protect=args.protect,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        account = azure.storage.StorageAccount(
            f"{name}-account",
            account_name=args.account_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="StorageV2",
            sku={"name": "Standard_ZRS"},
            identity={"type": "UserAssigned", "user_assigned_identities": [key.identity_id]},
            encryption={
                "key_source": "Microsoft.Keyvault",
                "key_vault_properties": {
                    "key_name": args.key_name,
                    "key_vault_uri": pulumi.Output.concat(
                        "https://", args.vault.name, ".vault.azure.net/"
                    ),
                },
                "encryption_identity": {"encryption_user_assigned_identity": key.identity_id},
                "require_infrastructure_encryption": True,
                "services": {"blob": {"enabled": True, "key_type": "Account"}},
            },
            immutable_storage_with_versioning={
                "enabled": True,
                "immutability_policy": {
                    "allow_protected_append_writes": True,
                    "immutability_period_since_creation_in_days": min(
                        args.retention_days, MAX_IMMUTABILITY_DAYS
                    ),
                    "state": "Locked" if args.locked else "Unlocked",
                },
            },
            minimum_tls_version="TLS1_2",
            enable_https_traffic_only=True,
            allow_blob_public_access=False,
            allow_shared_key_access=False,
            allow_cross_tenant_replication=False,
            default_to_o_auth_authentication=True,
            # No public endpoint; Azure Monitor's diagnostic delivery comes in as a trusted
            # service (not exercised here: no cloud account).
            public_network_access="Disabled",
            network_rule_set={"default_action": "Deny", "bypass": "AzureServices"},
            tags=dict(args.tags),
            # The key's grant to the identity first, or the account cannot use the key.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[key]),
        )
        # Version-level immutability keeps every version; versioning must be on for it.
        azure.storage.BlobServiceProperties(
            f"{name}-blob-service",
            account_name=account.name,
            resource_group_name=args.resource_group_name,
            blob_services_name="default",
            is_versioning_enabled=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.account_id = account.id
        self.register_outputs({"account_id": self.account_id})
