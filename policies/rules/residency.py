"""Region fencing: servers, replicas, backups, keys and secret replicas stay in the zone.

The zone comes from the resource's own ``residency`` tag/label, the zone's
regions from the policy config (generated from the catalog's residency_zones).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import controls as c
from .. import types as t
from ..framework import (
    REGION_FENCING,
    Ctx,
    cannot_verify,
    get,
    is_unknown,
    location_segment,
    rule,
    tags_of,
    tenancy_tags,
)

_META = {
    "why": "Data of a residency zone that lands in a region outside it (server, replica, backup copy or key) is a transfer to a third country under GDPR chapter V and breaks the tenant's contract.",
    "severity": "critical",
    "enforcement": "mandatory",
    "controls": c.RESIDENCY,
    "family": "residency",
    "config_keys": ["allowedRegions", "azurePairedRegions"],
    "matrix": [REGION_FENCING],
}


def _fence(
    cloud: str,
    resource_type: str,
    props: Mapping[str, Any],
    ctx: Ctx,
    places: list[tuple[str, Any]],
) -> list[str]:
    zone = tenancy_tags(tags_of(resource_type, props)).get("residency")
    if not zone:
        return [
            cannot_verify("the residency zone", reason="it is not set (no residency tag/label)")
        ]
    allowed = get(ctx.config.get("allowedRegions") or {}, zone, cloud)
    if not allowed:
        return [
            cannot_verify(
                "region fencing",
                reason=f"residency zone {zone!r} lists no {cloud} regions in the policy config",
            )
        ]
    found = []
    for what, place in places:
        if is_unknown(place) or place == "":
            found.append(cannot_verify(f"the {what}", place))
        elif place not in allowed:
            found.append(
                f"{what} {place} is outside residency zone {zone!r} ({', '.join(allowed)})"
            )
    return found


@rule(
    id="aws-all-resource-configure-residency-region",
    description="AWS databases, instances, KMS keys, secrets (and their replicas), backup vaults and backup or snapshot copies are in a region of the tenant's residency zone.",
    remediation="Set region (and secret replicas[].region, snapshot destinationRegion) to a region of the zone in stacks/tenants.yaml residency_zones; never rely on the provider's default region.",
    cloud="aws",
    types=[
        t.RDS_CLUSTER,
        t.RDS_INSTANCE,
        t.RDS_CLUSTER_INSTANCE,
        t.KMS_KEY,
        t.SM_SECRET,
        t.BACKUP_VAULT,
        t.RDS_CLUSTER_SNAPSHOT_COPY,
        t.RDS_SNAPSHOT_COPY,
        t.RDS_BACKUP_REPLICATION,
        t.S3_BUCKET,
    ],
    **_META,
)
def aws_residency(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    places: list[tuple[str, Any]] = [("region", props.get("region"))]
    for index, replica in enumerate(props.get("replicas") or ()):
        places.append((f"secret replica {index} region", get(replica, "region")))
    if props.get("destinationRegion") is not None:
        places.append(("snapshot copy destination", props.get("destinationRegion")))
    return _fence("aws", resource_type, props, ctx, places)


@rule(
    id="azure-all-resource-configure-residency-region",
    description="Flexible Servers (and their geo-redundant backup pair), Key Vaults, identities and storage accounts (and their geo-replica) are in a region of the tenant's residency zone.",
    remediation="Set location to a region of the zone; turn geoRedundantBackup off when the region's pair lies outside the zone (components/model/regions.py decides this); give storage accounts LRS or ZRS, never a geo-replicated SKU whose pair is outside the zone.",
    cloud="azure",
    types=[t.AZ_SERVER, t.AZ_VAULT, t.AZ_IDENTITY, t.AZ_STORAGE_ACCOUNT],
    **_META,
)
def azure_residency(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    location = props.get("location")
    places: list[tuple[str, Any]] = [("location", location)]
    if get(props, "backup", "geoRedundantBackup") == "Enabled":
        pair = (ctx.config.get("azurePairedRegions") or {}).get(location)
        places.append(("geo-redundant backup region (paired region)", pair))
    if "GRS" in str(get(props, "sku", "name")):  # GRS, RA-GRS, GZRS, RA-GZRS copy to the pair
        pair = (ctx.config.get("azurePairedRegions") or {}).get(location)
        places.append(("geo-replicated storage region (paired region)", pair))
    return _fence("azure", resource_type, props, ctx, places)


@rule(
    id="gcp-all-resource-configure-residency-region",
    description="Cloud SQL instances and their backups, Cloud KMS keys, Secret Manager replicas and Cloud Storage buckets are in a region of the tenant's residency zone.",
    remediation="Set region and settings.backupConfiguration.location to a region of the zone (not a multi-region), create key rings and buckets there (a single region, never a multi- or dual-region), and use user-managed secret replication with replicas only in the zone.",
    cloud="gcp",
    types=[t.SQL_INSTANCE, t.KMS_CRYPTO_KEY, t.GSM_SECRET, t.GCS_BUCKET],
    **_META,
)
def gcp_residency(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    places: list[tuple[str, Any]] = []
    if resource_type == t.SQL_INSTANCE:
        places.append(("region", props.get("region")))
        backups = get(props, "settings", "backupConfiguration")
        if get(backups, "enabled") is not False:
            places.append(("backup location", get(backups, "location")))
    elif resource_type == t.GCS_BUCKET:
        location = props.get("location")
        # GCS accepts any case ("EUROPE-WEST3"); a multi-region ("EU") is never a region.
        places.append(
            ("bucket location", location.lower() if isinstance(location, str) else location)
        )
    elif resource_type == t.KMS_CRYPTO_KEY:
        places.append(
            ("key ring location", location_segment(props.get("keyRing")) or props.get("keyRing"))
        )
    else:
        replication = props.get("replication")
        if get(replication, "auto") is not None:
            return [
                "replication is automatic: Google may place replicas in any region; use userManaged replicas inside the zone"
            ]
        replicas = get(replication, "userManaged", "replicas")
        if is_unknown(replicas) or not replicas:
            return [cannot_verify("the secret's replica locations", replicas)]
        places += [
            (f"secret replica {i} location", get(r, "location")) for i, r in enumerate(replicas)
        ]
    return _fence("gcp", resource_type, props, ctx, places)


RULES = (aws_residency, azure_residency, gcp_residency)
