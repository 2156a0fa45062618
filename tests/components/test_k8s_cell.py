"""The cell's Kubernetes side, through the offline plan: each tier's autoscaling, PDB,
quota and network policies; silo namespaces and identities; schema checks of every manifest."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from components.k8s.keda import KEDA_CHART_VERSION
from components.model.catalog import AppProfile
from components.model.validation import parse_catalog
from infra.plan import plan_stack

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "stacks" / "tenants.yaml"
KEDA_SCHEMA = ROOT / "tests" / "data" / "keda" / "scaledobject-v1alpha1.schema.json"
STACKS = ("dev-aws-eu-central-1", "dev-azure-westeurope", "dev-gcp-us-central1")
K8S_VERSION = kubernetes_validate.utils.latest_version()

HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMITS = "kubernetes:core/v1:LimitRange"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
NAMESPACE = "kubernetes:core/v1:Namespace"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SA = "kubernetes:core/v1:ServiceAccount"
RELEASE = "kubernetes:helm.sh/v3:Release"


class K8sPlan:
    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.resources = data["resources"]
        self.by_urn = {r["urn"]: r for r in self.resources}

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == kind]

    def in_namespace(self, kind: str, namespace: str) -> list[dict[str, Any]]:
        return [
            r for r in self.of_type(kind) if r["inputs"]["metadata"].get("namespace") == namespace
        ]

    def namespaces(self) -> dict[str, dict[str, str]]:
        return {
            r["inputs"]["metadata"]["name"]: r["inputs"]["metadata"]["labels"]
            for r in self.of_type(NAMESPACE)
        }

    def manifests(self) -> list[dict[str, Any]]:
        return [
            r
            for r in self.resources
            if r["custom"] and r["type"].startswith("kubernetes:") and r["type"] != RELEASE
        ]


@pytest.fixture(scope="module", params=STACKS)
def plan(request: pytest.FixtureRequest) -> K8sPlan:
    return K8sPlan(plan_stack(request.param))


@pytest.fixture(scope="module")
def aws() -> K8sPlan:
    return K8sPlan(plan_stack(STACKS[0]))


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return parse_catalog(CATALOG.read_text(), str(CATALOG))


def _profile(catalog, labels: dict[str, str]) -> AppProfile:  # type: ignore[no-untyped-def]
    tier = catalog.tiers[labels["tenancy.dev/tier"]]
    tenant_id = labels["tenancy.dev/tenant"]
    tenant = next((t for t in catalog.tenants if t.id == tenant_id), None)
    if tenant is None:
        return tier.app
    return tier.app.model_copy(update=tenant.overrides.app.model_dump(exclude_none=True))


def _suspended(catalog, labels: dict[str, str]) -> bool:  # type: ignore[no-untyped-def]
    members = [
        t
        for t in catalog.tenants
        if t.tier == labels["tenancy.dev/tier"]
        and (labels["tenancy.dev/tenant"] in (t.id, "shared"))
    ]
    return all(t.status == "suspended" for t in members)


def _autoscaler(plan: K8sPlan, namespace: str) -> tuple[str, dict[str, Any]]:
    found = plan.in_namespace(HPA, namespace) + plan.in_namespace(SCALED_OBJECT, namespace)
    (one,) = found
    return one["type"], one["inputs"]["spec"]


# --- per tier ----------------------------------------------------------------------


def test_each_tier_yields_its_autoscaling_bounds_targets_and_behavior(
    plan: K8sPlan, catalog
) -> None:  # type: ignore[no-untyped-def]
    for namespace, labels in plan.namespaces().items():
        if _suspended(catalog, labels) and labels["tenancy.dev/isolation"] == "silo":
            continue
        app = _profile(catalog, labels)
        kind, spec = _autoscaler(plan, namespace)
        behavior = (
            spec["behavior"]
            if kind == HPA
            else spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
        )
        assert (
            behavior["scaleDown"]["stabilizationWindowSeconds"]
            == app.scale_down_stabilization_seconds
        )
        if kind == HPA:
            assert not app.scale_windows
            assert (spec["minReplicas"], spec["maxReplicas"]) == (
                app.min_replicas,
                app.max_replicas,
            )
            targets = {
                m["resource"]["name"]: m["resource"]["target"]["averageUtilization"]
                for m in spec["metrics"]
            }
        else:
            assert app.scale_windows
            assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (
                app.min_replicas,
                app.max_replicas,
            )
            targets = {
                t["type"]: int(t["metadata"]["value"])
                for t in spec["triggers"]
                if t["type"] != "cron"
            }
        assert targets == {"cpu": app.cpu_target, "memory": app.memory_target}


def test_standard_tier_business_hours_window_is_a_keda_cron_trigger(aws: K8sPlan) -> None:
    (scaled,) = aws.in_namespace(SCALED_OBJECT, "tnc-tier-standard")
    (cron,) = [t for t in scaled["inputs"]["spec"]["triggers"] if t["type"] == "cron"]
    assert cron["metadata"] == {
        "timezone": "Europe/Berlin",
        "start": "0 7 * * 1-5",
        "end": "0 19 * * 1-5",
        "desiredReplicas": "6",
    }
    # KEDA owns the one HPA of the Deployment: no second, competing HPA.
    assert aws.in_namespace(HPA, "tnc-tier-standard") == []


def test_keda_is_installed_from_its_pinned_chart_before_any_scaled_object(aws: K8sPlan) -> None:
    (release,) = aws.of_type(RELEASE)
    assert release["inputs"]["chart"] == "keda"
    assert release["inputs"]["version"] == KEDA_CHART_VERSION
    assert release["inputs"]["repositoryOpts"]["repo"] == "https://kedacore.github.io/charts"
    for scaled in aws.of_type(SCALED_OBJECT):
        assert release["urn"] in scaled["dependencies"]


def test_each_namespace_has_the_tiers_pdb(plan: K8sPlan, catalog) -> None:  # type: ignore[no-untyped-def]
    for namespace, labels in plan.namespaces().items():
        budgets = plan.in_namespace(PDB, namespace)
        if _suspended(catalog, labels):
            assert budgets == []
            continue
        (budget,) = budgets
        assert (
            budget["inputs"]["spec"]["minAvailable"] == _profile(catalog, labels).pdb_min_available
        )


def test_each_namespace_has_the_tiers_quota_and_limit_range(plan: K8sPlan, catalog) -> None:  # type: ignore[no-untyped-def]
    for namespace, labels in plan.namespaces().items():
        app = _profile(catalog, labels)
        (quota,) = plan.in_namespace(QUOTA, namespace)
        hard = quota["inputs"]["spec"]["hard"]
        assert hard["pods"] == str(app.max_replicas + 1)
        assert hard["limits.cpu"] == f"{(app.max_replicas + 1) * app.cpu_limit_millicores}m"
        assert hard["limits.memory"] == f"{(app.max_replicas + 1) * app.memory_limit_mib}Mi"
        assert hard["services.loadbalancers"] == "0"
        (limits,) = plan.in_namespace(LIMITS, namespace)
        (container,) = limits["inputs"]["spec"]["limits"]
        assert container["max"] == {
            "cpu": f"{app.cpu_limit_millicores}m",
            "memory": f"{app.memory_limit_mib}Mi",
        }


def test_each_namespace_denies_by_default_and_allows_ingress_dns_and_database(
    plan: K8sPlan,
) -> None:
    for namespace in plan.namespaces():
        policies = {
            p["inputs"]["metadata"]["name"]: p["inputs"]["spec"]
            for p in plan.in_namespace(NETPOL, namespace)
        }
        assert set(policies) == {
            "default-deny",
            "allow-from-ingress",
            "allow-dns",
            "allow-database",
        }
        assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        (ingress,) = policies["allow-from-ingress"]["ingress"]
        assert ingress["from"][0]["namespaceSelector"]["matchLabels"] == {
            "kubernetes.io/metadata.name": "ingress-nginx"
        }
        assert ingress["ports"] == [{"protocol": "TCP", "port": 8080}]
        (dns,) = policies["allow-dns"]["egress"]
        assert {p["port"] for p in dns["ports"]} == {53}
        (database,) = policies["allow-database"]["egress"]
        assert database["ports"] == [{"protocol": "TCP", "port": 5432}]
        assert all(block["ipBlock"]["cidr"].startswith("10.") for block in database["to"])


def test_namespaces_are_labelled_and_pod_security_restricted(plan: K8sPlan) -> None:
    for labels in plan.namespaces().values():
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert labels["pod-security.kubernetes.io/audit"] == "restricted"
        assert {"tenancy.dev/tenant", "tenancy.dev/tier", "tenancy.dev/isolation"} <= set(labels)


def test_deployments_run_restricted_pods_with_probes_and_tier_resources(
    plan: K8sPlan, catalog
) -> None:  # type: ignore[no-untyped-def]
    for namespace, labels in plan.namespaces().items():
        (deployment,) = plan.in_namespace(DEPLOYMENT, namespace)
        pod = deployment["inputs"]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        (container,) = pod["containers"]
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert {"startupProbe", "readinessProbe", "livenessProbe"} <= set(container)
        assert container["image"] == "ghcr.io/tenancy/tenant-api:0.1.0"
        app = _profile(catalog, labels)
        assert container["resources"]["requests"] == {
            "cpu": f"{app.cpu_request_millicores}m",
            "memory": f"{app.memory_request_mib}Mi",
        }


# --- silo tenants and overrides ------------------------------------------------------


def test_silo_tenants_get_their_own_namespace(aws: K8sPlan) -> None:
    namespaces = aws.namespaces()
    assert {"tnc-tenant-acme", "tnc-tenant-globex", "tnc-tier-free", "tnc-tier-standard"} == set(
        namespaces
    )
    assert namespaces["tnc-tenant-acme"]["tenancy.dev/tenant"] == "acme"
    assert namespaces["tnc-tier-free"]["tenancy.dev/tenant"] == "shared"


def test_override_applies_within_the_tiers_bounds(aws: K8sPlan) -> None:
    _kind, acme = _autoscaler(aws, "tnc-tenant-acme")
    _kind, globex = _autoscaler(aws, "tnc-tenant-globex")
    assert (acme["minReplicas"], acme["maxReplicas"]) == (3, 30)  # overrides.app.max_replicas
    assert (globex["minReplicas"], globex["maxReplicas"]) == (3, 50)  # the tier's bounds


def test_silo_service_accounts_carry_the_clouds_workload_identity(plan: K8sPlan) -> None:
    cloud = plan.data["stack"].split("-")[1]
    for namespace, labels in plan.namespaces().items():
        (account,) = plan.in_namespace(SA, namespace)
        annotations = account["inputs"]["metadata"].get("annotations", {})
        if labels["tenancy.dev/isolation"] != "silo":
            assert annotations == {}
            continue
        key = {
            "aws": "eks.amazonaws.com/role-arn",
            "azure": "azure.workload.identity/client-id",
            "gcp": "iam.gke.io/gcp-service-account",
        }[cloud]
        assert set(annotations) == {key}
        assert annotations[key]
        if cloud == "azure":
            (deployment,) = plan.in_namespace(DEPLOYMENT, namespace)
            assert (
                deployment["inputs"]["spec"]["template"]["metadata"]["labels"][
                    "azure.workload.identity/use"
                ]
                == "true"
            )


def test_irsa_role_trusts_only_the_tenants_service_account(aws: K8sPlan) -> None:
    roles = {r["name"]: r for r in aws.of_type("aws:iam/role:Role")}
    policy = json.loads(roles["silo-acme-irsa-role"]["inputs"]["assumeRolePolicy"])
    (statement,) = policy["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    (condition,) = statement["Condition"].values()
    subjects = [v for k, v in condition.items() if k.endswith(":sub")]
    assert subjects == ["system:serviceaccount:tnc-tenant-acme:tenant-api"]


def test_suspended_silo_tenant_keeps_its_namespace_but_runs_no_pods(tmp_path: Path) -> None:
    data = yaml.safe_load(CATALOG.read_text())
    for tenant in data["tenants"]:
        if tenant["id"] == "globex":
            tenant["status"] = "suspended"
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump(data))
    suspended = K8sPlan(plan_stack(STACKS[0], catalog=str(path)))
    assert "tnc-tenant-globex" in suspended.namespaces()
    (deployment,) = suspended.in_namespace(DEPLOYMENT, "tnc-tenant-globex")
    assert deployment["inputs"]["spec"]["replicas"] == 0
    assert suspended.in_namespace(HPA, "tnc-tenant-globex") == []
    assert suspended.in_namespace(PDB, "tnc-tenant-globex") == []
    assert len(suspended.in_namespace(NETPOL, "tnc-tenant-globex")) == 4


# --- schema checks -----------------------------------------------------------------


def _closed(schema: Any) -> Any:
    """Forbid unknown keys everywhere (the API server would silently prune them)."""
    if isinstance(schema, dict):
        out = {k: _closed(v) for k, v in schema.items()}
        if (
            out.get("type") == "object"
            and "properties" in out
            and "additionalProperties" not in out
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_closed(v) for v in schema]
    return schema


def test_every_manifest_passes_the_schema_of_its_declared_api_version(plan: K8sPlan) -> None:
    manifests = plan.manifests()
    assert manifests
    for resource in manifests:
        manifest = copy.deepcopy(resource["inputs"])
        if resource["type"] == SCALED_OBJECT:
            continue
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)


def test_scaled_objects_match_the_keda_crd_schema(aws: K8sPlan) -> None:
    schema = _closed(json.loads(KEDA_SCHEMA.read_text()))
    schema["properties"]["metadata"] = {"type": "object"}
    scaled = aws.of_type(SCALED_OBJECT)
    assert scaled
    for resource in scaled:
        jsonschema.validate(resource["inputs"], schema)


def test_the_keda_schema_check_catches_a_misspelt_field() -> None:
    schema = _closed(json.loads(KEDA_SCHEMA.read_text()))
    bad = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {},
        "spec": {
            "scaleTargetRef": {"name": "x"},
            "triggers": [{"type": "cron", "metadata": {}}],
            "minReplicas": 2,
        },
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
