"""Every rule of the pack, grouped by family; ``RULES`` is what ``__main__.py`` wraps."""

from __future__ import annotations

from ..framework import Rule
from . import (
    access,
    alarms,
    audit,
    backups,
    deletion,
    encryption,
    exports,
    keys,
    kubernetes,
    logs,
    network,
    pooling,
    residency,
    stack,
    tagging,
    transit,
)

FAMILIES = (
    encryption,
    keys,
    transit,
    network,
    pooling,
    residency,
    backups,
    deletion,
    kubernetes,
    tagging,
    stack,
    audit,
    exports,
    logs,
    alarms,
    access,
)
RULES: tuple[Rule, ...] = tuple(r for family in FAMILIES for r in family.RULES)
BY_ID: dict[str, Rule] = {r.id: r for r in RULES}
