"""Reading ``stacks/Pulumi.<stack>.yaml`` for the offline plan (Pulumi reads them itself for real runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from components.model.errors import InputError, Issue
from components.model.yamlsource import load_yaml
from infra.program import STACKS_DIR


def known_stacks(stacks_dir: Path = STACKS_DIR) -> list[str]:
    return sorted(
        path.name[len("Pulumi.") : -len(".yaml")] for path in stacks_dir.glob("Pulumi.*.yaml")
    )


def read_stack_config(stack: str, stacks_dir: Path = STACKS_DIR) -> dict[str, Any]:
    """The stack file's ``config:`` mapping; InputError for unknown stacks or bad files."""
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
    data, _lines = load_yaml(text, str(path))
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
    return dict(data["config"])


def engine_config(config: dict[str, Any]) -> dict[str, str]:
    """Pulumi passes config to programs as strings; structured values travel as JSON."""
    return {
        key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()
    }
