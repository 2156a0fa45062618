"""`make bench`: what `tenancy cost` adds to the plan on the 1,000-tenant generated catalog.

Plans the generated catalog (benchmarks/bench_plan.py's generator, one AWS cell), then
prices the plan; prints both times (best of several runs) and the cost/plan ratio. The
target: pricing adds at most 10 % to the plan time. Figures, never assertions.

    python benchmarks/bench_cost.py [--tenants 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_plan import STACK, generate_catalog  # noqa: E402

TARGET = 0.10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from components.model.cost import cost_of_plan
    from tenancy.cost import load_prices
    from tenancy.plan import plan_stack

    with tempfile.TemporaryDirectory() as tmp:
        catalog = Path(tmp) / "tenants.yaml"
        catalog.write_text(yaml.safe_dump(generate_catalog(args.tenants)), encoding="utf-8")
        plan_times, cost_times = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            plan = plan_stack(STACK, catalog=str(catalog))
            plan_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            report = cost_of_plan(plan, load_prices())
            cost_times.append(time.perf_counter() - started)
    plan_s, cost_s = min(plan_times), min(cost_times)
    ratio = cost_s / plan_s
    print(
        f"tenancy cost, {args.tenants} tenants, {len(plan['resources'])} resources, "
        f"{len(report.servers)} servers: plan {plan_s:.2f} s, cost {cost_s * 1000:.0f} ms "
        f"(+{ratio:.1%} of the plan; target <= {TARGET:.0%}: {'met' if ratio <= TARGET else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
