"""Default-deny for a namespace, plus the three allows its service needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class NamespaceNetworkPoliciesArgs:
    namespace: str
    labels: Mapping[str, str]
    app_selector: Mapping[str, str]  # pod labels of the service
    app_port: int
    database_port: int
    database_cidrs: Sequence[str]  # where the tenant's database lives (private ranges)
    ingress_namespace: str = "ingress-nginx"  # the only namespace that may call the service
    dns_namespace: str = "kube-system"


class NamespaceNetworkPolicies(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        args: NamespaceNetworkPoliciesArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("tenancy:k8s:NamespaceNetworkPolicies", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        app = dict(args.app_selector)

        def policy(suffix: str, spec: dict) -> None:
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{suffix}",
                metadata={"name": suffix, "namespace": args.namespace, "labels": dict(args.labels)},
                spec=spec,
                opts=child,
            )

        # Selecting every pod with both policy types and no rules denies all traffic.
        policy("default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
        policy(
            "allow-from-ingress",
            {
                "podSelector": {"matchLabels": app},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {
                                        "kubernetes.io/metadata.name": args.ingress_namespace
                                    }
                                }
                            }
                        ],
                        "ports": [{"protocol": "TCP", "port": args.app_port}],
                    }
                ],
            },
        )
        policy(
            "allow-dns",
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {
                                        "kubernetes.io/metadata.name": args.dns_namespace
                                    }
                                },
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [
                            {"protocol": "UDP", "port": 53},
                            {"protocol": "TCP", "port": 53},
                        ],
                    }
                ],
            },
        )
        policy(
            "allow-database",
            {
                "podSelector": {"matchLabels": app},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [{"ipBlock": {"cidr": cidr}} for cidr in args.database_cidrs],
                        "ports": [{"protocol": "TCP", "port": args.database_port}],
                    }
                ],
            },
        )
        self.register_outputs({})
