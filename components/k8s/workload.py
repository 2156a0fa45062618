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
    labels: Mapping[str, str]
    app: AppProfile
    image: str
    port: int
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


def _behavior(app: AppProfile) -> dict[str, Any]:
    return {
        # Scale up at once (Kubernetes' default rules); scale down slowly, as the tier says.
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Percent", "value": 100, "periodSeconds": 15},
                {"type": "Pods", "value": 4, "periodSeconds": 15},
            ],
        },
        "scaleDown": {
            "stabilizationWindowSeconds": app.scale_down_stabilization_seconds,
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
        },
    }


def _container_security() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


class TenantWorkload(pulumi.ComponentResource):
    service_account: pulumi.Output[str]

    def __init__(
        self, name: str, args: TenantWorkloadArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:k8s:TenantWorkload", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {**args.labels, **selector(args.namespace)}
        meta = {"namespace": args.namespace, "labels": labels}
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
            spec=self._deployment_spec(args, labels),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account]),
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata={**meta, "name": APP_NAME},
            spec={
                "type": "ClusterIP",
                "selector": selector(args.namespace),
                "ports": [
                    {"name": "http", "port": args.port, "targetPort": "http", "protocol": "TCP"}
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
                    "minAvailable": args.app.pdb_min_available,
                    "selector": {"matchLabels": selector(args.namespace)},
                    # A crash-looping pod must not block node drains.
                    "unhealthyPodEvictionPolicy": "AlwaysAllow",
                },
                opts=child,
            )
        self.service_account = account.metadata.apply(lambda m: m["name"])
        self.register_outputs({"service_account": self.service_account})

    @staticmethod
    def _deployment_spec(args: TenantWorkloadArgs, labels: dict[str, str]) -> dict[str, Any]:
        app = args.app
        probe = {"port": "http"}
        spec: dict[str, Any] = {
            "selector": {"matchLabels": selector(args.namespace)},
            # One surge pod, none unavailable: the namespace quota reserves room for it.
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "revisionHistoryLimit": 5,
            "template": {
                "metadata": {"labels": {**labels, **args.pod_labels}},
                "spec": {
                    "serviceAccountName": APP_NAME,
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": RUN_AS,
                        "runAsGroup": RUN_AS,
                        "fsGroup": RUN_AS,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "topology.kubernetes.io/zone",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": selector(args.namespace)},
                        }
                    ],
                    "containers": [
                        {
                            "name": APP_NAME,
                            "image": args.image,
                            "ports": [
                                {"name": "http", "containerPort": args.port, "protocol": "TCP"}
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
                            "startupProbe": {
                                "httpGet": {**probe, "path": args.readiness_path},
                                "periodSeconds": 5,
                                "failureThreshold": 30,
                            },
                            "readinessProbe": {
                                "httpGet": {**probe, "path": args.readiness_path},
                                "periodSeconds": 10,
                                "failureThreshold": 3,
                            },
                            "livenessProbe": {
                                "httpGet": {**probe, "path": args.liveness_path},
                                "periodSeconds": 20,
                                "failureThreshold": 3,
                            },
                            "securityContext": _container_security(),
                            # A read-only root filesystem still needs somewhere to write temp files.
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        }
                    ],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
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
        meta: dict[str, Any],
        deployment: k8s.apps.v1.Deployment,
    ) -> None:
        app = args.app
        target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": APP_NAME}
        if not app.scale_windows:
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-hpa",
                metadata={**meta, "name": APP_NAME},
                spec={
                    "scaleTargetRef": target,
                    "minReplicas": app.min_replicas,
                    "maxReplicas": app.max_replicas,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": resource,
                                "target": {"type": "Utilization", "averageUtilization": value},
                            },
                        }
                        for resource, value in (
                            ("cpu", app.cpu_target),
                            ("memory", app.memory_target),
                        )
                    ],
                    "behavior": _behavior(app),
                },
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
