"""Where a cell's Cloud SQL logs go: a log bucket in the cell's region, encrypted with the
cell's log key (Cloud KMS, same region, usable by the project's Cloud Logging service
account only), retained for the cell's longest tier retention, and a sink that routes
the instances' logs (pgaudit's records arrive as Data Access audit logs) into it.

A locked retention cannot be shortened, so only production cells holding a regulated
server lock it; dev stays unlocked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.args import EncryptionArgs
from components.gcp.key import CloudKmsKey, CloudKmsKeyArgs

CLOUDSQL_LOGS = 'resource.type="cloudsql_database"'


@dataclass(frozen=True)
class CellLogBucketArgs:
    bucket_id: str  # from the naming module
    key_name: str  # the cell's log key ring and key, from the naming module
    project: str
    region: str  # the cell's region: inside the residency zone
    retention_days: int
    locked: bool
    labels: Mapping[str, str]
    encryption: EncryptionArgs = EncryptionArgs()
    protect: bool = False


class CellLogBucket(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: CellLogBucketArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:gcp:CellLogBucket", name, None, opts)
        logging_agent = gcp.logging.get_project_cmek_settings_output(
            project=args.project, opts=pulumi.InvokeOutputOptions(parent=self)
        ).service_account_id
        key = CloudKmsKey(
            f"{name}-key",
            CloudKmsKeyArgs(
                name=args.key_name,
                project=args.project,
                location=args.region,
                service_agent_members={
                    "logging": pulumi.Output.concat("serviceAccount:", logging_agent)
                },
                labels=args.labels,
                encryption=args.encryption,
                protect=args.protect,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        bucket = gcp.logging.ProjectBucketConfig(
            f"{name}-bucket",
            project=args.project,
            location=args.region,
            bucket_id=args.bucket_id,
            description="tenancy: PostgreSQL and pgaudit logs of this cell's Cloud SQL instances",
            retention_days=args.retention_days,
            locked=args.locked,
            cmek_settings={"kms_key_name": key.key_id},
            # The key's grant to Cloud Logging first, or the bucket cannot use it.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[key]),
        )
        gcp.logging.ProjectSink(
            f"{name}-sink",
            name=args.bucket_id,
            project=args.project,
            destination=(
                f"logging.googleapis.com/projects/{args.project}/locations/{args.region}"
                f"/buckets/{args.bucket_id}"
            ),
            filter=f'{CLOUDSQL_LOGS} AND resource.labels.region="{args.region}"',
            unique_writer_identity=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[bucket]),
        )
        self.bucket_name = bucket.name
        self.register_outputs({"bucket_name": self.bucket_name})
