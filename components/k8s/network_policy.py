"""Default-deny for a namespace, plus the allows its service needs: from ingress, DNS,
the database and, in silo namespaces, the workload identity's token endpoint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.model.identity_egress import EgressRule


def _ip_block(rule: EgressRule) -> k8s.networking.v1.IPBlockArgsDict:
    block: k8s.networking.v1.IPBlockArgsDict = {"cidr": rule.cidr}
    if rule.except_cidrs:
        block["except_"] = list(rule.except_cidrs)
    return block


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
    # Silo namespaces: egress to the cloud's token endpoint (components/model/identity_egress.py).
    identity_egress: Sequence[EgressRule] = ()
    # Where the tier's pooler listens when it is not the database port (Azure's PgBouncer: 6432).
    pooler_port: int | None = None


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

        def policy(suffix: str, spec: k8s.networking.v1.NetworkPolicySpecArgsDict) -> None:
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{suffix}",
                metadata={"name": suffix, "namespace": args.namespace, "labels": dict(args.labels)},
                spec=spec,
                opts=child,
            )

        # Selecting every pod with both policy types and no rules denies all traffic.
        policy("default-deny", {"pod_selector": {}, "policy_types": ["Ingress", "Egress"]})
        policy(
            "allow-from-ingress",
            {
                "pod_selector": {"match_labels": app},
                "policy_types": ["Ingress"],
                "ingress": [
                    {
                        "from_": [
                            {
                                "namespace_selector": {
                                    "match_labels": {
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
                "pod_selector": {},
                "policy_types": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespace_selector": {
                                    "match_labels": {
                                        "kubernetes.io/metadata.name": args.dns_namespace
                                    }
                                },
                                "pod_selector": {"match_labels": {"k8s-app": "kube-dns"}},
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
                "pod_selector": {"match_labels": app},
                "policy_types": ["Egress"],
                "egress": [
                    {
                        "to": [{"ip_block": {"cidr": cidr}} for cidr in args.database_cidrs],
                        "ports": [
                            {"protocol": "TCP", "port": port}
                            for port in (args.database_port, args.pooler_port)
                            if port is not None
                        ],
                    }
                ],
            },
        )
        if args.identity_egress:
            policy(
                "allow-identity-endpoint",
                {
                    "pod_selector": {"match_labels": app},
                    "policy_types": ["Egress"],
                    "egress": [
                        {
                            "to": [{"ip_block": _ip_block(rule)}],
                            "ports": [{"protocol": "TCP", "port": port} for port in rule.ports],
                        }
                        for rule in args.identity_egress
                    ],
                },
            )
        self.register_outputs({})
