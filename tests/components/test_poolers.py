"""The pooler of every pooled server, per cloud, asserted on the offline plan: settings
from the tier, parents and dependencies, and the connection facts apps read."""

from __future__ import annotations

import configparser
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.planview import Plan, catalog_data, planned
from tests.tenancy.test_cli import STACKS, assert_bad_input, run_tenancy

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


@pytest.mark.parametrize("stack", ["dev-aws-eu-central-1", "dev-gcp-us-central1"])
def test_bad_pooling_exits_2_with_path_and_fix(tmp_path: Path, stack: str) -> None:
    data = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "stacks" / "tenants.yaml").read_text()
    )
    data["tiers"]["free"]["pooling"] = {"mode": "session", "default_pool_size": 50}
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "plan.json"
    result = run_tenancy("plan", stack, "--catalog", str(path), "--json", str(out))
    found = assert_bad_input(result, "must pool in transaction mode")
    assert {m["path"] for m in found} == {
        "tiers.free.pooling.mode",
        "tiers.free.pooling.default_pool_size",
    }
    assert "fix: remove 'mode'" in result.stderr
    assert not out.exists()


GCP_STACKS = ("dev-gcp-us-central1", "prod-gcp-us-central1")
PGBOUNCER = "tenancy:k8s:PgBouncer"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
K8S_SERVICE = "kubernetes:core/v1:Service"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
K8S_SECRET = "kubernetes:core/v1:Secret"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
CERTIFICATE = "kubernetes:cert-manager.io/v1:Certificate"
QUOTA = "kubernetes:core/v1:ResourceQuota"
GCP_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"


def _ini(text: str) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser()
    parser.read_string(text)
    return {section: dict(parser[section]) for section in parser.sections()}


