"""SARIF for code scanning: the reference validator's verdict, fingerprints, locations, links.

The validator runs once over every example stack's SARIF (check and compliance), a
plan with findings (plain and as GitHub Actions writes it) and one broken file.
"""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from infra import program
from policies.rules import BY_ID as RULES_BY_ID
from policies.rules import RULES
from tenancy.cli import main
from tenancy.plan import plan_stack
from tenancy.stackfiles import known_stacks
from tests.support.planview import planned
from tests.support.sarifvalidator import Finding, validate

ROOT = Path(__file__).resolve().parents[2]
PROD = "prod-aws-eu-central-1"
GITHUB = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/platform",
    "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
}
ENCRYPTION = "aws-rds-cluster-enable-storage-encryption"
DELETION = "aws-rds-cluster-enable-deletion-protection"
WAIVERS = """version: 1
waivers:
  - rule: aws-rds-cluster-enable-deletion-protection
    tenant: "acme"
    reason: "Load-test cluster recreated nightly; ticket OPS-1234"
    approver: security@example.com
    expires: 2099-12-31
"""

# The notes the output keeps (notes are advice; errors and warnings fail the test).
ACCEPTED_NOTES = {
    # GitHub shows message.text only (and its own rules want it fully formatted), so
    # results carry formatted text rather than messageStrings + arguments.
    "SARIF2002": "message arguments",
    # Only without a repository URL: then no versionControlProvenance.
    "SARIF2003": "version control provenance",
    # The validator fetches every URI; in a sandbox without network none is reachable.
    "SARIF2006": "URIs reachable",
    # Rule ids are the pack's public contract (waivers, docs, Pulumi policy names);
    # SARIF's PascalCase `name` sits beside them.
    "SARIF2009": "conventional rule ids",
    # Only without a repository URL: the issue asks to leave helpUri out then.
    "SARIF2012": "helpUri",
}


@functools.cache
def _plan_text(stack: str) -> str:
    return json.dumps(planned(stack).data)  # the session's plan of the stack, shared


def with_findings(plan: dict[str, Any]) -> dict[str, Any]:
    """Every Aurora cluster unencrypted and unprotected: silo (tenant) and shard (shared)."""
    for resource in plan["resources"]:
        if resource["type"] == "aws:rds/cluster:Cluster":
            resource["inputs"]["storageEncrypted"] = False
            resource["inputs"]["deletionProtection"] = False
    return plan


def _no_github(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in GITHUB:
        monkeypatch.delenv(name, raising=False)


def _check(tmp: Path, plan: dict[str, Any], name: str, *extra: str) -> dict[str, Any]:
    plan_file = tmp / f"{name}.json"
    plan_file.write_text(json.dumps(plan), encoding="utf-8")
    out = tmp / f"{name}.sarif"
    main(["check", str(plan_file), "--format", "sarif", "-o", str(out), *extra])
    return json.loads(out.read_text(encoding="utf-8"))


def _run(log: dict[str, Any]) -> dict[str, Any]:
    (run,) = log["runs"]
    return run


# ---- the reference validator -------------------------------------------------------------


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Finding]]:
    """SARIF file label -> the validator's findings for it, from one validator run."""
    out = tmp_path_factory.mktemp("sarif")
    waivers = out / "waivers.yaml"
    waivers.write_text(WAIVERS, encoding="utf-8")
    files: dict[str, Path] = {}
    with pytest.MonkeyPatch.context() as env:
        _no_github(env)
        # compliance plans the stack itself: the same plan as check's, so planned once
        env.setattr("tenancy.plan.plan_stack", lambda stack, **_: json.loads(_plan_text(stack)))
        for stack in known_stacks():
            plan_file = out / f"{stack}.json"
            plan_file.write_text(_plan_text(stack), encoding="utf-8")
            files[f"check {stack}"] = out / f"{stack}.check.sarif"
            assert (
                main(
                    [
                        "check",
                        str(plan_file),
                        "--format",
                        "sarif",
                        "-o",
                        str(files[f"check {stack}"]),
                    ]
                )
                == 0
            )
            files[f"compliance {stack}"] = out / f"{stack}.compliance.sarif"
            assert (
                main(
                    [
                        "compliance",
                        stack,
                        "--format",
                        "sarif",
                        "-o",
                        str(files[f"compliance {stack}"]),
                    ]
                )
                == 0
            )
        findings = with_findings(json.loads(_plan_text(PROD)))
        assert _run(_check(out, findings, "findings", "--waivers", str(waivers)))["results"]
        files["findings"] = out / "findings.sarif"
        for name, value in GITHUB.items():
            env.setenv(name, value)
        assert "helpUri" in str(
            _check(out, findings, "findings-actions", "--waivers", str(waivers))
        )
        files["findings on Actions"] = out / "findings-actions.sarif"
    broken = json.loads(files[f"check {PROD}"].read_text(encoding="utf-8"))
    tags = _run(broken)["tool"]["driver"]["rules"][0]["properties"]["tags"]
    tags.append(tags[0])
    files["broken"] = out / "broken.sarif"
    files["broken"].write_text(json.dumps(broken, indent=2), encoding="utf-8")
    verdict = validate(list(files.values()), out)
    by_file = {path.resolve(): label for label, path in files.items()}
    grouped: dict[str, list[Finding]] = {label: [] for label in files}
    for finding in verdict:
        grouped[by_file[finding.file.resolve()]].append(finding)
    return grouped


