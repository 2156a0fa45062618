"""Tier profile rules: bounds, targets, cron windows and overrides, each with path and hint."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.model.catalog import AppProfile, DatabaseProfile
from components.model.cell import place_tenant
from components.model.errors import InputError
from components.model.validation import parse_catalog

CATALOG = Path(__file__).resolve().parents[3] / "stacks" / "tenants.yaml"


def _base() -> dict[str, Any]:
    return yaml.safe_load(CATALOG.read_text())


def _issues(data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    with pytest.raises(InputError) as caught:
        parse_catalog(yaml.safe_dump(data, sort_keys=False), "tenants.yaml")
    return {issue.path: (issue.message, issue.hint) for issue in caught.value.issues}


def _tenant_index(data: dict[str, Any], tenant_id: str) -> int:
    return next(i for i, t in enumerate(data["tenants"]) if t["id"] == tenant_id)


def test_example_catalog_validates_with_new_profile_fields() -> None:
    catalog = parse_catalog(CATALOG.read_text(), str(CATALOG))
    standard = catalog.tiers["standard"]
    assert standard.app.scale_windows[0].timezone == "Europe/Berlin"
    assert standard.database.max_read_replicas == 3


def test_defaults_are_the_reference_standard_profile() -> None:
    app = AppProfile()
    assert (app.min_replicas, app.max_replicas, app.cpu_target, app.memory_target) == (
        2,
        50,
        70,
        80,
    )
    assert app.pdb_min_available == 1
    assert app.effective_quota_pods == 51
    assert app.effective_quota_cpu_millicores == 51 * app.cpu_limit_millicores
    db = DatabaseProfile(min_capacity=0.5, max_capacity=8, backup_retention_days=7)
    assert (db.min_read_replicas, db.max_read_replicas, db.scale_windows) == (0, 0, [])


def test_minimal_tier_without_new_fields_still_validates() -> None:
    data = _base()
    data["tiers"]["free"]["app"] = {"min_replicas": 2, "max_replicas": 10}
    parse_catalog(yaml.safe_dump(data), "tenants.yaml")


@pytest.mark.parametrize(
    ("section", "field", "value", "path"),
    [
        ("app", "cpu_target", 0, "tiers.free.app.cpu_target"),
        ("app", "memory_target", 101, "tiers.free.app.memory_target"),
        ("database", "read_replica_cpu_target", 0, "tiers.free.database.read_replica_cpu_target"),
        (
            "app",
            "scale_down_stabilization_seconds",
            3601,
            "tiers.free.app.scale_down_stabilization_seconds",
        ),
    ],
)
def test_targets_and_windows_out_of_range_are_rejected(
    section: str, field: str, value: int, path: str
) -> None:
    data = _base()
    data["tiers"]["free"][section][field] = value
    assert path in _issues(data)


def test_request_above_limit_is_rejected_with_hint() -> None:
    data = _base()
    data["tiers"]["free"]["app"]["cpu_request_millicores"] = 900
    message, hint = _issues(data)["tiers.free.app.cpu_request_millicores"]
    assert "exceeds cpu_limit_millicores 500" in message
    assert "request <= the limit" in hint


def test_min_read_replicas_above_max_is_rejected() -> None:
    data = _base()
    data["tiers"]["standard"]["database"]["min_read_replicas"] = 4
    assert (
        "exceeds max_read_replicas 3"
        in _issues(data)["tiers.standard.database.min_read_replicas"][0]
    )


def test_pdb_that_blocks_every_eviction_is_rejected() -> None:
    data = _base()
    data["tiers"]["free"]["app"]["pdb_min_available"] = 2
    message, hint = _issues(data)["tiers.free.app.pdb_min_available"]
    assert "not below min_replicas 2" in message
    assert "at most 1" in hint


def test_zero_min_replicas_is_rejected_because_hpa_needs_one() -> None:
    data = _base()
    data["tiers"]["free"]["app"]["min_replicas"] = 0
    data["tiers"]["free"]["app"]["pdb_min_available"] = 0
    assert "below 1" in _issues(data)["tiers.free.app.min_replicas"][0]


def test_quota_too_small_for_max_replicas_is_rejected() -> None:
    data = _base()
    data["tiers"]["free"]["app"]["quota_pods"] = 10
    message, hint = _issues(data)["tiers.free.app.quota_pods"]
    assert "needs 11" in message
    assert "at least 11" in hint


@pytest.mark.parametrize(
    ("cron", "reason"),
    [
        ("0 7 * *", "has 4 fields"),
        ("61 7 * * 1-5", "does not parse"),
        ("0 7 L * *", "extension"),
        ("0 7 1 * 1", "both day-of-month and day-of-week"),
        ("0 0 7 * * 1-5", "has 6 fields"),
    ],
)
def test_bad_cron_in_a_window_is_rejected(cron: str, reason: str) -> None:
    data = _base()
    data["tiers"]["standard"]["app"]["scale_windows"][0]["start"] = cron
    message, hint = _issues(data)["tiers.standard.app.scale_windows[0].start"]
    assert reason in message
    assert "minute hour day-of-month month day-of-week" in hint


def test_unknown_timezone_is_rejected() -> None:
    data = _base()
    data["tiers"]["standard"]["database"]["scale_windows"][0]["timezone"] = "Europe/Atlantis"
    message, hint = _issues(data)["tiers.standard.database.scale_windows[0].timezone"]
    assert "not an IANA time zone" in message
    assert "Europe/Berlin" in hint


def test_window_floor_outside_the_profile_range_is_rejected() -> None:
    data = _base()
    data["tiers"]["standard"]["app"]["scale_windows"][0]["min_replicas"] = 51
    data["tiers"]["standard"]["database"]["scale_windows"][0]["min_read_replicas"] = 4
    issues = _issues(data)
    assert (
        "outside the profile's replica range [2, 50]"
        in issues["tiers.standard.app.scale_windows[0].min_replicas"][0]
    )
    assert (
        "read-replica range [0, 3]"
        in issues["tiers.standard.database.scale_windows[0].min_read_replicas"][0]
    )


def test_database_window_without_a_replica_floor_is_rejected() -> None:
    data = _base()
    del data["tiers"]["standard"]["database"]["scale_windows"][0]["min_read_replicas"]
    assert "tiers.standard.database.scale_windows[0].min_read_replicas" in _issues(data)


def test_duplicate_window_names_and_empty_windows_are_rejected() -> None:
    data = _base()
    windows = data["tiers"]["standard"]["app"]["scale_windows"]
    windows.append({**copy.deepcopy(windows[0]), "end": windows[0]["start"]})
    issues = _issues(data)
    assert "duplicate window name" in issues["tiers.standard.app.scale_windows[1].name"][0]
    assert "ends when it starts" in issues["tiers.standard.app.scale_windows[1].end"][0]


def test_every_profile_error_is_reported_at_once() -> None:
    data = _base()
    data["tiers"]["free"]["app"]["cpu_request_millicores"] = 900
    data["tiers"]["standard"]["app"]["scale_windows"][0]["timezone"] = "Nowhere"
    data["tiers"]["enterprise"]["database"]["min_read_replicas"] = 9
    issues = _issues(data)
    # min > max on the tier, and (a consequence on one cloud) 9 fixed replicas for the
    # Azure enterprise tenant, where a Flexible Server allows 5.
    azure_silo = _tenant_index(data, "stark")
    assert "azure allows at most 5" in issues[f"tenants[{azure_silo}].tier"][0]
    assert len(issues) == 4


def test_override_within_bounds_is_merged() -> None:
    catalog = parse_catalog(CATALOG.read_text(), str(CATALOG))
    acme = next(t for t in catalog.tenants if t.id == "acme")
    placed = place_tenant(catalog, acme)
    assert (placed.app.min_replicas, placed.app.max_replicas) == (3, 30)
    assert placed.app.effective_quota_pods == 31


def test_override_outside_the_tier_bounds_is_rejected() -> None:
    data = _base()
    data["tenants"][_tenant_index(data, "acme")]["overrides"] = {"app": {"max_replicas": 60}}
    message, hint = _issues(data)["tenants[0].overrides.app.max_replicas"]
    assert "outside tier 'enterprise' bounds [3, 50]" in message
    assert "between 3 and 50" in hint


def test_override_below_a_window_floor_is_rejected() -> None:
    data = _base()
    data["tiers"]["enterprise"]["app"]["scale_windows"] = [
        {"name": "peak", "start": "0 8 * * *", "end": "0 18 * * *", "min_replicas": 10}
    ]
    data["tenants"][_tenant_index(data, "acme")]["overrides"] = {"app": {"max_replicas": 8}}
    message, _hint = _issues(data)["tenants[0].overrides.app"]
    assert "app.scale_windows[0].min_replicas" in message


def test_app_override_on_a_shared_tier_is_rejected() -> None:
    data = _base()
    index = _tenant_index(data, "initech")
    data["tenants"][index]["overrides"] = {"app": {"max_replicas": 20}}
    message, hint = _issues(data)[f"tenants[{index}].overrides.app"]
    assert "share one Deployment" in message
    assert "silo tier" in hint


# --- database.audit and database.monitoring (issue 13) ----------------------------------


@pytest.mark.parametrize(
    ("section", "values", "path", "hint"),
    [
        ("monitoring", {"cpu_percent": 150}, "monitoring.cpu_percent", "lower the value"),
        ("monitoring", {"memory_percent": 0}, "monitoring.memory_percent", "raise"),
        ("monitoring", {"period_minutes": 90}, "monitoring.period_minutes", "lower the value"),
        ("monitoring", {"replica_lag_seconds": 0}, "monitoring.replica_lag_seconds", "raise"),
        (
            "monitoring",
            {"enhanced_monitoring_interval_seconds": 7},
            "monitoring.enhanced_monitoring_interval_seconds",
            "",
        ),
        ("audit", {"slow_statement_ms": -5}, "audit.slow_statement_ms", "raise"),
        ("audit", {"log_classes": ["ddl", "everything"]}, "audit.log_classes[1]", ""),
        ("audit", {"log_classes": ["ddl", "ddl"]}, "audit.log_classes", "list each"),
    ],
)
def test_audit_and_monitoring_values_out_of_range_are_rejected(
    section: str, values: dict[str, Any], path: str, hint: str
) -> None:
    data = _base()
    data["tiers"]["free"]["database"][section] = values
    issues = _issues(data)
    key = f"tiers.free.database.{path}"
    assert key in issues, issues
    assert hint in issues[key][1]


def test_audit_and_monitoring_defaults_are_documented_behaviour() -> None:
    database = DatabaseProfile(min_capacity=1, max_capacity=2, backup_retention_days=7)
    assert database.audit.log_classes is None  # resolved per server: ddl,role[,write]
    assert database.audit.slow_statement_ms == 1000
    monitoring = database.monitoring
    assert (monitoring.cpu_percent, monitoring.connections_percent) == (80, 80)
    assert (monitoring.storage_used_percent, monitoring.capacity_percent) == (85, 90)
    assert (monitoring.replica_lag_seconds, monitoring.period_minutes) == (30, 5)
    assert (monitoring.deadlocks, monitoring.failed_connections) == (1, 10)
