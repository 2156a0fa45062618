"""``tenancy:entraAdminGroup`` through the CLI: a stack file without it, with a bad one, or
with one where it does not belong exits 2 naming the file, line and key path, and
registers nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import tenancy.engine
from components.model.errors import InputError
from infra import program
from tenancy.plan import plan_stack
from tests.tenancy.test_cli import STACKS, _stacks_dir, assert_bad_input, run_tenancy

AZURE = "dev-azure-westeurope"
AZURE_CONFIG = (STACKS / f"Pulumi.{AZURE}.yaml").read_text(encoding="utf-8")
AWS = "dev-aws-eu-central-1"
AWS_CONFIG = (STACKS / f"Pulumi.{AWS}.yaml").read_text(encoding="utf-8")
GROUP_LINES = (
    "  tenancy:entraAdminGroup:\n"
    "    objectId: 44444444-4444-4444-4444-444444444444\n"
    "    displayName: tenancy-dev-db-operators\n"
)
KEY = "config.tenancy:entraAdminGroup"


def _without_group() -> str:
    assert GROUP_LINES in AZURE_CONFIG
    return AZURE_CONFIG.replace(GROUP_LINES, "")


def test_an_azure_stack_without_the_group_exits_2_and_writes_no_plan(tmp_path: Path) -> None:
    stacks = _stacks_dir(tmp_path, _without_group(), stack=AZURE)
    out = tmp_path / "plan.json"
    result = run_tenancy("plan", AZURE, "--json", str(out), stacks=stacks)
    (found,) = assert_bad_input(result, "an Azure stack needs the operators' Entra group")
    assert f"/stacks/Pulumi.{AZURE}.yaml" in found["file"]
    assert found["path"] == KEY
    assert "fix: add tenancy:entraAdminGroup: {objectId:" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("old", "new", "path", "fragment"),
    [
        (
            "objectId: 44444444-4444-4444-4444-444444444444",
            "objectId: tenancy-dev-db-operators",
            "objectId",
            "object id 'tenancy-dev-db-operators' is not a GUID",
        ),
        (
            "displayName: tenancy-dev-db-operators",
            "displayName: ''",
            "displayName",
            "expected the group's display name, got ''",
        ),
    ],
)
def test_a_bad_group_field_exits_2_at_its_line(
    tmp_path: Path, old: str, new: str, path: str, fragment: str
) -> None:
    text = AZURE_CONFIG.replace(old, new)
    stacks = _stacks_dir(tmp_path, text, stack=AZURE)
    (found,) = assert_bad_input(run_tenancy("plan", AZURE, stacks=stacks), fragment)
    assert found["path"] == f"{KEY}.{path}"
    line = next(n for n, row in enumerate(text.splitlines(), 1) if new in row)
    assert int(found["line"]) == line


def test_the_group_on_an_aws_stack_exits_2(tmp_path: Path) -> None:
    stacks = _stacks_dir(tmp_path, AWS_CONFIG + GROUP_LINES, stack=AWS)
    result = run_tenancy("plan", AWS, stacks=stacks)
    (found,) = assert_bad_input(result, "only Azure stacks have Entra administrators")
    assert found["path"] == KEY
    assert "fix: remove tenancy:entraAdminGroup from this stack" in result.stderr


def test_a_missing_group_registers_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def capture(*_args: Any, **_kwargs: Any) -> Any:
        pytest.fail("the engine ran although the stack file was invalid")

    monkeypatch.setattr(program, "STACKS_DIR", _stacks_dir(tmp_path, _without_group(), AZURE))
    monkeypatch.setattr(tenancy.engine, "capture", capture)
    with pytest.raises(InputError) as caught:
        plan_stack(AZURE)
    assert [issue.path for issue in caught.value.issues] == [KEY]
