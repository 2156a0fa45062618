"""Where a cell's Cloud SQL logs go: a log bucket in the cell's region, encrypted with the
cell's log key (Cloud KMS, same region, usable by the project's Cloud Logging service
account only), retained for the cell's longest tier retention, and a sink that routes
the instances' logs (pgaudit's records arrive as Data Access audit logs) into it.

A locked retention cannot be shortened, so only production cells holding a server of a
regulated tier lock it (the GCP immutable archive); dev stays unlocked. The same logs are
excluded from the ``_Default`` sink, and Data Access audit logs are enabled for Cloud SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.args import EncryptionArgs
from components.gcp.key import CloudKmsKey, CloudKmsKeyArgs

CLOUDSQL_LOGS = 'resource.type="cloudsql_database"'
CLOUDSQL_SERVICE = "cloudsql.googleapis.com"


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
        cloudsql_logs = f'{CLOUDSQL_LOGS} AND resource.labels.region="{args.region}"'
        gcp.logging.ProjectSink(
            f"{name}-sink",
            name=args.bucket_id,
            project=args.project,
            destination=(
                f"logging.googleapis.com/projects/{args.project}/locations/{args.region}"
                f"/buckets/{args.bucket_id}"
            ),
            filter=cloudsql_logs,
            unique_writer_identity=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[bucket]),
        )
        # A project exclusion applies to the _Default sink only: the same logs stop reaching
        # the _Default bucket, which is global (outside any residency zone) and kept 30 days
        # under Google's key. Our sink above is unaffected, so they land in-zone only.
        gcp.logging.ProjectExclusion(
            f"{name}-default-exclusion",
            name=f"{args.bucket_id}-cloudsql-{args.region}",
            project=args.project,
            description="tenancy: Cloud SQL logs of this cell go to its regional bucket only",
            filter=cloudsql_logs,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # pgaudit's records are Data Access audit logs, which Cloud SQL writes only when the
        # project enables them. Authoritative for cloudsql.googleapis.com's audit config.
        gcp.projects.IAMAuditConfig(
            f"{name}-cloudsql-data-access",
            project=args.project,
            service=CLOUDSQL_SERVICE,
            audit_log_configs=[{"log_type": "DATA_READ"}, {"log_type": "DATA_WRITE"}],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.bucket_name = bucket.name
        self.register_outputs({"bucket_name": self.bucket_name})
