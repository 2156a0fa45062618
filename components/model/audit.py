"""What a server records and how loudly it alarms: the tier's ``database.audit`` and
``database.monitoring`` sections resolved for one server, and the PostgreSQL settings
they become. Pure: every cloud's server turns these into its own parameter form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

AuditClass = Literal["read", "write", "function", "role", "ddl", "misc", "misc_set"]
# In the order the plan writes them (the "ddl, role, write" first).
AUDIT_CLASSES: tuple[AuditClass, ...] = (
    "ddl",
    "role",
    "write",
    "read",
    "function",
    "misc",
    "misc_set",
)
# Frameworks whose auditors ask who changed which rows (HIPAA 164.312(b), PCI DSS 10.2):
# a server holding any of their tenants also records writes.
REGULATED_FRAMEWORKS = frozenset({"hipaa", "pci"})
DEFAULT_CLASSES: tuple[AuditClass, ...] = ("ddl", "role")
REGULATED_CLASSES: tuple[AuditClass, ...] = ("ddl", "role", "write")
DEFAULT_SLOW_STATEMENT_MS = 1000
DEFAULT_LOG_RETENTION_DAYS = 90
REGULATED_LOG_RETENTION_DAYS = 365  # HIPAA/PCI evidence outlives a quarter's review
PGAUDIT = "pgaudit"
# pgaudit's object-audit role on Aurora: RDS accepts no other name for pgaudit.role.
AURORA_PGAUDIT_ROLE = "rds_pgaudit"


@dataclass(frozen=True)
class ServerAudit:
    """One server's audit logging, resolved from its tier and its tenants' frameworks."""

    log_classes: tuple[AuditClass, ...] = DEFAULT_CLASSES
    slow_statement_ms: int = DEFAULT_SLOW_STATEMENT_MS
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    regulated: bool = False

    @property
    def pgaudit_log(self) -> str:
        """pgaudit.log's value, lowercase and comma-separated (Cloud SQL wants it exact)."""
        return ",".join(self.log_classes)


def is_regulated(frameworks: Iterable[str]) -> bool:
    return bool(REGULATED_FRAMEWORKS.intersection(frameworks))


def resolve_audit(
    log_classes: Iterable[AuditClass] | None,
    slow_statement_ms: int,
    log_retention_days: int | None,
    frameworks: Iterable[str],
) -> ServerAudit:
    """The tier's explicit choices win; otherwise a regulated server records writes too and
    keeps its logs a year. Classes are sorted into one order so the plan stays stable."""
    regulated = is_regulated(frameworks)
    default = REGULATED_CLASSES if regulated else DEFAULT_CLASSES
    chosen = set(log_classes if log_classes is not None else default)
    retention = log_retention_days or (
        REGULATED_LOG_RETENTION_DAYS if regulated else DEFAULT_LOG_RETENTION_DAYS
    )
    return ServerAudit(
        log_classes=tuple(c for c in AUDIT_CLASSES if c in chosen),
        slow_statement_ms=slow_statement_ms,
        log_retention_days=retention,
        regulated=regulated,
    )


# S3 Object Lock modes: COMPLIANCE binds even the account root; GOVERNANCE lets holders of
# s3:BypassGovernanceRetention clean up a dev cell.
LockMode = Literal["COMPLIANCE", "GOVERNANCE"]


def archive_lock_mode(production: bool) -> LockMode:
    return "COMPLIANCE" if production else "GOVERNANCE"


def archive_retention_days(audits: Iterable[ServerAudit]) -> int | None:
    """How long a cell's immutable archive keeps what it receives: the longest retention of
    its regulated servers; None when no server of the cell is regulated (no archive)."""
    return max((a.log_retention_days for a in audits if a.regulated), default=None)


def postgres_settings(audit: ServerAudit) -> Mapping[str, str]:
    """The server settings every cloud sets (PostgreSQL's own spelling: on/off).

    Connections, disconnections, lock waits and checkpoints are logged whatever the tier;
    ``log_min_duration_statement`` logs statements slower than the tier's threshold.
    """
    return {
        "pgaudit.log": audit.pgaudit_log,
        # Catalog queries from psql and drivers would drown the trail in noise.
        "pgaudit.log_catalog": "off",
        # Bind parameters may carry personal data; the statement text is the evidence.
        "pgaudit.log_parameter": "off",
        "log_connections": "on",
        "log_disconnections": "on",
        "log_lock_waits": "on",
        "log_checkpoints": "on",
        "log_min_duration_statement": str(audit.slow_statement_ms),
    }
