"""The operators' Entra group as the Microsoft Entra administrator of one Flexible Server.

Only an Entra administrator may create Entra login roles on a server
(``pgaadauth_create_principal_with_oid``, which ``tenancy db apply`` calls for each silo
tenant's workload identity), so without one Entra authentication is on but unusable.
The administrator is always the stack's group (``tenancy:entraAdminGroup``), never a
user or a workload identity: an administrator is a member of ``azure_pg_admin``.

Primaries only. A read replica is a physical copy: the administrator's role and its
``pgaadauth`` security label replicate from the primary like every other role
(Microsoft's read-replica page: "The replica inherits the admin account from the primary
server. All user accounts on the primary server are replicated to the read replicas.").
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_azure_native as azure

from components.model.entra import EntraAdminGroup

# The REST API's spelling (User | Group | ServicePrincipal | Unknown). The SDK's
# PrincipalType enum ("group") is the Cosmos DB for PostgreSQL cluster one.
GROUP = "Group"


def entra_administrator(
    parent: pulumi.Resource,
    name: str,
    server_name: Any,
    resource_group_name: Any,
    group: EntraAdminGroup,
    entra_tenant_id: Any,
    after: pulumi.Resource,
) -> azure.dbforpostgresql.Administrator:
    """The group as administrator of the server ``server_name`` (an Output of the server, so
    it is created after it), after ``after``, the server's last parameter: Flexible Server
    takes one management operation at a time and fails parallel ones with ServerIsBusy."""
    return azure.dbforpostgresql.Administrator(
        f"{name}-entra-admin",
        server_name=server_name,
        resource_group_name=resource_group_name,
        object_id=group.object_id,
        principal_name=group.display_name,
        principal_type=GROUP,
        tenant_id=entra_tenant_id,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[after]),
    )
