"""Alarms of an Aurora cell: where they notify (an SNS topic encrypted with the cell's log
key, whose policy lets CloudWatch use it), what they watch on each cluster (from the
tier's ``database.monitoring``), and the enhanced-monitoring role of the instances.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws.trust import service_trust_policy
from components.model.alarms import (
    FAILED_CONNECTIONS_NAMESPACE,
    FAILED_CONNECTIONS_PATTERN,
    AlarmSpec,
)
from components.model.alerts import AlertChannel

ENHANCED_MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


@dataclass(frozen=True)
class CellAlertingArgs:
    topic_name: str  # from the naming module
    role_name: str  # the enhanced-monitoring role, from the naming module
    kms_key_arn: Any  # Input[str]: the cell's log key (its policy admits CloudWatch)
    channels: Sequence[AlertChannel]
    region: str
    tags: Mapping[str, str]


class CellAlerting(pulumi.ComponentResource):
    """The cell's alarm topic with one subscription per channel, and the role RDS enhanced
    monitoring publishes OS metrics with."""

    topic_arn: pulumi.Output[str]
    monitoring_role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: CellAlertingArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:aws:CellAlerting", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        topic = aws.sns.Topic(
            f"{name}-topic",
            name=args.topic_name,
            kms_master_key_id=args.kms_key_arn,
            region=args.region,
            tags=dict(args.tags),
            opts=child,
        )
        for index, channel in enumerate(args.channels):
            aws.sns.TopicSubscription(
                f"{name}-{channel.kind}-{index + 1}",
                topic=topic.arn,
                protocol="email" if channel.is_email else "https",
                endpoint=channel.target,
                region=args.region,
                opts=child,
            )
        role = aws.iam.Role(
            f"{name}-monitoring-role",
            name=args.role_name,
            assume_role_policy=service_trust_policy("monitoring.rds.amazonaws.com"),
            tags=dict(args.tags),
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-monitoring-policy",
            role=role.name,
            policy_arn=ENHANCED_MONITORING_POLICY,
            opts=child,
        )
        self.topic_arn = topic.arn
        self.monitoring_role_arn = role.arn
        self.register_outputs(
            {"topic_arn": self.topic_arn, "monitoring_role_arn": self.monitoring_role_arn}
        )


def _failed_connections_metric(cluster_identifier: str) -> str:
    return f"FailedConnections-{cluster_identifier}"


def cluster_alarms(
    parent: pulumi.Resource,
    name: str,
    cluster_identifier: str,
    specs: Sequence[AlarmSpec],
    period_minutes: int,
    topic_arn: Any,
    log_group: aws.cloudwatch.LogGroup | None,
    region: str,
    tags: Mapping[str, str],
) -> None:
    """One CloudWatch alarm per spec on the cluster, notifying ``topic_arn`` (None: none).

    Failed logins have no RDS metric: a metric filter on the cluster's log group counts
    PostgreSQL's "password authentication failed" lines (log_connections is on)."""
    actions = [topic_arn] if topic_arn is not None else []
    for spec in specs:
        dimensions: dict[str, str] = {"DBClusterIdentifier": cluster_identifier}
        metric = spec.metric
        if spec.namespace == FAILED_CONNECTIONS_NAMESPACE:
            if log_group is None:
                continue
            metric = _failed_connections_metric(cluster_identifier)
            dimensions = {}
            aws.cloudwatch.LogMetricFilter(
                f"{name}-failed-connections-filter",
                name=metric,
                log_group_name=log_group.name,
                pattern=FAILED_CONNECTIONS_PATTERN,
                metric_transformation={
                    "name": metric,
                    "namespace": spec.namespace,
                    "value": "1",
                    "default_value": "0",
                },
                region=region,
                opts=pulumi.ResourceOptions(parent=parent),
            )
        elif spec.role is not None:
            dimensions["Role"] = spec.role
        aws.cloudwatch.MetricAlarm(
            f"{name}-alarm-{spec.key}",
            name=f"{cluster_identifier}-{spec.key}",
            alarm_description=f"tenancy: {cluster_identifier}: {spec.description}",
            namespace=spec.namespace,
            metric_name=metric,
            dimensions=dimensions,
            statistic=spec.statistic,
            period=period_minutes * 60,
            evaluation_periods=1,
            threshold=spec.threshold,
            comparison_operator=spec.comparison,
            # No data is no trouble (an idle reader, a quiet log); it is not a breach.
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            region=region,
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=parent),
        )
