"""A PlanDiff as markdown: a PR comment that fits GitHub's limit, or the full job summary.

The comment opens with a one-line verdict and a mermaid diagram (cell -> tier -> shard
-> tenants, changed tenants highlighted), then every danger flag (never cut), then as
many warnings, tenant changes and resource changes as fit in ``limit`` characters.
What does not fit is counted and left to the job summary (``limit=None``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tenancy.diff.compute import ACTIONS, FLAG_KINDS, Flag, Owner, PlanDiff, ResourceChange

COMMENT_LIMIT = 60_000  # GitHub rejects comments over 65,536 characters; keep a margin
APPROVAL_LABEL = "tenancy/approve-danger"
DIAGRAM_ALL_TENANTS_UP_TO = 30  # beyond this, unchanged tenants collapse into one node per group
DIAGRAM_CHANGED_NODES = 40
_SYMBOL = {"create": "+", "update": "~", "replace": "±", "delete": "-"}


def marker(stack: str) -> str:
    """The hidden marker a workflow uses to find and update its one comment per stack."""
    return f"<!-- tenancy:{stack} -->"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def verdict(diff: PlanDiff) -> str:
    if not diff.changed:
        return f"✅ **`{diff.stack}`: no changes.**"
    counts = diff.action_counts()
    kinds = Counter(kind for change in diff.tenant_changes for kind in change.kinds)
    tenants = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    tenant_text = (
        f"{_plural(len(diff.tenant_changes), 'tenant')} changed ({tenants})"
        if tenants
        else "no tenant-level change"
    )
    resources = ", ".join(f"{counts.get(a, 0)} to {a}" for a in ACTIONS)
    if diff.dangerous:
        head = (
            f"⛔ **`{diff.stack}`: {_plural(len(diff.flags), 'danger flag')}** — review them; "
            f"deploying needs the `{APPROVAL_LABEL}` label"
        )
    else:
        head = f"✅ **`{diff.stack}`: safe**"
    return f"{head} · {tenant_text} · resources: {resources}."


# --- diagram -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Node:
    tenant: str
    css: str  # added | changed | removed | danger | "" (unchanged)


def _quote(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def diagram(diff: PlanDiff) -> list[str]:
    flagged = {t for f in diff.flags for t in f.tenants if f.owner.kind == "tenant"}
    flagged |= {f.owner.name for f in diff.flags if f.owner.kind == "tenant"}
    touched = diff.touched_tenants()
    kinds = {c.tenant: c.kinds for c in diff.tenant_changes}
    rows = {row["id"]: row for row in diff.base_tenants}
    rows.update({row["id"]: row for row in diff.head_tenants})  # head position wins
    groups: dict[tuple[str, str, str], list[_Node]] = {}
    for tenant, row in sorted(rows.items()):
        if tenant in flagged:
            css = "danger"
        elif "added" in kinds.get(tenant, ()):
            css = "added"
        elif "removed" in kinds.get(tenant, ()):
            css = "removed"
        elif tenant in touched:
            css = "changed"
        else:
            css = ""
        groups.setdefault((row["tier"], row["isolation"], row["shard"] or ""), []).append(
            _Node(tenant, css)
        )
    show_all = len(rows) <= DIAGRAM_ALL_TENANTS_UP_TO
    lines = ["```mermaid", "flowchart LR", f"  cell([{_quote(diff.stack)}])"]
    tiers: dict[str, str] = {}
    classes: dict[str, list[str]] = {}
    budget = DIAGRAM_CHANGED_NODES
    for index, ((tier, isolation, shard), nodes) in enumerate(sorted(groups.items())):
        if tier not in tiers:
            tiers[tier] = f"tier{len(tiers)}"
            lines.append(f"  cell --> {tiers[tier]}[{_quote(f'{tier} · {isolation}')}]")
        parent = tiers[tier]
        if shard:
            lines.append(f"  {parent} --> g{index}[{_quote(shard)}]")
            parent = f"g{index}"
        hidden_changed = 0
        for position, node in enumerate(nodes):
            if node.css and not show_all and budget <= 0:
                hidden_changed += 1
                continue
            if not node.css and not show_all:
                continue  # counted in the group's "unchanged" node
            budget -= bool(node.css)
            node_id = f"n{index}_{position}"
            lines.append(f"  {parent} --> {node_id}({_quote(node.tenant)})")
            if node.css:
                classes.setdefault(node.css, []).append(node_id)
        unchanged = sum(1 for node in nodes if not node.css)
        if not show_all and unchanged:
            lines.append(f"  {parent} --> u{index}[{_quote(f'{unchanged} unchanged')}]")
        if hidden_changed:
            lines.append(f"  {parent} --> h{index}[{_quote(f'+{hidden_changed} more changed')}]")
            classes.setdefault("changed", []).append(f"h{index}")
    lines += [
        "  classDef added fill:#dcfce7,stroke:#15803d,color:#14532d",
        "  classDef changed fill:#fef3c7,stroke:#b45309,color:#78350f",
        "  classDef removed fill:#f3f4f6,stroke:#6b7280,color:#374151,stroke-dasharray:4 3",
        "  classDef danger fill:#fee2e2,stroke:#b91c1c,color:#7f1d1d,stroke-width:2px",
    ]
    lines += [f"  class {','.join(ids)} {css}" for css, ids in sorted(classes.items())]
    lines.append("```")
    return lines


# --- sections ------------------------------------------------------------------------


def _owner_text(owner: Owner, tenants: tuple[str, ...], cap: int = 10) -> str:
    if owner.kind not in ("shard", "tier"):
        return owner.label()
    listed = ", ".join(tenants[:cap]) + (
        f" +{len(tenants) - cap} more" if len(tenants) > cap else ""
    )
    return f"{owner.label()} ({listed or 'no tenants'})"


def _flag_line(flag: Flag) -> str:
    # A flag about a tenant's home names no single resource.
    resource = f" · `{flag.type}` `{flag.name}`" if flag.type else ""
    return (
        f"- ⛔ **{flag.kind}** · {_owner_text(flag.owner, flag.tenants)}{resource}: {flag.message}"
    )


def _grouped_flag_lines(flags: list[Flag], owner_cap: int | None) -> list[str]:
    groups: dict[tuple[str, str], list[Flag]] = {}
    for flag in flags:
        groups.setdefault((flag.kind, flag.type), []).append(flag)
    lines = []
    for (kind, type_), members in groups.items():
        messages = sorted({f.message for f in members})
        message = messages[0] + (f" (+{len(messages) - 1} variants)" if len(messages) > 1 else "")
        owners = sorted({f.owner.label() for f in members})
        shown = owners if owner_cap is None else owners[:owner_cap]
        more = (
            f" … +{len(owners) - len(shown)} more in the job summary"
            if len(shown) < len(owners)
            else ""
        )
        what = f" `{type_}`" if type_ else ""
        lines.append(
            f"- ⛔ **{kind}**{what} ×{len(members)}: {message}. In: {', '.join(shown)}{more}"
        )
    return lines


def danger_section(diff: PlanDiff, budget: int | None) -> list[str]:
    if not diff.flags:
        return []
    head = [f"### ⛔ Danger flags ({len(diff.flags)})", ""]
    detailed = [_flag_line(f) for f in diff.flags]
    if budget is None or _size(head + detailed) <= budget:
        return head + detailed
    note = ["", "_Grouped by kind and type to fit; each resource is listed in the job summary._"]
    grouped = _grouped_flag_lines(diff.flags, None)
    if _size(head + grouped + note) <= budget:
        return head + grouped + note
    # Only for changes far beyond a thousand tenants: keep every group, shorten the lists.
    cap = max(1, budget // (max(1, len(grouped)) * 40))
    return head + _grouped_flag_lines(diff.flags, cap) + note


def motion_section(diff: PlanDiff) -> list[str]:
    """Every tenant in motion at head: from where, to where, the command that finishes it."""
    moving = diff.in_motion()
    if not moving:
        return []
    lines = [f"### 🚚 Tenants in motion ({len(moving)})", ""]
    for motion in moving:
        lines += [
            f"- `{motion.tenant}`: {motion.source} → {motion.target}; every deploy keeps the old "
            "home until you finish the move with",
            f"  `{motion.command}`",
            f"  ({motion.dsn_hint}), then remove `moving_from` from the catalog.",
        ]
    return lines


def _size(lines: Iterable[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _tenant_rows(diff: PlanDiff) -> list[str]:
    per_tenant: dict[str, Counter[str]] = {}
    for change in diff.changes:
        if change.owner.kind == "tenant":
            per_tenant.setdefault(change.owner.name, Counter())[change.action] += 1
    flagged = {f.owner.name for f in diff.flags if f.owner.kind == "tenant"}
    described = {c.tenant: c.describe() for c in diff.tenant_changes}
    tenants = set(described) | set(per_tenant)

    def rank(tenant: str) -> tuple[int, int, str]:
        return (tenant not in flagged, -sum(per_tenant.get(tenant, Counter()).values()), tenant)

    rows = []
    for tenant in sorted(tenants, key=rank):
        counts = per_tenant.get(tenant, Counter())
        resources = " ".join(f"{_SYMBOL[a]}{counts[a]}" for a in ACTIONS if counts.get(a))
        mark = "⛔ " if tenant in flagged else ""
        rows.append(
            f"| {mark}`{tenant}` | {described.get(tenant, 'resources change')} | {resources or '—'} |"
        )
    return rows


def _change_line(change: ResourceChange) -> str:
    keys = ", ".join(f"**{k}**" if k in change.replace_keys else k for k in change.keys)
    return (
        f"| {_SYMBOL[change.action]} {change.action} | `{change.type}` | `{change.name}` | {keys} |"
    )


def _owner_blocks(diff: PlanDiff) -> list[list[str]]:
    flagged = {f.owner for f in diff.flags}
    grouped = diff.changes_by_owner()
    order = sorted(
        grouped, key=lambda o: (o not in flagged, o.kind != "tenant", -len(grouped[o]), o)
    )
    blocks = []
    for owner in order:
        changes = grouped[owner]
        counts = Counter(c.action for c in changes)
        summary = ", ".join(f"{counts[a]} {a}" for a in ACTIONS if counts.get(a))
        title = _owner_text(owner, diff.owner_tenants(owner))
        blocks.append(
            [
                f"<details><summary><b>{title}</b>: {summary}</summary>",
                "",
                "| action | type | name | changed inputs (**forces replacement**) |",
                "|---|---|---|---|",
                *[_change_line(c) for c in changes],
                "",
                "</details>",
            ]
        )
    return blocks


def render(diff: PlanDiff, limit: int | None = COMMENT_LIMIT, cost: Sequence[str] = ()) -> str:
    """The PR comment (``limit`` characters at most) or, with ``limit=None``, the full report.

    ``cost`` is the cost section (``tenancy.diff.cost.cost_lines``), shown under the verdict.
    """
    top = [verdict(diff), "", *([*cost, ""] if cost and diff.changed else []), *diagram(diff), ""]
    end_marker = marker(diff.stack)
    footer_reserve = 400
    if not diff.changed:
        return "\n".join([*top, end_marker]) + "\n"
    danger_budget = None if limit is None else max(2000, limit - _size(top) - footer_reserve - 2000)
    body = [*top, *danger_section(diff, danger_budget)]
    omitted = 0
    sections: list[tuple[list[str], list[list[str]]]] = []
    motion = motion_section(diff)
    if motion:
        sections.append((motion[:2], [motion[2:]]))
    if diff.warnings:
        sections.append(
            (
                [f"### ⚠️ Warnings ({len(diff.warnings)})", ""],
                [[f"- ⚠️ `{w.tenant}`: {w.message}"] for w in diff.warnings],
            )
        )
    rows = _tenant_rows(diff)
    if rows:
        sections.append(
            (
                [
                    f"### Tenants ({len(rows)} changed)",
                    "",
                    "| tenant | change | resources |",
                    "|---|---|---|",
                ],
                [[row] for row in rows],
            )
        )
    blocks = _owner_blocks(diff)
    if blocks:
        sections.append(([f"### Resource changes ({len(diff.changes)})", ""], blocks))
    used = _size(body)
    for heading, items in sections:
        if limit is not None and used + _size(heading) + footer_reserve > limit:
            omitted += len(items)
            continue
        body += ["", *heading]
        used += _size(heading) + 1
        for position, item in enumerate(items):
            if limit is not None and used + _size(item) + footer_reserve + 120 > limit:
                left = len(items) - position
                omitted += left
                body.append(f"\n_… {left} more not shown here: see the job summary._")
                used += 60
                break
            body += item
            used += _size(item)
    tail = f" {omitted} items are only in the job summary." if omitted else ""
    body += [
        "",
        f"<sub>`tenancy diff` of the offline plans of `{diff.stack}`, base vs. head.{tail}</sub>",
        end_marker,
    ]
    return "\n".join(body) + "\n"


__all__ = ["APPROVAL_LABEL", "COMMENT_LIMIT", "FLAG_KINDS", "marker", "render", "verdict"]
