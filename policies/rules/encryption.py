"""Encryption at rest: a customer-managed key on every database, secret, backup and key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .. import controls as c
from .. import types as t
from ..framework import CMK_AT_REST, Ctx, cannot_verify, flag, get, is_unknown, rule

_AWS_MANAGED = re.compile(r"(^|:)alias/aws/")


def _aws_cmk(value: Any, what: str) -> list[str]:
    if is_unknown(value):
        return [cannot_verify(f"the KMS key of {what}", value)]
    if not isinstance(value, str) or not value or _AWS_MANAGED.search(value):
        return [
            f"{what} uses {value or 'the AWS-managed key'!s}; it must use a customer-managed KMS key"
        ]
    return []


@rule(
    id="aws-rds-cluster-enable-storage-encryption",
    description="Aurora clusters and RDS instances encrypt storage, backups and the managed master secret with a customer-managed KMS key.",
    why="An unencrypted volume or snapshot exposes every tenant row to anyone who obtains a copy; an AWS-managed key cannot be scoped, rotated or revoked per tenant.",
    remediation="Set storageEncrypted=true and kmsKeyId to the tenant's or shard's CMK (components/aws/key.py); set masterUserSecretKmsKeyId to the same key when the master password is managed.",
    severity="critical",
    enforcement="mandatory",
    controls=c.AT_REST,
    cloud="aws",
    family="encryption",
    types=t.AWS_DATABASES,
    matrix=[CMK_AT_REST],
)
def aws_rds_storage_encryption(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    found = flag(props, ("storageEncrypted",), True, "storageEncrypted")
    found += _aws_cmk(props.get("kmsKeyId"), "storage")
    if props.get("manageMasterUserPassword") is True:
        found += _aws_cmk(props.get("masterUserSecretKmsKeyId"), "the master user secret")
    return found


@rule(
    id="aws-secretsmanager-secret-configure-cmk",
    description="Secrets Manager secrets and AWS Backup vaults are encrypted with a customer-managed KMS key.",
    why="Database credentials and backup copies encrypted with the account-wide AWS-managed key can be read by any principal allowed to use that key.",
    remediation="Set kmsKeyId (secret) or kmsKeyArn (backup vault) to the tenant's or shard's CMK.",
    severity="high",
    enforcement="mandatory",
    controls=c.AT_REST,
    cloud="aws",
    family="encryption",
    types=[t.SM_SECRET, t.BACKUP_VAULT],
)
def aws_secret_cmk(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    if resource_type == t.BACKUP_VAULT:
        return _aws_cmk(props.get("kmsKeyArn"), "the backup vault")
    found = _aws_cmk(props.get("kmsKeyId"), "the secret")
    for index, replica in enumerate(props.get("replicas") or ()):
        found += _aws_cmk(get(replica, "kmsKeyId"), f"secret replica {index}")
    return found


@rule(
    id="aws-kms-key-enable-rotation",
    description="KMS keys are symmetric, single-region and rotate at least yearly.",
    why="Rotation bounds how much data one key version protects (PCI DSS 3.6.4); a multi-region key copies key material out of the residency zone.",
    remediation="Set enableKeyRotation=true, rotationPeriodInDays <= maxKeyRotationDays and multiRegion=false (components/aws/key.py does).",
    severity="high",
    enforcement="mandatory",
    controls=(c.PCI_3_6, c.SOC2_CC6_1, c.ISO_A8_24, c.HIPAA_ENCRYPT),
    cloud="aws",
    family="encryption",
    types=[t.KMS_KEY],
    config_keys=["maxKeyRotationDays"],
)
def aws_kms_rotation(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    found = flag(props, ("enableKeyRotation",), True, "enableKeyRotation")
    limit = ctx.config.get("maxKeyRotationDays", 365)
    period = props.get("rotationPeriodInDays")
    if isinstance(period, int) and period > limit:
        found.append(f"rotationPeriodInDays is {period}; it must be at most {limit}")
    if props.get("multiRegion") is True:
        found.append(
            "multiRegion is true; a multi-region key replicates key material to other regions"
        )
    return found


@rule(
    id="azure-postgresql-server-configure-cmk",
    description="Flexible Servers encrypt data (and geo-redundant backups) with a Key Vault key through a user-assigned identity.",
    why="Service-managed keys cannot be revoked per tenant; a customer-managed key lets a tenant's data be crypto-shredded and its use audited.",
    remediation="Set dataEncryption.type=AzureKeyVault with primaryKeyURI and primaryUserAssignedIdentityId (and geoBackupKeyURI/geoBackupUserAssignedIdentityId when geo-redundant backup is on).",
    severity="critical",
    enforcement="mandatory",
    controls=c.AT_REST,
    cloud="azure",
    family="encryption",
    types=[t.AZ_SERVER],
    matrix=[CMK_AT_REST],
)
def azure_server_cmk(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    encryption = props.get("dataEncryption")
    kind = get(props, "dataEncryption", "type")
    if is_unknown(kind):
        return [cannot_verify("dataEncryption.type", kind)]
    if kind != "AzureKeyVault":
        return [f"dataEncryption.type is {kind}; it must be AzureKeyVault (a customer-managed key)"]
    found = []
    for key in ("primaryKeyURI", "primaryUserAssignedIdentityId"):
        value = get(encryption, key) or get(encryption, key.replace("URI", "Uri"))
        if is_unknown(value) or value == "":
            found.append(cannot_verify(f"dataEncryption.{key}", value))
    if get(props, "backup", "geoRedundantBackup") == "Enabled":
        for key in ("geoBackupKeyURI", "geoBackupUserAssignedIdentityId"):
            value = get(encryption, key) or get(encryption, key.replace("URI", "Uri"))
            if is_unknown(value) or value == "":
                found.append(f"geo-redundant backup is on but dataEncryption.{key} is not set")
    return found


@rule(
    id="azure-keyvault-vault-enable-purge-protection",
    description="Key Vaults holding customer-managed keys have soft delete and purge protection on and use RBAC.",
    why="Without purge protection one privileged mistake destroys the key and with it every backup encrypted under it; Flexible Server refuses CMK from such a vault.",
    remediation="Set properties.enablePurgeProtection=true, properties.enableSoftDelete=true and properties.enableRbacAuthorization=true (components/azure/vault.py).",
    severity="high",
    enforcement="mandatory",
    controls=(c.PCI_3_6, c.SOC2_CC6_1, c.ISO_A8_24, c.HIPAA_INTEGRITY),
    cloud="azure",
    family="encryption",
    types=[t.AZ_VAULT],
)
def azure_vault_purge_protection(
    resource_type: str, props: Mapping[str, Any], ctx: Ctx
) -> list[str]:
    found = flag(props, ("properties", "enablePurgeProtection"), True, "enablePurgeProtection")
    found += flag(props, ("properties", "enableSoftDelete"), True, "enableSoftDelete")
    found += flag(props, ("properties", "enableRbacAuthorization"), True, "enableRbacAuthorization")
    return found


@rule(
    id="gcp-sql-instance-configure-cmek",
    description="Cloud SQL instances are encrypted with a Cloud KMS key (CMEK).",
    why="Google-managed encryption cannot be revoked or audited per tenant; CMEK lets a tenant's data be crypto-shredded.",
    remediation="Set encryptionKeyName to the tenant's or shard's Cloud KMS crypto key.",
    severity="critical",
    enforcement="mandatory",
    controls=c.AT_REST,
    cloud="gcp",
    family="encryption",
    types=[t.SQL_INSTANCE],
    matrix=[CMK_AT_REST],
)
def gcp_sql_cmek(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    key = props.get("encryptionKeyName")
    if is_unknown(key) or key == "":
        return [
            cannot_verify("encryptionKeyName (the CMEK key)", key)
            + "; without it Cloud SQL uses a Google-managed key"
        ]
    if "/cryptoKeys/" not in str(key) and key != "<unknown>":
        return [f"encryptionKeyName {key} is not a Cloud KMS crypto key"]
    return []


@rule(
    id="gcp-secretmanager-secret-configure-cmek",
    description="Secret Manager secrets encrypt every replica with a Cloud KMS key (CMEK).",
    why="Database credentials under a Google-managed key are readable by anyone with access to the secret's project-wide default encryption.",
    remediation="Use replication.userManaged.replicas[*].customerManagedEncryption.kmsKeyName (one key per replica location).",
    severity="high",
    enforcement="mandatory",
    controls=c.AT_REST,
    cloud="gcp",
    family="encryption",
    types=[t.GSM_SECRET],
)
def gcp_secret_cmek(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    replication = props.get("replication")
    if is_unknown(replication):
        return [cannot_verify("replication", replication)]
    automatic = get(replication, "auto")
    if automatic is not None:
        key = get(automatic, "customerManagedEncryption", "kmsKeyName")
        return (
            []
            if isinstance(key, str) and key and key != "<unknown>"
            else [cannot_verify("replication.auto.customerManagedEncryption.kmsKeyName", key)]
        )
    replicas = get(replication, "userManaged", "replicas")
    if not replicas or replicas == "<unknown>":
        return [cannot_verify("replication.userManaged.replicas", replicas)]
    found = []
    for index, replica in enumerate(replicas):
        key = get(replica, "customerManagedEncryption", "kmsKeyName")
        if is_unknown(key) or key == "":
            found.append(
                f"replica {index} ({get(replica, 'location')}) has no customerManagedEncryption.kmsKeyName"
            )
    return found


RULES = (
    aws_rds_storage_encryption,
    aws_secret_cmk,
    aws_kms_rotation,
    azure_server_cmk,
    azure_vault_purge_protection,
    gcp_sql_cmek,
    gcp_secret_cmek,
)
