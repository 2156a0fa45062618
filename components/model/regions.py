"""Where a cell's copies of data may go: region pairs and backup locations, per residency zone.

A tenant's server, backups, replicas and keys all stay inside its residency
zone. The cell's own region is checked by validation; this module decides the
*secondary* places (Azure's geo-redundant backup pair, GCP's backup location,
GCP secret replicas) and refuses any that would leave the zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .clouds import AZURE

GEO_BACKUP_ON = "on"
GEO_BACKUP_OFF_OUTSIDE_ZONE = "off-pair-outside-zone"
GEO_BACKUP_OFF_NO_PAIR = "off-no-pair"


class ResidencyError(ValueError):
    """A copy of a tenant's data would be placed outside its residency zone."""


@dataclass(frozen=True)
class GeoBackupDecision:
    enabled: bool
    status: str  # GEO_BACKUP_*: short, tag-safe
    pair_region: str | None
    reason: str  # one sentence for the plan's notes

    @property
    def tag_value(self) -> str:
        return self.status


def azure_geo_backup(region: str, zone: str, zone_regions: Sequence[str]) -> GeoBackupDecision:
    """Geo-redundant backup only when the region's fixed pair lies inside the residency zone."""
    pair = AZURE.paired_regions.get(region)
    if pair is None:
        return GeoBackupDecision(
            False,
            GEO_BACKUP_OFF_NO_PAIR,
            None,
            f"geo-redundant backup off: {region} has no paired region",
        )
    if pair not in zone_regions:
        return GeoBackupDecision(
            False,
            GEO_BACKUP_OFF_OUTSIDE_ZONE,
            pair,
            f"geo-redundant backup off: {region}'s paired region {pair} is outside "
            f"residency zone {zone!r} ({', '.join(zone_regions)})",
        )
    return GeoBackupDecision(
        True,
        GEO_BACKUP_ON,
        pair,
        f"geo-redundant backup on: {region}'s paired region {pair} is inside residency zone {zone!r}",
    )


def require_inside_zone(what: str, location: str, zone: str, zone_regions: Sequence[str]) -> str:
    """Return ``location`` if it is one of the zone's regions; raise ResidencyError otherwise."""
    if location not in zone_regions:
        raise ResidencyError(
            f"{what} location {location!r} is outside residency zone {zone!r}; "
            f"allowed: {', '.join(zone_regions) or '(none)'}"
        )
    return location


def gcp_backup_location(region: str, zone: str, zone_regions: Sequence[str]) -> str:
    # The cell's own region: a multi-region such as "us" may span regions outside the zone.
    return require_inside_zone("backup", region, zone, zone_regions)


def gcp_secret_replicas(region: str, zone: str, zone_regions: Sequence[str]) -> tuple[str, ...]:
    """User-managed replicas of a server's secret: the cell's region, inside the zone.

    Each replica is encrypted with the server's own CMEK, which (like the server)
    lives in the cell's region; a replica elsewhere would need a second key there
    and would outlive a server it cannot serve anyway.
    """
    return (require_inside_zone("secret replica", region, zone, zone_regions),)
