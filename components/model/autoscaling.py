"""The tier profile's autoscaling fields, and the knob each one sets on each target.

``KNOBS`` is the single mapping from a catalog field to what it configures on
AWS, Azure, GCP and Kubernetes. The README's table is rendered from it
(``knob_table_markdown``) and a test keeps the two in step. The cron helpers
translate the catalog's 5-field cron into the dialects the targets accept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter


@dataclass(frozen=True)
class Knob:
    field: str  # catalog path under tiers.<name>
    aws: str
    azure: str
    gcp: str
    kubernetes: str


_NA = "—"

KNOBS: tuple[Knob, ...] = (
    Knob(
        "app.min_replicas / max_replicas",
        _NA,
        _NA,
        _NA,
        "HPA `minReplicas`/`maxReplicas` (KEDA: `minReplicaCount`/`maxReplicaCount`)",
    ),
    Knob(
        "app.cpu_target / memory_target",
        _NA,
        _NA,
        _NA,
        "HPA `Resource` metrics, `averageUtilization` (KEDA: `cpu`/`memory` triggers)",
    ),
    Knob(
        "app.scale_down_stabilization_seconds",
        _NA,
        _NA,
        _NA,
        "HPA `behavior.scaleDown.stabilizationWindowSeconds`",
    ),
    Knob(
        "app.cpu_/memory_request/limit",
        _NA,
        _NA,
        _NA,
        "container `resources`; LimitRange defaults and maximums",
    ),
    Knob("app.pdb_min_available", _NA, _NA, _NA, "PodDisruptionBudget `minAvailable`"),
    Knob(
        "app.quota_pods / quota_cpu_millicores / quota_memory_mib",
        _NA,
        _NA,
        _NA,
        "ResourceQuota `pods`, `limits.cpu`, `limits.memory` (+ requests)",
    ),
    Knob(
        "app.scale_windows",
        _NA,
        _NA,
        _NA,
        "KEDA ScaledObject `cron` trigger (`start`, `end`, `timezone`, `desiredReplicas`)",
    ),
    Knob(
        "database.min_capacity / max_capacity",
        "Aurora Serverless v2 `serverlessv2ScalingConfiguration` min/max ACU",
        "fixed SKU per tier: General Purpose D-series sized for `min_capacity` (no compute autoscale)",
        "fixed `db-custom` machine tier sized for `min_capacity` (no compute autoscale)",
        _NA,
    ),
    Knob(
        "database.min_read_replicas / max_read_replicas",
        "silos and shards: App Auto Scaling target `rds:cluster:ReadReplicaCount` min/max",
        "`min_read_replicas` fixed replicas (`createMode: Replica`); max: no effect "
        "(no replica autoscaling)",
        "`min_read_replicas` fixed replicas (`masterInstanceName`); max: no effect "
        "(no replica autoscaling)",
        _NA,
    ),
    Knob(
        "database.read_replica_cpu_target",
        "target-tracking policy `RDSReaderAverageCPUUtilization`",
        "— (no replica autoscaling: no effect)",
        "— (no replica autoscaling: no effect)",
        _NA,
    ),
    Knob(
        "database.storage_limit_gb",
        "— (Aurora storage grows by itself, up to 128 TiB)",
        "`storage.autoGrow: Enabled` (grows to the SKU's maximum)",
        "`diskAutoresize: true`, `diskAutoresizeLimit`",
        _NA,
    ),
    Knob(
        "database.scale_windows",
        "App Auto Scaling scheduled actions (`cron(...)`, `timezone`) on replica count",
        "— (no compute or replica autoscale: windows have no effect)",
        "— (no scheduled scaling: windows have no effect)",
        _NA,
    ),
)


def knob_table_markdown() -> str:
    lines = [
        "| profile field | AWS | Azure | GCP | Kubernetes |",
        "|---|---|---|---|---|",
    ]
    for knob in KNOBS:
        lines.append(
            f"| `{knob.field}` | {knob.aws} | {knob.azure} | {knob.gcp} | {knob.kubernetes} |"
        )
    return "\n".join(lines) + "\n"


# --- cron -----------------------------------------------------------------------

_CRON_FIELD = re.compile(r"^[0-9A-Za-z*,/-]+$")
_NAMES = re.compile(r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat")


def cron_problem(expression: str) -> str | None:
    """Why a catalog cron expression is unusable, or None.

    Only the portable subset is accepted: five fields, no ``L``/``#``/``?``
    extensions, and not both day-of-month and day-of-week restricted (AWS cron
    cannot express that combination, and standard cron would OR them).
    """
    fields = expression.split()
    if len(fields) != 5:
        return f"has {len(fields)} fields, expected 5 (minute hour day-of-month month day-of-week)"
    if not all(_CRON_FIELD.match(part) for part in fields):
        return "uses characters outside digits, names, '*', ',', '-' and '/' (no L, W, #, H, ?)"
    if any(re.search("[a-z]", _NAMES.sub("", part.lower())) for part in fields):
        return "uses a cron extension (L, W, H) that not every target supports"
    if not croniter.is_valid(expression):
        return "does not parse as a 5-field cron expression"
    if fields[2] != "*" and fields[4] != "*":
        return "restricts both day-of-month and day-of-week"
    return None


def timezone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "is not an IANA time zone"
    return None


def _aws_dow(token: str) -> str:
    # Standard cron counts Sunday as 0 (or 7); AWS cron counts Sunday as 1.
    def one(value: str) -> str:
        if value.isdigit():
            return str(int(value) % 7 + 1)
        return value.upper()

    step = ""
    if "/" in token:
        token, step = token.split("/", 1)
        step = "/" + step
    if token == "*":
        return "*" + step
    return "-".join(one(part) for part in token.split("-")) + step


def aws_cron(expression: str) -> str:
    """5-field cron -> AWS ``cron(min hour dom month dow year)`` (``?`` where unrestricted)."""
    minute, hour, dom, month, dow = expression.split()
    if dow == "*":
        dow = "?"
    else:
        dom = "?"
        dow = ",".join(_aws_dow(token) for token in dow.split(","))
    return f"cron({minute} {hour} {dom} {month} {dow} *)"
