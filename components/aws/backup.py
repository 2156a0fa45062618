"""Immutable backups of one Aurora cluster: an AWS Backup vault under Vault Lock in
compliance mode, encrypted with the server's own CMK, and a daily plan into it.

For regulated tiers in prod. Vault Lock in compliance mode means that once the grace
period (``LOCK_GRACE_DAYS``) is over, no one -- not the account root, not AWS --
can delete a recovery point before its retention ends or remove the lock. Copies stay
in the cell's region, which is inside the tenant's residency zone: the plan has no
cross-region copy action.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws.trust import service_trust_policy
from components.model.naming import physical_name

# Days the lock can still be removed after it is set: the shortest AWS allows (3), so a
# misconfiguration can be undone, and then compliance mode is permanent.
LOCK_GRACE_DAYS = 3
BACKUP_SERVICE_POLICY = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
SCHEDULE = "cron(0 2 * * ? *)"  # daily, after the cluster's own backup window (01:00-02:00)


@dataclass(frozen=True)
class ImmutableBackupArgs:
    owner_name: str  # the server's physical name: vault, plan and role names derive from it
    cluster_arn: Any  # Input[str]
    kms_key_arn: Any  # Input[str]: the server's own CMK
    retention_days: int  # the tier's backup_retention_days
    region: str
    tags: Mapping[str, str]
    protect: bool = False


class ImmutableBackup(pulumi.ComponentResource):
    vault_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ImmutableBackupArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:aws:ImmutableBackup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        vault = aws.backup.Vault(
            f"{name}-vault",
            name=physical_name("aws.resource", args.owner_name, "backup"),
            kms_key_arn=args.kms_key_arn,
            force_destroy=False,  # a vault with recovery points is never emptied by a deploy
            region=args.region,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.backup.VaultLockConfiguration(
            f"{name}-lock",
            backup_vault_name=vault.name,
            changeable_for_days=LOCK_GRACE_DAYS,  # set: compliance mode (unset: governance)
            # The tier's retention is the floor; no ceiling, so the tier may raise it later.
            min_retention_days=args.retention_days,
            region=args.region,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        plan = aws.backup.Plan(
            f"{name}-plan",
            name=physical_name("aws.resource", args.owner_name, "backup"),
            rules=[
                {
                    "rule_name": "daily",
                    "target_vault_name": vault.name,
                    "schedule": SCHEDULE,
                    "start_window": 60,
                    "completion_window": 180,
                    "lifecycle": {"delete_after": args.retention_days},
                    "recovery_point_tags": tags,
                }
            ],
            region=args.region,
            tags=tags,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=physical_name("aws.resource", args.owner_name, "backup"),
            assume_role_policy=service_trust_policy("backup.amazonaws.com"),
            tags=tags,
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-role-policy",
            role=role.name,
            policy_arn=BACKUP_SERVICE_POLICY,
            opts=child,
        )
        aws.backup.Selection(
            f"{name}-selection",
            name=physical_name("aws.resource", args.owner_name, "backup"),
            plan_id=plan.id,
            iam_role_arn=role.arn,
            resources=[args.cluster_arn],  # this server only
            region=args.region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment]),
        )
        self.vault_arn = vault.arn
        self.register_outputs({"vault_arn": self.vault_arn})
