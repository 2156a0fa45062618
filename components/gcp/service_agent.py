"""The Cloud SQL service agent of the project: the identity that uses each instance's CMEK."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp


@dataclass(frozen=True)
class CloudSqlServiceAgentArgs:
    project: str | None


class CloudSqlServiceAgent(pulumi.ComponentResource):
    """Makes sure ``service-<number>@gcp-sa-cloud-sql.iam.gserviceaccount.com`` exists.

    Google creates the agent lazily; CMEK needs it *before* the first instance,
    since the key grant names it (``gcloud beta services identity create
    --service=sqladmin.googleapis.com``).
    """

    member: pulumi.Output[str]

    def __init__(
        self, name: str, args: CloudSqlServiceAgentArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:gcp:CloudSqlServiceAgent", name, None, opts)
        identity = gcp.projects.ServiceIdentity(
            f"{name}-identity",
            project=args.project,
            service="sqladmin.googleapis.com",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.member = pulumi.Output.concat("serviceAccount:", identity.email)
        self.register_outputs({"member": self.member})
