"""The one way tenancy builds an S3 bucket that keeps evidence or tenant data on AWS.

Both the audit archive and the export bucket need the same bucket: in the cell's region,
versioned, Object Lock'ed by default (COMPLIANCE: no one, not even the account root,
shortens or deletes; GOVERNANCE: a principal with s3:BypassGovernanceRetention can),
SSE-KMS with a customer key, closed to the public and TLS-only. Keeping it in one place
keeps the two from drifting apart. Not a component: the caller's component owns the
resources (``parent``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class LockedBucketSpec:
    bucket_name: str  # from the naming module (globally unique)
    region: str  # the cell's region: inside the residency zone
    kms_key_arn: Any  # Input[str]
    lock_mode: str  # COMPLIANCE or GOVERNANCE
    retention_days: int  # the default Object Lock retention of every new object version
    tags: Mapping[str, str]
    protect: bool = False


def tls_only_bucket_policy(bucket_arn: str) -> str:
    """Refuse every request to the bucket that does not arrive over TLS."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
        sort_keys=True,
    )


def locked_bucket(name: str, spec: LockedBucketSpec, parent: pulumi.Resource) -> aws.s3.Bucket:
    """The bucket and its versioning, lock, encryption, public-access block and TLS policy."""
    bucket = aws.s3.Bucket(
        f"{name}-bucket",
        bucket=spec.bucket_name,
        object_lock_enabled=True,  # only at creation: a bucket cannot get it later
        force_destroy=False,
        region=spec.region,
        tags=dict(spec.tags),
        opts=pulumi.ResourceOptions(parent=parent, protect=spec.protect),
    )
    common: dict[str, Any] = {
        "bucket": bucket.id,
        "region": spec.region,
        "opts": pulumi.ResourceOptions(parent=parent),
    }
    aws.s3.BucketVersioning(
        f"{name}-versioning", versioning_configuration={"status": "Enabled"}, **common
    )
    aws.s3.BucketObjectLockConfiguration(
        f"{name}-object-lock",
        object_lock_enabled="Enabled",
        rule={"default_retention": {"mode": spec.lock_mode, "days": spec.retention_days}},
        **common,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        rules=[
            {
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": spec.kms_key_arn,
                },
                "bucket_key_enabled": True,  # one data key per object batch: fewer KMS calls
            }
        ],
        **common,
    )
    aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        **common,
    )
    aws.s3.BucketPolicy(
        f"{name}-tls-only", policy=bucket.arn.apply(tls_only_bucket_policy), **common
    )
    return bucket
