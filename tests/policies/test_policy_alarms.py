"""The alarm rules on the example prod plans: each passes as planned, and fails with the
exact message when one alarm, one alarm's action or the channels are taken away."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from policies.offline import evaluate
from policies.rules import BY_ID
from tests.support.planview import planned

AWS, AZURE, GCP = "prod-aws-eu-central-1", "prod-azure-westeurope", "prod-gcp-us-central1"
ALARMS = {
    AWS: "aws-cloudwatch-metricalarm-enable-server-alarms",
    AZURE: "azure-monitor-metricalert-enable-server-alarms",
    GCP: "gcp-monitoring-alertpolicy-enable-server-alarms",
}
CHANNELS = {
    AWS: "aws-sns-topic-enable-alert-channel",
    AZURE: "azure-monitor-actiongroup-enable-alert-channel",
    GCP: "gcp-monitoring-notificationchannel-enable-alert-channel",
}
ALARM_TYPE = {
    AWS: "aws:cloudwatch/metricAlarm:MetricAlarm",
    AZURE: "azure-native:monitor:MetricAlert",
    GCP: "gcp:monitoring/alertPolicy:AlertPolicy",
}
CHANNEL_TYPE = {
    AWS: "aws:sns/topicSubscription:TopicSubscription",
    AZURE: "azure-native:monitor:ActionGroup",
    GCP: "gcp:monitoring/notificationChannel:NotificationChannel",
}
SERVER_TYPE = {
    AWS: "aws:rds/cluster:Cluster",
    AZURE: "azure-native:dbforpostgresql:Server",
    GCP: "gcp:sql/databaseInstance:DatabaseInstance",
}
ACTIONS = {AWS: "alarmActions", AZURE: "actions", GCP: "notificationChannels"}

Edit = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def messages(stack: str, rule: str, edit: Edit | None = None) -> dict[str, list[str]]:
    """The rule's findings per resource name on the stack's plan, after ``edit``."""
    plan = copy.deepcopy(planned(stack).data)
    if edit is not None:
        plan["resources"] = edit(plan["resources"])
    results = evaluate(plan, waivers=[], rules=[BY_ID[rule]]).results
    names = {r["urn"]: r["name"] for r in plan["resources"]}
    return {names[r.urn]: list(r.messages) for r in results if r.messages}


def without(name: str) -> Edit:
    return lambda resources: [r for r in resources if r["name"] != name]


@pytest.mark.parametrize("stack", [AWS, AZURE, GCP])
def test_every_server_of_the_plan_has_its_alarms_and_a_channel(stack: str) -> None:
    assert messages(stack, ALARMS[stack]) == {}
    assert messages(stack, CHANNELS[stack]) == {}
    # Not vacuous: every server of the plan (primaries and replicas) was judged.
    judged = evaluate(planned(stack).data, waivers=[], rules=[BY_ID[ALARMS[stack]]]).results
    assert len(judged) == len(planned(stack).of_type(SERVER_TYPE[stack])) > 0


@pytest.mark.parametrize(
    ("stack", "alarm", "server", "message"),
    [
        (AWS, "silo-acme-db-alarm-deadlocks", "silo-acme-db-cluster", "no alarm on Deadlocks"),
        (
            AWS,
            "silo-acme-db-alarm-failed-connections",
            "silo-acme-db-cluster",
            "no alarm on FailedConnections",
        ),
        (
            AWS,
            "silo-acme-db-alarm-replica-lag",
            "silo-acme-db-cluster",
            "no alarm on AuroraReplicaLag",
        ),
        (
            AZURE,
            "silo-stark-db-alert-storage",
            "silo-stark-db-server",
            "no alarm on storage_percent",
        ),
        (
            AZURE,
            "silo-stark-replica-1-alert-replica-lag",
            "silo-stark-replica-1-server",
            "no alarm on read_replica_lag_in_seconds",
        ),
        (
            GCP,
            "silo-cyberdyne-db-alert-cpu",
            "silo-cyberdyne-db-instance",
            "no alarm on cloudsql.googleapis.com/database/cpu/utilization",
        ),
        (
            GCP,
            "silo-cyberdyne-db-alert-failed-connections",
            "silo-cyberdyne-db-instance",
            "no alarm on logging.googleapis.com/user",
        ),
    ],
)
def test_a_missing_alarm_fails_its_server(
    stack: str, alarm: str, server: str, message: str
) -> None:
    assert any(r["name"] == alarm for r in planned(stack).resources), "stale alarm name"
    assert messages(stack, ALARMS[stack], without(alarm)) == {server: [message]}


@pytest.mark.parametrize("stack", [AWS, AZURE, GCP])
def test_prod_without_channels_fails_every_server(stack: str) -> None:
    def no_channels(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in resources if r["type"] != CHANNEL_TYPE[stack]]

    found = messages(stack, CHANNELS[stack], no_channels)
    assert found
    for server_messages in found.values():
        assert server_messages == [
            "the cell has no notification channel: nobody receives its alarms"
        ]


@pytest.mark.parametrize("stack", [AWS, AZURE, GCP])
def test_an_alarm_that_notifies_nobody_fails_in_prod(stack: str) -> None:
    alarm = next(r for r in planned(stack).resources if r["type"] == ALARM_TYPE[stack])

    def silence(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for r in resources:
            if r["name"] == alarm["name"]:
                r["inputs"][ACTIONS[stack]] = []
        return resources

    found = messages(stack, CHANNELS[stack], silence)
    assert len(found) == 1
    [server_messages] = found.values()
    assert len(server_messages) == 1
    assert server_messages[0].startswith("the alarms on ") and "notify nobody" in server_messages[0]


def test_a_dev_cell_without_channels_passes_the_channel_rule() -> None:
    dev = "dev-aws-eu-central-1"
    assert not planned(dev).of_type(CHANNEL_TYPE[AWS])
    assert messages(dev, CHANNELS[AWS]) == {}
    assert messages(dev, ALARMS[AWS]) == {}
