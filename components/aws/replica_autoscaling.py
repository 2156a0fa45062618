"""Aurora read-replica autoscaling for a shard: Application Auto Scaling target,
target tracking on reader CPU, and scheduled floors for the tier's scale windows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.model.autoscaling import aws_cron

DIMENSION = "rds:cluster:ReadReplicaCount"
READER_CPU_METRIC = "RDSReaderAverageCPUUtilization"


@dataclass(frozen=True)
class ReplicaWindow:
    name: str
    start_cron: str  # 5-field cron, as in the catalog
    end_cron: str
    timezone: str
    min_replicas: int  # the floor while the window is open


@dataclass(frozen=True)
class ReplicaAutoscalingArgs:
    cluster_identifier: Any  # Input[str]
    region: str
    min_replicas: int
    max_replicas: int
    cpu_target_percent: int = 70
    scale_in_cooldown_seconds: int = 300  # replicas take minutes to start; do not flap
    scale_out_cooldown_seconds: int = 300
    windows: Sequence[ReplicaWindow] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


class ReplicaAutoscaling(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ReplicaAutoscalingArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:aws:ReplicaAutoscaling", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        scope = {
            "service_namespace": "rds",
            "scalable_dimension": DIMENSION,
            "region": args.region,
        }
        target = aws.appautoscaling.Target(
            f"{name}-target",
            resource_id=pulumi.Output.concat("cluster:", args.cluster_identifier),
            min_capacity=args.min_replicas,
            max_capacity=args.max_replicas,
            tags=dict(args.tags),
            opts=child,
            **scope,
        )
        aws.appautoscaling.Policy(
            f"{name}-cpu",
            policy_type="TargetTrackingScaling",
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration={
                "predefined_metric_specification": {"predefined_metric_type": READER_CPU_METRIC},
                "target_value": args.cpu_target_percent,
                "scale_in_cooldown": args.scale_in_cooldown_seconds,
                "scale_out_cooldown": args.scale_out_cooldown_seconds,
            },
            opts=child,
            **scope,
        )
        for window in args.windows:
            # Opening raises the floor; closing restores the profile's floor.
            for edge, cron, floor in (
                ("start", window.start_cron, window.min_replicas),
                ("end", window.end_cron, args.min_replicas),
            ):
                aws.appautoscaling.ScheduledAction(
                    f"{name}-{window.name}-{edge}",
                    resource_id=target.resource_id,
                    schedule=aws_cron(cron),
                    timezone=window.timezone,
                    scalable_target_action={
                        "min_capacity": floor,
                        "max_capacity": args.max_replicas,
                    },
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[target]),
                    **scope,
                )
        self.register_outputs({})