def test_sarif_of_every_example_stack_passes_the_validator_without_errors_or_warnings(
    validated: dict[str, list[Finding]],
) -> None:
    assert len(validated) == 2 * len(known_stacks()) + 3
    problems = [
        str(finding)
        for label, findings in validated.items()
        if label != "broken"
        for finding in findings
        if finding.level in ("error", "warning")
    ]
    assert problems == []


def test_validator_notes_are_only_the_accepted_ones(validated: dict[str, list[Finding]]) -> None:
    notes = {f.rule for label, fs in validated.items() if label != "broken" for f in fs}
    assert notes <= set(ACCEPTED_NOTES), notes - set(ACCEPTED_NOTES)
    on_actions = {f.rule for f in validated["findings on Actions"]}
    assert not on_actions & {"SARIF2003", "SARIF2012"}  # provenance and helpUri are there


def test_validator_catches_a_duplicated_tag(validated: dict[str, list[Finding]]) -> None:
    errors = [f for f in validated["broken"] if f.level == "error"]
    assert [f.rule for f in errors] == ["JSON1020"]
    assert "rules[0].properties.tags" in errors[0].message


def test_a_missing_validator_fails_the_suite_instead_of_skipping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no sarif-multitool, no node
    with pytest.raises(AssertionError, match="the SARIF validator is not installed"):
        validate([tmp_path / "any.sarif"], tmp_path)


# ---- rules, fingerprints, locations, links -----------------------------------------------


