"""The tenant-facing service of one namespace: ServiceAccount, Deployment, Service,
autoscaler (HPA, or a KEDA ScaledObject when the profile has scale windows) and PDB."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.k8s.namespace import cpu, memory
from components.model.catalog import AppProfile

APP_NAME = "tenant-api"
RUN_AS = 10001  # any non-root uid; the image must not need a specific one
KEDA_API_VERSION = "keda.sh/v1alpha1"


@dataclass(frozen=True)
class TenantWorkloadArgs:
    namespace: str
    labels: Mapping[str, str]  # the objects' labels
    # The pod template's labels: only values that never change with the workload's
    # membership, so onboarding a tenant does not restart the pods of a shared tier.
    template_labels: Mapping[str, str]
    app: AppProfile
    image: str
    port: int
    image_pull_policy: str = "IfNotPresent"  # prod images are digests; dev tags pass "Always"
    env: Mapping[str, str] = field(default_factory=dict)
    # Cloud workload identity: annotations for the ServiceAccount, labels for the pods.
    service_account_annotations: Mapping[str, Any] = field(default_factory=dict)
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    suspended: bool = False  # replicas 0 and no autoscaler; the namespace and its data stay
    readiness_path: str = "/readyz"
    liveness_path: str = "/livez"
    keda: pulumi.Resource | None = None  # the KEDA release; ScaledObjects wait for its CRDs


def selector(namespace: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/instance": namespace}


def _behavior(app: AppProfile) -> k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs:
    # An Args object, not a dict: it serializes to the API's camelCase names by itself, so
    # the same value also fits KEDA's untyped ScaledObject spec.
    v2 = k8s.autoscaling.v2
    return v2.HorizontalPodAutoscalerBehaviorArgs(
        # Scale up at once (Kubernetes' default rules); scale down slowly, as the tier says.
        scale_up=v2.HPAScalingRulesArgs(
            stabilization_window_seconds=0,
            select_policy="Max",
            policies=[
                v2.HPAScalingPolicyArgs(type="Percent", value=100, period_seconds=15),
                v2.HPAScalingPolicyArgs(type="Pods", value=4, period_seconds=15),
            ],
        ),
        scale_down=v2.HPAScalingRulesArgs(
            stabilization_window_seconds=app.scale_down_stabilization_seconds,
            select_policy="Max",
            policies=[v2.HPAScalingPolicyArgs(type="Percent", value=50, period_seconds=60)],
        ),
    )


def container_security() -> k8s.core.v1.SecurityContextArgsDict:
    """The restricted container context every tenancy pod runs with (apps and poolers)."""
    return {
        "run_as_non_root": True,
        "run_as_user": RUN_AS,
        "run_as_group": RUN_AS,
        "allow_privilege_escalation": False,
        "read_only_root_filesystem": True,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccomp_profile": {"type": "RuntimeDefault"},
    }


class TenantWorkload(pulumi.ComponentResource):
    service_account: pulumi.Output[str]

    def __init__(
        self, name: str, args: TenantWorkloadArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:k8s:TenantWorkload", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {**args.labels, **selector(args.namespace)}
        meta: k8s.meta.v1.ObjectMetaArgsDict = {"namespace": args.namespace, "labels": labels}
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata={
                **meta,
                "name": APP_NAME,
                "annotations": dict(args.service_account_annotations),
            },
            # Pods get no Kubernetes API token; cloud identity tokens are projected separately.
            automount_service_account_token=False,
            opts=child,
        )
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={**meta, "name": APP_NAME},
            spec=self._deployment_spec(args),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account]),
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata={**meta, "name": APP_NAME},
            spec={
                "type": "ClusterIP",
                "selector": selector(args.namespace),
                "ports": [
                    {"name": "http", "port": args.port, "target_port": "http", "protocol": "TCP"}
                ],
            },
            opts=child,
        )
        if not args.suspended:
            self._autoscaler(name, args, meta, deployment)
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-pdb",
                metadata={**meta, "name": APP_NAME},
                spec={
                    "min_available": args.app.pdb_min_available,
                    "selector": {"match_labels": selector(args.namespace)},
                    # A crash-looping pod must not block node drains.
                    "unhealthy_pod_eviction_policy": "AlwaysAllow",
                },
                opts=child,
            )
        self.service_account = account.metadata.apply(lambda m: m["name"])
        self.register_outputs({"service_account": self.service_account})

    @staticmethod
    def _deployment_spec(args: TenantWorkloadArgs) -> k8s.apps.v1.DeploymentSpecArgsDict:
        app = args.app
        spec: k8s.apps.v1.DeploymentSpecArgsDict = {
            "selector": {"match_labels": selector(args.namespace)},
            # One surge pod, none unavailable: the namespace quota reserves room for it.
            "strategy": {
                "type": "RollingUpdate",
                "rolling_update": {"max_surge": 1, "max_unavailable": 0},
            },
            "revision_history_limit": 5,
            "template": {
                "metadata": {
                    "labels": {
                        **args.template_labels,
                        **selector(args.namespace),
                        **args.pod_labels,
                    }
                },
                "spec": {
                    "service_account_name": APP_NAME,
                    "automount_service_account_token": False,
                    "security_context": {
                        "run_as_non_root": True,
                        "run_as_user": RUN_AS,
                        "run_as_group": RUN_AS,
                        "fs_group": RUN_AS,
                        "seccomp_profile": {"type": "RuntimeDefault"},
                    },
                    "topology_spread_constraints": [
                        {
                            "max_skew": 1,
                            "topology_key": "topology.kubernetes.io/zone",
                            "when_unsatisfiable": "ScheduleAnyway",
                            "label_selector": {"match_labels": selector(args.namespace)},
                        }
                    ],
                    "containers": [
                        {
                            "name": APP_NAME,
                            "image": args.image,
                            "image_pull_policy": args.image_pull_policy,
                            "ports": [
                                {"name": "http", "container_port": args.port, "protocol": "TCP"}
                            ],
                            "env": [{"name": k, "value": v} for k, v in sorted(args.env.items())],
                            "resources": {
                                "requests": {
                                    "cpu": cpu(app.cpu_request_millicores),
                                    "memory": memory(app.memory_request_mib),
                                },
                                "limits": {
                                    "cpu": cpu(app.cpu_limit_millicores),
                                    "memory": memory(app.memory_limit_mib),
                                },
                            },
                            "startup_probe": {
                                "http_get": {"port": "http", "path": args.readiness_path},
                                "period_seconds": 5,
                                "failure_threshold": 30,
                            },
                            "readiness_probe": {
                                "http_get": {"port": "http", "path": args.readiness_path},
                                "period_seconds": 10,
                                "failure_threshold": 3,
                            },
                            "liveness_probe": {
                                "http_get": {"port": "http", "path": args.liveness_path},
                                "period_seconds": 20,
                                "failure_threshold": 3,
                            },
                            "security_context": container_security(),
                            # A read-only root filesystem still needs somewhere to write temp files.
                            "volume_mounts": [{"name": "tmp", "mount_path": "/tmp"}],
                        }
                    ],
                    "volumes": [{"name": "tmp", "empty_dir": {"size_limit": "64Mi"}}],
                },
            },
        }
        if args.suspended:
            spec["replicas"] = 0
        # Otherwise replicas stay unset: the autoscaler owns them, and Pulumi never fights it.
        return spec

    def _autoscaler(
        self,
        name: str,
        args: TenantWorkloadArgs,
        meta: k8s.meta.v1.ObjectMetaArgsDict,
        deployment: k8s.apps.v1.Deployment,
    ) -> None:
        app = args.app
        # Args objects (not dicts) like _behavior's: the SDK's Args types take no dicts, and
        # KEDA's scaleTargetRef has the same shape.
        target = k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
            api_version="apps/v1", kind="Deployment", name=APP_NAME
        )
        if not app.scale_windows:
            v2 = k8s.autoscaling.v2
            hpa = v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=target,
                min_replicas=app.min_replicas,
                max_replicas=app.max_replicas,
                metrics=[
                    v2.MetricSpecArgs(
                        type="Resource",
                        resource=v2.ResourceMetricSourceArgs(
                            name=resource,
                            target=v2.MetricTargetArgs(
                                type="Utilization", average_utilization=value
                            ),
                        ),
                    )
                    for resource, value in (
                        ("cpu", app.cpu_target),
                        ("memory", app.memory_target),
                    )
                ],
                behavior=_behavior(app),
            )
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-hpa",
                metadata={**meta, "name": APP_NAME},
                spec=hpa,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[deployment]),
            )
            return
        # Two HPAs on one Deployment would fight, so with windows KEDA owns the one
        # autoscaling/v2 HPA: same bounds, targets and behavior, plus cron floors.
        triggers: list[dict[str, Any]] = [
            {"type": resource, "metricType": "Utilization", "metadata": {"value": str(value)}}
            for resource, value in (("cpu", app.cpu_target), ("memory", app.memory_target))
        ]
        triggers += [
            {
                "type": "cron",
                "name": window.name,
                "metadata": {
                    "timezone": window.timezone,
                    "start": window.start,
                    "end": window.end,
                    "desiredReplicas": str(window.min_replicas),
                },
            }
            for window in app.scale_windows
        ]
        depends: list[pulumi.Resource] = [deployment] + ([args.keda] if args.keda else [])
        k8s.apiextensions.CustomResource(
            f"{name}-scaledobject",
            api_version=KEDA_API_VERSION,
            kind="ScaledObject",
            metadata={**meta, "name": APP_NAME},
            spec={
                "scaleTargetRef": target,
                "minReplicaCount": app.min_replicas,
                "maxReplicaCount": app.max_replicas,
                "advanced": {
                    "horizontalPodAutoscalerConfig": {
                        "name": APP_NAME,
                        "behavior": _behavior(app),
                    }
                },
                "triggers": triggers,
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )
