"""Immutable backups of one Cloud SQL instance: a Backup and DR backup vault whose
minimum enforced retention no one can shorten or bypass, encrypted with the server's
own CMEK, and a daily backup plan associated with the instance.

For regulated tiers in prod. The vault lives in the instance's region (inside the
residency zone); the plan has no cross-region copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from components.model.naming import physical_name

CLOUD_SQL = "sqladmin.googleapis.com/Instance"  # Backup and DR's resource type for Cloud SQL
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class ImmutableBackupArgs:
    owner_name: str  # the server's physical name: vault, plan and association derive from it
    project: str | None
    instance_id: Any  # Input[str]: projects/<project>/instances/<name>
    kms_key_id: Any  # Input[str]: the server's own crypto key (same region as the vault)
    retention_days: int  # the tier's backup_retention_days
    region: str
    labels: Mapping[str, str]
    protect: bool = False


class ImmutableBackup(pulumi.ComponentResource):
    vault_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: ImmutableBackupArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:gcp:ImmutableBackup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        vault_name = physical_name("gcp.resource", args.owner_name, "backup")
        vault = gcp.backupdisasterrecovery.BackupVault(
            f"{name}-vault",
            backup_vault_id=vault_name,
            location=args.region,
            project=args.project,
            # Every backup is kept at least the tier's retention, whatever a plan or an
            # operator asks later: the vault enforces it.
            backup_minimum_enforced_retention_duration=f"{args.retention_days * SECONDS_PER_DAY}s",
            backup_retention_inheritance="INHERIT_VAULT_RETENTION",
            access_restriction="WITHIN_ORGANIZATION",
            encryption_config={"kms_key_name": args.kms_key_id},
            force_delete=False,
            force_update=False,
            labels=dict(args.labels),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        plan = gcp.backupdisasterrecovery.BackupPlan(
            f"{name}-plan",
            backup_plan_id=vault_name,
            location=args.region,
            project=args.project,
            resource_type=CLOUD_SQL,
            backup_vault=vault.id,
            backup_rules=[
                {
                    "rule_id": "daily",
                    "backup_retention_days": args.retention_days,
                    "standard_schedule": {
                        "recurrence_type": "DAILY",
                        "time_zone": "UTC",
                        # After the instance's own backup window (01:00-02:00 UTC).
                        "backup_window": {"start_hour_of_day": 2, "end_hour_of_day": 6},
                    },
                }
            ],
            opts=child,
        )
        gcp.backupdisasterrecovery.BackupPlanAssociation(
            f"{name}-association",
            backup_plan_association_id=vault_name,
            location=args.region,
            project=args.project,
            resource_type=CLOUD_SQL,
            resource=args.instance_id,
            backup_plan=plan.name,
            opts=child,
        )
        self.vault_id = vault.id
        self.register_outputs({"vault_id": self.vault_id})
