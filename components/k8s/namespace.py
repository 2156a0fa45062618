"""A tenant or tier namespace with Pod Security "restricted", a ResourceQuota and a LimitRange."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.model.catalog import AppProfile

# Pod Security Admission: enforce, audit and warn at "restricted", pinned to latest.
_PSA_MODES = ("enforce", "audit", "warn")
PSA_LABELS = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in _PSA_MODES} | {
    f"pod-security.kubernetes.io/{mode}-version": "latest" for mode in _PSA_MODES
}


def cpu(millicores: int) -> str:
    return f"{millicores}m"


def memory(mib: int) -> str:
    return f"{mib}Mi"


@dataclass(frozen=True)
class QuotaReserve:
    """Room in the quota for what else runs in the namespace (the GCP pooler's pods)."""

    pods: int = 0
    cpu_request_millicores: int = 0
    memory_request_mib: int = 0
    cpu_limit_millicores: int = 0
    memory_limit_mib: int = 0


@dataclass(frozen=True)
class TenantNamespaceArgs:
    namespace: str  # physical name (DNS-1123 label)
    labels: Mapping[str, str]  # tenant, tier, isolation
    app: AppProfile  # sizes the quota and the container defaults
    reserve: QuotaReserve = QuotaReserve()  # default: the app alone


class TenantNamespace(pulumi.ComponentResource):
    name: pulumi.Output[str]

    def __init__(
        self, name: str, args: TenantNamespaceArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:k8s:TenantNamespace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        app = args.app
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": args.namespace, "labels": {**args.labels, **PSA_LABELS}},
            opts=child,
        )
        scoped = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        pods, extra = app.effective_quota_pods, args.reserve
        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata={
                "name": "tier-quota",
                "namespace": args.namespace,
                "labels": dict(args.labels),
            },
            spec={
                "hard": {
                    "pods": str(pods + extra.pods),
                    "requests.cpu": cpu(
                        pods * app.cpu_request_millicores + extra.cpu_request_millicores
                    ),
                    "requests.memory": memory(
                        pods * app.memory_request_mib + extra.memory_request_mib
                    ),
                    "limits.cpu": cpu(
                        app.effective_quota_cpu_millicores + extra.cpu_limit_millicores
                    ),
                    "limits.memory": memory(
                        app.effective_quota_memory_mib + extra.memory_limit_mib
                    ),
                    # The service is reached through the ingress namespace only.
                    "services.loadbalancers": "0",
                    "services.nodeports": "0",
                }
            },
            opts=scoped,
        )
        limits = {"cpu": cpu(app.cpu_limit_millicores), "memory": memory(app.memory_limit_mib)}
        limit_range: k8s.core.v1.LimitRangeSpecArgsDict = {
            "limits": [
                {
                    "type": "Container",
                    "default": limits,
                    "default_request": {
                        "cpu": cpu(app.cpu_request_millicores),
                        "memory": memory(app.memory_request_mib),
                    },
                    "max": limits,
                }
            ]
        }
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata={
                "name": "tier-limits",
                "namespace": args.namespace,
                "labels": dict(args.labels),
            },
            spec=limit_range,
            opts=scoped,
        )
        self.name = namespace.metadata.apply(lambda meta: meta["name"])
        self.register_outputs({"name": self.name})
