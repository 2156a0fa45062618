"""The operators' Entra group as administrator of every Azure Flexible Server (issue 15,
item 6): asserted on the offline plans of the example stacks, and on a changed stack file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import program
from tenancy.plan import plan_stack
from tests.support.planview import Plan, planned

AZURE = ("dev-azure-westeurope", "prod-azure-westeurope")
OTHERS = ("dev-aws-eu-central-1", "prod-aws-eu-central-1", "dev-gcp-us-central1")
SERVER = "azure-native:dbforpostgresql:Server"
ADMIN = "azure-native:dbforpostgresql:Administrator"
CONFIG = "azure-native:dbforpostgresql:Configuration"
FLEXIBLE = "tenancy:azure:FlexibleServer"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"


def _group(stack: str) -> dict[str, str]:
    text = (program.STACKS_DIR / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8")
    group: dict[str, str] = yaml.safe_load(text)["config"]["tenancy:entraAdminGroup"]
    return group


def _primaries(plan: Plan) -> list[dict[str, Any]]:
    return plan.primaries(SERVER)


@pytest.mark.parametrize("stack", AZURE)
def test_every_azure_primary_has_exactly_one_administrator_the_operators_group(
    stack: str,
) -> None:
    plan, group = planned(stack), _group(stack)
    primaries = _primaries(plan)
    assert len(primaries) >= 3  # a silo tenant's server and the bridge/pool shards
    for server in primaries:
        component = plan.by_urn[server["parent"]]
        assert component["type"] == FLEXIBLE
        (admin,) = plan.under(component, ADMIN)
        assert admin["parent"] == component["urn"]  # parent=self: the server component
        assert admin["name"] == f"{component['name']}-entra-admin"  # from the logical name
        inputs = admin["inputs"]
        assert inputs["principalType"] == "Group"
        assert inputs["objectId"] == group["objectId"]
        assert inputs["principalName"] == group["displayName"]
        assert inputs["serverName"] == server["inputs"]["serverName"]
        assert inputs["resourceGroupName"] == server["inputs"]["resourceGroupName"]
        # The group lives in the directory the server's Entra authentication trusts.
        assert inputs["tenantId"] == server["inputs"]["authConfig"]["tenantId"]


@pytest.mark.parametrize("stack", AZURE)
def test_the_administrator_comes_after_the_server_and_its_parameters(stack: str) -> None:
    plan = planned(stack)
    for server in _primaries(plan):
        component = plan.by_urn[server["parent"]]
        (admin,) = plan.under(component, ADMIN)
        assert server["urn"] in admin["dependencies"]
        # One management operation at a time: after the last server parameter, which
        # itself waits for every parameter before it.
        parameters = [c for c in plan.under(component, CONFIG) if c["parent"] == component["urn"]]
        last = [c for c in parameters if c["name"].endswith("-metrics-collector-database-activity")]
        assert [c["urn"] for c in last] == [
            urn for urn in admin["dependencies"] if plan.by_urn[urn]["type"] == CONFIG
        ]


@pytest.mark.parametrize("stack", AZURE)
def test_what_needs_the_administrator_waits_for_it(stack: str) -> None:
    plan = planned(stack)
    admins = {a["urn"] for a in plan.of_type(ADMIN)}
    replicas = [r for r in plan.of_type(SERVER) if plan.is_replica(r)]
    assert replicas
    for replica in replicas:
        # A replica copies the primary's roles: it is created once the admin's role exists.
        assert admins & set(replica["dependencies"])
    isolation = plan.of_type("pulumi-python:dynamic:Resource")
    assert isolation
    for sql in isolation:
        assert admins & set(sql["dependencies"]), sql["name"]


@pytest.mark.parametrize("stack", AZURE)
def test_replicas_get_no_administrator_of_their_own(stack: str) -> None:
    plan = planned(stack)
    servers = {s["inputs"]["serverName"] for s in _primaries(plan)}
    assert {a["inputs"]["serverName"] for a in plan.of_type(ADMIN)} == servers
    assert len(plan.of_type(ADMIN)) == len(servers)


@pytest.mark.parametrize("stack", AZURE)
def test_no_tenant_identity_is_an_administrator(stack: str) -> None:
    plan, group = planned(stack), _group(stack)
    identity_urns = {r["urn"] for r in plan.of_type(IDENTITY)}
    identity_names = {r["inputs"]["resourceName"] for r in plan.of_type(IDENTITY)}
    for admin in plan.of_type(ADMIN):
        assert admin["inputs"]["objectId"] == group["objectId"]
        assert admin["inputs"]["principalName"] not in identity_names
        assert not identity_urns & set(admin["dependencies"])
    # The identities' principal ids reach db apply as the narrow mapping's input instead.
    tenants = plan.outputs["tenants"]
    assert all("entra_principal_id" in tenants[t] for t in plan.silo_ids())


@pytest.mark.parametrize("stack", OTHERS)
def test_other_clouds_have_no_entra_administrator(stack: str) -> None:
    assert planned(stack).of_type(ADMIN) == []


def test_another_group_in_the_stack_file_changes_only_the_administrators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = "dev-azure-westeurope"
    stacks = tmp_path / "stacks"
    shutil.copytree(program.STACKS_DIR, stacks)
    path = stacks / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["config"]["tenancy:entraAdminGroup"] = {
        "objectId": "0b9e7a61-3c2d-4f5e-8a9b-1c2d3e4f5a6b",
        "displayName": "platform-dba",
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    monkeypatch.setattr(program, "STACKS_DIR", stacks)
    changed = Plan(plan_stack(stack))
    base = planned(stack)
    assert [r["urn"] for r in changed.resources] == [r["urn"] for r in base.resources]
    for before, after in zip(base.resources, changed.resources, strict=True):
        if before["type"] == ADMIN:
            assert after["inputs"]["objectId"] == "0b9e7a61-3c2d-4f5e-8a9b-1c2d3e4f5a6b"
            assert after["inputs"]["principalName"] == "platform-dba"
        else:
            assert json.dumps(after, sort_keys=True) == json.dumps(before, sort_keys=True)
