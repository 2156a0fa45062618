"""The README's alarm table: every tier's alarms on each cloud, with the thresholds the
plan registers (``tenancy docs`` writes it; a test keeps it fresh).

Built from the same model functions the components call, at the server sizes the
components choose, so the table cannot drift from the plan.
"""

from __future__ import annotations

from collections.abc import Mapping

from components.model.alarms import (
    AlarmSpec,
    aurora_alarms,
    cloudsql_alarms,
    flexible_server_alarms,
)
from components.model.catalog import Tier

# The rows, in order: the model's alarm keys.
ALARMS = (
    ("cpu", "CPU"),
    ("memory", "memory"),
    ("storage", "storage used"),
    ("connections", "connections"),
    ("capacity", "capacity near max"),
    ("deadlocks", "deadlocks"),
    ("failed-connections", "failed connections"),
    ("replica-lag", "replica lag (replicas)"),
)
_OPERATOR = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">="}
_NOT_APPLICABLE = "-"


def _cell(spec: AlarmSpec | None) -> str:
    if spec is None:
        return _NOT_APPLICABLE
    # Cloud Monitoring's types without their common prefix: cpu/utilization, user/<metric>.
    metric = spec.metric.split("/database/", 1)[-1].removeprefix("logging.googleapis.com/")
    threshold = f"{spec.threshold:g}"
    return f"`{metric}` {_OPERATOR[spec.comparison]} {threshold}"


def _sizes(profile: Tier) -> tuple[int, float]:
    """Azure vCores and Cloud SQL memory (GiB) the components pick for the tier."""
    # Imported here: they pull in the providers' SDKs, which only this table needs.
    from components.azure.flexible_server import vcores_for
    from components.gcp.cloudsql import machine_memory_gib

    database = profile.database
    return vcores_for(database.min_capacity), machine_memory_gib(database.min_capacity)


def tier_rows(name: str, profile: Tier) -> list[str]:
    database = profile.database
    monitoring = database.monitoring
    vcores, memory = _sizes(profile)
    by_cloud = [
        {s.key: s for s in aurora_alarms(monitoring, database.max_capacity, has_readers=True)},
        {s.key: s for s in flexible_server_alarms(monitoring, vcores)},
        {s.key: s for s in cloudsql_alarms(monitoring, memory, "failed_connections")},
    ]
    rows = []
    for key, label in ALARMS:
        cells = " | ".join(_cell(specs.get(key)) for specs in by_cloud)
        rows.append(f"| {name} | {label} | {cells} |")
    return rows


def alarm_table_markdown(tiers: Mapping[str, Tier]) -> str:
    """One row per tier and alarm; each cloud's metric and threshold in its own units."""
    lines = [
        "| tier | alarm | AWS (Aurora; CPU/ACU %, lag ms) | Azure (Flexible Server; %, s) "
        "| GCP (Cloud SQL; utilisation as a fraction, s) |",
        "|---|---|---|---|---|",
    ]
    for name, profile in tiers.items():
        lines += tier_rows(name, profile)
    periods = sorted({p.database.monitoring.period_minutes for p in tiers.values()})
    lines += [
        "",
        f"Every alarm is evaluated over {', '.join(map(str, periods))} min "
        "(`monitoring.period_minutes`; Azure rounds it up to its next window: 1, 5, 15, 30 or 60). "
        "Connection thresholds are the tier's share of the server's max_connections at the "
        "size tenancy picks (Aurora: the max ACU; Azure: vCores of the SKU; Cloud SQL: the "
        "machine's memory).",
    ]
    return "\n".join(lines) + "\n"
