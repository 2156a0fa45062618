"""Catalog text -> validated ``Catalog``, reporting every violation at once.

Shape is checked piecewise (each tier, each tenant on its own) so one broken
tenant does not hide the rule violations of the others; cross-field rules then
run over everything that parsed.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from .autoscaling import cron_problem, timezone_problem
from .catalog import (
    CLOUDS,
    TIER_NAME_PATTERN,
    AppProfile,
    Catalog,
    Cloud,
    DatabaseProfile,
    Tenant,
    Tier,
)
from .clouds import traits
from .errors import InputError, Issue, format_path
from .moves import old_shard as old_shard_of
from .placement import shard_names, shard_of
from .pooling import pooling_rules
from .yamlsource import Loc, line_of, load_yaml

_TOP_LEVEL_KEYS = ("version", "residency_zones", "tiers", "tenants")
_ZONES = TypeAdapter(dict[str, dict[Cloud, list[str]]])

_HINTS = {
    "missing": "add this required field",
    "extra_forbidden": "remove the key or fix its spelling",
    "literal_error": "use one of the allowed values listed",
    "string_pattern_mismatch": "use the documented format",
    "greater_than_equal": "raise the value to the minimum",
    "less_than_equal": "lower the value to the maximum",
    "multiple_of": "use a multiple of 0.5",
    "dict_type": "write a mapping (key: value)",
    "list_type": "write a list ([a, b] or '- item' lines)",
}


class _Report:
    """Collects issues for one file, attaching line numbers from the YAML."""

    def __init__(self, file: str, lines: dict[Loc, int]):
        self.file = file
        self.lines = lines
        self.issues: list[Issue] = []

    def add(self, loc: Loc, message: str, hint: str) -> None:
        self.issues.append(
            Issue(self.file, format_path(loc), message, hint, line_of(self.lines, loc))
        )

    def add_pydantic(self, prefix: Loc, error: ValidationError) -> None:
        for item in error.errors(include_url=False):
            loc = (*prefix, *item["loc"])
            got = "" if item["type"] == "missing" else f" (got {item['input']!r})"
            hint = _HINTS.get(item["type"], "see the catalog reference in README.md")
            self.add(loc, f"{item['msg']}{got}", hint)


def _validate(report: _Report, loc: Loc, model: type[BaseModel], value: Any) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError as error:
        report.add_pydantic(loc, error)
        return None


def _shape(report: _Report, data: Any) -> tuple[Any, dict[str, Tier], dict[int, Tenant]]:
    """Validate the document's shape; return what parsed, keyed by YAML position."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        report.add(
            (),
            f"the catalog must be a mapping, got {kind}",
            "start from the example in stacks/tenants.yaml",
        )
        return None, {}, {}
    for key in data:
        if key not in _TOP_LEVEL_KEYS:
            report.add(
                (key,),
                f"unknown top-level key {key!r}",
                f"allowed keys: {', '.join(_TOP_LEVEL_KEYS)}",
            )
    for key in _TOP_LEVEL_KEYS:
        if key not in data:
            report.add((key,), f"missing required key {key!r}", f"add '{key}:' at the top level")
    # `is 1`-style check: `version: true` (a bool, an int subclass) or `1.0` is not version 1.
    if "version" in data and (type(data["version"]) is not int or data["version"] != 1):
        report.add(("version",), f"unsupported version {data['version']!r}", "set 'version: 1'")
    zones = None
    if "residency_zones" in data:
        try:
            zones = _ZONES.validate_python(data["residency_zones"])
        except ValidationError as error:
            report.add_pydantic(("residency_zones",), error)
    return zones, _tiers(report, data.get("tiers")), _tenants(report, data.get("tenants"))


def _tiers(report: _Report, raw: Any) -> dict[str, Tier]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not raw:
        report.add(
            ("tiers",),
            "tiers must be a non-empty mapping of tier name -> settings",
            "declare at least one tier, e.g. 'free: {isolation: pool, ...}'",
        )
        return {}
    tiers = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not re.match(TIER_NAME_PATTERN, name):
            report.add(
                ("tiers", str(name)),
                f"tier name {name!r} is not valid",
                f"use lowercase letters and digits, 2-15 characters ({TIER_NAME_PATTERN})",
            )
            continue
        tier = _validate(report, ("tiers", name), Tier, value)
        if tier is not None:
            tiers[name] = tier
    return tiers


