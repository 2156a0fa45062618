"""``tenancy compliance`` lists each server's audit-logging evidence, read from the plan."""

from __future__ import annotations

import copy
import json

import pytest

from policies.auditevidence import audit_evidence
from tenancy.cli import main
from tests.support.planview import planned

STACKS = ("prod-aws-eu-central-1", "prod-azure-westeurope", "prod-gcp-us-central1")
REGULATED = {"enterprise", "standard"}  # tiers with a HIPAA or PCI tenant in the catalog


@pytest.mark.parametrize("stack", STACKS)
def test_every_primary_server_has_a_row_with_its_trail(stack: str) -> None:
    plan = planned(stack)
    rows = {row["server"]: row for row in audit_evidence(plan.data)}
    cloud = stack.split("-")[1]
    assert len(rows) == len(plan.owners(cloud))
    region = stack.split("-", 2)[2]
    for row in rows.values():
        regulated = row["tier"] in REGULATED
        assert row["pgaudit_classes"] == ("ddl,role,write" if regulated else "ddl,role")
        assert row["region"] == region and row["retention_days"] >= 90
        assert row["encryption"] != "none"
        if regulated:  # production: the copy is locked for the tier's retention
            assert not row["archive"].startswith("none") and "365 days" in row["archive"], row
        elif cloud != "gcp":  # GCP: one cell bucket, locked for every server's logs
            assert row["archive"].startswith("none"), row


def test_an_unwired_archive_shows_as_missing() -> None:
    plan = copy.deepcopy(planned("prod-aws-eu-central-1").data)
    plan["resources"] = [
        r
        for r in plan["resources"]
        if r["type"] != "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
    ]
    assert {row["archive"] for row in audit_evidence(plan)} == {"none"}


def test_a_server_without_pgaudit_says_so() -> None:
    plan = copy.deepcopy(planned("prod-gcp-us-central1").data)
    for r in plan["resources"]:
        if r["type"] == "gcp:sql/databaseInstance:DatabaseInstance":
            flags = r["inputs"]["settings"]["databaseFlags"]
            r["inputs"]["settings"]["databaseFlags"] = [
                f for f in flags if f["name"] != "pgaudit.log"
            ]
    assert {row["pgaudit_classes"] for row in audit_evidence(plan)} == {None}


def test_compliance_report_carries_the_audit_logging_evidence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["compliance", "prod-aws-eu-central-1", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {row["server"]: row for row in report["audit_logging"]}
    globex = rows["silo-globex-db-cluster"]
    assert globex["destination"] == "CloudWatch Logs /aws/rds/cluster/tnc-prod-globex/postgresql"
    assert globex["retention_days"] == 365 and globex["encryption"].startswith("KMS arn:aws:kms:")
    assert globex["archive"].endswith("Object Lock COMPLIANCE 365 days")
    assert rows["shard-free-01-db-cluster"]["archive"] == "none"
    assert main(["compliance", "prod-aws-eu-central-1"]) == 0
    markdown = capsys.readouterr().out
    assert "## Audit logging per server" in markdown
    assert "| `silo-globex-db-cluster` | globex | enterprise | `ddl,role,write` |" in markdown
