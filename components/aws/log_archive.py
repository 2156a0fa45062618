"""Where an Aurora server's PostgreSQL log goes: a CloudWatch log group in the cell's
region, encrypted with the cell's log key, kept for the tier's retention.

The log group is created *before* the cluster: RDS creates
``/aws/rds/cluster/<id>/postgresql`` itself on first export, without a key and with
retention "never expire", and Pulumi could then not create it. The cell's log key lets
CloudWatch Logs (only for this account's log groups in this region) and CloudWatch
alarms' SNS deliveries use it; nothing else but the account may.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.args import EncryptionArgs
from components.model.keys import AWS_KEY_ADMIN_ACTIONS, AWS_KEY_USE_ACTIONS

# The values CloudWatch Logs accepts for retentionInDays.
RETENTION_DAYS: tuple[int, ...] = (
    *(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731),
    *(1096, 1827, 2192, 2557, 2922, 3288, 3653),
)


def cloudwatch_retention(days: int) -> int:
    """The shortest retention CloudWatch accepts that keeps the logs at least ``days``."""
    return next((d for d in RETENTION_DAYS if d >= days), RETENTION_DAYS[-1])


def postgres_log_group_name(cluster_identifier: str) -> str:
    return f"/aws/rds/cluster/{cluster_identifier}/postgresql"


def log_key_policy(account_id: str, region: str, partition: str = "aws") -> str:
    """The account administers the key (without using it); the account uses it only through
    SNS (the alert topic) and Firehose/S3 (the immutable archive); CloudWatch Logs may use it only for this account's log groups in
    this region; CloudWatch may use it to publish alarms to encrypted SNS."""
    root = f"arn:{partition}:iam::{account_id}:root"
    log_groups = f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    # Administration without use, like every server key (model/keys.py).
                    "Sid": "AccountAdministration",
                    "Effect": "Allow",
                    "Principal": {"AWS": root},
                    "Action": list(AWS_KEY_ADMIN_ACTIONS),
                    "Resource": "*",
                },
                {
                    # Publishers reach the encrypted alert topic only through SNS.
                    "Sid": "UseThroughSns",
                    "Effect": "Allow",
                    "Principal": {"AWS": root},
                    "Action": list(AWS_KEY_USE_ACTIONS),
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:ViaService": f"sns.{region}.amazonaws.com",
                            "kms:CallerAccount": account_id,
                        }
                    },
                },
                {
                    # The immutable archive: Firehose buffers and S3 stores with this key
                    # (Firehose grants itself use of a customer key, hence CreateGrant).
                    "Sid": "UseThroughArchive",
                    "Effect": "Allow",
                    "Principal": {"AWS": root},
                    "Action": [*AWS_KEY_USE_ACTIONS, "kms:CreateGrant"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:ViaService": [
                                f"firehose.{region}.amazonaws.com",
                                f"s3.{region}.amazonaws.com",
                            ],
                            "kms:CallerAccount": account_id,
                        }
                    },
                },
                {
                    "Sid": "CloudWatchLogsOfThisRegion",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    "Action": [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                    "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
                },
                {
                    "Sid": "CloudWatchAlarmsToEncryptedSns",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                },
            ],
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class CellLogKeyArgs:
    alias: str  # "alias/..." from the naming module
    region: str
    tags: Mapping[str, str]
    encryption: EncryptionArgs = EncryptionArgs()
    protect: bool = False


class CellLogKey(pulumi.ComponentResource):
    """The cell's CMK for its servers' logs (and alarm notifications)."""

    arn: pulumi.Output[str]

    def __init__(self, name: str, args: CellLogKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:aws:CellLogKey", name, None, opts)
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        key = aws.kms.Key(
            f"{name}-cmk",
            description="tenancy: PostgreSQL logs and alarm notifications of this cell",
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=True,
            rotation_period_in_days=args.encryption.rotation_period_days,
            deletion_window_in_days=args.encryption.deletion_window_days,
            multi_region=False,  # a replica key would leave the residency zone
            policy=caller.account_id.apply(lambda account: log_key_policy(account, args.region)),
            region=args.region,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.kms.Alias(
            f"{name}-alias",
            name=args.alias,
            target_key_id=key.key_id,
            region=args.region,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = key.arn
        self.register_outputs({"arn": self.arn})


def postgres_log_group(
    parent: pulumi.Resource,
    name: str,
    cluster_identifier: str,
    retention_days: int,
    kms_key_arn: Any,
    region: str,
    tags: Mapping[str, str],
    protect: bool,
) -> aws.cloudwatch.LogGroup:
    return aws.cloudwatch.LogGroup(
        f"{name}-postgresql-logs",
        name=postgres_log_group_name(cluster_identifier),
        kms_key_id=kms_key_arn,
        retention_in_days=cloudwatch_retention(retention_days),
        region=region,
        tags=dict(tags),
        # Audit evidence: Pulumi refuses to delete it in prod until someone unprotects it.
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
