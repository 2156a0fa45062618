"""Database autoscaling knobs per cloud, from the tier profile (the README's knob table)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.azure.flexible_server import sku_for
from components.model.autoscaling import aws_cron
from components.model.validation import parse_catalog
from tenancy.plan import plan_stack

CATALOG = Path(__file__).resolve().parents[2] / "stacks" / "tenants.yaml"
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
SCHEDULED = "aws:appautoscaling/scheduledAction:ScheduledAction"
CLUSTER = "aws:rds/cluster:Cluster"


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return parse_catalog(CATALOG.read_text(), str(CATALOG))


@pytest.fixture(scope="module")
def aws() -> dict[str, Any]:
    return plan_stack("dev-aws-eu-central-1")


def _of(plan: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"] == kind]


def _tier(resource: dict[str, Any]) -> str:
    inputs = resource["inputs"]
    labels = inputs.get("tags") or inputs.get("settings", {}).get("userLabels") or {}
    return str(labels.get("tenancy:tier") or labels.get("tenancy-tier"))


def test_aurora_serverless_range_is_the_tiers_capacity_range(aws, catalog) -> None:  # type: ignore[no-untyped-def]
    for cluster in _of(aws, CLUSTER):
        db = catalog.tiers[_tier(cluster)].database
        scaling = cluster["inputs"]["serverlessv2ScalingConfiguration"]
        assert (scaling["minCapacity"], scaling["maxCapacity"]) == (
            db.min_capacity,
            db.max_capacity,
        )


def test_only_servers_of_tiers_with_read_replicas_get_replica_autoscaling(aws) -> None:  # type: ignore[no-untyped-def]
    # enterprise (silo, max 5) and standard (bridge shard, max 3); free allows none.
    targets = _of(aws, TARGET)
    assert sorted(t["inputs"]["resourceId"] for t in targets) == [
        "cluster:tnc-dev-acme",
        "cluster:tnc-dev-globex",
        "cluster:tnc-dev-standard-01",
    ]


def test_replica_target_and_cpu_policy_match_the_profile(aws, catalog) -> None:  # type: ignore[no-untyped-def]
    db = catalog.tiers["standard"].database
    (target,) = [t for t in _of(aws, TARGET) if _tier(t) == "standard"]
    assert target["inputs"]["scalableDimension"] == "rds:cluster:ReadReplicaCount"
    assert target["inputs"]["serviceNamespace"] == "rds"
    assert (target["inputs"]["minCapacity"], target["inputs"]["maxCapacity"]) == (
        db.min_read_replicas,
        db.max_read_replicas,
    )
    (policy,) = [p for p in _of(aws, POLICY) if p["parent"] == target["parent"]]
    config = policy["inputs"]["targetTrackingScalingPolicyConfiguration"]
    assert policy["inputs"]["policyType"] == "TargetTrackingScaling"
    assert config["predefinedMetricSpecification"] == {
        "predefinedMetricType": "RDSReaderAverageCPUUtilization"
    }
    assert config["targetValue"] == db.read_replica_cpu_target


def test_scale_windows_become_scheduled_actions_in_the_windows_timezone(aws, catalog) -> None:  # type: ignore[no-untyped-def]
    db = catalog.tiers["standard"].database
    (window,) = db.scale_windows
    actions = {a["name"].rsplit("-", 1)[1]: a["inputs"] for a in _of(aws, SCHEDULED)}
    assert set(actions) == {"start", "end"}
    assert actions["start"]["schedule"] == aws_cron(window.start) == "cron(0 7 ? * 2-6 *)"
    assert actions["end"]["schedule"] == "cron(0 19 ? * 2-6 *)"
    assert {a["timezone"] for a in actions.values()} == {"Europe/Berlin"}
    assert actions["start"]["scalableTargetAction"]["minCapacity"] == window.min_read_replicas
    assert actions["end"]["scalableTargetAction"]["minCapacity"] == db.min_read_replicas


@pytest.mark.parametrize(
    ("cron", "aws_form"),
    [
        ("0 8 * * 1-5", "cron(0 8 ? * 2-6 *)"),
        ("0 8 * * 0,6", "cron(0 8 ? * 1,7 *)"),
        ("0 8 * * MON-FRI", "cron(0 8 ? * MON-FRI *)"),
        ("30 6 1 * *", "cron(30 6 1 * ? *)"),
    ],
)
def test_standard_cron_translates_to_aws_day_numbering(cron: str, aws_form: str) -> None:
    assert aws_cron(cron) == aws_form


def test_azure_sku_per_tier_and_storage_auto_grow(catalog) -> None:  # type: ignore[no-untyped-def]
    plan = plan_stack("dev-azure-westeurope")
    servers = _of(plan, "azure-native:dbforpostgresql:Server")
    assert servers
    for server in servers:
        db = catalog.tiers[_tier(server)].database
        assert server["inputs"]["sku"] == sku_for(db.min_capacity)
        assert server["inputs"]["storage"]["autoGrow"] == "Enabled"


def test_gcp_disk_autoresize_is_capped_at_the_tiers_storage_limit(catalog) -> None:  # type: ignore[no-untyped-def]
    plan = plan_stack("dev-gcp-us-central1")
    instances = _of(plan, "gcp:sql/databaseInstance:DatabaseInstance")
    assert instances
    for instance in instances:
        settings = instance["inputs"]["settings"]
        assert settings["diskAutoresize"] is True
        assert (
            settings["diskAutoresizeLimit"]
            == catalog.tiers[_tier(instance)].database.storage_limit_gb
        )
