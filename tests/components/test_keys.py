"""Keys in the plans of every cloud (issue 15, item 2): explicit AWS key policies, Azure
rotation with expiry and HSM keys for pci/hipaa tiers, 90-day rotation for those tiers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.model.keys import AWS_KEY_ADMIN_ACTIONS, aws_key_policy
from tests.support.planview import Plan, planned

# In the example catalog, standard (umbrella/tyrell: pci) and enterprise (globex/cyberdyne:
# hipaa) are regulated tiers; free is not.
REGULATED_TIERS = {"standard", "enterprise"}


def _tier(tags: dict[str, str]) -> str:
    return tags.get("tenancy:tier") or tags["tenancy-tier"]


@pytest.mark.parametrize("stack", ["dev-aws-eu-central-1", "prod-aws-eu-central-1"])
def test_every_aws_key_has_an_explicit_policy_limiting_use_to_the_cells_services(
    stack: str,
) -> None:
    plan = planned(stack)
    keys = _server_keys(plan)
    assert keys
    for key in keys:
        inputs = key["inputs"]
        policy = json.loads(inputs["policy"])
        by_sid = {s["Sid"]: s for s in policy["Statement"]}
        admin = by_sid["AccountAdministration"]
        assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
        assert not {"kms:Decrypt", "kms:Encrypt", "kms:CreateGrant", "kms:*"} & set(admin["Action"])
        via = by_sid["UseThroughDataServices"]["Condition"]["StringEquals"]["kms:ViaService"]
        assert via == [
            f"{service}.eu-central-1.amazonaws.com"
            for service in ("rds", "secretsmanager", "backup")
        ]
        assert by_sid["CloudWatchLogs"]["Principal"] == {
            "Service": "logs.eu-central-1.amazonaws.com"
        }
        assert inputs["bypassPolicyLockoutSafetyCheck"] is False
        expected = 90 if _tier(inputs["tags"]) in REGULATED_TIERS else 365
        assert inputs["rotationPeriodInDays"] == expected


def test_only_a_silo_tenants_key_names_its_own_workload_role() -> None:
    plan = planned("prod-aws-eu-central-1")
    roles = {r["inputs"]["name"] for r in plan.of_type("aws:iam/role:Role")}
    for key in _server_keys(plan):
        statements = {s["Sid"]: s for s in json.loads(key["inputs"]["policy"])["Statement"]}
        owner = plan.owner(key)
        if owner["type"].endswith(":Shard"):
            assert "TenantRoles" not in statements
            continue
        tenant = owner["name"].removeprefix("silo-")
        (arn,) = statements["TenantRoles"]["Condition"]["ArnEquals"]["aws:PrincipalArn"]
        role = arn.rsplit("/", 1)[1]
        assert tenant in role and role in roles


def _server_keys(plan: Plan) -> list[dict[str, Any]]:
    """Each server's own CMK (the cell's log key has its own policy, tested below)."""
    return [
        key
        for key in plan.of_type("aws:kms/key:Key")
        if any(a["type"].endswith((":SiloTenant", ":Shard")) for a in plan.ancestors(key))
    ]


@pytest.mark.parametrize("stack", ["dev-aws-eu-central-1", "prod-aws-eu-central-1"])
def test_the_cell_log_key_is_administered_without_use_and_used_through_sns_and_logs(
    stack: str,
) -> None:
    plan = planned(stack)
    (log_key,) = [k for k in plan.of_type("aws:kms/key:Key") if k["name"] == "cell-log-key-cmk"]
    by_sid = {s["Sid"]: s for s in json.loads(log_key["inputs"]["policy"])["Statement"]}
    admin = by_sid["AccountAdministration"]
    assert tuple(admin["Action"]) == AWS_KEY_ADMIN_ACTIONS and "Condition" not in admin
    via = by_sid["UseThroughSns"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert via == "sns.eu-central-1.amazonaws.com"
    assert by_sid["CloudWatchLogsOfThisRegion"]["Principal"] == {
        "Service": "logs.eu-central-1.amazonaws.com"
    }
    unconditioned_use = [
        s
        for s in by_sid.values()
        if "Condition" not in s and {"kms:Decrypt", "kms:CreateGrant", "kms:*"} & set(s["Action"])
    ]
    assert unconditioned_use == []


def test_the_account_keeps_administration_without_use() -> None:
    policy = aws_key_policy(account_id="123456789012", partition="aws", region="eu-west-1")
    admin = policy["Statement"][0]
    assert "Condition" not in admin
    assert "kms:Put*" in admin["Action"] and tuple(admin["Action"]) == AWS_KEY_ADMIN_ACTIONS
    assert not any(action.startswith("kms:Create*") for action in admin["Action"])


def _azure_keys(plan: Plan) -> list[dict[str, Any]]:
    return plan.of_type("azure-native:keyvault:Key")


@pytest.mark.parametrize("stack", ["dev-azure-westeurope", "prod-azure-westeurope"])
def test_every_azure_key_rotates_and_expires_and_regulated_tiers_get_hsm_keys(stack: str) -> None:
    plan = planned(stack)
    keys = _azure_keys(plan)
    assert keys
    kinds = set()
    for key in keys:
        properties = key["inputs"]["properties"]
        tags = key["inputs"]["tags"]
        # The cell's log archive key holds regulated tiers' trails (its compliance tag says so).
        regulated = _tier(tags) in REGULATED_TIERS or {"hipaa", "pci"} & set(
            tags["tenancy:compliance"].split("-")
        )
        policy = properties["rotationPolicy"]
        (rotate,) = [a for a in policy["lifetimeActions"] if a["action"]["type"] == "rotate"]
        days = 90 if regulated else 365
        assert rotate["trigger"]["timeAfterCreate"] == f"P{days}D"
        assert policy["attributes"]["expiryTime"] == f"P{days + 30}D"
        assert properties["kty"] == ("RSA-HSM" if regulated else "RSA")
        kinds.add(properties["kty"])
    assert kinds == {"RSA", "RSA-HSM"}  # the example cell has both kinds of tier
    # HSM keys need a Premium vault (it also holds the software keys).
    for vault in plan.of_type("azure-native:keyvault:Vault"):
        assert vault["inputs"]["properties"]["sku"]["name"] == "premium"


def test_an_azure_cell_without_regulated_tiers_keeps_a_standard_vault(tmp_path: Any) -> None:
    from tenancy.plan import plan_stack
    from tests.support.planview import catalog_data, write_catalog

    data = catalog_data()
    for tenant in data["tenants"]:
        tenant["compliance"] = [
            f for f in tenant.get("compliance", []) if f not in ("pci", "hipaa")
        ]
    plan = Plan(plan_stack("dev-azure-westeurope", catalog=write_catalog(tmp_path, data)))
    for vault in plan.of_type("azure-native:keyvault:Vault"):
        assert vault["inputs"]["properties"]["sku"]["name"] == "standard"
    assert {k["inputs"]["properties"]["kty"] for k in _azure_keys(plan)} == {"RSA"}


@pytest.mark.parametrize("stack", ["dev-gcp-us-central1", "prod-gcp-us-central1"])
def test_gcp_keys_of_regulated_tiers_rotate_every_90_days_others_yearly(stack: str) -> None:
    keys = planned(stack).of_type("gcp:kms/cryptoKey:CryptoKey")
    assert keys
    for key in keys:
        days = 90 if _tier(key["inputs"]["labels"]) in REGULATED_TIERS else 365
        assert key["inputs"]["rotationPeriod"] == f"{days * 86_400}s"
