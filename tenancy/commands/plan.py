"""``tenancy plan`` (the offline plan of a stack, or --all) and ``tenancy schema``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from tenancy.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from tenancy.files import write_output


def _progress(stack: str):  # type: ignore[no-untyped-def]
    def report(count: int) -> None:
        if count % 1000 == 0:
            print(f"  {stack}: {count} resources registered...", file=sys.stderr, flush=True)

    return report


def _plan_one(
    stack: str, args: argparse.Namespace, json_path: str | None, md_path: str | None
) -> dict[str, Any]:
    from policies.offline import evaluate_plan
    from tenancy.plan import markdown_summary, plan_stack, text_summary

    print(f"planning {stack} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    plan = plan_stack(
        stack, catalog=args.catalog, evaluate=evaluate_plan, progress=_progress(stack)
    )
    write_output(json_path, json.dumps(plan, indent=2, sort_keys=False) + "\n")
    write_output(md_path, markdown_summary(plan))
    print(text_summary(plan, time.perf_counter() - started))
    return plan


def cmd_plan(args: argparse.Namespace) -> int:
    from tenancy.plan import has_mandatory_violations
    from tenancy.stackfiles import known_stacks

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


def register(commands: Any) -> None:
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
