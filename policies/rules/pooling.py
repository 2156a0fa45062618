"""Connection poolers: TLS and IAM auth on RDS Proxy, private subnets only, and transaction
pooling on pool-tier servers (session pooling would hold one server connection per client,
and tenancy's isolation is built for per-transaction tenant context)."""

from __future__ import annotations

import re
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
    get,
    is_production,
    is_unknown,
    rule,
    tenancy_tags,
)

ISOLATION_TAG = "tenancy:isolation"
DIGEST = re.compile(r"^[\w.\-/:]+@sha256:[0-9a-f]{64}$")


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


# -- GCP: PgBouncer on the cell's cluster (components/k8s/pgbouncer.py) ----------------

PGBOUNCER_INI = "pgbouncer.ini"
TLS_MODES = ("require", "verify-ca", "verify-full")
VERIFYING_MODES = ("verify-ca", "verify-full")  # the server's certificate is checked


def _is_pgbouncer(props: Mapping[str, Any]) -> bool:
    return get(props, "metadata", "labels", "app.kubernetes.io/name") == "pgbouncer"


def _ini(props: Mapping[str, Any]) -> dict[str, str] | str | None:
    """The ``[pgbouncer]`` settings of a pooler ConfigMap; UNKNOWN while unresolved; None
    for any other ConfigMap."""
    text = get(props, "data", PGBOUNCER_INI)
    if text is None or not _is_pgbouncer(props):
        return None
    if is_unknown(text):
        return UNKNOWN
    settings, section = {}, ""
    for line in str(text).splitlines():
        line = line.split(";", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif "=" in line and section == "pgbouncer":
            key, value = line.split("=", 1)
            settings[key.strip()] = value.strip()
    return settings


@rule(
    id="gcp-pgbouncer-config-enable-require-tls",
    description="The GCP pooler (PgBouncer) requires TLS from its clients (client_tls_sslmode require or verify-*) and verifies its server's certificate against a CA file (server_tls_sslmode verify-ca or verify-full, server_tls_ca_file set).",
    why="PgBouncer's defaults are no TLS to clients and 'prefer' to the server: tenant rows and passwords would cross the cluster network in clear text even though Cloud SQL itself only accepts TLS. With server_tls_sslmode=require the server connection is encrypted but not authenticated: anything that answers on the server's private IP could pose as the database and collect every tenant's logins and rows.",
    remediation="Set client_tls_sslmode=require (with the cert-manager certificate), server_tls_sslmode=verify-ca and server_tls_ca_file to the Cloud SQL instance's CA bundle in the pooler's pgbouncer.ini (components/k8s/pgbouncer.py does; verify-full fails on Cloud SQL because its certificate names the instance, not the IP).",
    severity="high",
    enforcement="mandatory",
    controls=c.IN_TRANSIT,
    cloud="gcp",
    family="pooling",
    types=[t.K8S_CONFIG_MAP],
    matrix=[POOLER_TLS],
)
def gcp_pgbouncer_tls(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str] | None:
    settings = _ini(props)
    if settings is None:
        return None
    if not isinstance(settings, dict):
        return [cannot_verify(PGBOUNCER_INI, settings)]
    problems = []
    client, server = settings.get("client_tls_sslmode"), settings.get("server_tls_sslmode")
    if client not in TLS_MODES:
        problems.append(
            f"client_tls_sslmode is {client or 'unset'}; it must be one of {', '.join(TLS_MODES)}"
        )
    if server not in VERIFYING_MODES:
        problems.append(
            f"server_tls_sslmode is {server or 'unset'}; it must be one of "
            f"{', '.join(VERIFYING_MODES)} (require encrypts but does not verify the server)"
        )
    if not settings.get("server_tls_ca_file"):
        problems.append(
            "server_tls_ca_file is unset; it must name the file of the server's CA "
            "certificates, which PgBouncer verifies the server against"
        )
    return problems


@rule(
    id="gcp-pgbouncer-config-configure-transaction-pool-mode",
    description="The GCP pooler of a shared (bridge or pool) server pools in transaction mode (pool_mode=transaction).",
    why="Session pooling ties one server connection to each client for its lifetime, so a shard of 100 tenants runs out of connections; tenancy sets the tenant per transaction precisely so that connections can be shared.",
    remediation="Set pool_mode = transaction in the pooler's pgbouncer.ini (the pooling section's default for bridge and pool tiers).",
    severity="medium",
    enforcement="mandatory",
    controls=c.AUTOSCALING + c.SEGREGATION,
    cloud="gcp",
    family="pooling",
    types=[t.K8S_CONFIG_MAP],
    matrix=[POOLER_TRANSACTION],
)
def gcp_pgbouncer_transaction(
    resource_type: str, props: Mapping[str, Any], ctx: Ctx
) -> list[str] | None:
    settings = _ini(props)
    isolation = tenancy_tags(get(props, "metadata", "labels")).get("isolation")
    if settings is None or isolation == "silo":
        return None  # a silo may pool per session: it serves one tenant
    if not isinstance(settings, dict):
        return [cannot_verify(PGBOUNCER_INI, settings)]
    mode = settings.get("pool_mode", "session")  # PgBouncer's own default
    return [] if mode == "transaction" else [f"pool_mode is {mode}; it must be transaction"]


@rule(
    id="gcp-pgbouncer-service-disallow-public-exposure",
    description="The GCP pooler's Service is ClusterIP only: no LoadBalancer, no NodePort, no external IPs.",
    why="A LoadBalancer or NodePort Service puts the pooler, a front door to the tenant database, outside the cluster network that its NetworkPolicy and Cloud SQL's private IP guard.",
    remediation="Set the pooler Service's type to ClusterIP and remove externalIPs (components/k8s/pgbouncer.py does); apps reach it by its cluster DNS name.",
    severity="high",
    enforcement="mandatory",
    controls=c.NO_PUBLIC,
    cloud="gcp",
    family="pooling",
    types=[t.K8S_SERVICE],
    matrix=[POOLER_PRIVATE],
)
def gcp_pgbouncer_private(
    resource_type: str, props: Mapping[str, Any], ctx: Ctx
) -> list[str] | None:
    if not _is_pgbouncer(props):
        return None
    kind = get(props, "spec", "type")
    if is_unknown(kind):
        return [cannot_verify("spec.type", kind)]
    found = []
    if (kind or "ClusterIP") != "ClusterIP":
        found.append(f"spec.type is {kind}; the pooler's Service must be ClusterIP")
    if get(props, "spec", "externalIPs"):
        found.append("spec.externalIPs is set; the pooler must not be reachable from outside")
    return found


@rule(
    id="gcp-pgbouncer-deployment-enable-image-digest",
    description="In production, the GCP pooler runs its image by digest (registry/name@sha256:...).",
    why="A tag can be moved to another build: the pooler sees every tenant's traffic and credentials, so production must run exactly the image that was reviewed.",
    remediation="Set tenancy:app.poolerImage to a digest reference (the default is pinned); docker buildx imagetools inspect IMAGE:TAG prints it.",
    severity="high",
    enforcement="mandatory",
    controls=c.WORKLOAD,
    cloud="gcp",
    family="pooling",
    types=[t.K8S_DEPLOYMENT],
    config_keys=["productionEnvironments"],
)
def gcp_pgbouncer_digest(
    resource_type: str, props: Mapping[str, Any], ctx: Ctx
) -> list[str] | None:
    if not _is_pgbouncer(props):
        return None
    if is_production(tenancy_tags(get(props, "metadata", "labels")), ctx) is False:
        return None
    containers = get(props, "spec", "template", "spec", "containers")
    if is_unknown(containers) or not isinstance(containers, list) or not containers:
        return [cannot_verify("the containers", containers)]
    found = []
    for container in containers:
        image = get(container, "image")
        if is_unknown(image):
            found.append(cannot_verify("image", image))
        elif not DIGEST.match(str(image)):
            found.append(f"container {get(container, 'name')}: image {image} is not a digest")
    return found


RULES = (
    aws_proxy_tls,
    aws_proxy_iam,
    aws_proxy_private,
    azure_transaction_mode,
    gcp_pgbouncer_tls,
    gcp_pgbouncer_transaction,
    gcp_pgbouncer_private,
    gcp_pgbouncer_digest,
)
