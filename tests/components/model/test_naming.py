"""Physical and logical names: valid for every cloud, deterministic, never silently shared."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.model.blueprint import NAME_PREFIX, build_blueprint
from components.model.catalog import TENANT_ID_PATTERN
from components.model.cell import Cell
from components.model.naming import (
    RULES,
    NameRegistry,
    NameRule,
    NamingError,
    physical_name,
)
from components.model.validation import parse_catalog

tenant_ids = st.from_regex(TENANT_ID_PATTERN, fullmatch=True)
environments = st.sampled_from(["dev", "prod", "staging", "qa1"])


def _satisfies(name: str, rule: NameRule) -> None:
    assert name.startswith(rule.prefix)
    body = name[len(rule.prefix) :]
    assert rule.min_len <= len(body) and len(name) <= rule.max_len, name
    assert re.fullmatch(f"[{rule.allowed}]+", body), name
    if rule.lowercase:
        assert body == body.lower(), name
    if rule.start_letter:
        assert body[0].isalpha(), name
    if rule.single_hyphens:
        assert "--" not in body and not body.startswith("-") and not body.endswith("-"), name


# --- unit tests -------------------------------------------------------------


def test_physical_name_joins_prefix_environment_and_owner() -> None:
    assert physical_name("aws.rds_cluster", "tnc", "prod", "acme") == "tnc-prod-acme"


def test_kms_alias_carries_the_alias_prefix() -> None:
    assert physical_name("aws.kms_alias", "tnc", "dev", "acme") == "alias/tnc-dev-acme"


def test_empty_parts_are_skipped() -> None:
    assert physical_name("aws.rds_cluster", "tnc", "", "acme") == "tnc-acme"


def test_double_hyphens_collapse_where_the_service_forbids_them() -> None:
    assert physical_name("aws.rds_cluster", "tnc", "dev", "a--b") == "tnc-dev-a-b"


def test_uppercase_and_illegal_characters_are_normalised() -> None:
    assert physical_name("k8s.dns1123_label", "Tenant_One.Prod") == "tenant-one-prod"


def test_globally_unique_names_get_a_stable_suffix_per_seed() -> None:
    dev = physical_name("azure.flexible_server", "tnc", "acme", unique_seed="tenancy/dev")
    prod = physical_name("azure.flexible_server", "tnc", "acme", unique_seed="tenancy/prod")
    assert dev.startswith("tnc-acme-") and prod.startswith("tnc-acme-")
    assert dev != prod
    assert dev == physical_name("azure.flexible_server", "tnc", "acme", unique_seed="tenancy/dev")


def test_too_long_names_are_shortened_with_a_digest_not_cut() -> None:
    long_id = "a" * 70
    name = physical_name("aws.rds_cluster", long_id)
    assert len(name) == 63
    assert re.fullmatch(r"a+-[0-9a-f]{6}", name)
    assert name != physical_name("aws.rds_cluster", long_id + "b")


def test_key_vault_names_fit_24_characters() -> None:
    name = physical_name("azure.key_vault", "tnc", "prod", "averyverylongtenantid", unique_seed="s")
    assert len(name) <= 24
    _satisfies(name, RULES["azure.key_vault"])


def test_a_name_that_cannot_start_with_a_letter_is_an_error() -> None:
    with pytest.raises(NamingError, match="must start with a letter"):
        physical_name("aws.rds_cluster", "1abc")


def test_a_name_below_the_minimum_length_is_an_error() -> None:
    with pytest.raises(NamingError, match="shorter than 3"):
        physical_name("azure.resource", "ab")


def test_registry_lets_an_owner_claim_its_name_again() -> None:
    names = NameRegistry()
    first = names.claim("aws.rds_cluster", "acme", "tnc", "dev", "acme")
    assert names.claim("aws.rds_cluster", "acme", "tnc", "dev", "acme") == first


def test_registry_rejects_ids_that_normalise_to_the_same_name() -> None:
    names = NameRegistry()
    names.claim("aws.rds_cluster", "a-b", "tnc", "dev", "a-b")
    with pytest.raises(NamingError, match="'a--b' and 'a-b' would both be named 'tnc-dev-a-b'"):
        names.claim("aws.rds_cluster", "a--b", "tnc", "dev", "a--b")


def test_registry_keeps_kinds_apart() -> None:
    names = NameRegistry()
    names.claim("aws.rds_cluster", "acme", "tnc", "dev", "acme")
    names.claim("aws.db_subnet_group", "other", "tnc", "dev", "acme")


def test_a_silo_tenant_named_like_a_shard_is_a_naming_clash() -> None:
    text = """
