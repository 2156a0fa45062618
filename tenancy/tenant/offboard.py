"""Offboarding a tenant: its export recorded in the chain; its erasure, refused unless safe.

Refusals (exit 1, nothing changed): the catalog does not say ``offboarded``
(or ``erased``, for a rerun); a legal hold; no ``export`` entry of the tenant
in the evidence chain and no ``--without-export REASON``; a broken chain; no
confirmation. Erasing what is already gone changes nothing and the evidence
says "nothing to erase".
"""

from __future__ import annotations

import datetime
import getpass
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from components.model.catalog import Catalog, Tenant
from components.model.cell import parse_stack_name
from components.postgres.apply import describe
from components.postgres.datamodel import model_version
from tenancy.tenant import chain, evidence
from tenancy.tenant.archive import TOOL_VERSION, Exported, export_tenant, file_sha256, site_of
from tenancy.tenant.erase import checks_clean, erase, inventory, post_checks, today
from tenancy.tenant.errors import MoveInputError

Say = Callable[[str], None]
ERASABLE = ("offboarded", "erased")  # erased: a rerun, which finds nothing and says so


class ErasureRefused(Exception):
    """A safety rule refused the erasure before anything changed (exit 1)."""


def catalog_tenant(catalog: Catalog, tenant_id: str) -> Tenant:
    tenant = next((t for t in catalog.tenants if t.id == tenant_id), None)
    if tenant is None:
        raise MoveInputError(f"tenant {tenant_id!r} is not in the catalog")
    return tenant


def isolation_of(catalog: Catalog, tenant: Tenant) -> str:
    return catalog.tiers[tenant.tier].isolation


def run_export(
    catalog: Catalog, tenant_id: str, dsn: str, out: Path, chain_path: Path, say: Say
) -> tuple[Exported, dict[str, Any]]:
    tenant = catalog_tenant(catalog, tenant_id)
    chain.verify(chain_path)  # append only to an intact chain
    exported = export_tenant(dsn, tenant_id, tenant.tier, isolation_of(catalog, tenant), out, say)
    entry = chain.append(
        chain_path, "export", tenant_id, exported.sha256, manifest=exported.summary()
    )
    say(f"recorded as entry {entry['seq']} of {chain_path}")
    return exported, entry


@dataclass(frozen=True)
class EraseRequest:
    tenant_id: str
    stack: str
    catalog: Catalog
    catalog_path: Path
    dsn: str
    evidence_path: Path
    chain_path: Path
    without_export: str | None
    confirm: Callable[[str], bool]  # asked with the summary; False refuses


def _refusals(request: EraseRequest, tenant: Tenant) -> dict[str, Any]:
    """Raise ErasureRefused for each safety rule; returns what the evidence says of the export."""
    tid = request.tenant_id
    if tenant.status not in ERASABLE:
        raise ErasureRefused(
            f"{tid} is {tenant.status} in the catalog: only an offboarded tenant can be erased"
            f" (set status: offboarded in {request.catalog_path} and deploy first)"
        )
    if tenant.legal_hold:
        raise ErasureRefused(
            f"{tid} is under legal hold ({tenant.legal_hold_reason}): its data must be kept;"
            " erase only after the hold is lifted in the catalog"
        )
    try:
        entries = chain.read_entries(request.chain_path)
    except chain.ChainError as error:
        raise ErasureRefused(f"the evidence chain is broken, fix it first: {error}") from None
    export = chain.latest(entries, "export", tid)
    if export is not None:
        return {
            "archive": export.get("manifest", {}).get("archive"),
            "sha256": export["content_sha256"],
            "chain_seq": export["seq"],
            "at": export["at"],
            "rows": export.get("manifest", {}).get("rows"),
        }
    if request.without_export:
        return {"waived": request.without_export}
    raise ErasureRefused(
        f"{request.chain_path} records no export of {tid}: run `tenancy tenant export {tid}"
        f" --stack {request.stack} --dsn ... -o FILE` first, or pass --without-export REASON"
    )


def run_erase(request: EraseRequest, say: Say) -> dict[str, Any]:
    """Erase, check, write the evidence and chain it; returns the sealed evidence."""
    tenant = catalog_tenant(request.catalog, request.tenant_id)
    if request.evidence_path.exists():
        # Evidence is a record: never overwrite one (its chain entry would stop matching it).
        raise MoveInputError(
            f"{request.evidence_path} exists: give --evidence a new file (e.g. with the date)"
        )
    export = _refusals(request, tenant)
    tid = request.tenant_id
    site = site_of(request.dsn, tid, isolation_of(request.catalog, tenant), "server")
    started = chain.now_utc()
    traces = inventory(site, tid)
    found = [t for t in traces if t.before]
    statements: list[dict[str, Any]] = []
    if found:
        summary = ", ".join(f"{t.kind} {t.name} ({t.before})" for t in found)
        if not request.confirm(f"erase {tid} from {site.where}: {summary}"):
            raise ErasureRefused("not confirmed: nothing was changed")
        statements = erase(site, tid, say).entries
        outcome = "erased"
    else:
        outcome = "nothing to erase: no trace of the tenant was left (already erased)"
        say(f"{tid}: nothing of it is left on {site.where}; recording that")
    after = {(t.kind, t.name, t.database): t.before for t in inventory(site, tid)}
    for trace in traces:
        trace.after = after.get((trace.kind, trace.name, trace.database), 0)
    checks = post_checks(site, tid)
    sealed = evidence.seal(
        {
            "format": evidence.FORMAT,
            "tenant": tid,
            "tier": tenant.tier,
            "isolation": site.isolation,
            "stack": request.stack,
            "server": {
                "server": site.server,
                "isolation": site.isolation,
                "cell": site.cell,
                "model_version": model_version(site.model),
                "address": describe(request.dsn),
            },
            "catalog": {
                "path": str(request.catalog_path),
                "sha256": file_sha256(request.catalog_path),
            },
            "export": export,
            "outcome": outcome,
            "started_at": started,
            "finished_at": chain.now_utc(),
            "removed": [t.as_json() for t in traces],
            "statements": statements,
            "checks": checks,
            "checks_found_nothing": checks_clean(checks),
            "remaining": evidence.schedule_json(
                request.catalog, tid, _erased_on(tenant), _environment(request.stack)
            ),
            "legal": list(evidence.LEGAL),
            "operator": {
                "database_user": str(
                    conninfo_to_dict(request.dsn).get("user") or getpass.getuser()
                ),
            },
            "tool": {"name": "tenancy", "version": TOOL_VERSION},
        }
    )
    markdown = evidence.write(sealed, request.evidence_path)
    entry = chain.append(
        request.chain_path,
        "erasure",
        tid,
        sealed["content_sha256"],
        file=str(request.evidence_path),
        outcome=outcome,
        checks_found_nothing=sealed["checks_found_nothing"],
    )
    say(f"evidence: {request.evidence_path} and {markdown}; chain entry {entry['seq']}")
    return sealed


def _erased_on(tenant: Tenant) -> datetime.date:
    # A rerun of an erased tenant keeps the date the catalog recorded; a first run is today.
    return tenant.erasure.erased_on if tenant.erasure else today()


def _environment(stack: str) -> str:
    cell = parse_stack_name(stack)
    return cell.environment if cell else stack.split("-", 1)[0]
