"""Alarms of an Azure cell: where they notify (one action group per cell, from the stack's
``tenancy:alerts``) and the Azure Monitor metric alerts on each Flexible Server and read
replica (from the tier's ``database.monitoring``, ``components/model/alarms.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure

from components.model.alarms import AlarmSpec, azure_window_minutes
from components.model.alerts import AlertChannel

# Flexible Server emits its deadlock count only with the database-activity collector on
# (a dynamic server parameter: no restart).
METRICS_PARAMETER = "metrics.collector_database_activity"
# Azure Monitor's operators for the model's comparisons.
OPERATORS = {
    "GreaterThanThreshold": "GreaterThan",
    "GreaterThanOrEqualToThreshold": "GreaterThanOrEqual",
}
SEVERITY_WARNING = 2
# Action groups are a global service (regional action groups exist only in a few regions);
# what they carry is the alert, not the database's data.
ACTION_GROUP_LOCATION = "Global"


@dataclass(frozen=True)
class CellAlertingArgs:
    group_name: str  # from the naming module
    short_name: str  # at most 12 characters: SMS and e-mail show it
    resource_group_name: Any  # Input[str]
    channels: Sequence[AlertChannel]
    tags: Mapping[str, str]


class CellAlerting(pulumi.ComponentResource):
    """The cell's action group: an e-mail receiver per e-mail channel, a webhook receiver
    per webhook, PagerDuty or Opsgenie endpoint (both take Azure's common alert schema)."""

    action_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: CellAlertingArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:azure:CellAlerting", name, None, opts)
        emails = [c for c in args.channels if c.is_email]
        hooks = [c for c in args.channels if not c.is_email]
        group = azure.monitor.ActionGroup(
            f"{name}-group",
            action_group_name=args.group_name,
            group_short_name=args.short_name,
            resource_group_name=args.resource_group_name,
            location=ACTION_GROUP_LOCATION,
            enabled=True,
            email_receivers=[
                {
                    "name": f"email-{index + 1}",
                    "email_address": channel.target,
                    "use_common_alert_schema": True,
                }
                for index, channel in enumerate(emails)
            ],
            webhook_receivers=[
                {
                    "name": f"{channel.kind}-{index + 1}",
                    "service_uri": channel.target,
                    "use_common_alert_schema": True,
                }
                for index, channel in enumerate(hooks)
            ],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.action_group_id = group.id
        self.register_outputs({"action_group_id": self.action_group_id})


def metrics_parameter(
    parent: pulumi.Resource,
    name: str,
    server_name: Any,
    resource_group_name: Any,
    after: pulumi.Resource | None,
) -> pulumi.Resource:
    """Turns on the collector the deadlock metric comes from, after the server's last
    parameter (Flexible Server takes one parameter change at a time)."""
    return azure.dbforpostgresql.Configuration(
        f"{name}-{METRICS_PARAMETER.replace('_', '-').replace('.', '-')}",
        configuration_name=METRICS_PARAMETER,
        server_name=server_name,
        resource_group_name=resource_group_name,
        value="on",
        source="user-override",
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[after] if after else []),
    )


@dataclass(frozen=True)
class ServerAlertsArgs:
    server_id: Any  # Input[str]: the Flexible Server (primary or replica) watched
    rule_prefix: str  # the server's physical name: each rule is <prefix>-<alarm key>
    specs: Sequence[AlarmSpec]
    period_minutes: int
    action_group_id: Any  # Input[str] | None: the cell's action group; None: nobody
    resource_group_name: Any  # Input[str]
    tags: Mapping[str, str]


def server_alerts(parent: pulumi.Resource, name: str, args: ServerAlertsArgs) -> None:
    """One metric alert per spec on one server, as children of ``parent``."""
    window = azure_window_minutes(args.period_minutes)
    actions = [{"action_group_id": args.action_group_id}] if args.action_group_id else []
    for spec in args.specs:
        azure.monitor.MetricAlert(
            f"{name}-alert-{spec.key}",
            rule_name=f"{args.rule_prefix}-{spec.key}",
            resource_group_name=args.resource_group_name,
            location="global",
            description=f"tenancy: {args.rule_prefix}: {spec.description}",
            severity=SEVERITY_WARNING,
            enabled=True,
            scopes=[args.server_id],
            # Azure requires the frequency to be at most the window.
            evaluation_frequency="PT1M" if window <= 5 else "PT5M",
            window_size=f"PT{window}M" if window < 60 else "PT1H",
            # Typed args, not a dict: criteria is a union, so the SDK could not tell which
            # type's camelCase names a dict's keys should get.
            criteria=azure.monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                all_of=[
                    azure.monitor.MetricCriteriaArgs(
                        criterion_type="StaticThresholdCriterion",
                        name=spec.key,
                        metric_name=spec.metric,
                        metric_namespace=spec.namespace,
                        operator=OPERATORS[spec.comparison],
                        threshold=spec.threshold,
                        time_aggregation=spec.statistic,
                    )
                ],
            ),
            auto_mitigate=True,
            actions=actions,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=parent),
        )
