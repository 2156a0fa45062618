"""Every server of every example stack records what its tier asks for (offline plans).

A server of a tier with a HIPAA or PCI tenant (catalog-wide) records writes too (``ddl,role,write``), others
``ddl,role``; a tier's ``database.audit`` section overrides both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.aws.log_archive import cloudwatch_retention
from components.model.alarms import aurora_max_connections
from tenancy.plan import plan_stack
from tests.support.planview import Plan, catalog_data, planned, write_catalog

STACKS = {
    "aws": ("dev-aws-eu-central-1", "prod-aws-eu-central-1"),
    "azure": ("dev-azure-westeurope", "prod-azure-westeurope"),
    "gcp": ("dev-gcp-us-central1", "prod-gcp-us-central1"),
}
CASES = [(cloud, stack) for cloud, stacks in STACKS.items() for stack in stacks]
LOGGED_EVENTS = ("log_disconnections", "log_lock_waits", "log_connections")


def _regulated_tiers() -> set[str]:
    """Tiers with a HIPAA or PCI tenant anywhere in the catalog (as for keys and backups)."""
    return {
        t["tier"]
        for t in catalog_data()["tenants"]
        if {"hipaa", "pci"} & set(t.get("compliance", ()))
    }


def _server_tier(plan: Plan, owner: dict[str, Any]) -> str:
    name = owner["name"].split("-", 1)[1]
    (tier,) = {t["tier"] for t in plan.tenants.values() if name in (t["id"], t["shard"])}
    return tier


def _expected_classes(plan: Plan, owner: dict[str, Any]) -> str:
    regulated = _server_tier(plan, owner) in _regulated_tiers()
    return "ddl,role,write" if regulated else "ddl,role"


def _aws_settings(plan: Plan, owner: dict[str, Any]) -> dict[str, str]:
    group = plan.one_under(owner, "aws:rds/clusterParameterGroup:ClusterParameterGroup")
    return {p["name"]: p["value"] for p in group["inputs"]["parameters"]}


def _azure_chain(plan: Plan, owner: dict[str, Any]) -> list[dict[str, Any]]:
    server = plan.primary_under(owner, "azure-native:dbforpostgresql:Server")
    return [
        c
        for c in plan.under(owner, "azure-native:dbforpostgresql:Configuration")
        if c["parent"] == server["parent"]
    ]


def _azure_settings(plan: Plan, owner: dict[str, Any]) -> dict[str, str]:
    return {
        c["inputs"]["configurationName"]: c["inputs"]["value"] for c in _azure_chain(plan, owner)
    }


def _gcp_settings(plan: Plan, owner: dict[str, Any]) -> dict[str, str]:
    instance = plan.primary_under(owner, "gcp:sql/databaseInstance:DatabaseInstance")
    return {f["name"]: f["value"] for f in instance["inputs"]["settings"]["databaseFlags"]}


SETTINGS = {"aws": _aws_settings, "azure": _azure_settings, "gcp": _gcp_settings}
ON = {"aws": "1", "azure": "on", "gcp": "on"}
OFF = {"aws": "0", "azure": "off", "gcp": "off"}


@pytest.mark.parametrize(("cloud", "stack"), CASES)
def test_every_server_loads_pgaudit_with_its_tiers_classes(cloud: str, stack: str) -> None:
    plan = planned(stack)
    owners = plan.owners(cloud)
    assert owners
    for owner in owners:
        settings = SETTINGS[cloud](plan, owner)
        assert settings["pgaudit.log"] == _expected_classes(plan, owner), owner["name"]
        assert settings["log_min_duration_statement"] == "1000"
        assert settings["pgaudit.log_parameter"] == OFF[cloud]
        for event in LOGGED_EVENTS:
            assert settings[event] == ON[cloud], (owner["name"], event)
        if cloud == "aws":
            assert "pgaudit" in settings["shared_preload_libraries"].split(",")
            assert settings["pgaudit.role"] == "rds_pgaudit"
        elif cloud == "azure":
            assert "pgaudit" in settings["shared_preload_libraries"].split(",")
            assert settings["azure.extensions"] == "pgaudit"
            assert "%u@%d" in settings["log_line_prefix"]  # a tenant's role on every line
            assert settings["log_checkpoints"] == "on"
        else:
            assert settings["cloudsql.enable_pgaudit"] == "on"
            assert settings["log_checkpoints"] == "on"


def test_example_servers_include_both_defaults() -> None:
    """The examples exercise both defaults (else the test above proves less than it says)."""
    plan = planned("prod-aws-eu-central-1")
    classes = {_expected_classes(plan, o) for o in plan.owners("aws")}
    assert classes == {"ddl,role", "ddl,role,write"}


@pytest.mark.parametrize("stack", STACKS["azure"])
def test_flexible_server_parameters_form_one_chain(stack: str) -> None:
    """ServerIsBusy: a Flexible Server takes one parameter change at a time, so each
    Configuration waits for exactly the one before it."""
    plan = planned(stack)
    for owner in plan.owners("azure"):
        chain = _azure_chain(plan, owner)
        urns = {c["urn"] for c in chain}
        firsts = [c for c in chain if not urns & set(c["dependencies"])]
        waited_on = [u for c in chain for u in c["dependencies"] if u in urns]
        assert len(firsts) == 1, owner["name"]
        assert len(waited_on) == len(set(waited_on)) == len(chain) - 1, owner["name"]


@pytest.mark.parametrize(("cloud", "stack"), [(c, s[0]) for c, s in STACKS.items()])
def test_a_tiers_audit_section_sets_classes_and_slow_statement_threshold(
    tmp_path: Path, cloud: str, stack: str
) -> None:
    data = catalog_data()
    for tier in data["tiers"].values():
        tier["database"]["audit"] = {"log_classes": ["read", "ddl"], "slow_statement_ms": 250}
    plan = Plan(plan_stack(stack, catalog=write_catalog(tmp_path, data)))
    for owner in plan.owners(cloud):
        settings = SETTINGS[cloud](plan, owner)
        # One fixed order, whatever order the catalog lists them in.
        assert settings["pgaudit.log"] == "ddl,read"
        assert settings["log_min_duration_statement"] == "250"


@pytest.mark.parametrize("stack", STACKS["aws"])
def test_aurora_logs_go_to_an_encrypted_retained_log_group_made_before_the_cluster(
    stack: str,
) -> None:
    plan = planned(stack)
    region = stack.split("-", 2)[2]
    (key,) = [
        r
        for r in plan.of_type("aws:kms/key:Key")
        if any(a["type"] == "tenancy:aws:CellLogKey" for a in plan.ancestors(r))
    ]
    policy = json.loads(key["inputs"]["policy"])
    services = [s["Principal"].get("Service") for s in policy["Statement"]]
    assert f"logs.{region}.amazonaws.com" in services and key["inputs"]["region"] == region
    for owner in plan.owners("aws"):
        cluster = plan.one_under(owner, "aws:rds/cluster:Cluster")
        group = plan.one_under(owner, "aws:cloudwatch/logGroup:LogGroup")
        identifier = cluster["inputs"]["clusterIdentifier"]
        assert group["inputs"]["name"] == f"/aws/rds/cluster/{identifier}/postgresql"
        assert group["urn"] in cluster["dependencies"]
        assert group["inputs"]["region"] == region
        # Encrypted with the cell's log key (its ARN is the only input the group takes from it).
        assert group["dependencies"] == [key["urn"]]
        assert group["inputs"]["kmsKeyId"].startswith(f"arn:aws:kms:{region}:")
        regulated = _expected_classes(plan, owner).endswith("write")
        assert group["inputs"]["retentionInDays"] == (365 if regulated else 90)
        assert group["protect"] == stack.startswith("prod-")


def test_cloudwatch_retention_rounds_up_to_an_accepted_value() -> None:
    assert [cloudwatch_retention(d) for d in (1, 2, 90, 91, 366, 5000)] == [
        1,
        3,
        90,
        120,
        400,
        3653,
    ]


@pytest.mark.parametrize("stack", STACKS["azure"])
def test_flexible_server_logs_go_to_the_cells_workspace_in_its_region(stack: str) -> None:
    plan = planned(stack)
    region = stack.split("-", 2)[2]
    (workspace,) = plan.of_type("azure-native:operationalinsights:Workspace")
    assert workspace["inputs"]["location"] == region
    assert workspace["inputs"]["features"]["enableLogAccessUsingOnlyResourcePermissions"]
    owners = plan.owners("azure")
    retention = 365 if any(_expected_classes(plan, o).endswith("write") for o in owners) else 90
    assert workspace["inputs"]["retentionInDays"] == retention
    for owner in owners:
        server = plan.primary_under(owner, "azure-native:dbforpostgresql:Server")
        (setting,) = [
            d
            for d in plan.under(owner, "azure-native:monitor:DiagnosticSetting")
            if d["inputs"]["resourceUri"].endswith("/" + server["inputs"]["serverName"])
        ]
        assert setting["inputs"]["workspaceId"].endswith(
            "/workspaces/" + workspace["inputs"]["workspaceName"]
        )
        assert setting["inputs"]["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]


@pytest.mark.parametrize("stack", STACKS["gcp"])
def test_cloud_sql_logs_route_to_a_regional_cmek_bucket_of_the_cell(stack: str) -> None:
    plan = planned(stack)
    region = stack.split("-", 2)[2]
    (bucket,) = plan.of_type("gcp:logging/projectBucketConfig:ProjectBucketConfig")
    (sink,) = plan.of_type("gcp:logging/projectSink:ProjectSink")
    (key,) = [
        k
        for k in plan.of_type("gcp:kms/cryptoKey:CryptoKey")
        if any(a["type"] == "tenancy:gcp:CellLogBucket" for a in plan.ancestors(k))
    ]
    (grant,) = [
        g
        for g in plan.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
        if g["inputs"]["cryptoKeyId"].endswith("/cryptoKeys/" + key["inputs"]["name"])
    ]
    inputs = bucket["inputs"]
    assert inputs["location"] == region and key["inputs"]["keyRing"].split("/")[3] == region
    assert inputs["cmekSettings"]["kmsKeyName"].endswith("/cryptoKeys/" + key["inputs"]["name"])
    assert grant["inputs"]["member"].endswith("@gcp-sa-logging.iam.gserviceaccount.com")
    owners = plan.owners("gcp")
    regulated = any(_expected_classes(plan, o).endswith("write") for o in owners)
    assert inputs["retentionDays"] == (365 if regulated else 90)
    # A locked retention cannot be shortened: only production locks it.
    assert inputs["locked"] is (stack.startswith("prod-") and regulated)
    assert sink["inputs"]["destination"].endswith(
        f"/locations/{region}/buckets/{inputs['bucketId']}"
    )
    assert sink["inputs"]["filter"].startswith('resource.type="cloudsql_database"')


# --- alarms and channels (AWS) -----------------------------------------------------------

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ALWAYS = {"cpu", "connections", "capacity", "deadlocks", "failed-connections"}


def _alarms(plan: Plan, owner: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The cluster's alarms by what they watch (their name is <cluster id>-<what>)."""
    cluster = plan.one_under(owner, "aws:rds/cluster:Cluster")
    prefix = cluster["inputs"]["clusterIdentifier"] + "-"
    return {a["inputs"]["name"].removeprefix(prefix): a for a in plan.under(owner, ALARM)}


