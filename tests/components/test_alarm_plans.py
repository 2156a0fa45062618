"""Azure metric alerts, GCP alert policies and the Kubernetes HPA-at-max rule, as the
offline plans register them: every server (and replica) of every tier has its alarms,
thresholds come from the tier's monitoring section, the cell's channels are wired."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from components.model.alarms import AZURE_MAX_CONNECTIONS, cloudsql_max_connections
from tenancy.plan import plan_stack
from tests.support.planview import Plan, catalog_data, planned, write_catalog

AZURE = ("dev-azure-westeurope", "prod-azure-westeurope")
GCP = ("dev-gcp-us-central1", "prod-gcp-us-central1")
AZ_SERVER = "azure-native:dbforpostgresql:Server"
AZ_ALERT = "azure-native:monitor:MetricAlert"
AZ_GROUP = "azure-native:monitor:ActionGroup"
SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
GCP_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
GCP_CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
AZ_PRIMARY = {"cpu", "memory", "storage", "connections", "deadlocks", "failed-connections"}


def _azure_alerts(plan: Plan, server: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The alerts scoped to ``server``, by what they watch (<server name>-<what>)."""
    name = server["inputs"]["serverName"]
    return {
        a["inputs"]["ruleName"].removeprefix(f"{name}-"): a["inputs"] | {"_deps": a["dependencies"]}
        for a in plan.of_type(AZ_ALERT)
        if a["inputs"]["scopes"] == [f"{_arm_prefix(server)}{name}"]
    }


def _arm_prefix(server: dict[str, Any]) -> str:
    group = server["inputs"]["resourceGroupName"]
    return (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
        f"{group}/providers/Microsoft.DBforPostgreSQL/flexibleServers/"
    )


@pytest.mark.parametrize("stack", AZURE)
def test_every_flexible_server_and_replica_has_its_alerts_on_the_cells_group(stack: str) -> None:
    plan = planned(stack)
    groups = plan.of_type(AZ_GROUP)
    production = stack.startswith("prod-")
    assert len(groups) == (1 if production else 0)  # dev names no channel
    servers = plan.of_type(AZ_SERVER)
    assert any(plan.is_replica(s) for s in servers)  # replicas are judged too
    for server in servers:
        alerts = _azure_alerts(plan, server)
        assert set(alerts) == ({"replica-lag"} if plan.is_replica(server) else AZ_PRIMARY)
        for alert in alerts.values():
            if production:
                (action,) = alert["actions"]
                name = groups[0]["inputs"]["actionGroupName"]
                assert action["actionGroupId"].endswith(f"/actionGroups/{name}")
                assert groups[0]["urn"] in alert["_deps"]
            else:
                assert alert["actions"] == []
            assert alert["location"] == "global" and alert["windowSize"] == "PT5M"
            (criterion,) = alert["criteria"]["allOf"]
            assert criterion["metricNamespace"] == "Microsoft.DBforPostgreSQL/flexibleServers"
    if production:
        inputs = groups[0]["inputs"]
        assert [r["emailAddress"] for r in inputs["emailReceivers"]] == ["db-oncall@example.com"]
        assert [r["name"] for r in inputs["webhookReceivers"]] == ["pagerduty-1"]
        assert len(inputs["groupShortName"]) <= 12


@pytest.mark.parametrize("stack", AZURE)
def test_the_deadlock_metric_is_collected_after_the_audit_chain(stack: str) -> None:
    plan = planned(stack)
    for server in plan.primaries(AZ_SERVER):
        name = server["inputs"]["serverName"]
        chain = [
            c
            for c in plan.of_type("azure-native:dbforpostgresql:Configuration")
            if c["inputs"]["serverName"] == name
        ]
        collector = [
            c
            for c in chain
            if c["inputs"]["configurationName"] == "metrics.collector_database_activity"
        ]
        assert [c["inputs"]["value"] for c in collector] == ["on"]
        previous = {c["urn"] for c in chain} & set(collector[0]["dependencies"])
        assert previous, "must wait for the server's previous parameter (ServerIsBusy)"


def _criterion(alert: dict[str, Any]) -> dict[str, Any]:
    (criterion,) = alert["criteria"]["allOf"]
    return criterion


