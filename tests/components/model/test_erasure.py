"""The erasure schedule: dates per cloud and tier, key destruction and its approval, and
every copy that still holds an erased tenant's data (pure model, no Pulumi)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import yaml

from components.model.erasure import (
    EXPORT_RETENTION_DAYS,
    ErasureSchedule,
    erasure_schedule,
)
from components.model.validation import parse_catalog

ERASED_ON = datetime.date(2026, 10, 1)
EU = {
    "aws": ["eu-central-1", "eu-west-1"],
    "azure": ["westeurope", "northeurope"],
    "gcp": ["europe-west3"],
}


def _tenant(tenant_id: str, tier: str, cloud: str, **extra: Any) -> dict[str, Any]:
    region = EU[cloud][0]
    return {
        "id": tenant_id,
        "name": tenant_id.title(),
        "tier": tier,
        "cloud": cloud,
        "region": region,
        "residency": "eu",
        "compliance": extra.pop("compliance", ["gdpr"]),
        "status": "erased",
        "erasure": {"erased_on": ERASED_ON.isoformat(), **extra.pop("erasure", {})},
        **extra,
    }


def _catalog(*tenants: dict[str, Any], silo_retention: int = 30) -> Any:
    data = {
        "version": 1,
        "residency_zones": {"eu": EU},
        "tiers": {
            "free": {
                "isolation": "pool",
                "database": {"min_capacity": 0.5, "max_capacity": 8, "backup_retention_days": 7},
            },
            "standard": {
                "isolation": "bridge",
                "database": {"min_capacity": 1, "max_capacity": 16, "backup_retention_days": 14},
            },
            "enterprise": {
                "isolation": "silo",
                "database": {
                    "min_capacity": 2,
                    "max_capacity": 64,
                    "backup_retention_days": silo_retention,
                    "max_read_replicas": 2,
                },
            },
        },
        "tenants": list(tenants),
    }
    return parse_catalog(yaml.safe_dump(data, sort_keys=False), "tenants.yaml")


def _copy(schedule: ErasureSchedule, kind: str) -> Any:
    found = [c for c in schedule.copies if c.kind == kind]
    assert len(found) == 1, f"{kind}: {[c.kind for c in schedule.copies]}"
    return found[0]


def _day(days: int) -> datetime.date:
    return ERASED_ON + datetime.timedelta(days=days)


@pytest.mark.parametrize(
    ("cloud", "window"), [("aws", 30), ("azure", 90), ("gcp", 30)], ids=["aws", "azure", "gcp"]
)
def test_silo_key_is_destroyed_after_retention_plus_the_cloud_window(
    cloud: str, window: int
) -> None:
    schedule = erasure_schedule(
        _catalog(_tenant("acme", "enterprise", cloud)), "acme", ERASED_ON, "dev"
    )
    assert schedule.crypto_shredding
    assert schedule.beyond_use == ERASED_ON
    assert schedule.key is not None
    assert schedule.key.schedule_on == _day(30)
    assert schedule.key.destroyed_on == _day(30 + window)
    # The 90-day log archive may outlive the key window: the later date wins.
    assert schedule.fully_erased == _day(max(90, 30 + window))
    assert schedule.key.approved  # dev needs no approval


def test_the_cloud_mechanism_names_its_window() -> None:
    mechanisms = {
        cloud: erasure_schedule(
            _catalog(_tenant("acme", "enterprise", cloud)), "acme", ERASED_ON, "dev"
        ).key.mechanism  # type: ignore[union-attr]
        for cloud in ("aws", "azure", "gcp")
    }
    assert "ScheduleKeyDeletion, pending window 30 days" in mechanisms["aws"]
    assert "purge protection for 90 days" in mechanisms["azure"]
    assert "destroy_scheduled_duration" in mechanisms["gcp"]


def test_prod_silo_key_destruction_needs_the_explicit_approval() -> None:
    catalog = _catalog(_tenant("acme", "enterprise", "aws"))
    schedule = erasure_schedule(catalog, "acme", ERASED_ON, "prod")
    assert schedule.key is not None and not schedule.key.approved
    assert "NOT yet approved" in schedule.statement
    approved = _catalog(_tenant("acme", "enterprise", "aws", erasure={"destroy_key": True}))
    key = erasure_schedule(approved, "acme", ERASED_ON, "prod").key
    assert key is not None and key.approved


def test_silo_overrides_of_backup_retention_move_the_key_date() -> None:
    tenant = _tenant(
        "acme", "enterprise", "gcp", overrides={"database": {"backup_retention_days": 35}}
    )
    schedule = erasure_schedule(_catalog(tenant), "acme", ERASED_ON, "dev")
    assert schedule.key is not None and schedule.key.schedule_on == _day(35)


@pytest.mark.parametrize(("tier", "retention"), [("free", 7), ("standard", 14)])
@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_shared_tiers_get_no_crypto_shredding_and_say_so(
    tier: str, retention: int, cloud: str
) -> None:
    schedule = erasure_schedule(_catalog(_tenant("hooli", tier, cloud)), "hooli", ERASED_ON, "prod")
    assert not schedule.crypto_shredding and schedule.key is None
    assert all(not c.under_tenant_key for c in schedule.copies)
    assert _copy(schedule, "automated backups and PITR").until == _day(retention)
    assert "no crypto-shredding is possible" in schedule.statement
    # The log archive (90 days by default) outlives the backups: it decides the date.
    assert schedule.fully_erased == _day(90)
    assert not [c for c in schedule.copies if c.kind == "final backup"]  # the shard lives on


def test_every_silo_copy_on_aws_says_whether_the_tenant_key_reaches_it() -> None:
    schedule = erasure_schedule(
        _catalog(_tenant("acme", "enterprise", "aws")), "acme", ERASED_ON, "dev"
    )
    reach = {c.kind: c.under_tenant_key for c in schedule.copies}
    assert reach == {
        "automated backups and PITR": True,
        "WAL archive": True,
        "read replicas": True,
        "final backup": True,
        "log archive": False,
        "export archive": False,
    }
    assert _copy(schedule, "read replicas").until == ERASED_ON
    assert _copy(schedule, "WAL archive").until == _day(30)
    assert _copy(schedule, "export archive").until == _day(EXPORT_RETENTION_DAYS)
    # The final snapshot never expires: it is unreadable once the key is destroyed.
    assert _copy(schedule, "final backup").until == schedule.key.destroyed_on  # type: ignore[union-attr]
    assert "log archive, export archive" in schedule.statement


def test_cloud_sql_keeps_transaction_logs_at_most_seven_days() -> None:
    schedule = erasure_schedule(
        _catalog(_tenant("acme", "enterprise", "gcp")), "acme", ERASED_ON, "dev"
    )
    assert _copy(schedule, "WAL archive").until == _day(7)
    assert "retain_backups_on_delete" in _copy(schedule, "final backup").where


def test_regulated_prod_tiers_list_the_locked_vault_on_aws_and_gcp() -> None:
    for cloud in ("aws", "gcp"):
        tenant = _tenant("acme", "enterprise", cloud, compliance=["hipaa"])
        prod = erasure_schedule(_catalog(tenant), "acme", ERASED_ON, "prod")
        vault = _copy(prod, "locked backup vault")
        assert vault.until == _day(30) and vault.under_tenant_key
        dev = erasure_schedule(_catalog(tenant), "acme", ERASED_ON, "dev")
        assert not [c for c in dev.copies if c.kind == "locked backup vault"]


def test_regulated_logs_are_kept_a_year_and_decide_full_erasure() -> None:
    tenant = _tenant("acme", "enterprise", "aws", compliance=["pci"])
    schedule = erasure_schedule(_catalog(tenant), "acme", ERASED_ON, "dev")
    assert _copy(schedule, "log archive").until == _day(365)
    assert schedule.fully_erased == _day(365)


def test_azure_geo_backup_is_listed_when_the_pair_is_in_zone() -> None:
    schedule = erasure_schedule(
        _catalog(_tenant("acme", "enterprise", "azure")), "acme", ERASED_ON, "dev"
    )
    geo = _copy(schedule, "geo-backup")
    assert "northeurope" in geo.where and geo.under_tenant_key and geo.until == _day(30)
    shared = erasure_schedule(
        _catalog(_tenant("hooli", "free", "azure")), "hooli", ERASED_ON, "dev"
    )
    assert not _copy(shared, "geo-backup").under_tenant_key


def test_azure_geo_backup_is_absent_when_the_pair_is_outside_the_zone() -> None:
    catalog = _catalog(_tenant("acme", "enterprise", "azure"))
    catalog.residency_zones["eu"]["azure"] = ["westeurope"]
    schedule = erasure_schedule(catalog, "acme", ERASED_ON, "dev")
    assert not [c for c in schedule.copies if c.kind == "geo-backup"]


def test_an_unknown_tenant_is_named() -> None:
    with pytest.raises(KeyError, match="'nobody' is not in the catalog"):
        erasure_schedule(_catalog(_tenant("acme", "enterprise", "aws")), "nobody", ERASED_ON, "dev")
