"""``tenancy db plan|apply``: in-database isolation SQL for one server's tenants.

    tenancy db plan  --stack prod-aws-eu-central-1 [--shard free-01] [--catalog F]
    tenancy db apply --dsn DSN --stack prod-aws-eu-central-1 --shard free-01
    tenancy db apply --dsn DSN --stack prod-azure-westeurope --shard stark \\
        --stack-outputs outputs.json      # pulumi stack output --json > outputs.json

A stack's servers are its bridge/pool shards (by shard name, e.g. ``free-01``)
and its silo servers (by tenant id, e.g. ``acme``). ``apply`` talks to one
server, so ``--shard`` is required when the stack has several. The DSN may
also come from ``$TENANCY_DSN`` (keeps a password out of the process list), and
libpq's own variables (PGPASSWORD, PGSSLMODE, ...) apply as usual.

Azure silo servers: ``--stack-outputs`` gives each tenant's workload identity (its
principal id, stack output ``tenants.<id>.entra_principal_id``), which the plan maps to
the login role ``entra_tenant_<id>`` holding the tenant role only. Only a Microsoft Entra
administrator of the server may call ``pgaadauth_create_principal_with_oid``: connect as
a member of the stack's ``tenancy:entraAdminGroup``, every server's Entra administrator
(user = the group's display name; password = ``az account get-access-token
--resource-type oss-rdbms``). ``pulumi up`` applies the plan as the password admin,
without this step.

Exit codes: 0 ok, 1 orphans found with ``--fail-on-orphans``, 2 bad input or an
unusable server -- always with a message on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import psycopg

from components.model.catalog import Catalog
from components.model.cell import parse_stack_name
from components.postgres.apply import (
    CONNECTIONS,
    ApplyError,
    ApplyReport,
    apply_plan,
    describe,
)
from components.postgres.sqlplan import GUID, SqlPlan, cell_servers, plan_for_server
from infra import program
from tenancy.errors import CommandError
from tenancy.stackfiles import known_stacks, read_stack_config


def _bad_input(message: str) -> CommandError:
    return CommandError("db", message)


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="in-database isolation SQL (roles, schemas, RLS)")
    _add_commands(db)
    db.set_defaults(handler=run_db)


def _add_commands(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="db_command", required=True)
    plan = commands.add_parser("plan", help="print the SQL plan of a stack's servers")
    apply = commands.add_parser("apply", help="apply one server's plan and report what changed")
    for sub in (plan, apply):
        sub.add_argument(
            "--stack", required=True, help="cell stack name, e.g. prod-aws-eu-central-1"
        )
        sub.add_argument(
            "--shard", "--server", dest="shard", help="shard name (bridge/pool) or silo tenant id"
        )
        sub.add_argument(
            "--catalog",
            type=Path,
            help="tenant catalog (default: the stack's, else stacks/tenants.yaml)",
        )
    apply.add_argument(
        "--dsn",
        default=os.environ.get("TENANCY_DSN"),
        help="admin connection string (default: $TENANCY_DSN)",
    )
    apply.add_argument(
        "--fail-on-orphans", action="store_true", help="exit 1 when orphaned tenant objects exist"
    )
    apply.add_argument(
        "--connections",
        type=_connections,
        default=CONNECTIONS,
        help=f"sessions that build tenants side by side (1-{MAX_CONNECTIONS}, default"
        f" {CONNECTIONS}); each counts against the server's connection limit",
    )
    for sub in (plan, apply):
        sub.add_argument(
            "--stack-outputs",
            type=Path,
            help="`pulumi stack output --json` of the stack: Azure silo tenants' Entra"
            " identities (tenants.<id>.entra_principal_id) are mapped to their login roles",
        )


MAX_CONNECTIONS = 16


def _connections(text: str) -> int:
    """--connections: a whole number of sessions within what any managed server allows."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_CONNECTIONS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of connections: give 1 to {MAX_CONNECTIONS}"
            f" (1 applies tenants one block at a time)"
        )
    return value


def _catalog(stack: str, given: Path | None) -> Catalog:
    """--catalog, else ``tenancy:catalog`` of stacks/Pulumi.<stack>.yaml, else stacks/tenants.yaml."""
    if given is not None:
        return program.read_catalog(str(given.resolve()))
    path = "tenants.yaml"
    if stack in known_stacks():  # a cell without a stack file still has its catalog slice
        path = str(read_stack_config(stack).get("tenancy:catalog") or path)
    return program.read_catalog(path)


