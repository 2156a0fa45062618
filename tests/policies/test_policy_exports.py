"""The export bucket rules (issue 12): the control x cloud matrix over every cloud's export
store, the S3 companion-settings stack rule, and mutations of the real program (one secure
default of an export bucket switched off must fire its rule)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi_aws as aws
import pulumi_azure_native as azure
import pulumi_gcp as gcp
import pytest

from policies import framework
from policies import types as t
from policies.rules import BY_ID, RULES
from tests.policies.test_policy_mutations import AWS, AZURE, GCP, fired, patch_resource
from tests.support.policy_baselines import baseline, ctx, res, urn

EXPORT_CONTROLS = (
    framework.EXPORT_CMK,
    framework.EXPORT_IMMUTABLE,
    framework.EXPORT_NO_PUBLIC,
    framework.REGION_FENCING,
)


@pytest.mark.parametrize("control", EXPORT_CONTROLS)
@pytest.mark.parametrize("cloud", sorted(t.EXPORT_STORES))
def test_every_export_control_has_a_rule_on_every_cloud(control: str, cloud: str) -> None:
    stores = t.EXPORT_STORES[cloud]
    cell = [r for r in RULES if control in r.matrix and r.cloud == cloud and r.types & stores]
    assert cell, f"no {control} rule for {cloud}'s export store"


# --- the S3 companion settings (a stack rule) ------------------------------------------

COMPANIONS = (
    "s3_encryption",
    "s3_public_access_block",
    "s3_versioning",
    "s3_object_lock",
    "s3_policy",
)


def _bucket_with(*companions: str) -> list[Any]:
    kind, props = baseline("s3_bucket")
    resources = [res("cell-exports-bucket", kind, props)]
    for name in companions:
        companion_kind, companion = baseline(name)
        resources.append(res(f"cell-exports-{name}", companion_kind, companion))
    return resources


def _companions(resources: list[Any]) -> list[tuple[str, list[str]]]:
    result: list[tuple[str, list[str]]] = BY_ID["aws-s3-bucket-configure-companion-settings"].check(
        resources, ctx()
    )
    return result


BUCKET_URN = urn("cell-exports-bucket", t.S3_BUCKET)


def test_a_bucket_with_all_its_settings_passes() -> None:
    assert _companions(_bucket_with(*COMPANIONS)) == [(BUCKET_URN, [])]


def test_a_bucket_without_a_lock_configuration_or_policy_fails() -> None:
    resources = _bucket_with("s3_encryption", "s3_public_access_block", "s3_versioning")
    assert _companions(resources) == [
        (
            BUCKET_URN,
            [
                "the bucket has no default retention (BucketObjectLockConfiguration)",
                "the bucket has no TLS-only bucket policy (BucketPolicy)",
            ],
        )
    ]


def test_settings_of_another_bucket_do_not_count() -> None:
    resources = _bucket_with(*COMPANIONS)
    for companion in resources[1:]:
        companion.props["bucket"] = "someone-elses-bucket"
    (only,) = _companions(resources)
    assert len(only[1]) == len(COMPANIONS)


# --- mutations of the real program -----------------------------------------------------


def _kwargs(cls: type, **changes: Any) -> Callable[[pytest.MonkeyPatch], None]:
    return lambda mp: patch_resource(mp, cls, lambda _n, kw: kw.update(**changes))


def _without_lock_rule(mp: pytest.MonkeyPatch) -> None:
    def change(_name: str, kwargs: dict[str, Any]) -> None:
        kwargs["rule"] = {"default_retention": {"mode": "GOVERNANCE", "days": 30}}

    patch_resource(mp, aws.s3.BucketObjectLockConfiguration, change)


def _sse_s3(mp: pytest.MonkeyPatch) -> None:
    def change(_name: str, kwargs: dict[str, Any]) -> None:
        kwargs["rules"] = [{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}]

    patch_resource(mp, aws.s3.BucketServerSideEncryptionConfiguration, change)


def _no_tls_policy(mp: pytest.MonkeyPatch) -> None:
    """The component forgets its bucket policy: only the stack rule can notice."""
    original = aws.s3.BucketPolicy.__init__

    def skipped(self: Any, resource_name: str, *args: Any, **kwargs: Any) -> None:
        kwargs["policy"] = '{"Version": "2012-10-17", "Statement": []}'
        original(self, resource_name, *args, **kwargs)

    mp.setattr(aws.s3.BucketPolicy, "__init__", skipped)


def _storage_key(mp: pytest.MonkeyPatch) -> None:
    def change(_name: str, kwargs: dict[str, Any]) -> None:
        kwargs["encryption"] = {**kwargs["encryption"], "key_source": "Microsoft.Storage"}

    patch_resource(mp, azure.storage.StorageAccount, change)


def _unlocked(mp: pytest.MonkeyPatch) -> None:
    def change(_name: str, kwargs: dict[str, Any]) -> None:
        immutability = kwargs["immutable_storage_with_versioning"]
        kwargs["immutable_storage_with_versioning"] = {
            **immutability,
            "immutability_policy": {**immutability["immutability_policy"], "state": "Unlocked"},
        }

    patch_resource(mp, azure.storage.StorageAccount, change)


MUTATIONS: list[tuple[str, str, Callable[[pytest.MonkeyPatch], None], str]] = [
    ("aws-sse-s3", AWS, _sse_s3, "aws-s3-bucket-configure-kms-encryption"),
    (
        "aws-no-object-lock",
        AWS,
        _kwargs(aws.s3.Bucket, object_lock_enabled=False),
        "aws-s3-bucket-enable-object-lock",
    ),
    ("aws-governance-lock", AWS, _without_lock_rule, "aws-s3-bucket-enable-object-lock"),
    (
        "aws-public-policies",
        AWS,
        _kwargs(aws.s3.BucketPublicAccessBlock, block_public_policy=False),
        "aws-s3-bucket-disallow-public-access",
    ),
    ("aws-no-tls-policy", AWS, _no_tls_policy, "aws-s3-bucket-disallow-public-access"),
    (
        "aws-bucket-outside-zone",
        AWS,
        _kwargs(aws.s3.Bucket, region="us-east-1"),
        "aws-all-resource-configure-residency-region",
    ),
    ("azure-storage-managed-key", AZURE, _storage_key, "azure-storage-account-configure-cmk"),
    ("azure-unlocked-immutability", AZURE, _unlocked, "azure-storage-account-enable-immutability"),
    (
        "azure-public-blobs",
        AZURE,
        _kwargs(azure.storage.StorageAccount, allow_blob_public_access=True),
        "azure-storage-account-disallow-public-access",
    ),
    (
        "azure-geo-replicated-storage",
        AZURE,
        _kwargs(azure.storage.StorageAccount, sku={"name": "Standard_RAGRS"}),
        "azure-all-resource-configure-residency-region",
    ),
    (
        "gcp-google-managed-key",
        GCP,
        _kwargs(gcp.storage.Bucket, encryption=None),
        "gcp-storage-bucket-configure-cmek",
    ),
    (
        "gcp-unlocked-retention",
        GCP,
        _kwargs(gcp.storage.Bucket, retention_policy={"retention_period": 2592000}),
        "gcp-storage-bucket-configure-retention",
    ),
    (
        "gcp-public-access-inherited",
        GCP,
        _kwargs(gcp.storage.Bucket, public_access_prevention="inherited"),
        "gcp-storage-bucket-disallow-public-access",
    ),
    (
        "gcp-multi-region-bucket",
        GCP,
        _kwargs(gcp.storage.Bucket, location="US"),
        "gcp-all-resource-configure-residency-region",
    ),
]


@pytest.mark.parametrize(
    ("stack", "mutate", "rule"), [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS]
)
def test_switching_an_export_bucket_default_off_fires_its_rule(
    monkeypatch: pytest.MonkeyPatch,
    stack: str,
    mutate: Callable[[pytest.MonkeyPatch], None],
    rule: str,
) -> None:
    mutate(monkeypatch)
    assert rule in fired(stack)


def test_every_export_rule_is_mutated_at_least_once() -> None:
    export_rules = {r.id for r in RULES if r.family == "exports" and r.kind == "resource"}
    assert export_rules <= {rule for *_, rule in MUTATIONS}