version: 1
residency_zones: {eu: {aws: [eu-central-1]}}
tiers:
  free: {isolation: pool, database: {min_capacity: 1, max_capacity: 2, backup_retention_days: 7}}
  ent: {isolation: silo, database: {min_capacity: 1, max_capacity: 2, backup_retention_days: 7}}
tenants:
  - {id: hooli, name: H, tier: free, cloud: aws, region: eu-central-1, residency: eu}
  - {id: free-01, name: F, tier: ent, cloud: aws, region: eu-central-1, residency: eu}
"""
    catalog = parse_catalog(text, "t.yaml")
    with pytest.raises(NamingError, match="'shard free-01' and 'tenant free-01'"):
        build_blueprint(catalog, Cell("dev", "aws", "eu-central-1"), "eu")


# --- properties -------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(tenant_id=tenant_ids, environment=environments, kind=st.sampled_from(sorted(RULES)))
def test_every_physical_name_satisfies_its_kinds_rules(
    tenant_id: str, environment: str, kind: str
) -> None:
    name = physical_name(kind, NAME_PREFIX, environment, tenant_id, unique_seed="tenancy/s")
    _satisfies(name, RULES[kind])


@settings(max_examples=200, deadline=None)
@given(tenant_id=tenant_ids, suffix=st.sampled_from(["", "params", "final", "1", "2"]))
def test_derived_aws_names_stay_valid(tenant_id: str, suffix: str) -> None:
    cluster = physical_name("aws.rds_cluster", NAME_PREFIX, "prod", tenant_id)
    for kind in ("aws.rds_cluster", "aws.rds_instance", "aws.rds_parameter_group"):
        _satisfies(physical_name(kind, cluster, suffix), RULES[kind])


@settings(max_examples=200, deadline=None)
@given(tenant_id=tenant_ids, kind=st.sampled_from(sorted(RULES)))
def test_names_are_deterministic(tenant_id: str, kind: str) -> None:
    first = physical_name(kind, NAME_PREFIX, "dev", tenant_id, unique_seed="p/s")
    assert physical_name(kind, NAME_PREFIX, "dev", tenant_id, unique_seed="p/s") == first


@settings(max_examples=300, deadline=None)
@given(
    ids=st.lists(
        st.text(alphabet="ab-", min_size=40, max_size=90).map(lambda s: "t" + s),
        min_size=2,
        max_size=8,
        unique=True,
    ),
    kind=st.sampled_from(["aws.rds_cluster", "azure.key_vault", "k8s.dns1123_label"]),
)
def test_long_names_never_collide_silently(ids: list[str], kind: str) -> None:
    """Shortened names either differ or the registry refuses the second owner."""
    names = NameRegistry()
    given_names: dict[str, str] = {}
    for owner in ids:
        try:
            given_names[owner] = names.claim(kind, owner, owner, unique_seed="s")
        except NamingError:
            continue
    assert len(set(given_names.values())) == len(given_names)


@settings(max_examples=200, deadline=None)
@given(a=tenant_ids, b=tenant_ids)
def test_distinct_normalised_ids_get_distinct_names(a: str, b: str) -> None:
    kind = "aws.rds_cluster"
    same_source = re.sub("-+", "-", a) == re.sub("-+", "-", b)
    name_a = physical_name(kind, NAME_PREFIX, "dev", a)
    name_b = physical_name(kind, NAME_PREFIX, "dev", b)
    assert (name_a == name_b) == same_source
