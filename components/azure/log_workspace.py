"""Where a Flexible Server's logs go: the cell's Log Analytics workspace, in the cell's
region (a workspace may be anywhere, so its location is chosen here, inside the zone),
through one diagnostic setting per server.

Access is per resource (``enableLogAccessUsingOnlyResourcePermissions``): whoever may
read a server may read its logs, and no one reads every tenant's trail by default.
Log Analytics encrypts at rest with Microsoft-managed keys; a customer-managed key
needs a dedicated cluster (README: audit logging says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure

# Interactive retention Log Analytics accepts per workspace.
MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 30, 730
DIAGNOSTIC_SETTING_NAME = "tenancy-postgresql-logs"


def workspace_retention(days: int) -> int:
    return max(MIN_RETENTION_DAYS, min(MAX_RETENTION_DAYS, days))


@dataclass(frozen=True)
class LogWorkspaceArgs:
    workspace_name: str  # from the naming module
    resource_group_name: Any  # Input[str]
    location: str  # the cell's region: inside the residency zone
    retention_days: int  # the longest retention of the cell's servers
    tags: Mapping[str, str]
    protect: bool = False


class LogWorkspace(pulumi.ComponentResource):
    workspace_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: LogWorkspaceArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:azure:LogWorkspace", name, None, opts)
        workspace = azure.operationalinsights.Workspace(
            f"{name}-workspace",
            workspace_name=args.workspace_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku={"name": "PerGB2018"},
            retention_in_days=workspace_retention(args.retention_days),
            features={
                "enable_log_access_using_only_resource_permissions": True,
                "disable_local_auth": True,  # Entra ID only: no shared workspace keys
            },
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.workspace_id = workspace.id
        self.register_outputs({"workspace_id": self.workspace_id})


def diagnostic_logs(
    parent: pulumi.Resource,
    name: str,
    server_id: Any,
    workspace_id: Any,
    archive_account_id: Any = None,
) -> azure.monitor.DiagnosticSetting:
    """Every log category of the server (PostgreSQL log with pgaudit's records, sessions,
    query store) to the workspace, in resource-specific tables, and for a regulated server
    also to the cell's immutable archive (``archive_account_id``)."""
    archive = {"storage_account_id": archive_account_id} if archive_account_id is not None else {}
    return azure.monitor.DiagnosticSetting(
        f"{name}-diagnostics",
        name=DIAGNOSTIC_SETTING_NAME,
        resource_uri=server_id,
        workspace_id=workspace_id,
        **archive,
        log_analytics_destination_type="Dedicated",
        logs=[{"category_group": "allLogs", "enabled": True}],
        opts=pulumi.ResourceOptions(parent=parent),
    )
