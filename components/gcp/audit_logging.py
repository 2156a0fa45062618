"""Cloud SQL's side of audit logging: database flags that enable and configure pgaudit.

Flags are exact lowercase strings, and a server default is not an explicit setting, so
every one is set. ``cloudsql.enable_pgaudit`` restarts the instance; its records arrive
as Data Access audit logs (Cloud Audit Logs must have them on for the project). The
in-database plan creates the extension once loaded (``components/postgres/audit.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

from components.model.audit import ServerAudit, postgres_settings


def cloudsql_audit_flags(audit: ServerAudit) -> Mapping[str, str]:
    return {"cloudsql.enable_pgaudit": "on", **postgres_settings(audit)}
