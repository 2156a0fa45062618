"""GKE Workload Identity: a Google service account that one Kubernetes ServiceAccount may use,
allowed to connect (``roles/cloudsql.client``) and log in (``roles/cloudsql.instanceUser``)
to its tenant's own Cloud SQL instance only: project-level grants with an IAM condition on
the instance's ``resource.name``, which Cloud SQL evaluates for both roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

DATABASE_ROLES = {
    "cloudsql-client": "roles/cloudsql.client",
    "cloudsql-login": "roles/cloudsql.instanceUser",
}


CONDITION_TITLE = "own-cloudsql-instance"


def instance_expression(instance: str) -> str:
    """CEL that limits a project-level Cloud SQL grant to one instance."""
    return f"resource.type == 'sqladmin.googleapis.com/Instance' && resource.name == '{instance}'"


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    account_id: str  # 6-30 characters, from the naming module
    project: str  # the cluster's project: its workload identity pool is <project>.svc.id.goog
    namespace: str
    service_account: str
    instance: (
        Any  # Input[str]: the tenant's Cloud SQL instance, projects/<project>/instances/<name>
    )
    # The tenant's own role inside PostgreSQL (tenant_<id>): the IAM database user gets it.
    database_role: str | None = None
    # What creates that role (the server's DatabaseIsolation): the user waits for it, since
    # Cloud SQL only grants roles that exist.
    database_ready: pulumi.Resource | None = None


def iam_database_user(email: str) -> str:
    """Cloud SQL names a service account's PostgreSQL user by its email without the
    ``.gserviceaccount.com`` suffix."""
    return email.removesuffix(".gserviceaccount.com")


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
        instance = pulumi.Output.from_input(args.instance)
        condition: gcp.projects.IAMMemberConditionArgsDict = {
            "title": CONDITION_TITLE,
            "description": pulumi.Output.concat("Only ", instance),
            "expression": instance.apply(instance_expression),
        }
        for suffix, role in DATABASE_ROLES.items():
            gcp.projects.IAMMember(
                f"{name}-{suffix}",
                project=args.project,
                role=role,
                member=account.member,
                condition=condition,
                opts=pulumi.ResourceOptions(parent=self),
            )
        if args.database_role is not None:
            self._database_user(name, args.database_role, args, account, instance)
        self.email = account.email
        self.register_outputs({"email": self.email})

    def _database_user(
        self,
        name: str,
        role: str,
        args: WorkloadIdentityArgs,
        account: gcp.serviceaccount.Account,
        instance: pulumi.Output[str],
    ) -> None:
        """The workload logs in with IAM as this user, which holds the tenant's role only."""
        gcp.sql.User(
            f"{name}-db-user",
            name=account.email.apply(iam_database_user),
            instance=instance.apply(lambda path: path.rsplit("/", 1)[-1]),
            project=args.project,
            type="CLOUD_IAM_SERVICE_ACCOUNT",
            database_roles=[role],
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[args.database_ready] if args.database_ready is not None else [],
            ),
        )