def _gcp_poolers(plan: Plan) -> dict[str, dict[str, Any]]:
    return {
        p["name"].removesuffix("-pooler").removeprefix("shard-"): p for p in plan.of_type(PGBOUNCER)
    }


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_every_gcp_shard_gets_pgbouncer_in_its_tier_namespace_with_the_tiers_settings(
    stack: str,
) -> None:
    plan = planned(stack)
    poolers = _gcp_poolers(plan)
    assert set(poolers) == _shards(plan) and poolers
    for shard, pooler in poolers.items():
        tier, pooling = _tier_of_shard(shard), _pooling(_tier_of_shard(shard))
        [config] = plan.under(pooler, CONFIG_MAP)
        assert config["inputs"]["metadata"]["namespace"] == f"tnc-tier-{tier}"
        ini = _ini(config["inputs"]["data"]["pgbouncer.ini"])
        [server] = [
            s
            for s in plan.primaries(GCP_INSTANCE)
            if s["inputs"]["settings"]["userLabels"].get("tenancy-shard") == shard
        ]
        shard_facts = [f for f in plan.outputs["tenants"].values() if f.get("shard") == shard]
        host = shard_facts[0]["server_endpoint"]
        assert ini["databases"] == {"app": f"host={host} port=5432 dbname=app"}
        bouncer = ini["pgbouncer"]
        assert bouncer["pool_mode"] == "transaction"
        assert bouncer["max_client_conn"] == str(pooling["max_client_connections"])
        assert bouncer["server_idle_timeout"] == str(pooling["idle_timeout_seconds"])
        [hpa] = plan.under(pooler, HPA)
        replicas = hpa["inputs"]["spec"]["maxReplicas"]
        # All pods together open at most the tier's pool size per role.
        assert int(bouncer["default_pool_size"]) * replicas <= pooling["default_pool_size"]
        assert hpa["inputs"]["spec"]["minReplicas"] == 2
        assert bouncer["client_tls_sslmode"] == "require"
        assert bouncer["server_tls_sslmode"] == "verify-ca"
        assert bouncer["auth_type"] == "scram-sha-256"
        assert server["inputs"]["settings"]["edition"] == "ENTERPRISE"  # why not managed pooling


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_gcp_pgbouncer_is_hardened_like_the_tiers_workload(stack: str) -> None:
    plan = planned(stack)
    for pooler in plan.of_type(PGBOUNCER):
        [deployment] = plan.under(pooler, DEPLOYMENT)
        pod = deployment["inputs"]["spec"]["template"]["spec"]
        container, reloader = pod["containers"]
        assert [container["name"], reloader["name"]] == ["pgbouncer", "reloader"]
        for each in (container, reloader):
            security = each["securityContext"]
            assert security["runAsNonRoot"] is True and security["runAsUser"] != 0
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"] == {"drop": ["ALL"]}
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}
            assert "@sha256:" in each["image"]
            assert each["imagePullPolicy"] == "IfNotPresent"
        assert pod["automountServiceAccountToken"] is False
        # The reloader signals PgBouncer in the same pod when its Secrets change (tested
        # for real in tests/components/postgres/test_pgbouncer_reload.py).
        assert pod["shareProcessNamespace"] is True
        assert reloader["command"][:2] == ["/bin/sh", "-c"]
        assert "/etc/pgbouncer/auth/userlist.txt" in reloader["command"][2]
        assert {m["name"] for m in reloader["volumeMounts"]} == {"userlist", "tls", "server-ca"}
        assert all(m["readOnly"] for m in reloader["volumeMounts"])
        labels = deployment["inputs"]["spec"]["template"]["metadata"]["labels"]
        [service] = plan.under(pooler, K8S_SERVICE)
        assert service["inputs"]["spec"]["type"] == "ClusterIP"
        assert service["inputs"]["spec"]["ports"][0]["port"] == 6432
        [pdb] = plan.under(pooler, PDB)
        assert pdb["inputs"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert pdb["inputs"]["spec"]["minAvailable"] == 1
        [hpa] = plan.under(pooler, HPA)
        assert (
            hpa["inputs"]["spec"]["scaleTargetRef"]["name"]
            == deployment["inputs"]["metadata"]["name"]
        )
        # No password anywhere in the plan: the userlist and the logins are secrets.
        for secret in plan.under(pooler, K8S_SECRET):
            assert secret["inputs"]["stringData"] == "[secret]"
        [certificate] = plan.under(pooler, CERTIFICATE)
        name = service["inputs"]["metadata"]["name"]
        namespace = service["inputs"]["metadata"]["namespace"]
        assert f"{name}.{namespace}.svc.cluster.local" in certificate["inputs"]["spec"]["dnsNames"]
        assert certificate["inputs"]["spec"]["secretName"] == f"{name}-tls"


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_gcp_pgbouncer_takes_only_its_tiers_apps_in_and_reaches_only_its_server(
    stack: str,
) -> None:
    plan = planned(stack)
    for pooler in plan.of_type(PGBOUNCER):
        policies = {
            p["inputs"]["metadata"]["name"].rsplit("-", 1)[1]: p for p in plan.under(pooler, NETPOL)
        }
        assert set(policies) == {"ingress", "egress", "clients"}
        [deployment] = plan.under(pooler, DEPLOYMENT)
        pods = deployment["inputs"]["spec"]["selector"]["matchLabels"]
        namespace = deployment["inputs"]["metadata"]["namespace"]
        [app] = [
            d
            for d in plan.of_type(DEPLOYMENT)
            if d["inputs"]["metadata"]["namespace"] == namespace
            and d["name"].endswith("-workload-deployment")
        ]
        apps = app["inputs"]["spec"]["selector"]["matchLabels"]
        ingress = policies["ingress"]["inputs"]["spec"]
        assert ingress["podSelector"]["matchLabels"] == pods
        assert ingress["ingress"] == [
            {
                "from": [{"podSelector": {"matchLabels": apps}}],
                "ports": [{"port": 6432, "protocol": "TCP"}],
            }
        ]
        egress = policies["egress"]["inputs"]["spec"]["egress"]
        [rule] = egress
        assert rule["ports"] == [{"port": 5432, "protocol": "TCP"}]
        [block] = rule["to"]
        assert block["ipBlock"]["cidr"].endswith("/32")
        clients = policies["clients"]["inputs"]["spec"]
        assert clients["podSelector"]["matchLabels"] == apps
        assert clients["egress"][0]["to"] == [{"podSelector": {"matchLabels": pods}}]
        # The namespace's quota leaves room for the pooler's pods on top of the app's.
        [quota] = [
            q for q in plan.of_type(QUOTA) if q["inputs"]["metadata"]["namespace"] == namespace
        ]
        hard = quota["inputs"]["spec"]["hard"]
        tier = namespace.removeprefix("tnc-tier-")
        app_pods = catalog_data()["tiers"][tier]["app"]["max_replicas"] + 1
        assert int(hard["pods"]) >= app_pods + 3


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_gcp_facts_point_shared_tenants_at_the_pgbouncer_service(stack: str) -> None:
    plan = planned(stack)
    facts = plan.outputs["tenants"]
    for tenant, row in plan.tenants.items():
        fact = facts[tenant]
        if row["isolation"] == "silo":
            assert "port" not in fact and "server_endpoint" not in fact
            continue
        shard = row["shard"]
        assert fact["endpoint"] == f"pgbouncer-{shard}.{fact['namespace']}.svc.cluster.local"
        assert fact["port"] == 6432 and fact["pool_mode"] == "transaction"
        assert fact["server_endpoint"].startswith("10.")


def test_gcp_silo_servers_get_no_pgbouncer_unless_their_tier_asks() -> None:
    plan = planned("prod-gcp-us-central1")
    assert not [p for p in plan.of_type(PGBOUNCER) if p["name"].startswith("silo-")]


def test_a_silo_tier_that_pools_gets_pgbouncer_in_the_tenants_namespace(tmp_path: Path) -> None:
    data = catalog_data()
    data["tiers"]["enterprise"]["pooling"] = {"mode": "session", "default_pool_size": 2}
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "plan.json"
    result = run_tenancy("plan", "dev-gcp-us-central1", "--catalog", str(path), "--json", str(out))
    assert result.returncode == 0, result.stderr
    plan = Plan(json.loads(out.read_text()))
    [silo] = [p for p in plan.of_type(PGBOUNCER) if p["name"].startswith("silo-")]
    [config] = plan.under(silo, CONFIG_MAP)
    ini = _ini(config["inputs"]["data"]["pgbouncer.ini"])
    assert config["inputs"]["metadata"]["namespace"] == "tnc-tenant-cyberdyne"
    assert ini["pgbouncer"]["pool_mode"] == "session"
    assert ini["pgbouncer"]["default_pool_size"] == "1"  # 2 connections over 2 pods
    assert list(ini["databases"]) == ["tenant_cyberdyne"]
    assert plan.outputs["tenants"]["cyberdyne"]["port"] == 6432


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("ghcr.io/cloudnative-pg/pgbouncer:1.25.1", "not a digest reference"),
        ("pgbouncer", "not a pinned image reference"),
    ],
)
def test_a_pooler_image_that_is_not_a_digest_exits_2_in_prod(
    tmp_path: Path, value: str, fragment: str
) -> None:
    stack = "prod-gcp-us-central1"
    shutil.copy(STACKS / "tenants.yaml", tmp_path / "tenants.yaml")
    text = (STACKS / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8")
    text = text.replace("    port: 8080\n", f"    port: 8080\n    poolerImage: {value}\n")
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(text, encoding="utf-8")
    result = run_tenancy("plan", stack, stacks=tmp_path)
    found = assert_bad_input(result, fragment)
    assert {m["path"] for m in found} == {"config.tenancy:app.poolerImage"}


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_gcp_pooler_sets_its_verifiers_on_the_server_after_the_sql_plan(stack: str) -> None:
    plan = planned(stack)
    for pooler in plan.of_type(PGBOUNCER):
        [logins] = [
            r
            for r in plan.under(pooler, "pulumi-python:dynamic:Resource")
            if r["name"].endswith("-server-logins")
        ]
        inputs = logins["inputs"]
        assert inputs["verifiers"] == "[secret]" and inputs["password"] == "[secret]"
        assert inputs["sslmode"] == "verify-full"
        shard = pooler["name"].removeprefix("shard-").removesuffix("-pooler")
        assert inputs["server"] == shard
        assert any(d.endswith(f"::shard-{shard}-isolation-sql") for d in logins["dependencies"])
