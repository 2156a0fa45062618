"""docs/policies.md, generated from the rules' metadata (a test keeps it fresh)."""

from __future__ import annotations

from .framework import FRAMEWORK_NAMES
from .rules import FAMILIES, RULES
from .scope import SCOPE


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def policies_markdown() -> str:
    lines = [
        "# Policy pack rules",
        "",
        "Generated from the rules' metadata by `python -m policies.docs`; do not edit by hand.",
        f"{len(RULES)} rules. Run with `pulumi preview --policy-pack policies` or offline with",
        "`tenancy plan` / `tenancy check PLAN.json`. Waivers live in `stacks/waivers.yaml`.",
        "",
        "| rule | cloud | enforcement | severity | controls |",
        "|---|---|---|---|---|",
    ]
    for rule in RULES:
        controls = ", ".join(control.label for control in rule.controls)
        lines.append(
            f"| [`{rule.id}`](#{rule.id}) | {rule.cloud} | {rule.enforcement} | {rule.severity} | {controls} |"
        )
    for family in FAMILIES:
        lines += ["", f"## {(family.__doc__ or family.__name__).strip().splitlines()[0]}"]
        for rule in family.RULES:
            types = ", ".join(f"`{t}`" for t in sorted(rule.types))
            lines += [
                "",
                f"### {rule.id}",
                "",
                f"{_cell(rule.description)}",
                "",
                f"- **Why:** {_cell(rule.why)}",
                f"- **Fix:** {_cell(rule.remediation)}",
                f"- **Applies to:** {types} ({rule.kind} rule)",
                f"- **Controls:** {', '.join(c.label for c in rule.controls)}",
            ]
            if rule.config_keys:
                lines.append(f"- **Config:** {', '.join(f'`{k}`' for k in rule.config_keys)}")
    return "\n".join(lines) + "\n"


def scope_markdown() -> str:
    """docs/compliance-scope.md: every control in scope, with its citation and coverage."""
    lines = [
        "# Compliance controls in scope",
        "",
        "Generated from `policies/scope.py` by `python -m policies.docs`; do not edit by hand.",
        "These are the controls of each framework that apply to a multi-tenant database",
        "tier. `tenancy compliance STACK` reports every one of them: *pass*/*fail* when rules",
        "evidence it, *not covered* when none does yet, *outside the infrastructure* for",
        "process controls it names but never checks.",
    ]
    for framework, controls in SCOPE.items():
        lines += [
            "",
            f"## {FRAMEWORK_NAMES[framework]}",
            "",
            "| control | title | kind | rules | why in scope | source |",
            "|---|---|---|---|---|---|",
        ]
        for control in controls:
            rules = [
                r.id
                for r in RULES
                if any(c.framework == framework and c.id == control.id for c in r.controls)
            ]
            coverage = str(len(rules)) if rules else ("-" if control.kind == "process" else "none")
            lines.append(
                f"| {control.id} | {_cell(control.title)} | {control.kind} | {coverage} "
                f"| {_cell(control.why)} | {_cell(control.citation)} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs"
    for name, text in (
        ("policies.md", policies_markdown()),
        ("compliance-scope.md", scope_markdown()),
    ):
        (docs / name).write_text(text, encoding="utf-8")
        print(f"wrote {docs / name}")
