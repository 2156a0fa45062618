"""The log-destination and archive rules, over the example stacks' real plans: each passes as
planned, and one changed property makes it fail with its message."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from policies.config import load_generated, merged_config
from policies.framework import Ctx, Outcome, Res, outcome_of
from policies.rules import BY_ID
from tests.support.planview import planned

STACKS = {
    "aws": ("dev-aws-eu-central-1", "prod-aws-eu-central-1"),
    "azure": ("dev-azure-westeurope", "prod-azure-westeurope"),
    "gcp": ("dev-gcp-us-central1", "prod-gcp-us-central1"),
}
RULES = {
    "aws": (
        "aws-logs-destination-configure-zone-key-retention",
        "aws-logs-archive-enable-object-lock",
    ),
    "azure": (
        "azure-monitor-destination-configure-zone-key-retention",
        "azure-storage-archive-enable-immutability",
    ),
    "gcp": (
        "gcp-logging-destination-configure-zone-key-retention",
        "gcp-logging-bucket-enable-locked-retention",
    ),
}
CASES = [
    (cloud, stack, rule) for cloud in STACKS for stack in STACKS[cloud] for rule in RULES[cloud]
]


def resources(stack: str) -> list[Res]:
    return [
        Res(
            urn=r["urn"],
            type=r["type"],
            props=copy.deepcopy(r["inputs"]),
            protect=r["protect"],
            dependencies=tuple(r["dependencies"]),
            parent=r["parent"],
        )
        for r in planned(stack).resources
    ]


def edit(items: list[Res], kind: str, change: Callable[[dict[str, Any]], Any]) -> list[Res]:
    for r in items:
        if r.type == kind:
            change(r.props)  # type: ignore[arg-type]
    return items


def run(rule_id: str, stack: str, items: list[Res], **config: Any) -> dict[str, list[str]]:
    settings = merged_config(load_generated(), config or None)
    results = BY_ID[rule_id].check(items, Ctx(config=settings, stack=stack))
    return {urn.rsplit("::", 1)[1]: messages for urn, messages in results}


def messages(results: dict[str, list[str]]) -> list[str]:
    return [m for found in results.values() for m in found]


@pytest.mark.parametrize(("cloud", "stack", "rule_id"), CASES)
def test_the_example_plans_pass_every_log_rule(cloud: str, stack: str, rule_id: str) -> None:
    results = run(rule_id, stack, resources(stack))
    assert results, "the rule judged nothing"
    assert messages(results) == []


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        # Enterprise and standard hold HIPAA/PCI tenants (catalog-wide); free does not.
        (
            "prod-aws-eu-central-1",
            {"silo-acme-db-cluster", "silo-globex-db-cluster", "shard-standard-01-db-cluster"},
        ),
        ("prod-azure-westeurope", {"silo-stark-db-server", "shard-standard-01-db-server"}),
        ("prod-gcp-us-central1", {"silo-cyberdyne-db-instance", "shard-standard-01-db-instance"}),
    ],
)
def test_the_archive_is_judged_on_regulated_tiers_only(stack: str, expected: set[str]) -> None:
    cloud = stack.split("-")[1]
    assert set(run(RULES[cloud][1], stack, resources(stack))) == expected


OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"


def _mode(mode: str) -> Callable[[dict[str, Any]], None]:
    return lambda props: props["rule"]["defaultRetention"].update(mode=mode)


def test_governance_lock_passes_in_dev_and_fails_in_prod() -> None:
    rule_id = RULES["aws"][1]
    dev = "dev-aws-eu-central-1"
    prod = "prod-aws-eu-central-1"
    assert messages(run(rule_id, dev, edit(resources(dev), OBJECT_LOCK, _mode("GOVERNANCE")))) == []
    found = messages(run(rule_id, prod, edit(resources(prod), OBJECT_LOCK, _mode("GOVERNANCE"))))
    assert set(found) == {"the archive's lock mode is GOVERNANCE; production needs COMPLIANCE"}


def test_a_lock_shorter_than_the_tiers_retention_fails() -> None:
    stack = "prod-aws-eu-central-1"
    items = edit(
        resources(stack), OBJECT_LOCK, lambda p: p["rule"]["defaultRetention"].update(days=30)
    )
    assert set(messages(run(RULES["aws"][1], stack, items))) == {
        "the archive locks objects 30 days; the tier needs 365"
    }


def test_a_log_group_without_a_customer_key_or_long_enough_retention_fails() -> None:
    stack = "prod-aws-eu-central-1"

    def weaken(props: dict[str, Any]) -> None:
        del props["kmsKeyId"]
        props["retentionInDays"] = 120

    items = edit(resources(stack), "aws:cloudwatch/logGroup:LogGroup", weaken)
    results = run(RULES["aws"][0], stack, items)
    assert results["silo-globex-db-postgresql-logs"] == [
        "the log group is not encrypted with a customer KMS key (kmsKeyId)",
        "the log group keeps logs 120 days; tier enterprise needs 365",
    ]
    # free is not regulated: 90 days are its tier's retention, 120 are enough
    assert results["shard-free-01-db-postgresql-logs"] == [
        "the log group is not encrypted with a customer KMS key (kmsKeyId)"
    ]


def test_a_tier_missing_from_the_config_is_unknown_never_a_pass() -> None:
    stack = "prod-aws-eu-central-1"
    results = run(RULES["aws"][1], stack, resources(stack), minLogRetentionDaysByTier={})
    assert results and all(outcome_of(m) is Outcome.UNKNOWN for m in results.values())


def test_an_azure_archive_without_a_vault_key_fails() -> None:
    stack = "prod-azure-westeurope"
    items = edit(
        resources(stack),
        "azure-native:storage:StorageAccount",
        lambda p: p["encryption"].update(keySource="Microsoft.Storage"),
    )
    assert messages(run(RULES["azure"][0], stack, items)) == [
        "the account is not encrypted with a Key Vault key"
    ]


def test_a_workspace_kept_shorter_than_the_cells_longest_tier_fails() -> None:
    stack = "prod-azure-westeurope"
    items = edit(
        resources(stack),
        "azure-native:operationalinsights:Workspace",
        lambda p: p.update(retentionInDays=90),
    )
    assert messages(run(RULES["azure"][0], stack, items)) == [
        "the workspace keeps logs 90 days; the cell's longest-kept tier needs 365"
    ]


def test_an_unlocked_azure_archive_passes_in_dev() -> None:
    stack = "dev-azure-westeurope"
    (account,) = [
        r
        for r in resources(stack)
        if r.type == "azure-native:storage:StorageAccount" and ":AuditArchive$" in r.urn
    ]
    assert (
        account.props["immutableStorageWithVersioning"]["immutabilityPolicy"]["state"] == "Unlocked"
    )
    assert messages(run(RULES["azure"][1], stack, resources(stack))) == []


def test_a_gcp_bucket_keyed_in_another_region_fails() -> None:
    stack = "prod-gcp-us-central1"
    other = "projects/p/locations/us-east1/keyRings/k/cryptoKeys/k"
    items = edit(
        resources(stack),
        "gcp:logging/projectBucketConfig:ProjectBucketConfig",
        lambda p: p["cmekSettings"].update(kmsKeyName=other),
    )
    assert messages(run(RULES["gcp"][0], stack, items)) == [
        "the bucket's key is in us-east1, not us-central1"
    ]


def test_a_sink_for_another_region_does_not_archive_the_instance() -> None:
    stack = "prod-gcp-us-central1"
    items = edit(
        resources(stack),
        "gcp:logging/projectSink:ProjectSink",
        lambda p: p.update(
            filter='resource.type="cloudsql_database" AND resource.labels.region="us-east1"'
        ),
    )
    found = set(messages(run(RULES["gcp"][1], stack, items)))
    assert found == {"no sink routes the instance's logs into a log bucket"}
