"""Reports: the compliance evidence (framework -> control -> rule -> resources) and text.

The evidence lists every control in scope (``policies/scope.py``), each with one of
four statuses: ``pass`` / ``fail`` (rules judged this stack's resources; their
in-between answers ``unknown`` and ``waived`` show as such and never count as a
pass), ``not covered`` (no rule maps to it, or its rules judged nothing in this
stack; with the reason and what would cover it) and ``outside the infrastructure``
(a process control: named, never checked). A framework's headline is PASS only
when every control in scope is pass or outside; otherwise it reads "PASS for N of
M controls; K not covered" (or FAIL ...), its parts adding up to M. A framework no
tenant of the stack is held to reads NOT APPLICABLE.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .auditevidence import audit_evidence, audit_evidence_markdown
from .framework import (
    FRAMEWORK_NAMES,
    SEVERITY_ORDER,
    Outcome,
    Rule,
    frameworks_of,
    tags_of,
    tenancy_tags,
    worst,
)
from .offline import Evaluation, Result
from .rules import RULES
from .scope import SCOPE, ScopedControl

_ORDER = {outcome: rank for rank, outcome in enumerate(SEVERITY_ORDER)}

# A rule's outcomes (policies.framework.Outcome); the report adds control-level statuses.
PASS = Outcome.PASS
FAIL = Outcome.FAIL
UNKNOWN = Outcome.UNKNOWN
WAIVED = Outcome.WAIVED
NOT_EVIDENCED = Outcome.NOT_EVIDENCED
NOT_COVERED = "not covered"
OUTSIDE = "outside the infrastructure"
STATUSES = (PASS, FAIL, UNKNOWN, WAIVED, NOT_COVERED, OUTSIDE)
NOT_APPLICABLE = "not applicable"  # a framework no tenant of the stack is held to


def _short(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def resource_frameworks(plan: Mapping[str, Any]) -> dict[str, set[str] | None]:
    """URN -> frameworks from its compliance tag; None when it has none (shared, in every scope)."""
    out: dict[str, set[str] | None] = {}
    for r in plan.get("resources", []):
        tags = tenancy_tags(tags_of(r["type"], r.get("inputs") or {}))
        out[r["urn"]] = frameworks_of(tags) if "compliance" in tags else None
    return out


def headline(statuses: Sequence[str]) -> tuple[str, str]:
    """(status, text) of a framework from its controls' statuses.

    ``pass`` only when every control is pass or outside the infrastructure; any
    fail makes it ``fail``; anything else unproven makes it ``partial``. The text
    accounts for every control: its parts add up to the number in scope.
    """
    counts = {status: sum(1 for s in statuses if s == status) for status in STATUSES}
    total = len(statuses)
    tail = [
        f"{counts[status]} {status}"
        for status in (NOT_COVERED, UNKNOWN, WAIVED, OUTSIDE)
        if counts[status]
    ]
    if counts[PASS] + counts[OUTSIDE] == total:
        return PASS, "; ".join(["PASS", *tail])
    if counts[FAIL]:
        parts = [f"FAIL for {counts[FAIL]} of {total} controls", f"{counts[PASS]} pass", *tail]
        return FAIL, "; ".join(parts)
    return "partial", "; ".join([f"PASS for {counts[PASS]} of {total} controls", *tail])


def _rule_row(rule: Rule, results: list[Result]) -> dict[str, Any]:
    rows = [{"urn": r.urn, "outcome": r.outcome, "messages": list(r.messages)} for r in results]
    counts = {k.value: sum(1 for r in results if r.outcome is k) for k in _ORDER}
    return {
        "id": rule.id,
        "description": rule.description,
        "enforcement": rule.enforcement,
        "severity": rule.severity,
        "status": worst(r.outcome for r in results),
        **counts,
        "resources": sorted(rows, key=lambda x: (_ORDER[x["outcome"]], x["urn"])),
    }


def _rules_by_control(
    framework: str,
    rules: Sequence[Rule],
    by_rule: Mapping[str, list[Result]],
    scopes: Mapping[str, set[str] | None],
) -> dict[str, list[dict[str, Any]]]:
    """Control id -> the rows of the rules evidencing it, over this framework's resources.

    A rule's row is built once and shared by every control it names (a rule names
    up to six controls; rebuilding it per control dominated large reports)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for rule in rules:
        ids = dict.fromkeys(c.id for c in rule.controls if c.framework == framework)
        if not ids:
            continue
        results = [
            r
            for r in by_rule.get(rule.id, [])
            if (scope := scopes.get(r.urn)) is None or framework in scope
        ]
        row = _rule_row(rule, results)
        for control_id in ids:
            out.setdefault(control_id, []).append(row)
    return out


