"""Immutable log archives in the offline plans, per cloud x environment x tier: present for
the servers of regulated tiers only, in the cell's region, under the cell's keys, locked
for the tier's retention (strictly in production), and Cloud SQL logs kept out of the
global ``_Default`` bucket."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.model.errors import InputError
from infra import program
from policies.offline import evaluate
from tenancy.plan import plan_stack
from tests.support.planview import ROOT, Plan, catalog_data, planned, write_catalog

AWS = ("dev-aws-eu-central-1", "prod-aws-eu-central-1")
AZURE = ("dev-azure-westeurope", "prod-azure-westeurope")
GCP = ("dev-gcp-us-central1", "prod-gcp-us-central1")
REGULATED_RETENTION_DAYS = 365
BUCKET = "aws:s3/bucket:Bucket"
LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
FILTER = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
ACCOUNT = "azure-native:storage:StorageAccount"
DIAGNOSTIC = "azure-native:monitor:DiagnosticSetting"


def _archived(plan: Plan, kind: str) -> list[dict[str, Any]]:
    """Resources of ``kind`` inside the cell's log archive (the cell has export buckets too)."""
    return [r for r in plan.of_type(kind) if ":AuditArchive$" in r["urn"]]


def _region(stack: str) -> str:
    return stack.split("-", 2)[2]


def _regulated_tiers(data: dict[str, Any] | None = None) -> set[str]:
    tenants = (data or catalog_data())["tenants"]
    return {t["tier"] for t in tenants if {"hipaa", "pci"} & set(t.get("compliance") or ())}


def _tier_of(plan: Plan, owner: dict[str, Any]) -> str:
    name = owner["name"].split("-", 1)[1]
    (tier,) = {t["tier"] for t in plan.tenants.values() if name in (t["id"], t["shard"])}
    return tier


def _unregulated_catalog(tmp_path: Path) -> str:
    data = catalog_data()
    for tenant in data["tenants"]:
        tenant["compliance"] = [f for f in tenant.get("compliance") or () if f in ("gdpr", "soc2")]
    return write_catalog(tmp_path, data)


# ---- AWS --------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", AWS)
def test_regulated_aurora_log_groups_stream_into_an_object_lock_bucket(stack: str) -> None:
    plan = planned(stack)
    regulated = _regulated_tiers()
    subscribed = {f["inputs"]["logGroup"] for f in plan.of_type(FILTER)}
    owners = plan.owners("aws")
    assert {_tier_of(plan, o) in regulated for o in owners} == {True, False}
    for owner in owners:
        group = plan.one_under(owner, "aws:cloudwatch/logGroup:LogGroup")["inputs"]["name"]
        assert (group in subscribed) is (_tier_of(plan, owner) in regulated), owner["name"]
    (stream,) = plan.of_type(STREAM)
    for subscription in plan.of_type(FILTER):
        assert subscription["inputs"]["filterPattern"] == ""  # every event, not a sample
        assert stream["urn"] in subscription["dependencies"]


