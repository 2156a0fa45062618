"""The README's compliance excerpt, generated from a real report (a test keeps it fresh).

The excerpt quotes ``tenancy compliance`` for one example stack and framework, its
not-covered rows included, so the README shows what the report proves and what it
does not. ``tenancy docs`` rewrites it (``--check``: exit 1 when it is stale).
"""

from __future__ import annotations

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