def test_every_rule_has_unique_tags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_github(monkeypatch)
    rules = _run(_check(tmp_path, json.loads(_plan_text(PROD)), "clean"))["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in RULES]
    for rule in rules:
        assert len(rule["properties"]["tags"]) == len(set(rule["properties"]["tags"])), rule["id"]
    hpa = next(r for r in rules if r["id"] == "k8s-autoscaling-hpa-configure-tier-bounds")
    assert hpa["properties"]["tags"].count("kubernetes") == 1


def _fingerprints(log: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (r["ruleId"], r["properties"]["urn"]): r["partialFingerprints"]["tenancyFinding/v2"]
        for r in _run(log)["results"]
    }


def test_fingerprints_are_stable_across_two_plans_of_a_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_github(monkeypatch)
    first = _fingerprints(_check(tmp_path, with_findings(json.loads(_plan_text(PROD))), "first"))
    second = _fingerprints(_check(tmp_path, with_findings(plan_stack(PROD)), "second"))  # anew
    assert first and first == second


def test_fingerprints_differ_between_resources_and_ignore_the_wording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_github(monkeypatch)
    plan = with_findings(json.loads(_plan_text(PROD)))
    prints = _fingerprints(_check(tmp_path, plan, "plan"))
    encryption = {urn: fp for (rule, urn), fp in prints.items() if rule == ENCRYPTION}
    assert len(encryption) == 4 and len(set(encryption.values())) == 4
    assert len(set(prints.values())) == len(prints)  # unique within the run, across rules too
    for resource in plan["resources"]:  # another finding text on the same resources
        if resource["type"] == "aws:rds/cluster:Cluster":
            resource["inputs"]["storageEncrypted"] = "yes"
    reworded = _check(tmp_path, plan, "reworded")
    assert "storageEncrypted is yes" in json.dumps(reworded)
    assert _fingerprints(reworded) == prints


def _file_lines(uri: str) -> list[str]:
    path = ROOT / uri
    assert path.is_file(), uri
    return path.read_text(encoding="utf-8").splitlines()


def _assert_points_at_a_real_line(physical: dict[str, Any]) -> int:
    lines = _file_lines(physical["artifactLocation"]["uri"])
    assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    line = physical["region"]["startLine"]
    assert 1 <= line <= len(lines)
    assert physical["region"]["snippet"]["text"] == lines[line - 1]
    context = physical["contextRegion"]
    start, end = context["startLine"], context["endLine"]
    assert start <= line <= end <= len(lines)
    assert context["snippet"]["text"] == "\n".join(lines[start - 1 : end])
    return line


def test_locations_point_at_existing_files_and_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_github(monkeypatch)
    results = _run(_check(tmp_path, with_findings(json.loads(_plan_text(PROD))), "plan"))["results"]
    assert {r["properties"].get("tenant") for r in results} == {"acme", "globex", None}
    for result in results:
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        line = _assert_points_at_a_real_line(physical)
        assert location["logicalLocations"][0]["fullyQualifiedName"] == result["properties"]["urn"]
        tenant = result["properties"].get("tenant")
        if tenant is None:  # a shard: the stack file alone
            assert physical["artifactLocation"]["uri"] == f"stacks/Pulumi.{PROD}.yaml"
            assert "relatedLocations" not in result
            continue
        assert physical["artifactLocation"]["uri"] == "stacks/tenants.yaml"
        assert _file_lines("stacks/tenants.yaml")[line - 1].strip() == f"- id: {tenant}"
        (related,) = result["relatedLocations"]
        assert (
            related["physicalLocation"]["artifactLocation"]["uri"] == f"stacks/Pulumi.{PROD}.yaml"
        )
        _assert_points_at_a_real_line(related["physicalLocation"])


def test_without_a_repository_there_is_no_help_uri(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_github(monkeypatch)
    run = _run(_check(tmp_path, json.loads(_plan_text(PROD)), "plan"))
    assert not any("helpUri" in rule for rule in run["tool"]["driver"]["rules"])
    assert "versionControlProvenance" not in run
    assert "github.com" not in json.dumps(run)
    # The tool's information is the pack's documentation where it really is: this checkout.
    assert run["tool"]["driver"]["informationUri"] == (ROOT / "docs" / "policies.md").as_uri()


def test_help_uri_comes_from_the_actions_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GITHUB.items():
        monkeypatch.setenv(name, value)
    run = _run(_check(tmp_path, json.loads(_plan_text(PROD)), "plan"))
    docs = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8").splitlines()
    for rule in run["tool"]["driver"]["rules"]:
        assert rule["helpUri"] == (
            f"https://github.com/acme/platform/blob/HEAD/docs/policies.md#{rule['id']}"
        )
        assert f"### {rule['id']}" in docs  # the anchor exists
    assert run["versionControlProvenance"] == [
        {
            "repositoryUri": "https://github.com/acme/platform",
            "mappedTo": {"uriBaseId": "%SRCROOT%"},
            "revisionId": GITHUB["GITHUB_SHA"],
        }
    ]


@pytest.fixture
def stacks_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of stacks/ (and docs/) that a test may edit; the program reads it."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "stacks", root / "stacks")
    shutil.copytree(ROOT / "docs", root / "docs")
    monkeypatch.setattr(program, "STACKS_DIR", root / "stacks")
    return root / "stacks"


def _set_repository(stacks: Path, value: str) -> Path:
    file = stacks / f"Pulumi.{PROD}.yaml"
    text = file.read_text(encoding="utf-8")
    file.write_text(
        text.replace("config:\n", f"config:\n  tenancy:repositoryUrl: {value}\n", 1),
        encoding="utf-8",
    )
    return file


def test_repository_url_setting_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stacks_copy: Path
) -> None:
    for name, value in GITHUB.items():
        monkeypatch.setenv(name, value)
    _set_repository(stacks_copy, "https://git.example.com/acme/platform.git")
    run = _run(_check(tmp_path, json.loads(_plan_text(PROD)), "plan"))
    rule = run["tool"]["driver"]["rules"][0]
    assert rule["helpUri"].startswith("https://git.example.com/acme/platform/blob/HEAD/")


@pytest.mark.parametrize("command", ["check", "compliance"])
def test_a_malformed_repository_url_is_bad_input(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stacks_copy: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    _no_github(monkeypatch)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(_plan_text(PROD), encoding="utf-8")  # before the stack file breaks
    file = _set_repository(stacks_copy, "github.com/acme/platform")
    subject = str(plan_file) if command == "check" else PROD
    out = tmp_path / "out.sarif"
    assert main([command, subject, "--format", "sarif", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{file}:2: config.tenancy:repositoryUrl: not an http(s) URL" in err
    assert "fix: set it to the repository's web address" in err and "Traceback" not in err
    assert not out.exists()


def test_a_plan_of_a_stack_not_in_stacks_points_at_the_plan_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_github(monkeypatch)
    plan = with_findings(json.loads(_plan_text(PROD).replace(PROD, "qa-aws-eu-central-1")))
    results = _run(_check(tmp_path, plan, "elsewhere"))["results"]
    assert results
    for result in results:
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact["uri"] == (tmp_path / "elsewhere.json").resolve().as_uri()


def test_one_result_per_rule_and_resource_even_with_several_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_github(monkeypatch)
    plan = json.loads(_plan_text(PROD))
    for resource in plan["resources"]:
        if resource["name"] == "silo-acme-db-cluster":
            resource["inputs"].update(
                backupRetentionPeriod=1, deleteAutomatedBackups=True, skipFinalSnapshot=True
            )
    (result,) = _run(_check(tmp_path, plan, "plan"))["results"]
    assert result["ruleId"] == "aws-rds-cluster-configure-backup-retention"
    assert result["message"]["text"] == (
        "silo-acme-db-cluster: backupRetentionPeriod is 1 days; tier enterprise requires at "
        "least 35. deleteAutomatedBackups is true; automated backups must outlive the database. "
        "skipFinalSnapshot is true; deleting the database must leave a final snapshot. Fix: "
        + RULES_BY_ID["aws-rds-cluster-configure-backup-retention"].remediation
    )
