"""Read replicas from the tier profile on every cloud, asserted on the offline plan.

AWS autoscales Aurora replicas for silo clusters as for shards; Cloud SQL and
Flexible Server cannot, so each server gets ``min_read_replicas`` fixed replicas
that keep the primary's guarantees (residency, CMK, private network, TLS,
deletion protection). The last tests change one setting of a replica only and
check that the policy pack still catches it: no rule is blind to replicas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi_azure_native as azure
import pulumi_gcp as gcp
import pytest

from components.gcp import read_replica
from infra import program
from policies.offline import evaluate
from tenancy import engine
from tenancy.stackfiles import engine_config, read_stack_config
from tests.support.planview import Plan, catalog_data, planned

STACKS = {
    "aws": ("dev-aws-eu-central-1", "prod-aws-eu-central-1"),
    "azure": ("dev-azure-westeurope", "prod-azure-westeurope"),
    "gcp": ("dev-gcp-us-central1", "prod-gcp-us-central1"),
}
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
SERVER = "azure-native:dbforpostgresql:Server"
CONFIG = "azure-native:dbforpostgresql:Configuration"
LOCK = "azure-native:authorization:ManagementLockByScope"


@pytest.fixture(scope="module")
def tiers() -> dict[str, Any]:
    return catalog_data()["tiers"]


@pytest.fixture(scope="module")
def zones() -> dict[str, Any]:
    return catalog_data()["residency_zones"]


@pytest.fixture(scope="module", params=[s for pair in STACKS.values() for s in pair])
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _plans(cloud: str) -> list[tuple[str, Plan]]:
    return [(stack, planned(stack)) for stack in STACKS[cloud]]


def _tier(cloud: str, owner_resource: dict[str, Any]) -> str:
    inputs = owner_resource["inputs"]
    if cloud == "gcp":
        return str(inputs["settings"]["userLabels"]["tenancy-tier"])
    return str(inputs["tags"]["tenancy:tier"])


def _replicas_expected(tiers: dict[str, Any], tier: str) -> int:
    return int(tiers[tier]["database"].get("min_read_replicas", 0))


# --- AWS: silo clusters autoscale replicas like shards --------------------------------


def test_aws_silo_clusters_get_the_tiers_replica_autoscaling(tiers: dict[str, Any]) -> None:
    for _stack, plan in _plans("aws"):
        silos = plan.of_type("tenancy:aws:SiloTenant")
        assert silos
        for silo in silos:
            cluster = plan.one_under(silo, CLUSTER)["inputs"]
            db = tiers[_tier("aws", {"inputs": cluster})]["database"]
            (target,) = plan.under(silo, TARGET)
            inputs = target["inputs"]
            assert inputs["resourceId"] == f"cluster:{cluster['clusterIdentifier']}"
            assert inputs["scalableDimension"] == "rds:cluster:ReadReplicaCount"
            assert (inputs["minCapacity"], inputs["maxCapacity"]) == (
                db["min_read_replicas"],
                db["max_read_replicas"],
            )
            assert inputs["region"] == cluster["region"]
            (policy,) = plan.under(silo, POLICY)
            config = policy["inputs"]["targetTrackingScalingPolicyConfiguration"]
            assert config["targetValue"] == db.get("read_replica_cpu_target", 70)
            # The autoscaling component hangs off the silo tenant, not off the cell.
            parent = plan.by_urn[target["parent"]]
            assert parent["type"] == "tenancy:aws:ReplicaAutoscaling"
            assert parent["parent"] == silo["urn"]


# --- GCP: fixed Cloud SQL replicas -----------------------------------------------------


def test_gcp_each_server_gets_min_read_replicas_replicas(tiers: dict[str, Any]) -> None:
    seen = 0
    for _stack, plan in _plans("gcp"):
        for owner in plan.owners("gcp"):
            primary = plan.primary_under(owner, INSTANCE)
            replicas = plan.replicas_under(owner, INSTANCE)
            assert len(replicas) == _replicas_expected(tiers, _tier("gcp", primary)), owner["name"]
            seen += len(replicas)
            for replica in replicas:
                parent = plan.by_urn[replica["parent"]]
                assert parent["type"] == "tenancy:gcp:CloudSqlReadReplica"
                assert parent["parent"] == owner["urn"]
    assert seen == 2  # the enterprise silo (min_read_replicas 1) in dev and in prod


def test_gcp_replicas_keep_the_primarys_guarantees(zones: dict[str, Any]) -> None:
    for stack, plan in _plans("gcp"):
        prod = stack.startswith("prod-")
        zone = zones[read_stack_config(stack)["tenancy:residency"]]["gcp"]
        for owner in plan.owners("gcp"):
            primary = plan.primary_under(owner, INSTANCE)
            grants = {g["urn"] for g in plan.under(owner, GRANT)}
            for replica in plan.replicas_under(owner, INSTANCE):
                inputs, settings = replica["inputs"], replica["inputs"]["settings"]
                assert inputs["masterInstanceName"] == primary["inputs"]["name"]
                assert inputs["name"] != primary["inputs"]["name"]
                assert inputs["instanceType"] == "READ_REPLICA_INSTANCE"
                assert inputs["region"] == primary["inputs"]["region"]
                assert inputs["region"] in zone
                assert inputs["encryptionKeyName"] == primary["inputs"]["encryptionKeyName"]
                assert "/cryptoKeys/" in inputs["encryptionKeyName"]
                # The key grant to the Cloud SQL agent exists before the replica.
                assert grants and grants <= set(replica["dependencies"])
                ip = settings["ipConfiguration"]
                assert ip["ipv4Enabled"] is False
                assert ip["sslMode"] == "ENCRYPTED_ONLY"
                assert (
                    ip["privateNetwork"]
                    == primary["inputs"]["settings"]["ipConfiguration"]["privateNetwork"]
                )
                assert "authorizedNetworks" not in ip
                assert inputs["deletionProtection"] is True
                assert settings["deletionProtectionEnabled"] is True
                assert replica["protect"] is prod
                assert settings["userLabels"] == primary["inputs"]["settings"]["userLabels"]
                assert settings["tier"] == primary["inputs"]["settings"]["tier"]
                # Cloud SQL forbids backups (and PITR) on a replica; it is never a failover target.
                assert settings["backupConfiguration"] == {"enabled": False}
                assert "retainBackupsOnDelete" not in settings
                assert settings["availabilityType"] == "ZONAL"
                # The provider marks replicaConfiguration secret: the plan shows it is set,
                # replica_settings/the component set failoverTarget=False (checked below).
                assert inputs["replicaConfiguration"] == "[secret]"
                # After the primary and everything on it (Cloud SQL: one operation at a time).
                assert primary["urn"] in replica["dependencies"]


def test_gcp_replica_settings_drop_only_what_a_replica_cannot_have() -> None:
    primary = {
        "tier": "db-custom-2-7680",
        "availability_type": "REGIONAL",
        "backup_configuration": {"enabled": True, "location": "us-central1"},
        "retain_backups_on_delete": True,
        "ip_configuration": {"ipv4_enabled": False, "ssl_mode": "ENCRYPTED_ONLY"},
        "deletion_protection_enabled": True,
    }
    assert read_replica.replica_settings(primary) == {
        "tier": "db-custom-2-7680",
        "availability_type": "ZONAL",
        "backup_configuration": {"enabled": False},
        "ip_configuration": {"ipv4_enabled": False, "ssl_mode": "ENCRYPTED_ONLY"},
        "deletion_protection_enabled": True,
    }


def test_gcp_replica_is_never_a_failover_target(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    original = gcp.sql.DatabaseInstance.__init__

    def spy(self: Any, resource_name: str, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("master_instance_name") is not None:
            seen.append(kwargs["replica_configuration"])
        original(self, resource_name, *args, **kwargs)

    monkeypatch.setattr(gcp.sql.DatabaseInstance, "__init__", spy)
    _capture("dev-gcp-us-central1")
    assert seen == [{"failover_target": False}]


# --- Azure: fixed Flexible Server replicas ---------------------------------------------


def test_azure_each_server_gets_min_read_replicas_replicas(tiers: dict[str, Any]) -> None:
    seen = 0
    for _stack, plan in _plans("azure"):
        for owner in plan.owners("azure"):
            primary = plan.primary_under(owner, SERVER)
            replicas = plan.replicas_under(owner, SERVER)
            assert len(replicas) == _replicas_expected(tiers, _tier("azure", primary)), owner[
                "name"
            ]
            seen += len(replicas)
            for replica in replicas:
                parent = plan.by_urn[replica["parent"]]
                assert parent["type"] == "tenancy:azure:FlexibleReadReplica"
                assert parent["parent"] == owner["urn"]
    assert seen == 2  # the enterprise silo (min_read_replicas 1) in dev and in prod


def test_azure_replicas_keep_the_primarys_guarantees(zones: dict[str, Any]) -> None:
    for stack, plan in _plans("azure"):
        prod = stack.startswith("prod-")
        zone = zones[read_stack_config(stack)["tenancy:residency"]]["azure"]
        for owner in plan.owners("azure"):
            primary = plan.primary_under(owner, SERVER)
            p = primary["inputs"]
            for replica in plan.replicas_under(owner, SERVER):
                inputs = replica["inputs"]
                assert inputs["createMode"] == "Replica"
                # The mock engine gives the primary an ARM id ending in its server name.
                assert inputs["sourceServerResourceId"].endswith(
                    f"/flexibleServers/{p['serverName']}"
                )
                assert inputs["serverName"] != p["serverName"]
                assert inputs["location"] == p["location"]
                assert inputs["location"] in zone
                assert inputs["resourceGroupName"] == p["resourceGroupName"]
                # Same customer-managed key through the same user-assigned identity.
                encryption = inputs["dataEncryption"]
                assert encryption["type"] == "AzureKeyVault"
                assert encryption["primaryKeyURI"] == p["dataEncryption"]["primaryKeyURI"]
                identity = p["dataEncryption"]["primaryUserAssignedIdentityId"]
                assert encryption["primaryUserAssignedIdentityId"] == identity
                assert inputs["identity"] == {
                    "type": "UserAssigned",
                    "userAssignedIdentities": {identity: {}},
                }
                # Same delegated subnet and private DNS zone, no public access.
                assert inputs["network"] == p["network"]
                assert inputs["network"]["publicNetworkAccess"] == "Disabled"
                assert inputs["sku"] == p["sku"] and inputs["storage"] == p["storage"]
                assert inputs["tags"] == p["tags"]
                # Azure offers neither HA nor own backups on a replica; no admin password.
                assert inputs["highAvailability"] == {"mode": "Disabled"}
                assert "backup" not in inputs
                assert "administratorLoginPassword" not in inputs
                assert replica["protect"] is prod
                component = plan.by_urn[replica["parent"]]
                settings = {
                    c["inputs"]["configurationName"]: c["inputs"]
                    for c in plan.under(component, CONFIG)
                }
                assert settings["require_secure_transport"]["value"] == "on"
                assert {s["serverName"] for s in settings.values()} == {inputs["serverName"]}
                (lock,) = plan.under(component, LOCK)
                assert lock["inputs"]["level"] == "CanNotDelete"
                assert lock["inputs"]["scope"].endswith(f"/flexibleServers/{inputs['serverName']}")
                # After the primary and its parameters (the source is busy while replicating).
                assert primary["urn"] in replica["dependencies"]
                primary_settings = plan.under(plan.by_urn[primary["parent"]], CONFIG)
                assert {c["urn"] for c in primary_settings} <= set(replica["dependencies"])


# --- the policy pack sees replicas -----------------------------------------------------


def test_example_stacks_have_no_mandatory_violations(stack: str) -> None:
    plan = planned(stack)
    mandatory = [v for v in plan.data["violations"] if v["enforcement"] == "mandatory"]
    assert mandatory == []


def _capture(stack: str) -> dict[str, Any]:
    config = engine_config(read_stack_config(stack))
    captured = engine.capture(program.run, project="tenancy", stack=stack, config=config)
    return {
        "stack": stack,
        "resources": [r.to_json() for r in captured.resources],
        "tenants": [],
    }


def _only_replicas(cls: type, change: Callable[[dict[str, Any]], None], marker: str) -> Any:
    original = getattr(cls, "__init__")  # noqa: B009 - mypy rejects cls.__init__ on a type

    def patched(self: Any, resource_name: str, *args: Any, **kwargs: Any) -> None:
        if kwargs.get(marker) is not None:
            change(kwargs)
        original(self, resource_name, *args, **kwargs)

    return patched


def _gcp_replica(change: Callable[[dict[str, Any]], None]) -> Any:
    return (
        gcp.sql.DatabaseInstance,
        _only_replicas(gcp.sql.DatabaseInstance, change, "master_instance_name"),
    )


def _azure_replica(change: Callable[[dict[str, Any]], None]) -> Any:
    server = azure.dbforpostgresql.Server
    return (server, _only_replicas(server, change, "source_server_resource_id"))


def _ip(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(kwargs: dict[str, Any]) -> None:
        kwargs["settings"] = {
            **kwargs["settings"],
            "ip_configuration": {**kwargs["settings"]["ip_configuration"], key: value},
        }

    return change


def _azure_network(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(kwargs: dict[str, Any]) -> None:
        kwargs["network"] = {**kwargs["network"], key: value}

    return change


REPLICA_MUTATIONS = [
    (
        "gcp-replica-public-ip",
        "prod-gcp-us-central1",
        lambda: _gcp_replica(_ip("ipv4_enabled", True)),
        "gcp-sql-instance-disallow-public-ip",
    ),
    (
        "gcp-replica-ssl-optional",
        "prod-gcp-us-central1",
        lambda: _gcp_replica(_ip("ssl_mode", "ALLOW_UNENCRYPTED_AND_ENCRYPTED")),
        "gcp-sql-instance-enable-ssl-only",
    ),
    (
        "gcp-replica-google-managed-key",
        "prod-gcp-us-central1",
        lambda: _gcp_replica(lambda kw: kw.pop("encryption_key_name")),
        "gcp-sql-instance-configure-cmek",
    ),
    (
        "gcp-replica-outside-zone",
        "prod-gcp-us-central1",
        lambda: _gcp_replica(lambda kw: kw.update(region="europe-west3")),
        "gcp-all-resource-configure-residency-region",
    ),
    (
        "gcp-replica-deletable",
        "prod-gcp-us-central1",
        lambda: _gcp_replica(lambda kw: kw.update(deletion_protection=False)),
        "gcp-sql-instance-enable-deletion-protection",
    ),
    (
        "azure-replica-public-access",
        "prod-azure-westeurope",
        lambda: _azure_replica(_azure_network("public_network_access", "Enabled")),
        "azure-postgresql-server-disallow-public-network-access",
    ),
    (
        "azure-replica-service-managed-key",
        "prod-azure-westeurope",
        lambda: _azure_replica(lambda kw: kw.update(data_encryption={"type": "SystemManaged"})),
        "azure-postgresql-server-configure-cmk",
    ),
    (
        "azure-replica-outside-zone",
        "prod-azure-westeurope",
        lambda: _azure_replica(lambda kw: kw.update(location="eastus")),
        "azure-all-resource-configure-residency-region",
    ),
]


@pytest.mark.parametrize(
    ("stack_name", "mutation", "rule"),
    [m[1:] for m in REPLICA_MUTATIONS],
    ids=[m[0] for m in REPLICA_MUTATIONS],
)
def test_a_rule_catches_a_replica_that_breaks_a_guarantee(
    monkeypatch: pytest.MonkeyPatch, stack_name: str, mutation: Callable[[], Any], rule: str
) -> None:
    cls, patched = mutation()
    monkeypatch.setattr(cls, "__init__", patched)
    violations = [
        v
        for v in evaluate(_capture(stack_name), waivers=[]).violations()
        if v["enforcement"] == "mandatory"
    ]
    # The rule fires, on the replica alone: the primaries are untouched.
    assert rule in {v["policy"] for v in violations}
    assert all("replica-" in v["urn"] for v in violations)
