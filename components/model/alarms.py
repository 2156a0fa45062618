"""The alarms every server gets, from its tier's ``database.monitoring`` (pure).

One ``AlarmSpec`` per condition; each cloud's component turns them into its own alarm
resources. Thresholds are the cloud's units: Aurora reports CPU and ACU utilisation in
percent and replica lag in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .catalog import MonitoringProfile

Comparison = Literal["GreaterThanThreshold", "GreaterThanOrEqualToThreshold"]
# Aurora PostgreSQL's max_connections: LEAST(DBInstanceClassMemory/9531392, 5000), and
# Serverless v2 sizes it from the maximum capacity (1 ACU = 2 GiB).
AURORA_CONNECTION_DIVISOR = 9_531_392
AURORA_MAX_CONNECTIONS = 5000
GIB = 1024**3
# Where tenancy publishes the failed-connection count it reads from the PostgreSQL log.
FAILED_CONNECTIONS_NAMESPACE = "Tenancy/PostgreSQL"
FAILED_CONNECTIONS_PATTERN = '"password authentication failed"'


@dataclass(frozen=True)
class AlarmSpec:
    key: str  # part of the alarm's logical and physical name
    description: str
    metric: str
    namespace: str
    statistic: str
    threshold: float
    comparison: Comparison = "GreaterThanThreshold"
    role: str | None = None  # Aurora's Role dimension: WRITER or READER


def aurora_max_connections(max_capacity_acu: float) -> int:
    memory = int(max_capacity_acu * 2 * GIB)
    return min(memory // AURORA_CONNECTION_DIVISOR, AURORA_MAX_CONNECTIONS)


def aurora_alarms(
    monitoring: MonitoringProfile, max_capacity_acu: float, has_readers: bool
) -> list[AlarmSpec]:
    """CPU, connections, capacity, deadlocks, failed connections; replica lag with readers.
    Aurora storage grows by itself (up to 128 TiB), so it has no storage alarm."""
    limit = aurora_max_connections(max_capacity_acu)
    specs = [
        AlarmSpec(
            "cpu",
            f"writer CPU above {monitoring.cpu_percent}%",
            "CPUUtilization",
            "AWS/RDS",
            "Average",
            monitoring.cpu_percent,
            role="WRITER",
        ),
        AlarmSpec(
            "connections",
            f"connections above {monitoring.connections_percent}% of max_connections ({limit})",
            "DatabaseConnections",
            "AWS/RDS",
            "Maximum",
            round(limit * monitoring.connections_percent / 100),
            role="WRITER",
        ),
        AlarmSpec(
            "capacity",
            f"ACU utilisation above {monitoring.capacity_percent}% of the maximum capacity",
            "ACUUtilization",
            "AWS/RDS",
            "Maximum",
            monitoring.capacity_percent,
            role="WRITER",
        ),
        AlarmSpec(
            "deadlocks",
            f"{monitoring.deadlocks} or more deadlocks in {monitoring.period_minutes} min",
            "Deadlocks",
            "AWS/RDS",
            "Sum",
            monitoring.deadlocks,
            comparison="GreaterThanOrEqualToThreshold",
        ),
        AlarmSpec(
            "failed-connections",
            f"{monitoring.failed_connections} or more failed logins in {monitoring.period_minutes} min",
            "FailedConnections",
            FAILED_CONNECTIONS_NAMESPACE,
            "Sum",
            monitoring.failed_connections,
            comparison="GreaterThanOrEqualToThreshold",
        ),
    ]
    if has_readers:
        specs.append(
            AlarmSpec(
                "replica-lag",
                f"reader lag above {monitoring.replica_lag_seconds} s",
                "AuroraReplicaLag",
                "AWS/RDS",
                "Maximum",
                monitoring.replica_lag_seconds * 1000,  # milliseconds
                role="READER",
            )
        )
    return specs
