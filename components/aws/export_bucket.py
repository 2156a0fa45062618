"""The cell's export bucket: where `tenancy tenant export` archives land, inside the zone.

S3 in the cell's region, encrypted with the bucket's own KMS key (usable only through S3
in that region), versioned, Object Lock with a default retention (an archive cannot be
changed or deleted before it ends), all public access blocked, ACLs off, TLS-only, and
expired by a lifecycle rule once the retention has passed (the erasure schedule's
"export archive" date, components/model/erasure.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.args import EncryptionArgs
from components.aws.key import KmsKey, KmsKeyArgs
from components.aws.locked_bucket import LockedBucketSpec, locked_bucket
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
        bucket = locked_bucket(
            name,
            LockedBucketSpec(
                bucket_name=args.bucket_name,
                region=args.region,
                kms_key_arn=key.arn,
                lock_mode=args.lock_mode,
                retention_days=args.retention_days,
                tags=args.tags,
                protect=args.protect,
            ),
            parent=self,
        )
        common = {"bucket": bucket.id, "region": args.region}
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            **common,
            rule={"object_ownership": "BucketOwnerEnforced"},
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
        self.bucket_name = bucket.bucket
        self.retention_days = args.retention_days
        self.key_arn = key.arn
        self.register_outputs({"bucket_name": self.bucket_name, "key_arn": self.key_arn})
