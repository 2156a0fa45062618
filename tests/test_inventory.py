"""Each example stack's plan matches its checked-in inventory (tests/inventory/<stack>.yaml).

An unintended change to any stack fails here with a unified diff; an intended one is
committed together with the inventory that ``make inventory`` rewrites.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable
from typing import Any

import pytest

from tenancy.stackfiles import known_stacks
from tests.support.inventory import (
    INVENTORY_DIR,
    UPDATE_COMMAND,
    inventory_path,
    render,
    server_rows,
)
from tests.support.planview import Plan, planned

STACKS = known_stacks()


def _diff(expected: str, actual: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"{name} (checked in)",
            tofile=f"{name} (planned now)",
        )
    )


@pytest.mark.parametrize("stack", STACKS)
def test_the_plan_matches_the_checked_in_inventory(stack: str) -> None:
    path = inventory_path(stack)
    assert path.is_file(), f"no inventory for {stack}: run `{UPDATE_COMMAND}` and commit it"
    expected = path.read_text(encoding="utf-8")
    actual = render(planned(stack))
    if actual != expected:  # pytest.fail: the unified diff alone, not pytest's string diff too
        pytest.fail(
            f"stack {stack} no longer matches its inventory. If the change is intended, run "
            f"`{UPDATE_COMMAND}` and commit the file with it.\n"
            + _diff(expected, actual, f"tests/inventory/{stack}.yaml"),
            pytrace=False,
        )


def test_there_is_one_inventory_per_example_stack() -> None:
    assert sorted(p.stem for p in INVENTORY_DIR.glob("*.yaml")) == sorted(STACKS)


def _changed(stack: str, edit: Callable[[Plan], None]) -> Plan:
    plan = Plan(copy.deepcopy(planned(stack).data))
    edit(plan)
    return plan


def _first(plan: Plan, kind: str) -> dict[str, Any]:
    return sorted(plan.of_type(kind), key=lambda r: r["name"])[0]


def test_a_changed_input_shows_as_the_one_changed_resource_line() -> None:
    stack = "prod-aws-eu-central-1"

    def raise_retention(plan: Plan) -> None:
        _first(plan, "aws:rds/cluster:Cluster")["inputs"]["backupRetentionPeriod"] = 1

    diff = _diff(render(planned(stack)), render(_changed(stack, raise_retention)), stack)
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
    assert len(changed) == 2 and all("shard-free-01-db-cluster" in line for line in changed), diff


def test_losing_protect_shows_in_the_inventory() -> None:
    stack = "prod-gcp-us-central1"

    def unprotect(plan: Plan) -> None:
        _first(plan, "gcp:kms/cryptoKey:CryptoKey")["protect"] = False

    diff = _diff(render(planned(stack)), render(_changed(stack, unprotect)), stack)
    assert "+  - {type: 'gcp:kms/cryptoKey:CryptoKey'" in diff and "protect: false" in diff


def _aws_tls_off(plan: Plan) -> None:
    group = _first(plan, "aws:rds/clusterParameterGroup:ClusterParameterGroup")
    for parameter in group["inputs"]["parameters"]:
        if parameter["name"] == "rds.force_ssl":
            parameter["value"] = "0"


def _azure_lock_removed(plan: Plan) -> None:
    lock = _first(plan, "azure-native:authorization:ManagementLockByScope")
    lock["inputs"]["level"] = "ReadOnly"


def _gcp_public_ip(plan: Plan) -> None:
    instance = _first(plan, "gcp:sql/databaseInstance:DatabaseInstance")
    instance["inputs"]["settings"]["ipConfiguration"]["ipv4Enabled"] = True


def _aws_no_key(plan: Plan) -> None:
    del _first(plan, "aws:rds/cluster:Cluster")["inputs"]["kmsKeyId"]


@pytest.mark.parametrize(
    ("stack", "edit", "fact"),
    [
        ("prod-aws-eu-central-1", _aws_tls_off, "tls_only"),
        ("prod-aws-eu-central-1", _aws_no_key, "encryption_key"),
        ("prod-azure-westeurope", _azure_lock_removed, "deletion_protection"),
        ("prod-gcp-us-central1", _gcp_public_ip, "public_access"),
    ],
)
def test_a_weakened_server_shows_in_its_secure_facts(
    stack: str, edit: Callable[[Plan], None], fact: str
) -> None:
    before = {row["name"]: row for row in server_rows(planned(stack))}
    after = {row["name"]: row for row in server_rows(_changed(stack, edit))}
    flipped = [name for name in before if before[name][fact] != after[name][fact]]
    assert len(flipped) == 1, (fact, flipped)
