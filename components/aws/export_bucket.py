"""The cell's export bucket: where `tenancy tenant export` archives land, inside the zone.

S3 in the cell's region, encrypted with the bucket's own KMS key (usable only through S3
in that region), versioned, Object Lock with a default retention (an archive cannot be
changed or deleted before it ends), all public access blocked, ACLs off, TLS-only, and
expired by a lifecycle rule once the retention has passed (the erasure schedule's
"export archive" date, components/model/erasure.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.args import EncryptionArgs
from components.aws.key import KmsKey, KmsKeyArgs
from components.model.erasure import EXPORT_RETENTION_DAYS


@dataclass(frozen=True)
class ExportBucketArgs:
    bucket_name: str  # from the naming module (globally unique)
    key_alias: str  # the bucket key's alias, from the naming module
    region: str  # the cell's region: inside the residency zone
    tags: Mapping[str, str]
    retention_days: int = EXPORT_RETENTION_DAYS
    # COMPLIANCE: not even the account root can shorten or lift the lock (prod).
    # GOVERNANCE: a principal with s3:BypassGovernanceRetention can (dev, so a dev
    # stack can be torn down).
    lock_mode: str = "COMPLIANCE"
    encryption: EncryptionArgs = EncryptionArgs()
    protect: bool = False


class ExportBucket(pulumi.ComponentResource):
    """One per cell: tenants' export archives, under a retention lock."""

    bucket_name: pulumi.Output[str]
    key_arn: pulumi.Output[str]
    retention_days: int

    def __init__(
        self, name: str, args: ExportBucketArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:aws:ExportBucket", name, None, opts)
        key = KmsKey(
            f"{name}-key",
            KmsKeyArgs(
                alias=args.key_alias,
                description="tenancy: the cell's tenant export archives",
                region=args.region,
                tags=args.tags,
                encryption=args.encryption,
                protect=args.protect,
                services=("s3",),
                logs=False,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.bucket_name,
            object_lock_enabled=True,  # only at creation: a bucket cannot get it later
            force_destroy=False,
            region=args.region,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        common = {"bucket": bucket.id, "region": args.region}
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            **common,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            **common,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            **common,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            **common,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": key.arn,
                    },
                    "bucket_key_enabled": True,  # fewer KMS calls, same key
                }
            ],
            opts=child,
        )
        aws.s3.BucketObjectLockConfiguration(
            f"{name}-object-lock",
            **common,
            object_lock_enabled="Enabled",
            rule={"default_retention": {"mode": args.lock_mode, "days": args.retention_days}},
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            **common,
            rules=[
                {
                    "id": "expire-exports",
                    "status": "Enabled",
                    "filter": {},
                    # The day after the lock ends: S3 cannot expire a locked version.
                    "expiration": {"days": args.retention_days + 1},
                    "noncurrent_version_expiration": {"noncurrent_days": 1},
                }
            ],
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            **common,
            policy=bucket.arn.apply(_tls_only_policy),
            opts=child,
        )
        self.bucket_name = bucket.bucket
        self.retention_days = args.retention_days
        self.key_arn = key.arn
        self.register_outputs({"bucket_name": self.bucket_name, "key_arn": self.key_arn})


def _tls_only_policy(bucket_arn: str) -> str:
    """Refuse every request that does not come over TLS (aws:SecureTransport false)."""
    statement: dict[str, Any] = {
        "Sid": "DenyWithoutTls",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)
