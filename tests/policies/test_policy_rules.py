"""Every rule: a compliant baseline, then one changed property per violation, exact messages."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from components.aws.audit_logging import aurora_audit_parameters
from components.gcp.audit_logging import cloudsql_audit_flags
from components.model.audit import ServerAudit
from policies.rules import BY_ID, RULES
from policies.waivers import parse_waivers
from tests.policies.access_cases import ACCESS_CASES
from tests.policies.export_cases import EXPORT_CASES
from tests.support.policy_baselines import (
    PGBOUNCER_INI,
    baseline,
    changed,
    ctx,
    k8s_labels,
    res,
    urn,
)

NOT_APPLICABLE = None
DELETE = ...
EU_AWS = "(eu-central-1, eu-west-1)"
EU_AZ = "(westeurope, germanywestcentral)"
US_GCP = "(us-central1, us-east1)"
FORCE_SSL_ONLY = [{"applyMethod": "pending-reboot", "name": "rds.force_ssl", "value": "1"}]
LOGS_ONLY = [{"applyMethod": "immediate", "name": "log_connections", "value": "1"}]
KEY = "projects/tenancy-prod-4711/locations/{}/keyRings/tnc-prod-cyberdyne"
# What components/aws/audit_logging.py and components/gcp/audit_logging.py set by default.
AUDITED = [
    *FORCE_SSL_ONLY,
    *LOGS_ONLY,
    *aurora_audit_parameters(ServerAudit()),
]
AUDIT_FLAGS = [
    {"name": k, "value": v}
    for k, v in {"log_connections": "on", **cloudsql_audit_flags(ServerAudit())}.items()
]
# The KMS default-style policy: the account root may do anything, use included.
ROOT_USES_EVERYTHING = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": ["kms:CreateGrant", "kms:Decrypt"],
                "Resource": "*",
            }
        ]
    }
)

# (rule id, baseline, [(path, value), ...], expected messages | None for not applicable, ctx kwargs)
_INI = ("data", "pgbouncer.ini")


def _ini(old: str, new: str) -> str:
    assert old in PGBOUNCER_INI
    return PGBOUNCER_INI.replace(old, new)


CASES: list[tuple[str, str, list[tuple[Any, Any]], list[str] | None, dict[str, Any]]] = [
    # --- encryption at rest
    ("aws-rds-cluster-enable-storage-encryption", "aws_cluster", [], [], {}),
    (
        "aws-rds-cluster-enable-storage-encryption",
        "aws_cluster",
        [("storageEncrypted", False)],
        ["storageEncrypted is false; it must be true"],
        {},
    ),
    (
        "aws-rds-cluster-enable-storage-encryption",
        "aws_cluster",
        [("kmsKeyId", "alias/aws/rds")],
        ["storage uses alias/aws/rds; it must use a customer-managed KMS key"],
        {},
    ),
    (
        "aws-rds-cluster-enable-storage-encryption",
        "aws_cluster",
        [("kmsKeyId", DELETE)],
        ["cannot verify the KMS key of storage: it is not set"],
        {},
    ),
    (
        "aws-rds-cluster-enable-storage-encryption",
        "aws_cluster",
        [("masterUserSecretKmsKeyId", "<unknown>")],
        ["cannot verify the KMS key of the master user secret: it is not known at plan time"],
        {},
    ),
    ("aws-secretsmanager-secret-configure-cmk", "aws_secret", [], [], {}),
    (
        "aws-secretsmanager-secret-configure-cmk",
        "aws_secret",
        [("kmsKeyId", DELETE)],
        ["cannot verify the KMS key of the secret: it is not set"],
        {},
    ),
    (
        "aws-secretsmanager-secret-configure-cmk",
        "aws_secret",
        [("replicas.0.kmsKeyId", "alias/aws/secretsmanager")],
        ["secret replica 0 uses alias/aws/secretsmanager; it must use a customer-managed KMS key"],
        {},
    ),
    ("aws-secretsmanager-secret-configure-cmk", "aws_backup_vault", [], [], {}),
    (
        "aws-secretsmanager-secret-configure-cmk",
        "aws_backup_vault",
        [("kmsKeyArn", DELETE)],
        ["cannot verify the KMS key of the backup vault: it is not set"],
        {},
    ),
    ("aws-kms-key-enable-rotation", "aws_key", [], [], {}),
    (
        "aws-kms-key-enable-rotation",
        "aws_key",
        [("enableKeyRotation", False)],
        ["enableKeyRotation is false; it must be true"],
        {},
    ),
    (
        "aws-kms-key-enable-rotation",
        "aws_key",
        [("rotationPeriodInDays", 730)],
        ["rotationPeriodInDays is 730; it must be at most 365"],
        {},
    ),
    (
        "aws-kms-key-enable-rotation",
        "aws_key",
        [("multiRegion", True)],
        ["multiRegion is true; a multi-region key replicates key material to other regions"],
        {},
    ),
    # --- key management
    ("aws-kms-key-configure-key-policy", "aws_key", [], [], {}),
    (
        "aws-kms-key-configure-key-policy",
        "aws_key",
        [("policy", DELETE)],
        ["cannot verify the key policy: it is not set; KMS would apply its default policy"],
        {},
    ),
    (
        "aws-kms-key-configure-key-policy",
        "aws_key",
        [("policy", ROOT_USES_EVERYTHING)],
        [
            "no statement lets the account root administer the key (kms:PutKeyPolicy, "
            "kms:ScheduleKeyDeletion, kms:EnableKeyRotation); the account could lose control of it",
            "statement 0 lets arn:aws:iam::123456789012:root use the key (kms:CreateGrant) "
            "without a kms:ViaService condition; use must go through the data services",
        ],
        {},
    ),
    (
        "aws-kms-key-configure-key-policy",
        "aws_key",
        [("policy", "not json")],
        ["the key policy is not a JSON policy document with a Statement"],
        {},
    ),
    ("azure-keyvault-key-configure-rotation-expiry", "azure_key", [], [], {}),
    (
        "azure-keyvault-key-configure-rotation-expiry",
        "azure_key",
        [("properties.rotationPolicy.attributes", DELETE)],
        ["the rotation policy sets no attributes.expiryTime; key versions never expire"],
        {},
    ),
    (
        "azure-keyvault-key-configure-rotation-expiry",
        "azure_key",
        [("properties.rotationPolicy.lifetimeActions.0.trigger.timeAfterCreate", "P1Y")],
        [
            "the key rotates every 365 days; it must be at most 90 (its data is pci)",
            "key versions expire after 120 days, before their rotation at 365",
        ],
        {},
    ),
    (
        "azure-keyvault-key-configure-rotation-expiry",
        "azure_key",
        [("properties.rotationPolicy.lifetimeActions", [])],
        ["the rotation policy has no Rotate lifetime action; the key never rotates"],
        {},
    ),
    ("azure-keyvault-key-enable-hsm", "azure_key", [], [], {}),
    (
        "azure-keyvault-key-enable-hsm",
        "azure_key",
        [("properties.kty", "RSA")],
        ["kty is RSA; keys of pci data must be RSA-HSM or EC-HSM"],
        {},
    ),
    (
        "azure-keyvault-key-enable-hsm",
        "azure_key",
        [("properties.kty", DELETE)],
        ["cannot verify properties.kty: it is not set"],
        {},
    ),
    (
        "azure-keyvault-key-enable-hsm",
        "azure_key",
        [
            ("tags.tenancy:compliance", "gdpr-soc2"),
            ("tags.tenancy:tier", "free"),  # no tenant of free carries pci or hipaa
            ("properties.kty", "RSA"),
        ],
        NOT_APPLICABLE,
        {},
    ),
    ("gcp-kms-cryptokey-configure-rotation", "gcp_crypto_key", [], [], {}),
    (
        "gcp-kms-cryptokey-configure-rotation",
        "gcp_crypto_key",
        [("rotationPeriod", "31536000s")],
        ["the key rotates every 365 days; it must be at most 90 (its data is hipaa)"],
        {},
    ),
    (
        "gcp-kms-cryptokey-configure-rotation",
        "gcp_crypto_key",
        [("rotationPeriod", DELETE)],
        ["cannot verify rotationPeriod: it is not set; the key never rotates"],
        {},
    ),
    (
        "gcp-kms-cryptokey-configure-rotation",
        "gcp_crypto_key",
        [
            ("labels.tenancy-compliance", "soc2"),
            ("labels.tenancy-tier", "free"),
            ("rotationPeriod", "31536000s"),
        ],
        [],
        {},
    ),
    (
        "gcp-kms-cryptokey-configure-rotation",
        "gcp_crypto_key",
        # The shard of a tier with pci tenants elsewhere: built for them too.
        [("labels.tenancy-compliance", "soc2"), ("rotationPeriod", "31536000s")],
        ["the key rotates every 365 days; it must be at most 90 (its data is hipaa)"],
        {},
    ),
    ("azure-postgresql-server-configure-cmk", "azure_server", [], [], {}),
    (
        "azure-postgresql-server-configure-cmk",
        "azure_server",
        [("dataEncryption.type", "SystemManaged")],
        ["dataEncryption.type is SystemManaged; it must be AzureKeyVault (a customer-managed key)"],
        {},
    ),
    (
        "azure-postgresql-server-configure-cmk",
        "azure_server",
        [("dataEncryption.primaryKeyURI", DELETE)],
        ["cannot verify dataEncryption.primaryKeyURI: it is not set"],
        {},
    ),
    (
        "azure-postgresql-server-configure-cmk",
        "azure_server",
        [("backup.geoRedundantBackup", "Enabled")],
        [
            "geo-redundant backup is on but dataEncryption.geoBackupKeyURI is not set",
            "geo-redundant backup is on but dataEncryption.geoBackupUserAssignedIdentityId is not set",
        ],
        {},
    ),
    ("azure-keyvault-vault-enable-purge-protection", "azure_vault", [], [], {}),
    (
        "azure-keyvault-vault-enable-purge-protection",
        "azure_vault",
        [("properties.enablePurgeProtection", False)],
        ["enablePurgeProtection is false; it must be true"],
        {},
    ),
    (
        "azure-keyvault-vault-enable-purge-protection",
        "azure_vault",
        [("properties.enableSoftDelete", DELETE)],
        ["cannot verify enableSoftDelete: it is not set"],
        {},
    ),
    ("gcp-sql-instance-configure-cmek", "gcp_sql", [], [], {}),
    (
        "gcp-sql-instance-configure-cmek",
        "gcp_sql",
        [("encryptionKeyName", DELETE)],
        [
            "cannot verify encryptionKeyName (the CMEK key): it is not set; without it Cloud SQL uses a Google-managed key"
        ],
        {},
    ),
    (
        "gcp-sql-instance-configure-cmek",
        "gcp_sql",
        [("encryptionKeyName", "projects/p/secrets/s")],
        ["encryptionKeyName projects/p/secrets/s is not a Cloud KMS crypto key"],
        {},
    ),
    ("gcp-secretmanager-secret-configure-cmek", "gcp_secret", [], [], {}),
    (
        "gcp-secretmanager-secret-configure-cmek",
        "gcp_secret",
        [("replication.userManaged.replicas.0.customerManagedEncryption", DELETE)],
        ["replica 0 (us-central1) has no customerManagedEncryption.kmsKeyName"],
        {},
    ),
    (
        "gcp-secretmanager-secret-configure-cmek",
        "gcp_secret",
        [("replication", {"auto": {}})],
        ["cannot verify replication.auto.customerManagedEncryption.kmsKeyName: it is not set"],
        {},
    ),
    # --- in transit
    ("aws-rds-parametergroup-enable-force-ssl", "aws_params", [], [], {}),
    (
        "aws-rds-parametergroup-enable-force-ssl",
        "aws_params",
        [("parameters.0.value", "0")],
        ["rds.force_ssl is 0; it must be 1"],
        {},
    ),
    (
        "aws-rds-parametergroup-enable-force-ssl",
        "aws_params",
        [("parameters", LOGS_ONLY)],
        ["rds.force_ssl is not set; it must be 1"],
        {},
    ),
    ("aws-rds-parametergroup-enable-force-ssl", "aws_cluster", [], [], {}),
    (
        "aws-rds-parametergroup-enable-force-ssl",
        "aws_cluster",
        [("dbClusterParameterGroupName", "default.aurora-postgresql16")],
        [
            "dbClusterParameterGroupName is default.aurora-postgresql16; the default group does not force TLS"
        ],
        {},
    ),
    (
        "aws-rds-parametergroup-enable-force-ssl",
        "aws_cluster",
        [("dbClusterParameterGroupName", DELETE)],
        ["cannot verify dbClusterParameterGroupName (the TLS-only parameter group): it is not set"],
        {},
    ),
    ("aws-rds-parametergroup-configure-tls-min-version", "aws_params", [], [], {}),
    (
        "aws-rds-parametergroup-configure-tls-min-version",
        "aws_params",
        [("parameters.1.value", "TLSv1")],
        ["ssl_min_protocol_version is TLSv1; it should be TLSv1.2 or TLSv1.3"],
        {},
    ),
    (
        "aws-rds-parametergroup-configure-tls-min-version",
        "aws_params",
        [("parameters", FORCE_SSL_ONLY)],
        ["ssl_min_protocol_version is not set; pin it to TLSv1.2"],
        {},
    ),
    ("aws-rds-cluster-enable-log-exports", "aws_cluster", [], [], {}),
    (
        "aws-rds-cluster-enable-log-exports",
        "aws_cluster",
        [("enabledCloudwatchLogsExports", [])],
        ["the postgresql log is not exported to CloudWatch Logs"],
        {},
    ),
    (
        "aws-rds-cluster-enable-log-exports",
        "aws_cluster",
        [("enabledCloudwatchLogsExports", "<unknown>")],
        ["cannot verify enabledCloudwatchLogsExports: it is not known at plan time"],
        {},
    ),
    # --- audit logging (issue 13); more cases in test_policy_audit.py
    ("aws-rds-parametergroup-enable-pgaudit", "aws_params", [("parameters", AUDITED)], [], {}),
    (
        "aws-rds-parametergroup-enable-pgaudit",
        "aws_params",
        [("parameters", [p for p in AUDITED if p["name"] != "shared_preload_libraries"])],
        ["shared_preload_libraries is None; it must load pgaudit"],
        {},
    ),
    (
        "aws-rds-parametergroup-enable-pgaudit",
        "aws_params",
        [],
        [
            "shared_preload_libraries is None; it must load pgaudit",
            "pgaudit.log is not set; it must include ddl and role",
            "log_disconnections is None; it must be on",
        ],
        {},
    ),
    (
        "gcp-sql-instance-enable-pgaudit",
        "gcp_sql",
        [("settings.databaseFlags", AUDIT_FLAGS)],
        [],
        {},
    ),
    (
        "gcp-sql-instance-enable-pgaudit",
        "gcp_sql",
        [("settings.databaseFlags", [f for f in AUDIT_FLAGS if f["name"] != "pgaudit.log"])],
        ["pgaudit.log is not set; it must include ddl and role"],
        {},
    ),
    (
        "gcp-sql-instance-enable-pgaudit",
        "gcp_sql",
        [("settings.databaseFlags", "<unknown>")],
        ["cannot verify settings.databaseFlags: it is not known at plan time"],
        {},
    ),
    ("gcp-sql-instance-enable-ssl-only", "gcp_sql", [], [], {}),
    (
        "gcp-sql-instance-enable-ssl-only",
        "gcp_sql",
        [("settings.ipConfiguration.sslMode", "ALLOW_UNENCRYPTED_AND_ENCRYPTED")],
        [
            "sslMode is ALLOW_UNENCRYPTED_AND_ENCRYPTED; it must be ENCRYPTED_ONLY or TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
        ],
        {},
    ),
    (
        "gcp-sql-instance-enable-ssl-only",
        "gcp_sql",
        [("settings.ipConfiguration.sslMode", DELETE)],
        ["cannot verify settings.ipConfiguration.sslMode: it is not set"],
        {},
    ),
    # --- no public access
    ("aws-rds-instance-disallow-public-access", "aws_cluster_instance", [], [], {}),
    (
        "aws-rds-instance-disallow-public-access",
        "aws_cluster_instance",
        [("publiclyAccessible", True)],
        ["publiclyAccessible is true; it must be false"],
        {},
    ),
    (
        "aws-rds-instance-disallow-public-access",
        "aws_cluster_instance",
        [("publiclyAccessible", DELETE)],
        ["cannot verify publiclyAccessible: it is not set"],
        {},
    ),
    (
        "aws-rds-instance-disallow-public-access",
        "aws_cluster",
        [("dbSubnetGroupName", DELETE)],
        ["cannot verify dbSubnetGroupName (the private subnet group): it is not set"],
        {},
    ),
    ("aws-rds-snapshot-disallow-public-sharing", "aws_snapshot", [], [], {}),
    (
        "aws-rds-snapshot-disallow-public-sharing",
        "aws_snapshot",
        [("sharedAccounts", ["all"])],
        ["sharedAccounts contains 'all': the snapshot is public"],
        {},
    ),
    (
        "aws-rds-snapshot-disallow-public-sharing",
        "aws_snapshot",
        [("sharedAccounts", "<unknown>")],
        ["cannot verify sharedAccounts: it is not known at plan time"],
        {},
    ),
    ("aws-ec2-securitygroup-disallow-public-ingress", "aws_sg", [], [], {}),
    (
        "aws-ec2-securitygroup-disallow-public-ingress",
        "aws_sg",
        [("ingress.0.cidrBlocks", ["0.0.0.0/0"])],
        ["ingress is open to 0.0.0.0/0"],
        {},
    ),
    (
        "aws-ec2-securitygroup-disallow-public-ingress",
        "aws_sg",
        [("ingress.0.ipv6CidrBlocks", ["::/0"])],
        ["ingress is open to ::/0"],
        {},
    ),
    ("azure-postgresql-server-disallow-public-network-access", "azure_server", [], [], {}),
    (
        "azure-postgresql-server-disallow-public-network-access",
        "azure_server",
        [("network.publicNetworkAccess", "Enabled")],
        ["network.publicNetworkAccess is Enabled; it must be Disabled"],
        {},
    ),
    (
        "azure-postgresql-server-disallow-public-network-access",
        "azure_firewall_rule",
        [],
        ["firewall rule 0.0.0.0-255.255.255.255 opens the server to public addresses"],
        {},
    ),
    ("azure-postgresql-server-disallow-public-network-access", "azure_vault", [], [], {}),
    (
        "azure-postgresql-server-disallow-public-network-access",
        "azure_vault",
        [("properties.publicNetworkAccess", "Enabled")],
        ["the vault's publicNetworkAccess is Enabled; it must be Disabled"],
        {},
    ),
    (
        "azure-postgresql-server-disallow-public-network-access",
        "azure_vault",
        [
            ("properties.publicNetworkAccess", DELETE),
            ("properties.networkAcls.defaultAction", "Allow"),
        ],
        ["the vault's networkAcls.defaultAction is Allow; it must be Deny"],
        {},
    ),
    ("gcp-sql-instance-disallow-public-ip", "gcp_sql", [], [], {}),
    (
        "gcp-sql-instance-disallow-public-ip",
        "gcp_sql",
        [("settings.ipConfiguration.ipv4Enabled", True)],
        ["ipv4Enabled is true; it must be false"],
        {},
    ),
    (
        "gcp-sql-instance-disallow-public-ip",
        "gcp_sql",
        [("settings.ipConfiguration.authorizedNetworks", [{"value": "0.0.0.0/0"}])],
        ["authorizedNetworks is not empty; no network may reach the instance from outside the VPC"],
        {},
    ),
    (
        "gcp-sql-instance-disallow-public-ip",
        "gcp_sql",
        [("settings.ipConfiguration.privateNetwork", DELETE)],
        ["cannot verify settings.ipConfiguration.privateNetwork: it is not set"],
        {},
    ),
    # --- region fencing
    ("aws-all-resource-configure-residency-region", "aws_cluster", [], [], {}),
    (
        "aws-all-resource-configure-residency-region",
        "aws_cluster",
        [("region", "us-east-1")],
        [f"region us-east-1 is outside residency zone 'eu' {EU_AWS}"],
        {},
    ),
    (
        "aws-all-resource-configure-residency-region",
        "aws_cluster",
        [("region", DELETE)],
        ["cannot verify the region: it is not set"],
        {},
    ),
    (
        "aws-all-resource-configure-residency-region",
        "aws_key",
        [("tags.tenancy:residency", DELETE)],
        ["cannot verify the residency zone: it is not set (no residency tag/label)"],
        {},
    ),
    (
        "aws-all-resource-configure-residency-region",
        "aws_secret",
        [("replicas.0.region", "us-east-1")],
        [f"secret replica 0 region us-east-1 is outside residency zone 'eu' {EU_AWS}"],
        {},
    ),
    ("azure-all-resource-configure-residency-region", "azure_server", [], [], {}),
    (
        "azure-all-resource-configure-residency-region",
        "azure_server",
        [("location", "eastus")],
        [f"location eastus is outside residency zone 'eu' {EU_AZ}"],
        {},
    ),
    (
        "azure-all-resource-configure-residency-region",
        "azure_server",
        [("backup.geoRedundantBackup", "Enabled")],
        [
            f"geo-redundant backup region (paired region) northeurope is outside residency zone 'eu' {EU_AZ}"
        ],
        {},
    ),
    ("gcp-all-resource-configure-residency-region", "gcp_sql", [], [], {}),
    (
        "gcp-all-resource-configure-residency-region",
        "gcp_sql",
        [("region", "europe-west1")],
        [f"region europe-west1 is outside residency zone 'us' {US_GCP}"],
        {},
    ),
    (
        "gcp-all-resource-configure-residency-region",
        "gcp_sql",
        [("settings.backupConfiguration.location", "us")],
        [f"backup location us is outside residency zone 'us' {US_GCP}"],
        {},
    ),
    ("gcp-all-resource-configure-residency-region", "gcp_crypto_key", [], [], {}),
    (
        "gcp-all-resource-configure-residency-region",
        "gcp_crypto_key",
        [("keyRing", KEY.format("europe-west3"))],
        [f"key ring location europe-west3 is outside residency zone 'us' {US_GCP}"],
        {},
    ),
    ("gcp-all-resource-configure-residency-region", "gcp_secret", [], [], {}),
    (
        "gcp-all-resource-configure-residency-region",
        "gcp_secret",
        [("replication", {"auto": {}})],
        [
            "replication is automatic: Google may place replicas in any region; use userManaged replicas inside the zone"
        ],
        {},
    ),
    (
        "gcp-all-resource-configure-residency-region",
        "gcp_secret",
        [("replication.userManaged.replicas.0.location", "europe-west1")],
        [f"secret replica 0 location europe-west1 is outside residency zone 'us' {US_GCP}"],
        {},
    ),
    # --- backups and PITR
    ("aws-rds-cluster-configure-backup-retention", "aws_cluster", [], [], {}),
    (
        "aws-rds-cluster-configure-backup-retention",
        "aws_cluster",
        [("backupRetentionPeriod", 30)],
        ["backupRetentionPeriod is 30 days; tier enterprise requires at least 35"],
        {},
    ),
    (
        "aws-rds-cluster-configure-backup-retention",
        "aws_cluster",
        [("tags.tenancy:tier", "free"), ("backupRetentionPeriod", 14)],
        ["backupRetentionPeriod is 14 days; hipaa requires at least 30"],
        {},
    ),
    (
        "aws-rds-cluster-configure-backup-retention",
        "aws_cluster",
        [("skipFinalSnapshot", True)],
        ["skipFinalSnapshot is true; deleting the database must leave a final snapshot"],
        {},
    ),
    (
        "aws-rds-cluster-configure-backup-retention",
        "aws_cluster",
        [("deleteAutomatedBackups", True)],
        ["deleteAutomatedBackups is true; automated backups must outlive the database"],
        {},
    ),
    ("azure-postgresql-server-configure-backup-retention", "azure_server", [], [], {}),
    (
        "azure-postgresql-server-configure-backup-retention",
        "azure_server",
        [("backup.backupRetentionDays", 7)],
        ["backup.backupRetentionDays is 7 days; tier enterprise requires at least 35"],
        {},
    ),
    (
        "azure-postgresql-server-configure-backup-retention",
        "azure_server",
        [("tags.tenancy:tier", "gold")],
        [
            "cannot verify backup.backupRetentionDays: tier 'gold' has no minimum retention in the policy config"
        ],
        {},
    ),
    ("gcp-sql-instance-configure-backups", "gcp_sql", [], [], {}),
    (
        "gcp-sql-instance-configure-backups",
        "gcp_sql",
        [("settings.backupConfiguration.pointInTimeRecoveryEnabled", False)],
        ["pointInTimeRecoveryEnabled is false; it must be true"],
        {},
    ),
    (
        "gcp-sql-instance-configure-backups",
        "gcp_sql",
        [("settings.backupConfiguration.enabled", False)],
        ["backupConfiguration.enabled is false; it must be true"],
        {},
    ),
    (
        "gcp-sql-instance-configure-backups",
        "gcp_sql",
        [("settings.backupConfiguration.backupRetentionSettings.retainedBackups", 7)],
        ["retainedBackups is 7 days; tier enterprise requires at least 35"],
        {},
    ),
    # A read replica names its primary and takes no backups of its own (the primary's
    # cover the data); one that names no primary is held to the rule.
    (
        "gcp-sql-instance-configure-backups",
        "gcp_sql",
        [
            ("masterInstanceName", "tnc-prod-cyberdyne"),
            ("settings.backupConfiguration", {"enabled": False}),
        ],
        NOT_APPLICABLE,
        {},
    ),
    (
        "gcp-sql-instance-configure-backups",
        "gcp_sql",
        [("masterInstanceName", ""), ("settings.backupConfiguration.enabled", False)],
        ["backupConfiguration.enabled is false; it must be true"],
        {},
    ),
    (
        "azure-postgresql-server-configure-backup-retention",
        "azure_server",
        [
            ("createMode", "Replica"),
            ("sourceServerResourceId", "/subscriptions/s/flexibleServers/tnc-prod-stark"),
            ("backup", DELETE),
        ],
        NOT_APPLICABLE,
        {},
    ),
    (
        "azure-postgresql-server-configure-backup-retention",
        "azure_server",
        [("createMode", "Replica"), ("backup", DELETE)],
        ["cannot verify backup.backupRetentionDays: it is not set"],
        {},
    ),
    # --- deletion protection and protect
    ("aws-rds-cluster-enable-deletion-protection", "aws_cluster", [], [], {}),
    (
        "aws-rds-cluster-enable-deletion-protection",
        "aws_cluster",
        [("deletionProtection", False)],
        ["deletionProtection is false; it must be true"],
        {},
    ),
    (
        "aws-rds-cluster-enable-deletion-protection",
        "aws_cluster",
        [("deletionProtection", DELETE)],
        ["cannot verify deletionProtection: it is not set"],
        {},
    ),
    (
        "aws-rds-cluster-enable-deletion-protection",
        "aws_cluster",
        [("tags.tenancy:environment", "dev"), ("deletionProtection", False)],
        NOT_APPLICABLE,
        {},
    ),
    ("gcp-sql-instance-enable-deletion-protection", "gcp_sql", [], [], {}),
    (
        "gcp-sql-instance-enable-deletion-protection",
        "gcp_sql",
        [("settings.deletionProtectionEnabled", False)],
        ["settings.deletionProtectionEnabled is false; it must be true"],
        {},
    ),
    (
        "gcp-sql-instance-enable-deletion-protection",
        "gcp_sql",
        [("deletionProtection", False)],
        ["deletionProtection is false; it must be true"],
        {},
    ),
    ("multi-pulumi-stateful-enable-protect", "aws_key", [], [], {}),
    (
        "multi-pulumi-stateful-enable-protect",
        "aws_key",
        [],
        ["protect is off; production stateful resources must be protected"],
        {"protect": False},
    ),
    (
        "multi-pulumi-stateful-enable-protect",
        "gcp_sql",
        [],
        ["cannot verify protect: the resource options are not known"],
        {"protect": None},
    ),
    (
        "multi-pulumi-stateful-enable-protect",
        "aws_key",
        [("tags.tenancy:environment", "dev")],
        NOT_APPLICABLE,
        {"protect": False, "stack": "dev-aws-eu-central-1"},
    ),
    # --- Kubernetes
    ("k8s-autoscaling-hpa-configure-tier-bounds", "k8s_hpa", [], [], {}),
    (
        "k8s-autoscaling-hpa-configure-tier-bounds",
        "k8s_hpa",
        [("spec.maxReplicas", 80)],
        ["maxReplicas is 80; tier enterprise allows at most 50"],
        {},
    ),
    (
        "k8s-autoscaling-hpa-configure-tier-bounds",
        "k8s_hpa",
        [("spec.minReplicas", 1)],
        ["minReplicas is 1; tier enterprise requires at least 3"],
        {},
    ),
    (
        "k8s-autoscaling-hpa-configure-tier-bounds",
        "k8s_hpa",
        [("spec.metrics.0.resource.target.averageUtilization", 90)],
        ["cpu averageUtilization is 90; tier enterprise allows at most 60"],
        {},
    ),
    (
        "k8s-autoscaling-hpa-configure-tier-bounds",
        "k8s_hpa",
        [("spec.metrics", [])],
        ["no CPU utilization metric; the HPA must scale on CPU"],
        {},
    ),
    ("k8s-autoscaling-hpa-configure-tier-bounds", "k8s_scaled_object", [], [], {}),
    (
        "k8s-autoscaling-hpa-configure-tier-bounds",
        "k8s_scaled_object",
        [("spec.maxReplicaCount", 100)],
        ["maxReplicas is 100; tier standard allows at most 50"],
        {},
    ),
    ("k8s-autoscaling-hpa-configure-prod-min-replicas", "k8s_hpa", [], [], {}),
    (
        "k8s-autoscaling-hpa-configure-prod-min-replicas",
        "k8s_hpa",
        [("spec.minReplicas", 1)],
        ["minReplicas is 1; production requires at least 2"],
        {},
    ),
    (
        "k8s-autoscaling-hpa-configure-prod-min-replicas",
        "k8s_scaled_object",
        [("spec.minReplicaCount", 1)],
        ["minReplicas is 1; production requires at least 2"],
        {},
    ),
    (
        "k8s-autoscaling-hpa-configure-prod-min-replicas",
        "k8s_hpa",
        [("spec.minReplicas", DELETE)],
        ["cannot verify minReplicas: it is not set"],
        {},
    ),
    (
        "k8s-autoscaling-hpa-configure-prod-min-replicas",
        "k8s_hpa",
        [("spec.minReplicas", 1)],
        NOT_APPLICABLE,
        {"stack": "dev-aws-eu-central-1"},
    ),
    ("k8s-apps-deployment-configure-restricted-security-context", "k8s_deployment", [], [], {}),
    (
        "k8s-apps-deployment-configure-restricted-security-context",
        "k8s_deployment",
        [("spec.template.spec.containers.0.securityContext.allowPrivilegeEscalation", True)],
        ["container tenant-api: allowPrivilegeEscalation is not false"],
        {},
    ),
    (
        "k8s-apps-deployment-configure-restricted-security-context",
        "k8s_deployment",
        [("spec.template.spec.containers.0.securityContext.capabilities.drop", [])],
        ["container tenant-api: capabilities.drop does not include ALL"],
        {},
    ),
    (
        "k8s-apps-deployment-configure-restricted-security-context",
        "k8s_deployment",
        [("spec.template.spec.containers.0.securityContext.runAsUser", 0)],
        ["container tenant-api: runAsUser is 0 (root)"],
        {},
    ),
    # --- required tags
    ("multi-tagging-resource-configure-required-tags", "aws_cluster", [], [], {}),
    (
        "multi-tagging-resource-configure-required-tags",
        "aws_cluster",
        [("tags.tenancy:residency", DELETE)],
        ["missing required tags: residency"],
        {},
    ),
    (
        "multi-tagging-resource-configure-required-tags",
        "aws_cluster",
        [("tags.tenancy:isolation", "shared")],
        ["isolation tag is shared; it must be one of silo, bridge, pool"],
        {},
    ),
    (
        "multi-tagging-resource-configure-required-tags",
        "gcp_sql",
        [("settings.userLabels.managed-by", "terraform")],
        ["managed-by is terraform; it must be tenancy"],
        {},
    ),
    ("multi-tagging-resource-configure-required-tags", "k8s_hpa", [], [], {}),
    (
        "multi-tagging-resource-configure-required-tags",
        "k8s_hpa",
        [(("metadata", "labels", "tenancy.dev/tier"), DELETE)],
        ["missing required tags: tier"],
        {},
    ),
    # --- connection poolers
    ("aws-rds-proxy-enable-require-tls", "aws_proxy", [], [], {}),
    (
        "aws-rds-proxy-enable-require-tls",
        "aws_proxy",
        [("requireTls", False)],
        ["requireTls is False; it must be true (the provider default is false)"],
        {},
    ),
    (
        "aws-rds-proxy-enable-require-tls",
        "aws_proxy",
        [("requireTls", DELETE)],
        ["requireTls is None; it must be true (the provider default is false)"],
        {},
    ),
    (
        "aws-rds-proxy-enable-require-tls",
        "aws_proxy",
        [("requireTls", "<unknown>")],
        ["cannot verify requireTls: it is not known at plan time"],
        {},
    ),
    ("aws-rds-proxy-enable-iam-auth", "aws_proxy", [], [], {}),
    (
        "aws-rds-proxy-enable-iam-auth",
        "aws_proxy",
        [("auths.0.iamAuth", "DISABLED")],
        ["auths[0].iamAuth is DISABLED; it must be REQUIRED"],
        {},
    ),
    (
        "aws-rds-proxy-enable-iam-auth",
        "aws_proxy",
        [("auths", [])],
        ["no auths and no defaultAuthScheme IAM_AUTH: clients would not use IAM"],
        {},
    ),
    (
        "aws-rds-proxy-enable-iam-auth",
        "aws_proxy",
        [("auths", []), ("defaultAuthScheme", "IAM_AUTH")],
        [],
        {},
    ),
    # --- GCP pooler: PgBouncer on the cell's cluster
    ("gcp-pgbouncer-config-enable-require-tls", "gcp_pgbouncer_config", [], [], {}),
    (
        "gcp-pgbouncer-config-enable-require-tls",
        "gcp_pgbouncer_config",
        [(_INI, _ini("client_tls_sslmode = require", "client_tls_sslmode = disable"))],
        ["client_tls_sslmode is disable; it must be one of require, verify-ca, verify-full"],
        {},
    ),
    (
        "gcp-pgbouncer-config-enable-require-tls",
        "gcp_pgbouncer_config",
        [(_INI, _ini("server_tls_sslmode = verify-ca", "server_tls_sslmode = prefer"))],
        [
            "server_tls_sslmode is prefer; it must be one of verify-ca, verify-full"
            " (require encrypts but does not verify the server)"
        ],
        {},
    ),
    (
        "gcp-pgbouncer-config-enable-require-tls",
        "gcp_pgbouncer_config",
        [(_INI, _ini("server_tls_sslmode = verify-ca", "server_tls_sslmode = require"))],
        [
            "server_tls_sslmode is require; it must be one of verify-ca, verify-full"
            " (require encrypts but does not verify the server)"
        ],
        {},
    ),
    (
        "gcp-pgbouncer-config-enable-require-tls",
        "gcp_pgbouncer_config",
        [(_INI, _ini("server_tls_ca_file = /etc/pgbouncer/server-ca/ca.crt\n", ""))],
        [
            "server_tls_ca_file is unset; it must name the file of the server's CA"
            " certificates, which PgBouncer verifies the server against"
        ],
        {},
    ),
    ("gcp-pgbouncer-config-configure-transaction-pool-mode", "gcp_pgbouncer_config", [], [], {}),
    (
        "gcp-pgbouncer-config-configure-transaction-pool-mode",
        "gcp_pgbouncer_config",
        [(_INI, _ini("pool_mode = transaction", "pool_mode = session"))],
        ["pool_mode is session; it must be transaction"],
        {},
    ),
    (
        "gcp-pgbouncer-config-configure-transaction-pool-mode",
        "gcp_pgbouncer_config",
        [(_INI, _ini("pool_mode = transaction", "pool_mode = statement"))],
        ["pool_mode is statement; it must be transaction"],
        {},
    ),
    (
        "gcp-pgbouncer-config-configure-transaction-pool-mode",
        "gcp_pgbouncer_config",
        [
            (_INI, _ini("pool_mode = transaction", "pool_mode = session")),
            (("metadata", "labels", "tenancy.dev/isolation"), "silo"),
        ],
        None,
        {},
    ),
    ("gcp-pgbouncer-service-disallow-public-exposure", "gcp_pgbouncer_service", [], [], {}),
    (
        "gcp-pgbouncer-service-disallow-public-exposure",
        "gcp_pgbouncer_service",
        [("spec.type", "NodePort")],
        ["spec.type is NodePort; the pooler's Service must be ClusterIP"],
        {},
    ),
    (
        "gcp-pgbouncer-service-disallow-public-exposure",
        "gcp_pgbouncer_service",
        [("spec.type", "LoadBalancer")],
        ["spec.type is LoadBalancer; the pooler's Service must be ClusterIP"],
        {},
    ),
    ("gcp-pgbouncer-deployment-enable-image-digest", "gcp_pgbouncer_deployment", [], [], {}),
    (
        "gcp-pgbouncer-deployment-enable-image-digest",
        "gcp_pgbouncer_deployment",
        [("spec.template.spec.containers", [{"name": "pgbouncer", "image": "pgbouncer:1.25"}])],
        ["container pgbouncer: image pgbouncer:1.25 is not a digest"],
        {},
    ),
    (
        "gcp-pgbouncer-deployment-enable-image-digest",
        "gcp_pgbouncer_deployment",
        [("spec.template.spec.containers", [{"name": "pgbouncer", "image": "<unknown>"}])],
        ["cannot verify image: it is not known at plan time"],
        {},
    ),
]
CASES += EXPORT_CASES  # issue 12: the export bucket rules (tests/policies/export_cases.py)
CASES += ACCESS_CASES  # issue 15: the Entra administrator (tests/policies/access_cases.py)


def _id(case: tuple[Any, ...]) -> str:
    rule_id, name, changes, expected, _ctx = case
    what = ",".join(str(p if isinstance(p, str) else "/".join(p)) for p, _ in changes) or "baseline"
    return f"{rule_id}[{name}:{what}]"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_resource_rule_answers_exactly(case: tuple[Any, ...]) -> None:
    rule_id, name, changes, expected, ctx_kwargs = case
    kind, props = baseline(name)
    for path, value in changes:
        props = changed(props, path, value)
    rule = BY_ID[rule_id]
    assert kind in rule.types
    assert rule.check(kind, props, ctx(**ctx_kwargs)) == expected


def test_every_resource_rule_has_a_pass_and_two_failures() -> None:
    for rule in RULES:
        if rule.kind != "resource":
            continue
        mine = [c for c in CASES if c[0] == rule.id]
        assert any(c[3] == [] for c in mine), f"{rule.id}: no compliant case"
        assert sum(1 for c in mine if c[3]) >= 2, f"{rule.id}: fewer than two non-compliant cases"


# ---- stack rules -----------------------------------------------------------------------

AZ_SERVER = "azure-native:dbforpostgresql:Server"
AZ_CONFIG = "azure-native:dbforpostgresql:Configuration"
AZ_LOCK = "azure-native:authorization:ManagementLockByScope"
SERVER_URN = urn("silo-stark-db-server", AZ_SERVER)


def _azure(
    config_value: str | None = "on", lock_level: str | None = "CanNotDelete", env: str = "prod"
) -> list[Any]:
    kind, props = baseline("azure_server")
    props = changed(props, "tags.tenancy:environment", env)
    resources = [res("silo-stark-db-server", kind, props)]
    if config_value is not None:
        resources.append(
            res(
                "silo-stark-db-require-secure-transport",
                AZ_CONFIG,
                {
                    "configurationName": "require_secure_transport",
                    "resourceGroupName": "rg-tenancy-prod-westeurope",
                    "serverName": "tnc-prod-stark-9da4a4",
                    "source": "user-override",
                    "value": config_value,
                },
                deps=(SERVER_URN,),
            )
        )
    if lock_level is not None:
        resources.append(
            res(
                "silo-stark-db-lock",
                AZ_LOCK,
                {
                    "level": lock_level,
                    "lockName": "tenancy-cannot-delete",
                    "scope": "/subscriptions/0/resourceGroups/rg-tenancy-prod-westeurope/providers/Microsoft.DBforPostgreSQL/flexibleServers/tnc-prod-stark-9da4a4",
                },
                deps=(SERVER_URN,),
            )
        )
    return resources


def _run(rule_id: str, resources: list[Any], **kwargs: Any) -> list[tuple[str, list[str]]]:
    return BY_ID[rule_id].check(resources, ctx(**kwargs))


def test_secure_transport_on_passes() -> None:
    assert _run("azure-postgresql-configuration-enable-secure-transport", _azure()) == [
        (SERVER_URN, [])
    ]


def test_secure_transport_off_fails() -> None:
    assert _run("azure-postgresql-configuration-enable-secure-transport", _azure("off")) == [
        (SERVER_URN, ["require_secure_transport is off; it must be on"])
    ]


def test_secure_transport_missing_fails() -> None:
    assert _run("azure-postgresql-configuration-enable-secure-transport", _azure(None)) == [
        (SERVER_URN, ["no require_secure_transport configuration; it must be on"])
    ]


def test_delete_lock_present_passes() -> None:
    assert _run("azure-postgresql-server-enable-delete-lock", _azure()) == [(SERVER_URN, [])]


def test_read_only_lock_is_not_a_delete_lock() -> None:
    assert _run("azure-postgresql-server-enable-delete-lock", _azure(lock_level="ReadOnly")) == [
        (SERVER_URN, ["no CanNotDelete lock on the server (found: ReadOnly)"])
    ]


def test_missing_delete_lock_fails_in_prod_only() -> None:
    assert _run("azure-postgresql-server-enable-delete-lock", _azure(lock_level=None)) == [
        (SERVER_URN, ["no CanNotDelete lock on the server"])
    ]
    assert (
        _run("azure-postgresql-server-enable-delete-lock", _azure(lock_level=None, env="dev")) == []
    )


DEPLOYMENT, PDB = "kubernetes:apps/v1:Deployment", "kubernetes:policy/v1:PodDisruptionBudget"
POD = {"app.kubernetes.io/instance": "tnc-tenant-acme", "app.kubernetes.io/name": "tenant-api"}


def _workload(pdb_namespace: str = "tnc-tenant-acme", min_available: Any = 2) -> list[Any]:
    kind, props = baseline("k8s_deployment")
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"labels": k8s_labels(), "name": "tenant-api", "namespace": pdb_namespace},
        "spec": {"minAvailable": min_available, "selector": {"matchLabels": dict(POD)}},
    }
    return [res("acme-workload-deployment", kind, props), res("acme-workload-pdb", PDB, pdb)]


def test_pdb_selecting_the_pods_passes() -> None:
    assert _run("k8s-policy-pdb-enable-disruption-budget", _workload()) == [
        (urn("acme-workload-deployment", DEPLOYMENT), [])
    ]


def test_pdb_in_another_namespace_does_not_count() -> None:
    assert _run("k8s-policy-pdb-enable-disruption-budget", _workload("tnc-tier-free")) == [
        (
            urn("acme-workload-deployment", DEPLOYMENT),
            ["no PodDisruptionBudget selects the Deployment's pods"],
        )
    ]


def test_pdb_allowing_zero_available_fails() -> None:
    assert _run("k8s-policy-pdb-enable-disruption-budget", _workload(min_available=0)) == [
        (
            urn("acme-workload-deployment", DEPLOYMENT),
            ["the PodDisruptionBudget lets every pod be evicted at once"],
        )
    ]


NS, NETPOL = "kubernetes:core/v1:Namespace", "kubernetes:networking.k8s.io/v1:NetworkPolicy"
NS_URN = urn("acme-namespace-ns", NS)


def _namespace(spec: dict[str, Any] | None) -> list[Any]:
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"labels": k8s_labels(), "name": "tnc-tenant-acme"},
    }
    resources = [res("acme-namespace-ns", NS, namespace)]
    if spec is not None:
        policy = {
            "metadata": {
                "labels": k8s_labels(),
                "name": "default-deny",
                "namespace": "tnc-tenant-acme",
            },
            "spec": spec,
        }
        resources.append(res("acme-namespace-default-deny", NETPOL, policy))
    return resources


DENY_ALL = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
NO_DENY = ["namespace tnc-tenant-acme has no default-deny NetworkPolicy"]


def test_default_deny_passes() -> None:
    assert _run("k8s-networking-networkpolicy-enable-default-deny", _namespace(DENY_ALL)) == [
        (NS_URN, [])
    ]


def test_ingress_only_deny_is_not_default_deny() -> None:
    spec = {"podSelector": {}, "policyTypes": ["Ingress"]}
    assert _run("k8s-networking-networkpolicy-enable-default-deny", _namespace(spec)) == [
        (NS_URN, NO_DENY)
    ]


def test_policy_with_allow_rules_is_not_default_deny() -> None:
    spec = {**DENY_ALL, "ingress": [{"from": [{"namespaceSelector": {}}]}]}
    assert _run("k8s-networking-networkpolicy-enable-default-deny", _namespace(spec)) == [
        (NS_URN, NO_DENY)
    ]


def test_namespace_without_policy_fails() -> None:
    assert _run("k8s-networking-networkpolicy-enable-default-deny", _namespace(None)) == [
        (NS_URN, NO_DENY)
    ]


KMS, CLUSTER = "aws:kms/key:Key", "aws:rds/cluster:Cluster"


def _db(
    name: str,
    key_urns: tuple[str, ...],
    tenant: str,
    isolation: str = "silo",
    compliance: str = "gdpr-soc2",
    shard: str | None = None,
) -> Any:
    _kind, props = baseline("aws_cluster")
    tags = {
        **props["tags"],
        "tenancy:tenant": tenant,
        "tenancy:isolation": isolation,
        "tenancy:compliance": compliance,
    }
    if shard:
        tags["tenancy:shard"] = shard
    return res(name, CLUSTER, {**props, "tags": tags}, deps=key_urns)


def _key(name: str, tenant: str) -> Any:
    _kind, props = baseline("aws_key")
    return res(name, KMS, {**props, "tags": {**props["tags"], "tenancy:tenant": tenant}})


KEY_URN = urn("silo-acme-key-cmk", KMS)


def test_key_of_one_silo_tenant_passes() -> None:
    resources = [_key("silo-acme-key-cmk", "acme"), _db("silo-acme-db-cluster", (KEY_URN,), "acme")]
    assert _run("multi-kms-key-disallow-shared-silo-key", resources) == [(KEY_URN, [])]


def test_key_shared_by_two_silo_tenants_fails() -> None:
    resources = [
        _key("silo-acme-key-cmk", "acme"),
        _db("silo-acme-db-cluster", (KEY_URN,), "acme"),
        _db("silo-globex-db-cluster", (KEY_URN,), "globex"),
    ]
    assert _run("multi-kms-key-disallow-shared-silo-key", resources) == [
        (KEY_URN, ["the key is shared by acme, globex; a silo tenant's key must be its own"])
    ]


def test_key_shared_by_a_silo_tenant_and_a_shard_fails() -> None:
    resources = [
        _key("silo-acme-key-cmk", "acme"),
        _db("silo-acme-db-cluster", (KEY_URN,), "acme"),
        _db("shard-free-01-db-cluster", (KEY_URN,), "shared", "pool", shard="free-01"),
    ]
    assert _run("multi-kms-key-disallow-shared-silo-key", resources) == [
        (KEY_URN, ["the key is shared by acme, shard free-01; a silo tenant's key must be its own"])
    ]


GLOBEX_KEY = urn("silo-globex-key-cmk", KMS)
GLOBEX_DB = urn("silo-globex-db-cluster", CLUSTER)


def test_regulated_silo_tenant_with_its_own_key_passes() -> None:
    resources = [
        _key("silo-globex-key-cmk", "globex"),
        _db("silo-globex-db-cluster", (GLOBEX_KEY,), "globex", compliance="gdpr-hipaa"),
    ]
    assert _run("multi-kms-key-enable-dedicated-regulated-key", resources) == [(GLOBEX_DB, [])]


def test_regulated_silo_tenant_on_a_shared_key_fails() -> None:
    resources = [
        _key("silo-globex-key-cmk", "shared"),
        _db("silo-globex-db-cluster", (GLOBEX_KEY,), "globex", compliance="gdpr-hipaa"),
    ]
    assert _run("multi-kms-key-enable-dedicated-regulated-key", resources) == [
        (GLOBEX_DB, ["the database of globex (hipaa) uses a key tagged for shared"])
    ]


def test_regulated_silo_tenant_without_a_key_cannot_be_verified() -> None:
    resources = [_db("silo-globex-db-cluster", (), "globex", compliance="pci")]
    assert _run("multi-kms-key-enable-dedicated-regulated-key", resources) == [
        (
            GLOBEX_DB,
            [
                "cannot verify the key of globex (pci): the database depends on no key resource of the stack"
            ],
        )
    ]


STACK_URN = (
    "urn:pulumi:prod-aws-eu-central-1::tenancy::pulumi:pulumi:Stack::tenancy-prod-aws-eu-central-1"
)
TENANTS = [
    {"id": "globex", "tier": "enterprise", "isolation": "silo", "shard": None},
    {"id": "initech", "tier": "standard", "isolation": "bridge", "shard": "standard-01"},
]


def _servers(*which: str) -> list[Any]:
    out = []
    if "globex" in which:
        out.append(_db("silo-globex-db-cluster", (), "globex"))
    if "standard-01" in which:
        out.append(_db("shard-standard-01-db-cluster", (), "shared", "bridge", shard="standard-01"))
    return out


def test_every_tenant_with_its_database_passes() -> None:
    assert _run(
        "multi-tenancy-stack-configure-tenant-databases",
        _servers("globex", "standard-01"),
        tenants=TENANTS,
    ) == [
        (STACK_URN, []),
        (STACK_URN, []),
    ]


def test_bridge_tenant_without_its_shard_fails() -> None:
    assert _run(
        "multi-tenancy-stack-configure-tenant-databases", _servers("globex"), tenants=TENANTS
    ) == [
        (STACK_URN, []),
        (
            STACK_URN,
            [
                "tenant initech (bridge) has no database: the server of shard standard-01 is not in the plan"
            ],
        ),
    ]


def test_silo_tenant_without_its_server_fails() -> None:
    assert _run(
        "multi-tenancy-stack-configure-tenant-databases", _servers("standard-01"), tenants=TENANTS
    ) == [
        (
            STACK_URN,
            ["tenant globex (silo) has no database: its own database server is not in the plan"],
        ),
        (STACK_URN, []),
    ]


def test_unknown_stack_without_tenants_cannot_be_verified() -> None:
    stack = "qa-aws-eu-west-1"
    assert _run("multi-tenancy-stack-configure-tenant-databases", [], stack=stack) == [
        (
            f"urn:pulumi:{stack}::tenancy::pulumi:pulumi:Stack::tenancy-{stack}",
            [
                f"cannot verify the tenants' databases: stack '{stack}' is not in the policy config's tenantsByStack"
            ],
        )
    ]


def _waivers(**entry: Any) -> list[Any]:
    base = {
        "rule": "aws-rds-cluster-enable-deletion-protection",
        "urn": "urn:pulumi:dev-*",
        "reason": "Load-test clusters are recreated nightly (OPS-1234)",
        "approver": "security@example.com",
        "expires": date(2030, 1, 31),
    }
    return parse_waivers({"waivers": [{**base, **entry}]}, BY_ID)


WHERE = "waiver stacks/waivers.yaml: waivers[0] (aws-rds-cluster-enable-deletion-protection)"


def test_valid_waiver_passes() -> None:
    assert _run("multi-waivers-file-configure-valid-waiver", [], waivers=_waivers()) == [
        (STACK_URN, [])
    ]


def test_expired_waiver_is_a_violation() -> None:
    assert _run(
        "multi-waivers-file-configure-valid-waiver", [], waivers=_waivers(expires="2024-01-01")
    ) == [(STACK_URN, [f"{WHERE}: expired on 2024-01-01"])]


def test_reasonless_waiver_is_a_violation() -> None:
    assert _run("multi-waivers-file-configure-valid-waiver", [], waivers=_waivers(reason="ok")) == [
        (STACK_URN, [f"{WHERE}: the reason must be at least 20 characters (got 2)"])
    ]


def test_waiver_without_target_or_approver_is_a_violation() -> None:
    assert _run(
        "multi-waivers-file-configure-valid-waiver", [], waivers=_waivers(urn=None, approver="")
    ) == [
        (
            STACK_URN,
            [
                f"{WHERE}: neither a urn nor a tenant pattern: a waiver must name what it covers",
                f"{WHERE}: no approver",
            ],
        )
    ]
