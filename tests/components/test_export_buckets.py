"""The export bucket of every cell (issue 12): in the cell's region, encrypted with its own
customer-managed key, immutable for the export retention, closed to the public, and named
in the stack outputs for `tenancy tenant export`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.model.erasure import EXPORT_RETENTION_DAYS
from tests.support.planview import Plan, planned

DAY = 86_400


def _one(plan: Plan, kind: str) -> dict[str, Any]:
    (found,) = [r for r in plan.of_type(kind) if r["name"].startswith("cell-exports")]
    return found


def _export(plan: Plan) -> dict[str, Any]:
    component = next(r for r in plan.resources if r["name"] == "cell-exports")
    return component


@pytest.mark.parametrize(("env", "mode"), [("prod", "COMPLIANCE"), ("dev", "GOVERNANCE")])
def test_aws_export_bucket_is_locked_versioned_kms_encrypted_and_private(
    env: str, mode: str
) -> None:
    plan = planned(f"{env}-aws-eu-central-1")
    bucket = _one(plan, "aws:s3/bucket:Bucket")
    assert bucket["inputs"]["objectLockEnabled"] is True
    assert bucket["inputs"]["region"] == "eu-central-1"
    assert bucket["protect"] is (env == "prod")
    name = bucket["inputs"]["bucket"]
    key = plan.one_under(_export(plan), "aws:kms/key:Key")
    policy = json.loads(key["inputs"]["policy"])
    via = {s["Sid"]: s for s in policy["Statement"]}["UseThroughDataServices"]
    assert via["Condition"]["StringEquals"]["kms:ViaService"] == ["s3.eu-central-1.amazonaws.com"]
    assert "CloudWatchLogs" not in {s["Sid"] for s in policy["Statement"]}
    sse = _one(
        plan,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    default = sse["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    assert default["kmsMasterKeyId"].startswith("arn:aws:kms:eu-central-1:")
    lock = _one(plan, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert lock["inputs"]["rule"]["defaultRetention"] == {
        "mode": mode,
        "days": EXPORT_RETENTION_DAYS,
    }
    assert _one(plan, "aws:s3/bucketVersioning:BucketVersioning")["inputs"][
        "versioningConfiguration"
    ] == {"status": "Enabled"}
    block = _one(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")["inputs"]
    assert all(
        block[k] is True
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    tls = json.loads(_one(plan, "aws:s3/bucketPolicy:BucketPolicy")["inputs"]["policy"])
    (deny,) = tls["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    assert deny["Resource"] == [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]
    lifecycle = _one(plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert lifecycle["inputs"]["rules"][0]["expiration"] == {"days": EXPORT_RETENTION_DAYS + 1}
    assert plan.outputs["export_bucket"] == {
        "kind": "s3",
        "name": name,
        "location": "eu-central-1",
        "retention_days": EXPORT_RETENTION_DAYS,
    }


@pytest.mark.parametrize(("env", "state"), [("prod", "Locked"), ("dev", "Unlocked")])
def test_azure_export_account_is_immutable_cmk_encrypted_zone_redundant_and_private(
    env: str, state: str
) -> None:
    plan = planned(f"{env}-azure-westeurope")
    account = _one(plan, "azure-native:storage:StorageAccount")
    inputs = account["inputs"]
    assert inputs["location"] == "westeurope" and inputs["sku"] == {"name": "Standard_ZRS"}
    assert inputs["encryption"]["keySource"] == "Microsoft.Keyvault"
    assert inputs["encryption"]["requireInfrastructureEncryption"] is True
    key = plan.one_under(_export(plan), "azure-native:keyvault:Key")
    assert inputs["encryption"]["keyVaultProperties"]["keyName"] == key["inputs"]["keyName"]
    identity = plan.one_under(_export(plan), "azure-native:managedidentity:UserAssignedIdentity")
    assert inputs["encryption"]["encryptionIdentity"]["encryptionUserAssignedIdentity"].endswith(
        "/" + identity["inputs"]["resourceName"]
    )
    # The account waits for the identity's grant on the key, or its creation would fail.
    grant = plan.one_under(_export(plan), "azure-native:authorization:RoleAssignment")
    assert grant["urn"] in account["dependencies"]
    policy = inputs["immutableStorageWithVersioning"]
    assert policy["enabled"] is True
    assert policy["immutabilityPolicy"]["immutabilityPeriodSinceCreationInDays"] == 30
    assert policy["immutabilityPolicy"]["state"] == state
    for key_name, want in {
        "allowBlobPublicAccess": False,
        "allowSharedKeyAccess": False,
        "publicNetworkAccess": "Disabled",
        "enableHttpsTrafficOnly": True,
        "minimumTlsVersion": "TLS1_2",
    }.items():
        assert inputs[key_name] == want, key_name
    assert _one(plan, "azure-native:storage:BlobContainer")["inputs"]["publicAccess"] == "None"
    service = _one(plan, "azure-native:storage:BlobServiceProperties")
    assert service["inputs"]["isVersioningEnabled"] is True
    assert plan.outputs["export_bucket"]["name"] == inputs["accountName"]
    assert inputs["accountName"].isalnum() and len(inputs["accountName"]) <= 24


@pytest.mark.parametrize("env", ["prod", "dev"])
def test_gcp_export_bucket_has_cmek_retention_uniform_access_and_no_public_access(
    env: str,
) -> None:
    plan = planned(f"{env}-gcp-us-central1")
    bucket = _one(plan, "gcp:storage/bucket:Bucket")["inputs"]
    key = plan.one_under(_export(plan), "gcp:kms/cryptoKey:CryptoKey")
    assert bucket["encryption"]["defaultKmsKeyName"].endswith(
        "/cryptoKeys/" + key["inputs"]["name"]
    )
    assert "/locations/us-central1/" in bucket["encryption"]["defaultKmsKeyName"]
    assert bucket["location"] == "us-central1"
    assert bucket["retentionPolicy"] == {
        "retentionPeriod": EXPORT_RETENTION_DAYS * DAY,
        "isLocked": env == "prod",
    }
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["softDeletePolicy"] == {"retentionDurationSeconds": 0}
    grant = plan.one_under(_export(plan), "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert grant["inputs"]["member"].endswith("@gs-project-accounts.iam.gserviceaccount.com")
    assert plan.outputs["export_bucket"]["kind"] == "gcs"
