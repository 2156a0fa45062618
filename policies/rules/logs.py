"""Log destinations: the audit trail stays in the zone, under a customer key, for the tier's
retention, and regulated tiers keep an immutable copy.

Stack rules: a cell-wide destination (S3 archive, Log Analytics workspace, GCP log
bucket) must satisfy the most demanding server of the cell, and the archive is judged
per regulated server, so each rule needs the servers beside the destinations. The zone
is the destination's own ``residency`` tag, else that of the cell's servers (GCP log
buckets take no labels). Required retention per tier comes from the policy config
(``minLogRetentionDaysByTier``, generated from the catalog's audit sections).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .. import controls as c
from .. import types as t
from ..framework import (
    LOGS_ARCHIVE,
    LOGS_CMK,
    LOGS_IN_ZONE,
    LOGS_RETENTION,
    Ctx,
    Res,
    cannot_verify,
    frameworks_of,
    get,
    is_production,
    is_unknown,
    location_segment,
    rule,
    tags_of,
    tenancy_tags,
)

_CONFIG = ["allowedRegions", "minLogRetentionDaysByTier", "regulatedFrameworks", "frameworksByTier"]
_ZONE_META: dict[str, Any] = {
    "why": "The audit trail holds statement text of tenants' data: a copy outside the residency zone is a transfer under GDPR chapter V, a log under the provider's key escapes the tenant's key revocation, and a log kept shorter than the tier's retention is missing when HIPAA 164.312(b) or PCI DSS 10.5 evidence is asked for.",
    "severity": "high",
    "enforcement": "mandatory",
    "controls": c.LOG_PROTECTION,
    "family": "logs",
    "kind": "stack",
    "config_keys": _CONFIG,
    "matrix": [LOGS_IN_ZONE, LOGS_CMK, LOGS_RETENTION],
}
_ARCHIVE_META: dict[str, Any] = {
    "why": "A log that an administrator (or an attacker with their credentials) can rewrite proves nothing: HIPAA 164.312(b)/(c)(1) and PCI DSS 10.3/10.5 ask that the audit trail of regulated data be protected from modification and kept; only a write-once copy under a retention lock gives that.",
    "severity": "high",
    "enforcement": "mandatory",
    "controls": c.LOG_IMMUTABILITY,
    "family": "logs",
    "kind": "stack",
    "config_keys": _CONFIG,
    "matrix": [LOGS_ARCHIVE],
}

Results = list[tuple[str, list[str]]]
_CELL = "cell"  # the tier tag of cell-wide resources: they serve every tier of the cell


# ---- shared readers -----------------------------------------------------------------------


def _tags(r: Res) -> dict[str, str]:
    return tenancy_tags(tags_of(r.type, r.props))


def _primaries(resources: Sequence[Res], database_type: str) -> list[Res]:
    """The cell's primary servers (replicas replay their primary's WAL and share its trail)."""
    return [
        r
        for r in resources
        if r.type == database_type
        and r.props.get("createMode") != "Replica"
        and not r.props.get("masterInstanceName")
    ]


def _required_days(tier: str | None, ctx: Ctx) -> int | None:
    return (ctx.config.get("minLogRetentionDaysByTier") or {}).get(tier)


def _regulated(tags: Mapping[str, str], ctx: Ctx) -> bool:
    """A server of a tier whose tenants (catalog-wide) carry a regulated framework."""
    frameworks = frameworks_of(tags)
    frameworks |= set((ctx.config.get("frameworksByTier") or {}).get(tags.get("tier"), ()))
    return bool(frameworks & set(ctx.config.get("regulatedFrameworks", ("hipaa", "pci"))))


def _cell_days(servers: Iterable[Res], ctx: Ctx, regulated_only: bool = False) -> int | None:
    """The longest retention any (regulated) server of the cell asks for; None: unknown."""
    wanted = []
    for server in servers:
        tags = _tags(server)
        if regulated_only and not _regulated(tags, ctx):
            continue
        days = _required_days(tags.get("tier"), ctx)
        if days is None:
            return None
        wanted.append(days)
    return max(wanted, default=0)


def _each_regulated_primary(
    resources: Sequence[Res],
    database_type: str,
    ctx: Ctx,
    judge: Callable[[Res, Mapping[str, str], int], list[str]],
) -> Results:
    """``judge(server, tags, needed_days)`` for every primary of a regulated tier; a tier
    whose log retention the config does not give is reported as such instead."""
    results: Results = []
    for server in _primaries(resources, database_type):
        tags = _tags(server)
        if not _regulated(tags, ctx):
            continue
        needed = _required_days(tags.get("tier"), ctx)
        if needed is None:
            results.append((server.urn, _retained("archive", None, None, tags.get("tier"))))
            continue
        results.append((server.urn, judge(server, tags, needed)))
    return results


def _zone_of(resource: Res, servers: Sequence[Res]) -> str | None:
    zone = _tags(resource).get("residency")
    if zone:
        return zone
    zones = {_tags(s).get("residency") for s in servers} - {None, ""}
    return zones.pop() if len(zones) == 1 else None


def _fence(what: str, place: Any, zone: str | None, cloud: str, ctx: Ctx) -> list[str]:
    if not zone:
        return [cannot_verify(f"the residency zone of the {what}", reason="no residency tag")]
    allowed = get(ctx.config.get("allowedRegions") or {}, zone, cloud)
    if not allowed:
        return [
            cannot_verify(f"the {what}'s region", reason=f"zone {zone!r} lists no {cloud} regions")
        ]
    if is_unknown(place) or place == "":
        return [cannot_verify(f"the {what}'s region", place)]
    if place not in allowed:
        return [f"the {what} is in {place}, outside residency zone {zone!r} ({', '.join(allowed)})"]
    return []


def _retained(what: str, days: Any, needed: int | None, tier: str | None) -> list[str]:
    if needed is None:
        return [
            cannot_verify(
                f"the {what}'s retention",
                reason=f"the policy config has no minLogRetentionDaysByTier for tier {tier!r}",
            )
        ]
    if is_unknown(days):
        return [cannot_verify(f"the {what}'s retention", days)]
    if int(days) < needed:
        who = "the cell's longest-kept tier" if tier == _CELL else f"tier {tier}"
        return [f"the {what} keeps logs {days} days; {who} needs {needed}"]
    return []


def _depends_on(resource: Res, others: Iterable[Res]) -> list[Res]:
    urns = set(resource.dependencies)
    return [o for o in others if o.urn in urns]


# ---- AWS --------------------------------------------------------------------------------


@rule(
    id="aws-logs-destination-configure-zone-key-retention",
    description="PostgreSQL log groups, the audit archive bucket and its Firehose stream are in a region of the residency zone and encrypted with a customer KMS key; log groups keep logs at least the tier's log retention.",
    remediation="Create the log group /aws/rds/cluster/<id>/postgresql before the cluster with kmsKeyId (the cell's log key) and retentionInDays >= the tier's; give the archive bucket SSE-KMS and the stream CUSTOMER_MANAGED_CMK (components/aws/log_archive.py, audit_archive.py).",
    cloud="aws",
    types=[t.LOG_GROUP, t.S3_BUCKET, t.FIREHOSE],
    **_ZONE_META,
)
def aws_log_destinations(resources: Sequence[Res], ctx: Ctx) -> Results:
    servers = _primaries(resources, t.RDS_CLUSTER)
    sse = [r for r in resources if r.type == t.S3_SSE]
    # The archive is the bucket a Firehose stream writes to (other buckets have rules of their own).
    buckets = [r for r in resources if r.type == t.S3_BUCKET]
    archives = {b.urn for r in resources if r.type == t.FIREHOSE for b in _depends_on(r, buckets)}
    results: Results = []
    for r in resources:
        zone = _zone_of(r, servers)
        if r.type == t.LOG_GROUP:
            found = _fence("log group", r.props.get("region"), zone, "aws", ctx)
            if not r.props.get("kmsKeyId"):
                found.append("the log group is not encrypted with a customer KMS key (kmsKeyId)")
            tier = _tags(r).get("tier")
            days = r.props.get("retentionInDays")
            if days not in (None, 0):  # absent or 0: never expires, which keeps it long enough
                found += _retained("log group", days, _required_days(tier, ctx), tier)
        elif r.type == t.S3_BUCKET and r.urn in archives:
            found = _fence("log archive bucket", r.props.get("region"), zone, "aws", ctx)
            rules = [x for s in sse if r.urn in s.dependencies for x in s.props.get("rules") or ()]
            keyed = [
                x
                for x in rules
                if get(x, "applyServerSideEncryptionByDefault", "sseAlgorithm") == "aws:kms"
                and get(x, "applyServerSideEncryptionByDefault", "kmsMasterKeyId")
            ]
            if not keyed:
                found.append("the bucket has no default SSE-KMS encryption with a customer key")
        elif r.type == t.FIREHOSE:
            found = _fence("archive stream", r.props.get("region"), zone, "aws", ctx)
            if get(r.props, "serverSideEncryption", "keyType") != "CUSTOMER_MANAGED_CMK":
                found.append("the stream does not encrypt with a customer-managed key")
            if not get(r.props, "extendedS3Configuration", "kmsKeyArn"):
                found.append("the stream writes to S3 without a KMS key (kmsKeyArn)")
        else:
            continue
        results.append((r.urn, found))
    return results


def _lock_findings(lock: Res, needed: int, production: bool | None) -> list[str]:
    if lock.props.get("objectLockEnabled") != "Enabled":
        return ["the archive bucket's Object Lock is not Enabled"]
    retention = get(lock.props, "rule", "defaultRetention")
    days = get(retention, "days") or 365 * (get(retention, "years") or 0)
    mode = get(retention, "mode")
    found = []
    if production and mode != "COMPLIANCE":
        found.append(f"the archive's lock mode is {mode}; production needs COMPLIANCE")
    elif mode not in ("COMPLIANCE", "GOVERNANCE"):
        found.append(f"the archive has no default retention mode ({mode})")
    if days < needed:
        found.append(f"the archive locks objects {days} days; the tier needs {needed}")
    return found


@rule(
    id="aws-logs-archive-enable-object-lock",
    description="Every Aurora cluster of a regulated tier streams its PostgreSQL log group (subscription filter -> Firehose) into an S3 bucket with Object Lock whose default retention covers the tier's log retention, in COMPLIANCE mode in production.",
    remediation="Deploy the cell's AuditArchive (components/aws/audit_archive.py): bucket with objectLockEnabled, a BucketObjectLockConfiguration (COMPLIANCE in prod, days >= the tier's), a Firehose stream into it, and a LogSubscriptionFilter on the cluster's log group.",
    cloud="aws",
    types=[t.RDS_CLUSTER],
    **_ARCHIVE_META,
)
def aws_log_archive(resources: Sequence[Res], ctx: Ctx) -> Results:
    filters = {r.props.get("logGroup") for r in resources if r.type == t.LOG_SUBSCRIPTION}
    locked = [r for r in resources if r.type == t.S3_BUCKET and r.props.get("objectLockEnabled")]
    streams = [r for r in resources if r.type == t.FIREHOSE and _depends_on(r, locked)]
    buckets = [b for s in streams for b in _depends_on(s, locked)]
    locks = [r for r in resources if r.type == t.S3_OBJECT_LOCK and _depends_on(r, buckets)]

    def judge(server: Res, tags: Mapping[str, str], needed: int) -> list[str]:
        group = f"/aws/rds/cluster/{server.props.get('clusterIdentifier')}/postgresql"
        found = []
        if group not in filters:
            found.append(f"no subscription filter sends {group} to the archive")
        if not streams:
            found.append("no Firehose stream delivers into an Object Lock bucket")
        if not locks:
            found.append("no Object Lock bucket with a default retention holds the archive")
        else:
            production = is_production(tags, ctx)
            best = min((_lock_findings(lock, needed, production) for lock in locks), key=len)
            found += best
        return found

    return _each_regulated_primary(resources, t.RDS_CLUSTER, ctx, judge)


# ---- Azure ------------------------------------------------------------------------------

_GEO_SKUS = ("GRS", "GZRS")  # copies to the paired region, which may lie outside the zone


@rule(
    id="azure-monitor-destination-configure-zone-key-retention",
    description="Log Analytics workspaces and log archive storage accounts are in a region of the residency zone; workspaces keep logs at least the cell's longest tier log retention; storage accounts are encrypted with a Key Vault key and replicate only inside their region.",
    remediation="Create the workspace and the archive account with location = the cell's region (components/azure/log_workspace.py, audit_archive.py), retentionInDays >= the tier's, encryption.keySource Microsoft.Keyvault and an LRS/ZRS sku.",
    cloud="azure",
    types=[t.AZ_WORKSPACE, t.AZ_STORAGE],
    **_ZONE_META,
)
def azure_log_destinations(resources: Sequence[Res], ctx: Ctx) -> Results:
    # Log Analytics encrypts with Microsoft's keys unless linked to a dedicated cluster (a
    # 100 GB/day commitment); the customer-key copy of regulated logs is the archive account.
    servers = _primaries(resources, t.AZ_SERVER)
    # The archive is the account a diagnostic setting writes to (others have rules of their own).
    accounts = [r for r in resources if r.type == t.AZ_STORAGE]
    archives = {
        a.urn for r in resources if r.type == t.AZ_DIAGNOSTIC for a in _depends_on(r, accounts)
    }
    results: Results = []
    for r in resources:
        zone = _zone_of(r, servers)
        if r.type == t.AZ_WORKSPACE:
            found = _fence("Log Analytics workspace", r.props.get("location"), zone, "azure", ctx)
            needed = _cell_days(servers, ctx)
            found += _retained("workspace", r.props.get("retentionInDays"), needed, _CELL)
        elif r.type == t.AZ_STORAGE and r.urn in archives:
            found = _fence("log archive account", r.props.get("location"), zone, "azure", ctx)
            encryption = r.props.get("encryption")
            if get(encryption, "keySource") != "Microsoft.Keyvault" or not get(
                encryption, "keyVaultProperties", "keyName"
            ):
                found.append("the account is not encrypted with a Key Vault key")
            sku = str(get(r.props, "sku", "name"))
            if any(geo in sku for geo in _GEO_SKUS):
                found.append(f"sku {sku} copies the logs to the paired region; use LRS or ZRS")
        else:
            continue
        results.append((r.urn, found))
    return results


def _immutability_findings(account: Res, needed: int, production: bool | None) -> list[str]:
    immutable = account.props.get("immutableStorageWithVersioning")
    policy = get(immutable, "immutabilityPolicy")
    if get(immutable, "enabled") is not True or not policy:
        return ["the archive account has no immutability policy"]
    found = []
    if get(policy, "allowProtectedAppendWrites") is not True:
        found.append("the policy does not allow protected append writes (diagnostics append)")
    days = get(policy, "immutabilityPeriodSinceCreationInDays") or 0
    if days < needed:
        found.append(f"the archive is immutable {days} days; the tier needs {needed}")
    state = get(policy, "state")
    if production and state != "Locked":
        found.append(f"the immutability policy is {state}; production needs Locked")
    elif state not in ("Locked", "Unlocked"):
        found.append(f"the immutability policy is {state}")
    return found


@rule(
    id="azure-storage-archive-enable-immutability",
    description="Every Flexible Server of a regulated tier has a diagnostic setting that also writes to a storage account with a time-based immutability policy allowing protected appends, as long as the tier's log retention, Locked in production.",
    remediation="Deploy the cell's AuditArchive (components/azure/audit_archive.py) and pass its account id as storageAccountId of the server's diagnostic setting.",
    cloud="azure",
    types=[t.AZ_SERVER],
    **_ARCHIVE_META,
)
def azure_log_archive(resources: Sequence[Res], ctx: Ctx) -> Results:
    accounts = [r for r in resources if r.type == t.AZ_STORAGE]
    settings = [r for r in resources if r.type == t.AZ_DIAGNOSTIC]

    def judge(server: Res, tags: Mapping[str, str], needed: int) -> list[str]:
        mine = [s for s in settings if server.urn in s.dependencies]
        targets = [
            a for s in mine if s.props.get("storageAccountId") for a in _depends_on(s, accounts)
        ]
        if not targets:
            return ["no diagnostic setting of the server writes to an archive account"]
        production = is_production(tags, ctx)
        return min((_immutability_findings(a, needed, production) for a in targets), key=len)

    return _each_regulated_primary(resources, t.AZ_SERVER, ctx, judge)


# ---- GCP --------------------------------------------------------------------------------

_CLOUDSQL = 'resource.type="cloudsql_database"'


def _covers(filter_text: Any, region: Any) -> bool:
    """A Logging filter that selects this region's Cloud SQL logs (or all of them)."""
    text = str(filter_text or "")
    if _CLOUDSQL not in text:
        return False
    return "resource.labels.region" not in text or f'resource.labels.region="{region}"' in text