def _control_row(control: ScopedControl, rules: list[dict[str, Any]]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "control": control.id,
        "title": control.title,
        "kind": control.kind,
        "citation": control.citation,
        "why": control.why,
    }
    if control.kind == "process":
        return {
            **row,
            "status": OUTSIDE,
            "reason": "a process control: tenancy does not check it",
            "evidence": control.evidence,
            "rules": [],
        }
    judged = [rule for rule in rules if rule["status"] != NOT_EVIDENCED]
    if not rules:
        reason = "no rule of the policy pack maps to this control"
    elif not judged:
        reason = f"its {len(rules)} rule(s) judged no resource of this stack"
    else:
        return {**row, "status": worst(rule["status"] for rule in judged), "rules": rules}
    return {
        **row,
        "status": NOT_COVERED,
        "reason": reason,
        "to_cover": control.evidence,
        "rules": rules,
    }


def compliance_report(
    evaluation: Evaluation,
    plan: Mapping[str, Any],
    tenant_frameworks: Mapping[str, Sequence[str]],
    *,
    rules: Sequence[Rule] = RULES,
    scope: Mapping[str, Sequence[ScopedControl]] = SCOPE,
) -> dict[str, Any]:
    """Evidence per framework -> every control in scope -> rules -> outcome -> resources.

    ``rules`` and ``scope`` default to the pack's; tests pass their own to show
    how a control moves when a rule starts to evidence it.
    """
    scopes = resource_frameworks(plan)
    by_rule: dict[str, list[Result]] = {}
    for result in evaluation.results:
        by_rule.setdefault(result.rule.id, []).append(result)
    frameworks = []
    for framework, name in FRAMEWORK_NAMES.items():
        evidence = _rules_by_control(framework, rules, by_rule, scopes)
        in_scope = scope.get(framework, ())
        controls = [_control_row(c, evidence.pop(c.id, [])) for c in in_scope]
        tenants = sorted(t for t, fws in tenant_frameworks.items() if framework in fws)
        status, text = headline([c["status"] for c in controls])
        if not tenants:  # listed for reference; no tenant's data here is held to it
            status, text = NOT_APPLICABLE, "NOT APPLICABLE: no tenant in scope"
        frameworks.append(
            {
                "framework": framework,
                "name": name,
                "tenants": tenants,
                "status": status,
                "headline": text,
                "counts": {s: sum(1 for c in controls if c["status"] == s) for s in STATUSES},
                "controls": controls,
                # a rule naming a control missing from the scope list (the meta-test forbids it)
                "unscoped": sorted(evidence),
            }
        )
    return {
        "stack": evaluation.stack,
        "tenants": sorted(tenant_frameworks),
        "waivers": [w.to_json() for w in evaluation.waivers],
        "frameworks": frameworks,
        # HIPAA 164.312(b), PCI DSS 10.2/10.5: what each server records and where it is kept.
        "audit_logging": audit_evidence(plan),
    }


SCOPE_DOC = "docs/compliance-scope.md"


