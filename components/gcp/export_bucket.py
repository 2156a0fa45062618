"""The cell's export bucket: where `tenancy tenant export` archives land, inside the zone.

A regional GCS bucket in the cell's region, encrypted by default with the bucket's own
Cloud KMS key (CMEK, usable only by the project's Cloud Storage service agent), a
retention policy (an archive cannot be deleted or replaced before it ends; locked in
prod), uniform bucket-level access (no object ACLs), public access prevention enforced,
soft delete off (a deleted archive must not linger as a hidden copy past the erasure
schedule), and a lifecycle rule that deletes archives once the retention has passed.
Retention policies and object versioning exclude each other in GCS, so there is none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.args import EncryptionArgs
from components.gcp.key import SECONDS_PER_DAY, CloudKmsKey, CloudKmsKeyArgs
from components.model.erasure import EXPORT_RETENTION_DAYS


@dataclass(frozen=True)
class ExportBucketArgs:
    bucket_name: str  # from the naming module (globally unique)
    key_name: str  # the bucket's key ring and key, from the naming module
    project: str | None
    region: str  # the cell's region: inside the residency zone
    labels: Mapping[str, str]
    retention_days: int = EXPORT_RETENTION_DAYS
    locked: bool = True  # a locked retention policy can never be shortened or removed (prod)
    encryption: EncryptionArgs = EncryptionArgs()
    protect: bool = False


class ExportBucket(pulumi.ComponentResource):
    """One per cell: tenants' export archives, under a retention policy."""

    bucket_name: pulumi.Output[str]
    retention_days: int

    def __init__(
        self, name: str, args: ExportBucketArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:gcp:ExportBucket", name, None, opts)
        storage_agent = gcp.storage.get_project_service_account_output(
            project=args.project, opts=pulumi.InvokeOutputOptions(parent=self)
        ).email_address
        key = CloudKmsKey(
            f"{name}-key",
            CloudKmsKeyArgs(
                name=args.key_name,
                project=args.project,
                location=args.region,  # CMEK of a regional bucket: a key ring in its region
                service_agent_members={
                    "storage": pulumi.Output.concat("serviceAccount:", storage_agent)
                },
                labels=args.labels,
                encryption=args.encryption,
                protect=args.protect,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        retention_seconds = args.retention_days * SECONDS_PER_DAY
        bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            name=args.bucket_name,
            project=args.project,
            location=args.region,
            storage_class="STANDARD",
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            encryption={"default_kms_key_name": key.key_id},
            retention_policy={"retention_period": retention_seconds, "is_locked": args.locked},
            soft_delete_policy={"retention_duration_seconds": 0},
            lifecycle_rules=[
                {"action": {"type": "Delete"}, "condition": {"age": args.retention_days + 1}}
            ],
            force_destroy=False,
            labels=dict(args.labels),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.bucket_name = bucket.name
        self.retention_days = args.retention_days
        self.register_outputs({"bucket_name": self.bucket_name})
