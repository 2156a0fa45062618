"""Who administers a database server: on Azure, the Microsoft Entra administrators of each
Flexible Server. There must be one wherever Entra sign-in is on (else nobody can map an
Entra identity to a database role), and each one must be a group: an administrator is a
member of ``azure_pg_admin`` and reaches every tenant on the server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import controls as c
from .. import types as t
from ..framework import DB_ADMIN_GROUP, UNKNOWN, Ctx, Res, cannot_verify, get, is_unknown, rule

GROUP = "group"  # compared case-insensitively: ARM enums are, and the SDK spells it "group"


@rule(
    id="azure-postgresql-administrator-configure-group-principal",
    description="Every Microsoft Entra administrator of a Flexible Server is an Entra group (principalType Group), never a user or a service principal.",
    why="An Entra administrator is a member of azure_pg_admin: it can read and change every tenant's data on the server and create or drop any role. A user as administrator leaves access with one person when they change teams; a service principal or managed identity as administrator gives a workload, for instance a silo tenant's app, power over the whole server, the gap issue 15 closed by mapping tenant identities narrowly instead.",
    remediation="Set principalType Group with the operators' group (tenancy:entraAdminGroup: objectId and displayName; components/azure/entra_admin.py). Map a workload identity with pgaadauth_create_principal_with_oid to a role holding only its tenant's role (tenancy db apply), not as an administrator.",
    severity="high",
    enforcement="mandatory",
    controls=c.PRIVILEGED_ACCESS,
    cloud="azure",
    family="access",
    types=t.AZ_ADMINISTRATORS,
    matrix=[DB_ADMIN_GROUP],
)
def azure_administrator_is_a_group(
    resource_type: str, props: Mapping[str, Any], ctx: Ctx
) -> list[str] | None:
    kind = props.get("principalType")
    if kind == UNKNOWN:
        return [cannot_verify("principalType", kind)]
    if kind is None:
        return ["principalType is not set; it must be Group"]
    if not isinstance(kind, str) or kind.lower() != GROUP:
        return [f"the administrator is a {kind}; it must be a Group (the operators' group)"]
    return []


def _is_primary(server: Res) -> bool | None:
    """False for a read replica: it takes its primary's roles, administrators included."""
    mode = server.props.get("createMode")
    if is_unknown(mode):
        return None
    return str(mode).lower() != "replica"


def _entra_on(server: Res) -> bool | None:
    """Not set is off: Azure's default is password sign-in only."""
    value = get(server.props, "authConfig", "activeDirectoryAuth")
    if value == UNKNOWN:
        return None
    return isinstance(value, str) and value.lower() == "enabled"


def _administrators_of(server: Res, admins: Sequence[Res]) -> list[Res]:
    """By dependency (the administrator names the server through its output) or by name."""
    name = server.props.get("serverName")
    return [
        admin
        for admin in admins
        if server.urn in admin.dependencies
        or (isinstance(name, str) and admin.props.get("serverName") == name)
    ]


def _judge(server: Res, admins: Sequence[Res]) -> list[str]:
    primary, entra = _is_primary(server), _entra_on(server)
    if primary is None:
        return [cannot_verify("whether the server is a read replica", UNKNOWN)]
    if entra is None:
        return [cannot_verify("authConfig.activeDirectoryAuth", UNKNOWN)]
    if _administrators_of(server, admins):
        return []
    if any(is_unknown(admin.props.get("serverName")) for admin in admins):
        reason = "an administrator's serverName is not known at plan time"
        return [cannot_verify("the server's Entra administrator", reason=reason)]
    return [
        "Entra authentication is on but the server has no Entra administrator: nobody can "
        "create the Entra login roles its tenants' identities need"
    ]


@rule(
    id="azure-postgresql-server-enable-entra-administrator",
    description="Every Flexible Server with Microsoft Entra authentication on (not a read replica, which takes its primary's) has a Microsoft Entra administrator.",
    why="Only an Entra administrator may create Entra login roles (pgaadauth_create_principal_with_oid), so with Entra sign-in on and no administrator, no silo tenant's workload identity can be mapped and operators fall back to the shared password admin, whose use no Entra sign-in log attributes to a person.",
    remediation="Add a dbforpostgresql.Administrator for the operators' group (tenancy:entraAdminGroup in the stack file; components/azure/entra_admin.py) as a child of the server component.",
    severity="high",
    enforcement="mandatory",
    controls=c.PRIVILEGED_ACCESS,
    cloud="azure",
    family="access",
    kind="stack",
    types=[t.AZ_SERVER],
    matrix=[DB_ADMIN_GROUP],
)
def azure_server_has_entra_administrator(
    resources: Sequence[Res], ctx: Ctx
) -> list[tuple[str, list[str]]]:
    admins = [r for r in resources if r.type in t.AZ_ADMINISTRATORS]
    results = []
    for server in resources:
        if server.type != t.AZ_SERVER:
            continue
        if _is_primary(server) is False or _entra_on(server) is False:
            continue  # a replica, or no Entra sign-in: nothing to administer through Entra
        results.append((server.urn, _judge(server, admins)))
    return results


RULES = [azure_administrator_is_a_group, azure_server_has_entra_administrator]
