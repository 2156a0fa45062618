"""Reading ``stacks/Pulumi.<stack>.yaml`` for the offline plan (Pulumi reads them itself for real runs)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from components.model.errors import InputError, Issue
from components.model.yamlsource import Loc, line_of, load_yaml
from infra import program


def known_stacks(stacks_dir: Path | None = None) -> list[str]:
    # Read at call time, so tests (and embedders) can point program.STACKS_DIR elsewhere.
    stacks_dir = stacks_dir or program.STACKS_DIR
    return sorted(
        path.name[len("Pulumi.") : -len(".yaml")] for path in stacks_dir.glob("Pulumi.*.yaml")
    )


def read_stack_config(stack: str, stacks_dir: Path | None = None) -> dict[str, Any]:
    """The stack file's ``config:`` mapping; InputError for unknown stacks or bad files."""
    return read_stack_file(stack, stacks_dir)[0]


def read_stack_file(
    stack: str, stacks_dir: Path | None = None
) -> tuple[dict[str, Any], dict[Loc, int]]:
    """The ``config:`` mapping plus the line of every YAML path, for error messages."""
    # Read at call time, so tests (and embedders) can point program.STACKS_DIR elsewhere.
    stacks_dir = stacks_dir or program.STACKS_DIR
    path = stacks_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(known_stacks(stacks_dir)) or "(none)"
        raise InputError(
            [
                Issue(
                    str(path),
                    "",
                    f"unknown stack {stack!r}",
                    f"use one of: {known}; or create {path.name}",
                )
            ]
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise InputError(
            [Issue(str(path), "", f"cannot read the stack file: {reason}", "save it as UTF-8 YAML")]
        ) from None
    data, lines = load_yaml(text, str(path))
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise InputError(
            [
                Issue(
                    str(path),
                    "config",
                    "the stack file needs a 'config:' mapping",
                    "see stacks/Pulumi.dev-aws-eu-central-1.yaml",
                )
            ]
        )
    return dict(data["config"]), lines


def config_loc(path: str) -> Loc:
    """``config.tenancy:alerts[1].target`` -> ``("config", "tenancy:alerts", 1, "target")``."""
    loc: list[str | int] = ["config"]
    for part in filter(None, path[len("config.") :].split(".")):
        name, *indices = re.split(r"\[(\d+)\]", part)  # "alerts[1]" -> alerts, 1, ""
        loc += [name] if name else []
        loc += [int(index) for index in indices if index]
    return tuple(loc)


def with_stack_lines(
    error: InputError, stack: str, lines: dict[Loc, int], stacks_dir: Path | None = None
) -> InputError:
    """Add line numbers to the stack-file issues (``config.<key>`` paths) of an error."""
    # Read at call time, so tests (and embedders) can point program.STACKS_DIR elsewhere.
    stacks_dir = stacks_dir or program.STACKS_DIR
    file = str(stacks_dir / f"Pulumi.{stack}.yaml")

    def located(issue: Issue) -> Issue:
        if issue.file != file or issue.line or not issue.path.startswith("config."):
            return issue
        return replace(issue, line=line_of(lines, config_loc(issue.path)))

    return InputError([located(issue) for issue in error.issues])


def engine_config(config: dict[str, Any]) -> dict[str, str]:
    """Pulumi passes config to programs as strings; structured values travel as JSON."""
    return {
        key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()
    }
