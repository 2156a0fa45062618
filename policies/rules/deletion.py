"""Deletion protection and Pulumi ``protect`` on stateful resources in production."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import controls as c
from .. import types as t
from ..framework import (
    DELETION_PROTECTION,
    Ctx,
    Res,
    cannot_verify,
    flag,
    is_production,
    rule,
    tags_of,
    tenancy_tags,
)

_WHY = "A production database deleted by a mistaken `pulumi destroy`, a rename or a console click takes every tenant on it down and loses writes since the last backup."


def _prod(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> bool | None:
    return is_production(tenancy_tags(tags_of(resource_type, props)), ctx)


@rule(
    id="aws-rds-cluster-enable-deletion-protection",
    description="Production Aurora clusters and RDS instances have deletionProtection on.",
    why=_WHY,
    remediation="Set deletionProtection=true (components/aws/aurora.py sets it unless a stack opts out with tenancy:deletionProtection=false, which production must not).",
    severity="high",
    enforcement="mandatory",
    controls=c.DELETION,
    cloud="aws",
    family="deletion",
    types=t.AWS_DATABASES,
    config_keys=["productionEnvironments"],
    matrix=[DELETION_PROTECTION],
)
def aws_deletion_protection(
    resource_type: str, props: Mapping[str, Any], ctx: Ctx
) -> list[str] | None:
    if _prod(resource_type, props, ctx) is False:
        return None
    return flag(props, ("deletionProtection",), True, "deletionProtection")


_LOCKS = (t.AZ_LOCK, t.AZ_LOCK_BY_SCOPE)


def _lock_index(resources: Sequence[Res]) -> dict[str, list[Res]]:
    """Server URN or server name -> the locks on it (by dependency, resourceName or scope)."""
    index: dict[str, list[Res]] = {}
    for lock in resources:
        if lock.type not in _LOCKS:
            continue
        scope = lock.props.get("scope")
        keys = {*lock.dependencies, str(lock.props.get("resourceName"))}
        if isinstance(scope, str) and "/flexibleServers/" in scope:
            keys.add(scope.rsplit("/flexibleServers/", 1)[1].split("/", 1)[0])
        for key in keys:
            index.setdefault(key, []).append(lock)
    return index


def _locks(server: Res, index: dict[str, list[Res]]) -> list[Res]:
    name = server.props.get("serverName")
    mine = {id(lock): lock for lock in index.get(server.urn, [])}
    if isinstance(name, str):
        mine.update({id(lock): lock for lock in index.get(name, [])})
    return list(mine.values())


@rule(
    id="azure-postgresql-server-enable-delete-lock",
    description="Production Flexible Servers carry a CanNotDelete management lock.",
    why=_WHY
    + " Azure has no deletion-protection flag on the server; a CanNotDelete lock is the equivalent.",
    remediation="Add an authorization.ManagementLockAtResourceLevel (level CanNotDelete) on the server (resourceProviderNamespace Microsoft.DBforPostgreSQL, resourceType flexibleServers).",
    severity="high",
    enforcement="mandatory",
    controls=c.DELETION,
    cloud="azure",
    family="deletion",
    kind="stack",
    types=[t.AZ_SERVER],
    config_keys=["productionEnvironments"],
    matrix=[DELETION_PROTECTION],
)
def azure_delete_lock(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    locks = _lock_index(resources)
    results = []
    for server in resources:
        if server.type != t.AZ_SERVER or _prod(server.type, server.props, ctx) is False:
            continue
        mine = _locks(server, locks)
        if not any(lock.props.get("level") == "CanNotDelete" for lock in mine):
            levels = sorted({str(lock.props.get("level")) for lock in mine})
            detail = f" (found: {', '.join(levels)})" if levels else ""
            results.append((server.urn, [f"no CanNotDelete lock on the server{detail}"]))
        else:
            results.append((server.urn, []))
    return results


@rule(
    id="gcp-sql-instance-enable-deletion-protection",
    description="Production Cloud SQL instances have deletion protection on, both in Pulumi (deletionProtection) and in the Cloud SQL API (settings.deletionProtectionEnabled).",
    why=_WHY,
    remediation="Set deletionProtection=true and settings.deletionProtectionEnabled=true.",
    severity="high",
    enforcement="mandatory",
    controls=c.DELETION,
    cloud="gcp",
    family="deletion",
    types=[t.SQL_INSTANCE],
    config_keys=["productionEnvironments"],
    matrix=[DELETION_PROTECTION],
)
def gcp_deletion_protection(
    resource_type: str, props: Mapping[str, Any], ctx: Ctx
) -> list[str] | None:
    if _prod(resource_type, props, ctx) is False:
        return None
    found = flag(props, ("deletionProtection",), True, "deletionProtection")
    found += flag(
        props, ("settings", "deletionProtectionEnabled"), True, "settings.deletionProtectionEnabled"
    )
    return found


@rule(
    id="multi-pulumi-stateful-enable-protect",
    description="In production, stateful resources (databases, keys, key vaults and rings, secrets, backup vaults) are registered with Pulumi protect.",
    why="protect makes Pulumi refuse to delete or replace the resource until someone unprotects it on purpose, so an offboarded tenant or a bad refactor cannot destroy data or keys.",
    remediation="Pass ResourceOptions(protect=True) for stateful resources in production (ServerArgs.protect follows the cell's environment).",
    severity="high",
    enforcement="mandatory",
    controls=c.DELETION,
    cloud="multi",
    family="deletion",
    types=t.STATEFUL,
    config_keys=["productionEnvironments"],
)
def protect_stateful(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str] | None:
    if _prod(resource_type, props, ctx) is False:
        return None
    if ctx.protect is None:
        return [cannot_verify("protect", reason="the resource options are not known")]
    return (
        [] if ctx.protect else ["protect is off; production stateful resources must be protected"]
    )


RULES = (aws_deletion_protection, azure_delete_lock, gcp_deletion_protection, protect_stateful)
