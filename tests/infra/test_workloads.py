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
from components.postgres.sqlplan import tenant_role
from tenancy.plan import plan_stack

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
POOLER = "tenancy:k8s:PgBouncer"
CERTIFICATE = "kubernetes:cert-manager.io/v1:Certificate"


class K8sPlan:
    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.resources = data["resources"]
        self.by_urn = {r["urn"]: r for r in self.resources}

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == kind]

    def in_namespace(self, kind: str, namespace: str) -> list[dict[str, Any]]:
        """The namespace's own objects of ``kind`` (not a GCP pooler's, tests/components/
        test_poolers.py covers those)."""
        return [
            r
            for r in self.of_type(kind)
            if r["inputs"]["metadata"].get("namespace") == namespace and not self.is_pooler(r)
        ]

    def is_pooler(self, resource: dict[str, Any]) -> bool:
        parent = self.by_urn.get(resource["parent"] or "")
        return parent is not None and parent["type"] == POOLER

    def pooler_pods(self, namespace: str) -> int:
        """Pods the namespace's poolers may run: each HPA's maximum plus a surge pod."""
        return sum(
            r["inputs"]["spec"]["maxReplicas"] + 1
            for r in self.of_type(HPA)
            if r["inputs"]["metadata"]["namespace"] == namespace and self.is_pooler(r)
        )

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
        pooler_pods = plan.pooler_pods(namespace)
        assert hard["pods"] == str(app.max_replicas + 1 + pooler_pods)
        if not pooler_pods:  # the pooler's share is asserted in tests/components/test_poolers.py
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
        assert set(policies) - {"allow-identity-endpoint"} == {
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
        # Azure's shared tiers reach their built-in PgBouncer on 6432 as well.
        pooled = "azure" in plan.data["stack"] and namespace.startswith("tnc-tier-")
        ports = [5432, 6432] if pooled else [5432]
        assert database["ports"] == [{"protocol": "TCP", "port": port} for port in ports]
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


# --- workload identity: egress to the token endpoint, database grants -----------------

IDENTITY_EGRESS = {
    # AWS: the STS interface VPC endpoint in the cell's private ranges (databaseCidrs).
    "aws": [
        {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"protocol": "TCP", "port": 443}]}
    ],
    # Azure: Entra ID has no fixed address: 443 anywhere but RFC 1918.
    "azure": [
        {
            "to": [
                {
                    "ipBlock": {
                        "cidr": "0.0.0.0/0",
                        "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
                    }
                }
            ],
            "ports": [{"protocol": "TCP", "port": 443}],
        }
    ],
    # GKE metadata server, plus its Dataplane V2 address.
    "gcp": [
        {
            "to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}],
            "ports": [{"protocol": "TCP", "port": 80}],
        },
        {
            "to": [{"ipBlock": {"cidr": "169.254.169.252/32"}}],
            "ports": [{"protocol": "TCP", "port": 988}],
        },
    ],
}


def test_only_silo_namespaces_may_reach_their_clouds_identity_endpoint(plan: K8sPlan) -> None:
    cloud = plan.data["stack"].split("-")[1]
    silos = 0
    for namespace, labels in plan.namespaces().items():
        found = [
            p
            for p in plan.in_namespace(NETPOL, namespace)
            if p["inputs"]["metadata"]["name"] == "allow-identity-endpoint"
        ]
        if labels["tenancy.dev/isolation"] != "silo":
            assert found == []
            continue
        silos += 1
        (policy,) = found
        spec = policy["inputs"]["spec"]
        assert spec["policyTypes"] == ["Egress"]
        assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == namespace
        assert spec["egress"] == IDENTITY_EGRESS[cloud]
    assert silos


def test_identity_endpoint_cidrs_come_from_the_app_settings() -> None:
    from components.model.appconfig import parse_app_settings
    from components.model.errors import InputError
    from components.model.identity_egress import identity_egress

    aws = parse_app_settings({"identityEndpointCidrs": ["10.20.8.0/24"]}, "f", "aws")
    assert identity_egress("aws", aws.identity_endpoint_cidrs, aws.database_cidrs)[0].cidr == (
        "10.20.8.0/24"
    )
    azure = parse_app_settings({"identityEndpointCidrs": ["20.190.128.0/18"]}, "f", "azure")
    (rule,) = identity_egress("azure", azure.identity_endpoint_cidrs, azure.database_cidrs)
    assert (rule.cidr, rule.ports, rule.except_cidrs) == ("20.190.128.0/18", (443,), ())
    for cloud, value in (
        ("aws", ["0.0.0.0/0"]),  # STS must be the private VPC endpoint
        ("azure", ["10.0.0.0/8"]),  # would reopen east-west HTTPS
        ("gcp", ["169.254.169.254/32"]),  # fixed by GKE
        ("aws", "10.0.0.0/8"),
        ("azure", ["not-a-cidr"]),
    ):
        with pytest.raises(InputError) as error:
            parse_app_settings({"identityEndpointCidrs": value}, "f", cloud)
        assert error.value.issues[0].path == "config.tenancy:app.identityEndpointCidrs"