def _tenants(report: _Report, raw: Any) -> dict[int, Tenant]:
    if raw is None:
        return {}
    if not isinstance(raw, list) or not raw:
        report.add(
            ("tenants",),
            "tenants must be a non-empty list",
            "add at least one tenant entry ('- id: ...')",
        )
        return {}
    parsed = {}
    for index, value in enumerate(raw):
        tenant = _validate(report, ("tenants", index), Tenant, value)
        if tenant is not None:
            parsed[index] = tenant
    return parsed


def _check_tier(report: _Report, name: str, tier: Tier) -> None:
    loc: Loc = ("tiers", name)
    db, app = tier.database, tier.app
    if db.min_capacity > db.max_capacity:
        report.add(
            (*loc, "database", "min_capacity"),
            f"min_capacity {db.min_capacity} exceeds max_capacity {db.max_capacity}",
            "make min_capacity <= max_capacity",
        )
    if app.min_replicas > app.max_replicas:
        report.add(
            (*loc, "app", "min_replicas"),
            f"min_replicas {app.min_replicas} exceeds max_replicas {app.max_replicas}",
            "make min_replicas <= max_replicas",
        )
    for path, message, hint in _app_rules(app) + _database_rules(db) + pooling_rules(tier):
        report.add((*loc, *path), message, hint)
    if tier.isolation == "silo" and (tier.shards != 1 or tier.tenants_per_shard is not None):
        report.add(
            loc,
            "a silo tier has no shared servers, so 'shards'/'tenants_per_shard' do not apply",
            "remove 'shards' and 'tenants_per_shard' from this silo tier",
        )


Finding = tuple[Loc, str, str]  # (path below the profile's parent, message, hint)


def _window_rules(section: str, windows: list[Any]) -> list[Finding]:
    found: list[Finding] = []
    seen: set[str] = set()
    for index, window in enumerate(windows):
        loc: Loc = (section, "scale_windows", index)
        if window.name in seen:
            found.append(
                (
                    (*loc, "name"),
                    f"duplicate window name {window.name!r}",
                    "give each window a unique name",
                )
            )
        seen.add(window.name)
        for key in ("start", "end"):
            problem = cron_problem(getattr(window, key))
            if problem:
                found.append(
                    (
                        (*loc, key),
                        f"cron {getattr(window, key)!r} {problem}",
                        "write 'minute hour day-of-month month day-of-week', e.g. '0 8 * * 1-5'",
                    )
                )
        if window.start == window.end:
            found.append(
                ((*loc, "end"), "the window ends when it starts", "make 'end' differ from 'start'")
            )
        problem = timezone_problem(window.timezone)
        if problem:
            found.append(
                (
                    (*loc, "timezone"),
                    f"timezone {window.timezone!r} {problem}",
                    "use an IANA name such as UTC, Europe/Berlin or America/New_York",
                )
            )
    return found


def _range_rule(
    loc: Loc, field: str, value: float, low: float, high: float, what: str
) -> list[Finding]:
    if low <= value <= high:
        return []
    return [
        (
            loc,
            f"{field} {value:g} is outside {what} [{low:g}, {high:g}]",
            f"choose a value between {low:g} and {high:g}",
        )
    ]


