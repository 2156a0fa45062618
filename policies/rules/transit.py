"""Encryption in transit: the server refuses clear-text connections (and logs who connects)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import controls as c
from .. import types as t
from ..framework import POOLER_TLS, TLS_ONLY, Ctx, Res, cannot_verify, get, is_unknown, rule


def _parameters(props: Mapping[str, Any]) -> dict[str, Any]:
    return {
        get(p, "name"): get(p, "value")
        for p in props.get("parameters") or ()
        if isinstance(p, Mapping)
    }


@rule(
    id="aws-rds-parametergroup-enable-force-ssl",
    description="PostgreSQL parameter groups set rds.force_ssl=1, and every Aurora cluster or RDS instance uses such a custom group.",
    why="Without rds.force_ssl the server accepts clear-text connections, so credentials and rows cross the VPC readable by anyone who can capture traffic.",
    remediation="Add {name: rds.force_ssl, value: '1'} (and ssl_min_protocol_version TLSv1.2) to the cluster parameter group and set dbClusterParameterGroupName (parameterGroupName for RDS) to it.",
    severity="high",
    enforcement="mandatory",
    controls=c.IN_TRANSIT,
    cloud="aws",
    family="transit",
    types=[t.RDS_CLUSTER_PARAMS, t.RDS_PARAMS, t.RDS_CLUSTER, t.RDS_INSTANCE],
    matrix=[TLS_ONLY],
)
def aws_force_ssl(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str] | None:
    if resource_type in (t.RDS_CLUSTER, t.RDS_INSTANCE):
        key = (
            "dbClusterParameterGroupName"
            if resource_type == t.RDS_CLUSTER
            else "parameterGroupName"
        )
        group = props.get(key)
        if is_unknown(group):
            return [cannot_verify(f"{key} (the TLS-only parameter group)", group)]
        if str(group).startswith("default."):
            return [f"{key} is {group}; the default group does not force TLS"]
        return []
    family = props.get("family")
    if isinstance(family, str) and "postgres" not in family:
        return None
    value = _parameters(props).get("rds.force_ssl")
    if value is None:
        return ["rds.force_ssl is not set; it must be 1"]
    if str(value) != "1":
        return [f"rds.force_ssl is {value}; it must be 1"]
    return []


@rule(
    id="azure-postgresql-configuration-enable-secure-transport",
    description="Every Flexible Server has require_secure_transport=on as a server configuration.",
    why="With require_secure_transport off the server accepts clear-text connections from the delegated subnet.",
    remediation="Add a dbforpostgresql.Configuration named require_secure_transport with value 'on' and source 'user-override' for the server.",
    severity="high",
    enforcement="mandatory",
    controls=c.IN_TRANSIT,
    cloud="azure",
    family="transit",
    kind="stack",
    types=[t.AZ_SERVER],
    matrix=[TLS_ONLY, POOLER_TLS],  # the built-in PgBouncer follows the server setting
)
def azure_secure_transport(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    by_server: dict[str, list[Res]] = {}  # server URN or serverName -> its settings
    for r in resources:
        if (
            r.type == t.AZ_CONFIGURATION
            and r.props.get("configurationName") == "require_secure_transport"
        ):
            for key in {*r.dependencies, str(r.props.get("serverName"))}:
                by_server.setdefault(key, []).append(r)
    results = []
    for server in resources:
        if server.type != t.AZ_SERVER:
            continue
        name = server.props.get("serverName")
        mine = {id(s): s for s in by_server.get(server.urn, [])}
        if isinstance(name, str):
            mine.update({id(s): s for s in by_server.get(name, [])})
        if not mine:
            results.append(
                (server.urn, ["no require_secure_transport configuration; it must be on"])
            )
            continue
        found = []
        for setting in mine.values():
            value = setting.props.get("value")
            if is_unknown(value):
                found.append(cannot_verify("require_secure_transport", value))
            elif str(value).lower() != "on":
                found.append(f"require_secure_transport is {value}; it must be on")
        results.append((server.urn, found))
    return results


_SSL_ONLY = ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED")


@rule(
    id="gcp-sql-instance-enable-ssl-only",
    description="Cloud SQL instances accept encrypted connections only (sslMode ENCRYPTED_ONLY or stricter).",
    why="ALLOW_UNENCRYPTED_AND_ENCRYPTED lets clients connect in clear text over the VPC peering.",
    remediation="Set settings.ipConfiguration.sslMode to ENCRYPTED_ONLY (or TRUSTED_CLIENT_CERTIFICATE_REQUIRED).",
    severity="high",
    enforcement="mandatory",
    controls=c.IN_TRANSIT,
    cloud="gcp",
    family="transit",
    types=[t.SQL_INSTANCE],
    matrix=[TLS_ONLY],
)
def gcp_ssl_only(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    mode = get(props, "settings", "ipConfiguration", "sslMode")
    if is_unknown(mode):
        return [cannot_verify("settings.ipConfiguration.sslMode", mode)]
    if mode not in _SSL_ONLY:
        return [
            f"sslMode is {mode}; it must be ENCRYPTED_ONLY or TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
        ]
    return []


_TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")


@rule(
    id="aws-rds-parametergroup-configure-tls-min-version",
    description="PostgreSQL parameter groups pin ssl_min_protocol_version to TLSv1.2 or later.",
    why="TLS 1.0/1.1 have known weaknesses; PCI DSS 4.2.1 asks for strong cryptography only. Advisory because recent engine versions already default to TLSv1.2.",
    remediation="Add {name: ssl_min_protocol_version, value: TLSv1.2} to the parameter group.",
    severity="medium",
    enforcement="advisory",
    controls=(c.PCI_4_2, c.HIPAA_TRANSMISSION, c.ISO_A8_24),
    cloud="aws",
    family="transit",
    types=[t.RDS_CLUSTER_PARAMS, t.RDS_PARAMS],
)
def aws_tls_min_version(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str] | None:
    family = props.get("family")
    if isinstance(family, str) and "postgres" not in family:
        return None
    value = _parameters(props).get("ssl_min_protocol_version")
    if value is None:
        return ["ssl_min_protocol_version is not set; pin it to TLSv1.2"]
    if value not in _TLS_VERSIONS:
        return [f"ssl_min_protocol_version is {value}; it should be TLSv1.2 or TLSv1.3"]
    return []


@rule(
    id="aws-rds-cluster-enable-log-exports",
    description="Aurora clusters export the postgresql log (connections, errors) to CloudWatch Logs.",
    why="Connection logs are the evidence of who reached a tenant's data; kept only on the instance they are lost with it. Advisory: a detective control, not a preventive one.",
    remediation="Set enabledCloudwatchLogsExports to include postgresql (and log_connections=1 in the parameter group).",
    severity="low",
    enforcement="advisory",
    controls=(c.SOC2_CC7_1, c.HIPAA_ACCESS, c.ISO_A8_9),
    cloud="aws",
    family="transit",
    types=[t.RDS_CLUSTER, t.RDS_INSTANCE],
)
def aws_log_exports(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    exports = props.get("enabledCloudwatchLogsExports")
    if exports == "<unknown>":
        return [cannot_verify("enabledCloudwatchLogsExports", exports)]
    return (
        []
        if "postgresql" in (exports or ())
        else ["the postgresql log is not exported to CloudWatch Logs"]
    )


RULES = (aws_force_ssl, aws_tls_min_version, aws_log_exports, azure_secure_transport, gcp_ssl_only)