def _bucket_of(sink: Res) -> tuple[str | None, str | None]:
    """``logging.googleapis.com/projects/p/locations/l/buckets/b`` -> (l, b)."""
    destination = str(sink.props.get("destination") or "")
    if "/buckets/" not in destination:
        return None, None
    return location_segment(destination), destination.rsplit("/buckets/", 1)[1]


@rule(
    id="gcp-logging-destination-configure-zone-key-retention",
    description="Log buckets are in a region of the residency zone (never global), encrypted with a Cloud KMS key of the same region and keep logs at least the cell's longest tier log retention; sinks route into such buckets; every Cloud SQL instance's logs are excluded from the _Default sink (whose bucket is global).",
    remediation="Create the cell's log bucket with location = the cell's region, cmekSettings.kmsKeyName from a key ring there and retentionDays >= the tier's; add a ProjectExclusion with the sink's filter (components/gcp/log_bucket.py).",
    cloud="gcp",
    types=[t.GCP_LOG_BUCKET, t.GCP_LOG_SINK, t.SQL_INSTANCE],
    **_ZONE_META,
)
def gcp_log_destinations(resources: Sequence[Res], ctx: Ctx) -> Results:
    servers = _primaries(resources, t.SQL_INSTANCE)
    exclusions = [
        r for r in resources if r.type == t.GCP_LOG_EXCLUSION and not r.props.get("disabled")
    ]
    results: Results = []
    for r in resources:
        zone = _zone_of(r, servers)
        if r.type == t.GCP_LOG_BUCKET:
            location = r.props.get("location")
            found = _fence("log bucket", location, zone, "gcp", ctx)
            key = get(r.props, "cmekSettings", "kmsKeyName")
            if not key:
                found.append("the log bucket is not encrypted with a Cloud KMS key (cmekSettings)")
            elif location_segment(key) not in (None, location):
                found.append(f"the bucket's key is in {location_segment(key)}, not {location}")
            needed = _cell_days(servers, ctx)
            found += _retained("log bucket", r.props.get("retentionDays"), needed, _CELL)
        elif r.type == t.GCP_LOG_SINK:
            location, _bucket = _bucket_of(r)
            if location is None:
                continue  # not a log-bucket sink: not a log destination of ours
            found = _fence("sink's log bucket", location, zone, "gcp", ctx)
        elif r in servers:
            region = r.props.get("region")
            found = []
            if not any(_covers(e.props.get("filter"), region) for e in exclusions):
                found.append(
                    f"the instance's logs also reach the global _Default bucket: no exclusion covers cloudsql_database in {region}"
                )
        else:
            continue
        results.append((r.urn, found))
    return results