def test_irsa_role_may_only_connect_as_the_tenants_db_user_on_its_own_cluster(
    aws: K8sPlan,
) -> None:
    from tenancy.engine import ACCOUNT_ID, _digest

    roles = {r["name"]: r for r in aws.of_type("aws:iam/role:Role")}
    clusters = {r["name"]: r for r in aws.of_type("aws:rds/cluster:Cluster")}
    policies = {
        r["name"]: r
        for r in aws.of_type("aws:iam/rolePolicy:RolePolicy")
        if "tenancy:aws:IrsaRole$" in r["urn"]  # not the RDS Proxies' secret readers
    }
    for tenant in ("acme", "globex"):
        cluster = clusters[f"silo-{tenant}-db-cluster"]["inputs"]
        region = cluster["region"]
        # What the provider returns for the cluster (the mock's clusterResourceId), not an input.
        resource_id = "cluster-" + _digest(region, cluster["clusterIdentifier"]).upper()
        attached = policies[f"silo-{tenant}-irsa-db-connect"]["inputs"]
        assert attached["role"] == roles[f"silo-{tenant}-irsa-role"]["inputs"]["name"]
        document = json.loads(attached["policy"])
        (statement,) = document["Statement"]
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == "rds-db:connect"
        assert statement["Resource"] == (
            f"arn:aws:rds-db:{region}:{ACCOUNT_ID}:dbuser:{resource_id}/{tenant_role(tenant)}"
        )
    assert len(policies) == 2  # silo tenants only


def test_gke_service_account_may_use_only_its_own_cloud_sql_instance() -> None:
    gcp = K8sPlan(plan_stack(STACKS[2]))
    (account,) = [
        r
        for r in gcp.of_type("gcp:serviceaccount/account:Account")
        if r["name"].startswith("silo-")
    ]
    tenant = account["name"].split("-")[1]
    (instance,) = [
        r
        for r in gcp.of_type("gcp:sql/databaseInstance:DatabaseInstance")
        if r["name"] == f"silo-{tenant}-db-instance"
    ]
    project = instance["inputs"]["project"]
    resource = f"projects/{project}/instances/{instance['inputs']['name']}"
    members = [
        r["inputs"]
        for r in gcp.of_type("gcp:projects/iAMMember:IAMMember")
        if r["name"].startswith(f"silo-{tenant}-workload-identity-")
    ]
    assert sorted(m["role"] for m in members) == [
        "roles/cloudsql.client",
        "roles/cloudsql.instanceUser",
    ]
    email = f"{account['inputs']['accountId']}@{project}.iam.gserviceaccount.com"
    for member in members:
        assert member["member"] == f"serviceAccount:{email}"
        assert member["project"] == project
        assert member["condition"]["expression"] == (
            f"resource.type == 'sqladmin.googleapis.com/Instance' && resource.name == '{resource}'"
        )


def test_azure_identity_is_no_entra_admin_of_any_server() -> None:
    # Issue 15 item 6b: the identity is mapped narrowly inside PostgreSQL instead
    # (tests/infra/test_workload_identity_finished.py, tests/components/postgres/test_entra_login.py).
    # The servers' only Entra administrators are the operators' group of the stack file.
    azure = K8sPlan(plan_stack(STACKS[1]))
    identities = [
        r
        for r in azure.of_type("azure-native:managedidentity:UserAssignedIdentity")
        if r["name"].endswith("-workload-identity-identity")
    ]
    assert identities
    admins = azure.of_type("azure-native:dbforpostgresql:Administrator")
    assert admins
    identity_names = {r["inputs"]["resourceName"] for r in identities}
    for admin in admins:
        assert admin["inputs"]["principalType"] == "Group"
        assert admin["inputs"]["principalName"] not in identity_names
        assert not any("workload-identity" in urn for urn in admin["dependencies"])


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
    # A suspended tenant keeps its identity, and so the egress to its token endpoint.
    assert len(suspended.in_namespace(NETPOL, "tnc-tenant-globex")) == 5


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
        if resource["type"] in (SCALED_OBJECT, CERTIFICATE):
            continue  # custom resources: no schema in kubernetes_validate (KEDA's is below)
        if manifest.get("stringData") == "[secret]":
            manifest["stringData"] = {"masked": "by the plan"}  # secret values are masked
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
