"""When an erased tenant's data is beyond use and when it is gone (pure, no Pulumi).

``erasure_schedule`` answers, for one tenant and the day its rows were deleted, the two
dates the evidence records (GDPR Art. 17; Art. 28(3)(g): delete all copies at the end of
service; ISO 27001:2022 A.8.10: deletion records):

- **beyond use**: its rows are deleted and, for a silo tenant, its own key is disabled;
- **fully erased**: the last copy (backups, PITR, WAL, vault copies, geo-backup, log and
  export archives) has aged out, and a silo tenant's key destruction window has run out.

Crypto-shredding is honest only for silo tenants: their servers, backups and vault copies
use their own key. Bridge and pool tenants share their shard's key with their neighbours,
so for them erasure is deletion plus every copy ageing out by its date.

Every copy says whether it is encrypted under the tenant's own key (``under_tenant_key``):
a copy that is not escapes crypto-shredding and is gone only when its retention ends.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from components.model.audit import resolve_audit
from components.model.catalog import Catalog, DatabaseProfile, Tenant
from components.model.cell import PRODUCTION_ENVIRONMENTS
from components.model.clouds import traits
from components.model.errors import InputError, Issue
from components.model.keys import is_regulated
from components.model.regions import azure_geo_backup

# How long a key stays recoverable after the plan deletes it, per cloud:
# - AWS KMS ScheduleKeyDeletion: PendingWindowInDays is 7-30, default 30 (AWS KMS
#   cryptographic details, "Deleting keys"); we use the longest, as EncryptionArgs does.
# - Cloud KMS: a version "scheduled for destruction" stays restorable for the key's
#   destroy_scheduled_duration, 30 days by default (cloud.google.com/kms/docs/destroy-restore);
#   our keys set it to 30 days (components/gcp/key.py).
# - Azure Key Vault: a deleted key stays recoverable for the vault's soft-delete retention,
#   7-90 days, and purge protection forbids purging it earlier (Key Vault soft-delete
#   overview); our vaults keep 90 days (components/azure/vault.py).
AWS_KEY_PENDING_WINDOW_DAYS = 30
GCP_KEY_DESTROY_SCHEDULED_DAYS = 30
AZURE_SOFT_DELETE_RETENTION_DAYS = 90
KEY_WINDOW_DAYS = {
    "aws": AWS_KEY_PENDING_WINDOW_DAYS,
    "azure": AZURE_SOFT_DELETE_RETENTION_DAYS,
    "gcp": GCP_KEY_DESTROY_SCHEDULED_DAYS,
}
KEY_MECHANISMS = {
    "aws": (
        f"AWS KMS ScheduleKeyDeletion, pending window {AWS_KEY_PENDING_WINDOW_DAYS} days "
        "(the key is unusable from the day it is scheduled; CancelKeyDeletion until the end)"
    ),
    "azure": (
        "Azure Key Vault key deletion (the tenant's key and its geo-backup key), recoverable "
        f"through soft delete and purge protection for {AZURE_SOFT_DELETE_RETENTION_DAYS} days, "
        "then purged by the vault"
    ),
    "gcp": (
        "Cloud KMS key version destruction, scheduled for "
        f"{GCP_KEY_DESTROY_SCHEDULED_DAYS} days (destroy_scheduled_duration; restorable until then)"
    ),
}

# Exports of a tenant are kept in the cell's export bucket under a retention lock this long
# (S3 Object Lock / immutable blobs / GCS retention policy) and expire after it: long enough
# for the tenant to fetch its archive and for the erase to check it, short of GDPR's month.
EXPORT_RETENTION_DAYS = 30

# Cloud SQL keeps at most 7 days of transaction logs for PITR (transactionLogRetentionDays).
GCP_MAX_TRANSACTION_LOG_DAYS = 7

_SERVICES = {"aws": "Aurora PostgreSQL", "azure": "Flexible Server", "gcp": "Cloud SQL"}
_LOG_ARCHIVES = {
    "aws": "CloudWatch Logs log group",
    "azure": "Log Analytics workspace",
    "gcp": "Cloud Logging log bucket",
}
_EXPORT_BUCKETS = {
    "aws": "S3 export bucket (Object Lock)",
    "azure": "storage account export container (immutable)",
    "gcp": "GCS export bucket (retention policy)",
}


@dataclass(frozen=True)
class RemainingCopy:
    kind: str  # e.g. "automated backups and PITR", "log archive", "final backup"
    where: str  # human text: service, region
    until: datetime.date  # the day it is gone (or unreadable) at the latest
    under_tenant_key: bool  # False: the copy escapes the tenant's key (shredding can't reach it)
    note: str


@dataclass(frozen=True)
class KeyDestruction:
    mechanism: str
    schedule_on: datetime.date  # erased_on + the tier's backup retention on that cloud
    destroyed_on: datetime.date  # schedule_on + the provider window
    approved: bool  # erasure.destroy_key, or not prod


@dataclass(frozen=True)
class ErasureSchedule:
    tenant: str
    tier: str
    isolation: str  # pool | bridge | silo
    cloud: str
    region: str
    erased_on: datetime.date
    beyond_use: datetime.date  # rows deleted (and, silo, key disabled)
    fully_erased: datetime.date  # the last copy / key window has run out
    crypto_shredding: bool  # silo only; shared tiers share a key
    key: KeyDestruction | None
    copies: tuple[RemainingCopy, ...]
    statement: str  # the honest sentence for the evidence and README


def erasure_schedule(
    catalog: Catalog, tenant_id: str, erased_on: datetime.date, environment: str
) -> ErasureSchedule:
    """The schedule of ``tenant_id``'s erasure, its rows deleted on ``erased_on``, in
    ``environment`` (prod needs ``erasure.destroy_key`` to destroy a silo key)."""
    tenant = _tenant(catalog, tenant_id)
    tier = catalog.tiers[tenant.tier]
    silo = tier.isolation == "silo"
    database = _database(catalog, tenant)
    retention = backup_retention_days(tenant.cloud, database)
    production = environment in PRODUCTION_ENVIRONMENTS
    key = _key(tenant, erased_on, retention, production) if silo else None
    copies = _copies(catalog, tenant, database, erased_on, retention, production, key)
    last = max([erased_on, *(c.until for c in copies), *([key.destroyed_on] if key else [])])
    schedule = ErasureSchedule(
        tenant=tenant.id,
        tier=tenant.tier,
        isolation=tier.isolation,
        cloud=tenant.cloud,
        region=tenant.region,
        erased_on=erased_on,
        beyond_use=erased_on,
        fully_erased=last,
        crypto_shredding=silo,
        key=key,
        copies=copies,
        statement="",
    )
    return _with_statement(schedule)


def backup_retention_days(cloud: str, database: DatabaseProfile) -> int:
    """The tier's backup retention as the cloud applies it (inside what the service accepts)."""
    low, high = traits(cloud).retention_days
    return max(low, min(high, database.backup_retention_days))


