"""Physical resource names, within each cloud's identifier rules.

Logical (Pulumi) names are ``<tenant-or-shard>-<entity>`` and never change;
physical names add the environment and must satisfy the target service's
charset and length rules. When a name would be too long it is shortened
*with a digest of the full name* (never a bare cut), and ``NameRegistry``
turns any remaining clash between two owners into an error.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from .clouds import CLOUD_TRAITS
from .namerules import NameRule

# Kubernetes DNS-1123 label (namespaces, most object names); each cloud's own kinds
# come from its traits record as "<cloud>.<kind>", e.g. "aws.rds_cluster".
KUBERNETES_RULES: dict[str, NameRule] = {"k8s.dns1123_label": NameRule(63, "a-z0-9-")}

RULES: dict[str, NameRule] = KUBERNETES_RULES | {
    f"{cloud.name}.{kind}": rule
    for cloud in CLOUD_TRAITS.values()
    for kind, rule in cloud.name_rules.items()
}


class NamingError(ValueError):
    """Two owners would get the same physical name, or a name cannot be formed."""


def _digest(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _clean(text: str, rule: NameRule) -> str:
    if rule.lowercase:
        text = text.lower()
    text = re.sub(f"[^{rule.allowed}]", "-", text)
    if rule.single_hyphens:
        text = re.sub("-{2,}", "-", text).strip("-")
    return text


def physical_name(kind: str, *parts: str, unique_seed: str = "") -> str:
    """Join parts into a valid name of ``kind``.

    ``unique_seed`` (project/stack) feeds the stable suffix of globally unique
    names, so dev and prod of one tenant never race for the same DNS name.
    """
    rule = RULES[kind]
    base = _clean("-".join(part for part in parts if part), rule)
    if rule.globally_unique:
        base = f"{base}-{_digest(unique_seed + '/' + base)}"
    budget = rule.max_len - len(rule.prefix)
    if len(base) > budget:
        # Keep a readable head and make the tail a digest of the whole name.
        base = f"{base[: budget - 7].rstrip('-')}-{_digest(base)}"
    # A literal hyphen ends the character class; without one (storage accounts: letters and
    # digits only) the parts are joined without separators.
    if not rule.allowed.endswith("-"):
        base = base.replace("-", "")
    if rule.start_letter and not base[:1].isalpha():
        raise NamingError(f"{kind} name {base!r} must start with a letter")
    if len(base) < rule.min_len:
        raise NamingError(f"{kind} name {base!r} is shorter than {rule.min_len} characters")
    return rule.prefix + base


@dataclass
class NameRegistry:
    """Claims physical names per kind within one stack and rejects clashes."""

    owners: dict[tuple[str, str], str] = field(default_factory=dict)

    def claim(self, kind: str, owner: str, *parts: str, unique_seed: str = "") -> str:
        name = physical_name(kind, *parts, unique_seed=unique_seed)
        holder = self.owners.setdefault((kind, name), owner)
        if holder != owner:
            raise NamingError(
                f"{owner!r} and {holder!r} would both be named {name!r} ({kind}); "
                "rename one tenant id so they differ after normalisation"
            )
        return name


# The last name part of a cell's log destinations (AWS log key alias, Azure workspace, GCP
# log bucket and key ring). Two letters: tenant ids have at least three, so no tenant's
# server or key name can ever equal a cell's log name.
CELL_LOGS = "lg"
CELL_EXPORTS = "ex"  # the cell's export bucket and its key (short for the same reason)
CELL_ALERTS = "al"  # the cell's alarm topic and monitoring role (same reason)
