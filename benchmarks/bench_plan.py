"""`make bench`: plan generated catalogs of 100 and 1,000 mixed tenants in one AWS cell.

For each size it prints wall seconds (best of several runs), resources, ms per
resource and peak RSS, then the same for a bare loop of raw pulumi-aws resources
(``benchmarks/bare_loop.py``) registering the same number of cloud resources
under the same capturing mock engine. Each case runs in a fresh subprocess so
its peak RSS is its own. The target: tenancy <= 1.2x the bare loop per resource.

    python benchmarks/bench_plan.py [--sizes 100 1000] [--runs 3]
    python benchmarks/bench_plan.py --profile 1000     # cProfile of one tenancy plan
    python benchmarks/bench_plan.py --stacks           # the six example stacks, per resource

Times are wall seconds and process CPU seconds (best of the runs); on a machine shared
with other jobs the CPU figure is the steadier one.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STACK = "dev-aws-eu-central-1"
TARGET_RATIO = 1.2
# Tenant mix: (tier, share of tenants). Silo tenants own servers, so they dominate resources.
MIX = (("enterprise", 3), ("standard", 3), ("free", 4))


def generate_catalog(n_tenants: int) -> dict[str, Any]:
    """A valid catalog of n mixed tenants, all in the benchmark's cell.

    Shard counts grow with the catalog (about 100 pool / 40 bridge tenants per shard);
    capacity is generous so rendezvous hashing's uneven spread never overflows.
    """
    tiers = {
        "free": {
            "isolation": "pool",
            "shards": max(1, n_tenants // 250),
            "tenants_per_shard": 10_000,
            "database": {"min_capacity": 0.5, "max_capacity": 8, "backup_retention_days": 7},
            "app": {"min_replicas": 2, "max_replicas": 10},
        },
        "standard": {
            "isolation": "bridge",
            "shards": max(1, n_tenants // 130),
            "tenants_per_shard": 10_000,
            "database": {
                "min_capacity": 1,
                "max_capacity": 16,
                "backup_retention_days": 14,
                "high_availability": True,
            },
        },
        "enterprise": {
            "isolation": "silo",
            "database": {
                "min_capacity": 2,
                "max_capacity": 64,
                "backup_retention_days": 35,
                "high_availability": True,
            },
        },
    }
    cycle = [tier for tier, weight in MIX for _ in range(weight)]
    frameworks: tuple[list[str], ...] = (["gdpr"], ["gdpr", "soc2"], ["gdpr", "hipaa"], [], ["pci"])
    tenants = [
        {
            "id": f"tenant{index:05d}",
            "name": f"Tenant {index}",
            "tier": cycle[index % len(cycle)],
            "cloud": "aws",
            "region": "eu-central-1",
            "residency": "eu",
            "compliance": frameworks[index % len(frameworks)],
        }
        for index in range(n_tenants)
    ]
    return {
        "version": 1,
        "residency_zones": {"eu": {"aws": ["eu-central-1", "eu-west-1"]}},
        "tiers": tiers,
        "tenants": tenants,
    }


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _best_of(runs: int, work: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def _best_cpu_of(runs: int, work: Any) -> tuple[float, float, Any]:
    """Best wall and best CPU seconds of ``runs`` calls, and the last result."""
    wall = cpu = float("inf")
    result = None
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = work()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu, result


def case_tenancy(n_tenants: int, runs: int) -> dict[str, Any]:
    from tenancy.plan import plan_stack

    with tempfile.TemporaryDirectory() as tmp:
        catalog = Path(tmp) / "tenants.yaml"
        catalog.write_text(yaml.safe_dump(generate_catalog(n_tenants)), encoding="utf-8")
        seconds, cpu, plan = _best_cpu_of(runs, lambda: plan_stack(STACK, catalog=str(catalog)))
    custom = sum(1 for r in plan["resources"] if r["custom"])
    return {
        "case": f"tenancy {n_tenants} tenants",
        "seconds": seconds,
        "cpu_seconds": cpu,
        "resources": custom,
        "registrations": len(plan["resources"]),
        "peak_rss_mib": _peak_rss_mib(),
    }


def case_bare(n_resources: int, runs: int) -> dict[str, Any]:
    from benchmarks.bare_loop import bare_loop_program
    from tenancy.engine import capture

    config = {"aws:region": "eu-central-1"}
    seconds, cpu, captured = _best_cpu_of(
        runs,
        lambda: capture(
            bare_loop_program(n_resources), project="bench", stack="bare", config=config
        ),
    )
    custom = sum(1 for r in captured.resources if r.custom)
    return {
        "case": f"bare loop {n_resources} resources",
        "seconds": seconds,
        "cpu_seconds": cpu,
        "resources": custom,
        "registrations": len(captured.resources),
        "peak_rss_mib": _peak_rss_mib(),
    }


def _in_subprocess(kind: str, size: int, runs: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--case", kind, str(size), "--runs", str(runs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"benchmark case {kind} {size} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _row(result: dict[str, Any]) -> str:
    per = result["seconds"] * 1000 / result["resources"]
    per_cpu = result["cpu_seconds"] * 1000 / result["resources"]
    return (
        f"  {result['case']:<32} {result['seconds']:>7.2f} s  {result['resources']:>6} resources "
        f"({result['registrations']} registrations)  {per:>6.3f} ms/resource "
        f"(CPU {per_cpu:.3f})  peak RSS {result['peak_rss_mib']:>5.0f} MiB"
    )


STACKS = (
    "dev-aws-eu-central-1",
    "prod-aws-eu-central-1",
    "dev-azure-westeurope",
    "prod-azure-westeurope",
    "dev-gcp-us-central1",
    "prod-gcp-us-central1",
)


def case_stacks(runs: int) -> list[dict[str, Any]]:
    """The six example stacks in one process, as ``tenancy plan --all`` plans them."""
    from tenancy.plan import plan_stack

    for stack in STACKS:  # warm: every cloud's SDK imported, as in plan --all
        plan_stack(stack)
    rows = []
    for stack in STACKS:
        seconds, cpu, plan = _best_cpu_of(runs, lambda stack=stack: plan_stack(stack))
        rows.append(
            {
                "case": stack,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "resources": sum(1 for r in plan["resources"] if r["custom"]),
                "registrations": len(plan["resources"]),
                "peak_rss_mib": _peak_rss_mib(),
            }
        )
    return rows


def stacks(runs: int) -> int:
    print(f"example stacks: best of {runs} runs each, one process (like tenancy plan --all)")
    for row in case_stacks(runs):
        print(_row(row))
    return 0


def main(sizes: list[int], runs: int) -> int:
    print(f"tenancy plan benchmark: stack {STACK}, best of {runs} runs, one process per case")
    worst = 0.0
    for size in sizes:
        ours = _in_subprocess("tenancy", size, runs)
        bare = _in_subprocess("bare", ours["resources"], runs)
        ratio = (ours["seconds"] / ours["resources"]) / (bare["seconds"] / bare["resources"])
        worst = max(worst, ratio)
        print(_row(ours))
        print(_row(bare))
        verdict = "ok" if ratio <= TARGET_RATIO else f"ABOVE the {TARGET_RATIO}x target"
        print(f"  per-resource ratio tenancy / bare loop: {ratio:.2f}x ({verdict})")
        # Components are registrations too: this separates their count from per-call cost.
        per_registration = (ours["seconds"] / ours["registrations"]) / (
            bare["seconds"] / bare["registrations"]
        )
        print(f"  per-registration ratio (components included): {per_registration:.2f}x")
    print(f"worst per-resource ratio: {worst:.2f}x (target <= {TARGET_RATIO}x)")
    # Informational: exit 0 so `make bench` goes on to the other benchmarks.
    return 0


def profile(size: int) -> None:
    import cProfile
    import pstats

    from tenancy.plan import plan_stack

    with tempfile.TemporaryDirectory() as tmp:
        catalog = Path(tmp) / "tenants.yaml"
        catalog.write_text(yaml.safe_dump(generate_catalog(size)), encoding="utf-8")
        plan_stack(STACK, catalog=str(catalog))  # warm imports
        profiler = cProfile.Profile()
        profiler.enable()
        plan_stack(STACK, catalog=str(catalog))
        profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--case", nargs=2, metavar=("KIND", "SIZE"))
    parser.add_argument("--profile", type=int, metavar="TENANTS")
    parser.add_argument("--stacks", action="store_true", help="time the six example stacks")
    args = parser.parse_args()
    if args.case:
        kind, size = args.case[0], int(args.case[1])
        run = case_tenancy if kind == "tenancy" else case_bare
        print(json.dumps(run(size, args.runs)))
    elif args.profile:
        profile(args.profile)
    elif args.stacks:
        sys.exit(stacks(args.runs))
    else:
        sys.exit(main(args.sizes, args.runs))