def _app_rules(app: AppProfile) -> list[Finding]:
    """Rules relating the fields of one (tier or effective) app profile."""
    found: list[Finding] = []
    if app.min_replicas < 1:
        found.append(
            (
                ("app", "min_replicas"),
                f"min_replicas {app.min_replicas} is below 1, the least an autoscaling/v2 HPA accepts",
                "use 1 or more; suspend a tenant with 'status: suspended' to stop its pods",
            )
        )
    for kind, unit in (("cpu", "millicores"), ("memory", "mib")):
        request = getattr(app, f"{kind}_request_{unit}")
        limit = getattr(app, f"{kind}_limit_{unit}")
        if request > limit:
            found.append(
                (
                    ("app", f"{kind}_request_{unit}"),
                    f"{kind}_request_{unit} {request} exceeds {kind}_limit_{unit} {limit}",
                    f"make the request <= the limit (raise {kind}_limit_{unit} or lower the request)",
                )
            )
    if app.pdb_min_available > 0 and app.pdb_min_available >= app.min_replicas:
        found.append(
            (
                ("app", "pdb_min_available"),
                f"pdb_min_available {app.pdb_min_available} is not below min_replicas {app.min_replicas}, so no pod could ever be evicted (node drains would hang)",
                f"use at most {max(app.min_replicas - 1, 0)}, or raise min_replicas",
            )
        )
    quota: list[tuple[str, int, int]] = [
        ("quota_pods", app.effective_quota_pods, app.max_replicas + 1),
        (
            "quota_cpu_millicores",
            app.effective_quota_cpu_millicores,
            (app.max_replicas + 1) * app.cpu_limit_millicores,
        ),
        (
            "quota_memory_mib",
            app.effective_quota_memory_mib,
            (app.max_replicas + 1) * app.memory_limit_mib,
        ),
    ]
    for field, value, needed in quota:
        if value < needed:
            found.append(
                (
                    ("app", field),
                    f"{field} {value} cannot hold max_replicas {app.max_replicas} plus one rollout surge pod (needs {needed})",
                    f"raise {field} to at least {needed}, remove it to use that default, or lower max_replicas",
                )
            )
    found += _window_rules("app", app.scale_windows)
    for index, window in enumerate(app.scale_windows):
        found += _range_rule(
            ("app", "scale_windows", index, "min_replicas"),
            "min_replicas",
            window.min_replicas,
            app.min_replicas,
            app.max_replicas,
            "the profile's replica range",
        )
    return found


def _database_rules(db: DatabaseProfile) -> list[Finding]:
    found: list[Finding] = []
    if db.min_read_replicas > db.max_read_replicas:
        found.append(
            (
                ("database", "min_read_replicas"),
                f"min_read_replicas {db.min_read_replicas} exceeds max_read_replicas {db.max_read_replicas}",
                "make min_read_replicas <= max_read_replicas",
            )
        )
    found += _window_rules("database", db.scale_windows)
    classes = db.audit.log_classes or []
    repeated = sorted({c for c in classes if classes.count(c) > 1})
    if repeated:
        found.append(
            (
                ("database", "audit", "log_classes"),
                f"log_classes lists {', '.join(repeated)} more than once",
                "list each pgaudit class once",
            )
        )
    for index, window in enumerate(db.scale_windows):
        loc: Loc = ("database", "scale_windows", index)
        found += _range_rule(
            (*loc, "min_read_replicas"),
            "min_read_replicas",
            window.min_read_replicas,
            db.min_read_replicas,
            db.max_read_replicas,
            "the profile's read-replica range",
        )
    return found


def _bounded(value: float | None, low: float, high: float) -> bool:
    return value is None or low <= value <= high


