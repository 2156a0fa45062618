"""Compliant engine-form props of the export buckets (trimmed from the prod plans)."""

from __future__ import annotations

import json
from typing import Any

KEY_ARN = "arn:aws:kms:eu-central-1:123456789012:key/7f525401-6dd3-9428-a653-bfd6303b7379"
BUCKET = "tnc-prod-ex-bacb29"


def _cell_tags(separator: str = ":", residency: str = "eu") -> dict[str, str]:
    return {
        "managed-by": "tenancy",
        f"tenancy{separator}compliance": "none",
        f"tenancy{separator}environment": "prod",
        f"tenancy{separator}isolation": "network",
        f"tenancy{separator}residency": residency,
        f"tenancy{separator}tenant": "shared",
        f"tenancy{separator}tier": "cell",
    }


TLS_ONLY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
)

EXPORT_BASELINES: dict[str, tuple[str, dict[str, Any]]] = {
    "s3_bucket": (
        "aws:s3/bucket:Bucket",
        {
            "bucket": BUCKET,
            "forceDestroy": False,
            "objectLockEnabled": True,
            "region": "eu-central-1",
            "tags": _cell_tags(),
        },
    ),
    "s3_encryption": (
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        {
            "bucket": BUCKET,
            "region": "eu-central-1",
            "rules": [
                {
                    "applyServerSideEncryptionByDefault": {
                        "kmsMasterKeyId": KEY_ARN,
                        "sseAlgorithm": "aws:kms",
                    },
                    "bucketKeyEnabled": True,
                }
            ],
        },
    ),
    "s3_object_lock": (
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        {
            "bucket": BUCKET,
            "objectLockEnabled": "Enabled",
            "region": "eu-central-1",
            "rule": {"defaultRetention": {"days": 30, "mode": "COMPLIANCE"}},
        },
    ),
    "s3_versioning": (
        "aws:s3/bucketVersioning:BucketVersioning",
        {
            "bucket": BUCKET,
            "region": "eu-central-1",
            "versioningConfiguration": {"status": "Enabled"},
        },
    ),
    "s3_public_access_block": (
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        {
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "bucket": BUCKET,
            "ignorePublicAcls": True,
            "region": "eu-central-1",
            "restrictPublicBuckets": True,
        },
    ),
    "s3_policy": (
        "aws:s3/bucketPolicy:BucketPolicy",
        {"bucket": BUCKET, "policy": TLS_ONLY, "region": "eu-central-1"},
    ),
    "az_storage_account": (
        "azure-native:storage:StorageAccount",
        {
            "accountName": "tncprodexb4504f",
            "allowBlobPublicAccess": False,
            "allowCrossTenantReplication": False,
            "allowSharedKeyAccess": False,
            "enableHttpsTrafficOnly": True,
            "encryption": {
                "encryptionIdentity": {"encryptionUserAssignedIdentity": "/subscriptions/0/x"},
                "keySource": "Microsoft.Keyvault",
                "keyVaultProperties": {
                    "keyName": "tnc-prod-ex",
                    "keyVaultUri": "https://tnc-prod-kv-fc7b13.vault.azure.net/",
                },
                "requireInfrastructureEncryption": True,
                "services": {"blob": {"enabled": True, "keyType": "Account"}},
            },
            "immutableStorageWithVersioning": {
                "enabled": True,
                "immutabilityPolicy": {
                    "allowProtectedAppendWrites": False,
                    "immutabilityPeriodSinceCreationInDays": 30,
                    "state": "Locked",
                },
            },
            "kind": "StorageV2",
            "location": "westeurope",
            "minimumTlsVersion": "TLS1_2",
            "networkRuleSet": {"bypass": "None", "defaultAction": "Deny"},
            "publicNetworkAccess": "Disabled",
            "resourceGroupName": "rg-tenancy-prod-westeurope",
            "sku": {"name": "Standard_ZRS"},
            "tags": _cell_tags(),
        },
    ),
    "az_blob_container": (
        "azure-native:storage:BlobContainer",
        {
            "accountName": "tncprodexb4504f",
            "containerName": "exports",
            "publicAccess": "None",
            "resourceGroupName": "rg-tenancy-prod-westeurope",
        },
    ),
    "gcs_bucket": (
        "gcp:storage/bucket:Bucket",
        {
            "encryption": {
                "defaultKmsKeyName": "projects/tenancy-prod-4711/locations/us-central1/keyRings/tnc-prod-ex/cryptoKeys/tnc-prod-ex"
            },
            "forceDestroy": False,
            "labels": _cell_tags("-", "us"),
            "location": "us-central1",
            "name": "tnc-prod-ex-fddab7",
            "publicAccessPrevention": "enforced",
            "retentionPolicy": {"isLocked": True, "retentionPeriod": 2592000},
            "softDeletePolicy": {"retentionDurationSeconds": 0},
            "storageClass": "STANDARD",
            "uniformBucketLevelAccess": True,
        },
    ),
}
