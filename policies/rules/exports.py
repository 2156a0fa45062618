"""Export buckets: where tenants' export archives land (S3, Azure Storage, GCS).

An export archive is a whole tenant's data outside its database: it must be encrypted with
a customer-managed key, immutable for its retention (the archive the erasure evidence
names is the one the tenant received), closed to the public, reachable over TLS only and
kept inside the residency zone (the residency rules cover the buckets' regions).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .. import controls as c
from .. import types as t
from ..framework import (
    EXPORT_CMK,
    EXPORT_IMMUTABLE,
    EXPORT_NO_PUBLIC,
    Ctx,
    Res,
    cannot_verify,
    flag,
    get,
    is_production,
    is_unknown,
    rule,
    tags_of,
    tenancy_tags,
)

_AWS_MANAGED = re.compile(r"(^|:)alias/aws/")
_KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
_LOCK_MODES = ("COMPLIANCE", "GOVERNANCE")
SECONDS_PER_DAY = 86_400


def _production(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> bool:
    """Prod by the resource's environment tag, else by the stack name (S3 companions
    carry no tags)."""
    return bool(is_production(tenancy_tags(tags_of(resource_type, props)), ctx))


def _at_least_a_day(value: Any, what: str) -> list[str]:
    if is_unknown(value):
        return [cannot_verify(what, value)]
    if not isinstance(value, int | float) or value < 1:
        return [f"{what} is {value}; it must be at least 1 day"]
    return []


@rule(
    id="aws-s3-bucket-configure-kms-encryption",
    description="Export buckets encrypt every object by default with a customer-managed KMS key (SSE-KMS).",
    why="An export archive holds a whole tenant's data; SSE-S3 or the AWS-managed key cannot be scoped, audited or revoked per purpose, and anyone with bucket read would read the archive.",
    remediation="Give the bucket a BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms and kmsMasterKeyId set to the export key (components/aws/export_bucket.py).",
    severity="critical",
    enforcement="mandatory",
    controls=c.AT_REST,
    cloud="aws",
    family="exports",
    types=[t.S3_ENCRYPTION],
    matrix=[EXPORT_CMK],
)
def aws_s3_kms(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    rules = props.get("rules")
    if is_unknown(rules) or not rules:
        return [cannot_verify("the default encryption rules", rules)]
    found = []
    for index, entry in enumerate(rules):
        default = get(entry, "applyServerSideEncryptionByDefault")
        algorithm, key = get(default, "sseAlgorithm"), get(default, "kmsMasterKeyId")
        if is_unknown(algorithm):
            found.append(cannot_verify(f"rules[{index}] sseAlgorithm", algorithm))
        elif algorithm not in _KMS_ALGORITHMS:
            found.append(f"rules[{index}] uses {algorithm}; it must be aws:kms with a CMK")
        elif is_unknown(key) or key == "" or _AWS_MANAGED.search(str(key)):
            found.append(
                f"rules[{index}] uses {key or 'the AWS-managed key'}; it must name a customer-managed KMS key"
            )
    return found


@rule(
    id="aws-s3-bucket-enable-object-lock",
    description="Export buckets are created with Object Lock, versioned, and lock every object by default for a retention period (COMPLIANCE mode in prod).",
    why="Without a lock an archive can be overwritten or deleted before the tenant fetched it or before the erasure checked it; GOVERNANCE mode can be bypassed by a privileged principal, which prod must not allow.",
    remediation="Create the bucket with objectLockEnabled=true, enable versioning, and add a BucketObjectLockConfiguration whose rule.defaultRetention has a mode and days >= 1 (COMPLIANCE in prod).",
    severity="high",
    enforcement="mandatory",
    controls=c.DELETION,
    cloud="aws",
    family="exports",
    types=[t.S3_BUCKET, t.S3_OBJECT_LOCK, t.S3_VERSIONING],
    matrix=[EXPORT_IMMUTABLE],
)
def aws_s3_object_lock(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    if resource_type == t.S3_BUCKET:
        return flag(props, ("objectLockEnabled",), True, "objectLockEnabled")
    if resource_type == t.S3_VERSIONING:
        status = get(props, "versioningConfiguration", "status")
        if is_unknown(status):
            return [cannot_verify("the versioning status", status)]
        return [] if status == "Enabled" else [f"versioning is {status}; it must be Enabled"]
    retention = get(props, "rule", "defaultRetention")
    mode = get(retention, "mode")
    if is_unknown(mode):
        return [cannot_verify("the default retention mode", mode)]
    found = []
    if mode not in _LOCK_MODES:
        found.append(f"the default retention mode is {mode}; it must be COMPLIANCE or GOVERNANCE")
    elif mode != "COMPLIANCE" and _production(resource_type, props, ctx):
        found.append(f"the default retention mode is {mode} in prod; it must be COMPLIANCE")
    years = get(retention, "years")
    if not (isinstance(years, int) and years >= 1):
        found += _at_least_a_day(get(retention, "days"), "the default retention")
    return found


@rule(
    id="aws-s3-bucket-disallow-public-access",
    description="Export buckets block every form of public access (ACLs and policies) and allow requests over TLS only.",
    why="One public ACL or policy on an export bucket publishes whole tenants' data; a request without TLS exposes it in transit.",
    remediation="Add a BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true, and a bucket policy denying aws:SecureTransport=false.",
    severity="critical",
    enforcement="mandatory",
    controls=(*c.NO_PUBLIC, c.PCI_4_2, c.HIPAA_TRANSMISSION),
    cloud="aws",
    family="exports",
    types=[t.S3_PUBLIC_ACCESS_BLOCK, t.S3_POLICY],
    matrix=[EXPORT_NO_PUBLIC],
)
def aws_s3_public_access(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    if resource_type == t.S3_PUBLIC_ACCESS_BLOCK:
        found: list[str] = []
        for key in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        ):
            found += flag(props, (key,), True, key)
        return found
    return _tls_only_problems(props.get("policy"))


def _tls_only_problems(policy: Any) -> list[str]:
    if is_unknown(policy):
        return [cannot_verify("the bucket policy", policy)]
    try:
        document = json.loads(policy) if isinstance(policy, str) else policy
    except json.JSONDecodeError:
        return ["the bucket policy is not valid JSON"]
    statements = get(document, "Statement")
    statements = statements if isinstance(statements, list) else [statements]
    found = []
    denies_plain = False
    for statement in statements:
        if not isinstance(statement, Mapping):
            continue
        secure = get(statement, "Condition", "Bool", "aws:SecureTransport")
        if statement.get("Effect") == "Deny" and str(secure).lower() == "false":
            denies_plain = True
        if statement.get("Effect") == "Allow" and statement.get("Principal") in ("*", {"AWS": "*"}):
            found.append(f"statement {statement.get('Sid', '?')} allows anyone (Principal *)")
    if not denies_plain:
        found.append("the bucket policy does not deny requests without TLS (aws:SecureTransport)")
    return found


# What each S3 bucket needs beside it: S3 keeps these settings in resources of their own.
_S3_COMPANIONS = {
    t.S3_ENCRYPTION: "default encryption (BucketServerSideEncryptionConfiguration)",
    t.S3_PUBLIC_ACCESS_BLOCK: "public access block (BucketPublicAccessBlock)",
    t.S3_VERSIONING: "versioning (BucketVersioning)",
    t.S3_OBJECT_LOCK: "default retention (BucketObjectLockConfiguration)",
    t.S3_POLICY: "TLS-only bucket policy (BucketPolicy)",
}


@rule(
    id="aws-s3-bucket-configure-companion-settings",
    description="Every S3 bucket has its default encryption, public access block, versioning, object lock retention and TLS-only policy resources.",
    why="S3 keeps these settings outside the bucket resource: a bucket without one of them silently falls back to the provider's default (no lock, no TLS requirement), which no per-resource rule can see.",
    remediation="Create the bucket through components/aws/export_bucket.py, which registers all five settings for it.",
    severity="high",
    enforcement="mandatory",
    controls=(*c.AT_REST, *c.NO_PUBLIC),
    cloud="aws",
    family="exports",
    kind="stack",
    types=[t.S3_BUCKET],
)
def aws_s3_companions(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    buckets = [r for r in resources if r.type == t.S3_BUCKET]
    results = []
    for bucket in buckets:
        name = bucket.props.get("bucket")
        present = {
            r.type
            for r in resources
            if r.type in _S3_COMPANIONS
            and (bucket.urn in r.dependencies or (name and r.props.get("bucket") == name))
        }
        missing = [what for kind, what in _S3_COMPANIONS.items() if kind not in present]
        results.append((bucket.urn, [f"the bucket has no {what}" for what in missing]))
    return results


@rule(
    id="azure-storage-account-configure-cmk",
    description="Export storage accounts encrypt with a Key Vault key through a user-assigned identity, with infrastructure encryption on.",
    why="Microsoft-managed keys cannot be revoked or audited per purpose; an export archive holds a whole tenant's data.",
    remediation="Set encryption.keySource=Microsoft.Keyvault with keyVaultProperties.keyName and keyVaultUri, encryption.encryptionIdentity, and requireInfrastructureEncryption=true (components/azure/export_bucket.py).",
    severity="critical",
    enforcement="mandatory",
    controls=c.AT_REST,
    cloud="azure",
    family="exports",
    types=[t.AZ_STORAGE_ACCOUNT],
    matrix=[EXPORT_CMK],
)
def azure_storage_cmk(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    source = get(props, "encryption", "keySource")
    if is_unknown(source):
        return [cannot_verify("encryption.keySource", source)]
    if source != "Microsoft.Keyvault":
        return [f"encryption.keySource is {source}; it must be Microsoft.Keyvault (a CMK)"]
    found = []
    for key in ("keyName", "keyVaultUri"):
        value = get(props, "encryption", "keyVaultProperties", key)
        if is_unknown(value) or value == "":
            found.append(cannot_verify(f"encryption.keyVaultProperties.{key}", value))
    found += flag(
        props,
        ("encryption", "requireInfrastructureEncryption"),
        True,
        "encryption.requireInfrastructureEncryption",
    )
    return found


@rule(
    id="azure-storage-account-enable-immutability",
    description="Export storage accounts have version-level immutability with a retention period (locked in prod).",
    why="Without an immutability policy an archive can be overwritten or deleted before the tenant fetched it or the erasure checked it; an unlocked policy can be lifted by an administrator.",
    remediation="Set immutableStorageWithVersioning.enabled=true and immutabilityPolicy.immutabilityPeriodSinceCreationInDays >= 1, state Locked in prod.",
    severity="high",
    enforcement="mandatory",
    controls=c.DELETION,
    cloud="azure",
    family="exports",
    types=[t.AZ_STORAGE_ACCOUNT],
    matrix=[EXPORT_IMMUTABLE],
)
def azure_storage_immutability(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    found = flag(
        props,
        ("immutableStorageWithVersioning", "enabled"),
        True,
        "immutableStorageWithVersioning.enabled",
    )
    policy = get(props, "immutableStorageWithVersioning", "immutabilityPolicy")
    found += _at_least_a_day(
        get(policy, "immutabilityPeriodSinceCreationInDays"), "the immutability period"
    )
    state = get(policy, "state")
    if _production(resource_type, props, ctx) and state != "Locked":
        found.append(f"the immutability policy is {state or 'not set'} in prod; it must be Locked")
    return found


@rule(
    id="azure-storage-account-disallow-public-access",
    description="Export storage accounts allow no public blob access, no public network access and no shared keys, over HTTPS with TLS 1.2 only; their containers are private.",
    why="A public container or a leaked account key exposes whole tenants' data; plain HTTP or old TLS exposes it in transit.",
    remediation="Set allowBlobPublicAccess=false, publicNetworkAccess=Disabled, allowSharedKeyAccess=false, enableHttpsTrafficOnly=true, minimumTlsVersion=TLS1_2, and publicAccess=None on every container.",
    severity="critical",
    enforcement="mandatory",
    controls=(*c.NO_PUBLIC, c.PCI_4_2, c.HIPAA_TRANSMISSION),
    cloud="azure",
    family="exports",
    types=[t.AZ_STORAGE_ACCOUNT, t.AZ_BLOB_CONTAINER],
    matrix=[EXPORT_NO_PUBLIC],
)
def azure_storage_public(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    if resource_type == t.AZ_BLOB_CONTAINER:
        access = props.get("publicAccess")
        if is_unknown(access):
            return [cannot_verify("publicAccess", access)]
        return [] if access == "None" else [f"publicAccess is {access}; it must be None"]
    found = flag(props, ("allowBlobPublicAccess",), False, "allowBlobPublicAccess")
    found += flag(props, ("allowSharedKeyAccess",), False, "allowSharedKeyAccess")
    found += flag(props, ("enableHttpsTrafficOnly",), True, "enableHttpsTrafficOnly")
    for key, want in (("publicNetworkAccess", "Disabled"), ("minimumTlsVersion", "TLS1_2")):
        value = props.get(key)
        if is_unknown(value):
            found.append(cannot_verify(key, value))
        elif value != want:
            found.append(f"{key} is {value}; it must be {want}")
    return found


@rule(
    id="gcp-storage-bucket-configure-cmek",
    description="Export buckets encrypt objects by default with a Cloud KMS key (CMEK).",
    why="Google-managed keys cannot be revoked or audited per purpose; an export archive holds a whole tenant's data.",
    remediation="Set encryption.defaultKmsKeyName to the bucket's own key in the bucket's region (components/gcp/export_bucket.py).",
    severity="critical",
    enforcement="mandatory",
    controls=c.AT_REST,
    cloud="gcp",
    family="exports",
    types=[t.GCS_BUCKET],
    matrix=[EXPORT_CMK],
)
def gcp_bucket_cmek(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    key = get(props, "encryption", "defaultKmsKeyName")
    if is_unknown(key) or key == "":
        return [cannot_verify("encryption.defaultKmsKeyName", key)]
    return []


@rule(
    id="gcp-storage-bucket-configure-retention",
    description="Export buckets have a retention policy of at least a day (locked in prod).",
    why="Without a retention policy an archive can be deleted or replaced before the tenant fetched it or the erasure checked it; an unlocked policy can be removed by an administrator.",
    remediation="Set retentionPolicy.retentionPeriod (seconds, at least 86400) and retentionPolicy.isLocked=true in prod.",
    severity="high",
    enforcement="mandatory",
    controls=c.DELETION,
    cloud="gcp",
    family="exports",
    types=[t.GCS_BUCKET],
    matrix=[EXPORT_IMMUTABLE],
)
def gcp_bucket_retention(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    seconds = get(props, "retentionPolicy", "retentionPeriod")
    if is_unknown(seconds):
        return [cannot_verify("retentionPolicy.retentionPeriod", seconds)]
    found = []
    if not isinstance(seconds, int | float) or seconds < SECONDS_PER_DAY:
        found.append(f"retentionPolicy.retentionPeriod is {seconds}s; it must be at least 86400s")
    if _production(resource_type, props, ctx):
        found += flag(props, ("retentionPolicy", "isLocked"), True, "retentionPolicy.isLocked")
    return found


@rule(
    id="gcp-storage-bucket-disallow-public-access",
    description="Export buckets enforce public access prevention and uniform bucket-level access.",
    why="An allUsers grant or a public object ACL publishes whole tenants' data; uniform access removes object ACLs altogether.",
    remediation="Set publicAccessPrevention=enforced and uniformBucketLevelAccess=true.",
    severity="critical",
    enforcement="mandatory",
    controls=c.NO_PUBLIC,
    cloud="gcp",
    family="exports",
    types=[t.GCS_BUCKET],
    matrix=[EXPORT_NO_PUBLIC],
)
def gcp_bucket_public(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    prevention = props.get("publicAccessPrevention")
    found = []
    if is_unknown(prevention):
        found.append(cannot_verify("publicAccessPrevention", prevention))
    elif prevention != "enforced":
        found.append(f"publicAccessPrevention is {prevention}; it must be enforced")
    found += flag(props, ("uniformBucketLevelAccess",), True, "uniformBucketLevelAccess")
    return found


RULES = (
    aws_s3_kms,
    aws_s3_object_lock,
    aws_s3_public_access,
    aws_s3_companions,
    azure_storage_cmk,
    azure_storage_immutability,
    azure_storage_public,
    gcp_bucket_cmek,
    gcp_bucket_retention,
    gcp_bucket_public,
)
