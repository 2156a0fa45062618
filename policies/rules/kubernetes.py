"""Kubernetes: HPA bounds per tier, replicas in prod, PDBs, restricted pods, default deny."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import controls as c
from .. import types as t
from ..framework import Ctx, Res, cannot_verify, get, is_production, is_unknown, rule, tenancy_tags


def _labels(props: Mapping[str, Any]) -> dict[str, str]:
    return tenancy_tags(get(props, "metadata", "labels"))


def _scaling(resource_type: str, props: Mapping[str, Any]) -> tuple[Any, Any, dict[str, Any]]:
    """(min, max, {cpu|memory: utilization target}) of an HPA or a KEDA ScaledObject."""
    targets: dict[str, Any] = {}
    if resource_type == t.KEDA_SCALED_OBJECT:
        for trigger in get(props, "spec", "triggers") or ():
            kind = get(trigger, "type")
            if kind in ("cpu", "memory") and get(trigger, "metricType") == "Utilization":
                value = get(trigger, "metadata", "value")
                targets[kind] = int(value) if str(value).isdigit() else value
        spec = props.get("spec") or {}
        return spec.get("minReplicaCount"), spec.get("maxReplicaCount"), targets
    for metric in get(props, "spec", "metrics") or ():
        if get(metric, "type") == "Resource":
            targets[get(metric, "resource", "name")] = get(
                metric, "resource", "target", "averageUtilization"
            )
    return get(props, "spec", "minReplicas"), get(props, "spec", "maxReplicas"), targets


@rule(
    id="k8s-autoscaling-hpa-configure-tier-bounds",
    description="HorizontalPodAutoscalers (autoscaling/v2) and KEDA ScaledObjects scale within their tier's replica bounds and use CPU (and memory) utilization targets no higher than the tier's.",
    why="An HPA above the tier's maximum lets one tenant's load take capacity paid for by others (noisy neighbour); a floor below the tier's or a target above it breaks the tier's availability promise.",
    remediation="Render the HPA from tiers.<tier>.app (min_replicas, max_replicas, cpu_target, memory_target); tenant overrides must stay inside the tier's bounds.",
    severity="medium",
    enforcement="mandatory",
    controls=c.AUTOSCALING,
    cloud="kubernetes",
    family="kubernetes",
    types=[t.K8S_HPA, t.KEDA_SCALED_OBJECT],
    config_keys=["tierAppLimits"],
)
def hpa_tier_bounds(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str] | None:
    if get(props, "metadata", "labels", "app.kubernetes.io/name") == "pgbouncer":
        # The GCP pooler's own HPA: its bounds split the tier's pool size over its pods
        # (components/model/pgbouncer.py), not the tier's app replicas.
        return None
    tier = _labels(props).get("tier")
    limits = (ctx.config.get("tierAppLimits") or {}).get(tier)
    if not limits:
        return [
            cannot_verify(
                "the HPA bounds", reason=f"tier {tier!r} has no app limits in the policy config"
            )
        ]
    low, high, targets = _scaling(resource_type, props)
    found = []
    if is_unknown(low) or is_unknown(high):
        found.append(cannot_verify("minReplicas and maxReplicas", low if is_unknown(low) else high))
    else:
        if low < limits["minReplicas"]:
            found.append(
                f"minReplicas is {low}; tier {tier} requires at least {limits['minReplicas']}"
            )
        if high > limits["maxReplicas"]:
            found.append(
                f"maxReplicas is {high}; tier {tier} allows at most {limits['maxReplicas']}"
            )
        if low > high:
            found.append(f"minReplicas {low} exceeds maxReplicas {high}")
    if "cpu" not in targets:
        found.append("no CPU utilization metric; the HPA must scale on CPU")
    for name, key in (("cpu", "cpuTarget"), ("memory", "memoryTarget")):
        value = targets.get(name)
        if name in targets and (not isinstance(value, int) or value > limits[key]):
            found.append(
                f"{name} averageUtilization is {value}; tier {tier} allows at most {limits[key]}"
            )
    return found


@rule(
    id="k8s-autoscaling-hpa-configure-prod-min-replicas",
    description="In production, every HPA or ScaledObject keeps at least prodMinReplicas (2) replicas.",
    why="A single replica has no failover: a node drain, an eviction or a crash is an outage for every tenant the service serves.",
    remediation="Set the tier's app.min_replicas to 2 or more (and keep overrides at or above it).",
    severity="high",
    enforcement="mandatory",
    controls=c.AUTOSCALING,
    cloud="kubernetes",
    family="kubernetes",
    types=[t.K8S_HPA, t.KEDA_SCALED_OBJECT],
    config_keys=["prodMinReplicas", "productionEnvironments"],
)
def hpa_prod_min(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str] | None:
    if is_production(_labels(props), ctx) is False:
        return None
    low = _scaling(resource_type, props)[0]
    need = ctx.config.get("prodMinReplicas", 2)
    if is_unknown(low):
        return [cannot_verify("minReplicas", low)]
    return [] if low >= need else [f"minReplicas is {low}; production requires at least {need}"]


def _containers(spec: Any) -> list[Mapping[str, Any]]:
    return [
        c
        for key in ("initContainers", "containers")
        for c in (get(spec, key) or ())
        if isinstance(c, Mapping)
    ]


@rule(
    id="k8s-apps-deployment-configure-restricted-security-context",
    description="Deployments meet the Pod Security 'restricted' profile: non-root, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp.",
    why="A container that may run as root or escalate privileges turns an application bug into a node compromise, and a node holds the traffic of many tenants.",
    remediation="Set pod securityContext {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}} and per container {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}.",
    severity="high",
    enforcement="mandatory",
    controls=c.WORKLOAD,
    cloud="kubernetes",
    family="kubernetes",
    types=[t.K8S_DEPLOYMENT],
)
def restricted_pods(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    spec = get(props, "spec", "template", "spec")
    if is_unknown(spec) or not isinstance(spec, Mapping):
        return [cannot_verify("the pod template", spec)]
    pod = spec.get("securityContext") or {}
    found = []
    for container in _containers(spec):
        name = container.get("name")
        own = container.get("securityContext") or {}
        if own.get("runAsNonRoot", pod.get("runAsNonRoot")) is not True:
            found.append(f"container {name}: runAsNonRoot is not true")
        if own.get("runAsUser", pod.get("runAsUser")) == 0:
            found.append(f"container {name}: runAsUser is 0 (root)")
        if own.get("allowPrivilegeEscalation") is not False:
            found.append(f"container {name}: allowPrivilegeEscalation is not false")
        if own.get("privileged") is True:
            found.append(f"container {name}: privileged is true")
        if "ALL" not in (get(own, "capabilities", "drop") or ()):
            found.append(f"container {name}: capabilities.drop does not include ALL")
        seccomp = get(own, "seccompProfile", "type") or get(pod, "seccompProfile", "type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(
                f"container {name}: seccompProfile is {seccomp}; it must be RuntimeDefault"
            )
    if not _containers(spec):
        found.append(cannot_verify("the containers", None))
    return found


def _namespace(r: Res) -> Any:
    return get(r.props, "metadata", "namespace")


def _evicts_all(budget: Res) -> bool:
    spec = budget.props.get("spec") or {}
    return spec.get("minAvailable") in (0, "0", "0%") or spec.get("maxUnavailable") == "100%"


@rule(
    id="k8s-policy-pdb-enable-disruption-budget",
    description="Every Deployment has a PodDisruptionBudget in its namespace that selects its pods and keeps at least one available.",
    why="Without a PDB a node upgrade may evict every replica at once, turning routine maintenance into an outage.",
    remediation="Add a policy/v1 PodDisruptionBudget with selector.matchLabels equal to the Deployment's pod labels and minAvailable >= 1 (tiers.<tier>.app.pdb_min_available).",
    severity="medium",
    enforcement="mandatory",
    controls=c.AUTOSCALING,
    cloud="kubernetes",
    family="kubernetes",
    kind="stack",
    types=[t.K8S_DEPLOYMENT],
)
def pdb_present(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    # namespace -> distinct selector -> "some budget with it lets every pod go"
    budgets: dict[Any, dict[tuple[tuple[str, Any], ...], bool]] = {}
    for r in resources:
        selector = get(r.props, "spec", "selector", "matchLabels")
        if r.type == t.K8S_PDB and isinstance(selector, Mapping) and selector:
            group = budgets.setdefault(_namespace(r), {})
            key = tuple(sorted(selector.items()))
            group[key] = group.get(key, False) or _evicts_all(r)
    results = []
    for deployment in resources:
        if deployment.type != t.K8S_DEPLOYMENT:
            continue
        labels = get(deployment.props, "spec", "template", "metadata", "labels") or {}
        matching = [
            evicts_all
            for selector, evicts_all in budgets.get(_namespace(deployment), {}).items()
            if all(labels.get(k) == v for k, v in selector)
        ]
        if not matching:
            found = ["no PodDisruptionBudget selects the Deployment's pods"]
        elif any(matching):
            found = ["the PodDisruptionBudget lets every pod be evicted at once"]
        else:
            found = []
        results.append((deployment.urn, found))
    return results


def _default_deny(policy: Res) -> bool:
    spec = policy.props.get("spec") or {}
    selector = spec.get("podSelector")
    empty_selector = selector == {} or (
        isinstance(selector, Mapping)
        and not selector.get("matchLabels")
        and not selector.get("matchExpressions")
    )
    types = set(spec.get("policyTypes") or ())
    return (
        empty_selector
        and {"Ingress", "Egress"} <= types
        and not spec.get("ingress")
        and not spec.get("egress")
    )


@rule(
    id="k8s-networking-networkpolicy-enable-default-deny",
    description="Every namespace the program creates has a default-deny NetworkPolicy (all pods, Ingress and Egress, no rules); explicit allows come on top.",
    why="Without default deny any pod of any tenant can open connections to every other namespace, so one compromised workload reaches all tenants.",
    remediation="Add a networking.k8s.io/v1 NetworkPolicy with podSelector {} and policyTypes [Ingress, Egress] and no rules to the namespace.",
    severity="high",
    enforcement="mandatory",
    controls=c.SEGREGATION,
    cloud="kubernetes",
    family="kubernetes",
    kind="stack",
    types=[t.K8S_NAMESPACE],
)
def default_deny(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    covered: set[Any] = set()  # namespace names and URNs with a default-deny policy
    for r in resources:
        if r.type == t.K8S_NETWORK_POLICY and _default_deny(r):
            covered.add(_namespace(r))
            covered.update(r.dependencies)
    results = []
    for namespace in resources:
        if namespace.type != t.K8S_NAMESPACE:
            continue
        name = get(namespace.props, "metadata", "name")
        ok = name in covered or namespace.urn in covered
        results.append(
            (namespace.urn, [] if ok else [f"namespace {name} has no default-deny NetworkPolicy"])
        )
    return results


RULES = (hpa_tier_bounds, hpa_prod_min, restricted_pods, pdb_present, default_deny)
