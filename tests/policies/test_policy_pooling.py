"""The pooler's stack rules: RDS Proxy in private subnets only, transaction pooling on
Azure pool servers. A compliant baseline, then one change per violation."""

from __future__ import annotations

from typing import Any

from policies.rules import BY_ID
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
