"""`tenancy compliance` covers every control in scope: pass/fail, not covered, outside.

Rules are injected here (a copy of a real rule mapped to another control), never
added to the pack, to show how a control moves once a rule evidences it.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
from pathlib import Path
from typing import Any

import pytest

from policies.framework import Control, Rule
from policies.offline import Evaluation, evaluate
from policies.report import (
    NOT_COVERED,
    OUTSIDE,
    compliance_markdown,
    compliance_report,
    headline,
)
from policies.rules import BY_ID, RULES
from policies.scope import SCOPE, ScopedControl
from policies.types import RDS_CLUSTER
from tenancy import compliancedoc
from tenancy.cli import main
from tenancy.commands.check import tenant_frameworks
from tests.support.planview import planned

PROD = "prod-aws-eu-central-1"
FRAMEWORKS = sorted(SCOPE)
# A real check (Aurora exports its postgresql log) to lend to injected rules.
LOG_EXPORTS = BY_ID["aws-rds-cluster-enable-log-exports"]


def plan() -> dict[str, Any]:
    return copy.deepcopy(planned(PROD).data)


@functools.cache
def _frameworks() -> dict[str, list[str]]:
    return tenant_frameworks(PROD, None)


def report_for(data: dict[str, Any], extra: tuple[Rule, ...] = ()) -> dict[str, Any]:
    rules = RULES + extra
    evaluation = evaluate(data, rules=rules)
    return compliance_report(evaluation, data, _frameworks(), rules=rules)


@functools.cache
def _pack_report() -> str:
    return json.dumps(report_for(plan()))


def pack_report() -> dict[str, Any]:
    return json.loads(_pack_report())


def framework_of(report: dict[str, Any], framework: str) -> dict[str, Any]:
    (found,) = [f for f in report["frameworks"] if f["framework"] == framework]
    return found


def control_of(report: dict[str, Any], framework: str, control_id: str) -> dict[str, Any]:
    (found,) = [
        c for c in framework_of(report, framework)["controls"] if c["control"] == control_id
    ]
    return found


def uncovered(framework: str) -> list[ScopedControl]:
    """Infrastructure controls of the framework that no rule of the pack names."""
    named = {c.id for r in RULES for c in r.controls if c.framework == framework}
    return [c for c in SCOPE[framework] if c.kind == "infrastructure" and c.id not in named]


# The clouds of the rules that judge the AWS stack these tests report on.
AWS_STACK_CLOUDS = ("aws", "kubernetes", "multi")


def judged_elsewhere(framework: str) -> list[ScopedControl]:
    """Infrastructure controls that only other clouds' rules name (the Entra administrator
    rules: issue 15): mapped, but the AWS stack has nothing for them to judge."""
    named = {c.id for r in RULES for c in r.controls if c.framework == framework}
    here = {
        c.id
        for r in RULES
        if r.cloud in AWS_STACK_CLOUDS
        for c in r.controls
        if c.framework == framework
    }
    return [
        c
        for c in SCOPE[framework]
        if c.kind == "infrastructure" and c.id in named and c.id not in here
    ]


def lent_rule(framework: str, controls: list[ScopedControl]) -> Rule:
    """The log-export check, mapped to ``controls`` as a new rule would map them."""
    return dataclasses.replace(
        LOG_EXPORTS,
        id=f"aws-rds-cluster-enable-test-evidence-{framework}",
        controls=tuple(Control(framework, c.id, c.title) for c in controls),
    )


# ---- the headline ------------------------------------------------------------------------


def test_headline_is_pass_when_every_control_is_pass_or_outside() -> None:
    assert headline(["pass", "pass"]) == ("pass", "PASS")
    assert headline(["pass", OUTSIDE]) == ("pass", "PASS; 1 outside the infrastructure")


def test_headline_counts_what_is_not_covered() -> None:
    status, text = headline(["pass", "pass", NOT_COVERED, OUTSIDE])
    assert status == "partial"
    assert text == "PASS for 2 of 4 controls; 1 not covered; 1 outside the infrastructure"


def test_headline_never_counts_unknown_or_waived_as_pass() -> None:
    assert headline(["pass", "unknown", "waived"]) == (
        "partial",
        "PASS for 1 of 3 controls; 1 unknown; 1 waived",
    )


def test_headline_is_fail_when_a_control_fails() -> None:
    assert headline(["fail", "pass", NOT_COVERED]) == (
        "fail",
        "FAIL for 1 of 3 controls; 1 pass; 1 not covered",
    )


# ---- per framework -----------------------------------------------------------------------


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_control_without_rules_shows_as_not_covered(framework: str) -> None:
    report = pack_report()
    gaps = uncovered(framework)
    assert gaps, f"{framework}: every control is covered; pick another test"
    for control in gaps:
        row = control_of(report, framework, control.id)
        assert row["status"] == NOT_COVERED
        assert row["reason"] == "no rule of the policy pack maps to this control"
        assert row["to_cover"] == control.evidence and row["rules"] == []
    text = compliance_markdown(report)
    assert f"- **{gaps[0].id} {gaps[0].title}**: no rule of the policy pack maps" in text


def test_a_control_only_another_clouds_rules_evidence_is_not_covered_on_this_stack() -> None:
    # ISO 27001 A.8.2: the Entra administrator rules judge Azure servers; an AWS stack has none.
    assert [c.id for c in judged_elsewhere("iso27001")] == ["A.5.15", "A.8.2"]
    row = control_of(pack_report(), "iso27001", "A.8.2")
    assert row["status"] == NOT_COVERED
    assert row["reason"] == "its 2 rule(s) judged no resource of this stack"
    assert {r["id"] for r in row["rules"]} == {
        "azure-postgresql-administrator-configure-group-principal",
        "azure-postgresql-server-enable-entra-administrator",
    }


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_headline_is_not_pass_while_a_control_is_not_covered(framework: str) -> None:
    fw = framework_of(pack_report(), framework)
    counts = fw["counts"]
    assert fw["tenants"], "prod-aws-eu-central-1 has tenants of every framework"
    gaps = len(uncovered(framework)) + len(judged_elsewhere(framework))
    assert fw["status"] == "partial" and counts[NOT_COVERED] == gaps
    assert len(fw["controls"]) == len(SCOPE[framework])
    assert fw["headline"].startswith(
        f"PASS for {counts['pass']} of {len(SCOPE[framework])} controls; "
        f"{counts[NOT_COVERED]} not covered"
    )
    assert f"## {fw['name']}: {fw['headline']}" in compliance_markdown(pack_report())


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_adding_a_rule_for_a_control_moves_it_from_not_covered_to_pass(framework: str) -> None:
    target = uncovered(framework)[0]
    rule = lent_rule(framework, [target])
    before = pack_report()
    after = report_for(plan(), (rule,))
    assert control_of(before, framework, target.id)["status"] == NOT_COVERED
    row = control_of(after, framework, target.id)
    assert row["status"] == "pass" and [r["id"] for r in row["rules"]] == [rule.id]
    judged = {r["urn"].rsplit("::", 1)[-1] for r in row["rules"][0]["resources"]}
    assert judged and all(name.endswith("-db-cluster") for name in judged)
    counts = framework_of(after, framework)["counts"]
    assert counts[NOT_COVERED] == framework_of(before, framework)["counts"][NOT_COVERED] - 1


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_rule_that_finds_a_violation_makes_its_control_fail(framework: str) -> None:
    target = uncovered(framework)[0]
    data = plan()
    for resource in data["resources"]:
        if resource["type"] == RDS_CLUSTER:
            resource["inputs"]["enabledCloudwatchLogsExports"] = []
    report = report_for(data, (lent_rule(framework, [target]),))
    assert control_of(report, framework, target.id)["status"] == "fail"
    fw = framework_of(report, framework)
    assert fw["status"] == "fail" and fw["headline"].startswith("FAIL for ")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_headline_reads_pass_once_every_infrastructure_control_is_covered(
    framework: str,
) -> None:
    gaps = uncovered(framework) + judged_elsewhere(framework)
    report = report_for(plan(), (lent_rule(framework, gaps),))
    fw = framework_of(report, framework)
    outside = sum(1 for c in SCOPE[framework] if c.kind == "process")
    assert fw["status"] == "pass"
    assert fw["headline"] == (f"PASS; {outside} outside the infrastructure" if outside else "PASS")


# ---- the other statuses and the framework's applicability --------------------------------


def test_process_controls_are_named_outside_the_infrastructure_and_never_pass() -> None:
    report = pack_report()
    for framework in FRAMEWORKS:
        for control in (c for c in SCOPE[framework] if c.kind == "process"):
            row = control_of(report, framework, control.id)
            assert row["status"] == OUTSIDE and row["rules"] == []
            assert row["evidence"] == control.evidence
    assert "- **164.308(a)(5)(i) Security awareness and training**: evidence is" in (
        compliance_markdown(report)
    )


def test_a_control_whose_rules_judge_nothing_in_the_stack_is_not_covered() -> None:
    data = plan()
    empty = Evaluation(stack=PROD)  # as if no resource of the stack were judged
    report = compliance_report(empty, data, _frameworks())
    row = control_of(report, "hipaa", "164.312(a)(2)(iv)")
    assert row["status"] == NOT_COVERED
    assert row["reason"].endswith("rule(s) judged no resource of this stack")
    assert row["rules"] and all(r["status"] == "not evidenced" for r in row["rules"])


def test_a_framework_no_tenant_is_held_to_is_not_applicable() -> None:
    data = plan()
    frameworks = {tenant: [f for f in fws if f != "hipaa"] for tenant, fws in _frameworks().items()}
    report = compliance_report(evaluate(data), data, frameworks)
    fw = framework_of(report, "hipaa")
    assert fw["tenants"] == [] and fw["status"] == "not applicable"
    assert fw["headline"] == "NOT APPLICABLE: no tenant in scope"
    assert framework_of(report, "gdpr")["status"] == "partial"


def test_a_rule_naming_a_control_outside_the_scope_list_is_reported() -> None:
    stray = dataclasses.replace(
        LOG_EXPORTS,
        id="aws-rds-cluster-enable-stray-control",
        controls=(Control("hipaa", "164.316(b)(1)", "Documentation"),),
    )
    report = report_for(plan(), (stray,))
    assert framework_of(report, "hipaa")["unscoped"] == ["164.316(b)(1)"]
    assert "Rules also name 164.316(b)(1)" in compliance_markdown(report)


# ---- the command -------------------------------------------------------------------------


def test_compliance_json_lists_every_control_in_scope(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compliance", PROD, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    for fw in report["frameworks"]:
        assert [c["control"] for c in fw["controls"]] == [c.id for c in SCOPE[fw["framework"]]]
    # Audit controls are evidenced by the pgaudit rules (issue 13); authentication is not yet.
    assert control_of(report, "hipaa", "164.312(b)")["status"] == "pass"
    auth = control_of(report, "hipaa", "164.312(d)")
    assert auth["status"] == NOT_COVERED and "authentication" in auth["to_cover"]
    assert auth["citation"].endswith("§ 164.312(d)") and auth["why"]


def test_compliance_sarif_carries_each_controls_status_and_the_headline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["compliance", PROD, "--format", "sarif"]) == 0
    summary = json.loads(capsys.readouterr().out)["runs"][0]["properties"]["compliance"]
    hipaa = summary["hipaa"]
    assert hipaa["status"] == "partial" and hipaa["headline"].startswith("PASS for 6 of 13")
    assert hipaa["controls"]["164.312(a)(2)(iv)"] == "pass"
    assert hipaa["controls"]["164.312(b)"] == "pass"
    assert hipaa["controls"]["164.312(d)"] == NOT_COVERED
    assert hipaa["controls"]["164.308(a)(5)(i)"] == OUTSIDE
    gaps = {row["control"]: row for row in hipaa["notCovered"]}
    assert set(gaps) == {c.id for c in uncovered("hipaa")}
    assert gaps["164.312(d)"]["toCover"] and gaps["164.312(d)"]["reason"]


def test_readme_shows_the_generated_compliance_excerpt() -> None:
    readme = compliancedoc.README.read_text(encoding="utf-8")
    fresh = compliancedoc.readme_with(compliancedoc.excerpt(), readme)
    assert readme == fresh, "regenerate: .venv/bin/tenancy docs"
    assert "| 164.312(d) | Person or entity authentication | not covered | - |" in readme


def test_tenancy_docs_check_names_a_stale_file_and_docs_rewrites_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tenancy.commands import docs

    readme = compliancedoc.README.read_text(encoding="utf-8")
    copy_of_readme = tmp_path / "README.md"
    copy_of_readme.write_text(compliancedoc.readme_with("stale\n", readme), encoding="utf-8")
    monkeypatch.setattr(compliancedoc, "README", copy_of_readme)
    monkeypatch.setattr(docs, "DOCS", tmp_path)  # docs/*.md missing there: stale too
    assert main(["docs", "--check"]) == 1
    err = capsys.readouterr().err
    assert f"{copy_of_readme} is stale" in err and "compliance-scope.md is stale" in err
    assert main(["docs"]) == 0
    assert copy_of_readme.read_text(encoding="utf-8") == readme
    assert (tmp_path / "compliance-scope.md").is_file() and (tmp_path / "policies.md").is_file()
    assert main(["docs", "--check"]) == 0
