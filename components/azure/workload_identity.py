"""Azure Workload Identity: a user-assigned identity that one ServiceAccount may federate into,
made a Microsoft Entra administrator of its silo tenant's own Flexible Server so that the
app can sign in with an Entra token instead of a password.

Trade-off: Flexible Server has no narrower Entra grant as an ARM resource; an Entra
administrator is a member of ``azure_pg_admin`` on that one server (the tenant's own, so no
other tenant's data). Least privilege inside PostgreSQL would map the identity to the SQL
plan's tenant role with ``pgaadauth_create_principal_with_oid`` instead."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure

TOKEN_AUDIENCE = "api://AzureADTokenExchange"


def server_parts(server_id: str) -> tuple[str, str]:
    """``/subscriptions/s/resourceGroups/RG/providers/.../flexibleServers/NAME`` -> (RG, NAME)."""
    parts = server_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    return parts[lowered.index("resourcegroups") + 1], parts[-1]


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    identity_name: str  # physical name, from the naming module
    resource_group_name: Any  # Input[str]
    location: str
    oidc_issuer_url: str  # the AKS cluster's OIDC issuer (stack config tenancy:app)
    namespace: str
    service_account: str
    tags: Mapping[str, str]
    database_server_id: Any  # Input[str]: ARM id of the tenant's own Flexible Server


class WorkloadIdentity(pulumi.ComponentResource):
    client_id: pulumi.Output[str]

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
        server = pulumi.Output.from_input(args.database_server_id).apply(server_parts)
        azure.dbforpostgresql.Administrator(
            f"{name}-database-admin",
            resource_group_name=server.apply(lambda p: p[0]),
            server_name=server.apply(lambda p: p[1]),
            object_id=identity.principal_id,
            principal_name=identity.name,
            principal_type=azure.dbforpostgresql.PrincipalType.SERVICE_PRINCIPAL,
            tenant_id=identity.tenant_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.client_id = identity.client_id
        self.register_outputs({"client_id": self.client_id})