def _plans(args: argparse.Namespace) -> list[SqlPlan]:
    cell = parse_stack_name(args.stack)
    if cell is None:
        raise _bad_input(
            f"--stack {args.stack!r} is not a cell name <env>-<aws|azure|gcp>-<region>"
        )
    servers = cell_servers(_catalog(args.stack, args.catalog), cell)
    if args.shard is not None:
        if args.shard not in servers:
            known = ", ".join(servers) or "none"
            raise _bad_input(
                f"stack {args.stack} has no server {args.shard!r}; its servers: {known}"
            )
        servers = {args.shard: servers[args.shard]}
    principals = _entra_principals(args.stack_outputs) if args.stack_outputs else {}
    return [
        plan_for_server(
            name,
            iso,
            tenants,
            cell=args.stack,
            entra_object_ids={t.id: principals[t.id] for t in tenants if t.id in principals}
            if iso == "silo"
            else None,
        )
        for name, (iso, tenants) in servers.items()
    ]


def _entra_principals(path: Path) -> dict[str, str]:
    """tenant id -> ``entra_principal_id`` from a ``pulumi stack output --json`` file."""
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _bad_input(
            f"--stack-outputs {path}: cannot read it as JSON ({error});"
            " write it with: pulumi stack output --json > outputs.json"
        ) from None
    tenants = outputs.get("tenants") if isinstance(outputs, dict) else None
    if not isinstance(tenants, dict):
        raise _bad_input(
            f"--stack-outputs {path}: no 'tenants' object at the top level;"
            " write it with: pulumi stack output --json > outputs.json"
        )
    principals: dict[str, str] = {}
    for tenant_id, facts in tenants.items():
        value = facts.get("entra_principal_id") if isinstance(facts, dict) else None
        if value is None:
            continue
        if not isinstance(value, str) or not GUID.match(value):
            raise _bad_input(
                f"--stack-outputs {path}: tenants.{tenant_id}.entra_principal_id is {value!r},"
                " not a GUID: use the file `pulumi stack output --json` writes after `pulumi up`"
            )
        principals[str(tenant_id)] = value
    return principals


def _cmd_plan(args: argparse.Namespace) -> int:
    plans = _plans(args)
    if not plans:
        print(f"-- stack {args.stack} has no database servers")
    print("\n".join(plan.render() for plan in plans), end="")
    return 0


def _print_report(report: ApplyReport) -> None:
    plan = report.plan
    print(f"server {plan.server} ({plan.isolation}), tenants: {', '.join(plan.tenants) or '-'}")
    for statement in report.changed:
        print(f"  changed  [{statement.owner}] {statement.summary}")
    print(f"{len(report.changed)} changed, {report.unchanged} already in place")
    for orphan in report.orphans:
        print(
            f"orphan: {orphan.render()} is no longer in the catalog; kept with its data."
            " Offboard it deliberately (export, then drop by hand) when retention allows."
        )


def _cmd_apply(args: argparse.Namespace) -> int:
    if not args.dsn:
        raise _bad_input("--dsn (or $TENANCY_DSN) is required")
    try:
        target = describe(args.dsn)
    except psycopg.ProgrammingError as error:
        raise _bad_input(f"invalid --dsn: {error}") from error
    plans = _plans(args)
    if len(plans) != 1:
        names = ", ".join(plan.server for plan in plans) or "none"
        raise _bad_input(
            f"--shard is required: a DSN reaches one server, stack {args.stack} has: {names}"
        )
    try:
        report = apply_plan(args.dsn, plans[0], args.connections)
    except psycopg.OperationalError as error:
        raise _bad_input(f"cannot connect to {target}: {str(error).strip()}") from error
    except (ApplyError, psycopg.Error) as error:
        raise _bad_input(f"apply to {target} stopped: {error}") from error
    _print_report(report)
    return 1 if report.orphans and args.fail_on_orphans else 0


def run_db(args: argparse.Namespace) -> int:
    """Entry for ``tenancy db``; returns the exit code."""
    return _cmd_plan(args) if args.db_command == "plan" else _cmd_apply(args)