def key_schedule_on(erased_on: datetime.date, retention_days: int) -> datetime.date:
    """The first day a silo key may be destroyed: its last backup has aged out."""
    return erased_on + datetime.timedelta(days=retention_days)


def _tenant(catalog: Catalog, tenant_id: str) -> Tenant:
    for tenant in catalog.tenants:
        if tenant.id == tenant_id:
            return tenant
    known = ", ".join(t.id for t in catalog.tenants) or "(none)"
    raise KeyError(f"tenant {tenant_id!r} is not in the catalog (tenants: {known})")


def _database(catalog: Catalog, tenant: Tenant) -> DatabaseProfile:
    """The tier's database settings with the tenant's own overrides (silo only has them)."""
    tier = catalog.tiers[tenant.tier]
    overrides = tenant.overrides.database.model_dump(exclude_none=True)
    return tier.database.model_copy(update=overrides)


def _frameworks(catalog: Catalog, tenant: Tenant) -> tuple[str, ...]:
    """What the tier's servers were built for while the tenant was there: the catalog leaves
    departed tenants out of ``tier_frameworks``, but their copies were made before."""
    return (*catalog.tier_frameworks(tenant.tier), *tenant.compliance)


def _key(
    tenant: Tenant, erased_on: datetime.date, retention: int, production: bool
) -> KeyDestruction:
    schedule_on = key_schedule_on(erased_on, retention)
    approved = not production or bool(tenant.erasure and tenant.erasure.destroy_key)
    return KeyDestruction(
        mechanism=KEY_MECHANISMS[tenant.cloud],
        schedule_on=schedule_on,
        destroyed_on=schedule_on + datetime.timedelta(days=KEY_WINDOW_DAYS[tenant.cloud]),
        approved=approved,
    )


def _days(start: datetime.date, days: int) -> datetime.date:
    return start + datetime.timedelta(days=days)


