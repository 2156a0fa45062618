"""YAML text -> plain data plus a map from YAML path to line number.

The catalog is user-written, so every error should point at a line. PyYAML's
composed node tree carries marks; we walk it once and keep the line of every
mapping value and sequence item, keyed by the same location tuples pydantic
reports.
"""

from __future__ import annotations

from typing import Any

import yaml

from .errors import InputError, Issue

Loc = tuple[str | int, ...]


# libyaml's loader is several times faster on large catalogs; its composer is recursive C
# code that crashes the process on absurd nesting, so documents are depth-checked first.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DEPTH = 100  # a catalog needs about five levels


class _UniqueKeyLoader(_SafeBase):  # type: ignore[misc,valid-type]
    """Safe loader that rejects duplicate keys instead of silently keeping the last."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            # A collection key cannot be hashed; construct_mapping reports it at its line.
            continue
        key = loader.construct_object(key_node)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _index_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int], seen: set[int]) -> None:
    lines[loc] = node.start_mark.line + 1
    # An alias is the same node object again: walking it twice would loop forever on a
    # recursive anchor and blow up exponentially on nested ones ("billion laughs").
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*loc, key_node.value)
            lines[child] = key_node.start_mark.line + 1
            _index_lines(value_node, child, lines, seen)
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, (*loc, index), lines, seen)


def _depth_exceeds(text: str, limit: int) -> bool:
    """Whether collections nest deeper than ``limit``; event parsing is iterative, so safe."""
    loader = _UniqueKeyLoader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > limit:
                    return True
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        loader.dispose()
    return False


def load_yaml(text: str, file: str) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML text; raise InputError (never a traceback) when it is malformed."""
    try:
        if _depth_exceeds(text, MAX_DEPTH):
            raise RecursionError
        # Compose once and construct from the node tree: parsing is most of the cost.
        loader = _UniqueKeyLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except RecursionError:
        raise InputError(
            [
                Issue(
                    file=file,
                    path="",
                    message="the YAML is nested too deeply to read",
                    hint="flatten the document; a catalog needs only a few levels of nesting",
                )
            ]
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise InputError(
            [
                Issue(
                    file=file,
                    path="",
                    message=f"malformed YAML: {problem}",
                    hint="fix the YAML syntax at that line (indentation, quotes, ':' after keys)",
                    line=mark.line + 1 if mark else None,
                )
            ]
        ) from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _index_lines(node, (), lines, set())
    return data, lines


def line_of(lines: dict[Loc, int], loc: Loc) -> int | None:
    """Line of the closest enclosing node that has one."""
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())
