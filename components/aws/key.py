"""A KMS customer-managed key with rotation and an alias."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.args import EncryptionArgs


@dataclass(frozen=True)
class KmsKeyArgs:
    alias: str  # "alias/..." from the naming module
    description: str
    region: str
    tags: Mapping[str, str]
    encryption: EncryptionArgs = EncryptionArgs()
    protect: bool = False


class KmsKey(pulumi.ComponentResource):
    """CMK for one silo tenant or one shard: its data, secret and backups use it."""

    arn: pulumi.Output[str]
    key_id: pulumi.Output[str]

    def __init__(self, name: str, args: KmsKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:aws:KmsKey", name, None, opts)
        key = aws.kms.Key(
            f"{name}-cmk",
            description=args.description,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=True,
            rotation_period_in_days=args.encryption.rotation_period_days,
            deletion_window_in_days=args.encryption.deletion_window_days,
            multi_region=False,  # a replica key would leave the residency zone
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
        self.key_id = key.key_id
        self.register_outputs({"arn": self.arn, "key_id": self.key_id})
