"""Immutable backups for regulated tiers in prod (issue 15, item 3), through the plans."""

from __future__ import annotations

import pytest

from tests.support.planview import Plan, planned

# Tier -> backup_retention_days in the example catalog; standard and enterprise are
# regulated (pci/hipaa tenants), free is not.
RETENTION = {"standard": 14, "enterprise": 35}


def _tier(tags: dict[str, str]) -> str:
    return tags.get("tenancy:tier") or tags["tenancy-tier"]


def _servers(plan: Plan, cloud: str) -> dict[str, dict]:
    return {owner["name"]: owner for owner in plan.owners(cloud)}


def test_aws_prod_regulated_servers_back_up_into_a_locked_vault_with_their_own_key() -> None:
    plan = planned("prod-aws-eu-central-1")
    backed_up = set()
    for name, owner in _servers(plan, "aws").items():
        vaults = plan.under(owner, "aws:backup/vault:Vault")
        key = plan.one_under(owner, "aws:kms/key:Key")
        tier = _tier(key["inputs"]["tags"])
        if tier not in RETENTION:
            assert not vaults, f"{name}: tier {tier} is not regulated"
            continue
        backed_up.add(name)
        (vault,) = vaults
        assert vault["protect"] is True and vault["inputs"]["forceDestroy"] is False
        assert vault["inputs"]["kmsKeyArn"].startswith("arn:aws:kms:eu-central-1:")
        assert key["urn"] in vault["dependencies"]  # the server's own key, not another's
        lock = plan.one_under(owner, "aws:backup/vaultLockConfiguration:VaultLockConfiguration")
        # changeableForDays set: compliance mode (unset would be governance mode).
        assert lock["inputs"]["changeableForDays"] == 3
        assert lock["inputs"]["minRetentionDays"] == RETENTION[tier]
        assert "maxRetentionDays" not in lock["inputs"]
        backup_plan = plan.one_under(owner, "aws:backup/plan:Plan")
        (rule,) = backup_plan["inputs"]["rules"]
        assert rule["lifecycle"] == {"deleteAfter": RETENTION[tier]}
        assert not rule.get("copyActions")  # copies never leave the cell's region
        selection = plan.one_under(owner, "aws:backup/selection:Selection")
        cluster = plan.primary_under(owner, "aws:rds/cluster:Cluster")
        assert cluster["urn"] in selection["dependencies"]
        assert len(selection["inputs"]["resources"]) == 1
    assert backed_up == {"silo-acme", "silo-globex", "shard-standard-01"}


def test_gcp_prod_regulated_servers_back_up_into_a_vault_enforcing_the_tier_retention() -> None:
    plan = planned("prod-gcp-us-central1")
    backed_up = set()
    for name, owner in _servers(plan, "gcp").items():
        vaults = plan.under(owner, "gcp:backupdisasterrecovery/backupVault:BackupVault")
        key = plan.one_under(owner, "gcp:kms/cryptoKey:CryptoKey")
        tier = _tier(key["inputs"]["labels"])
        if tier not in RETENTION:
            assert not vaults
            continue
        backed_up.add(name)
        (vault,) = vaults
        days = RETENTION[tier]
        assert vault["inputs"]["backupMinimumEnforcedRetentionDuration"] == f"{days * 86_400}s"
        assert vault["inputs"]["location"] == "us-central1"
        assert key["urn"] in vault["dependencies"]
        assert vault["protect"] is True and vault["inputs"]["forceDelete"] is False
        backup_plan = plan.one_under(owner, "gcp:backupdisasterrecovery/backupPlan:BackupPlan")
        assert backup_plan["inputs"]["resourceType"] == "sqladmin.googleapis.com/Instance"
        (rule,) = backup_plan["inputs"]["backupRules"]
        assert rule["backupRetentionDays"] == days
        association = plan.one_under(
            owner, "gcp:backupdisasterrecovery/backupPlanAssociation:BackupPlanAssociation"
        )
        instance = plan.primary_under(owner, "gcp:sql/databaseInstance:DatabaseInstance")
        assert association["inputs"]["resource"].endswith(
            f"/instances/{instance['inputs']['name']}"
        )
    assert backed_up == {"silo-cyberdyne", "shard-standard-01"}
    # The Backup and DR service agent may use the keys the vaults encrypt with.
    grants = plan.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert any(g["name"].endswith("-backupdr-agent") for g in grants)


@pytest.mark.parametrize(
    "stack", ["dev-aws-eu-central-1", "dev-gcp-us-central1", "prod-azure-westeurope"]
)
def test_no_backup_vault_outside_prod_or_where_the_service_does_not_support_the_database(
    stack: str,
) -> None:
    types = {r["type"] for r in planned(stack).resources}
    assert not {t for t in types if "backup" in t.lower() and "Policy" not in t}
    assert not any(r["name"].endswith("-backupdr-agent") for r in planned(stack).resources)
