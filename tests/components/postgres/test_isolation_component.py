"""DatabaseIsolation under the offline plan engine: inputs, secrecy, diffs, provider rules."""

from __future__ import annotations

from pathlib import Path

import pulumi

from components.model.catalog import Catalog
from components.model.cell import parse_stack_name
from components.model.validation import parse_catalog
from components.postgres.isolation import (
    AdminConnectionArgs,
    DatabaseIsolation,
    DatabaseIsolationArgs,
    IsolationProvider,
)
from components.postgres.sqlplan import cell_servers
from tenancy.engine import capture

STACK = "prod-aws-eu-central-1"
CATALOG_PATH = Path(__file__).resolve().parents[3] / "stacks" / "tenants.yaml"


def _catalog(text: str | None = None) -> Catalog:
    return parse_catalog(text or CATALOG_PATH.read_text(), str(CATALOG_PATH))


def _capture(catalog: Catalog) -> dict[str, dict]:  # type: ignore[type-arg]
    cell = parse_stack_name(STACK)
    assert cell is not None

    def program() -> None:
        for name, (isolation, tenants) in cell_servers(catalog, cell).items():
            connection = AdminConnectionArgs(
                host=f"{name}.internal", username="admin", password="hunter2"
            )
            DatabaseIsolation(
                f"{name}-db-isolation", DatabaseIsolationArgs(name, isolation, tenants, connection)
            )

    result = capture(program, project="tenancy", stack=STACK, config={"aws:region": "eu-central-1"})
    return {r.name: r.to_json() for r in result.resources}


def test_each_server_registers_a_component_with_one_plan_child() -> None:
    resources = _capture(_catalog())
    component = resources["free-01-db-isolation"]
    child = resources["free-01-db-isolation-sql"]
    assert component["type"] == "tenancy:postgres:DatabaseIsolation"
    assert child["type"] == "pulumi-python:dynamic:Resource"
    assert child["parent"] == component["urn"]
    assert child["inputs"]["tenants"] == ["hooli", "piedpiper"]
    assert len(child["inputs"]["planDigest"]) == 64


def test_admin_password_is_a_secret_and_tls_is_verified_by_default() -> None:
    inputs = _capture(_catalog())["standard-01-db-isolation-sql"]["inputs"]
    assert "hunter2" not in str(inputs)
    assert inputs["sslmode"] == "verify-full"


def test_adding_a_tenant_changes_only_its_servers_digest() -> None:
    before = _capture(_catalog())
    text = CATALOG_PATH.read_text() + (
        "  - {id: newco, name: NewCo, tier: free, cloud: aws, region: eu-central-1, residency: eu}\n"
    )
    after = _capture(_catalog(text))
    digests = {
        name: (before[name]["inputs"]["planDigest"], after[name]["inputs"]["planDigest"])
        for name in before
        if name.endswith("-sql")
    }
    changed = {name for name, (old, new) in digests.items() if old != new}
    assert changed == {"free-01-db-isolation-sql"}
    assert after["free-01-db-isolation-sql"]["inputs"]["tenants"] == ["hooli", "newco", "piedpiper"]


def test_provider_diff_follows_the_plan_digest() -> None:
    provider = IsolationProvider()
    olds = {"server": "free-01", "isolation": "pool", "planDigest": "a", "host": "h", "port": 5432}
    assert not provider.diff("free-01", olds, dict(olds)).changes
    changed = provider.diff("free-01", olds, {**olds, "planDigest": "b"})
    assert changed.changes and not changed.replaces


def test_provider_delete_is_a_no_op() -> None:
    # No connection details at all: a delete that tried to reach a server would fail.
    IsolationProvider().delete("free-01", {})


def test_component_outputs_are_registered() -> None:
    captured: dict[str, object] = {}

    def program() -> None:
        catalog = _catalog()
        isolation, tenants = cell_servers(catalog, parse_stack_name(STACK))["acme"]  # type: ignore[arg-type]
        comp = DatabaseIsolation(
            "acme-db-isolation",
            DatabaseIsolationArgs("acme", isolation, tenants, AdminConnectionArgs("h", "u", "p")),
        )
        captured["digest"] = comp.plan_digest
        pulumi.export("tenants", comp.tenants)

    result = capture(program, project="tenancy", stack=STACK, config={"aws:region": "eu-central-1"})
    assert result.outputs["tenants"] == ["acme"] and len(str(captured["digest"])) == 64