@pytest.mark.parametrize("stack", AWS)
def test_the_aws_archive_is_in_zone_encrypted_private_and_locked_for_the_tiers_retention(
    stack: str,
) -> None:
    plan = planned(stack)
    production = stack.startswith("prod-")
    (bucket,) = _archived(plan, BUCKET)
    (lock,) = _archived(plan, LOCK)
    (key,) = [
        k
        for k in plan.of_type("aws:kms/key:Key")
        if any(a["type"] == "tenancy:aws:CellLogKey" for a in plan.ancestors(k))
    ]
    assert bucket["inputs"]["region"] == _region(stack) and bucket["inputs"]["objectLockEnabled"]
    assert bucket["protect"] is production
    assert lock["inputs"]["rule"]["defaultRetention"] == {
        "days": REGULATED_RETENTION_DAYS,
        "mode": "COMPLIANCE" if production else "GOVERNANCE",
    }
    archive = plan.component("tenancy:aws:AuditArchive", "cell-audit-archive")

    def part(kind: str) -> dict[str, Any]:
        return plan.one_under(archive, kind)

    assert part("aws:s3/bucketVersioning:BucketVersioning")["inputs"][
        "versioningConfiguration"
    ] == {"status": "Enabled"}
    sse = part(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    (default,) = sse["inputs"]["rules"]
    assert default["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert key["urn"] in sse["dependencies"]  # the cell's log key, nothing else
    public = part("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")["inputs"]
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert all(public[f] is True for f in flags)
    (deny,) = json.loads(part("aws:s3/bucketPolicy:BucketPolicy")["inputs"]["policy"])["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    stream = part(STREAM)
    assert stream["inputs"]["serverSideEncryption"]["keyType"] == "CUSTOMER_MANAGED_CMK"
    assert key["urn"] in stream["dependencies"] and bucket["urn"] in stream["dependencies"]
    assert stream["inputs"]["region"] == _region(stack)


def test_a_tiers_longer_log_retention_sets_the_lock(tmp_path: Path) -> None:
    data = catalog_data()
    data["tiers"]["enterprise"]["database"]["audit"] = {"log_retention_days": 2555}
    plan = Plan(plan_stack("prod-aws-eu-central-1", catalog=write_catalog(tmp_path, data)))
    (lock,) = _archived(plan, LOCK)
    assert lock["inputs"]["rule"]["defaultRetention"]["days"] == 2555


@pytest.mark.parametrize("stack", ("prod-aws-eu-central-1", "prod-azure-westeurope"))
def test_a_cell_without_regulated_tiers_has_no_archive(tmp_path: Path, stack: str) -> None:
    plan = Plan(plan_stack(stack, catalog=_unregulated_catalog(tmp_path)))
    assert not _archived(plan, BUCKET) and not plan.of_type(FILTER) and not plan.of_type(STREAM)
    assert not _archived(plan, ACCOUNT)
    assert all("storageAccountId" not in d["inputs"] for d in plan.of_type(DIAGNOSTIC))


# ---- Azure ------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", AZURE)
def test_regulated_flexible_servers_also_write_diagnostics_to_the_immutable_account(
    stack: str,
) -> None:
    plan = planned(stack)
    regulated = _regulated_tiers()
    (account,) = _archived(plan, ACCOUNT)
    owners = plan.owners("azure")
    assert {_tier_of(plan, o) in regulated for o in owners} == {True, False}
    for owner in owners:
        (setting,) = plan.under(owner, DIAGNOSTIC)
        archived = setting["inputs"].get("storageAccountId")
        if _tier_of(plan, owner) in regulated:
            assert archived and archived.endswith("/" + account["inputs"]["accountName"])
            assert account["urn"] in setting["dependencies"]
        else:
            assert archived is None, owner["name"]


@pytest.mark.parametrize("stack", AZURE)
def test_the_azure_archive_is_in_region_cmk_encrypted_and_append_only(stack: str) -> None:
    plan = planned(stack)
    production = stack.startswith("prod-")
    (account,) = _archived(plan, ACCOUNT)
    inputs = account["inputs"]
    assert inputs["location"] == _region(stack) and inputs["sku"] == {"name": "Standard_ZRS"}
    policy = inputs["immutableStorageWithVersioning"]
    assert policy == {
        "enabled": True,
        "immutabilityPolicy": {
            "allowProtectedAppendWrites": True,
            "immutabilityPeriodSinceCreationInDays": REGULATED_RETENTION_DAYS,
            "state": "Locked" if production else "Unlocked",
        },
    }
    assert inputs["encryption"]["keySource"] == "Microsoft.Keyvault"
    (vault,) = [
        v for v in plan.of_type("azure-native:keyvault:Vault") if v["name"] == "cell-vault-vault"
    ]
    assert inputs["encryption"]["keyVaultProperties"]["keyVaultUri"] == (
        f"https://{vault['inputs']['vaultName']}.vault.azure.net/"
    )
    assert inputs["minimumTlsVersion"] == "TLS1_2" and inputs["enableHttpsTrafficOnly"]
    assert inputs["allowBlobPublicAccess"] is False and inputs["allowSharedKeyAccess"] is False
    assert inputs["networkRuleSet"] == {"bypass": "AzureServices", "defaultAction": "Deny"}
    (service,) = _archived(plan, "azure-native:storage:BlobServiceProperties")
    assert service["inputs"]["isVersioningEnabled"] is True


# ---- GCP --------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", GCP)
def test_cloud_sql_logs_stay_out_of_the_default_bucket_and_data_access_logs_are_on(
    stack: str,
) -> None:
    plan = planned(stack)
    (sink,) = plan.of_type("gcp:logging/projectSink:ProjectSink")
    (exclusion,) = plan.of_type("gcp:logging/projectExclusion:ProjectExclusion")
    assert exclusion["inputs"]["filter"] == sink["inputs"]["filter"]
    assert f'resource.labels.region="{_region(stack)}"' in exclusion["inputs"]["filter"]
    assert not exclusion["inputs"].get("disabled")
    (audit,) = plan.of_type("gcp:projects/iAMAuditConfig:IAMAuditConfig")
    assert audit["inputs"]["service"] == "cloudsql.googleapis.com"
    assert {c["logType"] for c in audit["inputs"]["auditLogConfigs"]} == {"DATA_READ", "DATA_WRITE"}


def test_an_unregulated_gcp_cell_does_not_lock_its_log_bucket(tmp_path: Path) -> None:
    plan = Plan(plan_stack("prod-gcp-us-central1", catalog=_unregulated_catalog(tmp_path)))
    (bucket,) = plan.of_type("gcp:logging/projectBucketConfig:ProjectBucketConfig")
    assert bucket["inputs"]["locked"] is False and bucket["inputs"]["retentionDays"] == 90


def _prod_azure_with(tmp_path: Path, value: Any) -> Path:
    stacks = tmp_path / "stacks"
    shutil.copytree(ROOT / "stacks", stacks)
    path = stacks / "Pulumi.prod-azure-westeurope.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["config"]["tenancy:logArchiveFirstDeploy"] = value
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return stacks


def test_a_new_prod_cell_creates_its_azure_archive_unlocked_and_the_pack_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Azure creates an immutability policy only Disabled or Unlocked: the first deployment
    of a production cell asks for Unlocked, which the pack reports until the next one."""
    monkeypatch.setattr(program, "STACKS_DIR", _prod_azure_with(tmp_path, True))
    plan = plan_stack("prod-azure-westeurope")
    (account,) = _archived(Plan(plan), ACCOUNT)
    policy = account["inputs"]["immutableStorageWithVersioning"]["immutabilityPolicy"]
    assert policy["state"] == "Unlocked"
    found = {
        message
        for result in evaluate(plan, waivers=[]).results
        if result.rule.id == "azure-storage-archive-enable-immutability"
        for message in result.messages
    }
    assert found == {"the immutability policy is Unlocked; production needs Locked"}


def test_the_first_deploy_switch_takes_only_a_boolean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(program, "STACKS_DIR", _prod_azure_with(tmp_path, "yes"))
    with pytest.raises(InputError) as error:
        plan_stack("prod-azure-westeurope")
    rendered = str(error.value)
    assert "config.tenancy:logArchiveFirstDeploy" in rendered and "'yes'" in rendered
