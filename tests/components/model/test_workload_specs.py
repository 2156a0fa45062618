"""workloads: one namespace + workload per bridge/pool tier or silo tenant of a cell."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from components.model.blueprint import build_blueprint
from components.model.catalog import (
    TENANT_ID_PATTERN,
    AppProfile,
    AppScaleWindow,
    Catalog,
    Cloud,
    Tenant,
    Tier,
)
from components.model.cell import Cell
from components.model.clouds import traits
from components.model.errors import InputError
from components.model.stack import parse_stack_settings
from components.model.workloads import (
    WorkloadSpec,
    cell_workloads,
    check_identity_settings,
    namespace_name,
    needs_keda,
)

DNS1123_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
CELL = Cell("prod", "aws", "eu-central-1")
DB = {"min_capacity": 1, "max_capacity": 8, "backup_retention_days": 7}


def _tier(isolation: str, app: AppProfile | None = None) -> Tier:
    return Tier.model_validate({"isolation": isolation, "database": DB, "app": app or AppProfile()})


WINDOW = AppScaleWindow(
    name="business-hours",
    start="0 7 * * 1-5",
    end="0 19 * * 1-5",
    timezone="Europe/Berlin",
    min_replicas=4,
)
TIERS = {
    "free": _tier("pool", AppProfile(min_replicas=2, max_replicas=10)),
    "standard": _tier("bridge", AppProfile(max_replicas=20)),
    "enterprise": _tier("silo", AppProfile(min_replicas=3)),
    "business": _tier("pool", AppProfile(scale_windows=[WINDOW])),
}


def _tenant(tenant_id: str, tier: str, **extra: Any) -> Tenant:
    fields: dict[str, Any] = {
        "id": tenant_id,
        "name": tenant_id,
        "tier": tier,
        "cloud": "aws",
        "region": "eu-central-1",
        "residency": "eu",
        **extra,
    }
    return Tenant(**fields)


def _workloads(*tenants: Tenant, cell: Cell = CELL) -> tuple[WorkloadSpec, ...]:
    catalog = Catalog(
        version=1,
        residency_zones={"eu": {"aws": ["eu-central-1", "eu-west-1"]}},
        tiers=TIERS,
        tenants=list(tenants),
    )
    return cell_workloads(build_blueprint(catalog, cell, "eu"))


def _by_namespace(*tenants: Tenant) -> dict[str, WorkloadSpec]:
    return {spec.namespace: spec for spec in _workloads(*tenants)}


def test_a_silo_tenant_gets_its_own_namespace_and_workload() -> None:
    (spec,) = _workloads(_tenant("acme", "enterprise", compliance=["gdpr", "soc2"]))
    assert spec.owner == "acme"
    assert spec.namespace == "tnc-tenant-acme"
    assert spec.is_silo
    assert spec.tenant_ids == ("acme",)
    assert spec.tier == "enterprise"
    assert spec.isolation == "silo"
    assert spec.app == TIERS["enterprise"].app
    assert not spec.suspended
    assert (spec.residency, spec.compliance, spec.environment) == ("eu", "gdpr-soc2", "prod")


def test_pool_tenants_share_one_workload_per_tier() -> None:
    (spec,) = _workloads(_tenant("hooli", "free"), _tenant("acme", "free"))
    assert spec.owner == "free"
    assert spec.namespace == "tnc-tier-free"
    assert not spec.is_silo
    assert spec.tenant_ids == ("acme", "hooli")  # by id, not catalog order
    assert spec.app == TIERS["free"].app


def test_bridge_tenants_share_one_workload_per_tier_too() -> None:
    (spec,) = _workloads(_tenant("initech", "standard"), _tenant("globex", "standard"))
    assert (spec.namespace, spec.isolation) == ("tnc-tier-standard", "bridge")
    assert spec.tenant_ids == ("globex", "initech")


def test_two_tiers_of_one_isolation_model_get_two_workloads() -> None:
    namespaces = set(_by_namespace(_tenant("acme", "free"), _tenant("hooli", "business")))
    assert namespaces == {"tnc-tier-free", "tnc-tier-business"}


def test_a_silo_tenant_named_like_a_tier_never_shares_its_namespace() -> None:
    specs = _by_namespace(_tenant("free", "enterprise"), _tenant("acme", "free"))
    assert specs["tnc-tenant-free"].tenant_ids == ("free",)
    assert specs["tnc-tier-free"].tenant_ids == ("acme",)


def test_workloads_are_sorted_by_namespace() -> None:
    specs = _workloads(
        _tenant("zeta", "enterprise"),
        _tenant("alpha", "enterprise"),
        _tenant("hooli", "standard"),
        _tenant("acme", "free"),
    )
    assert [spec.namespace for spec in specs] == [
        "tnc-tenant-alpha",
        "tnc-tenant-zeta",
        "tnc-tier-free",
        "tnc-tier-standard",
    ]


def test_a_silo_workload_is_sized_by_the_tenants_overrides() -> None:
    overrides = {"app": {"max_replicas": 30}}
    (spec,) = _workloads(_tenant("acme", "enterprise", overrides=overrides))
    assert spec.app.max_replicas == 30
    assert spec.app.min_replicas == TIERS["enterprise"].app.min_replicas


def test_a_suspended_silo_tenant_keeps_its_namespace_but_is_suspended() -> None:
    (spec,) = _workloads(_tenant("acme", "enterprise", status="suspended"))
    assert spec.namespace == "tnc-tenant-acme"
    assert spec.suspended


def test_a_shared_workload_is_suspended_only_when_every_tenant_is() -> None:
    both = _workloads(
        _tenant("acme", "free", status="suspended"), _tenant("hooli", "free", status="suspended")
    )
    one = _workloads(_tenant("acme", "free", status="suspended"), _tenant("hooli", "free"))
    assert [spec.suspended for spec in both] == [True]
    assert [spec.suspended for spec in one] == [False]
    assert one[0].tenant_ids == ("acme", "hooli")  # a suspended tenant stays a member


def test_offboarded_tenants_get_no_workload() -> None:
    specs = _workloads(
        _tenant("acme", "enterprise", status="offboarded"),
        _tenant("hooli", "free", status="offboarded"),
        _tenant("globex", "free"),
    )
    assert [(spec.namespace, spec.tenant_ids) for spec in specs] == [("tnc-tier-free", ("globex",))]


def test_tenants_of_other_cells_get_no_workload_here() -> None:
    specs = _workloads(
        _tenant("acme", "enterprise", region="eu-west-1"),
        _tenant("hooli", "free"),
    )
    assert [spec.owner for spec in specs] == ["free"]


def test_an_empty_cell_has_no_workloads() -> None:
    assert _workloads() == ()


def test_a_shared_workloads_compliance_is_the_union_of_its_tenants() -> None:
    (spec,) = _workloads(
        _tenant("acme", "free", compliance=["soc2"]),
        _tenant("hooli", "free", compliance=["gdpr", "soc2"]),
    )
    assert spec.compliance == "gdpr-soc2"


def test_a_workload_without_frameworks_says_none() -> None:
    (spec,) = _workloads(_tenant("acme", "free"))
    assert spec.compliance == "none"


def test_silo_labels_name_the_tenant() -> None:
    (spec,) = _workloads(_tenant("acme", "enterprise", compliance=["hipaa"]))
    assert spec.labels() == {
        "tenancy.dev/tenant": "acme",
        "tenancy.dev/tier": "enterprise",
        "tenancy.dev/isolation": "silo",
        "tenancy.dev/residency": "eu",
        "tenancy.dev/compliance": "hipaa",
        "tenancy.dev/environment": "prod",
        "app.kubernetes.io/managed-by": "tenancy",
    }


def test_shared_labels_name_no_single_tenant() -> None:
    (spec,) = _workloads(_tenant("acme", "standard"))
    assert spec.labels()["tenancy.dev/tenant"] == "shared"
    assert spec.tenant_label == "shared"


def test_the_environment_comes_from_the_cell() -> None:
    (spec,) = _workloads(_tenant("acme", "enterprise"), cell=Cell("staging", "aws", "eu-central-1"))
    assert spec.environment == "staging"


def test_keda_is_needed_when_an_active_workload_has_scale_windows() -> None:
    assert needs_keda(_workloads(_tenant("acme", "business"), _tenant("hooli", "free")))


def test_keda_is_not_needed_without_scale_windows() -> None:
    assert not needs_keda(_workloads(_tenant("acme", "enterprise"), _tenant("hooli", "free")))


def test_keda_is_not_needed_for_a_suspended_workload_with_scale_windows() -> None:
    assert not needs_keda(_workloads(_tenant("acme", "business", status="suspended")))


def test_namespace_name_distinguishes_tenants_from_tiers() -> None:
    assert namespace_name("acme", silo=True) == "tnc-tenant-acme"
    assert namespace_name("acme", silo=False) == "tnc-tier-acme"


tenant_ids = st.from_regex(TENANT_ID_PATTERN, fullmatch=True)


@settings(max_examples=50, deadline=None)
@given(tenant_ids, st.booleans())
def test_every_namespace_is_a_valid_dns1123_label(owner: str, silo: bool) -> None:
    assert DNS1123_LABEL.match(namespace_name(owner, silo))


tier_names = st.sampled_from(sorted(TIERS))
statuses = st.sampled_from(["active", "suspended", "offboarded"])
members = st.lists(
    st.tuples(tenant_ids, tier_names, statuses), max_size=12, unique_by=lambda m: m[0]
)


@settings(max_examples=30, deadline=None)
@given(members, st.tuples(tenant_ids, tier_names))
def test_adding_a_tenant_changes_only_its_own_workload(
    existing: list[tuple[str, str, str]], added: tuple[str, str]
) -> None:
    assume(added[0] not in {tenant_id for tenant_id, _, _ in existing})
    before = _by_namespace(*(_tenant(i, tier, status=s) for i, tier, s in existing))
    after = _by_namespace(*(_tenant(i, tier, status=s) for i, tier, s in existing), _tenant(*added))
    touched = namespace_name(
        added[0] if added[1] == "enterprise" else added[1], added[1] == "enterprise"
    )
    assert set(after) - set(before) <= {touched}
    for namespace, spec in before.items():
        if namespace != touched:
            assert after[namespace] == spec


@settings(max_examples=30, deadline=None)
@given(members, st.randoms(use_true_random=False))
def test_catalog_order_never_changes_the_workloads(
    existing: list[tuple[str, str, str]], random: Any
) -> None:
    tenants = [_tenant(i, tier, status=s) for i, tier, s in existing]
    shuffled = list(tenants)
    random.shuffle(shuffled)
    assert _workloads(*tenants) == _workloads(*shuffled)


# --- workload-identity prerequisites -------------------------------------------------------

STACK_FILE = "stacks/Pulumi.dev-x.yaml"
IDENTITY_SETTING = {
    "aws": ("tenancy:app.oidcProviderArn", "arn:aws:iam::123456789012:oidc-provider/oidc.x/id/A"),
    "azure": ("tenancy:app.oidcIssuerUrl", "https://westeurope.oic.prod-aks.azure.com/t/i/"),
    "gcp": ("gcp:project", "acme-dev"),
}
REGIONS: dict[Cloud, str] = {"aws": "eu-central-1", "azure": "westeurope", "gcp": "europe-west3"}


def _identity_check(cloud: Cloud, *tenants: tuple[str, str, str], identity: bool) -> None:
    """Run check_identity_settings for a dev cell of ``cloud`` with (id, tier, status) tenants."""
    region = REGIONS[cloud]
    config: dict[str, Any] = {
        traits(cloud).region_key: region,
        "tenancy:environment": "dev",
        "tenancy:cloud": cloud,
        "tenancy:residency": "eu",
    }
    if cloud == "azure":  # required on every Azure stack; not what these tests probe
        config["tenancy:entraAdminGroup"] = {
            "objectId": "5f0c8a7e-2b1d-4c3e-9a8f-7d6e5c4b3a21",
            "displayName": "db-operators",
        }
    if identity:
        key, value = IDENTITY_SETTING[cloud]
        namespace, _, name = key.partition(".")
        config.update({namespace: {name: value}} if name else {key: value})
    stack_settings = parse_stack_settings(f"dev-{cloud}-{region}", config, STACK_FILE)
    catalog = Catalog(
        version=1,
        residency_zones={"eu": {c: [r] for c, r in REGIONS.items()}},
        tiers=TIERS,
        tenants=[
            _tenant(i, tier, status=status, cloud=cloud, region=region)
            for i, tier, status in tenants
        ],
    )
    blueprint = build_blueprint(catalog, stack_settings.cell, "eu")
    check_identity_settings(stack_settings, blueprint, STACK_FILE)


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_a_silo_tenant_needs_the_clouds_workload_identity_setting(cloud: Cloud) -> None:
    with pytest.raises(InputError) as caught:
        _identity_check(cloud, ("acme", "enterprise", "active"), identity=False)
    (issue,) = caught.value.issues
    identity = traits(cloud).identity
    assert issue.file == STACK_FILE
    assert issue.path == f"config.{IDENTITY_SETTING[cloud][0]}"
    assert issue.message == (
        f"required for the workload identity of silo tenants ({identity.kind})"
    )
    assert issue.hint == identity.hint


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_a_silo_tenant_with_the_identity_setting_passes(cloud: Cloud) -> None:
    _identity_check(cloud, ("acme", "enterprise", "active"), identity=True)


def test_shared_tenants_alone_need_no_workload_identity() -> None:
    _identity_check(
        "aws", ("acme", "free", "active"), ("hooli", "standard", "active"), identity=False
    )


def test_a_suspended_silo_tenant_still_needs_it_because_its_namespace_stays() -> None:
    with pytest.raises(InputError) as caught:
        _identity_check("azure", ("acme", "enterprise", "suspended"), identity=False)
    assert caught.value.issues[0].path == "config.tenancy:app.oidcIssuerUrl"


def test_an_offboarded_silo_tenant_needs_no_workload_identity() -> None:
    _identity_check("gcp", ("acme", "enterprise", "offboarded"), identity=False)
