"""Every repository path the README and docs/ mention exists, so a move cannot leave them stale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tenancy.diff import APPROVAL_LABEL

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Top-level folders of the repository (the ones a doc may point into).
FOLDERS = sorted(
    p.name
    for p in ROOT.iterdir()
    if p.is_dir()
    and p.name not in (".git", ".venv", "out")
    and not p.name.endswith(".egg-info")
    and (not p.name.startswith(".") or p.name in (".github", ".ci"))
    and not p.name.startswith((".ruff", ".mypy", ".pytest", ".hypothesis"))
)
# A path starts at a top-level folder, not inside a URL or another word.
PATH = re.compile(rf"(?<![\w/.:-])(?:{'|'.join(map(re.escape, FOLDERS))})/[\w./<>*-]*")
LINK = re.compile(r"\]\(([^)#\s:]+)(?:#[^)]*)?\)")  # relative Markdown links
# A file (with an extension) or a folder (with a trailing slash). Without either, a
# token is a module name (`infra/engine` in a before/after count) or a label.
FILE_OR_FOLDER = re.compile(r"(\.[A-Za-z0-9]+|/)$")
# A doc that walks through a hypothetical example names paths that must not exist yet.
EXAMPLE_NAMES = {"adding-a-cloud.md": "oci"}


def mentioned_paths(text: str, example: str | None = None) -> list[str]:
    found = [m.group(0).rstrip(".,:;") for m in PATH.finditer(text)]
    return [
        p
        for p in found
        if FILE_OR_FOLDER.search(p)
        and not (example and re.search(rf"(?<![a-z]){example}(?![a-z])", p))
    ]


def exists(path: str, base: Path = ROOT) -> bool:
    """A path, or a template like ``components/<cloud>/silo.py`` that matches a file."""
    if "<" in path or "*" in path:
        pattern = re.sub(r"<[^>]*>", "*", path)
        return any(base.glob(pattern))
    return (base / path).exists()


def test_the_pattern_finds_paths_and_skips_urls_and_labels() -> None:
    text = (
        "see `tests/db/` and infra/cells/azure.py, https://x.io/tenancy/docs/a.md, "
        f"the `{APPROVAL_LABEL}` label"
    )
    assert mentioned_paths(text) == ["tests/db/", "infra/cells/azure.py"]
    assert mentioned_paths("`components/oci/` and `infra/engine`", example="oci") == []
    assert not exists("tests/db/")
    assert exists("components/<cloud>/silo.py")


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_every_repository_path_a_doc_mentions_exists(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    example = EXAMPLE_NAMES.get(doc.name)
    missing = sorted({p for p in mentioned_paths(text, example) if not exists(p)})
    assert not missing, f"{doc.relative_to(ROOT)} mentions paths that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_every_relative_link_of_a_doc_resolves(doc: Path) -> None:
    links = LINK.findall(doc.read_text(encoding="utf-8"))
    missing = sorted({link for link in links if not (doc.parent / link).exists()})
    assert not missing, f"{doc.relative_to(ROOT)} links to files that do not exist: {missing}"