def _check_overrides(report: _Report, loc: Loc, tenant: Tenant, tier: Tier) -> None:
    """An override may narrow the tier's promise, never exceed or weaken it."""
    db, app = tenant.overrides.database, tenant.overrides.app
    ranges: list[tuple[str, str, float | None, float, float]] = [
        (
            "database",
            "min_capacity",
            db.min_capacity,
            tier.database.min_capacity,
            tier.database.max_capacity,
        ),
        (
            "database",
            "max_capacity",
            db.max_capacity,
            tier.database.min_capacity,
            tier.database.max_capacity,
        ),
        ("app", "min_replicas", app.min_replicas, tier.app.min_replicas, tier.app.max_replicas),
        ("app", "max_replicas", app.max_replicas, tier.app.min_replicas, tier.app.max_replicas),
        # Retention may only grow: shortening it would break the tier's recovery promise.
        (
            "database",
            "backup_retention_days",
            db.backup_retention_days,
            tier.database.backup_retention_days,
            365,
        ),
    ]
    for section, field, value, low, high in ranges:
        if not _bounded(value, low, high):
            report.add(
                (*loc, "overrides", section, field),
                f"{field} {value} is outside tier {tenant.tier!r} bounds [{low:g}, {high:g}]",
                f"choose a value between {low:g} and {high:g}, or move the tenant to a tier that allows it",
            )
    merged_app = tier.app.model_copy(update=app.model_dump(exclude_none=True))
    merged_db = tier.database.model_copy(update=db.model_dump(exclude_none=True))
    # Rules the tier itself passes can still break once overrides narrow it
    # (e.g. a window floor above an overridden max_replicas): report those here.
    tier_findings = {(path, message) for path, message, _ in _app_rules(tier.app)}
    for path, message, hint in _app_rules(merged_app):
        if (path, message) not in tier_findings and path != ("app", "min_replicas"):
            report.add(
                (*loc, "overrides", "app"),
                f"with these overrides, {format_path(path)}: {message}",
                f"{hint}; or override within the tier's other settings",
            )
    if merged_app.min_replicas > merged_app.max_replicas:
        report.add(
            (*loc, "overrides", "app"),
            f"effective min_replicas {merged_app.min_replicas} exceeds max_replicas {merged_app.max_replicas}",
            "make min_replicas <= max_replicas",
        )
    if merged_db.min_capacity > merged_db.max_capacity:
        report.add(
            (*loc, "overrides", "database"),
            f"effective min_capacity {merged_db.min_capacity:g} exceeds max_capacity {merged_db.max_capacity:g}",
            "make min_capacity <= max_capacity",
        )
    cloud = traits(tenant.cloud)
    low, high = cloud.retention_days
    if not low <= merged_db.backup_retention_days <= high:
        report.add(
            (*loc, "tier"),
            f"backup retention {merged_db.backup_retention_days} days is outside what {tenant.cloud} allows [{low}, {high}]",
            f"use a tier (or override) with retention between {low} and {high} days on {tenant.cloud}",
        )
    majors = cloud.postgres_major_versions
    if merged_db.postgres_major_version not in majors:
        report.add(
            (*loc, "tier"),
            f"tier {tenant.tier!r} asks for PostgreSQL {merged_db.postgres_major_version}; "
            f"{cloud.title} offers {', '.join(map(str, majors))}",
            f"set tiers.{tenant.tier}.database.postgres_major_version to one of "
            f"{', '.join(map(str, majors))}, or place the tenant on another tier",
        )
    # The replica count a cloud will actually create: Azure and GCP create min_read_replicas
    # fixed replicas; a count the cloud refuses must fail here, not halfway through a deploy.
    limit = cloud.read_replica_limit
    replicas = (
        merged_db.max_read_replicas if cloud.autoscaled_replicas else merged_db.min_read_replicas
    )
    if replicas > limit:
        report.add(
            (*loc, "tier"),
            f"tier {tenant.tier!r} asks for {replicas} read replicas; {tenant.cloud} allows at most {limit}",
            f"lower the tier's read replicas to {limit} or fewer, or place the tenant on another tier",
        )


def _check_tenant(
    report: _Report,
    index: int,
    tenant: Tenant,
    zones: dict[str, dict[Cloud, list[str]]] | None,
    tiers: dict[str, Tier],
    declared_tiers: set[str],
) -> None:
    loc: Loc = ("tenants", index)
    tier = tiers.get(tenant.tier)
    # A declared but invalid tier already has its own errors; "unknown" would mislead.
    if tier is None and tenant.tier not in declared_tiers:
        report.add(
            (*loc, "tier"),
            f"unknown tier {tenant.tier!r}",
            f"use one of: {', '.join(sorted(tiers)) or '(no valid tiers declared)'}",
        )
    if zones is not None:
        _check_residency(report, loc, tenant, zones)
    if len(set(tenant.compliance)) != len(tenant.compliance):
        report.add(
            (*loc, "compliance"),
            f"duplicate frameworks in {tenant.compliance}",
            "list each framework once",
        )
    if tier is not None:
        _check_overrides(report, loc, tenant, tier)
        _check_shared_server_overrides(report, loc, tenant, tier)
        _check_shard_pin(report, loc, tenant, tier)
    if tenant.moving_from is not None:
        _check_moving_from(report, loc, tenant, tiers, declared_tiers)
    _check_lifecycle(report, loc, tenant)


