"""Offline evaluation over real plans, `tenancy check` / `tenancy compliance`, waivers, SARIF."""

from __future__ import annotations

import copy
import functools
import importlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policies.offline import PlanError, evaluate, evaluate_plan
from policies.rules import BY_ID
from policies.waivers import parse_waivers
from tenancy.cli import main
from tenancy.plan import plan_stack
from tenancy.stackfiles import known_stacks
from tests.support.policy_baselines import baseline, urn

PROD = "prod-aws-eu-central-1"
ENCRYPTION = "aws-rds-cluster-enable-storage-encryption"


@functools.cache
def _plan(stack: str) -> str:
    return json.dumps(plan_stack(stack))


def plan(stack: str = PROD) -> dict[str, Any]:
    return json.loads(_plan(stack))


def unencrypted(data: dict[str, Any]) -> dict[str, Any]:
    for resource in data["resources"]:
        if (
            resource["type"] == "aws:rds/cluster:Cluster"
            and resource["name"] == "silo-acme-db-cluster"
        ):
            resource["inputs"]["storageEncrypted"] = False
    return data


def write(tmp_path: Path, data: Any, name: str = "plan.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("stack", known_stacks())
def test_example_stack_plans_with_no_mandatory_violation(stack: str) -> None:
    violations = evaluate_plan(plan(stack))
    assert [v for v in violations if v["enforcement"] == "mandatory" and not v["waived"]] == []


def test_violations_keep_the_design_contract() -> None:
    (violation,) = evaluate_plan(unencrypted(plan()))
    assert violation == {
        "policy": ENCRYPTION,
        "urn": f"urn:pulumi:{PROD}::tenancy::tenancy:aws:SiloTenant$tenancy:aws:AuroraServer$aws:rds/cluster:Cluster::silo-acme-db-cluster",
        "message": "storageEncrypted is false; it must be true",
        "enforcement": "mandatory",
        "severity": "critical",
        "waived": False,
        "waiver": None,
    }


def test_evaluation_records_passes_for_the_evidence_report() -> None:
    outcomes = {r.outcome for r in evaluate(plan()).results}
    assert outcomes == {"pass"}


def test_check_exits_0_on_a_clean_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", write(tmp_path, plan())]) == 0
    assert "0 mandatory" in capsys.readouterr().out


def test_check_exits_1_on_a_mandatory_violation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", write(tmp_path, unencrypted(plan())), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["mandatory"] == 1
    assert report["violations"][0]["policy"] == ENCRYPTION


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ("[]", "$: the plan must be a JSON object, got list"),
        (json.dumps({"stack": "x", "resources": {}}), "$.resources: must be a list"),
        (
            json.dumps({"stack": "x", "resources": [{"urn": "u", "type": "t", "inputs": []}]}),
            "$.resources[0].inputs: must be an object",
        ),
        (
            json.dumps(
                {"stack": "x", "resources": [], "tenants": [{"id": "a", "isolation": "moat"}]}
            ),
            "$.tenants[0].isolation: must be one of silo, bridge, pool",
        ),
    ],
)
def test_check_rejects_a_malformed_plan_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    assert main(["check", write(tmp_path, content)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_check_rejects_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "none.json")]) == 2
    assert "cannot read the plan" in capsys.readouterr().err


def test_plan_error_lists_every_problem() -> None:
    with pytest.raises(PlanError) as error:
        evaluate(
            {"stack": "", "resources": [{"urn": 1}, {"urn": "u", "type": "t", "protect": "yes"}]}
        )
    assert error.value.problems == [
        "$.stack: must be a non-empty string",
        "$.resources[0].urn: must be a non-empty string",
        "$.resources[0].type: must be a non-empty string",
        "$.resources[1].protect: must be true or false",
    ]


def _waiver_file(tmp_path: Path, **entry: Any) -> str:
    base = {
        "rule": ENCRYPTION,
        "tenant": "acme",
        "reason": "Restored from a legacy snapshot; re-encryption scheduled (SEC-42)",
        "approver": "ciso@example.com",
        "expires": "2099-12-31",
    }
    path = tmp_path / "waivers.yaml"
    import yaml

    path.write_text(
        yaml.safe_dump({"version": 1, "waivers": [{**base, **entry}]}), encoding="utf-8"
    )
    return str(path)


