"""Offline policy evaluation throughput on a generated plan (target: >= 50,000 resources/s).

The plan repeats the resources of the real example plans (every cloud and
Kubernetes) with fresh URNs until it holds --resources entries, so the rule mix is
what real stacks produce. Prints resources/s for the whole evaluation (resource
and stack rules, waivers), then the time to build the compliance report (every
control in scope of every framework) from that evaluation.

    .venv/bin/python benchmarks/bench_policies.py [--resources 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from policies.offline import evaluate
from policies.report import compliance_report
from policies.scope import SCOPE
from tenancy.plan import plan_stack
from tenancy.stackfiles import known_stacks


def generated_plan(size: int) -> dict[str, Any]:
    templates = [plan_stack(stack) for stack in known_stacks()]
    resources: list[dict[str, Any]] = []
    tenants: list[dict[str, Any]] = []
    copy_index = 0
    while len(resources) < size:
        for template in templates:
            suffix = f"-c{copy_index}"
            renamed = {r["urn"]: r["urn"] + suffix for r in template["resources"]}
            for resource in template["resources"]:
                clone = json.loads(json.dumps(resource))
                clone["urn"] = renamed[resource["urn"]]
                clone["dependencies"] = [renamed.get(d, d) for d in resource["dependencies"]]
                resources.append(clone)
            tenants += template["tenants"] if copy_index == 0 else []
            copy_index += 1
    return {"stack": "bench-aws-eu-central-1", "resources": resources[:size], "tenants": tenants}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"generating a plan of {args.resources} resources ...", file=sys.stderr)
    plan = generated_plan(args.resources)
    best = float("inf")
    for _ in range(args.repeat):
        started = time.perf_counter()
        evaluation = evaluate(plan, waivers=[])
        best = min(best, time.perf_counter() - started)
    rate = len(plan["resources"]) / best
    print(
        f"{len(plan['resources'])} resources, {len(evaluation.results)} rule results "
        f"in {best:.3f}s: {rate:,.0f} resources/s"
    )
    frameworks = {"bench-tenant": sorted(SCOPE)}
    started = time.perf_counter()
    report = compliance_report(evaluation, plan, frameworks)
    controls = sum(len(fw["controls"]) for fw in report["frameworks"])
    print(
        f"compliance report: {controls} controls in scope over "
        f"{len(evaluation.results)} results in {time.perf_counter() - started:.3f}s"
    )
    return 0 if rate >= 50_000 else 1


if __name__ == "__main__":
    sys.exit(main())