def _copies(
    catalog: Catalog,
    tenant: Tenant,
    database: DatabaseProfile,
    erased_on: datetime.date,
    retention: int,
    production: bool,
    key: KeyDestruction | None,
) -> tuple[RemainingCopy, ...]:
    own_key = key is not None
    where = f"{_SERVICES[tenant.cloud]}, {tenant.region}"
    key_note = (
        "encrypted with the tenant's own key"
        if own_key
        else "encrypted with the shard's key, shared with other tenants: only ageing out removes it"
    )
    copies = [
        RemainingCopy(
            "automated backups and PITR",
            where,
            _days(erased_on, retention),
            own_key,
            f"the last backup taken before the erasure ages out after {retention} days; {key_note}",
        )
    ]
    if database.pitr:
        copies.append(_wal_archive(tenant.cloud, where, erased_on, retention, own_key, key_note))
    copies.extend(_vault_and_geo(catalog, tenant, erased_on, retention, production, own_key))
    if database.min_read_replicas or database.max_read_replicas:
        copies.append(
            RemainingCopy(
                "read replicas",
                where,
                erased_on,
                own_key,
                "replicas replay the deletion within seconds and go with their primary",
            )
        )
    if key is not None:
        copies.append(_final_backup(tenant.cloud, where, erased_on, retention, key))
    copies.extend(_archives(catalog, tenant, erased_on))
    return tuple(copies)


def _wal_archive(
    cloud: str, where: str, erased_on: datetime.date, retention: int, own_key: bool, note: str
) -> RemainingCopy:
    # Aurora and Flexible Server restore to any second of the backup retention, so their
    # WAL is kept as long; Cloud SQL keeps transaction logs at most 7 days.
    days = min(retention, GCP_MAX_TRANSACTION_LOG_DAYS) if cloud == "gcp" else retention
    return RemainingCopy(
        "WAL archive",
        where,
        _days(erased_on, days),
        own_key,
        f"write-ahead log kept for point-in-time recovery ({days} days); {note}",
    )


def _vault_and_geo(
    catalog: Catalog,
    tenant: Tenant,
    erased_on: datetime.date,
    retention: int,
    production: bool,
    own_key: bool,
) -> list[RemainingCopy]:
    copies: list[RemainingCopy] = []
    regulated = is_regulated(_frameworks(catalog, tenant))
    if production and regulated and tenant.cloud in ("aws", "gcp"):
        vault = "AWS Backup vault (Vault Lock, compliance mode)"
        if tenant.cloud == "gcp":
            vault = "Backup and DR backup vault (enforced minimum retention)"
        copies.append(
            RemainingCopy(
                "locked backup vault",
                f"{vault}, {tenant.region}",
                _days(erased_on, retention),
                own_key,
                "locked: nobody can delete these copies before their retention ends, not even "
                "for an erasure; the vault uses the server's key",
            )
        )
    if tenant.cloud == "azure":
        zone_regions = catalog.residency_zones[tenant.residency].get("azure", [])
        geo = azure_geo_backup(tenant.region, tenant.residency, zone_regions)
        if geo.enabled:
            copies.append(
                RemainingCopy(
                    "geo-backup",
                    f"Flexible Server geo-redundant backup, {geo.pair_region}",
                    _days(erased_on, retention),
                    own_key,
                    "encrypted with the server's geo-backup key in the paired region's vault"
                    + (", deleted with the tenant's key" if own_key else ", shared by the shard"),
                )
            )
    return copies


def _final_backup(
    cloud: str, where: str, erased_on: datetime.date, retention: int, key: KeyDestruction
) -> RemainingCopy:
    """What a deleted silo server leaves behind (the servers are built to keep it)."""
    if cloud == "aws":
        return RemainingCopy(
            "final backup",
            f"{where}: final snapshot and retained automated backups",
            key.destroyed_on,
            True,
            "the cluster's final snapshot is a manual snapshot with no expiry: delete it by "
            "hand; otherwise it becomes unreadable when the key is destroyed",
        )
    if cloud == "gcp":
        return RemainingCopy(
            "final backup",
            f"{where}: retained backups (retain_backups_on_delete)",
            _days(erased_on, retention),
            True,
            "Cloud SQL keeps a deleted instance's backups until their retention ends",
        )
    return RemainingCopy(
        "final backup",
        f"{where}: backups of the dropped server",
        _days(erased_on, retention),
        True,
        "a dropped Flexible Server's backups stay restorable for a few days, inside the retention",
    )


