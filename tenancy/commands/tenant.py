"""``tenancy tenant move|restore|export|import|erase``: one tenant's data.

    tenancy tenant move TENANT --stack STACK --source-dsn DSN --target-dsn DSN
                        [--report FILE] [--rollback] [--purge-source]
                        [--subscription-dsn DSN] [--catalog F]
    tenancy tenant restore TENANT --stack STACK --from-dsn CLONE --to-dsn LIVE [--catalog F]
    tenancy tenant export TENANT --stack STACK --dsn DSN -o FILE [--chain F] [--catalog F]
    tenancy tenant import TENANT --stack STACK --dsn DSN FILE [--catalog F]
    tenancy tenant erase TENANT --stack STACK --dsn DSN --evidence FILE [--yes]
                         [--without-export REASON] [--chain F] [--catalog F]

Exit codes: 0 done and verified; 1 verification failed (move: rolled back to
its source; import: nothing imported) or erase refused / its checks found a
trace; 2 bad input, nothing changed. See docs/tenant-moves.md and
docs/offboarding.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from infra.program import STACKS_DIR
from tenancy.commands.db import _catalog
from tenancy.errors import EXIT_FINDINGS, EXIT_OK, CommandError
from tenancy.stackfiles import known_stacks, read_stack_config
from tenancy.tenant.chain import DEFAULT_CHAIN, ChainError
from tenancy.tenant.errors import MoveInputError, VerificationFailed


def register(subparsers: Any) -> None:
    tenant = subparsers.add_parser("tenant", help="move or restore one tenant's data")
    commands = tenant.add_subparsers(dest="tenant_command", required=True)
    move = commands.add_parser("move", help="live move to the tenant's new home, verified")
    restore = commands.add_parser("restore", help="put back one tenant's rows from a clone")
    for sub in (move, restore):
        sub.add_argument("tenant", help="tenant id")
        sub.add_argument("--stack", required=True, help="cell stack, e.g. prod-aws-eu-central-1")
        sub.add_argument("--catalog", type=Path, help="tenant catalog (default: the stack's)")
        sub.add_argument("--report", type=Path, help="write a JSON report here")
    move.add_argument("--source-dsn", required=True, help="admin DSN of the current home")
    move.add_argument("--target-dsn", required=True, help="admin DSN of the new home")
    move.add_argument(
        "--subscription-dsn",
        help="DSN (on the target server) that runs CREATE/DROP SUBSCRIPTION; default:"
        " --target-dsn (PostgreSQL 15 reserves it for superusers; the clouds' admins may)",
    )
    move.add_argument(
        "--rollback", action="store_true", help="bring a moved tenant back to its source"
    )
    move.add_argument(
        "--purge-source",
        action="store_true",
        help="after a completed move, delete the tenant's rows at the old home",
    )
    restore.add_argument("--from-dsn", required=True, help="admin DSN of the point-in-time clone")
    restore.add_argument("--to-dsn", required=True, help="admin DSN of the live server")
    _register_offboarding(commands)
    tenant.set_defaults(handler=run_tenant)


def _register_offboarding(commands: Any) -> None:
    export = commands.add_parser("export", help="the tenant's rows as a zip of CSVs + manifest")
    load = commands.add_parser("import", help="load an export into the tenant's (empty) home")
    erase = commands.add_parser("erase", help="remove every trace of an offboarded tenant")
    for sub in (export, load, erase):
        sub.add_argument("tenant", help="tenant id")
        sub.add_argument("--stack", required=True, help="cell stack, e.g. prod-aws-eu-central-1")
        sub.add_argument("--catalog", type=Path, help="tenant catalog (default: the stack's)")
        sub.add_argument("--dsn", required=True, help="admin DSN of the tenant's server")
    for sub in (export, erase):
        sub.add_argument(
            "--chain",
            type=Path,
            default=DEFAULT_CHAIN,
            help=f"evidence chain (default {DEFAULT_CHAIN})",
        )
    export.add_argument("-o", "--output", type=Path, required=True, help="the zip to write")
    load.add_argument("archive", type=Path, help="a zip written by `tenancy tenant export`")
    erase.add_argument(
        "--evidence", type=Path, required=True, help="evidence JSON to write (+ .md)"
    )
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase.add_argument(
        "--without-export",
        metavar="REASON",
        help="erase although no export is recorded, because REASON",
    )


def _say(message: str) -> None:
    print(f"tenancy tenant: {message}", file=sys.stderr)


def run_tenant(args: argparse.Namespace) -> int:
    catalog = _catalog(args.stack, args.catalog)
    offboarding = {"export": _export, "import": _import, "erase": _erase}
    try:
        if args.tenant_command in offboarding:
            return offboarding[args.tenant_command](args, catalog)
        if args.tenant_command == "restore":
            return _restore(args, catalog)
        return _move(args, catalog)
    except MoveInputError as error:
        raise CommandError("tenant", str(error)) from error
    except VerificationFailed as error:
        if args.tenant_command in offboarding:
            print(f"tenancy tenant: {error}", file=sys.stderr)
        else:
            print(f"tenancy tenant: {error}; rolled back to the source", file=sys.stderr)
        return EXIT_FINDINGS


def _catalog_path(stack: str, given: Path | None) -> Path:
    """The file ``_catalog`` read: its digest goes into the evidence."""
    if given is not None:
        return given.resolve()
    path = "tenants.yaml"
    if stack in known_stacks():
        path = str(read_stack_config(stack).get("tenancy:catalog") or path)
    return Path(path) if Path(path).is_absolute() else STACKS_DIR / path


def _export(args: argparse.Namespace, catalog: Any) -> int:
    from tenancy.tenant.offboard import run_export

    if not args.output.parent.is_dir():
        raise CommandError(
            "tenant", f"-o {args.output}: directory {args.output.parent} does not exist"
        )
    try:
        exported, entry = run_export(catalog, args.tenant, args.dsn, args.output, args.chain, _say)
    except psycopg.Error as error:
        print(
            f"tenancy tenant: export stopped, no archive written: {error}".strip(), file=sys.stderr
        )
        return EXIT_FINDINGS
    except ChainError as error:
        print(
            f"tenancy tenant: export refused, the evidence chain is broken: {error}",
            file=sys.stderr,
        )
        return EXIT_FINDINGS
    print(
        json.dumps(
            {"archive": str(exported.path), "sha256": exported.sha256, "chain_seq": entry["seq"]}
        )
    )
    return EXIT_OK


def _import(args: argparse.Namespace, catalog: Any) -> int:
    from tenancy.tenant.archive import import_tenant
    from tenancy.tenant.offboard import catalog_tenant, isolation_of

    tenant = catalog_tenant(catalog, args.tenant)
    try:
        result = import_tenant(
            args.dsn, args.tenant, isolation_of(catalog, tenant), args.archive, _say
        )
    except psycopg.Error as error:
        print(f"tenancy tenant: import stopped, nothing imported: {error}".strip(), file=sys.stderr)
        return EXIT_FINDINGS
    print(json.dumps(result, sort_keys=True))
    return EXIT_OK


def _erase(args: argparse.Namespace, catalog: Any) -> int:
    from tenancy.tenant.offboard import EraseRequest, ErasureRefused, run_erase

    request = EraseRequest(
        tenant_id=args.tenant,
        stack=args.stack,
        catalog=catalog,
        catalog_path=_catalog_path(args.stack, args.catalog),
        dsn=args.dsn,
        evidence_path=args.evidence,
        chain_path=args.chain,
        without_export=args.without_export,
        confirm=_confirmation(args.yes, args.tenant),
    )
    try:
        sealed = run_erase(request, _say)
    except ErasureRefused as error:
        print(f"tenancy tenant: erase refused: {error}", file=sys.stderr)
        return EXIT_FINDINGS
    except (psycopg.Error, PermissionError) as error:
        print(
            f"tenancy tenant: erase stopped part way: {str(error).strip()}; fix the cause and"
            " run the same command again (each step is idempotent)",
            file=sys.stderr,
        )
        return EXIT_FINDINGS
    if not sealed["checks_found_nothing"]:
        print(
            f"tenancy tenant: the checks after erasure found traces: see {args.evidence}",
            file=sys.stderr,
        )
        return EXIT_FINDINGS
    catalog_entry = {
        "status": "erased",
        "erasure": {"erased_on": sealed["remaining"]["erased_on"], "evidence": str(args.evidence)},
    }
    print(
        json.dumps(
            {
                "evidence": str(args.evidence),
                "content_sha256": sealed["content_sha256"],
                "outcome": sealed["outcome"],
                "catalog": catalog_entry,  # what to write into the tenant's catalog entry
            }
        )
    )
    return EXIT_OK


def _confirmation(yes: bool, tenant_id: str) -> Callable[[str], bool]:
    def ask(summary: str) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            _say("not a terminal and no --yes: refusing to erase without a confirmation")
            return False
        # The question goes to stderr: stdout carries only the JSON result.
        sys.stderr.write(
            f"{summary}\nThis cannot be undone. Type the tenant id ({tenant_id}) to erase it: "
        )
        sys.stderr.flush()
        answer = sys.stdin.readline()
        return answer.strip() == tenant_id

    return ask


def _move(args: argparse.Namespace, catalog: Any) -> int:
    from tenancy.tenant.move import MoveRequest, purge_source, run_move

    request = MoveRequest(
        tenant_id=args.tenant,
        stack=args.stack,
        catalog=catalog,
        source_dsn=args.source_dsn,
        target_dsn=args.target_dsn,
        subscription_dsn=args.subscription_dsn,
        rollback=args.rollback,
    )
    try:
        if args.purge_source:
            purge_source(request, _say)
            return EXIT_OK
        report = run_move(request, _say)
    except psycopg.Error as error:
        # Rolled back already (run_move); the message says what the server refused.
        print(f"tenancy tenant: move stopped and rolled back: {error}".strip(), file=sys.stderr)
        return EXIT_FINDINGS
    except TimeoutError as error:
        print(f"tenancy tenant: move stopped and rolled back: {error}", file=sys.stderr)
        return EXIT_FINDINGS
    _write_report(args.report, report.as_json())
    print(json.dumps(report.as_json()["connection"]))
    return EXIT_OK


def _restore(args: argparse.Namespace, catalog: Any) -> int:
    from tenancy.tenant.restore import RestoreRequest, run_restore

    try:
        report = run_restore(
            RestoreRequest(args.tenant, args.stack, catalog, args.from_dsn, args.to_dsn), _say
        )
    except (psycopg.Error, TimeoutError) as error:
        # The copy is one transaction: it rolled back, the tenant's rows are as they were.
        print(f"tenancy tenant: restore stopped, nothing changed: {error}".strip(), file=sys.stderr)
        return EXIT_FINDINGS
    _write_report(args.report, report)
    return EXIT_OK


def _write_report(path: Path | None, data: dict[str, Any]) -> None:
    if path is not None:
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