@pytest.mark.parametrize("stack", STACKS["aws"])
def test_every_aurora_cluster_has_its_alarms_notifying_the_cells_topic(stack: str) -> None:
    plan = planned(stack)
    (topic,) = plan.of_type("aws:sns/topic:Topic")
    (key,) = [k for k in plan.of_type("aws:kms/key:Key") if k["name"] == "cell-log-key-cmk"]
    assert topic["inputs"]["kmsMasterKeyId"].startswith("arn:aws:kms:")
    assert key["urn"] in topic["dependencies"]
    topic_arn = plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    subscriptions = {s["inputs"]["protocol"] for s in topic_arn}
    assert subscriptions == ({"email", "https"} if stack.startswith("prod-") else set())
    for owner in plan.owners("aws"):
        cluster = plan.one_under(owner, "aws:rds/cluster:Cluster")
        identifier = cluster["inputs"]["clusterIdentifier"]
        alarms = _alarms(plan, owner)
        expected = ALWAYS | ({"replica-lag"} if "replica-lag" in alarms else set())
        assert expected <= set(alarms), owner["name"]
        for name in expected:
            alarm = alarms[name]["inputs"]
            assert alarm["alarmActions"] == alarm["okActions"]
            assert len(alarm["alarmActions"]) == 1
            assert alarms[name]["dependencies"] == [topic["urn"]]  # the topic is its only input
            if alarm["namespace"] == "AWS/RDS":
                assert alarm["dimensions"]["DBClusterIdentifier"] == identifier
        assert alarms["cpu"]["inputs"]["threshold"] == 80
        assert alarms["capacity"]["inputs"]["metricName"] == "ACUUtilization"
        for instance in plan.under(owner, "aws:rds/clusterInstance:ClusterInstance"):
            assert instance["inputs"]["monitoringInterval"] == 60
            assert instance["inputs"]["monitoringRoleArn"].endswith(":role/" + _role(plan))
            assert instance["inputs"]["performanceInsightsKmsKeyId"]


