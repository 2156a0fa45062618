"""The move journal: one row per tenant in the *target's* ``tenancy_meta.moves``.

The phase row plus the deterministic object names (``replication.move_name``)
are all a rerun needs after a ``kill -9``: before the switch it rolls the
half-done move back (the source still holds every row) and starts again;
from ``switching`` on, the verified copy is the truth and it finishes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import psycopg

PHASES = ("prepare", "copy", "freeze", "verify", "switching", "switched", "done")
# Before "switching" the source is authoritative: a rerun rolls back and restarts.
RESUMABLE = ("switching", "switched")


@dataclass(frozen=True)
class Entry:
    tenant_id: str
    peer_server: str
    source_isolation: str
    target_isolation: str
    phase: str
    detail: dict[str, object]


def read(conn: psycopg.Connection, tenant_id: str) -> Entry | None:
    row = conn.execute(
        "SELECT peer_server, source_isolation, target_isolation, phase, detail"
        " FROM tenancy_meta.moves WHERE tenant_id = %s",
        [tenant_id],
    ).fetchone()
    if row is None:
        return None
    return Entry(tenant_id, row[0], row[1], row[2], row[3], dict(row[4] or {}))


def write(conn: psycopg.Connection, entry: Entry) -> None:
    conn.execute(
        "INSERT INTO tenancy_meta.moves (tenant_id, side, peer_server, source_isolation,"
        " target_isolation, phase, detail) VALUES (%s, 'target', %s, %s, %s, %s, %s::jsonb)"
        " ON CONFLICT (tenant_id) DO UPDATE SET peer_server = excluded.peer_server,"
        " source_isolation = excluded.source_isolation,"
        " target_isolation = excluded.target_isolation, phase = excluded.phase,"
        " detail = excluded.detail, updated_at = now()",
        [
            entry.tenant_id,
            entry.peer_server,
            entry.source_isolation,
            entry.target_isolation,
            entry.phase,
            json.dumps(entry.detail),
        ],
    )


def delete(conn: psycopg.Connection, tenant_id: str) -> None:
    conn.execute("DELETE FROM tenancy_meta.moves WHERE tenant_id = %s", [tenant_id])
