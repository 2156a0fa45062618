"""``tenancy docs``: regenerate (or ``--check``) the documentation generated from code.

- ``docs/policies.md``: the rules table, from the rules' metadata;
- ``docs/compliance-scope.md``: the controls in scope, from ``policies/scope.py``;
- the README's compliance excerpt, from a real ``tenancy compliance`` report;
- the README's cost and SLO tables, from the example stacks' plans and the price tables.

``python -m policies.docs`` still writes the first two where only the pack is at hand.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tenancy.errors import EXIT_FINDINGS, EXIT_OK

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _targets() -> list[tuple[Path, Callable[[str], str]]]:
    """Each generated file with a function from its current text to its fresh text."""
    from policies.docs import policies_markdown, scope_markdown
    from tenancy import compliancedoc
    from tenancy.cost import readme_with_tables

    return [
        (DOCS / "policies.md", lambda _current: policies_markdown()),
        (DOCS / "compliance-scope.md", lambda _current: scope_markdown()),
        (
            compliancedoc.README,
            lambda current: compliancedoc.readme_with(compliancedoc.excerpt(), current),
        ),
        (compliancedoc.README, readme_with_tables),
    ]


def cmd_docs(args: argparse.Namespace) -> int:
    stale = []
    for path, fresh_of in _targets():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        fresh = fresh_of(current)
        if fresh == current:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(fresh, encoding="utf-8")
            print(f"wrote {path}")
    if args.check and stale:
        for path in stale:
            print(f"{path} is stale: run tenancy docs", file=sys.stderr)
        return EXIT_FINDINGS
    return EXIT_OK


def register(commands: Any) -> None:
    docs = commands.add_parser(
        "docs", help="regenerate the docs generated from code (rules, controls, README excerpt)"
    )
    docs.add_argument("--check", action="store_true", help="exit 1 when a file is stale")
    docs.set_defaults(handler=cmd_docs)
