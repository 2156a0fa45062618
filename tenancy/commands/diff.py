"""``tenancy diff`` (two plans -> change report) and ``tenancy stacks`` (the CI matrix).

Registered in ``tenancy/commands/__init__.py``.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
from pathlib import Path
from typing import Any

from components.model.errors import InputError, Issue
from components.model.stack import REGION_KEY
from tenancy.errors import EXIT_FINDINGS, EXIT_OK
from tenancy.files import write_output

WAVES_FILE = Path(__file__).resolve().parents[2] / ".github" / "deploy-waves.yaml"


def cmd_diff(args: argparse.Namespace) -> int:
    from tenancy.cost import load_prices
    from tenancy.diff import diff_plans, load_plan, render
    from tenancy.diff.cost import cost_delta, cost_lines

    base, head = load_plan(args.base), load_plan(args.head)
    if base["stack"] != head["stack"]:
        raise InputError(
            [
                Issue(
                    args.head,
                    "stack",
                    f"the plans are of different stacks: {base['stack']!r} and {head['stack']!r}",
                    "diff two plans of the same stack (base branch and head branch)",
                )
            ]
        )
    diff = diff_plans(base, head)
    changed = diff.touched_tenants() | {c.tenant for c in diff.tenant_changes}
    delta = cost_delta(base, head, load_prices(), changed)
    cost = cost_lines(delta)
    limit = args.limit if args.limit > 0 else None
    write_output(args.markdown, render(diff, limit=limit, cost=cost))
    write_output(args.summary, render(diff, limit=None, cost=cost))
    write_output(
        args.json, json.dumps({**diff.to_json(), "cost": delta.to_json()}, indent=2) + "\n"
    )
    print(render(diff).splitlines()[0])
    if diff.changed:
        print(cost[0])
    return EXIT_FINDINGS if diff.dangerous else EXIT_OK


# --- stacks and waves ----------------------------------------------------------------


def stack_rows() -> list[dict[str, str]]:
    from tenancy.stackfiles import known_stacks, read_stack_config

    rows = []
    for stack in known_stacks():
        config = read_stack_config(stack)
        env, cloud = (stack.split("-") + ["", ""])[:2]
        rows.append(
            {
                "stack": stack,
                "environment": str(config.get("tenancy:environment", env)),
                "cloud": str(config.get("tenancy:cloud", cloud)),
                "region": str(next((config[k] for k in REGION_KEY.values() if config.get(k)), "")),
            }
        )
    return rows


def read_waves(path: Path, stacks: list[str]) -> list[dict[str, Any]]:
    """The waves file with its patterns resolved; every stack in exactly one wave."""
    import yaml

    file = str(path)
    hint = "see .github/deploy-waves.yaml: waves: [{name, environment, stacks: [name or glob]}]"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise InputError([Issue(file, "", f"cannot read the waves file: {error}", hint)]) from None
    waves = data.get("waves") if isinstance(data, dict) else None
    if not isinstance(waves, list) or not waves:
        raise InputError([Issue(file, "waves", "a non-empty list of waves is required", hint)])
    issues: list[Issue] = []
    resolved: list[dict[str, Any]] = []
    owner: dict[str, str] = {}
    for index, wave in enumerate(waves):
        where = f"waves[{index}]"
        if not isinstance(wave, dict) or not isinstance(wave.get("name"), str):
            issues.append(Issue(file, where, "each wave needs a name", hint))
            continue
        patterns = wave.get("stacks")
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            issues.append(Issue(file, f"{where}.stacks", "a list of stack names or globs", hint))
            continue
        members: list[str] = []
        for position, pattern in enumerate(patterns):
            matched = fnmatch.filter(stacks, pattern)
            if not matched:
                issues.append(
                    Issue(
                        file,
                        f"{where}.stacks[{position}]",
                        f"{pattern!r} matches no stack in stacks/",
                        hint,
                    )
                )
            for stack in matched:
                if stack in owner and owner[stack] != wave["name"]:
                    issues.append(
                        Issue(
                            file,
                            f"{where}.stacks[{position}]",
                            f"{stack} is already in wave {owner[stack]!r}",
                            hint,
                        )
                    )
                owner.setdefault(stack, wave["name"])
                if stack not in members:
                    members.append(stack)
        resolved.append(
            {"name": wave["name"], "environment": wave.get("environment", ""), "stacks": members}
        )
    for stack in stacks:
        if stack not in owner:
            issues.append(
                Issue(
                    file,
                    "waves",
                    f"stack {stack} is in no wave",
                    f"add it (or a glob) to a wave; {hint}",
                )
            )
    if issues:
        raise InputError(issues)
    return resolved


def cmd_stacks(args: argparse.Namespace) -> int:
    rows = stack_rows()
    if args.wave:
        waves = read_waves(Path(args.waves), [row["stack"] for row in rows])
        chosen = [wave for wave in waves if wave["name"] == args.wave]
        if not chosen:
            names = ", ".join(wave["name"] for wave in waves)
            raise InputError(
                [Issue(args.waves, "waves", f"no wave named {args.wave!r}", f"use one of: {names}")]
            )
        rows = [row for row in rows if row["stack"] in chosen[0]["stacks"]]
    elif args.check_waves:
        read_waves(Path(args.waves), [row["stack"] for row in rows])
    if args.json:
        # The shape GitHub's strategy.matrix takes: {"include": [{"stack": ..., ...}]}
        print(json.dumps({"include": rows}, separators=(",", ":")))
    else:
        for row in rows:
            print(f"{row['stack']}\t{row['environment']}\t{row['cloud']}")
    return EXIT_OK


def register(commands: Any) -> None:
    diff = commands.add_parser(
        "diff",
        help="tenant-level change report of two plans, with danger flags",
        description="Compare two `tenancy plan --json` files of one stack. Exit 0 safe, "
        "1 when a danger flag fires, 2 on bad input.",
    )
    diff.add_argument("base", help="plan JSON of the base (e.g. main)")
    diff.add_argument("head", help="plan JSON of the change")
    diff.add_argument("--markdown", help="write the PR comment here (at most --limit characters)")
    diff.add_argument("--summary", help="write the full report here (for the job summary)")
    diff.add_argument("--json", help="write the machine-readable diff here")
    diff.add_argument("--limit", type=int, default=60_000, help="comment size limit (0: none)")
    diff.set_defaults(handler=cmd_diff)

    stacks = commands.add_parser(
        "stacks", help="the stacks in stacks/ (the CI matrix), per deploy wave"
    )
    stacks.add_argument(
        "--json", action="store_true", help="print a GitHub matrix: {include: [...]}"
    )
    stacks.add_argument(
        "--waves", default=str(WAVES_FILE), help="waves file (default .github/deploy-waves.yaml)"
    )
    stacks.add_argument("--wave", help="only the stacks of this wave")
    stacks.add_argument(
        "--check-waves",
        action="store_true",
        help="fail (2) unless every stack is in exactly one wave",
    )
    stacks.set_defaults(handler=cmd_stacks)


__all__ = ["read_waves", "register", "stack_rows"]
