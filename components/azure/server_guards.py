"""What every Flexible Server gets, primary or read replica: TLS-only server parameters
and, unless opted out, a CanNotDelete lock (Azure's stand-in for deletion protection)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_azure_native as azure

# Server parameters that make the server TLS-only (require_secure_transport is the one
# Azure documents as "reject any non-TLS connection").
SERVER_PARAMETERS: Mapping[str, str] = {
    "require_secure_transport": "on",
    "ssl_min_protocol_version": "TLSv1.2",
    "log_connections": "on",
}
# Primaries only: logical decoding, which `tenancy tenant move` streams from. wal_level is
# static: Azure applies it at the server's next restart (the move refuses a source without
# it, exit 2). A replica's WAL is its primary's, so replicas are left alone.
PRIMARY_PARAMETERS: Mapping[str, str] = {"wal_level": "logical"}


def tls_parameters(
    parent: pulumi.Resource,
    name: str,
    server_name: Any,
    resource_group_name: Any,
    primary: bool = False,
) -> pulumi.Resource | None:
    """``SERVER_PARAMETERS`` (plus ``PRIMARY_PARAMETERS`` on a primary) on one server, as
    children of ``parent``; returns the last one."""
    parameters = {**SERVER_PARAMETERS, **(PRIMARY_PARAMETERS if primary else {})}
    previous: pulumi.Resource | None = None
    for parameter, value in parameters.items():
        # One at a time: Azure rejects concurrent parameter updates on a server.
        previous = azure.dbforpostgresql.Configuration(
            f"{name}-{parameter.replace('_', '-')}",
            configuration_name=parameter,
            server_name=server_name,
            resource_group_name=resource_group_name,
            value=value,
            source="user-override",
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[previous] if previous else []),
        )
    return previous


def delete_lock(parent: pulumi.Resource, name: str, server_id: Any, owner: str) -> None:
    """Flexible Server has no deletion-protection flag: a CanNotDelete lock is Azure's."""
    azure.authorization.ManagementLockByScope(
        f"{name}-lock",
        lock_name="tenancy-cannot-delete",
        level="CanNotDelete",
        scope=server_id,
        notes=f"tenancy: data of {owner}; remove deliberately before deleting",
        opts=pulumi.ResourceOptions(parent=parent),
    )