def _check_lifecycle(report: _Report, loc: Loc, tenant: Tenant) -> None:
    """Legal hold needs a reason and blocks erasure; the erasure record goes with 'erased'."""
    if tenant.legal_hold and not tenant.legal_hold_reason:
        report.add(
            (*loc, "legal_hold_reason"),
            "a legal hold needs a reason",
            "add legal_hold_reason: the case or ticket that requires keeping the data",
        )
    if tenant.legal_hold_reason and not tenant.legal_hold:
        report.add(
            (*loc, "legal_hold_reason"),
            "legal_hold_reason is set but legal_hold is not true",
            "set 'legal_hold: true', or remove legal_hold_reason once the hold is lifted",
        )
    if tenant.status == "erased" and tenant.legal_hold:
        report.add(
            (*loc, "status"),
            "a tenant under legal hold cannot be erased",
            "keep 'status: offboarded' until the hold is lifted (legal_hold: false)",
        )
    if tenant.status == "erased" and tenant.erasure is None:
        report.add(
            (*loc, "erasure"),
            "an erased tenant needs its erasure record",
            "add 'erasure: {erased_on: YYYY-MM-DD, evidence: <file>}' from `tenancy tenant erase`",
        )
    if tenant.status != "erased" and tenant.erasure is not None:
        report.add(
            (*loc, "erasure"),
            f"an erasure record on a tenant whose status is {tenant.status}",
            "set 'status: erased' after `tenancy tenant erase`, or remove the erasure record",
        )


def _check_residency(
    report: _Report, loc: Loc, tenant: Tenant, zones: dict[str, dict[Cloud, list[str]]]
) -> None:
    zone = zones.get(tenant.residency)
    if zone is None:
        report.add(
            (*loc, "residency"),
            f"unknown residency zone {tenant.residency!r}",
            f"use one of: {', '.join(sorted(zones))}, or declare it under residency_zones",
        )
        return
    allowed = zone.get(tenant.cloud, [])
    if tenant.region not in allowed:
        report.add(
            (*loc, "region"),
            f"region {tenant.region!r} is outside residency zone {tenant.residency!r} on {tenant.cloud}",
            f"use one of: {', '.join(allowed) or '(none declared for ' + tenant.cloud + ')'}; or change the tenant's residency",
        )


def _check_shared_server_overrides(report: _Report, loc: Loc, tenant: Tenant, tier: Tier) -> None:
    # Bridge/pool tenants share one server, so a per-tenant database size or retention
    # could only be honoured by changing every neighbour's server.
    if tier.isolation != "silo" and tenant.overrides.database.model_dump(exclude_none=True):
        report.add(
            (*loc, "overrides", "database"),
            f"tier {tenant.tier!r} is {tier.isolation}: its tenants share a server, so database overrides cannot apply",
            "remove overrides.database, or move the tenant to a silo tier",
        )
    if tier.isolation != "silo" and tenant.overrides.app.model_dump(exclude_none=True):
        report.add(
            (*loc, "overrides", "app"),
            f"tier {tenant.tier!r} is {tier.isolation}: its tenants share one Deployment per tier namespace, so app overrides cannot apply",
            "remove overrides.app, or move the tenant to a silo tier",
        )


def _check_shard_pin(report: _Report, loc: Loc, tenant: Tenant, tier: Tier) -> None:
    if tenant.shard is None:
        return
    if tier.isolation == "silo":
        report.add(
            (*loc, "shard"),
            f"tenant is in silo tier {tenant.tier!r}, which has no shared servers",
            "remove 'shard' or move the tenant to a bridge/pool tier",
        )
        return
    valid = [f"{tenant.tier}-{n:02d}" for n in range(1, tier.shards + 1)]
    if tenant.shard not in valid:
        report.add(
            (*loc, "shard"),
            f"shard {tenant.shard!r} is not a shard of tier {tenant.tier!r}",
            f"use one of: {', '.join(valid)} (raise tiers.{tenant.tier}.shards for more)",
        )


def _check_moving_from(
    report: _Report, loc: Loc, tenant: Tenant, tiers: dict[str, Tier], declared_tiers: set[str]
) -> None:
    """The old home must exist, differ from the new one, and belong to an active tenant."""
    moving = tenant.moving_from
    assert moving is not None
    loc = (*loc, "moving_from")
    if tenant.status != "active":
        report.add(
            loc,
            f"only an active tenant can move; this one is {tenant.status}",
            "remove moving_from, or set 'status: active' for the move",
        )
    old_tier = tiers.get(moving.tier)
    if old_tier is None:
        if moving.tier not in declared_tiers:
            report.add(
                (*loc, "tier"),
                f"unknown tier {moving.tier!r}",
                f"name the tier the tenant is leaving, one of: {', '.join(sorted(tiers))}",
            )
        return
    if not _old_shard_ok(report, loc, moving.tier, moving.shard, old_tier):
        return
    new_tier = tiers.get(tenant.tier)
    if new_tier is None:
        return
    old_shard, new_shard = old_shard_of(tenant, old_tier), shard_of(tenant, new_tier)
    if old_tier.isolation == "silo" and new_tier.isolation == "silo":
        where = (
            f"the tenant is already in silo tier {tenant.tier!r}"
            if moving.tier == tenant.tier
            else f"tiers {moving.tier!r} and {tenant.tier!r} are both silo"
        )
        report.add(
            loc,
            f"{where}: the tenant keeps its own server, so there is no data to move",
            "remove moving_from (a change between silo tiers resizes the server in place)",
        )
    elif old_shard is not None and old_shard == new_shard:
        report.add(
            loc,
            f"the tenant already lives on shard {new_shard} of tier {tenant.tier!r}: moving_from "
            "must name the home it is leaving",
            "remove moving_from, or set moving_from.tier/shard to where its data is now",
        )


