"""The cell's Key Vault: purge-protected, RBAC-only, closed to the public network."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure

SOFT_DELETE_RETENTION_DAYS = 90  # the maximum: a deleted vault or key stays recoverable


@dataclass(frozen=True)
class KeyVaultArgs:
    name: str  # 3-24 chars, globally unique: from the naming module
    resource_group_name: Any  # Input[str]
    location: str  # a region of the residency zone
    tenant_id: Any  # Input[str]: the Entra tenant that authorises RBAC on the vault
    tags: Mapping[str, str]
    protect: bool = False
    # Premium: the vault may hold HSM-backed keys (RSA-HSM), which pci/hipaa tiers need.
    # Standard holds software keys only; Premium holds both, so an upgrade is in place.
    premium: bool = False


class KeyVault(pulumi.ComponentResource):
    """Holds the cell's customer-managed keys (one per silo tenant, one per shard) and secrets.

    Access is Azure RBAC only (no access policies), granted per key to each server's
    own identity. Purge protection means no one, not even an owner, can destroy a key
    before the soft-delete retention ends.
    """

    name: pulumi.Output[str]
    id: pulumi.Output[str]
    location: str

    def __init__(self, name: str, args: KeyVaultArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:azure:KeyVault", name, None, opts)
        properties: azure.keyvault.VaultPropertiesArgsDict = {
            "tenant_id": args.tenant_id,
            "sku": {
                "family": "A",
                "name": azure.keyvault.SkuName.PREMIUM
                if args.premium
                else azure.keyvault.SkuName.STANDARD,
            },
            "enable_rbac_authorization": True,
            "enable_soft_delete": True,
            "soft_delete_retention_in_days": SOFT_DELETE_RETENTION_DAYS,
            "enable_purge_protection": True,
            "enabled_for_deployment": False,
            "enabled_for_disk_encryption": False,
            "enabled_for_template_deployment": False,
            "public_network_access": "Disabled",
            # Flexible Server reaches its key as a trusted Microsoft service.
            "network_acls": {"default_action": "Deny", "bypass": "AzureServices"},
        }
        vault = azure.keyvault.Vault(
            f"{name}-vault",
            vault_name=args.name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            properties=properties,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.name = vault.name
        self.id = vault.id
        self.location = args.location
        self.register_outputs({"name": self.name, "id": self.id})
