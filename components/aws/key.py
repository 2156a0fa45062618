"""A KMS customer-managed key with rotation and an alias."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.args import EncryptionArgs
from components.model.keys import AWS_KEY_SERVICES, aws_key_policy_json


@dataclass(frozen=True)
class KmsKeyArgs:
    alias: str  # "alias/..." from the naming module
    description: str
    region: str
    tags: Mapping[str, str]
    encryption: EncryptionArgs = EncryptionArgs()
    protect: bool = False
    # False for an erased silo tenant: KMS DisableKey, so nothing can decrypt with it while
    # the key waits for its destruction date.
    enabled: bool = True
    # The services through which the account may use the key (kms:ViaService), and whether
    # CloudWatch Logs may: a server's key is used by RDS, Secrets Manager and Backup.
    services: tuple[str, ...] = AWS_KEY_SERVICES
    logs: bool = True


class KmsKey(pulumi.ComponentResource):
    """CMK for one silo tenant or one shard: its data, secret and backups use it."""

    arn: pulumi.Output[str]
    key_id: pulumi.Output[str]

    def __init__(self, name: str, args: KmsKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:aws:KmsKey", name, None, opts)
        key = aws.kms.Key(
            f"{name}-cmk",
            **self._key_inputs(args),
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

    def _key_inputs(self, args: KmsKeyArgs) -> dict[str, Any]:
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        # An explicit policy: without one, KMS's default lets any IAM policy of the account
        # grant every use of the key, from anywhere.
        policy = pulumi.Output.all(
            caller.account_id, partition.partition, partition.dns_suffix
        ).apply(
            lambda facts: aws_key_policy_json(
                account_id=facts[0],
                partition=facts[1],
                dns_suffix=facts[2],
                region=args.region,
                tenant_role_names=args.encryption.tenant_role_names,
                services=args.services,
                logs=args.logs,
            )
        )
        # Only a disabled key spells it out: every other key's inputs stay as they were.
        disabled: dict[str, Any] = {} if args.enabled else {"is_enabled": False}
        return {
            **disabled,
            "description": args.description,
            "key_usage": "ENCRYPT_DECRYPT",
            "customer_master_key_spec": "SYMMETRIC_DEFAULT",
            "enable_key_rotation": True,
            "rotation_period_in_days": args.encryption.rotation_period_days,
            "deletion_window_in_days": args.encryption.deletion_window_days,
            "multi_region": False,  # a replica key would leave the residency zone
            "policy": policy,
            # Refuse a policy that would lock the account out of its own key.
            "bypass_policy_lockout_safety_check": False,
            "region": args.region,
            "tags": dict(args.tags),
        }
