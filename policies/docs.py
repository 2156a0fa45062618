"""docs/policies.md, generated from the rules' metadata (a test keeps it fresh)."""

from __future__ import annotations

from .rules import FAMILIES, RULES


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


if __name__ == "__main__":
    from pathlib import Path

    target = Path(__file__).resolve().parent.parent / "docs" / "policies.md"
    target.write_text(policies_markdown(), encoding="utf-8")
    print(f"wrote {target}")
