"""The alarms every server gets, from its tier's ``database.monitoring`` (pure).

One ``AlarmSpec`` per condition; each cloud's component turns them into its own alarm
resources. Thresholds are in the cloud's units: Aurora reports CPU and ACU utilisation
in percent and replica lag in milliseconds; Azure Monitor reports percent and seconds;
Cloud Monitoring reports utilisation as a fraction (0.8, not 80) and lag in seconds.
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
    # Watched on each read replica (its own resource), not on the primary.
    on_replica: bool = False
    # Cloud Monitoring: how the per-database series of one instance are summed.
    reducer: str | None = None


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


# --- Azure Database for PostgreSQL Flexible Server ------------------------------------------

AZURE_NAMESPACE = "Microsoft.DBforPostgreSQL/flexibleServers"
# max_connections by vCores of the General Purpose (Dds_v5) sizes tenancy picks
# (learn.microsoft.com/azure/postgresql/flexible-server/concepts-limits).
AZURE_MAX_CONNECTIONS = {2: 859, 4: 1719, 8: 3438, 16: 5000, 32: 5000, 48: 5000, 64: 5000}
# Azure Monitor accepts only these evaluation windows (minutes).
AZURE_WINDOWS_MINUTES = (1, 5, 15, 30, 60)


def azure_window_minutes(period_minutes: int) -> int:
    """The smallest window Azure accepts that covers the tier's period."""
    return next(w for w in AZURE_WINDOWS_MINUTES if w >= period_minutes)


def flexible_server_alarms(monitoring: MonitoringProfile, vcores: int) -> list[AlarmSpec]:
    """CPU, memory, storage, connections, deadlocks, failed connections on the primary;
    replica lag on each read replica. Metric names are Azure Monitor's REST names."""
    limit = AZURE_MAX_CONNECTIONS[vcores]
    period = monitoring.period_minutes

    def spec(key: str, what: str, metric: str, aggregation: str, threshold: float, **kw):
        return AlarmSpec(key, what, metric, AZURE_NAMESPACE, aggregation, threshold, **kw)

    return [
        spec(
            "cpu",
            f"CPU above {monitoring.cpu_percent}%",
            "cpu_percent",
            "Average",
            monitoring.cpu_percent,
        ),
        spec(
            "memory",
            f"memory above {monitoring.memory_percent}%",
            "memory_percent",
            "Average",
            monitoring.memory_percent,
        ),
        spec(
            "storage",
            f"storage above {monitoring.storage_used_percent}% used",
            "storage_percent",
            "Maximum",
            monitoring.storage_used_percent,
        ),
        spec(
            "connections",
            f"connections above {monitoring.connections_percent}% of max_connections ({limit})",
            "active_connections",
            "Maximum",
            round(limit * monitoring.connections_percent / 100),
        ),
        spec(
            "deadlocks",
            f"{monitoring.deadlocks} or more deadlocks in {period} min",
            "deadlocks",
            "Total",
            monitoring.deadlocks,
            comparison="GreaterThanOrEqualToThreshold",
        ),
        spec(
            "failed-connections",
            f"{monitoring.failed_connections} or more failed connections in {period} min",
            "connections_failed",
            "Total",
            monitoring.failed_connections,
            comparison="GreaterThanOrEqualToThreshold",
        ),
        spec(
            "replica-lag",
            f"replica lag above {monitoring.replica_lag_seconds} s",
            "read_replica_lag_in_seconds",
            "Maximum",
            monitoring.replica_lag_seconds,
            on_replica=True,
        ),
    ]


# --- Cloud SQL for PostgreSQL -----------------------------------------------------------------

CLOUDSQL_RESOURCE = "cloudsql_database"
CLOUDSQL_METRICS = "cloudsql.googleapis.com/database"
# Default max_connections by instance memory (GiB lower bound -> limit)
# (cloud.google.com/sql/docs/postgres/quotas#maximum_concurrent_connections).
CLOUDSQL_MAX_CONNECTIONS = (
    (120, 1000),
    (60, 800),
    (30, 600),
    (15, 500),
    (7.5, 400),
    (6, 200),
    (3.75, 100),
    (1.7, 50),
    (0, 25),
)
# The log-based metric (one per cell) counting PostgreSQL's failed password logins.
FAILED_CONNECTIONS_LOG_FILTER = (
    f'resource.type="{CLOUDSQL_RESOURCE}" AND textPayload:{FAILED_CONNECTIONS_PATTERN}'
)


def cloudsql_max_connections(memory_gib: float) -> int:
    return next(limit for floor, limit in CLOUDSQL_MAX_CONNECTIONS if memory_gib >= floor)


def cloudsql_alarms(
    monitoring: MonitoringProfile, memory_gib: float, failed_connections_metric: str
) -> list[AlarmSpec]:
    """CPU, memory and disk utilisation (fractions), connections, deadlocks and failed
    connections on the instance; replica lag on each read replica."""
    limit = cloudsql_max_connections(memory_gib)
    period = monitoring.period_minutes

    def spec(key: str, what: str, metric: str, aligner: str, threshold: float, **kw):
        return AlarmSpec(key, what, metric, CLOUDSQL_RESOURCE, aligner, threshold, **kw)

    return [
        spec(
            "cpu",
            f"CPU above {monitoring.cpu_percent}%",
            f"{CLOUDSQL_METRICS}/cpu/utilization",
            "ALIGN_MEAN",
            monitoring.cpu_percent / 100,
        ),
        spec(
            "memory",
            f"memory above {monitoring.memory_percent}%",
            f"{CLOUDSQL_METRICS}/memory/utilization",
            "ALIGN_MEAN",
            monitoring.memory_percent / 100,
        ),
        spec(
            "storage",
            f"disk above {monitoring.storage_used_percent}% used",
            f"{CLOUDSQL_METRICS}/disk/utilization",
            "ALIGN_MAX",
            monitoring.storage_used_percent / 100,
        ),
        spec(
            "connections",
            f"connections above {monitoring.connections_percent}% of max_connections ({limit})",
            f"{CLOUDSQL_METRICS}/postgresql/num_backends",
            "ALIGN_MAX",
            round(limit * monitoring.connections_percent / 100),
            reducer="REDUCE_SUM",
        ),
        spec(
            "deadlocks",
            f"{monitoring.deadlocks} or more deadlocks in {period} min",
            f"{CLOUDSQL_METRICS}/postgresql/deadlock_count",
            "ALIGN_SUM",
            monitoring.deadlocks,
            comparison="GreaterThanOrEqualToThreshold",
            reducer="REDUCE_SUM",
        ),
        spec(
            "failed-connections",
            f"{monitoring.failed_connections} or more failed logins in {period} min",
            f"logging.googleapis.com/user/{failed_connections_metric}",
            "ALIGN_SUM",
            monitoring.failed_connections,
            comparison="GreaterThanOrEqualToThreshold",
            reducer="REDUCE_SUM",
        ),
        spec(
            "replica-lag",
            f"replica lag above {monitoring.replica_lag_seconds} s",
            f"{CLOUDSQL_METRICS}/replication/replica_lag",
            "ALIGN_MAX",
            monitoring.replica_lag_seconds,
            on_replica=True,
        ),
    ]
