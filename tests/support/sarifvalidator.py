"""Microsoft's SARIF Multitool ``validate``, the reference validator, as the tests run it.

``make test`` and ``.ci/run`` install it (``.ci/ensure-sarif-multitool.sh``); a missing
validator fails the tests rather than skipping them, so CI can never pass unvalidated.
The validator exits 0 even when it reports errors: its verdict is its own SARIF log,
which :func:`validate` reads back.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

INSTALL = "bash .ci/ensure-sarif-multitool.sh (npm install -g @microsoft/sarif-multitool)"


def multitool() -> str | None:
    """The validator's native binary, or None when it is not installed."""
    launcher = shutil.which("sarif-multitool")
    if launcher is None:
        return None
    real = Path(launcher).resolve()
    if real.suffix != ".js":
        return str(real)
    # npm's launcher runs the binary through a shell, which would split the validator's
    # ';'-separated option lists; its package resolves the binary's path for us.
    found = subprocess.run(
        ["node", "-p", f"require({json.dumps(str(real.parent))})"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return found.stdout.strip()


@dataclass(frozen=True)
class Finding:
    """One complaint of the validator about one file."""

    file: Path
    level: str  # error | warning | note
    rule: str  # e.g. JSON1020, SARIF2005
    message: str

    def __str__(self) -> str:
        return f"{self.file.name}: {self.level} {self.rule}: {self.message}"


def _text(result: dict[str, Any], rule: dict[str, Any]) -> str:
    message = result.get("message", {})
    if "text" in message:
        return str(message["text"])
    template = rule.get("messageStrings", {}).get(message.get("id"), {}).get("text", "{0}")
    args = [str(a) for a in message.get("arguments", [])]
    try:
        return str(template.format(*args))
    except (IndexError, KeyError, ValueError):
        return f"{message.get('id')}: {args}"


def _findings(log: dict[str, Any]) -> list[Finding]:
    out = []
    for run in log.get("runs", []):
        rules = {r["id"]: r for r in run["tool"]["driver"].get("rules", [])}
        for result in run.get("results", []):
            rule = rules.get(result["ruleId"], {})
            # A result without a level takes its rule's default (SARIF 3.27.10).
            level = result.get("level") or rule.get("defaultConfiguration", {}).get(
                "level", "warning"
            )
            located = result.get("locations") or [{}]
            artifact = located[0].get("physicalLocation", {}).get("artifactLocation", {})
            uri = artifact.get("uri") or result.get("analysisTarget", {}).get("uri", "")
            out.append(
                Finding(
                    Path(unquote(urlsplit(uri).path)), level, result["ruleId"], _text(result, rule)
                )
            )
    return out


def validate(files: list[Path], workdir: Path) -> list[Finding]:
    """Every error, warning and note of one validator run over ``files``."""
    binary = multitool()
    assert binary, f"the SARIF validator is not installed: run {INSTALL}"
    report = workdir / "validation.sarif"
    command = [binary, "validate", *map(str, files), "--output", str(report)]
    command += ["--log", "ForceOverwrite", "--level", "Error;Warning;Note", "--quiet"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and report.is_file(), run.stdout + run.stderr
    return _findings(json.loads(report.read_text(encoding="utf-8")))