def _thresholds_catalog(tmp_path: Path) -> str:
    data = catalog_data()
    for tier in data["tiers"].values():
        tier["database"]["monitoring"] = {
            "cpu_percent": 65,
            "memory_percent": 70,
            "storage_used_percent": 75,
            "connections_percent": 50,
            "replica_lag_seconds": 5,
            "deadlocks": 3,
            "failed_connections": 20,
            "period_minutes": 10,
        }
        tier["database"]["min_read_replicas"] = 1
        tier["database"]["max_read_replicas"] = max(1, tier["database"].get("max_read_replicas", 1))
    return write_catalog(tmp_path, data)


def test_azure_thresholds_come_from_the_tiers_monitoring_section(tmp_path: Path) -> None:
    plan = Plan(plan_stack("dev-azure-westeurope", catalog=_thresholds_catalog(tmp_path)))
    for server in plan.primaries(AZ_SERVER):
        alerts = _azure_alerts(plan, server)
        vcores = int(re.findall(r"\d+", server["inputs"]["sku"]["name"])[0])
        assert _criterion(alerts["cpu"])["threshold"] == 65
        assert _criterion(alerts["memory"])["threshold"] == 70
        assert _criterion(alerts["storage"])["threshold"] == 75
        assert _criterion(alerts["connections"])["threshold"] == round(
            AZURE_MAX_CONNECTIONS[vcores] * 0.5
        )
        assert _criterion(alerts["deadlocks"]) | {"threshold": 3} == _criterion(alerts["deadlocks"])
        assert _criterion(alerts["deadlocks"])["operator"] == "GreaterThanOrEqual"
        assert _criterion(alerts["failed-connections"])["threshold"] == 20
        # 10 minutes is no Azure window: the next one up.
        assert alerts["cpu"]["windowSize"] == "PT15M"
        assert alerts["cpu"]["evaluationFrequency"] == "PT5M"
    replicas = [s for s in plan.of_type(AZ_SERVER) if plan.is_replica(s)]
    assert replicas
    for replica in replicas:
        assert _criterion(_azure_alerts(plan, replica)["replica-lag"])["threshold"] == 5


GCP_PRIMARY = {"cpu", "memory", "storage", "connections", "deadlocks", "failed-connections"}
_FILTER = re.compile(r'database_id = "(?P<id>[^"]+)" AND metric\.type = "(?P<metric>[^"]+)"')


