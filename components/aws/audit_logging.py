"""Aurora's side of audit logging: the cluster parameters that load and configure pgaudit.

The in-database plan creates the extension (and the ``rds_pgaudit`` role) once the
library is loaded; see ``components/postgres/audit.py``.
"""

from __future__ import annotations

import pulumi_aws as aws

from components.model.audit import AURORA_PGAUDIT_ROLE, PGAUDIT, ServerAudit, postgres_settings

# Aurora preloads pg_stat_statements by default; setting the list replaces it, so keep it.
SHARED_PRELOAD_LIBRARIES = f"pg_stat_statements,{PGAUDIT}"
# Aurora's storage layer persists the log itself and writes no checkpoints to report.
NOT_ON_AURORA = frozenset({"log_checkpoints"})
# Already set by the TLS parameters of the cluster parameter group.
ALREADY_SET = frozenset({"log_connections"})


def _aurora_value(value: str) -> str:
    # RDS spells boolean parameters 1/0.
    return {"on": "1", "off": "0"}.get(value, value)


def aurora_audit_parameters(
    audit: ServerAudit,
) -> list[aws.rds.ClusterParameterGroupParameterArgsDict]:
    """Cluster parameter group entries: pgaudit preloaded (a static parameter: it takes
    effect at the next reboot), its object-audit role, and the tier's log settings."""
    parameters: list[aws.rds.ClusterParameterGroupParameterArgsDict] = [
        {
            "name": "shared_preload_libraries",
            "value": SHARED_PRELOAD_LIBRARIES,
            "apply_method": "pending-reboot",
        },
        {"name": "pgaudit.role", "value": AURORA_PGAUDIT_ROLE, "apply_method": "immediate"},
    ]
    for name, value in postgres_settings(audit).items():
        if name in NOT_ON_AURORA or name in ALREADY_SET:
            continue
        parameters.append(
            {"name": name, "value": _aurora_value(value), "apply_method": "immediate"}
        )
    return parameters
