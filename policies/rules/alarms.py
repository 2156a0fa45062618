"""Alarms: every database server has its cloud's alarm set, and in production the alarms
reach somebody (a notification channel exists and every alarm notifies it)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import controls as c
from .. import types as t
from ..framework import (
    ALARMS,
    ALERT_CHANNEL,
    Ctx,
    Res,
    cannot_verify,
    get,
    is_production,
    is_unknown,
    rule,
    tags_of,
    tenancy_tags,
)

# What each server must be watched on, by cloud: the metric names the alarms name.
AWS_PRIMARY = frozenset(
    {"CPUUtilization", "DatabaseConnections", "ACUUtilization", "Deadlocks", "FailedConnections"}
)
AWS_READERS = frozenset({"AuroraReplicaLag"})
AZURE_PRIMARY = frozenset(
    {
        "cpu_percent",
        "memory_percent",
        "storage_percent",
        "active_connections",
        "deadlocks",
        "connections_failed",
    }
)
AZURE_REPLICA = frozenset({"read_replica_lag_in_seconds"})
_SQL = "cloudsql.googleapis.com/database"
LOG_METRIC = "logging.googleapis.com/user"  # the cell's failed-login log metric
GCP_PRIMARY = frozenset(
    {
        f"{_SQL}/cpu/utilization",
        f"{_SQL}/memory/utilization",
        f"{_SQL}/disk/utilization",
        f"{_SQL}/postgresql/num_backends",
        f"{_SQL}/postgresql/deadlock_count",
        LOG_METRIC,
    }
)
GCP_REPLICA = frozenset({f"{_SQL}/replication/replica_lag"})
_GCP_FILTER = re.compile(
    r'database_id\s*=\s*"[^":]*:(?P<instance>[^"]+)".*metric\.type\s*=\s*"(?P<metric>[^"]+)"'
)


@dataclass
class _Watched:
    """One server and what its alarms watch."""

    urn: str
    required: frozenset[str]
    tags: dict[str, str]
    metrics: set[str] = field(default_factory=set)
    silent: set[str] = field(default_factory=set)  # metrics whose alarm notifies nobody
    unknown: list[str] = field(default_factory=list)


def _watched(server: Res, required: frozenset[str]) -> _Watched:
    return _Watched(server.urn, required, tenancy_tags(tags_of(server.type, server.props)))


def _note(watched: _Watched | None, metric: str, actions: Any) -> None:
    if watched is None:
        return
    watched.metrics.add(metric)
    if is_unknown(actions):
        watched.unknown.append(cannot_verify(f"actions of the {metric} alarm", actions))
    elif not actions:
        watched.silent.add(metric)


def _missing(watched: _Watched) -> list[str]:
    missing = sorted(watched.required - watched.metrics)
    return [f"no alarm on {', '.join(missing)}"] if missing else []


def _silence(watched: _Watched, channels: int, ctx: Ctx) -> list[str]:
    if not is_production(watched.tags, ctx):
        return []
    found = list(watched.unknown)
    if channels == 0:
        found.append("the cell has no notification channel: nobody receives its alarms")
    if watched.silent:
        found.append(f"the alarms on {', '.join(sorted(watched.silent))} notify nobody")
    return found


# --- per cloud: which servers, and which alarm watches which server ----------------------


def _aws(resources: Sequence[Res]) -> tuple[list[_Watched], int]:
    instances: dict[str, int] = {}
    for r in resources:
        if r.type == t.RDS_CLUSTER_INSTANCE:
            key = str(r.props.get("clusterIdentifier"))
            instances[key] = instances.get(key, 0) + 1
    by_id: dict[str, _Watched] = {}
    for r in resources:
        if r.type == t.RDS_CLUSTER:
            key = str(r.props.get("clusterIdentifier"))
            readers = instances.get(key, 0) > 1
            by_id[key] = _watched(r, AWS_PRIMARY | (AWS_READERS if readers else frozenset()))
    for r in resources:
        if r.type != t.CW_ALARM:
            continue
        metric = str(r.props.get("metricName"))
        cluster = get(r.props, "dimensions", "DBClusterIdentifier")
        if cluster is None and metric.startswith("FailedConnections-"):
            metric, cluster = metric.split("-", 1)  # the log metric is named per cluster
        _note(by_id.get(str(cluster)), metric, r.props.get("alarmActions"))
    channels = sum(1 for r in resources if r.type == t.SNS_SUBSCRIPTION)
    return list(by_id.values()), channels


def _azure(resources: Sequence[Res]) -> tuple[list[_Watched], int]:
    by_urn: dict[str, _Watched] = {}
    by_name: dict[str, _Watched] = {}
    for r in resources:
        if r.type == t.AZ_SERVER:
            replica = r.props.get("createMode") == "Replica"
            watched = _watched(r, AZURE_REPLICA if replica else AZURE_PRIMARY)
            by_urn[r.urn] = by_name[str(r.props.get("serverName"))] = watched
    for r in resources:
        if r.type != t.AZ_METRIC_ALERT:
            continue
        # The server the alert is scoped to: its dependency (ids are unknown in a
        # preview), else the last segment of its scope.
        server = next((by_urn[d] for d in r.dependencies if d in by_urn), None)
        if server is None:
            scope = str((r.props.get("scopes") or [""])[0])
            server = by_name.get(scope.rsplit("/flexibleServers/", 1)[-1])
        for criterion in get(r.props, "criteria", "allOf") or ():
            _note(server, str(get(criterion, "metricName")), r.props.get("actions"))
    channels = sum(
        1
        for r in resources
        if r.type == t.AZ_ACTION_GROUP
        and (r.props.get("emailReceivers") or r.props.get("webhookReceivers"))
    )
    return list(by_urn.values()), channels


def _gcp(resources: Sequence[Res]) -> tuple[list[_Watched], int]:
    by_name: dict[str, _Watched] = {}
    for r in resources:
        if r.type == t.SQL_INSTANCE:
            replica = bool(r.props.get("masterInstanceName"))
            by_name[str(r.props.get("name"))] = _watched(r, GCP_REPLICA if replica else GCP_PRIMARY)
    for r in resources:
        if r.type != t.GCP_ALERT_POLICY:
            continue
        for condition in r.props.get("conditions") or ():
            found = _GCP_FILTER.search(str(get(condition, "conditionThreshold", "filter")))
            if found is None:
                continue
            metric = found["metric"]
            metric = LOG_METRIC if metric.startswith(f"{LOG_METRIC}/") else metric
            _note(by_name.get(found["instance"]), metric, r.props.get("notificationChannels"))
    channels = sum(1 for r in resources if r.type == t.GCP_CHANNEL)
    return list(by_name.values()), channels


def _present(watched: list[_Watched]) -> list[tuple[str, list[str]]]:
    return [(w.urn, _missing(w)) for w in watched]


def _heard(watched: list[_Watched], channels: int, ctx: Ctx) -> list[tuple[str, list[str]]]:
    return [(w.urn, _silence(w, channels, ctx)) for w in watched]


_WHY_ALARMS = (
    "A shard out of connections, a full disk or a lagging replica is learnt from customers "
    "unless an alarm watches it: SOC 2 CC7.2 and ISO 27001 A.8.16 ask that system components "
    "be monitored for anomalies, and A.8.6 that capacity be."
)
_WHY_CHANNEL = (
    "An alarm nobody receives is no alarm: a production cell must deliver its alarms to "
    "on-call (SOC 2 CC7.2, ISO 27001 A.8.16)."
)
_FIX_CHANNEL = (
    "Add a channel to the stack's tenancy:alerts, e.g. "
    "[{kind: email, target: oncall@example.com}] (components/model/alerts.py)."
)


@rule(
    id="aws-cloudwatch-metricalarm-enable-server-alarms",
    description="Every Aurora cluster has CloudWatch alarms on CPU, connections, ACU utilisation, deadlocks and failed logins, and on replica lag when it has readers.",
    why=_WHY_ALARMS,
    remediation="Create the cluster's alarms from the tier's database.monitoring (components/aws/alarms.py: cluster_alarms).",
    severity="high",
    enforcement="mandatory",
    controls=c.MONITORING,
    cloud="aws",
    family="alarms",
    kind="stack",
    types=[t.RDS_CLUSTER, t.CW_ALARM],
    matrix=[ALARMS],
)
def aws_alarms(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    return _present(_aws(resources)[0])


@rule(
    id="azure-monitor-metricalert-enable-server-alarms",
    description="Every Flexible Server has Azure Monitor metric alerts on CPU, memory, storage, connections, deadlocks and failed connections; every read replica one on its lag.",
    why=_WHY_ALARMS,
    remediation="Create the server's metric alerts from the tier's database.monitoring (components/azure/alarms.py: server_alerts).",
    severity="high",
    enforcement="mandatory",
    controls=c.MONITORING,
    cloud="azure",
    family="alarms",
    kind="stack",
    types=[t.AZ_SERVER, t.AZ_METRIC_ALERT],
    matrix=[ALARMS],
)
def azure_alarms(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    return _present(_azure(resources)[0])


@rule(
    id="gcp-monitoring-alertpolicy-enable-server-alarms",
    description="Every Cloud SQL instance has alert policies on CPU, memory and disk utilisation, connections, deadlocks and failed logins; every read replica one on its lag.",
    why=_WHY_ALARMS,
    remediation="Create the instance's alert policies from the tier's database.monitoring (components/gcp/alarms.py: instance_alerts).",
    severity="high",
    enforcement="mandatory",
    controls=c.MONITORING,
    cloud="gcp",
    family="alarms",
    kind="stack",
    types=[t.SQL_INSTANCE, t.GCP_ALERT_POLICY],
    matrix=[ALARMS],
)
def gcp_alarms(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    return _present(_gcp(resources)[0])


@rule(
    id="aws-sns-topic-enable-alert-channel",
    description="In production, the cell's alarm topic has a subscription and every alarm of every Aurora cluster notifies it.",
    why=_WHY_CHANNEL,
    remediation=_FIX_CHANNEL,
    severity="high",
    enforcement="mandatory",
    controls=c.MONITORING,
    cloud="aws",
    family="alarms",
    kind="stack",
    types=[t.RDS_CLUSTER, t.SNS_SUBSCRIPTION],
    matrix=[ALERT_CHANNEL],
)
def aws_channel(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    return _heard(*_aws(resources), ctx)


@rule(
    id="azure-monitor-actiongroup-enable-alert-channel",
    description="In production, the cell's action group has a receiver and every metric alert of every Flexible Server notifies it.",
    why=_WHY_CHANNEL,
    remediation=_FIX_CHANNEL,
    severity="high",
    enforcement="mandatory",
    controls=c.MONITORING,
    cloud="azure",
    family="alarms",
    kind="stack",
    types=[t.AZ_SERVER, t.AZ_ACTION_GROUP],
    matrix=[ALERT_CHANNEL],
)
def azure_channel(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    return _heard(*_azure(resources), ctx)


@rule(
    id="gcp-monitoring-notificationchannel-enable-alert-channel",
    description="In production, the cell has a notification channel and every alert policy of every Cloud SQL instance notifies it.",
    why=_WHY_CHANNEL,
    remediation=_FIX_CHANNEL,
    severity="high",
    enforcement="mandatory",
    controls=c.MONITORING,
    cloud="gcp",
    family="alarms",
    kind="stack",
    types=[t.SQL_INSTANCE, t.GCP_CHANNEL],
    matrix=[ALERT_CHANNEL],
)
def gcp_channel(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    return _heard(*_gcp(resources), ctx)


RULES = (aws_alarms, azure_alarms, gcp_alarms, aws_channel, azure_channel, gcp_channel)
