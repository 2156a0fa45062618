"""A Google service agent of the project (Cloud SQL, Secret Manager): the identity that uses a CMEK."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp


@dataclass(frozen=True)
class ServiceAgentArgs:
    project: str | None
    service: str  # e.g. "sqladmin.googleapis.com", "secretmanager.googleapis.com"


class ServiceAgent(pulumi.ComponentResource):
    """Makes sure ``service-<number>@gcp-sa-<agent>.iam.gserviceaccount.com`` exists.

    Google creates agents lazily; CMEK needs the agent *before* the first instance or
    secret, since the key grant names it (``gcloud beta services identity create
    --service=...``).
    """

    member: pulumi.Output[str]

    def __init__(
        self, name: str, args: ServiceAgentArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:gcp:ServiceAgent", name, None, opts)
        identity = gcp.projects.ServiceIdentity(
            f"{name}-identity",
            project=args.project,
            service=args.service,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.member = pulumi.Output.concat("serviceAccount:", identity.email)
        self.register_outputs({"member": self.member})
