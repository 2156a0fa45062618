"""``tenancy tenant move|restore``: move one tenant between servers/tiers; restore one tenant.

    tenancy tenant move TENANT --stack STACK --source-dsn DSN --target-dsn DSN
                        [--report FILE] [--rollback] [--purge-source]
                        [--subscription-dsn DSN] [--catalog F]
    tenancy tenant restore TENANT --stack STACK --from-dsn CLONE --to-dsn LIVE [--catalog F]

Exit codes: 0 moved (or restored) and verified; 1 verification failed and the
tenant was rolled back to its source; 2 bad input, nothing changed. See
docs/tenant-moves.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import psycopg

from tenancy.commands.db import _catalog
from tenancy.errors import EXIT_FINDINGS, EXIT_OK, CommandError
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
    tenant.set_defaults(handler=run_tenant)


def _say(message: str) -> None:
    print(f"tenancy tenant: {message}", file=sys.stderr)


def run_tenant(args: argparse.Namespace) -> int:
    catalog = _catalog(args.stack, args.catalog)
    try:
        if args.tenant_command == "restore":
            return _restore(args, catalog)
        return _move(args, catalog)
    except MoveInputError as error:
        raise CommandError("tenant", str(error)) from error
    except VerificationFailed as error:
        print(f"tenancy tenant: {error}; rolled back to the source", file=sys.stderr)
        return EXIT_FINDINGS


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
