"""Azure Workload Identity: a user-assigned identity that one ServiceAccount may federate into,
so that the silo tenant's app signs in to its own Flexible Server with an Entra token instead
of a password.

The identity is *not* an Entra administrator of the server (an administrator is a member of
``azure_pg_admin``). Inside PostgreSQL it is mapped, narrowly, to a login role that holds the
tenant's role only: ``pgaadauth_create_principal_with_oid`` in the server's SQL plan
(``components/postgres/sqlplan.py``), which ``tenancy db apply --stack-outputs`` runs with
the identity's principal id (stack output ``tenants.<id>.entra_principal_id``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure

TOKEN_AUDIENCE = "api://AzureADTokenExchange"


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    identity_name: str  # physical name, from the naming module
    resource_group_name: Any  # Input[str]
    location: str
    oidc_issuer_url: str  # the AKS cluster's OIDC issuer (stack config tenancy:app)
    namespace: str
    service_account: str
    tags: Mapping[str, str]


class WorkloadIdentity(pulumi.ComponentResource):
    client_id: pulumi.Output[str]
    principal_id: pulumi.Output[str]  # the object id the database maps to a login role

    def __init__(
        self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:azure:WorkloadIdentity", name, None, opts)
        identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=args.identity_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        azure.managedidentity.FederatedIdentityCredential(
            f"{name}-federation",
            federated_identity_credential_resource_name="kubernetes",
            resource_name_=identity.name,
            resource_group_name=args.resource_group_name,
            issuer=args.oidc_issuer_url,
            subject=f"system:serviceaccount:{args.namespace}:{args.service_account}",
            audiences=[TOKEN_AUDIENCE],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.client_id = identity.client_id
        self.principal_id = identity.principal_id
        self.register_outputs({"client_id": self.client_id, "principal_id": self.principal_id})
