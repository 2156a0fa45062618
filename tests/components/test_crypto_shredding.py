"""Crypto-shredding in the plan (issue 12): an erased silo tenant's own key stays registered
under its old URN and disabled until its backups have aged out; then the plan lets it go
(Pulumi's delete starts the cloud's destruction window). Prod needs the catalog's explicit
``erasure.destroy_key``. Shared tiers have no key of their own: nothing is registered."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from components.model.erasure import TODAY_ENV
from tenancy.cli import main
from tenancy.diff import diff_plans, render
from tenancy.diff.compute import KEY_DESTRUCTION, STATEFUL_DELETE
from tenancy.plan import plan_stack
from tests.support.planview import Plan, catalog_data, planned, write_catalog

ERASED_ON = "2026-10-01"
# The enterprise tier keeps backups 35 days: the key may go from 2026-11-05.
BEFORE = "2026-11-04"
ON_THE_DAY = "2026-11-05"
SILO = {"aws": "acme", "azure": "stark", "gcp": "cyberdyne"}
STACKS = {"aws": "aws-eu-central-1", "azure": "azure-westeurope", "gcp": "gcp-us-central1"}
KEYS = {
    "aws": "aws:kms/key:Key",
    "azure": "azure-native:keyvault:Key",
    "gcp": "gcp:kms/cryptoKey:CryptoKey",
}


def _catalog(tmp_path: Path, status: str = "erased", **erasure: Any) -> str:
    data = catalog_data()
    for tenant in data["tenants"]:
        if tenant["id"] in SILO.values():
            tenant["status"] = status
            if status == "erased":
                tenant["erasure"] = {"erased_on": ERASED_ON, **erasure}
    return write_catalog(tmp_path, data)


def _plan(monkeypatch: pytest.MonkeyPatch, catalog: str, stack: str, today: str) -> Plan:
    monkeypatch.setenv(TODAY_ENV, today)
    text = Path(catalog).read_text(encoding="utf-8")
    return Plan(copy.deepcopy(_planned(text, stack, today, catalog)))


_PLANS: dict[tuple[str, str, str], dict[str, Any]] = {}


def _planned(text: str, stack: str, today: str, catalog: str) -> dict[str, Any]:
    """One plan per (catalog content, stack, day): the cases share a few catalogs, and a
    plan is the expensive part (TENANCY_TODAY is set by the caller)."""
    key = (text, stack, today)
    if key not in _PLANS:
        _PLANS[key] = plan_stack(stack, catalog=catalog)
    return _PLANS[key]


def _under_silo(plan: Plan, cloud: str) -> list[dict[str, Any]]:
    prefix = f"silo-{SILO[cloud]}"
    return [r for r in plan.resources if r["name"].startswith(prefix)]


def _key(plan: Plan, cloud: str) -> dict[str, Any]:
    (key,) = [r for r in _under_silo(plan, cloud) if r["type"] == KEYS[cloud]]
    return key


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_erased_silo_key_keeps_its_urn_and_nothing_else_stays(
    cloud: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = _key(planned(f"dev-{STACKS[cloud]}"), cloud)
    plan = _plan(monkeypatch, _catalog(tmp_path), f"dev-{STACKS[cloud]}", BEFORE)
    key = _key(plan, cloud)
    assert key["urn"] == live["urn"]  # an update in place, never a new key
    kinds = {r["type"] for r in _under_silo(plan, cloud) if r["custom"]}
    expected = {
        "aws": {"aws:kms/key:Key", "aws:kms/alias:Alias"},
        "azure": {"azure-native:keyvault:Key"},
        "gcp": {"gcp:kms/keyRing:KeyRing", "gcp:kms/cryptoKey:CryptoKey"},
    }[cloud]
    assert kinds == expected  # no server, no identity, no grant on the key
    assert SILO[cloud] not in plan.outputs["tenants"]
    row = plan.outputs["departed_keys"][SILO[cloud]]
    assert row["phase"] == "disabled" and row["schedule_on"] == ON_THE_DAY


def test_erased_aws_key_is_disabled_and_names_no_tenant_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = _key(_plan(monkeypatch, _catalog(tmp_path), "dev-aws-eu-central-1", BEFORE), "aws")
    assert key["inputs"]["isEnabled"] is False
    assert key["inputs"]["deletionWindowInDays"] == 30  # ScheduleKeyDeletion's window on delete
    sids = {s["Sid"] for s in json.loads(key["inputs"]["policy"])["Statement"]}
    assert "TenantRoles" not in sids


def test_erased_azure_key_is_disabled_with_no_identity_allowed_to_unwrap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = planned("dev-azure-westeurope")
    assert live.of_type("azure-native:authorization:RoleAssignment")
    plan = _plan(monkeypatch, _catalog(tmp_path), "dev-azure-westeurope", BEFORE)
    key = _key(plan, "azure")
    assert key["inputs"]["properties"]["attributes"]["enabled"] is False
    assert key["inputs"]["properties"]["kty"] == _key(live, "azure")["inputs"]["properties"]["kty"]


def test_erased_gcp_key_keeps_its_destruction_schedule_and_loses_its_grants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _plan(monkeypatch, _catalog(tmp_path), "dev-gcp-us-central1", BEFORE)
    key = _key(plan, "gcp")
    assert key["inputs"]["destroyScheduledDuration"] == f"{30 * 86400}s"
    assert not [r for r in _under_silo(plan, "gcp") if r["type"].endswith("CryptoKeyIAMMember")]


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_dev_key_leaves_the_plan_on_the_day_its_backups_have_aged_out(
    cloud: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _catalog(tmp_path)
    before = _plan(monkeypatch, catalog, f"dev-{STACKS[cloud]}", BEFORE)
    assert _key(before, cloud)["protect"] is False  # deletable when its day comes
    plan = _plan(monkeypatch, catalog, f"dev-{STACKS[cloud]}", ON_THE_DAY)
    assert _under_silo(plan, cloud) == []
    row = plan.outputs["departed_keys"][SILO[cloud]]
    window = {"aws": 30, "azure": 90, "gcp": 30}[cloud]
    assert row["phase"] == "destroy" and row["approved"] is True
    assert row["unreadable_on"] == {30: "2026-12-05", 90: "2027-02-03"}[window]


def test_prod_keeps_the_key_protected_until_destruction_is_approved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _plan(monkeypatch, _catalog(tmp_path), "prod-aws-eu-central-1", ON_THE_DAY)
    key = _key(plan, "aws")
    assert key["protect"] is True and key["inputs"]["isEnabled"] is False
    row = plan.outputs["departed_keys"]["acme"]
    assert row["phase"] == "awaiting-approval" and row["approved"] is False
    assert "erasure.destroy_key: true" in row["action"]


def test_prod_with_approval_unprotects_before_the_day_and_destroys_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _catalog(tmp_path, destroy_key=True)
    before = _plan(monkeypatch, catalog, "prod-gcp-us-central1", BEFORE)
    assert _key(before, "gcp")["protect"] is False
    on_the_day = _plan(monkeypatch, catalog, "prod-gcp-us-central1", ON_THE_DAY)
    assert _under_silo(on_the_day, "gcp") == []
    assert on_the_day.outputs["departed_keys"]["cyberdyne"]["phase"] == "destroy"


def test_offboarded_silo_key_stays_enabled_and_protected_in_prod(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _plan(monkeypatch, _catalog(tmp_path, "offboarded"), "prod-aws-eu-central-1", BEFORE)
    key = _key(plan, "aws")
    assert "isEnabled" not in key["inputs"] and key["protect"] is True
    assert plan.outputs["departed_keys"]["acme"] == {"phase": "kept", "key": "alias/tnc-prod-acme"}


def test_an_erased_shared_tier_tenant_registers_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = catalog_data()
    for tenant in data["tenants"]:
        if tenant["id"] == "hooli":
            tenant["status"] = "erased"
            tenant["erasure"] = {"erased_on": ERASED_ON}
    monkeypatch.setenv(TODAY_ENV, BEFORE)
    plan = plan_stack("dev-aws-eu-central-1", catalog=write_catalog(tmp_path, data))
    assert "hooli" not in json.dumps(plan["resources"])
    assert "departed_keys" not in plan["outputs"]


def test_a_bad_today_is_refused_with_the_variable_and_the_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(TODAY_ENV, "5 Nov")
    code = main(["plan", "dev-aws-eu-central-1", "--catalog", _catalog(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "TENANCY_TODAY='5 Nov' is not a date" in err and "YYYY-MM-DD" in err


def test_the_diff_flags_key_destruction_as_a_danger_with_the_unreadable_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _catalog(tmp_path)
    before = _plan(monkeypatch, catalog, "dev-aws-eu-central-1", BEFORE).data
    on_the_day = _plan(monkeypatch, catalog, "dev-aws-eu-central-1", ON_THE_DAY).data
    diff = diff_plans(before, on_the_day)
    (flag,) = [f for f in diff.flags if f.kind == KEY_DESTRUCTION]
    assert flag.type == "aws:kms/key:Key" and flag.owner.name == "acme"
    assert "ScheduleKeyDeletion, pending window 30 days" in flag.message
    assert "from 2026-12-05 the key and every backup" in flag.message
    assert not [f for f in diff.flags if f.kind == STATEFUL_DELETE]  # said once, precisely
    assert diff.dangerous
    assert "key-destruction" in render(diff)


def test_a_key_disabled_but_kept_is_not_flagged_as_destroyed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _catalog(tmp_path)
    early = _plan(monkeypatch, catalog, "dev-aws-eu-central-1", "2026-10-02").data
    before = _plan(monkeypatch, catalog, "dev-aws-eu-central-1", BEFORE).data
    assert not diff_plans(early, before).flags


def test_the_schedule_uses_the_windows_the_components_set() -> None:
    from components.args import EncryptionArgs
    from components.azure.vault import SOFT_DELETE_RETENTION_DAYS
    from components.model import erasure

    assert erasure.AZURE_SOFT_DELETE_RETENTION_DAYS == SOFT_DELETE_RETENTION_DAYS
    window = EncryptionArgs().deletion_window_days  # AWS deletion window, GCP destroy duration
    assert erasure.AWS_KEY_PENDING_WINDOW_DAYS == erasure.GCP_KEY_DESTROY_SCHEDULED_DAYS == window
