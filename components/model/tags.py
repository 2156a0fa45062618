"""The tags/labels every taggable resource carries, in each cloud's charset."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .catalog import Cloud
from .clouds import traits

TAG_KEYS = ("tenant", "tier", "isolation", "residency", "compliance", "environment")
MANAGED_BY = "tenancy"
SHARED_TENANT = "shared"  # the tenant tag of a bridge/pool shard's server


def compliance_value(frameworks: Iterable[str]) -> str:
    # One value for a set: '-' joins because framework names never contain it.
    return "-".join(sorted(set(frameworks))) or "none"


def tag_key(cloud: Cloud, key: str) -> str:
    # Namespaced "tenancy:tier" where the cloud allows ':' in keys, else "tenancy-tier".
    return f"tenancy{traits(cloud).tag_key_separator}{key}"


def _restricted_value(value: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "_", value.lower())[:63]


def resource_tags(
    cloud: Cloud,
    *,
    tenant: str,
    tier: str,
    isolation: str,
    residency: str,
    compliance: Iterable[str],
    environment: str,
    shard: str | None = None,
) -> dict[str, str]:
    values = {
        "tenant": tenant,
        "tier": tier,
        "isolation": isolation,
        "residency": residency,
        "compliance": compliance_value(compliance),
        "environment": environment,
    }
    if shard is not None:
        values["shard"] = shard
    tags = {tag_key(cloud, key): value for key, value in values.items()}
    tags["managed-by"] = MANAGED_BY
    if traits(cloud).restricted_label_values:
        tags = {key: _restricted_value(value) for key, value in tags.items()}
    return tags