@rule(
    id="gcp-logging-bucket-enable-locked-retention",
    description="Every Cloud SQL instance of a regulated tier is routed by a sink into a log bucket whose retention covers the tier's log retention and is locked in production.",
    remediation="Route the instance's logs with a sink (filter resource.type=cloudsql_database and its region) into the cell's log bucket; set locked: true in production and retentionDays >= the tier's (components/gcp/log_bucket.py).",
    cloud="gcp",
    types=[t.SQL_INSTANCE],
    **_ARCHIVE_META,
)
def gcp_log_archive(resources: Sequence[Res], ctx: Ctx) -> Results:
    sinks = [r for r in resources if r.type == t.GCP_LOG_SINK]
    buckets = {
        (r.props.get("location"), r.props.get("bucketId")): r
        for r in resources
        if r.type == t.GCP_LOG_BUCKET
    }

    def judge(server: Res, tags: Mapping[str, str], needed: int) -> list[str]:
        region = server.props.get("region")
        routed = [
            buckets[_bucket_of(s)]
            for s in sinks
            if _covers(s.props.get("filter"), region) and _bucket_of(s) in buckets
        ]
        if not routed:
            return ["no sink routes the instance's logs into a log bucket"]
        production = is_production(tags, ctx)
        options = []
        for bucket in routed:
            days = bucket.props.get("retentionDays")
            found = _retained("log bucket", days, needed, tags.get("tier"))
            if production and bucket.props.get("locked") is not True:
                found.append("the log bucket's retention is not locked; production needs it locked")
            options.append(found)
        return min(options, key=len)

    return _each_regulated_primary(resources, t.SQL_INSTANCE, ctx, judge)


RULES = (
    aws_log_destinations,
    aws_log_archive,
    azure_log_destinations,
    azure_log_archive,
    gcp_log_destinations,
    gcp_log_archive,
)
