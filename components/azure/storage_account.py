"""The one way tenancy builds an Azure storage account that holds evidence or tenant data.

Both the audit archive and the export store need the same account: in the cell's region with
zone-redundant storage (GRS would copy to the paired region, which may lie outside the
residency zone), encrypted with a customer-managed key of the cell's vault through the key's
own identity (plus infrastructure encryption), version-level immutability, TLS 1.2 and HTTPS
only, no anonymous blob access, no shared keys (Entra ID only), no public network access.
Keeping it in one place keeps the two from drifting apart. Not a component: the caller's
component owns the resources (``parent``).
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
class ImmutableAccountArgs:
    """What an immutable account is made from; each component's args extend it (the audit
    archive and the export store), so both hand their args over as they are."""

    account_name: str  # from the naming module (globally unique, letters and digits)
    key_name: str  # the account's key in the cell's vault
    identity_name: str  # the one identity that may use that key
    resource_group_name: Any  # Input[str]
    location: str  # the cell's region: inside the residency zone
    vault: VaultRef
    subscription_id: Any  # Input[str]
    tags: Mapping[str, str]
    retention_days: int
    locked: bool  # Locked: the period can only be lengthened, never shortened or removed
    encryption: EncryptionArgs = EncryptionArgs()
    protect: bool = False


def immutable_account(
    name: str,
    spec: ImmutableAccountArgs,
    *,
    append_writes: bool,
    firewall_bypass: str,
    parent: pulumi.Resource,
) -> azure.storage.StorageAccount:
    """The account's key, the account and its versioning (version-level immutability needs
    versioning on).

    ``append_writes``: diagnostics append to blobs, so allow protected appends for them.
    ``firewall_bypass``: "AzureServices" lets trusted services (Azure Monitor's delivery)
    through the firewall; "None" lets nothing.
    """
    key = VaultKey(
        f"{name}-key",
        VaultKeyArgs(
            key_name=spec.key_name,
            identity_name=spec.identity_name,
            vault=spec.vault,
            subscription_id=spec.subscription_id,
            tags=spec.tags,
            encryption=spec.encryption,
            protect=spec.protect,
        ),
        pulumi.ResourceOptions(parent=parent),
    )
    account = azure.storage.StorageAccount(
        f"{name}-account",
        account_name=spec.account_name,
        resource_group_name=spec.resource_group_name,
        location=spec.location,
        kind="StorageV2",
        sku={"name": "Standard_ZRS"},
        # The SDK's form: a list of identity ids (it sends ARM the map).
        identity={"type": "UserAssigned", "user_assigned_identities": [key.identity_id]},
        encryption={
            "key_source": "Microsoft.Keyvault",
            "key_vault_properties": {
                "key_name": spec.key_name,
                "key_vault_uri": pulumi.Output.concat(
                    "https://", spec.vault.name, ".vault.azure.net/"
                ),
            },
            "encryption_identity": {"encryption_user_assigned_identity": key.identity_id},
            "require_infrastructure_encryption": True,
            "services": {"blob": {"enabled": True, "key_type": "Account"}},
        },
        immutable_storage_with_versioning={
            "enabled": True,
            "immutability_policy": {
                "allow_protected_append_writes": append_writes,
                "immutability_period_since_creation_in_days": min(
                    spec.retention_days, MAX_IMMUTABILITY_DAYS
                ),
                "state": "Locked" if spec.locked else "Unlocked",
            },
        },
        minimum_tls_version="TLS1_2",
        enable_https_traffic_only=True,
        allow_blob_public_access=False,
        allow_shared_key_access=False,
        allow_cross_tenant_replication=False,
        default_to_o_auth_authentication=True,
        public_network_access="Disabled",
        network_rule_set={"default_action": "Deny", "bypass": firewall_bypass},
        tags=dict(spec.tags),
        # The key's grant to the identity first, or the account cannot use the key.
        opts=pulumi.ResourceOptions(parent=parent, protect=spec.protect, depends_on=[key]),
    )
    azure.storage.BlobServiceProperties(
        f"{name}-blob-service",
        account_name=account.name,
        resource_group_name=spec.resource_group_name,
        blob_services_name="default",
        is_versioning_enabled=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return account
