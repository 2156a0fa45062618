"""Audit logging: every server records who connected and what changed (pgaudit)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import controls as c
from .. import types as t
from ..framework import AUDIT_LOGGING, Ctx, Res, cannot_verify, get, is_unknown, rule

# pgaudit classes every server must record whatever its tier: schema and role changes.
_REQUIRED_CLASSES = ("ddl", "role")
_ON = ("on", "1", "true")


def _unknown(value: Any) -> bool:
    """Not known at plan time (a missing setting is known: it is absent)."""
    return value is not None and is_unknown(value)


def _listed(value: Any, item: str) -> bool:
    return item in [part.strip().lower() for part in str(value).split(",")]


def _settings_findings(settings: Mapping[str, Any], loaded_by: Sequence[str]) -> list[str]:
    """What is missing from a server's settings (name -> value) for an audit trail."""
    found: list[str] = []
    for name in loaded_by:
        value = settings.get(name)
        if _unknown(value):
            found.append(cannot_verify(name, value))
        elif value is None or not (_listed(value, "pgaudit") or str(value).lower() in _ON):
            found.append(f"{name} is {value}; it must load pgaudit")
    classes = settings.get("pgaudit.log")
    if _unknown(classes):
        found.append(cannot_verify("pgaudit.log", classes))
    elif classes is None:
        found.append("pgaudit.log is not set; it must include ddl and role")
    elif not _listed(classes, "all"):
        missing = [k for k in _REQUIRED_CLASSES if not _listed(classes, k)]
        if missing:
            found.append(f"pgaudit.log is {classes}; it must include {' and '.join(missing)}")
    for event in ("log_connections", "log_disconnections"):
        value = settings.get(event)
        if not _unknown(value) and str(value).lower() not in _ON:
            found.append(f"{event} is {value}; it must be on")
    return found


@rule(
    id="aws-rds-parametergroup-enable-pgaudit",
    description="Aurora cluster parameter groups preload pgaudit, record at least ddl and role, and log connections and disconnections; clusters export that log.",
    why="Without pgaudit a server keeps no record of who changed a schema or a role: HIPAA 164.312(b) and PCI DSS 10.2 ask for exactly that trail, and an incident cannot be reconstructed.",
    remediation="Add shared_preload_libraries=pg_stat_statements,pgaudit, pgaudit.role=rds_pgaudit, pgaudit.log=ddl,role (plus write when regulated), log_connections=1 and log_disconnections=1 to the cluster parameter group (components/aws/audit_logging.py); export the postgresql log.",
    severity="high",
    enforcement="mandatory",
    controls=c.AUDIT_LOGGING,
    cloud="aws",
    family="audit",
    types=[t.RDS_CLUSTER_PARAMS, t.RDS_CLUSTER],
    matrix=[AUDIT_LOGGING],
)
def aws_pgaudit(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str] | None:
    if resource_type == t.RDS_CLUSTER:
        exports = props.get("enabledCloudwatchLogsExports")
        if is_unknown(exports):
            return [cannot_verify("enabledCloudwatchLogsExports", exports)]
        if "postgresql" not in (exports or ()):
            return ["the postgresql log (pgaudit's records) is not exported"]
        return []
    family = props.get("family")
    if isinstance(family, str) and "postgres" not in family:
        return None
    settings = {
        get(p, "name"): get(p, "value")
        for p in props.get("parameters") or ()
        if isinstance(p, Mapping)
    }
    return _settings_findings(settings, ["shared_preload_libraries"])


@rule(
    id="azure-postgresql-configuration-enable-pgaudit",
    description="Every Flexible Server allow-lists and preloads pgaudit, records at least ddl and role, and logs connections and disconnections, as server configurations.",
    why="Without pgaudit a server keeps no record of who changed a schema or a role: HIPAA 164.312(b) and PCI DSS 10.2 ask for exactly that trail, and an incident cannot be reconstructed.",
    remediation="Add dbforpostgresql.Configuration resources, chained one after another: azure.extensions=pgaudit, shared_preload_libraries=pg_stat_statements,pgaudit, pgaudit.log=ddl,role, log_connections=on, log_disconnections=on (components/azure/audit_logging.py).",
    severity="high",
    enforcement="mandatory",
    controls=c.AUDIT_LOGGING,
    cloud="azure",
    family="audit",
    kind="stack",
    types=[t.AZ_SERVER],
    matrix=[AUDIT_LOGGING],
)
def azure_pgaudit(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    by_server: dict[str, dict[str, Any]] = {}  # server URN or serverName -> its settings
    for r in resources:
        if r.type == t.AZ_CONFIGURATION:
            for key in {*r.dependencies, str(r.props.get("serverName"))}:
                name = r.props.get("configurationName")
                by_server.setdefault(key, {})[str(name)] = r.props.get("value")
    results = []
    for server in resources:
        # Read replicas replay their primary's WAL; the primary's trail covers their writes.
        if server.type != t.AZ_SERVER or server.props.get("createMode") == "Replica":
            continue
        settings = {**by_server.get(str(server.props.get("serverName")), {})}
        settings.update(by_server.get(server.urn, {}))
        found = _settings_findings(settings, ["azure.extensions", "shared_preload_libraries"])
        results.append((server.urn, found))
    return results


@rule(
    id="gcp-sql-instance-enable-pgaudit",
    description="Cloud SQL instances set cloudsql.enable_pgaudit=on, record at least ddl and role, and log connections and disconnections (database flags).",
    why="Without pgaudit a server keeps no record of who changed a schema or a role: HIPAA 164.312(b) and PCI DSS 10.2 ask for exactly that trail, and an incident cannot be reconstructed.",
    remediation="Add database flags cloudsql.enable_pgaudit=on, pgaudit.log=ddl,role, log_connections=on and log_disconnections=on (components/gcp/audit_logging.py); enable Data Access audit logs for Cloud SQL on the project.",
    severity="high",
    enforcement="mandatory",
    controls=c.AUDIT_LOGGING,
    cloud="gcp",
    family="audit",
    types=[t.SQL_INSTANCE],
    matrix=[AUDIT_LOGGING],
)
def gcp_pgaudit(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str] | None:
    flags = get(props, "settings", "databaseFlags")
    if _unknown(flags):
        return [cannot_verify("settings.databaseFlags", flags)]
    if props.get("masterInstanceName"):
        return None  # a read replica copies its primary's flags; the primary is checked
    settings = {get(f, "name"): get(f, "value") for f in flags or () if isinstance(f, Mapping)}
    return _settings_findings(settings, ["cloudsql.enable_pgaudit"])


RULES = (aws_pgaudit, azure_pgaudit, gcp_pgaudit)
