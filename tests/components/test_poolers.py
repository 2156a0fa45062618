"""The pooler of every pooled server, per cloud, asserted on the offline plan: settings
from the tier, parents and dependencies, and the connection facts apps read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.planview import Plan, catalog_data, planned
from tests.tenancy.test_cli import assert_bad_input, run_tenancy

AWS_STACKS = ("dev-aws-eu-central-1", "prod-aws-eu-central-1")
AZURE_STACKS = ("dev-azure-westeurope", "prod-azure-westeurope")
PROXY = "aws:rds/proxy:Proxy"
TARGET_GROUP = "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup"
TARGET = "aws:rds/proxyTarget:ProxyTarget"
CLUSTER = "aws:rds/cluster:Cluster"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
AZ_SERVER = "azure-native:dbforpostgresql:Server"
AZ_CONFIG = "azure-native:dbforpostgresql:Configuration"


def _pooling(tier: str) -> dict[str, Any]:
    return {
        "default_pool_size": 10,
        "max_client_connections": 2000,
        "idle_timeout_seconds": 1800,
        "max_connections_percent": 90,
    } | catalog_data()["tiers"][tier].get("pooling", {})


def _shards(plan: Plan) -> set[str]:
    return {t["shard"] for t in plan.tenants.values() if t["shard"]}


def _tier_of_shard(shard: str) -> str:
    return shard.rsplit("-", 1)[0]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_aws_shard_gets_an_rds_proxy_with_tls_iam_and_its_tiers_settings(
    stack: str,
) -> None:
    plan = planned(stack)
    proxies = {
        p["name"].removesuffix("-pooler-proxy").removeprefix("shard-"): p
        for p in plan.of_type(PROXY)
    }
    assert set(proxies) == _shards(plan) and proxies
    clusters = {c["inputs"]["clusterIdentifier"]: c for c in plan.of_type(CLUSTER)}
    for shard, proxy in proxies.items():
        inputs, pooling = proxy["inputs"], _pooling(_tier_of_shard(shard))
        assert inputs["requireTls"] is True and inputs["engineFamily"] == "POSTGRESQL"
        [auth] = inputs["auths"]
        assert auth["iamAuth"] == "REQUIRED" and auth["authScheme"] == "SECRETS"
        assert inputs["idleClientTimeout"] == pooling["idle_timeout_seconds"]
        cluster = clusters[proxy["inputs"]["name"].removesuffix("-proxy")]
        assert auth["secretArn"].endswith(f"secret:rds!{cluster['inputs']['clusterIdentifier']}")
        # The cluster's own private subnets, and a security group of the proxy's own.
        [group] = [
            g
            for g in plan.of_type(SUBNET_GROUP)
            if g["inputs"]["name"] == cluster["inputs"]["clusterIdentifier"]
        ]
        assert inputs["vpcSubnetIds"] == group["inputs"]["subnetIds"]
        [own_sg] = plan.under(plan.by_urn[proxy["parent"]], SECURITY_GROUP)
        [cluster_sg] = plan.under(plan.by_urn[cluster["parent"]], SECURITY_GROUP)
        assert own_sg["inputs"]["description"].startswith("RDS Proxy of")
        assert inputs["vpcSecurityGroupIds"] != cluster["inputs"]["vpcSecurityGroupIds"]
        for rule in own_sg["inputs"]["ingress"] + own_sg["inputs"]["egress"]:
            assert rule["cidrBlocks"] == cluster_sg["inputs"]["ingress"][0]["cidrBlocks"]
            assert rule["fromPort"] == rule["toPort"] == 5432
        [target_group] = plan.under(plan.by_urn[proxy["parent"]], TARGET_GROUP)
        config = target_group["inputs"]["connectionPoolConfig"]
        assert config["maxConnectionsPercent"] == pooling["max_connections_percent"]
        [target] = plan.under(plan.by_urn[proxy["parent"]], TARGET)
        assert target["inputs"]["dbClusterIdentifier"] == cluster["inputs"]["clusterIdentifier"]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_silo_servers_get_no_pooler_unless_their_tier_asks(stack: str) -> None:
    plan = planned(stack)
    assert not [p for p in plan.of_type(PROXY) if p["name"].startswith("silo-")]


@pytest.mark.parametrize("stack", AZURE_STACKS)
def test_every_azure_shard_turns_on_its_builtin_pgbouncer_with_the_tiers_settings(
    stack: str,
) -> None:
    plan = planned(stack)
    servers = {
        s["inputs"]["tags"]["tenancy:shard"]: s
        for s in plan.of_type(AZ_SERVER)
        if "tenancy:shard" in s["inputs"]["tags"]
    }
    assert set(servers) == _shards(plan) and servers
    for shard, server in servers.items():
        pooling = _pooling(_tier_of_shard(shard))
        name = server["inputs"]["serverName"]
        settings = {
            c["inputs"]["configurationName"]: c["inputs"]["value"]
            for c in plan.of_type(AZ_CONFIG)
            if c["inputs"]["serverName"] == name
            and c["inputs"]["configurationName"].startswith("pgbouncer.")
        }
        assert settings == {
            "pgbouncer.enabled": "true",
            "pgbouncer.pool_mode": "TRANSACTION",
            "pgbouncer.default_pool_size": str(pooling["default_pool_size"]),
            "pgbouncer.max_client_conn": str(pooling["max_client_connections"]),
            "pgbouncer.server_idle_timeout": str(pooling["idle_timeout_seconds"]),
            "pgbouncer.max_prepared_statements": "0",
        }
        assert server["inputs"]["sku"]["tier"] != "Burstable"
    silo_names = {
        s["inputs"]["serverName"]
        for s in plan.of_type(AZ_SERVER)
        if s["inputs"]["tags"]["tenancy:isolation"] == "silo"
    }
    assert not [
        c
        for c in plan.of_type(AZ_CONFIG)
        if c["inputs"]["serverName"] in silo_names
        and c["inputs"]["configurationName"].startswith("pgbouncer.")
    ]


@pytest.mark.parametrize("stack", AWS_STACKS + AZURE_STACKS)
def test_connection_facts_point_shared_tenants_at_the_pooler_and_silos_at_their_server(
    stack: str,
) -> None:
    plan = planned(stack)
    facts = plan.outputs["tenants"]
    port = 6432 if "azure" in stack else 5432
    for tenant, row in plan.tenants.items():
        fact = facts[tenant]
        if row["isolation"] == "silo":
            assert "port" not in fact and "server_endpoint" not in fact
            continue
        assert fact["port"] == port and fact["pool_mode"] == "transaction"
        if "aws" in stack:
            assert ".proxy-" in fact["endpoint"] and ".cluster-" in fact["server_endpoint"]
        else:
            assert fact["endpoint"] == fact["server_endpoint"]  # PgBouncer shares the host


def test_bad_pooling_exits_2_with_path_and_fix(tmp_path: Path) -> None:
    data = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "stacks" / "tenants.yaml").read_text()
    )
    data["tiers"]["free"]["pooling"] = {"mode": "session", "default_pool_size": 50}
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "plan.json"
    result = run_tenancy("plan", "dev-aws-eu-central-1", "--catalog", str(path), "--json", str(out))
    found = assert_bad_input(result, "must pool in transaction mode")
    assert {m["path"] for m in found} == {
        "tiers.free.pooling.mode",
        "tiers.free.pooling.default_pool_size",
    }
    assert "fix: remove 'mode'" in result.stderr
    assert not out.exists()
