"""What a tier's database configuration can promise on each cloud, from the providers'
published SLAs and recovery mechanics; validation refuses a tier that promises more.

Each figure cites the page it was read from (read 2026-11-29). Where no figure was
published for a configuration, the configuration supports no promise at all (``None``),
so a tier cannot claim what nobody guarantees.

- availability: the provider's monthly uptime SLA for the deployed configuration
  (multi-AZ / zone-redundant / REGIONAL with ``high_availability``, single zone without).
- rpo_seconds: with HA, a synchronous standby loses no committed data (0); without HA,
  recovery is a point-in-time restore, whose RPO is the transaction-log upload interval
  where one is published, else a daily backup (86,400 s).
- rto_minutes: with HA, the automatic failover class; without HA, a restore to a new
  server, which takes minutes to hours with the data size (the 60-minute class).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .catalog import Cloud, DatabaseProfile, Slo


@dataclass(frozen=True)
class Capability:
    value: float | None  # None: no published guarantee for this configuration
    source: str
    says: str  # what the page says, so a reviewer can check the figure


DAILY_BACKUP_SECONDS = 86_400
RESTORE_CLASS_MINUTES = 60
_RESTORE = Capability(
    RESTORE_CLASS_MINUTES,
    "https://www.mindmeshacademy.com/certifications/aws/aws-certified-cloudops-engineer-associate/"
    "study-guide/3-3-3-point-in-time-restore-and-rto-rpo-objectives",
    "PITR restores create a new instance and take minutes to hours depending on size",
)

# (cloud, high_availability) -> capability
AVAILABILITY: dict[tuple[Cloud, bool], Capability] = {
    ("aws", True): Capability(
        99.99,
        "https://aws.amazon.com/rds/aurora/sla/",
        "Multi-AZ SLA: Monthly Uptime Percentage of at least 99.99% per Multi-AZ cluster",
    ),
    ("aws", False): Capability(
        99.9,
        "https://aws.amazon.com/rds/aurora/sla/",
        "Single-AZ SLA: Single-AZ Uptime Percentage of at least 99.9% per Single-AZ cluster",
    ),
    ("azure", True): Capability(
        99.99,
        "http://www.webkkk.net/MicrosoftDocs/azure-docs/commit/5ed85db5733feea986e7900de7c135aad5c1305e",
        "MicrosoftDocs, zone-redundant HA: uptime SLA of 99.99% is offered in this configuration",
    ),
    ("azure", False): Capability(
        None,
        "https://azure.microsoft.com/support/legal/sla/postgresql",
        "no figure for a server without HA could be read; it supports no availability promise",
    ),
    ("gcp", True): Capability(
        99.95,
        "https://cloud.google.com/sql/sla",
        "Cloud SQL Enterprise edition with high availability (HA): >= 99.95%",
    ),
    ("gcp", False): Capability(
        None,
        "https://cloud.google.com/sql/sla",
        "single-zone instances are excluded from the Covered Service",
    ),
}

RPO: dict[tuple[Cloud, bool], Capability] = {
    ("aws", True): Capability(
        0,
        "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.AuroraHighAvailability.html",
        "writes are replicated synchronously across AZs to six storage nodes; a reader takes over",
    ),
    ("aws", False): Capability(
        300,
        "https://mcp.waymark.network/r/8d7e7c41-e042-411e-8099-df244d047ff5",
        "transaction logs are backed up roughly every five minutes (PITR)",
    ),
    ("azure", True): Capability(
        0,
        "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-high-availability",
        "automatic failover capability with zero data loss",
    ),
    ("azure", False): Capability(
        DAILY_BACKUP_SECONDS,
        "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-business-continuity",
        "daily backups plus continuous log backup; no log upload interval is published",
    ),
    ("gcp", True): Capability(
        0,
        "https://cloud.google.com/sql/docs/postgres/high-availability",
        "writes are replicated to disks in both zones before a transaction is reported committed",
    ),
    ("gcp", False): Capability(
        DAILY_BACKUP_SECONDS,
        "https://cloud.google.com/sql/docs/postgres/availability",
        "a standalone instance is recovered by restore; no PITR RPO figure found: daily backups",
    ),
}

RTO: dict[tuple[Cloud, bool], Capability] = {
    ("aws", True): Capability(
        1,
        "https://zatoima.github.io/en/aws-aurora-failover-time-test",
        "quotes the Aurora FAQ: start-to-finish, failover typically completes within 30 seconds",
    ),
    ("aws", False): _RESTORE,
    ("azure", True): Capability(
        2,
        "https://awsi.click/en/articles/rds-multi-az-failover-mechanism/",
        "standby promotion class of 60-120 seconds (Azure publishes no figure; same class)",
    ),
    ("azure", False): _RESTORE,
    ("gcp", True): Capability(
        2,
        "https://cloud.google.com/sql/docs/postgres/high-availability",
        "failover is triggered when the instance is unresponsive for approximately 60 seconds",
    ),
    ("gcp", False): _RESTORE,
}


def supports(cloud: Cloud, db: DatabaseProfile) -> dict[str, Capability]:
    """The best each SLO field can be on ``cloud`` with this database profile."""
    ha = db.high_availability
    rpo = RPO[(cloud, ha)]
    if not ha and not db.pitr:  # only daily backups to restore from
        rpo = Capability(DAILY_BACKUP_SECONDS, rpo.source, "pitr: false leaves daily backups")
    return {
        "availability": AVAILABILITY[(cloud, ha)],
        "rpo_seconds": rpo,
        "rto_minutes": RTO[(cloud, ha)],
    }


def slo_problems(cloud: Cloud, db: DatabaseProfile, slo: Slo) -> list[tuple[str, str, str]]:
    """(field, what is wrong, fix) for each promise the configuration cannot keep on ``cloud``."""
    found = []
    can = supports(cloud, db)
    ha_fix = "" if db.high_availability else "set database.high_availability: true, or "
    availability = can["availability"]
    if slo.availability is not None and (
        availability.value is None or slo.availability > availability.value
    ):
        best = "no SLA" if availability.value is None else f"{availability.value:g}%"
        found.append(
            (
                "availability",
                f"promises {slo.availability:g}% but {cloud} gives this configuration {best} "
                f"({availability.says}; {availability.source})",
                f"{ha_fix}lower slo.availability to what {cloud} guarantees"
                + ("" if availability.value is None else f" ({availability.value:g})"),
            )
        )
    for name, promised, unit in (
        ("rpo_seconds", slo.rpo_seconds, "s"),
        ("rto_minutes", slo.rto_minutes, "min"),
    ):
        capability = can[name]
        if promised is not None and capability.value is not None and promised < capability.value:
            found.append(
                (
                    name,
                    f"promises {promised} {unit} but {cloud} gives this configuration "
                    f"{capability.value:g} {unit} at best ({capability.says}; {capability.source})",
                    f"{ha_fix}raise slo.{name} to at least {capability.value:g}",
                )
            )
    return found


def slo_table_markdown(tiers: dict[str, Any]) -> str:
    """README table: per tier and cloud, what the tier promises and what its configuration gives."""
    rows = [
        "| tier | cloud | HA | availability: promised / SLA | RPO s: promised / best | RTO min: promised / best |",
        "|---|---|---|---|---|---|",
    ]

    def cell(promised: float | None, capability: Capability, unit: str = "") -> str:
        best = "no SLA" if capability.value is None else f"{capability.value:g}{unit}"
        shown = "—" if promised is None else f"{promised:g}{unit}"
        return f"{shown} / [{best}]({capability.source})"

    for name, tier in tiers.items():
        slo = tier.slo or Slo(availability=None, rpo_seconds=None, rto_minutes=None)
        for cloud in ("aws", "azure", "gcp"):
            can = supports(cloud, tier.database)
            rows.append(
                f"| {name} | {cloud} | {'yes' if tier.database.high_availability else 'no'} | "
                f"{cell(slo.availability, can['availability'], '%')} | "
                f"{cell(slo.rpo_seconds, can['rpo_seconds'])} | "
                f"{cell(slo.rto_minutes, can['rto_minutes'])} |"
            )
    return "\n".join(rows) + "\n"
