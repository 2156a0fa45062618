"""Flexible Server's side of audit logging: pgaudit allow-listed, preloaded and configured.

Server parameters, one ``Configuration`` each, chained after the TLS ones: Flexible
Server takes one parameter change at a time and fails parallel ones with ServerIsBusy.
The in-database plan creates the extension once a restart has loaded the library
(``components/postgres/audit.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_azure_native as azure

from components.model.audit import PGAUDIT, ServerAudit, postgres_settings

# Already set by components/azure/server_guards.py (TLS and connection logging).
ALREADY_SET = frozenset({"log_connections"})
# Flexible Server's default prefix ("%t-%c-") names no role: add user@database, so a shard's
# trail can be filtered by a tenant's login role (README: reading a tenant's audit trail).
LOG_LINE_PREFIX = "%t-%c-%u@%d-"


def audit_parameter_values(audit: ServerAudit) -> Mapping[str, str]:
    """Every audit parameter in the order they are applied: the allow-list and the library
    (static: applied at the next restart) before the settings that need them."""
    values = {
        # Azure refuses CREATE EXTENSION for anything not allow-listed here.
        "azure.extensions": PGAUDIT,
        # Keeps Azure's default query statistics loaded next to pgaudit.
        "shared_preload_libraries": f"pg_stat_statements,{PGAUDIT}",
    }
    values |= {k: v for k, v in postgres_settings(audit).items() if k not in ALREADY_SET}
    values["log_line_prefix"] = LOG_LINE_PREFIX
    return values


def audit_parameters(
    parent: pulumi.Resource,
    name: str,
    server_name: Any,
    resource_group_name: Any,
    audit: ServerAudit,
    after: pulumi.Resource | None,
) -> pulumi.Resource | None:
    """The audit parameters on one server, each waiting for the one before (starting after
    ``after``, the server's last TLS parameter); returns the last one."""
    previous = after
    for parameter, value in audit_parameter_values(audit).items():
        previous = azure.dbforpostgresql.Configuration(
            f"{name}-{parameter.replace('_', '-').replace('.', '-')}",
            configuration_name=parameter,
            server_name=server_name,
            resource_group_name=resource_group_name,
            value=value,
            source="user-override",
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[previous] if previous else []),
        )
    return previous
