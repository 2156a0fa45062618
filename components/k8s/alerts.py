"""An alert when a workload's autoscaler sits at its maximum: a Prometheus operator
``PrometheusRule`` on kube-state-metrics, emitted only where the stack says the cluster
runs the operator (``tenancy:prometheusOperator: true``; its CRD must exist)."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

PROMETHEUS_RULE_API_VERSION = "monitoring.coreos.com/v1"
ALERT_NAME = "TenancyHpaAtMaxReplicas"
# Long enough that a scale-out burst is not an incident; short enough to act before the
# tier's database connection budget or the cluster's capacity is the next wall.
FOR_DURATION = "15m"


def hpa_at_max_expression(namespace: str, hpa_name: str) -> str:
    """True while the HPA's current replicas have reached its spec's maximum."""
    match = f'namespace="{namespace}", horizontalpodautoscaler="{hpa_name}"'
    return (
        f"kube_horizontalpodautoscaler_status_current_replicas{{{match}}}"
        f" >= kube_horizontalpodautoscaler_spec_max_replicas{{{match}}}"
    )


def hpa_at_max_rule(
    name: str,
    namespace: str,
    hpa_name: str,
    tier: str,
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """One rule group with one alert for the HPA ``hpa_name`` in ``namespace``."""
    return k8s.apiextensions.CustomResource(
        f"{name}-hpa-at-max",
        api_version=PROMETHEUS_RULE_API_VERSION,
        kind="PrometheusRule",
        metadata={"name": f"{hpa_name}-hpa-at-max", "namespace": namespace, "labels": labels},
        spec={
            "groups": [
                {
                    "name": f"tenancy-{namespace}-autoscaling",
                    "rules": [
                        {
                            "alert": ALERT_NAME,
                            "expr": hpa_at_max_expression(namespace, hpa_name),
                            "for": FOR_DURATION,
                            "labels": {"severity": "warning", "tenancy_tier": tier},
                            "annotations": {
                                "summary": f"{namespace}/{hpa_name} is at its maximum replicas",
                                "description": (
                                    f"The autoscaler of tier {tier} in {namespace} has been at "
                                    f"max replicas for {FOR_DURATION}: raise app.max_replicas "
                                    "or move tenants to another tier or cell."
                                ),
                            },
                        }
                    ],
                }
            ]
        },
        opts=opts,
    )
