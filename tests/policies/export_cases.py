"""Rule cases of the export bucket rules (issue 12), in test_policy_rules.py's form:
(rule id, baseline, [(path, value)], expected messages, ctx kwargs). ``...`` deletes."""

from __future__ import annotations

import json
from typing import Any

DELETE = ...
EU_AWS = "(eu-central-1, eu-west-1)"
US_GCP = "(us-central1, us-east1)"
PUBLIC_READ = json.dumps(
    {
        "Statement": [
            {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
        ]
    }
)

EXPORT_CASES: list[tuple[str, str, list[tuple[Any, Any]], list[str] | None, dict[str, Any]]] = [
    # --- AWS: SSE-KMS with a customer-managed key
    ("aws-s3-bucket-configure-kms-encryption", "s3_encryption", [], [], {}),
    (
        "aws-s3-bucket-configure-kms-encryption",
        "s3_encryption",
        [("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm", "AES256")],
        ["rules[0] uses AES256; it must be aws:kms with a CMK"],
        {},
    ),
    (
        "aws-s3-bucket-configure-kms-encryption",
        "s3_encryption",
        [("rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId", "alias/aws/s3")],
        ["rules[0] uses alias/aws/s3; it must name a customer-managed KMS key"],
        {},
    ),
    (
        "aws-s3-bucket-configure-kms-encryption",
        "s3_encryption",
        [("rules", [])],
        ["cannot verify the default encryption rules: it is not set"],
        {},
    ),
    # --- AWS: Object Lock, versioning, default retention
    ("aws-s3-bucket-enable-object-lock", "s3_bucket", [], [], {}),
    ("aws-s3-bucket-enable-object-lock", "s3_versioning", [], [], {}),
    ("aws-s3-bucket-enable-object-lock", "s3_object_lock", [], [], {}),
    (
        "aws-s3-bucket-enable-object-lock",
        "s3_bucket",
        [("objectLockEnabled", False)],
        ["objectLockEnabled is false; it must be true"],
        {},
    ),
    (
        "aws-s3-bucket-enable-object-lock",
        "s3_versioning",
        [("versioningConfiguration.status", "Suspended")],
        ["versioning is Suspended; it must be Enabled"],
        {},
    ),
    (
        "aws-s3-bucket-enable-object-lock",
        "s3_object_lock",
        [("rule.defaultRetention.mode", "GOVERNANCE")],
        ["the default retention mode is GOVERNANCE in prod; it must be COMPLIANCE"],
        {},
    ),
    (
        "aws-s3-bucket-enable-object-lock",
        "s3_object_lock",
        [("rule.defaultRetention.mode", "GOVERNANCE")],
        [],
        {"stack": "dev-aws-eu-central-1"},
    ),
    (
        "aws-s3-bucket-enable-object-lock",
        "s3_object_lock",
        [("rule.defaultRetention.days", 0)],
        ["the default retention is 0; it must be at least 1 day"],
        {},
    ),
    (
        "aws-s3-bucket-enable-object-lock",
        "s3_object_lock",
        [("rule.defaultRetention.days", DELETE), ("rule.defaultRetention.years", 1)],
        [],
        {},
    ),
    # --- AWS: public access blocked, TLS only
    ("aws-s3-bucket-disallow-public-access", "s3_public_access_block", [], [], {}),
    ("aws-s3-bucket-disallow-public-access", "s3_policy", [], [], {}),
    (
        "aws-s3-bucket-disallow-public-access",
        "s3_public_access_block",
        [("restrictPublicBuckets", False)],
        ["restrictPublicBuckets is false; it must be true"],
        {},
    ),
    (
        "aws-s3-bucket-disallow-public-access",
        "s3_public_access_block",
        [("blockPublicAcls", DELETE)],
        ["cannot verify blockPublicAcls: it is not set"],
        {},
    ),
    (
        "aws-s3-bucket-disallow-public-access",
        "s3_policy",
        [("policy", PUBLIC_READ)],
        [
            "statement Public allows anyone (Principal *)",
            "the bucket policy does not deny requests without TLS (aws:SecureTransport)",
        ],
        {},
    ),
    # --- AWS: in the residency zone
    ("aws-all-resource-configure-residency-region", "s3_bucket", [], [], {}),
    (
        "aws-all-resource-configure-residency-region",
        "s3_bucket",
        [("region", "us-east-1")],
        [f"region us-east-1 is outside residency zone 'eu' {EU_AWS}"],
        {},
    ),
    # --- Azure: CMK, immutability, no public access
    ("azure-storage-account-configure-cmk", "az_storage_account", [], [], {}),
    (
        "azure-storage-account-configure-cmk",
        "az_storage_account",
        [("encryption.keySource", "Microsoft.Storage")],
        ["encryption.keySource is Microsoft.Storage; it must be Microsoft.Keyvault (a CMK)"],
        {},
    ),
    (
        "azure-storage-account-configure-cmk",
        "az_storage_account",
        [("encryption.keyVaultProperties.keyName", DELETE)],
        ["cannot verify encryption.keyVaultProperties.keyName: it is not set"],
        {},
    ),
    (
        "azure-storage-account-configure-cmk",
        "az_storage_account",
        [("encryption.requireInfrastructureEncryption", False)],
        ["encryption.requireInfrastructureEncryption is false; it must be true"],
        {},
    ),
    ("azure-storage-account-enable-immutability", "az_storage_account", [], [], {}),
    (
        "azure-storage-account-enable-immutability",
        "az_storage_account",
        [("immutableStorageWithVersioning.enabled", False)],
        ["immutableStorageWithVersioning.enabled is false; it must be true"],
        {},
    ),
    (
        "azure-storage-account-enable-immutability",
        "az_storage_account",
        [("immutableStorageWithVersioning.immutabilityPolicy.state", "Unlocked")],
        ["the immutability policy is Unlocked in prod; it must be Locked"],
        {},
    ),
    (
        "azure-storage-account-enable-immutability",
        "az_storage_account",
        [
            ("immutableStorageWithVersioning.immutabilityPolicy.state", "Unlocked"),
            ("tags.tenancy:environment", "dev"),
        ],
        [],
        {},
    ),
    (
        "azure-storage-account-enable-immutability",
        "az_storage_account",
        [
            (
                "immutableStorageWithVersioning.immutabilityPolicy.immutabilityPeriodSinceCreationInDays",
                0,
            )
        ],
        ["the immutability period is 0; it must be at least 1 day"],
        {},
    ),
    ("azure-storage-account-disallow-public-access", "az_storage_account", [], [], {}),
    ("azure-storage-account-disallow-public-access", "az_blob_container", [], [], {}),
    (
        "azure-storage-account-disallow-public-access",
        "az_storage_account",
        [("allowBlobPublicAccess", True), ("publicNetworkAccess", "Enabled")],
        [
            "allowBlobPublicAccess is true; it must be false",
            "publicNetworkAccess is Enabled; it must be Disabled",
        ],
        {},
    ),
    (
        "azure-storage-account-disallow-public-access",
        "az_storage_account",
        [("allowSharedKeyAccess", DELETE), ("minimumTlsVersion", "TLS1_0")],
        [
            "cannot verify allowSharedKeyAccess: it is not set",
            "minimumTlsVersion is TLS1_0; it must be TLS1_2",
        ],
        {},
    ),
    (
        "azure-storage-account-disallow-public-access",
        "az_blob_container",
        [("publicAccess", "Blob")],
        ["publicAccess is Blob; it must be None"],
        {},
    ),
    ("azure-all-resource-configure-residency-region", "az_storage_account", [], [], {}),
    (
        "azure-all-resource-configure-residency-region",
        "az_storage_account",
        [("sku.name", "Standard_RAGRS")],
        [
            "geo-replicated storage region (paired region) northeurope is outside residency "
            "zone 'eu' (westeurope, germanywestcentral)"
        ],
        {},
    ),
    # --- GCP: CMEK, retention, public access prevention
    ("gcp-storage-bucket-configure-cmek", "gcs_bucket", [], [], {}),
    (
        "gcp-storage-bucket-configure-cmek",
        "gcs_bucket",
        [("encryption", DELETE)],
        ["cannot verify encryption.defaultKmsKeyName: it is not set"],
        {},
    ),
    (
        "gcp-storage-bucket-configure-cmek",
        "gcs_bucket",
        [("encryption.defaultKmsKeyName", "<unknown>")],
        ["cannot verify encryption.defaultKmsKeyName: it is not known at plan time"],
        {},
    ),
    ("gcp-storage-bucket-configure-retention", "gcs_bucket", [], [], {}),
    (
        "gcp-storage-bucket-configure-retention",
        "gcs_bucket",
        [("retentionPolicy.retentionPeriod", 3600)],
        ["retentionPolicy.retentionPeriod is 3600s; it must be at least 86400s"],
        {},
    ),
    (
        "gcp-storage-bucket-configure-retention",
        "gcs_bucket",
        [("retentionPolicy.isLocked", False)],
        ["retentionPolicy.isLocked is false; it must be true"],
        {},
    ),
    (
        "gcp-storage-bucket-configure-retention",
        "gcs_bucket",
        [("retentionPolicy", DELETE)],
        ["cannot verify retentionPolicy.retentionPeriod: it is not set"],
        {},
    ),
    ("gcp-storage-bucket-disallow-public-access", "gcs_bucket", [], [], {}),
    (
        "gcp-storage-bucket-disallow-public-access",
        "gcs_bucket",
        [("publicAccessPrevention", "inherited")],
        ["publicAccessPrevention is inherited; it must be enforced"],
        {},
    ),
    (
        "gcp-storage-bucket-disallow-public-access",
        "gcs_bucket",
        [("uniformBucketLevelAccess", False)],
        ["uniformBucketLevelAccess is false; it must be true"],
        {},
    ),
    ("gcp-all-resource-configure-residency-region", "gcs_bucket", [], [], {}),
    (
        "gcp-all-resource-configure-residency-region",
        "gcs_bucket",
        [("location", "US")],
        [f"bucket location us is outside residency zone 'us' {US_GCP}"],
        {},
    ),
]