def summary_markdown(report: Mapping[str, Any]) -> list[str]:
    lines = [
        "| framework | tenants in scope | controls in scope | pass | fail | not covered | outside | status |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for fw in report["frameworks"]:
        tenants = ", ".join(fw["tenants"]) or "(none)"
        n = fw["counts"]
        lines.append(
            f"| {fw['name']} | {tenants} | {len(fw['controls'])} | {n[PASS]} | {n[FAIL]} "
            f"| {n[NOT_COVERED]} | {n[OUTSIDE]} | {fw['headline']} |"
        )
    return lines


def framework_overview_markdown(fw: Mapping[str, Any]) -> list[str]:
    """One framework's controls in scope, then what is not proven (under its heading)."""
    lines = [
        f"Tenants in scope: {', '.join(fw['tenants']) or '(none)'}",
        "",
        "| control | title | status | rules |",
        "|---|---|---|---|",
    ]
    for c in fw["controls"]:
        rules = sum(1 for rule in c["rules"] if rule["status"] != NOT_EVIDENCED)
        lines.append(f"| {c['control']} | {c['title']} | {c['status']} | {rules or '-'} |")
    gaps = [c for c in fw["controls"] if c["status"] == NOT_COVERED]
    if gaps:
        lines += ["", "Not covered (not proven by this report):", ""]
        lines += [
            f"- **{c['control']} {c['title']}**: {c['reason']}. Would cover it: {c['to_cover']}."
            for c in gaps
        ]
    outside = [c for c in fw["controls"] if c["status"] == OUTSIDE]
    if outside:
        lines += ["", "Outside the infrastructure (named, not checked):", ""]
        lines += [
            f"- **{c['control']} {c['title']}**: evidence is {c['evidence']}." for c in outside
        ]
    if fw["unscoped"]:
        names = ", ".join(fw["unscoped"])
        lines += ["", f"Rules also name {names}, which {SCOPE_DOC} does not list: add them there."]
    return lines


def _evidence_markdown(fw: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    for control in fw["controls"]:
        if control["status"] in (NOT_COVERED, OUTSIDE):
            continue
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
                if resource["outcome"] != PASS:
                    for message in resource["messages"]:
                        lines.append(
                            f"- **{resource['outcome']}** `{rule['id']}` `{_short(resource['urn'])}`: {message}"
                        )
            passed = [_short(r["urn"]) for r in rule["resources"] if r["outcome"] == PASS]
            if passed:
                shown = ", ".join(f"`{p}`" for p in passed[:12])
                more = f" and {len(passed) - 12} more" if len(passed) > 12 else ""
                lines.append(f"- pass `{rule['id']}`: {shown}{more}")
    return lines


def compliance_markdown(report: Mapping[str, Any]) -> str:
    lines = [
        f"# Compliance evidence: `{report['stack']}`",
        "",
        f"Every control in scope ({SCOPE_DOC}, with citations) is listed. A framework is "
        "PASS only when each one is pass or outside the infrastructure.",
        "",
        *summary_markdown(report),
        "",
        "## Audit logging per server",
        "",
        *audit_evidence_markdown(report.get("audit_logging", ())),
    ]
    for fw in report["frameworks"]:
        lines += ["", f"## {fw['name']}: {fw['headline']}", ""]
        lines += [*framework_overview_markdown(fw), *_evidence_markdown(fw)]
    return "\n".join(lines) + "\n"


def compliance_excerpt(report: Mapping[str, Any], framework: str) -> str:
    """The summary table and one framework's controls, to quote in documentation."""
    (fw,) = [f for f in report["frameworks"] if f["framework"] == framework]
    lines = [
        f"`tenancy compliance {report['stack']}` (excerpt):",
        "",
        *summary_markdown(report),
        "",
        f"**{fw['name']}: {fw['headline']}**",
        "",
        *framework_overview_markdown(fw),
    ]
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
    passed = sum(1 for r in evaluation.results if r.outcome is PASS)
    lines.append(
        f"{evaluation.stack}: {len(evaluation.results)} checks, {passed} passed; "
        f"{mandatory} mandatory, {advisory} advisory, {waived} waived findings"
    )
    return "\n".join(lines) + "\n"
