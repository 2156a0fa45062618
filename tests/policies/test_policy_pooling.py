"""The pooler's stack rules: RDS Proxy in private subnets only, transaction pooling on
Azure pool servers. A compliant baseline, then one change per violation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from policies.rules import BY_ID
from tests.support.planview import planned
from tests.support.policy_baselines import baseline, changed, ctx, res, urn

PROXY = "aws:rds/proxy:Proxy"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
AZ_CONFIG = "azure-native:dbforpostgresql:Configuration"
PROXY_URN = urn("shard-free-01-pooler-proxy", PROXY)


def _run(rule_id: str, resources: list[Any]) -> list[tuple[str, list[str]]]:
    return BY_ID[rule_id].check(resources, ctx())


def _aws(proxy_subnets: Any = ("subnet-a", "subnet-b"), group_subnets: Any = None) -> list[Any]:
    _kind, props = baseline("aws_proxy")
    props = changed(props, "vpcSubnetIds", list(proxy_subnets) if proxy_subnets else proxy_subnets)
    group = {"name": "tnc-prod-free-01", "subnetIds": group_subnets or ["subnet-a", "subnet-b"]}
    return [
        res("shard-free-01-pooler-proxy", PROXY, props),
        res("shard-free-01-db-subnets", SUBNET_GROUP, group),
    ]


def test_proxy_in_the_private_db_subnets_passes() -> None:
    assert _run("aws-rds-proxy-disallow-public-subnets", _aws()) == [(PROXY_URN, [])]


def test_proxy_in_another_subnet_fails() -> None:
    assert _run("aws-rds-proxy-disallow-public-subnets", _aws(("subnet-a", "subnet-public"))) == [
        (
            PROXY_URN,
            ["vpcSubnetIds include ['subnet-public'], which no private DB subnet group uses"],
        )
    ]


def test_proxy_subnets_unknown_cannot_be_verified() -> None:
    assert _run("aws-rds-proxy-disallow-public-subnets", _aws(group_subnets="<unknown>")) == [
        (
            PROXY_URN,
            [
                "cannot verify the private subnets of the DB subnet groups: it is not known at plan time"
            ],
        )
    ]


def _azure(
    isolation: str = "pool", mode: str | None = "TRANSACTION", enabled: str = "true"
) -> list[Any]:
    kind, props = baseline("azure_server")
    props = changed(props, ("tags", "tenancy:isolation"), isolation)
    server = res("shard-free-01-db-server", kind, props)
    name = props["serverName"]
    settings = {"pgbouncer.enabled": enabled} | ({"pgbouncer.pool_mode": mode} if mode else {})
    configs = [
        res(
            f"shard-free-01-pooler-{key}",
            AZ_CONFIG,
            {
                "configurationName": key,
                "serverName": name,
                "source": "user-override",
                "value": value,
            },
        )
        for key, value in settings.items()
    ]
    return [server, *configs]


RULE = "azure-postgresql-configuration-configure-transaction-pool-mode"


def test_pool_server_pooling_in_transaction_mode_passes() -> None:
    assert _run(RULE, _azure()) == [(_azure()[0].urn, [])]


def test_pool_server_pooling_in_session_mode_fails() -> None:
    resources = _azure(mode="SESSION")
    assert _run(RULE, resources) == [
        (resources[0].urn, ["pgbouncer.pool_mode is SESSION; it must be TRANSACTION"])
    ]


def test_pool_server_without_a_pool_mode_cannot_be_verified() -> None:
    resources = _azure(mode=None)
    assert _run(RULE, resources) == [
        (resources[0].urn, ["cannot verify pgbouncer.pool_mode: it is not set"])
    ]


def test_silo_server_in_session_mode_is_not_applicable() -> None:
    assert _run(RULE, _azure(isolation="silo", mode="SESSION")) == []


# -- GCP: PgBouncer on the cell's cluster; baselines are the prod plan's own resources ----

GCP_STACK = "prod-gcp-us-central1"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
K8S_SERVICE = "kubernetes:core/v1:Service"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def _pooler(kind: str, tier: str = "free") -> dict[str, Any]:
    [found] = [
        r
        for r in planned(GCP_STACK).of_type(kind)
        if r["name"].startswith(f"shard-{tier}-01-pooler-")
    ]
    return copy.deepcopy(found["inputs"])


def _check(rule_id: str, kind: str, props: dict[str, Any]) -> list[str] | None:
    return BY_ID[rule_id].check(kind, props, ctx(stack=GCP_STACK))


def _with_ini(props: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    ini = props["data"]["pgbouncer.ini"]
    assert old in ini
    return changed(props, ("data", "pgbouncer.ini"), ini.replace(old, new))


TLS_RULE = "gcp-pgbouncer-config-enable-require-tls"


@pytest.mark.parametrize("tier", ["free", "standard"])
def test_pooler_requiring_tls_both_ways_passes(tier: str) -> None:
    assert _check(TLS_RULE, CONFIG_MAP, _pooler(CONFIG_MAP, tier)) == []


def test_pooler_with_optional_client_tls_fails() -> None:
    props = _with_ini(
        _pooler(CONFIG_MAP), "client_tls_sslmode = require", "client_tls_sslmode = allow"
    )
    assert _check(TLS_RULE, CONFIG_MAP, props) == [
        "client_tls_sslmode is allow; it must be one of require, verify-ca, verify-full"
    ]


def test_pooler_without_server_tls_fails() -> None:
    props = _with_ini(_pooler(CONFIG_MAP), "server_tls_sslmode = verify-ca\n", "")
    assert _check(TLS_RULE, CONFIG_MAP, props) == [
        "server_tls_sslmode is unset; it must be one of verify-ca, verify-full"
        " (require encrypts but does not verify the server)"
    ]


def test_pooler_encrypting_without_verifying_the_server_fails() -> None:
    props = _with_ini(
        _pooler(CONFIG_MAP), "server_tls_sslmode = verify-ca", "server_tls_sslmode = require"
    )
    assert _check(TLS_RULE, CONFIG_MAP, props) == [
        "server_tls_sslmode is require; it must be one of verify-ca, verify-full"
        " (require encrypts but does not verify the server)"
    ]


def test_pooler_verifying_the_full_server_name_passes() -> None:
    props = _with_ini(
        _pooler(CONFIG_MAP), "server_tls_sslmode = verify-ca", "server_tls_sslmode = verify-full"
    )
    assert _check(TLS_RULE, CONFIG_MAP, props) == []


def test_pooler_without_the_server_ca_file_fails() -> None:
    props = _with_ini(
        _pooler(CONFIG_MAP), "server_tls_ca_file = /etc/pgbouncer/server-ca/ca.crt\n", ""
    )
    assert _check(TLS_RULE, CONFIG_MAP, props) == [
        "server_tls_ca_file is unset; it must name the file of the server's CA"
        " certificates, which PgBouncer verifies the server against"
    ]


def test_pooler_config_not_known_at_plan_time_cannot_be_verified() -> None:
    props = changed(_pooler(CONFIG_MAP), ("data", "pgbouncer.ini"), "<unknown>")
    [message] = _check(TLS_RULE, CONFIG_MAP, props) or []
    assert message.startswith("cannot verify pgbouncer.ini")


def test_a_configmap_that_is_not_a_pooler_is_not_applicable() -> None:
    props = changed(_pooler(CONFIG_MAP), ("metadata", "labels", "app.kubernetes.io/name"), "x")
    assert _check(TLS_RULE, CONFIG_MAP, props) is None


MODE_RULE = "gcp-pgbouncer-config-configure-transaction-pool-mode"


@pytest.mark.parametrize("tier", ["free", "standard"])
def test_shared_server_pooler_in_transaction_mode_passes(tier: str) -> None:
    assert _check(MODE_RULE, CONFIG_MAP, _pooler(CONFIG_MAP, tier)) == []


@pytest.mark.parametrize("tier", ["free", "standard"])
def test_shared_server_pooler_in_session_mode_fails(tier: str) -> None:
    props = _with_ini(_pooler(CONFIG_MAP, tier), "pool_mode = transaction", "pool_mode = session")
    assert _check(MODE_RULE, CONFIG_MAP, props) == ["pool_mode is session; it must be transaction"]


def test_shared_server_pooler_without_a_pool_mode_fails_as_session() -> None:
    props = _with_ini(_pooler(CONFIG_MAP), "pool_mode = transaction\n", "")
    assert _check(MODE_RULE, CONFIG_MAP, props) == ["pool_mode is session; it must be transaction"]


def test_silo_pooler_in_session_mode_is_not_applicable() -> None:
    props = _with_ini(_pooler(CONFIG_MAP), "pool_mode = transaction", "pool_mode = session")
    props = changed(props, ("metadata", "labels", "tenancy.dev/isolation"), "silo")
    assert _check(MODE_RULE, CONFIG_MAP, props) is None


PRIVATE_RULE = "gcp-pgbouncer-service-disallow-public-exposure"


def test_cluster_ip_pooler_service_passes() -> None:
    assert _check(PRIVATE_RULE, K8S_SERVICE, _pooler(K8S_SERVICE)) == []


@pytest.mark.parametrize("kind", ["LoadBalancer", "NodePort"])
def test_exposed_pooler_service_fails(kind: str) -> None:
    props = changed(_pooler(K8S_SERVICE), "spec.type", kind)
    assert _check(PRIVATE_RULE, K8S_SERVICE, props) == [
        f"spec.type is {kind}; the pooler's Service must be ClusterIP"
    ]


def test_pooler_service_with_external_ips_fails() -> None:
    props = changed(_pooler(K8S_SERVICE), "spec.externalIPs", ["203.0.113.7"])
    assert _check(PRIVATE_RULE, K8S_SERVICE, props) == [
        "spec.externalIPs is set; the pooler must not be reachable from outside"
    ]


DIGEST_RULE = "gcp-pgbouncer-deployment-enable-image-digest"


def test_prod_pooler_by_digest_passes() -> None:
    assert _check(DIGEST_RULE, DEPLOYMENT, _pooler(DEPLOYMENT)) == []


def test_prod_pooler_by_tag_fails() -> None:
    props = _pooler(DEPLOYMENT)
    props["spec"]["template"]["spec"]["containers"][0]["image"] = (
        "ghcr.io/cloudnative-pg/pgbouncer:1.25.1"
    )
    assert _check(DIGEST_RULE, DEPLOYMENT, props) == [
        "container pgbouncer: image ghcr.io/cloudnative-pg/pgbouncer:1.25.1 is not a digest"
    ]


def test_dev_pooler_by_tag_is_not_applicable() -> None:
    props = _pooler(DEPLOYMENT)
    props["spec"]["template"]["spec"]["containers"][0]["image"] = "pgbouncer:1.25.1"
    props = changed(props, ("metadata", "labels", "tenancy.dev/environment"), "dev")
    assert _check(DIGEST_RULE, DEPLOYMENT, props) is None