def _old_shard_ok(report: _Report, loc: Loc, tier_name: str, shard: str | None, tier: Tier) -> bool:
    if shard is None:
        return True
    if tier.isolation == "silo":
        report.add(
            (*loc, "shard"),
            f"tier {tier_name!r} is silo: the old home is the tenant's own server, not a shard",
            "remove moving_from.shard",
        )
        return False
    valid = shard_names(tier_name, tier)
    if shard not in valid:
        report.add(
            (*loc, "shard"),
            f"shard {shard!r} is not a shard of tier {tier_name!r}",
            f"name the shard the tenant is leaving, one of: {', '.join(valid)}",
        )
        return False
    return True


def _duplicate_ids(report: _Report, raw_tenants: Any) -> None:
    # Read ids from the raw list so a duplicate is reported even if that entry has other errors.
    if not isinstance(raw_tenants, list):
        return
    first_index: dict[str, int] = {}
    for index, entry in enumerate(raw_tenants):
        tenant_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(tenant_id, str):
            continue
        if tenant_id in first_index:
            report.add(
                ("tenants", index, "id"),
                f"duplicate tenant id {tenant_id!r} (also tenants[{first_index[tenant_id]}])",
                "give each tenant a unique id; ids are never reused",
            )
        else:
            first_index[tenant_id] = index


def _zone_clouds(report: _Report, zones: dict[str, dict[Cloud, list[str]]]) -> None:
    for zone, clouds in zones.items():
        for cloud, regions in clouds.items():
            if not regions:
                report.add(
                    ("residency_zones", zone, cloud),
                    f"zone {zone!r} lists no regions for {cloud}",
                    f"list the regions, or remove the '{cloud}' key",
                )


def _check_slos(report: _Report, tiers: dict[str, Tier], tenants: dict[int, Tenant]) -> None:
    """Each tier's promises against what its configuration gives on the clouds it runs on
    (every cloud while it has no tenants, so an unkeepable promise never waits in a tier)."""
    from .slo import slo_problems  # local: slo imports the catalog model

    for name, tier in tiers.items():
        if tier.slo is None:
            continue
        clouds = sorted({t.cloud for t in tenants.values() if t.tier == name}) or list(CLOUDS)
        for cloud in clouds:
            for field, message, hint in slo_problems(cloud, tier.database, tier.slo):
                report.add(("tiers", name, "slo", field), f"on {cloud}: {message}", hint)


def parse_catalog(text: str, file: str) -> Catalog:
    """Validate catalog text; raise InputError listing every violation."""
    from .placement import overflow_issues  # local: placement imports the catalog model

    data, lines = load_yaml(text, file)
    report = _Report(file, lines)
    zones, tiers, tenants = _shape(report, data)
    for name, tier in tiers.items():
        _check_tier(report, name, tier)
    if zones is not None:
        _zone_clouds(report, zones)
    raw = data if isinstance(data, dict) else {}
    _duplicate_ids(report, raw.get("tenants"))
    declared_tiers = set(raw["tiers"]) if isinstance(raw.get("tiers"), dict) else set()
    for index, tenant in tenants.items():
        _check_tenant(report, index, tenant, zones, tiers, declared_tiers)
    _check_slos(report, tiers, tenants)
    if report.issues:
        raise InputError(report.issues)
    catalog = Catalog(
        version=1, residency_zones=zones or {}, tiers=tiers, tenants=list(tenants.values())
    )
    for index, message, hint in overflow_issues(catalog):
        report.add(("tenants", index, "shard"), message, hint)
    if report.issues:
        raise InputError(report.issues)
    return catalog
