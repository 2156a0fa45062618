"""Onboarding one tenant must not restart a whole tier: a shared Deployment's pod template
and selector do not depend on which tenants share it (issue 15, item 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tenancy.plan import plan_stack
from tests.support.planview import Plan, catalog_data, planned, write_catalog

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STACKS = ("dev-aws-eu-central-1", "dev-azure-westeurope", "dev-gcp-us-central1")
# Per cell: a shared tier and a framework none of its tenants has yet, and a tenant of it.
CASES = {
    "dev-aws-eu-central-1": ("aws", "eu-central-1", "eu", "standard", "hipaa", "umbrella"),
    "dev-azure-westeurope": ("azure", "westeurope", "eu", "standard", "pci", "wayne"),
    "dev-gcp-us-central1": ("gcp", "us-central1", "us", "standard", "hipaa", "tyrell"),
}


def _shared_templates(plan: Plan) -> dict[str, str]:
    """Each shared (tier) Deployment's template and selector, serialized byte for byte."""
    found = {}
    for deployment in plan.of_type(DEPLOYMENT):
        namespace = deployment["inputs"]["metadata"]["namespace"]
        if not namespace.startswith("tnc-tier-"):
            continue
        spec = deployment["inputs"]["spec"]
        # The app's and, on GCP, the pooler's (a bridge tenant adds a userlist entry).
        found[f"{namespace}/{deployment['inputs']['metadata']['name']}"] = json.dumps(
            {"template": spec["template"], "selector": spec["selector"]}, sort_keys=True
        )
    return found


def _namespace_labels(plan: Plan, namespace: str) -> dict[str, Any]:
    (ns,) = [
        r
        for r in plan.of_type("kubernetes:core/v1:Namespace")
        if r["inputs"]["metadata"]["name"] == namespace
    ]
    labels: dict[str, Any] = ns["inputs"]["metadata"]["labels"]
    return labels


@pytest.mark.parametrize("stack", STACKS)
def test_onboarding_and_retiering_leave_shared_pod_templates_byte_identical(
    stack: str, tmp_path: Path
) -> None:
    cloud, region, residency, tier, framework, leaver = CASES[stack]
    base = planned(stack)
    data = catalog_data()
    data["tenants"].append(
        {
            "id": "newcomer",
            "name": "Newcomer",
            "tier": tier,
            "cloud": cloud,
            "region": region,
            "residency": residency,
            "compliance": [framework],
        }
    )
    (moved,) = [t for t in data["tenants"] if t["id"] == leaver]
    moved["tier"] = "enterprise"  # re-tiered out of the shared tier, into a silo
    head = Plan(plan_stack(stack, catalog=write_catalog(tmp_path, data)))

    before, after = _shared_templates(base), _shared_templates(head)
    assert before, "the cell has shared tiers"
    assert after == before
    # The change is real: the tier's namespace does say the tier now holds the framework.
    namespace = f"tnc-tier-{tier}"
    assert framework not in _namespace_labels(base, namespace)["tenancy.dev/compliance"]
    assert framework in _namespace_labels(head, namespace)["tenancy.dev/compliance"]
