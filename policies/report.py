"""Reports: the compliance evidence (framework -> control -> rule -> resources) and text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .framework import FRAMEWORK_NAMES, Control, frameworks_of, tags_of, tenancy_tags
from .offline import Evaluation, Result
from .rules import RULES

_ORDER = {"fail": 0, "unknown": 1, "waived": 2, "pass": 3}


def _short(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def resource_frameworks(plan: Mapping[str, Any]) -> dict[str, set[str] | None]:
    """URN -> frameworks from its compliance tag; None when it has none (shared, in every scope)."""
    out: dict[str, set[str] | None] = {}
    for r in plan.get("resources", []):
        tags = tenancy_tags(tags_of(r["type"], r.get("inputs") or {}))
        out[r["urn"]] = frameworks_of(tags) if "compliance" in tags else None
    return out


def _status(outcomes: Iterable[str]) -> str:
    seen = set(outcomes)
    for status in ("fail", "unknown", "waived", "pass"):
        if status in seen:
            return status
    return "not evidenced"


def compliance_report(
    evaluation: Evaluation,
    plan: Mapping[str, Any],
    tenant_frameworks: Mapping[str, Sequence[str]],
) -> dict[str, Any]:
    """Evidence per framework -> control -> rules -> pass/fail -> resources."""
    scopes = resource_frameworks(plan)
    by_rule: dict[str, list[Result]] = {}
    for result in evaluation.results:
        by_rule.setdefault(result.rule.id, []).append(result)
    frameworks = []
    for framework, name in FRAMEWORK_NAMES.items():
        tenants = sorted(t for t, fws in tenant_frameworks.items() if framework in fws)
        controls: dict[Control, list[dict[str, Any]]] = {}
        for rule in RULES:
            for control in rule.controls:
                if control.framework != framework:
                    continue
                results = [
                    r
                    for r in by_rule.get(rule.id, [])
                    if scopes.get(r.urn) is None or framework in (scopes.get(r.urn) or set())
                ]
                rows: list[dict[str, Any]] = [
                    {"urn": r.urn, "outcome": r.outcome, "messages": list(r.messages)}
                    for r in results
                ]
                resources = sorted(rows, key=lambda x: (_ORDER[x["outcome"]], x["urn"]))
                counts = {k: sum(1 for r in results if r.outcome == k) for k in _ORDER}
                controls.setdefault(control, []).append(
                    {
                        "id": rule.id,
                        "description": rule.description,
                        "enforcement": rule.enforcement,
                        "severity": rule.severity,
                        "status": _status(r.outcome for r in results),
                        **counts,
                        "resources": resources,
                    }
                )
        control_rows: list[dict[str, Any]] = [
            {
                "control": control.id,
                "title": control.title,
                "status": _status(
                    rule["status"] for rule in rules if rule["status"] != "not evidenced"
                ),
                "rules": rules,
            }
            for control, rules in sorted(controls.items(), key=lambda kv: kv[0].id)
        ]
        frameworks.append(
            {
                "framework": framework,
                "name": name,
                "tenants": tenants,
                "status": _status(
                    c["status"] for c in control_rows if c["status"] != "not evidenced"
                ),
                "controls": control_rows,
            }
        )
    return {
        "stack": evaluation.stack,
        "tenants": sorted(tenant_frameworks),
        "waivers": [w.to_json() for w in evaluation.waivers],
        "frameworks": frameworks,
    }


def compliance_markdown(report: Mapping[str, Any]) -> str:
    lines = [f"# Compliance evidence: `{report['stack']}`", ""]
    lines += [
        "| framework | tenants in scope | controls | status |",
        "|---|---|---|---|",
    ]
    for fw in report["frameworks"]:
        tenants = ", ".join(fw["tenants"]) or "(none)"
        lines.append(
            f"| {fw['name']} | {tenants} | {len(fw['controls'])} | {fw['status'].upper()} |"
        )
    for fw in report["frameworks"]:
        lines += [
            "",
            f"## {fw['name']}",
            "",
            f"Tenants in scope: {', '.join(fw['tenants']) or '(none)'}",
        ]
        for control in fw["controls"]:
            lines += [
                "",
                f"### {fw['name']} {control['control']} — {control['title']}: {control['status'].upper()}",
                "",
                "| rule | status | pass | fail | unknown | waived |",
                "|---|---|---|---|---|---|",
            ]
            for rule in control["rules"]:
                lines.append(
                    f"| `{rule['id']}` | {rule['status']} | {rule['pass']} | {rule['fail']} | {rule['unknown']} | {rule['waived']} |"
                )
            for rule in control["rules"]:
                for resource in rule["resources"]:
                    if resource["outcome"] != "pass":
                        for message in resource["messages"]:
                            lines.append(
                                f"- **{resource['outcome']}** `{rule['id']}` `{_short(resource['urn'])}`: {message}"
                            )
                passed = [_short(r["urn"]) for r in rule["resources"] if r["outcome"] == "pass"]
                if passed:
                    shown = ", ".join(f"`{p}`" for p in passed[:12])
                    more = f" and {len(passed) - 12} more" if len(passed) > 12 else ""
                    lines.append(f"- pass `{rule['id']}`: {shown}{more}")
    return "\n".join(lines) + "\n"


def findings_text(evaluation: Evaluation) -> str:
    """One line per finding, then a summary; advisory and waived findings are listed too."""
    lines = []
    violations = evaluation.violations()
    for v in sorted(
        violations,
        key=lambda v: (v["waived"], v["enforcement"] != "mandatory", v["policy"], v["urn"]),
    ):
        state = "waived" if v["waived"] else v["enforcement"]
        lines.append(f"{state.upper():<9} {v['policy']}  {_short(v['urn'])}: {v['message']}")
        if v["waived"]:
            w = v["waiver"]
            lines.append(f"          waived until {w['expires']} by {w['approver']}: {w['reason']}")
    mandatory = sum(1 for v in violations if v["enforcement"] == "mandatory" and not v["waived"])
    advisory = sum(1 for v in violations if v["enforcement"] == "advisory" and not v["waived"])
    waived = sum(1 for v in violations if v["waived"])
    passed = sum(1 for r in evaluation.results if r.outcome == "pass")
    lines.append(
        f"{evaluation.stack}: {len(evaluation.results)} checks, {passed} passed; "
        f"{mandatory} mandatory, {advisory} advisory, {waived} waived findings"
    )
    return "\n".join(lines) + "\n"
