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

from .clouds import CLOUD_TRAITS


@dataclass(frozen=True)
class Knob:
    field: str  # catalog path under tiers.<name>
    kubernetes: str  # what it sets on the cell's cluster; each cloud's knob is in its traits


_NA = "—"

KNOBS: tuple[Knob, ...] = (
    Knob(
        "app.min_replicas / max_replicas",
        "HPA `minReplicas`/`maxReplicas` (KEDA: `minReplicaCount`/`maxReplicaCount`)",
    ),
    Knob(
        "app.cpu_target / memory_target",
        "HPA `Resource` metrics, `averageUtilization` (KEDA: `cpu`/`memory` triggers)",
    ),
    Knob(
        "app.scale_down_stabilization_seconds",
        "HPA `behavior.scaleDown.stabilizationWindowSeconds`",
    ),
    Knob(
        "app.cpu_/memory_request/limit", "container `resources`; LimitRange defaults and maximums"
    ),
    Knob("app.pdb_min_available", "PodDisruptionBudget `minAvailable`"),
    Knob(
        "app.quota_pods / quota_cpu_millicores / quota_memory_mib",
        "ResourceQuota `pods`, `limits.cpu`, `limits.memory` (+ requests)",
    ),
    Knob(
        "app.scale_windows",
        "KEDA ScaledObject `cron` trigger (`start`, `end`, `timezone`, `desiredReplicas`)",
    ),
    Knob("database.min_capacity / max_capacity", _NA),
    Knob("database.min_read_replicas / max_read_replicas", _NA),
    Knob("database.read_replica_cpu_target", _NA),
    Knob("database.storage_limit_gb", _NA),
    Knob("database.scale_windows", _NA),
)


def knob_table_markdown() -> str:
    clouds = list(CLOUD_TRAITS.values())
    lines = [
        "| profile field | " + " | ".join(c.title for c in clouds) + " | Kubernetes |",
        "|---|" + "---|" * len(clouds) + "---|",
    ]
    for knob in KNOBS:
        cells = [c.knobs.get(knob.field, _NA) for c in clouds]
        lines.append(f"| `{knob.field}` | " + " | ".join(cells) + f" | {knob.kubernetes} |")
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