def test_waived_finding_is_reported_as_waived_and_does_not_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = write(tmp_path, unencrypted(plan()))
    assert main(["check", plan_file, "--waivers", _waiver_file(tmp_path), "--format", "json"]) == 0
    (violation,) = json.loads(capsys.readouterr().out)["violations"]
    assert violation["waived"] is True
    assert violation["waiver"]["approver"] == "ciso@example.com"


def test_waived_finding_shows_in_the_text_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = write(tmp_path, unencrypted(plan()))
    assert main(["check", plan_file, "--waivers", _waiver_file(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "WAIVED    aws-rds-cluster-enable-storage-encryption  silo-acme-db-cluster" in out
    assert "1 waived findings" in out


def test_expired_waiver_waives_nothing_and_is_itself_mandatory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = write(tmp_path, unencrypted(plan()))
    assert (
        main(
            [
                "check",
                plan_file,
                "--waivers",
                _waiver_file(tmp_path, expires="2020-01-01"),
                "--format",
                "json",
            ]
        )
        == 1
    )
    violations = json.loads(capsys.readouterr().out)["violations"]
    assert {(v["policy"], v["waived"]) for v in violations} == {
        (ENCRYPTION, False),
        ("multi-waivers-file-configure-valid-waiver", False),
    }


def test_waiver_for_another_tenant_does_not_apply(tmp_path: Path) -> None:
    waivers = parse_waivers(
        {
            "waivers": [
                {
                    "rule": ENCRYPTION,
                    "tenant": "globex",
                    "reason": "x" * 25,
                    "approver": "a",
                    "expires": "2099-01-01",
                }
            ]
        },
        BY_ID,
    )
    (violation,) = evaluate(unencrypted(plan()), waivers=waivers).violations()
    assert violation["waived"] is False


def test_unreadable_waivers_file_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "waivers.yaml"
    bad.write_text("waivers: {not: a list}\n", encoding="utf-8")
    assert main(["check", write(tmp_path, plan()), "--waivers", str(bad)]) == 2
    assert "expected a mapping with a 'waivers:' list" in capsys.readouterr().err


def test_repository_waivers_file_is_valid() -> None:
    evaluation = evaluate(plan())
    assert not [
        r
        for r in evaluation.results
        if r.rule.id == "multi-waivers-file-configure-valid-waiver" and r.messages
    ]


def test_sarif_carries_rules_controls_remediation_and_suppressions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = write(tmp_path, unencrypted(plan()))
    assert main(["check", plan_file, "--format", "sarif", "--waivers", _waiver_file(tmp_path)]) == 0
    log = json.loads(capsys.readouterr().out)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == set(BY_ID)
    rule = rules[ENCRYPTION]
    assert "HIPAA 164.312(a)(2)(iv)" in rule["properties"]["tags"]
    assert rule["properties"]["remediation"] == BY_ID[ENCRYPTION].remediation
    assert rule["defaultConfiguration"]["level"] == "error"
    (result,) = run["results"]
    assert result["ruleId"] == ENCRYPTION and result["level"] == "error"
    assert (  # acme's entry in the catalog; its stack file is the related location
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == "stacks/tenants.yaml"
    )
    assert (
        result["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == f"stacks/Pulumi.{PROD}.yaml"
    )
    assert result["suppressions"][0]["status"] == "accepted"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == ENCRYPTION


def test_compliance_report_goes_framework_control_rule_resources(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["compliance", PROD, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    hipaa = next(f for f in report["frameworks"] if f["framework"] == "hipaa")
    # HIPAA controls no rule evidences yet (audit controls ...) keep its headline from PASS
    assert hipaa["tenants"] == ["globex"] and hipaa["status"] == "partial"
    control = next(c for c in hipaa["controls"] if c["control"] == "164.312(a)(2)(iv)")
    rule = next(r for r in control["rules"] if r["id"] == ENCRYPTION)
    assert rule["status"] == "pass" and rule["pass"] >= 1
    assert all(r["outcome"] == "pass" for r in rule["resources"])
    assert any("silo-globex-db-cluster" in r["urn"] for r in rule["resources"])
    # a resource tagged for other frameworks only is not evidence for HIPAA
    assert not any("silo-acme-db-cluster" in r["urn"] for r in rule["resources"])


def test_compliance_markdown_and_sarif(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compliance", PROD]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"# Compliance evidence: `{PROD}`")
    assert (
        "### PCI DSS 4.2 — PAN is protected with strong cryptography during transmission: PASS"
        in text
    )
    assert main(["compliance", PROD, "--format", "sarif"]) == 0
    log = json.loads(capsys.readouterr().out)
    assert log["runs"][0]["properties"]["compliance"]["pci"]["controls"]["4.2"] == "pass"


def test_compliance_of_an_unknown_stack_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compliance", "qa-aws-nowhere-1"]) == 2
    assert "unknown stack" in capsys.readouterr().err


# ---- the pack's wrappers, as Pulumi calls them (without starting the pack) ---------------


def _args(
    kind: str, props: dict[str, Any], protect: bool, name: str = "silo-globex-key-cmk"
) -> ResourceValidationArgs:
    opts = PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    return ResourceValidationArgs(
        kind, unknown_checking_proxy(props), urn(name, kind), name, opts, None, {}
    )


def _policy(rule_id: str) -> Any:
    main_module = importlib.import_module("policies.__main__")
    return next(p for p in main_module.POLICIES if p.name == rule_id)


def test_pack_reads_protect_from_resource_options() -> None:
    kind, props = baseline("aws_key")
    reported: list[tuple[str, Any]] = []
    _policy("multi-pulumi-stateful-enable-protect").validate(
        _args(kind, props, False), lambda m, u=None: reported.append((m, u))
    )
    assert reported == [
        (
            "protect is off; production stateful resources must be protected",
            urn("silo-globex-key-cmk", kind),
        )
    ]
    reported.clear()
    _policy("multi-pulumi-stateful-enable-protect").validate(
        _args(kind, props, True), lambda m, u=None: reported.append((m, u))
    )
    assert reported == []


def test_pack_defers_values_unknown_at_preview_to_the_update() -> None:
    kind, props = baseline("aws_cluster")
    props = copy.deepcopy(props)
    props["kmsKeyId"] = UNKNOWN_STRING_VALUE
    with pytest.raises(UnknownValueError):
        _policy(ENCRYPTION).validate(
            _args(kind, props, True, "silo-globex-db-cluster"), lambda m, u=None: None
        )


def test_pack_uses_the_shipped_config() -> None:
    kind, props = baseline("aws_cluster")
    props = copy.deepcopy(props)
    props["region"] = "us-east-1"
    reported: list[str] = []
    args = _args(kind, props, True, "silo-globex-db-cluster")
    config = importlib.import_module("policies.__main__").initial_config()[
        "aws-all-resource-configure-residency-region"
    ]
    args._ResourceValidationArgs__config = config  # type: ignore[attr-defined]  # what Pulumi passes from initial_config
    _policy("aws-all-resource-configure-residency-region").validate(
        args, lambda m, u=None: reported.append(m)
    )
    assert reported == ["region us-east-1 is outside residency zone 'eu' (eu-central-1, eu-west-1)"]


def test_today_is_injectable_for_expiry() -> None:
    waivers = parse_waivers(
        {
            "waivers": [
                {
                    "rule": ENCRYPTION,
                    "tenant": "acme",
                    "reason": "x" * 25,
                    "approver": "a",
                    "expires": "2030-01-01",
                }
            ]
        },
        BY_ID,
    )
    data = unencrypted(plan())
    assert (
        evaluate(data, waivers=waivers, today=date(2029, 12, 31)).violations()[0]["waived"] is True
    )
    late = evaluate(data, waivers=waivers, today=date(2030, 1, 2)).violations()
    assert {v["policy"] for v in late} == {ENCRYPTION, "multi-waivers-file-configure-valid-waiver"}
