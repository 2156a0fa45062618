"""The ``tenancy`` command line. Every command exits 0 ok, 1 findings, 2 bad input.

Unexpected internal errors exit 3 with a one-line message (set TENANCY_DEBUG=1
for the traceback); users never see a traceback for their own mistakes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from components.model.errors import InputError
from infra.files import write_output

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


class UsageError(Exception):
    """Wrong combination of arguments; argparse reports it with the usage line (exit 2)."""


def _progress(stack: str):  # type: ignore[no-untyped-def]
    def report(count: int) -> None:
        if count % 1000 == 0:
            print(f"  {stack}: {count} resources registered...", file=sys.stderr, flush=True)

    return report


def _plan_one(
    stack: str, args: argparse.Namespace, json_path: str | None, md_path: str | None
) -> dict[str, Any]:
    from infra.plan import markdown_summary, plan_stack, text_summary

    print(f"planning {stack} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    plan = plan_stack(stack, catalog=args.catalog, evaluate=_evaluator(), progress=_progress(stack))
    write_output(json_path, json.dumps(plan, indent=2, sort_keys=False) + "\n")
    write_output(md_path, markdown_summary(plan))
    print(text_summary(plan, time.perf_counter() - started))
    return plan


def _evaluator():  # type: ignore[no-untyped-def]
    """The policy pack's offline evaluator, when the pack is installed."""
    try:
        from policies.offline import evaluate_plan
    except ImportError:
        return None
    return evaluate_plan


def cmd_plan(args: argparse.Namespace) -> int:
    from infra.plan import has_mandatory_violations
    from infra.stackfiles import known_stacks

    if args.all == bool(args.stack):
        raise UsageError("give exactly one of STACK or --all")
    stacks = known_stacks() if args.all else [args.stack]
    findings = False
    for stack in stacks:
        json_path, md_path = args.json, args.markdown
        if args.all:  # with --all, --json/--markdown name directories
            json_path = json_path and str(Path(json_path) / f"{stack}.json")
            md_path = md_path and str(Path(md_path) / f"{stack}.md")
        findings |= has_mandatory_violations(_plan_one(stack, args, json_path, md_path))
    return EXIT_FINDINGS if findings else EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from components.model.schema import catalog_json_schema_text

    text = catalog_json_schema_text()
    if args.output:
        write_output(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tenancy", description="Multi-tenant data tier: plan, check and operate."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="offline plan of a stack (or --all)")
    plan.add_argument("stack", nargs="?", help="stack name, e.g. dev-aws-eu-central-1")
    plan.add_argument("--all", action="store_true", help="plan every stack in stacks/")
    plan.add_argument("--catalog", help="catalog file instead of the stack's tenancy:catalog")
    plan.add_argument("--json", help="write the plan JSON here (a directory with --all)")
    plan.add_argument("--markdown", help="write the markdown summary here (a directory with --all)")
    plan.set_defaults(handler=cmd_plan)
    schema = commands.add_parser("schema", help="JSON Schema of the tenant catalog")
    schema.add_argument("--output", "-o", help="write to this file instead of stdout")
    schema.set_defaults(handler=cmd_schema)
    _add_optional_commands(commands)
    return parser


def _add_optional_commands(commands: Any) -> None:
    """Commands whose modules live beside this one; each adds its own sub-parser."""
    import importlib

    for module_name, register in (
        ("infra.dbcommands", "add_db_parser"),  # tenancy db plan|apply
        ("infra.checkcommands", "add_check_parsers"),  # tenancy check, tenancy compliance
        ("infra.diffcommand", "add_diff_parser"),  # tenancy diff
    ):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:  # a broken import inside the module must surface
                raise
            continue
        getattr(module, register)(commands)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except InputError as error:
        for issue in error.issues:
            print(f"error: {issue.render()}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except UsageError as error:
        parser.error(str(error))  # exits 2 with usage
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - the last line of defence against tracebacks
        if os.environ.get("TENANCY_DEBUG"):
            raise
        print(
            f"internal error: {type(error).__name__}: {error} (set TENANCY_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
