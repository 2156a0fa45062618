"""KEDA, installed from its Helm chart, for the cron triggers of scheduled scale-up windows."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

KEDA_CHART = "keda"
KEDA_REPOSITORY = "https://kedacore.github.io/charts"
# Chart and app versions move together; tests/data/keda holds this version's CRD schema.
KEDA_CHART_VERSION = "2.20.2"


@dataclass(frozen=True)
class KedaArgs:
    namespace: str = "keda"
    version: str = KEDA_CHART_VERSION


class Keda(pulumi.ComponentResource):
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: KedaArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:k8s:Keda", name, None, opts)
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name="keda",
            chart=KEDA_CHART,
            version=args.version,
            repository_opts={"repo": KEDA_REPOSITORY},
            namespace=args.namespace,
            create_namespace=True,
            # The CRDs must exist before any ScaledObject; wait for the operator to be ready.
            skip_crds=False,
            atomic=True,
            cleanup_on_fail=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"status": self.release.status})
