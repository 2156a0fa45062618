"""Backups: retention at least the tier's and every framework's minimum, PITR on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import controls as c
from .. import types as t
from ..framework import (
    BACKUPS_PITR,
    Ctx,
    cannot_verify,
    flag,
    frameworks_of,
    get,
    is_unknown,
    rule,
    tags_of,
    tenancy_tags,
)

_META = {
    "why": "Backups shorter than the tier promises (or than a framework requires) leave no restore point for an incident found late; without PITR a bad migration or a compromised tenant loses up to a day of writes.",
    "severity": "high",
    "enforcement": "mandatory",
    "controls": c.BACKUP,
    "family": "backups",
    "config_keys": ["minRetentionDaysByTier", "minRetentionDaysByFramework"],
    "matrix": [BACKUPS_PITR],
}


def required_retention(
    resource_type: str, props: Mapping[str, Any], ctx: Ctx
) -> tuple[int | None, str]:
    """(days, why) from the tier and compliance tags; (None, reason) when unknowable."""
    tags = tenancy_tags(tags_of(resource_type, props))
    tier = tags.get("tier")
    by_tier = ctx.config.get("minRetentionDaysByTier") or {}
    if tier not in by_tier:
        return None, f"tier {tier!r} has no minimum retention in the policy config"
    days, reason = int(by_tier[tier]), f"tier {tier}"
    by_framework = ctx.config.get("minRetentionDaysByFramework") or {}
    for framework in sorted(frameworks_of(tags)):
        need = int(by_framework.get(framework, 0))
        if need > days:
            days, reason = need, framework
    return days, reason


def _retention(
    days: Any, what: str, resource_type: str, props: Mapping[str, Any], ctx: Ctx
) -> list[str]:
    need, reason = required_retention(resource_type, props, ctx)
    if need is None:
        return [cannot_verify(what, reason=reason)]
    if is_unknown(days):
        return [cannot_verify(what, days)]
    if not isinstance(days, int | float) or days < need:
        return [f"{what} is {days} days; {reason} requires at least {need}"]
    return []


def _is_replica(props: Mapping[str, Any], kind: str, source: str) -> bool:
    """A read replica names its primary; Cloud SQL forbids backups on one and Azure takes
    none, so the primary's backups are the data's. A replica without a source is not one."""
    named = props.get(source)
    return (kind == "" or props.get("createMode") == kind) and named is not None and named != ""


@rule(
    id="aws-rds-cluster-configure-backup-retention",
    description="Aurora clusters and RDS instances keep automated backups (and so PITR) for at least the tier's and the frameworks' minimum, and keep them after deletion.",
    remediation="Raise backupRetentionPeriod (tiers.<tier>.database.backup_retention_days, max 35 on AWS), set deleteAutomatedBackups=false and skipFinalSnapshot=false.",
    cloud="aws",
    types=t.AWS_DATABASES,
    **_META,
)
def aws_backups(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    found = _retention(
        props.get("backupRetentionPeriod"), "backupRetentionPeriod", resource_type, props, ctx
    )
    if props.get("deleteAutomatedBackups") is True:
        found.append("deleteAutomatedBackups is true; automated backups must outlive the database")
    if props.get("skipFinalSnapshot") is True:
        found.append("skipFinalSnapshot is true; deleting the database must leave a final snapshot")
    return found


@rule(
    id="azure-postgresql-server-configure-backup-retention",
    description="Flexible Servers keep backups (the PITR window) for at least the tier's and the frameworks' minimum. Read replicas (createMode Replica with a sourceServerResourceId) take no backups of their own: their primary's rule covers the data.",
    remediation="Raise backup.backupRetentionDays (7-35 on Azure) to the tier's backup_retention_days.",
    cloud="azure",
    types=[t.AZ_SERVER],
    **_META,
)
def azure_backups(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str] | None:
    if _is_replica(props, "Replica", "sourceServerResourceId"):
        return None
    return _retention(
        get(props, "backup", "backupRetentionDays"),
        "backup.backupRetentionDays",
        resource_type,
        props,
        ctx,
    )


@rule(
    id="gcp-sql-instance-configure-backups",
    description="Cloud SQL instances have automated backups and point-in-time recovery on, retaining at least the tier's and the frameworks' minimum. Read replicas (masterInstanceName set) cannot have backups: their primary's rule covers the data.",
    remediation="Set settings.backupConfiguration.enabled=true, pointInTimeRecoveryEnabled=true and backupRetentionSettings {retainedBackups: N, retentionUnit: COUNT} (one backup a day).",
    cloud="gcp",
    types=[t.SQL_INSTANCE],
    **_META,
)
def gcp_backups(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str] | None:
    if _is_replica(props, "", "masterInstanceName"):
        return None
    path = ("settings", "backupConfiguration")
    found = flag(props, (*path, "enabled"), True, "backupConfiguration.enabled")
    found += flag(props, (*path, "pointInTimeRecoveryEnabled"), True, "pointInTimeRecoveryEnabled")
    unit = get(props, *path, "backupRetentionSettings", "retentionUnit")
    if unit not in (None, "COUNT"):
        found.append(f"retentionUnit is {unit}; it must be COUNT")
    retained = get(props, *path, "backupRetentionSettings", "retainedBackups")
    found += _retention(retained, "retainedBackups", resource_type, props, ctx)
    return found


RULES = (aws_backups, azure_backups, gcp_backups)
