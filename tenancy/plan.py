"""``tenancy plan``: the real program under the capturing engine -> plan JSON + summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from components.model.cell import PlacedTenant
from components.model.errors import InputError
from components.model.moves import dsn_hint, home, move_command
from infra import program
from tenancy import engine
from tenancy.stackfiles import engine_config, read_stack_file, with_stack_lines

PROJECT = "tenancy"
Evaluator = Callable[[dict[str, Any]], list[dict[str, Any]]]


def _tenant_row(placed: PlacedTenant, stack: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": placed.id,
        "tier": placed.tier_name,
        "isolation": placed.isolation,
        "shard": placed.shard,
        # Beyond the DESIGN contract: what `tenancy diff` reports as status changes.
        "status": placed.tenant.status,
        "compliance": sorted(placed.tenant.compliance),
    }
    old = placed.old_home
    if old is not None:  # only then: plans of tenants at rest stay as they were
        row["moving_from"] = {"tier": old.tier_name, "isolation": old.isolation, "shard": old.shard}
        row["move_command"] = move_command(placed.id, stack)
    return row


def _tenant_rows(stack: str, config: dict[str, Any]) -> list[dict[str, Any]]:
    _settings, _catalog, blueprint = program.resolve(stack, config, project=PROJECT)
    return [_tenant_row(placed, stack) for placed in blueprint.tenants]


def plan_stack(
    stack: str,
    catalog: str | None = None,
    evaluate: Evaluator | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Plan one stack. Raises InputError (exit 2) before registering anything on bad input."""
    config, lines = read_stack_file(stack)
    if catalog is not None:
        config["tenancy:catalog"] = str(Path(catalog).resolve())
    # Validate outside the engine first: clean errors, and nothing registered on failure.
    try:
        tenants = _tenant_rows(stack, config)
    except InputError as error:
        raise with_stack_lines(error, stack, lines) from None
    captured = engine.capture(
        program.run, project=PROJECT, stack=stack, config=engine_config(config), progress=progress
    )
    plan: dict[str, Any] = {
        "stack": stack,
        "project": PROJECT,
        "resources": [resource.to_json() for resource in captured.resources],
        "tenants": tenants,
        "outputs": captured.outputs,
        "violations": [],
    }
    if evaluate is not None:
        plan["violations"] = evaluate(plan)
    return plan


def has_mandatory_violations(plan: dict[str, Any]) -> bool:
    return any(
        v.get("enforcement") == "mandatory" and not v.get("waived") for v in plan["violations"]
    )


def markdown_summary(plan: dict[str, Any]) -> str:
    """A readable page: tenants per tier and shard, resources per type, violations."""
    lines = [f"# Plan: `{plan['stack']}`", ""]
    lines += ["## Tenants", "", "| tier | isolation | shard | tenants |", "|---|---|---|---|"]
    groups: dict[tuple[str, str, str], list[str]] = {}
    for row in plan["tenants"]:
        groups.setdefault(
            (row["tier"], row["isolation"], row["shard"] or "(own server)"), []
        ).append(row["id"])
    for (tier, isolation, shard), ids in sorted(groups.items()):
        lines.append(f"| {tier} | {isolation} | {shard} | {', '.join(ids)} |")
    lines += _moving_section(plan["tenants"])
    counts = Counter(r["type"] for r in plan["resources"] if r["custom"])
    lines += [
        "",
        f"## Resources ({sum(counts.values())} cloud resources)",
        "",
        "| type | count |",
        "|---|---|",
    ]
    lines += [f"| `{kind}` | {count} |" for kind, count in sorted(counts.items())]
    hpa_alerts = plan.get("outputs", {}).get("hpa_alerts")
    if hpa_alerts:
        lines += ["", "## Autoscaler alerts", "", str(hpa_alerts)]
    lines += ["", f"## Policy violations ({len(plan['violations'])})", ""]
    if not plan["violations"]:
        lines.append("None.")
    for violation in plan["violations"]:
        waived = " (waived)" if violation.get("waived") else ""
        lines.append(
            f"- **{violation['enforcement']}**{waived} `{violation['policy']}` on `{violation['urn']}`: {violation['message']}"
        )
    return "\n".join(lines) + "\n"


def _moving_section(rows: list[dict[str, Any]]) -> list[str]:
    """Tenants in motion: from where, to where, and the command that finishes the move."""
    moving = [row for row in rows if row.get("moving_from")]
    if not moving:
        return []
    lines = ["", f"## Tenants in motion ({len(moving)})", ""]
    for row in moving:
        old = row["moving_from"]
        source = home(row["id"], old["isolation"], old["shard"])
        target = home(row["id"], row["isolation"], row["shard"])
        lines += [
            f"- `{row['id']}`: {_where(old)} → {_where(row)}. Its data stays on the "
            f"{source.describe()} (kept by every deploy) until the move is verified; "
            "finish it with:",
            "",
            "  ```bash",
            f"  {row['move_command']}",
            "  ```",
            "",
            f"  {dsn_hint(source, target)}. After it exits 0, remove `moving_from` from the "
            "catalog: the next deploy deletes the old home.",
        ]
    return lines


def _where(row: dict[str, Any]) -> str:
    shard = f" on {row['shard']}" if row.get("shard") else ""
    return f"{row['tier']} ({row['isolation']}{shard})"


def text_summary(plan: dict[str, Any], seconds: float) -> str:
    resources = [r for r in plan["resources"] if r["custom"]]
    mandatory = sum(
        1 for v in plan["violations"] if v.get("enforcement") == "mandatory" and not v.get("waived")
    )
    tiers = Counter(row["tier"] for row in plan["tenants"])
    tier_text = (
        ", ".join(f"{tier} {count}" for tier, count in sorted(tiers.items())) or "no tenants"
    )
    return (
        f"{plan['stack']:<28} tenants: {len(plan['tenants']):>3} ({tier_text})  "
        f"resources: {len(resources):>4}  violations: {len(plan['violations'])} ({mandatory} mandatory)  {seconds:.2f}s"
    )


__all__ = [
    "InputError",
    "has_mandatory_violations",
    "markdown_summary",
    "plan_stack",
    "text_summary",
]