def _gcp_policies(plan: Plan, instance: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The policies on ``instance`` (their filter names it), by what they watch."""
    name = instance["inputs"]["name"]
    database_id = f"{instance['inputs']['project']}:{name}"
    found = {}
    for policy in plan.of_type(GCP_POLICY):
        (condition,) = policy["inputs"]["conditions"]
        match = _FILTER.search(condition["conditionThreshold"]["filter"])
        assert match, condition
        if match["id"] == database_id:
            found[policy["inputs"]["displayName"].removeprefix(f"{name}-")] = policy["inputs"] | {
                "_deps": policy["dependencies"]
            }
    return found


@pytest.mark.parametrize("stack", GCP)
def test_every_cloud_sql_instance_has_its_policies_on_the_cells_channels(stack: str) -> None:
    plan = planned(stack)
    channels = plan.of_type(GCP_CHANNEL)
    production = stack.startswith("prod-")
    assert {c["inputs"]["type"] for c in channels} == (
        {"email", "pagerduty"} if production else set()
    )
    (metric,) = plan.of_type("gcp:logging/metric:Metric")
    instances = plan.of_type(SQL_INSTANCE)
    for instance in instances:
        policies = _gcp_policies(plan, instance)
        assert set(policies) == ({"replica-lag"} if plan.is_replica(instance) else GCP_PRIMARY)
        for policy in policies.values():
            assert len(policy["notificationChannels"]) == len(channels)
            assert {c["urn"] for c in channels} <= set(policy["_deps"])
            assert policy["combiner"] == "OR"
        if not plan.is_replica(instance):
            threshold = policies["failed-connections"]["conditions"][0]["conditionThreshold"]
            assert (
                f'metric.type = "logging.googleapis.com/user/{metric["inputs"]["name"]}"'
                in (threshold["filter"])
            )
    assert "password authentication failed" in metric["inputs"]["filter"]
    if production:
        (pagerduty,) = [c for c in channels if c["inputs"]["type"] == "pagerduty"]
        assert "serviceKey" in pagerduty["inputs"]["sensitiveLabels"]


def _threshold(policy: dict[str, Any]) -> Any:
    return policy["conditions"][0]["conditionThreshold"]["thresholdValue"]


def test_gcp_utilisation_thresholds_are_fractions_from_the_tier(tmp_path: Path) -> None:
    plan = Plan(plan_stack("dev-gcp-us-central1", catalog=_thresholds_catalog(tmp_path)))
    for instance in plan.primaries(SQL_INSTANCE):
        policies = _gcp_policies(plan, instance)
        assert _threshold(policies["cpu"]) == 0.65  # a fraction, not 65
        assert _threshold(policies["memory"]) == 0.7
        assert _threshold(policies["storage"]) == 0.75
        vcpus = int(instance["inputs"]["settings"]["tier"].split("-")[2])
        assert _threshold(policies["connections"]) == round(
            cloudsql_max_connections(vcpus * 3.75) * 0.5
        )
        assert _threshold(policies["deadlocks"]) == 3
        assert _threshold(policies["failed-connections"]) == 20
        aggregation = policies["cpu"]["conditions"][0]["conditionThreshold"]["aggregations"][0]
        assert aggregation["alignmentPeriod"] == "600s"
    replicas = [i for i in plan.of_type(SQL_INSTANCE) if plan.is_replica(i)]
    assert replicas
    for replica in replicas:
        assert _threshold(_gcp_policies(plan, replica)["replica-lag"]) == 5


def test_cloud_sql_connection_limits_follow_the_documented_memory_steps() -> None:
    assert cloudsql_max_connections(7.5) == 400
    assert cloudsql_max_connections(15) == 500
    assert cloudsql_max_connections(14.9) == 400
    assert cloudsql_max_connections(240) == 1000


@pytest.mark.parametrize(
    "stack", ["prod-aws-eu-central-1", "prod-azure-westeurope", "prod-gcp-us-central1"]
)
def test_prometheus_rule_per_autoscaled_workload_when_the_stack_has_the_operator(
    stack: str,
) -> None:
    plan = planned(stack)
    # A tier's (or silo tenant's) workload autoscaler: an HPA of its own, or the one KEDA
    # makes for a ScaledObject (same name). The in-cluster PgBouncer's HPA is not a tier's.
    hpas = [
        h
        for h in plan.of_type(HPA) + plan.of_type(SCALED_OBJECT)
        if "tenancy:k8s:TenantWorkload::" in h["parent"]
    ]
    rules = plan.of_type(PROMETHEUS_RULE)
    assert hpas and len(rules) == len(hpas)
    names = {h["inputs"]["metadata"]["namespace"]: h["inputs"]["metadata"]["name"] for h in hpas}
    for rule in rules:
        namespace = rule["inputs"]["metadata"]["namespace"]
        match = f'namespace="{namespace}", horizontalpodautoscaler="{names[namespace]}"'
        (group,) = rule["inputs"]["spec"]["groups"]
        (alert,) = group["rules"]
        assert alert["expr"] == (
            f"kube_horizontalpodautoscaler_status_current_replicas{{{match}}} >= "
            f"kube_horizontalpodautoscaler_spec_max_replicas{{{match}}}"
        )
        assert alert["for"] == "15m"
    assert plan.outputs["hpa_alerts"].startswith("PrometheusRule per autoscaled workload")


@pytest.mark.parametrize(
    "stack", ["dev-aws-eu-central-1", "dev-azure-westeurope", "dev-gcp-us-central1"]
)
def test_no_prometheus_rule_without_the_operator_and_the_plan_says_so(stack: str) -> None:
    plan = planned(stack)
    assert plan.of_type(HPA)
    assert not plan.of_type(PROMETHEUS_RULE)
    assert "tenancy:prometheusOperator is not true" in plan.outputs["hpa_alerts"]
