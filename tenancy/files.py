"""Reading and writing the CLI's files, with bad paths reported as input errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from components.model.errors import InputError, Issue


def write_output(path: str | None, text: str) -> None:
    """Write ``text`` to ``path`` (creating its directory); nothing when ``path`` is None."""
    if not path:
        return
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise InputError(
            [
                Issue(
                    path, "", f"cannot write the output: {error.strerror}", "choose a writable path"
                )
            ]
        ) from None


def read_json(path: str, hint: str, what: str = "plan") -> Any:
    """A JSON document; unreadable, non-UTF-8 or malformed files are InputErrors with ``hint``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise InputError([Issue(path, "", f"cannot read the {what}: {reason}", hint)]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            [Issue(path, "", f"not JSON: {error.msg}", hint, line=error.lineno)]
        ) from None
