"""A Key Vault key with a rotation policy, and the one identity allowed to use it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure

from components.args import EncryptionArgs
from components.model.keys import EXPIRY_MARGIN_DAYS

# "Key Vault Crypto Service Encryption User": get, wrapKey, unwrapKey on keys, nothing else.
CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
KEY_SIZE_BITS = 3072  # Flexible Server accepts RSA 2048/3072/4096
_ASSIGNMENT_NAMESPACE = uuid.UUID("6f1c1f4e-3b7a-4e57-9a59-2f1d0c0e7a10")


@dataclass(frozen=True)
class VaultRef:
    """Where a key goes: a KeyVault component's facts."""

    name: Any  # Input[str]
    resource_group_name: Any  # Input[str]
    location: str


@dataclass(frozen=True)
class VaultKeyArgs:
    key_name: str  # from the naming module
    identity_name: str
    vault: VaultRef
    subscription_id: Any  # Input[str]: scopes the role definition id
    tags: Mapping[str, str]
    encryption: EncryptionArgs = EncryptionArgs()
    # Geo-redundant backups need a key (and identity) in the paired region's vault too.
    geo_vault: VaultRef | None = None
    protect: bool = False
    # False for an erased silo tenant: the key is disabled and the server identity's grant
    # on it is gone, so nothing can unwrap with it while it waits for its destruction date.
    enabled: bool = True


class VaultKey(pulumi.ComponentResource):
    """CMK for one silo tenant or one shard, usable only by that server's own identity."""

    key_uri: pulumi.Output[str]
    identity_id: pulumi.Output[str] | None  # None when disabled: no identity may use it
    geo_key_uri: pulumi.Output[str] | None
    geo_identity_id: pulumi.Output[str] | None

    def __init__(self, name: str, args: VaultKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:azure:VaultKey", name, None, opts)
        self.key_uri, self.identity_id = self._key_for(name, args, args.vault, args.identity_name)
        self.geo_key_uri = self.geo_identity_id = None
        if args.geo_vault is not None:
            self.geo_key_uri, self.geo_identity_id = self._key_for(
                f"{name}-geo", args, args.geo_vault, f"{args.identity_name}-geo"
            )
        self.register_outputs(
            {
                "key_uri": self.key_uri,
                "identity_id": self.identity_id,
                "geo_key_uri": self.geo_key_uri,
                "geo_identity_id": self.geo_identity_id,
            }
        )

    def _key_for(
        self, name: str, args: VaultKeyArgs, vault: VaultRef, identity_name: str
    ) -> tuple[pulumi.Output[str], Any]:
        encryption = args.encryption
        properties: azure.keyvault.KeyPropertiesArgsDict = {
            # RSA-HSM: key material generated and kept in the Premium vault's HSMs.
            "kty": "RSA-HSM" if encryption.hsm else "RSA",
            "key_size": KEY_SIZE_BITS,
            "key_ops": ["wrapKey", "unwrapKey"],
            "attributes": {"enabled": args.enabled, "exportable": False},
            "rotation_policy": {
                # Every version expires; rotation comes EXPIRY_MARGIN_DAYS before that.
                "attributes": {"expiry_time": f"P{encryption.expiry_days}D"},
                "lifetime_actions": [
                    {
                        "action": {"type": azure.keyvault.KeyRotationPolicyActionType.ROTATE},
                        "trigger": {"time_after_create": f"P{encryption.rotation_period_days}D"},
                    },
                    {
                        "action": {"type": azure.keyvault.KeyRotationPolicyActionType.NOTIFY},
                        "trigger": {"time_before_expiry": f"P{EXPIRY_MARGIN_DAYS // 2}D"},
                    },
                ],
            },
        }
        key = azure.keyvault.Key(
            f"{name}-cmk",
            key_name=args.key_name,
            vault_name=vault.name,
            resource_group_name=vault.resource_group_name,
            properties=properties,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        if not args.enabled:
            return key.key_uri, None
        identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=identity_name,
            resource_group_name=vault.resource_group_name,
            location=vault.location,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        seed = f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}"
        azure.authorization.RoleAssignment(
            f"{name}-key-user",
            role_assignment_name=str(uuid.uuid5(_ASSIGNMENT_NAMESPACE, seed)),
            scope=key.id,  # this one key: a server's identity can unwrap no other tenant's key
            role_definition_id=pulumi.Output.concat(
                "/subscriptions/",
                args.subscription_id,
                "/providers/Microsoft.Authorization/roleDefinitions/",
                CRYPTO_SERVICE_ENCRYPTION_USER,
            ),
            principal_id=identity.principal_id,
            principal_type="ServicePrincipal",
            description=f"tenancy: {identity_name} wraps and unwraps with {args.key_name}",
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Versionless URI: the server follows each rotation without a redeploy.
        return key.key_uri, identity.id
