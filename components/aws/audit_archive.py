"""The immutable copy of a cell's audit trail on AWS: CloudWatch Logs has no lock, so the
log groups of regulated servers stream into an S3 bucket with Object Lock.

Path: CloudWatch Logs subscription filter (one per regulated server's log group) ->
Kinesis Data Firehose -> S3. Firehose is the one managed path from a log group into S3
that needs no code of ours (a Lambda would), batches records into few objects, and
encrypts in flight and at rest with the cell's log key. The bucket is in the cell's
region, versioned, Object Lock'ed by default (COMPLIANCE in production: no one, not even
the account root, shortens or deletes; GOVERNANCE in dev), SSE-KMS with the cell's log
key, closed to the public, and TLS-only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws.locked_bucket import LockedBucketSpec, locked_bucket
from components.aws.trust import service_trust_policy
from components.model.audit import LockMode

# Firehose flushes at whichever comes first; 5 minutes bounds what a crash could lose.
BUFFER_SECONDS, BUFFER_MIB = 300, 5
ARCHIVE_PREFIX = "postgresql/"


def delivery_policy(bucket_arn: str, key_arn: str, region: str) -> str:
    """Firehose may write objects into this bucket, with this key, through S3 only."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "s3:AbortMultipartUpload",
                        "s3:GetBucketLocation",
                        "s3:ListBucket",
                        "s3:ListBucketMultipartUploads",
                        "s3:PutObject",
                    ],
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                },
                {
                    "Effect": "Allow",
                    "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                    "Resource": key_arn,
                    "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
                },
            ],
        },
        sort_keys=True,
    )


def subscription_policy(stream_arn: str) -> str:
    """CloudWatch Logs may put records into this one stream."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
                    "Resource": stream_arn,
                }
            ],
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class AuditArchiveArgs:
    bucket_name: str  # from the naming module (globally unique)
    stream_name: str  # from the naming module; also the roles' name stem
    region: str  # the cell's region: inside the residency zone
    kms_key_arn: Any  # Input[str]: the cell's log key
    retention_days: int  # the longest log retention of the cell's regulated servers
    lock_mode: LockMode  # COMPLIANCE in production, GOVERNANCE in dev
    tags: Mapping[str, str]
    protect: bool = False


@dataclass(frozen=True)
class ArchiveFacts:
    """What a regulated server needs to subscribe its log group to the archive."""

    stream_arn: Any  # Output[str]
    subscription_role_arn: Any  # Output[str]


class AuditArchive(pulumi.ComponentResource):
    facts: ArchiveFacts

    def __init__(
        self, name: str, args: AuditArchiveArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:aws:AuditArchive", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = self._bucket(name, args)
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        delivery = aws.iam.Role(
            f"{name}-delivery-role",
            name=f"{args.stream_name}-delivery",
            assume_role_policy=caller.account_id.apply(
                lambda account: service_trust_policy(
                    "firehose.amazonaws.com", {"StringEquals": {"aws:SourceAccount": account}}
                )
            ),
            tags=dict(args.tags),
            opts=child,
        )
        grant = aws.iam.RolePolicy(
            f"{name}-delivery-policy",
            role=delivery.id,
            policy=pulumi.Output.all(bucket.arn, args.kms_key_arn).apply(
                lambda v: delivery_policy(v[0], v[1], args.region)
            ),
            opts=child,
        )
        stream = aws.kinesis.FirehoseDeliveryStream(
            f"{name}-stream",
            name=args.stream_name,
            destination="extended_s3",
            extended_s3_configuration={
                "bucket_arn": bucket.arn,
                "role_arn": delivery.arn,
                "kms_key_arn": args.kms_key_arn,
                "prefix": ARCHIVE_PREFIX,
                "error_output_prefix": "errors/",
                "buffering_interval": BUFFER_SECONDS,
                "buffering_size": BUFFER_MIB,
                # CloudWatch Logs already gzips what it sends; a second pass gains nothing.
                "compression_format": "UNCOMPRESSED",
            },
            server_side_encryption={
                "enabled": True,
                "key_type": "CUSTOMER_MANAGED_CMK",
                "key_arn": args.kms_key_arn,
            },
            region=args.region,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[grant]),
        )
        logs_role = aws.iam.Role(
            f"{name}-subscription-role",
            name=f"{args.stream_name}-subscription",
            assume_role_policy=caller.account_id.apply(
                lambda account: service_trust_policy(
                    f"logs.{args.region}.amazonaws.com",
                    {"StringEquals": {"aws:SourceAccount": account}},
                )
            ),
            tags=dict(args.tags),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-subscription-policy",
            role=logs_role.id,
            policy=stream.arn.apply(subscription_policy),
            opts=child,
        )
        self.facts = ArchiveFacts(stream_arn=stream.arn, subscription_role_arn=logs_role.arn)
        self.register_outputs({"bucket": bucket.bucket, "stream_arn": stream.arn})

    def _bucket(self, name: str, args: AuditArchiveArgs) -> aws.s3.Bucket:
        spec = LockedBucketSpec(
            bucket_name=args.bucket_name,
            region=args.region,
            kms_key_arn=args.kms_key_arn,
            lock_mode=args.lock_mode,
            retention_days=args.retention_days,
            tags=args.tags,
            protect=args.protect,
        )
        return locked_bucket(name, spec, parent=self)


def archive_subscription(
    parent: pulumi.Resource,
    name: str,
    log_group: aws.cloudwatch.LogGroup,
    archive: ArchiveFacts,
    region: str,
) -> aws.cloudwatch.LogSubscriptionFilter:
    """Every event of a regulated server's log group (an empty pattern) to the archive."""
    return aws.cloudwatch.LogSubscriptionFilter(
        f"{name}-archive-subscription",
        name="tenancy-immutable-archive",
        log_group=log_group.name,
        filter_pattern="",
        destination_arn=archive.stream_arn,
        role_arn=archive.subscription_role_arn,
        distribution="ByLogStream",
        region=region,
        opts=pulumi.ResourceOptions(parent=parent),
    )
