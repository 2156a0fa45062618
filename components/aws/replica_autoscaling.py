"""Aurora read-replica autoscaling for a server (silo tenant or shard): Application Auto
Scaling target, target tracking on reader CPU, and scheduled floors for the tier's scale
windows. ``replica_autoscaling`` maps a server's ``ReplicaArgs`` onto it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

import pulumi
import pulumi_aws as aws

from components.args import ReplicaArgs, ReplicaWindowArgs
from components.model.autoscaling import aws_cron

DIMENSION = "rds:cluster:ReadReplicaCount"
READER_CPU_METRIC = "RDSReaderAverageCPUUtilization"


class _Scope(TypedDict):
    """The arguments that tie the target, its policy and its scheduled actions together."""

    service_namespace: str
    scalable_dimension: str
    region: str


@dataclass(frozen=True)
class ReplicaAutoscalingArgs:
    cluster_identifier: Any  # Input[str]
    region: str
    min_replicas: int
    max_replicas: int
    cpu_target_percent: int = 70
    scale_in_cooldown_seconds: int = 300  # replicas take minutes to start; do not flap
    scale_out_cooldown_seconds: int = 300
    windows: Sequence[ReplicaWindowArgs] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


class ReplicaAutoscaling(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ReplicaAutoscalingArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:aws:ReplicaAutoscaling", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        scope: _Scope = {
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


def replica_autoscaling(
    parent: pulumi.Resource,
    name: str,
    cluster_identifier: Any,
    region: str,
    tags: Mapping[str, str],
    replicas: ReplicaArgs,
) -> ReplicaAutoscaling | None:
    """The server's read replicas, CPU target and scale windows on an Aurora cluster, as a
    child of ``parent``; None when no replicas are allowed (max_count 0)."""
    if replicas.max_count == 0:
        return None
    return ReplicaAutoscaling(
        f"{name}-replicas",
        ReplicaAutoscalingArgs(
            cluster_identifier=cluster_identifier,
            region=region,
            min_replicas=replicas.min_count,
            max_replicas=replicas.max_count,
            cpu_target_percent=replicas.cpu_target_percent,
            windows=tuple(replicas.windows),
            tags=tags,
        ),
        pulumi.ResourceOptions(parent=parent),
    )
