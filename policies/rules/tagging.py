"""Required tags/labels: every tenancy resource says whose data it holds and under what rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import controls as c
from .. import types as t
from ..framework import (
    NOT_KNOWN_AT_PLAN_TIME,
    UNKNOWN,
    Ctx,
    cannot_verify,
    rule,
    tags_of,
    tenancy_tags,
)

_ISOLATIONS = ("silo", "bridge", "pool", "network")


@rule(
    id="multi-tagging-resource-configure-required-tags",
    description="Databases, keys, secrets, vaults, network guards and Kubernetes workloads carry every tenancy tag (tenant, tier, isolation, residency, compliance, environment, managed-by); Kubernetes objects the labels tenant, tier, isolation and managed-by.",
    why="Residency, retention and key rules read the zone, tier and frameworks from these tags; an untagged resource escapes them, and auditors cannot tell whose data it holds.",
    remediation="Build tags with components/model/tags.py resource_tags() (AWS/Azure 'tenancy:<key>', GCP labels 'tenancy-<key>', Kubernetes labels) and pass them to every resource.",
    severity="medium",
    enforcement="mandatory",
    controls=c.LABELS,
    cloud="multi",
    family="tagging",
    types=t.TAGGED,
    config_keys=["requiredTagKeys", "requiredLabelKeys"],
)
def required_tags(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    raw = tags_of(resource_type, props)
    if raw == UNKNOWN:
        return [cannot_verify("the tags", reason=f"they are {NOT_KNOWN_AT_PLAN_TIME}")]
    tags = tenancy_tags(raw)
    keys = "requiredLabelKeys" if resource_type.startswith("kubernetes:") else "requiredTagKeys"
    missing = [key for key in ctx.config.get(keys, ()) if not tags.get(key)]
    found = [f"missing required tags: {', '.join(missing)}"] if missing else []
    if tags.get("isolation") and tags["isolation"] not in _ISOLATIONS:
        found.append(f"isolation tag is {tags['isolation']}; it must be one of silo, bridge, pool")
    if tags.get("managed-by") and tags["managed-by"] != "tenancy":
        found.append(f"managed-by is {tags['managed-by']}; it must be tenancy")
    return found


RULES = (required_tags,)
