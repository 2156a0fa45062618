"""The erasure evidence: one JSON document (hashed, chained) and its markdown for an auditor.

The JSON carries ``content_sha256``: the SHA-256 of its canonical JSON without
that field (``chain.canonical``). The same value goes into the chain entry, so
an edited evidence file no longer matches its entry (``tenancy evidence verify``
checks the files it can find).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path
from typing import Any

from components.model.catalog import Catalog
from components.model.erasure import ErasureSchedule, erasure_schedule
from tenancy.tenant.chain import canonical, sha256_text

FORMAT = "tenancy-erasure-evidence/1"

LEGAL = (
    {
        "ref": "GDPR Art. 17",
        "text": "Right to erasure: personal data erased without undue delay once the"
        " controller has no ground to keep it.",
    },
    {
        "ref": "GDPR Art. 28(3)(g)",
        "text": "At the end of the provision of services the processor deletes or returns all"
        " personal data and deletes existing copies.",
    },
    {
        "ref": "ISO/IEC 27001:2022 A.8.10",
        "text": "Information deletion: information stored in systems is deleted when no longer"
        " required, and the deletion is recorded.",
    },
)

SHARED_KEY_NOTE = (
    "Shared tiers (pool, bridge) share one encryption key among their tenants, so no"
    " crypto-shredding is possible there: erasure is deletion, plus the copies below ageing out"
    " by the stated dates."
)


def schedule_json(
    catalog: Catalog, tenant_id: str, erased_on: datetime.date, environment: str
) -> dict[str, Any]:
    schedule: ErasureSchedule = erasure_schedule(catalog, tenant_id, erased_on, environment)
    data = dataclasses.asdict(schedule)
    return json.loads(json.dumps(data, default=str))  # dates as YYYY-MM-DD


def seal(evidence: dict[str, Any]) -> dict[str, Any]:
    body = {key: value for key, value in evidence.items() if key != "content_sha256"}
    return {**body, "content_sha256": sha256_text(canonical(body))}


def content_sha256(evidence: dict[str, Any]) -> str:
    body = {key: value for key, value in evidence.items() if key != "content_sha256"}
    return sha256_text(canonical(body))


def write(evidence: dict[str, Any], path: Path) -> Path:
    """Write the JSON and, next to it, the markdown; returns the markdown's path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(evidence, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    markdown = path.with_suffix(".md")
    markdown.write_text(render_markdown(evidence))
    return markdown


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    def cell(value: Any) -> str:
        return str("—" if value is None else value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines + [""]


def render_markdown(evidence: dict[str, Any]) -> str:
    tenant, server = evidence["tenant"], evidence["server"]
    clean = evidence["checks_found_nothing"]
    lines = [
        f"# Erasure evidence: tenant `{tenant}`",
        "",
        f"**Outcome: {evidence['outcome']}.** "
        + (
            "The checks after erasure found no trace of the tenant on the server."
            if clean
            else "**The checks after erasure did NOT come back clean: see below.**"
        ),
        "",
        *_table(
            ["", ""],
            [
                ["Tenant", tenant],
                ["Tier / isolation", f"{evidence['tier']} / {evidence['isolation']}"],
                ["Cell (stack)", evidence["stack"]],
                [
                    "Server (its tenancy marker)",
                    f"{server['server']} ({server['isolation']}, cell {server['cell']}, model {server['model_version']})",
                ],
                ["Reached at", server["address"]],
                [
                    "Catalog",
                    f"`{evidence['catalog']['path']}`, sha256 `{evidence['catalog']['sha256']}`",
                ],
                ["Export", _export_line(evidence["export"])],
                [
                    "Started / finished (UTC)",
                    f"{evidence['started_at']} / {evidence['finished_at']}",
                ],
                [
                    "Run by",
                    f"{evidence['operator']['database_user']} (tenancy {evidence['tool']['version']})",
                ],
                [
                    "Evidence SHA-256",
                    f"`{evidence['content_sha256']}` (canonical JSON without this field)",
                ],
            ],
        ),
        "## What was removed",
        "",
        *_table(
            ["kind", "name", "database", "before", "after"],
            [
                [t["kind"], t["name"], t["database"], t["before"], t["after"]]
                for t in evidence["removed"]
            ],
        ),
        "## Statements",
        "",
        *_table(
            ["started (UTC)", "database", "statement", "rows"],
            [
                [s["started_at"], s["database"], f"`{s['sql']}`", _rows(s)]
                for s in evidence["statements"]
            ]
            or [["—", "—", "nothing to run: nothing of the tenant was left", "—"]],
        ),
        "## Checks after erasure",
        "",
        *_table(
            ["check", "database", "looked for", "found"],
            [
                [
                    c["check"],
                    c["database"],
                    c["where"],
                    "not verifiable: " + c["note"] if c["found"] is None else c["found"],
                ]
                for c in evidence["checks"]
            ],
        ),
        *_remaining(evidence["remaining"]),
        "## Legal basis",
        "",
        *[f"- **{item['ref']}**: {item['text']}" for item in evidence["legal"]],
        "",
    ]
    return "\n".join(lines)


def _rows(statement: dict[str, Any]) -> str:
    if "batches" not in statement:
        return str(statement["rows"])
    return (
        f"{statement['rows']} in {statement['batches']} transactions"
        f" (longest {statement['longest_batch_ms']} ms)"
    )


def _export_line(export: dict[str, Any]) -> str:
    if export.get("waived"):
        return f"none: erased without export, reason given: {export['waived']}"
    return f"archive `{export['archive']}` sha256 `{export['sha256']}`, chain entry {export['chain_seq']} ({export['at']})"


def _remaining(schedule: dict[str, Any]) -> list[str]:
    lines = [
        "## What still holds the data, and until when",
        "",
        f"- **Beyond use:** {schedule['beyond_use']} (rows deleted"
        + (", key disabled" if schedule["crypto_shredding"] else "")
        + ")",
        f"- **Fully erased:** {schedule['fully_erased']} (the last copy or key window has run out)",
        "",
        schedule["statement"],
        "",
    ]
    if not schedule["crypto_shredding"]:
        lines += [SHARED_KEY_NOTE, ""]
    lines += _table(
        ["copy", "where", "gone by", "under the tenant's key", "note"],
        [
            [
                c["kind"],
                c["where"],
                c["until"],
                "yes" if c["under_tenant_key"] else "no (escapes it)",
                c["note"],
            ]
            for c in schedule["copies"]
        ],
    )
    key = schedule.get("key")
    lines += ["### Key destruction", ""]
    if key:
        lines += [
            f"- Mechanism: {key['mechanism']}",
            f"- Scheduled on: {key['schedule_on']}; destroyed on: {key['destroyed_on']}",
            f"- Approved: {'yes' if key['approved'] else 'NO: prod needs erasure.destroy_key: true in the catalog'}",
            "",
        ]
    else:
        lines += ["No tenant key to destroy: the tier's key is shared with other tenants.", ""]
    return lines
