"""What SARIF points at: the stack file, each tenant's catalog line, the repository's URL.

Paths are relative to the project root (the directory holding ``stacks/``), as code
scanning resolves them against the checkout. The repository URL comes from the
stack setting ``tenancy:repositoryUrl`` or, in GitHub Actions, from
``GITHUB_SERVER_URL``/``GITHUB_REPOSITORY``; without either, no link is invented.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from components.model.errors import InputError, Issue
from components.model.stack import REPOSITORY_URL_HINT, repository_url_problem
from components.model.yamlsource import Loc, line_of, load_yaml
from infra import program
from policies.sarif import DOCS_PATH, Place, Sources
from tenancy.stackfiles import known_stacks, read_stack_file

REPOSITORY_KEY = "tenancy:repositoryUrl"


def _project_root() -> Path:
    # Read at call time, so tests (and embedders) can point program.STACKS_DIR elsewhere.
    return program.STACKS_DIR.resolve().parent


def _uri(path: Path) -> str:
    """Repo-relative when the file is in the project, else an absolute file URI."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(_project_root()).as_posix()
    except ValueError:
        return resolved.as_uri()


def repository_url(
    config: Mapping[str, Any],
    environ: Mapping[str, str],
    file: str,
    lines: dict[Loc, int],
) -> str | None:
    """The stack setting wins (a deliberate choice); else the Actions environment."""
    value = config.get(REPOSITORY_KEY)
    if value is not None:
        problem = repository_url_problem(value)
        if problem:  # `tenancy check` reads the stack file without the program's validation
            where = line_of(lines, ("config", REPOSITORY_KEY))
            raise InputError(
                [Issue(file, f"config.{REPOSITORY_KEY}", problem, REPOSITORY_URL_HINT, where)]
            )
        return str(value).rstrip("/").removesuffix(".git")
    server, repository = environ.get("GITHUB_SERVER_URL"), environ.get("GITHUB_REPOSITORY")
    if server and repository:
        return f"{server.rstrip('/')}/{repository}"
    return None


def _place(uri: str, what: str, text_lines: list[str], loc: Loc, lines: dict[Loc, int]) -> Place:
    """The first line of the YAML node at ``loc``, with the node's lines as context."""
    start = lines[loc]
    end = max(line for key, line in lines.items() if key[: len(loc)] == loc)
    return Place(
        uri,
        start,
        what,
        snippet=text_lines[start - 1],
        context=(start, end, "\n".join(text_lines[start - 1 : end])),
    )


def _tenant_places(catalog: Path) -> dict[str, Place]:
    """Tenant id -> its entry in the catalog, starting at the ``- id:`` line."""
    try:
        text = catalog.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}  # a plan from elsewhere: findings then point at the stack file
    data, lines = load_yaml(text, str(catalog))
    entries = data.get("tenants") if isinstance(data, dict) else None
    uri, text_lines = _uri(catalog), text.splitlines()
    places: dict[str, Place] = {}
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        tenant = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(tenant, str) and ("tenants", index) in lines:
            what = f"tenant {tenant} in the catalog"
            places[tenant] = _place(uri, what, text_lines, ("tenants", index), lines)
    return places


def _docs_uri() -> str | None:
    docs = _project_root() / DOCS_PATH
    return docs.as_uri() if docs.is_file() else None


def stack_sources(
    stack: str,
    *,
    catalog: str | None = None,
    fallback: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Sources:
    """Sources of a stack in ``stacks/``; for a stack not there, ``fallback`` (the plan
    file) is the location of every finding."""
    environ = os.environ if environ is None else environ
    if stack not in known_stacks() and fallback is not None:
        place = Place(_uri(Path(fallback)), 1, f"plan of stack {stack}")
        return Sources(place, {}, repository_url({}, environ, "", {}), None, _docs_uri())
    config, lines = read_stack_file(stack)
    file = program.stack_file(stack)
    text_lines = Path(file).read_text(encoding="utf-8").splitlines()
    stack_place = _place(_uri(Path(file)), f"stack {stack}", text_lines, ("config",), lines)
    catalog_path = catalog or str(config.get("tenancy:catalog") or "tenants.yaml")
    catalog_file = Path(catalog_path)
    if not catalog_file.is_absolute():
        catalog_file = (Path.cwd() if catalog else program.STACKS_DIR) / catalog_file
    return Sources(
        stack_file=stack_place,
        tenants=_tenant_places(catalog_file),
        repository_url=repository_url(config, environ, file, lines),
        revision=environ.get("GITHUB_SHA") or None,
        docs_uri=_docs_uri(),
    )
