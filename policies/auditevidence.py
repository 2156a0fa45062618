"""Audit-logging evidence per server, read from a plan: what the server records (pgaudit
classes), where its log goes (destination, region), for how long, under which key, and
its immutable copy. ``tenancy compliance`` prints it next to the controls it evidences.

Read from the registered resources, never from the catalog: the evidence is what would
be deployed. Links follow the plan's dependencies (a log group's subscription filter,
a diagnostic setting's storage account), so a resource that is planned but not wired
shows as missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import types as t
from .framework import get, tags_of, tenancy_tags

NONE = "none"

Resource = Mapping[str, Any]


def _inputs(r: Resource) -> Mapping[str, Any]:
    return r.get("inputs") or {}


def _name(r: Resource) -> str:
    return str(r["urn"]).rsplit("::", 1)[-1]


def _using(resources: Sequence[Resource], kind: str, target: Resource) -> list[Resource]:
    """Resources of ``kind`` that depend on ``target``."""
    return [
        r for r in resources if r["type"] == kind and target["urn"] in (r.get("dependencies") or ())
    ]


def _used_by(resources: Sequence[Resource], kind: str, source: Resource) -> list[Resource]:
    """Resources of ``kind`` that ``source`` depends on."""
    wanted = set(source.get("dependencies") or ())
    return [r for r in resources if r["type"] == kind and r["urn"] in wanted]


def _row(server: Resource, cloud: str, **facts: Any) -> dict[str, Any]:
    tags = tenancy_tags(tags_of(server["type"], _inputs(server)))
    row = {
        "server": _name(server),
        "cloud": cloud,
        "tenant": tags.get("tenant"),
        "tier": tags.get("tier"),
        "pgaudit_classes": None,
        "destination": NONE,
        "region": None,
        "retention_days": None,
        "encryption": NONE,
        "archive": NONE,
    }
    row.update(facts)
    return row


def _aws(resources: Sequence[Resource], cluster: Resource) -> dict[str, Any]:
    groups = _used_by(resources, t.RDS_CLUSTER_PARAMS, cluster)
    classes = next(
        (
            get(p, "value")
            for g in groups
            for p in _inputs(g).get("parameters") or ()
            if get(p, "name") == "pgaudit.log"
        ),
        None,
    )
    log_name = f"/aws/rds/cluster/{_inputs(cluster).get('clusterIdentifier')}/postgresql"
    logs = [r for r in resources if r["type"] == t.LOG_GROUP and _inputs(r).get("name") == log_name]
    if not logs:
        return _row(cluster, "aws", pgaudit_classes=classes)
    group = _inputs(logs[0])
    archive = NONE
    for subscription in _using(resources, t.LOG_SUBSCRIPTION, logs[0]):
        for stream in _used_by(resources, t.FIREHOSE, subscription):
            for bucket in _used_by(resources, t.S3_BUCKET, stream):
                locks = _using(resources, t.S3_OBJECT_LOCK, bucket)
                retention = get(_inputs(locks[0]), "rule", "defaultRetention") if locks else {}
                archive = (
                    f"s3://{_inputs(bucket).get('bucket')} via Firehose, Object Lock "
                    f"{get(retention, 'mode')} {get(retention, 'days')} days"
                )
    return _row(
        cluster,
        "aws",
        pgaudit_classes=classes,
        destination=f"CloudWatch Logs {log_name}",
        region=group.get("region"),
        retention_days=group.get("retentionInDays"),
        encryption=f"KMS {group.get('kmsKeyId')}" if group.get("kmsKeyId") else NONE,
        archive=archive,
    )


def _azure(resources: Sequence[Resource], server: Resource) -> dict[str, Any]:
    server_name = _inputs(server).get("serverName")
    classes = next(
        (
            _inputs(r).get("value")
            for r in resources
            if r["type"] == t.AZ_CONFIGURATION
            and _inputs(r).get("configurationName") == "pgaudit.log"
            and (
                server["urn"] in (r.get("dependencies") or ())
                or _inputs(r).get("serverName") == server_name
            )
        ),
        None,
    )
    settings = _using(resources, t.AZ_DIAGNOSTIC, server)
    workspaces = [w for s in settings for w in _used_by(resources, t.AZ_WORKSPACE, s)]
    if not workspaces:
        return _row(server, "azure", pgaudit_classes=classes)
    workspace = _inputs(workspaces[0])
    archive = NONE
    for account in (a for s in settings for a in _used_by(resources, t.AZ_STORAGE, s)):
        policy = get(_inputs(account), "immutableStorageWithVersioning", "immutabilityPolicy")
        appends = ", protected appends" if get(policy, "allowProtectedAppendWrites") else ""
        archive = (
            f"storage account {_inputs(account).get('accountName')}, immutability "
            f"{get(policy, 'state')} {get(policy, 'immutabilityPeriodSinceCreationInDays')} days"
            f"{appends}"
        )
    return _row(
        server,
        "azure",
        pgaudit_classes=classes,
        destination=f"Log Analytics {workspace.get('workspaceName')}",
        region=workspace.get("location"),
        retention_days=workspace.get("retentionInDays"),
        # Log Analytics takes a customer key only through a dedicated cluster (README).
        encryption="Microsoft-managed (Log Analytics)",
        archive=archive,
    )


def _gcp(resources: Sequence[Resource], instance: Resource) -> dict[str, Any]:
    flags = get(_inputs(instance), "settings", "databaseFlags") or ()
    classes = next((get(f, "value") for f in flags if get(f, "name") == "pgaudit.log"), None)
    region = _inputs(instance).get("region")
    buckets = {
        f"/locations/{_inputs(b).get('location')}/buckets/{_inputs(b).get('bucketId')}": b
        for b in resources
        if b["type"] == t.GCP_LOG_BUCKET
    }
    routed = [
        bucket
        for sink in resources
        if sink["type"] == t.GCP_LOG_SINK
        and 'resource.type="cloudsql_database"' in str(_inputs(sink).get("filter"))
        and f'resource.labels.region="{region}"' in str(_inputs(sink).get("filter"))
        for path, bucket in buckets.items()
        if str(_inputs(sink).get("destination", "")).endswith(path)
    ]
    if not routed:
        return _row(instance, "gcp", pgaudit_classes=classes)
    bucket = _inputs(routed[0])
    key = get(bucket, "cmekSettings", "kmsKeyName")
    days = bucket.get("retentionDays")
    return _row(
        instance,
        "gcp",
        pgaudit_classes=classes,
        destination=f"log bucket {bucket.get('bucketId')} (sink)",
        region=bucket.get("location"),
        retention_days=days,
        encryption=f"Cloud KMS {key}" if key else NONE,
        archive=(
            f"the log bucket, retention locked {days} days"
            if bucket.get("locked")
            else f"{NONE} (bucket retention not locked)"
        ),
    )


def audit_evidence(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per primary database server of the plan (replicas share their primary's log)."""
    resources = plan.get("resources") or []
    rows = []
    for r in resources:
        inputs = _inputs(r)
        if r["type"] == t.RDS_CLUSTER:
            rows.append(_aws(resources, r))
        elif r["type"] == t.AZ_SERVER and inputs.get("createMode") != "Replica":
            rows.append(_azure(resources, r))
        elif r["type"] == t.SQL_INSTANCE and not inputs.get("masterInstanceName"):
            rows.append(_gcp(resources, r))
    return rows


def audit_evidence_markdown(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    if not rows:
        return ["No database server in this plan."]
    lines = [
        "| server | tenant | tier | pgaudit classes | log destination | region | retention (days) | encryption | immutable archive |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [
            f"`{row['server']}`",
            row["tenant"] or "",
            row["tier"] or "",
            f"`{row['pgaudit_classes']}`" if row["pgaudit_classes"] else "**not set**",
            row["destination"],
            row["region"] or "",
            str(row["retention_days"] or ""),
            row["encryption"],
            row["archive"],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines
