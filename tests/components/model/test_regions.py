"""Where secondary copies of a cell's data may go (pure model, no mocks)."""

from __future__ import annotations

import pytest

from components.model.clouds import AZURE
from components.model.regions import (
    GEO_BACKUP_OFF_NO_PAIR,
    GEO_BACKUP_OFF_OUTSIDE_ZONE,
    GEO_BACKUP_ON,
    ResidencyError,
    azure_geo_backup,
    gcp_backup_location,
    gcp_secret_replicas,
)
from components.model.windows import window_start


def test_azure_pairs_are_symmetric_where_microsoft_pairs_both_ways() -> None:
    for region in ("westeurope", "germanywestcentral", "eastus", "westus2"):
        assert AZURE.paired_regions[AZURE.paired_regions[region]] == region


def test_geo_backup_is_off_when_the_pair_is_outside_the_zone_and_says_why() -> None:
    decision = azure_geo_backup("westeurope", "eu", ["westeurope", "germanywestcentral"])
    assert not decision.enabled and decision.status == GEO_BACKUP_OFF_OUTSIDE_ZONE
    assert "northeurope" in decision.reason and "'eu'" in decision.reason


def test_geo_backup_is_on_when_the_pair_is_inside_the_zone() -> None:
    decision = azure_geo_backup("westeurope", "eu", ["westeurope", "northeurope"])
    assert decision.enabled and decision.status == GEO_BACKUP_ON
    assert decision.pair_region == "northeurope"


def test_a_region_without_a_pair_gets_no_geo_backup() -> None:
    decision = azure_geo_backup("qatarcentral", "me", ["qatarcentral"])
    assert not decision.enabled and decision.status == GEO_BACKUP_OFF_NO_PAIR


def test_gcp_backups_and_secret_replicas_stay_in_the_zone() -> None:
    zone = ["us-central1", "us-east1"]
    assert gcp_backup_location("us-central1", "us", zone) == "us-central1"
    assert gcp_secret_replicas("us-central1", "us", zone) == ("us-central1",)


def test_a_location_outside_the_zone_is_an_error() -> None:
    with pytest.raises(ResidencyError, match="outside residency zone 'us'"):
        gcp_backup_location("europe-west3", "us", ["us-central1", "us-east1"])


@pytest.mark.parametrize(
    ("window", "azure", "gcp"), [("sun:03:00-sun:04:00", 0, 7), ("mon:22:30-mon:23:30", 1, 1)]
)
def test_maintenance_window_days_in_each_clouds_numbering(
    window: str, azure: int, gcp: int
) -> None:
    start = window_start(window)
    assert (start.azure_day_of_week, start.gcp_day) == (azure, gcp)
