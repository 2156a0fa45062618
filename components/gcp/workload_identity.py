"""GKE Workload Identity: a Google service account that one Kubernetes ServiceAccount may use."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    account_id: str  # 6-30 characters, from the naming module
    project: str  # the cluster's project: its workload identity pool is <project>.svc.id.goog
    namespace: str
    service_account: str


class WorkloadIdentity(pulumi.ComponentResource):
    email: pulumi.Output[str]

    def __init__(
        self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:gcp:WorkloadIdentity", name, None, opts)
        account = gcp.serviceaccount.Account(
            f"{name}-account",
            account_id=args.account_id,
            display_name=f"Workload identity of {args.namespace}/{args.service_account}",
            project=args.project,
            opts=pulumi.ResourceOptions(parent=self),
        )
        pool = f"{args.project}.svc.id.goog"
        member = f"serviceAccount:{pool}[{args.namespace}/{args.service_account}]"
        gcp.serviceaccount.IAMMember(
            f"{name}-workload-user",
            service_account_id=account.name,
            role="roles/iam.workloadIdentityUser",
            member=member,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.email = account.email
        self.register_outputs({"email": self.email})
