"""The tenancy command: exit codes, the error format, no tracebacks, nothing registered on bad input."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tenancy.cli
import tenancy.engine
from components.model.errors import InputError
from components.model.schema import catalog_json_schema_text
from tenancy.plan import plan_stack

ROOT = Path(__file__).resolve().parents[2]
STACKS = ROOT / "stacks"
EXAMPLE = (STACKS / "tenants.yaml").read_text(encoding="utf-8")
DEV = "dev-aws-eu-central-1"
DEV_CONFIG = (STACKS / f"Pulumi.{DEV}.yaml").read_text(encoding="utf-8")

# Runs the CLI with stacks/ replaced by a test directory (for stack-file cases).
_BOOT = """
import sys, pathlib
import infra.program as program
stacks = pathlib.Path(sys.argv[1])
program.STACKS_DIR = stacks
import tenancy.cli
sys.exit(tenancy.cli.main(sys.argv[2:]))
"""
# file[:line]: path: message, then an indented fix line.
ERROR_LINE = re.compile(
    r"^error: (?P<file>[^:]+(?::(?P<line>\d+))?): (?P<path>\(document root\)|\S+): (?P<message>.+)$"
)


def run_tenancy(*args: str, stacks: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TENANCY_DEBUG"}
    if stacks is None:
        command = [sys.executable, "-m", "tenancy.cli", *args]
    else:
        command = [sys.executable, "-c", _BOOT, str(stacks), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)


def errors(stderr: str) -> list[re.Match[str]]:
    return [m for m in map(ERROR_LINE.match, stderr.splitlines()) if m]


def assert_bad_input(
    result: subprocess.CompletedProcess[str], fragment: str
) -> list[re.Match[str]]:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    found = errors(result.stderr)
    assert found, result.stderr
    assert any(fragment in m["message"] for m in found), result.stderr
    lines = result.stderr.splitlines()
    for index, line in enumerate(lines):
        if ERROR_LINE.match(line):
            assert lines[index + 1].startswith("    fix: "), result.stderr
    return found


def _catalog(tmp_path: Path, text: str | bytes, name: str = "tenants.yaml") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def _mutated(mutate: Any) -> str:
    data = yaml.safe_load(EXAMPLE)
    mutate(data)
    return yaml.safe_dump(data, sort_keys=False)


def _stacks_dir(tmp_path: Path, stack_text: str | bytes, stack: str = DEV) -> Path:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "tenants.yaml").write_text(EXAMPLE, encoding="utf-8")
    target = stacks / f"Pulumi.{stack}.yaml"
    if isinstance(stack_text, bytes):
        target.write_bytes(stack_text)
    else:
        target.write_text(stack_text, encoding="utf-8")
    return stacks


# --- bad catalogs ---------------------------------------------------------------


def _set_region(data: dict[str, Any]) -> None:
    data["tenants"][0]["region"] = "us-east-1"


def _duplicate(data: dict[str, Any]) -> None:
    data["tenants"].append(dict(data["tenants"][1]))


def _beyond_bounds(data: dict[str, Any]) -> None:
    data["tenants"][0]["overrides"] = {"app": {"max_replicas": 500}}


def _wrong_type(data: dict[str, Any]) -> None:
    data["tiers"]["free"]["database"]["backup_retention_days"] = "seven"


BAD_CATALOGS = [
    pytest.param("version: 1\ntiers: {free: [\n", "malformed YAML", True, id="malformed catalog"),
    pytest.param(_mutated(_set_region), "outside residency zone", True, id="region outside zone"),
    pytest.param(_mutated(_duplicate), "duplicate tenant id", True, id="duplicate ids"),
    pytest.param(
        _mutated(_beyond_bounds),
        "outside tier 'enterprise' bounds",
        True,
        id="overrides beyond bounds",
    ),
    pytest.param("", "got empty", False, id="empty catalog"),
    pytest.param("- a\n- b\n", "got list", True, id="list document"),
    pytest.param(_mutated(_wrong_type), "valid integer", True, id="wrong YAML type"),
    pytest.param("version: 1\nversion: 1\n", "duplicate key", True, id="duplicate YAML key"),
    pytest.param(b"\xff\xfe\x00version: 1", "not UTF-8", False, id="binary file"),
]


@pytest.mark.parametrize(("text", "fragment", "has_line"), BAD_CATALOGS)
def test_bad_catalog_exits_2_with_file_line_path_and_fix(
    tmp_path: Path, text: str | bytes, fragment: str, has_line: bool
) -> None:
    path = _catalog(tmp_path, text)
    found = assert_bad_input(run_tenancy("plan", DEV, "--catalog", path), fragment)
    assert all(m["file"].startswith(path) for m in found)
    if has_line:
        assert all(m["line"] for m in found), found


def _moving_out_of_a_suspended_pool(data: dict[str, Any]) -> None:
    tenant = next(t for t in data["tenants"] if t["id"] == "hooli")
    tenant.update(tier="enterprise", status="suspended", moving_from={"tier": "gold"})


def test_bad_moving_from_exits_2_with_path_and_fix_and_writes_no_plan(tmp_path: Path) -> None:
    path = _catalog(tmp_path, _mutated(_moving_out_of_a_suspended_pool))
    out = tmp_path / "plan.json"
    result = run_tenancy("plan", DEV, "--catalog", path, "--json", str(out))
    found = assert_bad_input(result, "only an active tenant can move")
    assert {m["path"] for m in found} == {"tenants[4].moving_from", "tenants[4].moving_from.tier"}
    assert "fix: name the tier the tenant is leaving" in result.stderr
    assert not out.exists()


def test_missing_catalog_file_exits_2(tmp_path: Path) -> None:
    assert_bad_input(
        run_tenancy("plan", DEV, "--catalog", str(tmp_path / "nope.yaml")), "cannot read"
    )


def test_directory_as_catalog_exits_2(tmp_path: Path) -> None:
    assert_bad_input(run_tenancy("plan", DEV, "--catalog", str(tmp_path)), "cannot read")


def test_every_catalog_error_is_printed(tmp_path: Path) -> None:
    def three(data: dict[str, Any]) -> None:
        _set_region(data)
        _beyond_bounds(data)
        data["tenants"][2]["tier"] = "gold"

    found = assert_bad_input(
        run_tenancy("plan", DEV, "--catalog", _catalog(tmp_path, _mutated(three))), "unknown tier"
    )
    assert {m["path"] for m in found} >= {
        "tenants[0].region",
        "tenants[0].overrides.app.max_replicas",
        "tenants[2].tier",
    }


# --- bad stacks -----------------------------------------------------------------


def test_unknown_stack_exits_2_and_lists_the_known_ones() -> None:
    result = run_tenancy("plan", "staging-aws-eu-central-1")
    assert_bad_input(result, "unknown stack")
    assert DEV in result.stderr


def test_malformed_stack_file_exits_2(tmp_path: Path) -> None:
    stacks = _stacks_dir(tmp_path, "config:\n  aws:region: [eu-central-1\n")
    found = assert_bad_input(run_tenancy("plan", DEV, stacks=stacks), "malformed YAML")
    assert found[0]["line"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("- config\n", "needs a 'config:' mapping", id="list instead of mapping"),
        pytest.param("", "needs a 'config:' mapping", id="empty stack file"),
        pytest.param(
            DEV_CONFIG.replace("environment: dev", "environment: prod"),
            "contradicts the stack name",
            id="environment contradicts the name",
        ),
        pytest.param(
            DEV_CONFIG.replace("  tenancy:residency: eu\n", ""),
            "missing required setting",
            id="missing residency",
        ),
        pytest.param(
            DEV_CONFIG.replace("residency: eu", "residency: us"),
            "outside residency zone 'us'",
            id="cell region outside its zone",
        ),
        pytest.param(
            DEV_CONFIG + "  tenancy:catalgo: x.yaml\n", "unknown tenancy setting", id="misspelt key"
        ),
        pytest.param(
            DEV_CONFIG + "  tenancy:network: {privateSubnetIds: [subnet-a, subnet-b]}\n",
            "missing the VPC id",
            id="network without a VPC",
        ),
        pytest.param(
            DEV_CONFIG
            + "  tenancy:network: {vpcId: vpc-1, privateSubnetIds: [s-a, s-b], allowedCidrs: [0.0.0.0/0]}\n",
            "private CIDR blocks",
            id="public CIDR allowed",
        ),
        pytest.param(
            DEV_CONFIG + "  tenancy:network: {vpcId: vpc-1, privateSubnetIds: subnet-a}\n",
            "at least two private subnet ids",
            id="subnets as a string",
        ),
        pytest.param(b"config:\n  aws:region: \xff\n", "not UTF-8", id="binary stack file"),
    ],
)
def test_bad_stack_file_exits_2(tmp_path: Path, text: str | bytes, fragment: str) -> None:
    stacks = _stacks_dir(tmp_path, text)
    assert_bad_input(run_tenancy("plan", DEV, stacks=stacks), fragment)


def test_stack_name_that_is_not_a_cell_exits_2(tmp_path: Path) -> None:
    stacks = _stacks_dir(tmp_path, DEV_CONFIG, stack="sandbox")
    assert_bad_input(run_tenancy("plan", "sandbox", stacks=stacks), "is not <env>-<cloud>-<region>")


def test_usage_errors_exit_2_without_traceback() -> None:
    for args in ([], ["plan"], ["plan", DEV, "--all"], ["frobnicate"]):
        result = run_tenancy(*args)
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr
        assert "usage:" in result.stderr


# --- nothing registered -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(_mutated(_set_region), id="region outside zone"),
        pytest.param(_mutated(_duplicate), id="duplicate ids"),
        pytest.param("", id="empty catalog"),
    ],
)
def test_bad_input_registers_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    def capture(*_args: Any, **_kwargs: Any) -> Any:
        pytest.fail("the engine ran although the input was invalid")

    monkeypatch.setattr(tenancy.engine, "capture", capture)
    with pytest.raises(InputError):
        plan_stack(DEV, catalog=_catalog(tmp_path, text))


def test_unknown_stack_registers_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tenancy.engine, "capture", lambda *a, **k: pytest.fail("engine ran"))
    with pytest.raises(InputError):
        plan_stack("staging-aws-eu-central-1")


# --- good runs ------------------------------------------------------------------


def test_plan_writes_json_and_markdown(tmp_path: Path) -> None:
    json_path, md_path = tmp_path / "plan.json", tmp_path / "plan.md"
    result = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "tenancy"),
            "plan",
            DEV,
            "--json",
            str(json_path),
            "--markdown",
            str(md_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(json_path.read_text())
    assert plan["stack"] == DEV and plan["project"] == "tenancy"
    assert {"resources", "tenants", "outputs", "violations"} <= set(plan)
    resource = plan["resources"][1]
    assert {
        "urn",
        "type",
        "name",
        "parent",
        "custom",
        "inputs",
        "protect",
        "retain_on_delete",
        "dependencies",
    } <= set(resource)
    assert md_path.read_text().startswith(f"# Plan: `{DEV}`")
    assert DEV in result.stdout


def test_plan_all_plans_every_stack(tmp_path: Path) -> None:
    result = run_tenancy(
        "plan", "--all", "--json", str(tmp_path / "json"), "--markdown", str(tmp_path / "md")
    )
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in STACKS.glob("Pulumi.*.yaml"))
    assert sorted(p.stem for p in (tmp_path / "json").glob("*.json")) == stacks
    assert sorted(p.stem for p in (tmp_path / "md").glob("*.md")) == stacks


def test_schema_prints_the_catalog_schema() -> None:
    result = run_tenancy("schema")
    assert result.returncode == 0
    assert result.stdout == catalog_json_schema_text()
    assert json.loads(result.stdout)["title"] == "tenancy tenant catalog"


def test_schema_writes_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    assert run_tenancy("schema", "--output", str(out)).returncode == 0
    assert out.read_text() == catalog_json_schema_text()


# --- fuzz -------------------------------------------------------------------------


_LINES = EXAMPLE.splitlines()
_JUNK = st.sampled_from(
    [
        "",
        "  ",
        "- ",
        ": ",
        "{",
        "]",
        "&a",
        "*a",
        "!!binary",
        "'",
        '"',
        "\t",
        "~",
        "null",
        "-1",
        "1e9",
        "[]",
        "{}",
        "tenants:",
        "  - id: acme",
        "tier: gold",
        "region: mars-1",
        "\u00e9",
        "#",
    ]
)


@st.composite
def mutated_catalogs(draw: st.DrawFn) -> str:
    lines = list(_LINES)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(
            st.sampled_from(["delete", "insert", "replace", "append", "duplicate", "dedent"])
        )
        junk = draw(_JUNK)
        if action == "delete":
            del lines[index]
        elif action == "insert":
            lines.insert(index, junk)
        elif action == "replace":
            lines[index] = junk
        elif action == "append":
            lines[index] += junk
        elif action == "duplicate":
            lines.insert(index, lines[index])
        else:
            lines[index] = lines[index].lstrip()
        if not lines:
            break
    return "\n".join(lines) + "\n"


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=mutated_catalogs())
def test_fuzzed_catalogs_never_crash_the_cli(
    text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = _catalog(tmp_path_factory.mktemp("fuzz"), text)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = tenancy.cli.main(["plan", DEV, "--catalog", path])
    assert code in (0, 1, 2), stderr.getvalue()
    assert "Traceback" not in stderr.getvalue()
    assert "internal error" not in stderr.getvalue()
    if code == 2:
        assert errors(stderr.getvalue()), stderr.getvalue()


@pytest.mark.parametrize(
    ("extra", "fragment", "path"),
    [
        (
            "  tenancy:alerts:\n"
            "    - {kind: email, target: oncall@example.com}\n"
            "    - {kind: pagerduty, target: https://hooks.example.com/pd}\n",
            "is not a PagerDuty integration URL",
            "config.tenancy:alerts[1].target",
        ),
        (
            "  tenancy:alerts:\n    - {kind: sms, target: '+4912345'}\n",
            "unknown channel kind 'sms'",
            "config.tenancy:alerts[0].kind",
        ),
        (
            "  tenancy:prometheusOperator: maybe\n",
            "expected true or false",
            "config.tenancy:prometheusOperator",
        ),
    ],
)
def test_bad_alert_settings_exit_2_at_their_line(
    tmp_path: Path, extra: str, fragment: str, path: str
) -> None:
    text = DEV_CONFIG + extra
    stacks = _stacks_dir(tmp_path, text)
    (found,) = assert_bad_input(run_tenancy("plan", DEV, stacks=stacks), fragment)
    assert found["path"] == path
    # The line of the offending entry (the last line added), not the file's first.
    assert int(found["line"]) == len(text.splitlines())
