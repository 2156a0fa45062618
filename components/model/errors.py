"""Validation findings that name the file, the YAML path, the value and the fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One rule violation in a user-written file (catalog or stack config)."""

    file: str
    path: str  # YAML path such as ``tenants[3].region``; "" for the document root
    message: str
    hint: str
    line: int | None = None

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        path = self.path or "(document root)"
        return f"{where}: {path}: {self.message}\n    fix: {self.hint}"


class InputError(Exception):
    """Bad user input; the CLI prints every issue and exits with code 2."""

    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        super().__init__("\n".join(issue.render() for issue in self.issues))


def format_path(loc: tuple[str | int, ...]) -> str:
    """Render a location tuple the way users see YAML paths: ``tenants[3].region``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
