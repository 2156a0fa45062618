"""Upgrades with replicas (issue 15): a Cloud SQL primary with read replicas upgrades them
along with it, and each replica's version is the primary's, updated after it."""

from __future__ import annotations

import pytest

from tests.support.planview import planned

INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"


@pytest.mark.parametrize("stack", ["dev-gcp-us-central1", "prod-gcp-us-central1"])
def test_cloud_sql_primaries_with_replicas_take_them_along_in_a_major_upgrade(stack: str) -> None:
    plan = planned(stack)
    instances = plan.of_type(INSTANCE)
    replicas = [r for r in instances if r["inputs"].get("masterInstanceName")]
    primaries = {r["inputs"]["name"]: r for r in instances if r not in replicas}
    with_replicas = {r["inputs"]["masterInstanceName"] for r in replicas}
    for name, primary in primaries.items():
        flag = primary["inputs"].get("includeReplicasForMajorVersionUpgrade")
        assert flag is (True if name in with_replicas else None), name
    for replica in replicas:
        primary = primaries[replica["inputs"]["masterInstanceName"]]
        assert replica["inputs"]["databaseVersion"] == primary["inputs"]["databaseVersion"]
        # Updated after its primary: Pulumi orders updates by dependency.
        assert primary["urn"] in replica["dependencies"]


def test_the_example_stacks_have_a_cloud_sql_primary_with_a_replica() -> None:
    plan = planned("prod-gcp-us-central1")
    assert any(r["inputs"].get("masterInstanceName") for r in plan.of_type(INSTANCE))
