"""tags: the tags/labels every taggable resource carries, in each cloud's charset."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.model.catalog import Cloud
from components.model.tags import (
    MANAGED_BY,
    SHARED_TENANT,
    TAG_KEYS,
    compliance_value,
    resource_tags,
    tag_key,
)

# GCP label keys and values: lowercase letters, digits, '_' and '-', at most 63 characters
# (keys must also start with a letter). cloud.google.com/resource-manager/docs/labels-overview
GCP_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
GCP_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")

SILO: dict[str, Any] = {
    "tenant": "acme",
    "tier": "enterprise",
    "isolation": "silo",
    "residency": "eu",
    "compliance": ["soc2", "gdpr"],
    "environment": "prod",
}


def test_aws_tags_use_namespaced_keys_and_the_values_as_given() -> None:
    assert resource_tags("aws", **SILO) == {
        "tenancy:tenant": "acme",
        "tenancy:tier": "enterprise",
        "tenancy:isolation": "silo",
        "tenancy:residency": "eu",
        "tenancy:compliance": "gdpr-soc2",
        "tenancy:environment": "prod",
        "managed-by": "tenancy",
    }


def test_azure_tags_read_like_aws_tags() -> None:
    assert resource_tags("azure", **SILO) == resource_tags("aws", **SILO)


def test_gcp_labels_use_dashed_keys() -> None:
    labels = resource_tags("gcp", **SILO)
    assert sorted(labels) == sorted([f"tenancy-{key}" for key in TAG_KEYS] + ["managed-by"])
    assert labels["tenancy-tenant"] == "acme"
    assert labels["tenancy-compliance"] == "gdpr-soc2"


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_every_required_key_and_managed_by_are_present(cloud: Cloud) -> None:
    tags = resource_tags(cloud, **SILO)
    assert {tag_key(cloud, key) for key in TAG_KEYS} | {"managed-by"} == set(tags)
    assert tags["managed-by"] == MANAGED_BY


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_a_shard_server_carries_the_shard_tag_and_the_shared_tenant(cloud: Cloud) -> None:
    tags = resource_tags(
        cloud, **{**SILO, "tenant": SHARED_TENANT, "isolation": "pool"}, shard="free-01"
    )
    assert tags[tag_key(cloud, "shard")] == "free-01"
    assert tags[tag_key(cloud, "tenant")] == "shared"


def test_a_silo_server_has_no_shard_tag() -> None:
    assert "tenancy:shard" not in resource_tags("aws", **SILO)


def test_tag_key_is_namespaced_with_a_colon_except_on_gcp() -> None:
    assert tag_key("aws", "tier") == "tenancy:tier"
    assert tag_key("azure", "tier") == "tenancy:tier"
    assert tag_key("gcp", "tier") == "tenancy-tier"


def test_compliance_value_is_sorted_and_deduplicated() -> None:
    assert compliance_value(["soc2", "gdpr", "soc2", "hipaa"]) == "gdpr-hipaa-soc2"


def test_compliance_value_of_no_frameworks_is_none() -> None:
    assert compliance_value([]) == "none"


def test_compliance_value_accepts_any_iterable_once() -> None:
    assert compliance_value(f for f in ("pci", "gdpr")) == "gdpr-pci"


def test_gcp_values_are_lowercased_and_illegal_characters_become_underscores() -> None:
    labels = resource_tags("gcp", **{**SILO, "tier": "Gold.Plus", "environment": "Prod EU/1"})
    assert labels["tenancy-tier"] == "gold_plus"
    assert labels["tenancy-environment"] == "prod_eu_1"


def test_gcp_values_are_cut_to_63_characters() -> None:
    labels = resource_tags("gcp", **{**SILO, "tier": "t" * 100})
    assert labels["tenancy-tier"] == "t" * 63


def test_aws_and_azure_values_keep_case_and_punctuation() -> None:
    tags = resource_tags("azure", **{**SILO, "tier": "Gold.Plus"})
    assert tags["tenancy:tier"] == "Gold.Plus"


label_text = st.text(max_size=120)


@settings(max_examples=50, deadline=None)
@given(
    tenant=label_text,
    tier=label_text,
    isolation=label_text,
    residency=label_text,
    environment=label_text,
    compliance=st.lists(label_text, max_size=5),
    shard=st.none() | label_text,
)
def test_gcp_labels_are_always_valid_whatever_the_input(
    tenant: str,
    tier: str,
    isolation: str,
    residency: str,
    environment: str,
    compliance: list[str],
    shard: str | None,
) -> None:
    labels = resource_tags(
        "gcp",
        tenant=tenant,
        tier=tier,
        isolation=isolation,
        residency=residency,
        compliance=compliance,
        environment=environment,
        shard=shard,
    )
    for key, value in labels.items():
        assert GCP_LABEL_KEY.match(key), key
        assert GCP_LABEL_VALUE.match(value), value


@settings(max_examples=50, deadline=None)
@given(st.from_regex(r"[a-z0-9_-]{0,63}", fullmatch=True))
def test_a_value_already_valid_for_gcp_is_kept_unchanged(value: str) -> None:
    assert resource_tags("gcp", **{**SILO, "tier": value})["tenancy-tier"] == value


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["gdpr", "hipaa", "pci", "soc2", "iso27001"]), max_size=8))
def test_compliance_value_does_not_depend_on_order_or_repeats(frameworks: list[str]) -> None:
    assert compliance_value(frameworks) == compliance_value(sorted(set(frameworks), reverse=True))
