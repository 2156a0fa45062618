"""Every server, on every cloud, applies its tenants' in-database isolation at `pulumi up`.

The SQL itself is attacked on a real PostgreSQL in tests/components/postgres/; here we check that the
program registers one DatabaseIsolation per server, with the right plan, as a child of
that server, after the server, and without leaking the admin password.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.postgres.sqlplan import plan_for_server
from infra import program
from tenancy.stackfiles import read_stack_config
from tests.support.planview import Plan, planned

STACKS = [
    f"{env}-{cell}"
    for env in ("dev", "prod")
    for cell in ("aws-eu-central-1", "azure-westeurope", "gcp-us-central1")
]
ISOLATION = "tenancy:postgres:DatabaseIsolation"
SQL = "pulumi-python:dynamic:Resource"
SERVER_TYPES = {
    "aws": "aws:rds/cluster:Cluster",
    "azure": "azure-native:dbforpostgresql:Server",
    "gcp": "gcp:sql/databaseInstance:DatabaseInstance",
}


@pytest.fixture(scope="module", params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _servers(plan: Plan, cloud: str) -> list[dict[str, Any]]:
    return plan.owners(cloud)


def _sql_of(plan: Plan, server: dict[str, Any]) -> dict[str, Any]:
    (isolation,) = [r for r in plan.of_type(ISOLATION) if r["parent"] == server["urn"]]
    (sql,) = [r for r in plan.of_type(SQL) if r["parent"] == isolation["urn"]]
    return sql


def test_each_server_applies_exactly_its_own_tenants_plan(stack: str) -> None:
    plan = planned(stack)
    _settings, _catalog, blueprint = program.resolve(stack, read_stack_config(stack), "tenancy")
    cloud = stack.split("-")[1]
    components = {r["name"]: r for r in _servers(plan, cloud)}
    assert len(components) == len(blueprint.servers) == len(plan.of_type(ISOLATION))
    for spec in blueprint.servers:
        component = components[f"{'silo' if spec.is_silo else 'shard'}-{spec.owner}"]
        inputs = _sql_of(plan, component)["inputs"]
        # The cell (stack) is recorded in the server marker the tenant mover reads.
        expected = plan_for_server(spec.owner, spec.isolation, list(spec.tenants), cell=stack)
        assert inputs["tenants"] == sorted(spec.tenant_ids) and inputs["cell"] == stack
        assert inputs["planDigest"] == expected.digest()
        assert inputs["isolation"] == spec.isolation


def test_the_sql_runs_only_after_the_server_exists(stack: str) -> None:
    plan = planned(stack)
    cloud = stack.split("-")[1]
    for component in _servers(plan, cloud):
        sql = _sql_of(plan, component)
        # The primary: replicas copy whatever the SQL creates on it.
        servers = [
            r["urn"]
            for r in plan.primaries(SERVER_TYPES[cloud])
            if r in plan.under(component, SERVER_TYPES[cloud])
        ]
        assert servers and set(servers) <= set(sql["dependencies"]), component["name"]


def test_the_admin_password_is_a_secret_and_tls_is_verified(stack: str) -> None:
    plan = planned(stack)
    for sql in plan.of_type(SQL):
        assert sql["inputs"]["password"] == "[secret]"
        assert sql["inputs"]["sslmode"] == "verify-full"
        assert sql["inputs"]["username"] == "tenancy_admin"


def test_silo_plans_connect_to_the_maintenance_database_and_shards_to_their_own(stack: str) -> None:
    plan = planned(stack)
    # The server SQL plans (GCP poolers add a dynamic resource of their own: their verifiers).
    for sql in [r for r in plan.of_type(SQL) if r["name"].endswith("-isolation-sql")]:
        silo = sql["inputs"]["isolation"] == "silo"
        assert sql["inputs"]["database"] == ("postgres" if silo else "app")
