"""The cell's export store: a storage account for `tenancy tenant export` archives.

In the cell's region with zone-redundant storage (ZRS: copies stay in the region; GRS would
copy to the paired region, which may lie outside the residency zone), encrypted with a
customer-managed key of the cell's Key Vault through its own identity (plus
infrastructure encryption), version-level immutability with a retention period (a blob
cannot be changed or deleted before it ends), no public blob access, no public network
access, no shared keys (Entra ID only), TLS 1.2 and HTTPS only. One private container,
``exports``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure

from components.args import EncryptionArgs
from components.azure.key import VaultKey, VaultKeyArgs, VaultRef
from components.model.erasure import EXPORT_RETENTION_DAYS

CONTAINER = "exports"


@dataclass(frozen=True)
class ExportBucketArgs:
    account_name: str  # from the naming module (globally unique, letters and digits)
    key_name: str  # the account's key in the cell's vault
    identity_name: str  # the identity that wraps and unwraps with it
    resource_group_name: Any  # Input[str]
    location: str  # the cell's region: inside the residency zone
    vault: VaultRef
    subscription_id: Any  # Input[str]
    tags: Mapping[str, str]
    retention_days: int = EXPORT_RETENTION_DAYS
    # Locked: the period can only be extended, and the account cannot be deleted while a
    # blob is under it (prod). Unlocked: the same protection, but a dev stack can go.
    locked: bool = True
    encryption: EncryptionArgs = EncryptionArgs()
    protect: bool = False


class ExportBucket(pulumi.ComponentResource):
    """One per cell: tenants' export archives, immutable for ``retention_days``."""

    account_name: str
    retention_days: int

    def __init__(
        self, name: str, args: ExportBucketArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:azure:ExportBucket", name, None, opts)
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
            **self._account_inputs(args, key),
            # The identity's grant on the key must exist before the account uses the key.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[key]),
        )
        after_account = pulumi.ResourceOptions(parent=self, depends_on=[account])
        azure.storage.BlobServiceProperties(
            f"{name}-blob-service",
            account_name=args.account_name,
            resource_group_name=args.resource_group_name,
            blob_services_name="default",
            is_versioning_enabled=True,  # version-level immutability needs versioning
            opts=after_account,
        )
        azure.storage.BlobContainer(
            f"{name}-container",
            account_name=args.account_name,
            resource_group_name=args.resource_group_name,
            container_name=CONTAINER,
            public_access=azure.storage.PublicAccess.NONE,
            opts=after_account,
        )
        azure.storage.ManagementPolicy(
            f"{name}-expiry",
            account_name=args.account_name,
            resource_group_name=args.resource_group_name,
            management_policy_name="default",
            # The day after the immutability period: a blob under it cannot be deleted.
            policy={
                "rules": [
                    {
                        "name": "expire-exports",
                        "enabled": True,
                        "type": "Lifecycle",
                        "definition": {
                            "filters": {"blob_types": ["blockBlob"]},
                            "actions": {
                                "base_blob": {
                                    "delete": {
                                        "days_after_creation_greater_than": args.retention_days + 1
                                    }
                                },
                                "version": {
                                    "delete": {
                                        "days_after_creation_greater_than": args.retention_days + 1
                                    }
                                },
                            },
                        },
                    }
                ]
            },
            opts=after_account,
        )
        self.account_name = args.account_name
        self.retention_days = args.retention_days
        self.register_outputs({"account_name": account.name})

    @staticmethod
    def _account_inputs(args: ExportBucketArgs, key: VaultKey) -> dict[str, Any]:
        vault_uri = pulumi.Output.concat("https://", args.vault.name, ".vault.azure.net/")
        return {
            "account_name": args.account_name,
            "resource_group_name": args.resource_group_name,
            "location": args.location,
            "kind": "StorageV2",
            "sku": {"name": "Standard_ZRS"},
            # The engine's (and ARM's) form: a map of identity ids (as FlexibleServer uses).
            "identity": pulumi.Output.from_input(key.identity_id).apply(
                lambda identity: {
                    "type": "UserAssigned",
                    "user_assigned_identities": {identity: {}},
                }
            ),
            "encryption": {
                "key_source": "Microsoft.Keyvault",
                "key_vault_properties": {"key_name": args.key_name, "key_vault_uri": vault_uri},
                "encryption_identity": {"encryption_user_assigned_identity": key.identity_id},
                "require_infrastructure_encryption": True,
                "services": {"blob": {"enabled": True, "key_type": "Account"}},
            },
            "immutable_storage_with_versioning": {
                "enabled": True,
                "immutability_policy": {
                    "immutability_period_since_creation_in_days": args.retention_days,
                    "state": "Locked" if args.locked else "Unlocked",
                    "allow_protected_append_writes": False,
                },
            },
            "allow_blob_public_access": False,
            "public_network_access": "Disabled",
            "network_rule_set": {"default_action": "Deny", "bypass": "None"},
            "allow_shared_key_access": False,
            "allow_cross_tenant_replication": False,
            "enable_https_traffic_only": True,
            "minimum_tls_version": "TLS1_2",
            "tags": dict(args.tags),
        }
