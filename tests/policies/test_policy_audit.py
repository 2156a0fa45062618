"""The audit-logging rules: a compliant baseline, then one change per violation."""

from __future__ import annotations

from typing import Any

import pytest

from components.aws.audit_logging import aurora_audit_parameters
from components.azure.audit_logging import audit_parameter_values
from components.gcp.audit_logging import cloudsql_audit_flags
from components.model.audit import ServerAudit
from policies.rules import BY_ID
from tests.support.policy_baselines import baseline, changed, ctx, res, urn

AZ_SERVER = "azure-native:dbforpostgresql:Server"
AZ_CONFIG = "azure-native:dbforpostgresql:Configuration"
SERVER_URN = urn("silo-stark-db-server", AZ_SERVER)


def _aws_params(**overrides: str | None) -> dict[str, Any]:
    """The baseline group plus what components/aws/audit_logging.py adds."""
    kind, props = baseline("aws_params")
    parameters = [*props["parameters"], *aurora_audit_parameters(ServerAudit())]
    for name, value in overrides.items():
        parameters = [p for p in parameters if p["name"] != name]
        if value is not None:
            parameters.append({"name": name, "value": value, "applyMethod": "immediate"})
    return changed(props, "parameters", parameters)


def _aws(props: dict[str, Any]) -> list[str] | None:
    return BY_ID["aws-rds-parametergroup-enable-pgaudit"].check(
        "aws:rds/clusterParameterGroup:ClusterParameterGroup", props, ctx()
    )


def test_aurora_group_with_pgaudit_passes() -> None:
    assert _aws(_aws_params()) == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"shared_preload_libraries": "pg_stat_statements"},
            "shared_preload_libraries is pg_stat_statements; it must load pgaudit",
        ),
        ({"pgaudit.log": None}, "pgaudit.log is not set; it must include ddl and role"),
        ({"pgaudit.log": "ddl"}, "pgaudit.log is ddl; it must include role"),
        ({"log_disconnections": "0"}, "log_disconnections is 0; it must be on"),
        (
            {"shared_preload_libraries": "<unknown>"},
            "cannot verify shared_preload_libraries: it is not known at plan time",
        ),
    ],
)
def test_aurora_group_without_an_audit_trail_fails(
    overrides: dict[str, str | None], message: str
) -> None:
    assert _aws(_aws_params(**overrides)) == [message]


def test_aurora_cluster_must_export_the_log() -> None:
    kind, props = baseline("aws_cluster")
    rule = BY_ID["aws-rds-parametergroup-enable-pgaudit"]
    assert rule.check(kind, props, ctx()) == []
    assert rule.check(kind, changed(props, "enabledCloudwatchLogsExports", []), ctx()) == [
        "the postgresql log (pgaudit's records) is not exported"
    ]


def _azure(**overrides: str | None) -> list[Any]:
    kind, props = baseline("azure_server")
    values: dict[str, Any] = {"log_connections": "on", **audit_parameter_values(ServerAudit())}
    for name, value in overrides.items():
        values.pop(name)
        if value is not None:
            values[name] = value
    configs = [
        res(
            f"silo-stark-db-{name}",
            AZ_CONFIG,
            {"configurationName": name, "serverName": "tnc-prod-stark-9da4a4", "value": value},
            deps=(SERVER_URN,),
        )
        for name, value in values.items()
    ]
    return [res("silo-stark-db-server", kind, props), *configs]


def _run_azure(resources: list[Any]) -> list[tuple[str, list[str]]]:
    return BY_ID["azure-postgresql-configuration-enable-pgaudit"].check(resources, ctx())


def test_flexible_server_with_pgaudit_passes() -> None:
    assert _run_azure(_azure()) == [(SERVER_URN, [])]


def test_flexible_server_without_pgaudit_allow_listed_fails() -> None:
    assert _run_azure(_azure(**{"azure.extensions": None})) == [
        (SERVER_URN, ["azure.extensions is None; it must load pgaudit"])
    ]


def test_flexible_server_recording_too_little_fails() -> None:
    assert _run_azure(_azure(**{"pgaudit.log": "write"})) == [
        (SERVER_URN, ["pgaudit.log is write; it must include ddl and role"])
    ]


def _gcp(**overrides: str | None) -> dict[str, Any]:
    kind, props = baseline("gcp_sql")
    flags = {"log_connections": "on", **cloudsql_audit_flags(ServerAudit())}
    for name, value in overrides.items():
        flags.pop(name)
        if value is not None:
            flags[name] = value
    listed = [{"name": k, "value": v} for k, v in flags.items()]
    return changed(props, "settings.databaseFlags", listed)


def _run_gcp(props: dict[str, Any]) -> list[str] | None:
    return BY_ID["gcp-sql-instance-enable-pgaudit"].check(
        "gcp:sql/databaseInstance:DatabaseInstance", props, ctx()
    )


def test_cloud_sql_with_pgaudit_passes() -> None:
    assert _run_gcp(_gcp()) == []


def test_cloud_sql_with_pgaudit_off_fails() -> None:
    assert _run_gcp(_gcp(**{"cloudsql.enable_pgaudit": "off"})) == [
        "cloudsql.enable_pgaudit is off; it must load pgaudit"
    ]


def test_cloud_sql_without_flags_fails() -> None:
    kind, props = baseline("gcp_sql")
    assert _run_gcp(props) == [
        "cloudsql.enable_pgaudit is None; it must load pgaudit",
        "pgaudit.log is not set; it must include ddl and role",
        "log_connections is None; it must be on",
        "log_disconnections is None; it must be on",
    ]
