"""``tenancy tenant restore``: one tenant's rows back from a point-in-time clone.

The clone is a whole server restored to a moment before the damage (each
cloud's command is in the README). Its marker names the same server as the
live one, which is how a wrong DSN is caught. The mover's frozen copy does
the work: freeze the tenant on the live server, replace its rows with the
clone's in one transaction (through the app role in the pool, so RLS checks
every row), verify counts and checksums against the clone, let it back in.
Neighbours are never read or written: every statement filters on tenant_id
inside the tenant's own home.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from components.model.catalog import Catalog
from components.postgres.sqlplan import APP_ROLE
from tenancy.tenant.errors import MoveInputError, VerificationFailed
from tenancy.tenant.freeze import freeze_tenant, join, unfreeze_tenant
from tenancy.tenant.move import Say, _mismatch
from tenancy.tenant.rows import Place, checksums, copy_rows
from tenancy.tenant.site import read_site


@dataclass(frozen=True)
class RestoreRequest:
    tenant_id: str
    stack: str
    catalog: Catalog
    clone_dsn: str
    live_dsn: str


def run_restore(request: RestoreRequest, say: Say) -> dict[str, Any]:
    started = time.monotonic()
    tid = request.tenant_id
    tenant = next((t for t in request.catalog.tenants if t.id == tid), None)
    if tenant is None:
        raise MoveInputError(f"tenant {tid!r} is not in the catalog")
    clone, live = read_site(request.clone_dsn, "clone"), read_site(request.live_dsn, "live")
    if clone.server != live.server:
        raise MoveInputError(
            f"the clone is of server {clone.server}, the live server is {live.server}:"
            " restore needs a clone of the tenant's own server"
        )
    if live.isolation == "silo":
        raise MoveInputError(
            f"{tid} is a silo tenant: restore its whole server from the point-in-time clone"
            " (the server holds only this tenant)"
        )
    if clone.model != live.model:
        raise MoveInputError("the clone's data model differs from the live server's")
    home = live.home(tid)
    place = Place(home, home.schema)
    with live.session() as conn:
        row = conn.execute(
            "SELECT state FROM tenancy_meta.homes WHERE tenant_id = %s", [tid]
        ).fetchone()
    if row is None or row[0] != "home":
        raise MoveInputError(f"tenant {tid} does not live on {live.where}")
    for site in (clone, live):
        if home.rls:
            with site.session() as conn:
                join(conn, APP_ROLE)
    with live.session() as conn:
        freeze_tenant(conn, tid, live.model if home.rls else ())
        frozen_at = time.monotonic()
    try:
        with clone.session(home.database) as src, live.session(home.database) as dst:
            rows = copy_rows(src, place, dst, place, tid, clone.model, replace=True)
            expected = checksums(src, place, tid, clone.model)
            got = checksums(dst, place, tid, live.model)
    finally:
        with live.session() as conn:
            unfreeze_tenant(conn, tid, live.model if home.rls else ())
    if got != expected:
        raise VerificationFailed(_mismatch(expected, got))
    say(f"restored {rows} rows of {tid} on {live.where} from the clone; verified")
    return {
        "tenant": tid,
        "rows": rows,
        "freeze_window_s": round(time.monotonic() - frozen_at, 3),
        "total_s": round(time.monotonic() - started, 3),
        "checksums": {k: {"rows": c, "sum": s} for k, (c, s) in expected.items()},
    }
