"""Workload identities, finished (issue 15, item 6): the GCP silo workload logs in with IAM
as a database user holding its tenant's role only; the Azure one is no server admin, and its
principal id reaches ``tenancy db apply`` through the stack output; connection facts carry
read endpoints."""

from __future__ import annotations

import pytest

from components.gcp.workload_identity import iam_database_user
from components.postgres.sqlplan import entra_login_role
from tests.support.planview import planned

USER = "gcp:sql/user:User"


@pytest.mark.parametrize("stack", ["dev-gcp-us-central1", "prod-gcp-us-central1"])
def test_each_gcp_silo_workload_has_an_iam_database_user_with_its_tenant_role_only(
    stack: str,
) -> None:
    plan = planned(stack)
    iam_users = [
        u for u in plan.of_type(USER) if u["inputs"]["type"] == "CLOUD_IAM_SERVICE_ACCOUNT"
    ]
    assert {u["name"] for u in iam_users} == {
        f"silo-{tenant}-workload-identity-db-user" for tenant in plan.silo_ids()
    }
    accounts = {a["name"]: a for a in plan.of_type("gcp:serviceaccount/account:Account")}
    for user in iam_users:
        tenant = user["name"].removeprefix("silo-").removesuffix("-workload-identity-db-user")
        assert user["inputs"]["databaseRoles"] == [f"tenant_{tenant}"]
        account = accounts[f"silo-{tenant}-workload-identity-account"]
        project = account["inputs"]["project"]
        assert user["inputs"]["name"] == f"{account['inputs']['accountId']}@{project}.iam"
        # On the tenant's own instance, once the isolation SQL has created the role.
        silo = plan.component("tenancy:gcp:SiloTenant", f"silo-{tenant}")
        instance = plan.primary_under(silo, "gcp:sql/databaseInstance:DatabaseInstance")
        assert user["inputs"]["instance"] == instance["inputs"]["name"]
        isolation = plan.one_under(silo, "pulumi-python:dynamic:Resource")
        assert isolation["urn"] in user["dependencies"]


def test_the_iam_user_name_drops_only_the_service_account_domain() -> None:
    email = "tnc-prod-acme@proj-1.iam.gserviceaccount.com"
    assert iam_database_user(email) == "tnc-prod-acme@proj-1.iam"


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        # Aurora: the reader endpoint of every cluster.
        ("prod-aws-eu-central-1", {"acme": 1, "globex": 1, "initech": 1, "hooli": 1}),
        # Flexible Server / Cloud SQL: one per fixed replica (enterprise has one, others none).
        ("prod-azure-westeurope", {"stark": 1, "wayne": 0, "nakatomi": 0}),
        ("prod-gcp-us-central1", {"cyberdyne": 1, "tyrell": 0, "soylent": 0}),
    ],
)
def test_connection_facts_list_the_read_endpoints(stack: str, expected: dict[str, int]) -> None:
    tenants = planned(stack).outputs["tenants"]
    for tenant, count in expected.items():
        endpoints = tenants[tenant]["replica_endpoints"]
        assert len(endpoints) == count, (tenant, endpoints)
        assert tenants[tenant]["endpoint"] not in endpoints


@pytest.mark.parametrize("stack", ["dev-azure-westeurope", "prod-azure-westeurope"])
def test_no_azure_workload_identity_is_an_entra_administrator(stack: str) -> None:
    plan = planned(stack)
    assert plan.silo_ids()
    # The only administrators are the operators' group (tests/components/test_entra_admin.py).
    admins = plan.of_type("azure-native:dbforpostgresql:Administrator")
    assert admins and {a["inputs"]["principalType"] for a in admins} == {"Group"}
    primaries = [
        s
        for s in plan.of_type("azure-native:dbforpostgresql:Server")
        if s["inputs"]["createMode"] == "Create"  # replicas follow their primary's
    ]
    assert primaries
    for server in primaries:
        # Entra sign-in stays on: the mapped login roles authenticate with Entra tokens.
        assert server["inputs"]["authConfig"]["activeDirectoryAuth"] == "Enabled"


@pytest.mark.parametrize("stack", ["dev-azure-westeurope", "prod-azure-westeurope"])
def test_azure_silo_connection_facts_name_the_login_role_and_the_identity_to_map(
    stack: str,
) -> None:
    plan = planned(stack)
    tenants = plan.outputs["tenants"]
    for tenant in plan.silo_ids():
        facts = tenants[tenant]
        assert facts["database_user"] == entra_login_role(tenant) == f"entra_tenant_{tenant}"
        # The identity's principal id: unknown offline, resolved by pulumi up.
        assert "entra_principal_id" in facts
    shared = [t for t in tenants if t not in plan.silo_ids()]
    assert shared and all("entra_principal_id" not in tenants[t] for t in shared)
