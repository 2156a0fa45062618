"""Connection poolers: TLS and IAM auth on RDS Proxy, private subnets only, and transaction
pooling on pool-tier servers (session pooling would hold one server connection per client,
and tenancy's isolation is built for per-transaction tenant context)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import controls as c
from .. import types as t
from ..framework import (
    POOLER_IAM,
    POOLER_PRIVATE,
    POOLER_TLS,
    POOLER_TRANSACTION,
    UNKNOWN,
    Ctx,
    Res,
    cannot_verify,
    is_unknown,
    rule,
)

ISOLATION_TAG = "tenancy:isolation"


@rule(
    id="aws-rds-proxy-enable-require-tls",
    description="Every RDS Proxy requires TLS from its clients (requireTls=true, set explicitly).",
    why="Without requireTls the proxy accepts clear-text client connections, so IAM tokens and tenant rows cross the VPC readable, even though the cluster behind it forces TLS.",
    remediation="Set requireTls=true on the aws.rds.Proxy.",
    severity="high",
    enforcement="mandatory",
    controls=c.IN_TRANSIT,
    cloud="aws",
    family="pooling",
    types=[t.RDS_PROXY],
    matrix=[POOLER_TLS],
)
def aws_proxy_tls(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    value = props.get("requireTls")
    if is_unknown(value) and value is not None:
        return [cannot_verify("requireTls", value)]
    if value is not True:
        return [f"requireTls is {value}; it must be true (the provider default is false)"]
    return []


@rule(
    id="aws-rds-proxy-enable-iam-auth",
    description="Every RDS Proxy requires IAM authentication from clients (each auth has iamAuth=REQUIRED, or defaultAuthScheme=IAM_AUTH).",
    why="With iamAuth DISABLED a client needs only the database password, a long-lived secret; IAM tokens are short-lived, tied to a role and logged in CloudTrail.",
    remediation="Set iamAuth: REQUIRED on every entry of auths (or defaultAuthScheme: IAM_AUTH).",
    severity="high",
    enforcement="mandatory",
    controls=(c.HIPAA_ACCESS, c.SOC2_CC6_1, c.ISO_A8_24),
    cloud="aws",
    family="pooling",
    types=[t.RDS_PROXY],
    matrix=[POOLER_IAM],
)
def aws_proxy_iam(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    if props.get("defaultAuthScheme") == "IAM_AUTH":
        return []
    auths = props.get("auths")
    if is_unknown(auths) and auths is not None:
        return [cannot_verify("auths", auths)]
    if not isinstance(auths, list) or not auths:
        return ["no auths and no defaultAuthScheme IAM_AUTH: clients would not use IAM"]
    found = []
    for index, auth in enumerate(auths):
        value = auth.get("iamAuth") if isinstance(auth, Mapping) else None
        if is_unknown(value) and value is not None:
            found.append(cannot_verify(f"auths[{index}].iamAuth", value))
        elif value != "REQUIRED":
            found.append(f"auths[{index}].iamAuth is {value}; it must be REQUIRED")
    return found


def _private_subnets(resources: Sequence[Res]) -> set[str] | None:
    """The subnets of the stack's DB subnet groups (the servers' private subnets, which the
    network rules check); None when one of them is not known at plan time."""
    subnets: set[str] = set()
    for r in resources:
        if r.type != t.RDS_SUBNET_GROUP:
            continue
        ids = r.props.get("subnetIds")
        if not isinstance(ids, list) or any(not isinstance(i, str) for i in ids):
            return None
        subnets.update(ids)
    return subnets


@rule(
    id="aws-rds-proxy-disallow-public-subnets",
    description="Every RDS Proxy sits only in subnets of the stack's private DB subnet groups.",
    why="A proxy in a public subnet can be reached from outside the private network: it is a front door to the database that the cluster's own private placement no longer guards.",
    remediation="Set vpcSubnetIds to the private subnets the cluster's DB subnet group uses.",
    severity="high",
    enforcement="mandatory",
    controls=c.NO_PUBLIC,
    cloud="aws",
    family="pooling",
    kind="stack",
    types=[t.RDS_PROXY],
    matrix=[POOLER_PRIVATE],
)
def aws_proxy_private(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    private = _private_subnets(resources)
    results = []
    for proxy in resources:
        if proxy.type != t.RDS_PROXY:
            continue
        ids = proxy.props.get("vpcSubnetIds")
        if private is None:
            what = "the private subnets of the DB subnet groups"
            results.append((proxy.urn, [cannot_verify(what, UNKNOWN)]))
            continue
        if not isinstance(ids, list) or not ids or any(not isinstance(i, str) for i in ids):
            results.append((proxy.urn, [cannot_verify("vpcSubnetIds", ids)]))
            continue
        outside = [i for i in ids if i not in private]
        results.append(
            (
                proxy.urn,
                [f"vpcSubnetIds include {outside}, which no private DB subnet group uses"]
                if outside
                else [],
            )
        )
    return results


def _pgbouncer_settings(resources: Sequence[Res]) -> dict[str, dict[str, Any]]:
    """serverName -> {pgbouncer.* parameter: value} of Azure's built-in PgBouncer."""
    settings: dict[str, dict[str, Any]] = {}
    for r in resources:
        name = r.props.get("configurationName")
        if r.type == t.AZ_CONFIGURATION and isinstance(name, str) and name.startswith("pgbouncer."):
            settings.setdefault(str(r.props.get("serverName")), {})[name] = r.props.get("value")
    return settings


@rule(
    id="azure-postgresql-configuration-configure-transaction-pool-mode",
    description="A pool-tier Flexible Server whose built-in PgBouncer is on pools in transaction mode (pgbouncer.pool_mode=TRANSACTION).",
    why="Session pooling ties one server connection to each client for its lifetime, so a shard of 100 tenants runs out of connections; tenancy sets the tenant per transaction precisely so that connections can be shared.",
    remediation="Set the server's pgbouncer.pool_mode configuration to TRANSACTION (the pooling section's default for bridge and pool tiers).",
    severity="medium",
    enforcement="mandatory",
    controls=c.AUTOSCALING + c.SEGREGATION,
    cloud="azure",
    family="pooling",
    kind="stack",
    types=[t.AZ_SERVER],
    matrix=[POOLER_TRANSACTION],
)
def azure_transaction_mode(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    by_server = _pgbouncer_settings(resources)
    results = []
    for server in resources:
        tags = server.props.get("tags")
        if server.type != t.AZ_SERVER or not isinstance(tags, Mapping):
            continue
        if tags.get(ISOLATION_TAG) != "pool":
            continue
        pgbouncer = by_server.get(str(server.props.get("serverName")), {})
        if str(pgbouncer.get("pgbouncer.enabled", "false")).lower() != "true":
            continue  # no pooler: nothing to check (validation requires one for pool tiers)
        mode = pgbouncer.get("pgbouncer.pool_mode")
        if is_unknown(mode):
            results.append((server.urn, [cannot_verify("pgbouncer.pool_mode", mode)]))
        elif str(mode).upper() != "TRANSACTION":
            results.append((server.urn, [f"pgbouncer.pool_mode is {mode}; it must be TRANSACTION"]))
        else:
            results.append((server.urn, []))
    return results


RULES = (aws_proxy_tls, aws_proxy_iam, aws_proxy_private, azure_transaction_mode)
