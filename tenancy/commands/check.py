"""``tenancy check PLAN.json`` and ``tenancy compliance STACK``: the policy pack, offline.

Both exit 0 when no mandatory finding is left unwaived, 1 when one is, and 2 when
the input is bad (a malformed plan, an unreadable waivers file, an unknown stack).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from components.model.errors import InputError, Issue
from policies.framework import Outcome
from policies.offline import Evaluation, PlanError, evaluate
from policies.report import (
    NOT_COVERED,
    compliance_markdown,
    compliance_report,
    findings_text,
)
from policies.sarif import resource_tenants, sarif_log
from policies.waivers import WaiverFileError
from tenancy.errors import EXIT_FINDINGS, EXIT_OK
from tenancy.files import read_json, write_output


def _emit(text: str, output: str | None) -> None:
    if output:
        write_output(output, text)
    else:
        sys.stdout.write(text)


def _exit_code(evaluation: Evaluation) -> int:
    blocking = any(
        v["enforcement"] == "mandatory" and not v["waived"] for v in evaluation.violations()
    )
    return EXIT_FINDINGS if blocking else EXIT_OK


def _evaluate(plan: Any, source: str, waivers: str | None) -> Evaluation:
    try:
        return evaluate(plan, waivers_file=Path(waivers) if waivers else None)
    except PlanError as error:
        raise InputError(
            [
                Issue(source, problem.split(":", 1)[0], problem.split(": ", 1)[-1], _PLAN_HINT)
                for problem in error.problems
            ]
        ) from None
    except WaiverFileError as error:
        raise InputError(
            [Issue(waivers or "stacks/waivers.yaml", "", str(error), _WAIVER_HINT)]
        ) from None


_PLAN_HINT = "regenerate the plan with `tenancy plan STACK --json FILE`"
_WAIVER_HINT = "see the header of policies/waivers.py for the file's shape"


def read_plan(path: str) -> Any:
    return read_json(path, _PLAN_HINT)


def cmd_check(args: argparse.Namespace) -> int:
    plan = read_plan(args.plan)
    evaluation = _evaluate(plan, args.plan, args.waivers)
    if args.format == "json":
        violations = evaluation.violations()
        text = json.dumps(
            {
                "stack": evaluation.stack,
                "violations": violations,
                "summary": {
                    "checks": len(evaluation.results),
                    "passed": sum(1 for r in evaluation.results if r.outcome is Outcome.PASS),
                    "mandatory": sum(
                        1 for v in violations if v["enforcement"] == "mandatory" and not v["waived"]
                    ),
                    "advisory": sum(
                        1 for v in violations if v["enforcement"] == "advisory" and not v["waived"]
                    ),
                    "waived": sum(1 for v in violations if v["waived"]),
                },
            },
            indent=2,
        )
        _emit(text + "\n", args.output)
    elif args.format == "sarif":
        from tenancy.sarifsources import stack_sources

        sources = stack_sources(evaluation.stack, catalog=args.catalog, fallback=args.plan)
        log = sarif_log(evaluation, sources, resource_tenants(plan))
        _emit(json.dumps(log, indent=2) + "\n", args.output)
    else:
        _emit(findings_text(evaluation), args.output)
    return _exit_code(evaluation)


def tenant_frameworks(stack: str, catalog: str | None) -> dict[str, list[str]]:
    from infra import program
    from tenancy.stackfiles import read_stack_config

    config = read_stack_config(stack)
    if catalog is not None:
        config["tenancy:catalog"] = str(Path(catalog).resolve())
    _settings, _catalog, blueprint = program.resolve(stack, config, project="tenancy")
    return {placed.id: sorted(placed.tenant.compliance) for placed in blueprint.tenants}


def sarif_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The run's ``compliance`` property: per framework its headline and every control in
    scope with its status, and for each not-covered control why and what would cover it."""
    return {
        fw["framework"]: {
            "status": fw["status"],
            "headline": fw["headline"],
            "controls": {c["control"]: c["status"] for c in fw["controls"]},
            "notCovered": [
                {"control": c["control"], "reason": c["reason"], "toCover": c["to_cover"]}
                for c in fw["controls"]
                if c["status"] == NOT_COVERED
            ],
        }
        for fw in report["frameworks"]
    }


def stack_compliance(
    stack: str, catalog: str | None = None, waivers: str | None = None
) -> tuple[Evaluation, dict[str, Any]]:
    """Plan a stack offline, run the pack, and build its compliance report."""
    _plan, evaluation, report = _planned_compliance(stack, catalog, waivers)
    return evaluation, report


def _planned_compliance(
    stack: str, catalog: str | None, waivers: str | None
) -> tuple[dict[str, Any], Evaluation, dict[str, Any]]:
    from tenancy.plan import plan_stack

    print(f"planning {stack} ...", file=sys.stderr, flush=True)
    plan = plan_stack(stack, catalog=catalog)
    evaluation = _evaluate(plan, stack, waivers)
    report = compliance_report(evaluation, plan, tenant_frameworks(stack, catalog))
    return plan, evaluation, report


def cmd_compliance(args: argparse.Namespace) -> int:
    # SARIF places each finding at its tenant's catalog entry: it needs the plan itself.
    plan, evaluation, report = _planned_compliance(args.stack, args.catalog, args.waivers)
    if args.format == "json":
        _emit(json.dumps(report, indent=2) + "\n", args.output)
    elif args.format == "sarif":
        from tenancy.sarifsources import stack_sources

        sources = stack_sources(args.stack, catalog=args.catalog)
        summary = {"compliance": sarif_summary(report)}
        log = sarif_log(evaluation, sources, resource_tenants(plan), summary)
        _emit(json.dumps(log, indent=2) + "\n", args.output)
    else:
        _emit(compliance_markdown(report), args.output)
    return _exit_code(evaluation)


def register(commands: Any) -> None:
    check = commands.add_parser(
        "check", help="run the policy pack over a saved plan file (exit 1 on mandatory findings)"
    )
    check.add_argument("plan", metavar="PLAN.json", help="a plan written by tenancy plan --json")
    check.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    check.add_argument("--output", "-o", help="write the report here instead of stdout")
    check.add_argument("--waivers", help="waivers file (default: stacks/waivers.yaml)")
    check.add_argument("--catalog", help="catalog the plan was made from, for SARIF's tenant lines")
    check.set_defaults(handler=cmd_check)
    compliance = commands.add_parser(
        "compliance", help="evidence report: framework -> control -> rule -> resources"
    )
    compliance.add_argument("stack", help="stack name, e.g. prod-aws-eu-central-1")
    compliance.add_argument("--format", choices=("markdown", "json", "sarif"), default="markdown")
    compliance.add_argument("--output", "-o", help="write the report here instead of stdout")
    compliance.add_argument("--catalog", help="catalog file instead of the stack's tenancy:catalog")
    compliance.add_argument("--waivers", help="waivers file (default: stacks/waivers.yaml)")
    compliance.set_defaults(handler=cmd_compliance)