def _role(plan: Plan) -> str:
    (role,) = [r for r in plan.of_type("aws:iam/role:Role") if r["name"].startswith("cell-alerts")]
    return str(role["inputs"]["name"])


def test_alarm_thresholds_come_from_the_tiers_monitoring_section(tmp_path: Path) -> None:
    data = catalog_data()
    for tier in data["tiers"].values():
        tier["database"]["monitoring"] = {
            "cpu_percent": 65,
            "connections_percent": 50,
            "replica_lag_seconds": 5,
            "period_minutes": 1,
            "enhanced_monitoring_interval_seconds": 15,
        }
        tier["database"]["high_availability"] = True
    plan = Plan(plan_stack("dev-aws-eu-central-1", catalog=write_catalog(tmp_path, data)))
    for owner in plan.owners("aws"):
        alarms = _alarms(plan, owner)
        assert alarms["cpu"]["inputs"]["threshold"] == 65
        assert alarms["cpu"]["inputs"]["period"] == 60
        assert alarms["replica-lag"]["inputs"]["threshold"] == 5000  # milliseconds
        assert alarms["replica-lag"]["inputs"]["dimensions"]["Role"] == "READER"
        cluster = plan.one_under(owner, "aws:rds/cluster:Cluster")
        acu = cluster["inputs"]["serverlessv2ScalingConfiguration"]["maxCapacity"]
        assert alarms["connections"]["inputs"]["threshold"] == round(
            aurora_max_connections(acu) * 0.5
        )
        for instance in plan.under(owner, "aws:rds/clusterInstance:ClusterInstance"):
            assert instance["inputs"]["monitoringInterval"] == 15
