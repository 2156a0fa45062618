"""Alarms of a GCP cell: where they notify (Cloud Monitoring notification channels from
the stack's ``tenancy:alerts``), the log-based metric counting failed logins, and the
alert policies on each Cloud SQL instance and read replica (from the tier's
``database.monitoring``, ``components/model/alarms.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from components.model.alarms import CLOUDSQL_RESOURCE, FAILED_CONNECTIONS_LOG_FILTER, AlarmSpec
from components.model.alerts import AlertChannel

COMPARISONS = {
    "GreaterThanThreshold": "COMPARISON_GT",
    "GreaterThanOrEqualToThreshold": "COMPARISON_GE",
}


def channel_inputs(channel: AlertChannel) -> dict[str, Any]:
    """A channel as Cloud Monitoring takes it: e-mail, PagerDuty by its integration key
    (a secret), and any other https endpoint (webhook, Opsgenie) as a token-auth webhook."""
    if channel.is_email:
        return {"type": "email", "labels": {"email_address": channel.target}}
    if channel.pagerduty_key is not None:
        return {
            "type": "pagerduty",
            "sensitive_labels": {"service_key": pulumi.Output.secret(channel.pagerduty_key)},
        }
    return {"type": "webhook_tokenauth", "labels": {"url": channel.target}}


@dataclass(frozen=True)
class CellAlertingArgs:
    project: str | None
    metric_name: str  # the failed-login log metric's name, unique in the project
    channel_prefix: str  # display names: <prefix>-<kind>-<n>
    channels: Sequence[AlertChannel]
    labels: Mapping[str, str]


class CellAlerting(pulumi.ComponentResource):
    """The cell's notification channels and its failed-login log metric."""

    channel_ids: list[pulumi.Output[str]]
    failed_connections_metric: str

    def __init__(
        self, name: str, args: CellAlertingArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:gcp:CellAlerting", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.channel_ids = [
            gcp.monitoring.NotificationChannel(
                f"{name}-{channel.kind}-{index + 1}",
                display_name=f"{args.channel_prefix}-{channel.kind}-{index + 1}",
                project=args.project,
                enabled=True,
                user_labels=dict(args.labels),
                **channel_inputs(channel),
                opts=child,
            ).id
            for index, channel in enumerate(args.channels)
        ]
        # Cloud SQL has no failed-login metric: count PostgreSQL's log lines
        # (log_connections is on). Project-level log metrics count entries whatever
        # the sinks and exclusions do with them afterwards.
        gcp.logging.Metric(
            f"{name}-failed-connections",
            name=args.metric_name,
            project=args.project,
            description="tenancy: failed PostgreSQL password logins per Cloud SQL instance",
            filter=FAILED_CONNECTIONS_LOG_FILTER,
            metric_descriptor={"metric_kind": "DELTA", "value_type": "INT64", "unit": "1"},
            opts=child,
        )
        self.failed_connections_metric = args.metric_name
        self.register_outputs({"channel_ids": self.channel_ids})


@dataclass(frozen=True)
class InstanceAlertsArgs:
    project: Any  # Input[str]: the instance's project
    instance_name: str  # the instance's physical name: policies are <name>-<alarm key>
    specs: Sequence[AlarmSpec]
    period_minutes: int
    channel_ids: Sequence[Any]  # Input[str] each: the cell's notification channels
    labels: Mapping[str, str]


def _filter(database_id: Any, metric: str) -> Any:
    """Cloud Monitoring filter of one metric on one instance (``project:instance``)."""
    return pulumi.Output.concat(
        f'resource.type = "{CLOUDSQL_RESOURCE}" AND resource.labels.database_id = "',
        database_id,
        f'" AND metric.type = "{metric}"',
    )


def instance_alerts(parent: pulumi.Resource, name: str, args: InstanceAlertsArgs) -> None:
    """One alert policy per spec on one instance, as children of ``parent``."""
    database_id = pulumi.Output.concat(args.project, ":", args.instance_name)
    for spec in args.specs:
        aggregation = {
            "alignment_period": f"{args.period_minutes * 60}s",
            "per_series_aligner": spec.statistic,
        }
        if spec.reducer is not None:
            aggregation["cross_series_reducer"] = spec.reducer
        gcp.monitoring.AlertPolicy(
            f"{name}-alert-{spec.key}",
            display_name=f"{args.instance_name}-{spec.key}",
            project=args.project,
            combiner="OR",
            conditions=[
                {
                    "display_name": spec.description,
                    "condition_threshold": {
                        "filter": _filter(database_id, spec.metric),
                        "comparison": COMPARISONS[spec.comparison],
                        "threshold_value": spec.threshold,
                        "duration": "0s",
                        "aggregations": [aggregation],
                        "trigger": {"count": 1},
                    },
                }
            ],
            documentation={
                "content": f"tenancy: {args.instance_name}: {spec.description}",
                "mime_type": "text/markdown",
            },
            notification_channels=list(args.channel_ids),
            severity="WARNING",
            user_labels=dict(args.labels),
            opts=pulumi.ResourceOptions(parent=parent),
        )