def _archives(catalog: Catalog, tenant: Tenant, erased_on: datetime.date) -> list[RemainingCopy]:
    """Copies under cell-wide keys: shredding the tenant's key never reaches them."""
    tier = catalog.tiers[tenant.tier]
    audit = tier.database.audit
    # A shard's logs are kept as long as its most regulated tenant needs: the whole tier's
    # frameworks are an upper bound for every shard of it.
    silo = tier.isolation == "silo"
    frameworks = tenant.compliance if silo else _frameworks(catalog, tenant)
    resolved = resolve_audit(
        audit.log_classes, audit.slow_statement_ms, audit.log_retention_days, frameworks
    )
    return [
        RemainingCopy(
            "log archive",
            f"{_LOG_ARCHIVES[tenant.cloud]}, {tenant.region}",
            _days(erased_on, resolved.log_retention_days),
            False,
            "PostgreSQL and pgaudit logs (statements, role names, values of failed statements) "
            f"kept {resolved.log_retention_days} days under the cell's log key",
        ),
        RemainingCopy(
            "export archive",
            f"{_EXPORT_BUCKETS[tenant.cloud]}, {tenant.region}",
            _days(erased_on, EXPORT_RETENTION_DAYS),
            False,
            f"the tenant's export, retention-locked {EXPORT_RETENTION_DAYS} days under the cell's "
            "key, then expired",
        ),
    ]


def _with_statement(schedule: ErasureSchedule) -> ErasureSchedule:
    return replace(schedule, statement=statement(schedule))


def statement(schedule: ErasureSchedule) -> str:
    """One honest paragraph: what happened, what remains, and when it is gone."""
    head = (
        f"Tenant {schedule.tenant} ({schedule.isolation} tier {schedule.tier}, "
        f"{schedule.cloud} {schedule.region}) was erased on {schedule.erased_on}: its rows are "
        f"deleted and beyond use from {schedule.beyond_use}"
    )
    escaping = [c.kind for c in schedule.copies if not c.under_tenant_key]
    tail = f" Copies outside the tenant's key ({', '.join(escaping)}) age out by their dates."
    if schedule.key is None:
        return (
            f"{head}. Its {schedule.isolation} tier shares a key with other tenants, so no "
            "crypto-shredding is possible: erasure is deletion, plus every backup and archive "
            f"ageing out; the last copy is gone by {schedule.fully_erased}." + tail
        )
    key = schedule.key
    approval = (
        "approved"
        if key.approved
        else "NOT yet approved (prod needs erasure.destroy_key: true in the catalog)"
    )
    return (
        f"{head}, and its own key is disabled. The key's destruction is scheduled from "
        f"{key.schedule_on} (when its backups have aged out), {approval}; by "
        f"{key.destroyed_on} the key and every backup under it are unreadable, and the "
        f"tenant is fully erased by {schedule.fully_erased}." + tail
    )


# What the plan does with a departed silo tenant's own key (see docs/offboarding.md):
# - "kept": offboarded, not erased yet: the key stays enabled, so its final backup and
#   retained backups stay readable for the export;
# - "disabled": erased, before ``schedule_on``: the key is registered, disabled, and nobody
#   holds a grant on it; protected in prod until destruction is approved;
# - "awaiting-approval": prod, past ``schedule_on`` without ``erasure.destroy_key``: kept
#   disabled and protected, and the plan says the approval is due;
# - "destroy": past ``schedule_on`` and approved: the key leaves the program, and Pulumi's
#   delete hands it to the cloud's destruction window.
KeyPhase = Literal["kept", "disabled", "awaiting-approval", "destroy"]
TODAY_ENV = "TENANCY_TODAY"


def key_phase(tenant: Tenant, key: KeyDestruction | None, today: datetime.date) -> KeyPhase:
    if tenant.status != "erased" or key is None:
        return "kept"
    if today < key.schedule_on:
        return "disabled"
    return "destroy" if key.approved else "awaiting-approval"


def key_protected(phase: KeyPhase, key: KeyDestruction | None, production: bool) -> bool:
    """Prod keeps ``protect`` until the destruction is approved. Pulumi refuses to delete a
    protected resource, so an approved key loses ``protect`` while it waits for its date:
    the deploy that removes it then finds it deletable."""
    if not production:
        return False
    if phase in ("kept", "awaiting-approval"):
        return True
    return not (key is not None and key.approved)


def plan_today(environ: Mapping[str, str]) -> datetime.date:
    """The day the plan decides key destruction on: ``TENANCY_TODAY`` (YYYY-MM-DD) when set,
    so CI and tests pin it, else today's UTC date."""
    raw = environ.get(TODAY_ENV)
    if not raw:
        return datetime.datetime.now(datetime.UTC).date()
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise InputError(
            [
                Issue(
                    TODAY_ENV,
                    "",
                    f"{TODAY_ENV}={raw!r} is not a date",
                    f"set {TODAY_ENV} to YYYY-MM-DD (e.g. 2026-11-29), or unset it for today",
                )
            ]
        ) from None
