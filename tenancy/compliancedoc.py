"""The README's compliance excerpt, generated from a real report (a test keeps it fresh).

The excerpt quotes ``tenancy compliance`` for one example stack and framework, its
not-covered rows included, so the README shows what the report proves and what it
does not. Regenerate after changing the rules, the scope list or the catalog:

    .venv/bin/python -m tenancy.compliancedoc          # rewrite the excerpt in README.md
    .venv/bin/python -m tenancy.compliancedoc --check  # exit 1 when it is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from policies.report import compliance_excerpt
from tenancy.commands.check import stack_compliance

README = Path(__file__).resolve().parent.parent / "README.md"
STACK = "prod-aws-eu-central-1"
FRAMEWORK = "hipaa"
START = "<!-- compliance-excerpt:start -->\n"
END = "<!-- compliance-excerpt:end -->"


def excerpt() -> str:
    _evaluation, report = stack_compliance(STACK)
    return compliance_excerpt(report, FRAMEWORK)


def readme_with(text: str, readme: str) -> str:
    """``readme`` with the text between the markers replaced by ``text``."""
    start = readme.index(START) + len(START)
    end = readme.index(END)
    return readme[:start] + text + readme[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when README.md is stale")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    fresh = readme_with(excerpt(), current)
    if args.check:
        if fresh != current:
            print("README.md compliance excerpt is stale: run python -m tenancy.compliancedoc")
            return 1
        return 0
    README.write_text(fresh, encoding="utf-8")
    print(f"wrote the compliance excerpt into {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
