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


@dataclass(frozen=True)
class NameRule:
    max_len: int
    allowed: str  # regex character class of allowed characters
    min_len: int = 1
    lowercase: bool = True
    start_letter: bool = True
    single_hyphens: bool = True  # collapse "--" and strip edge hyphens
    globally_unique: bool = False  # needs a stable per-stack suffix (DNS-visible names)
    prefix: str = ""


RULES: dict[str, NameRule] = {
    # AWS RDS: 1-63, letter first, lowercase alnum + hyphen, no "--", no trailing "-".
    "aws.rds_cluster": NameRule(63, "a-z0-9-"),
    "aws.rds_instance": NameRule(63, "a-z0-9-"),
    "aws.rds_parameter_group": NameRule(255, "a-z0-9-"),
    "aws.db_subnet_group": NameRule(255, "a-z0-9-"),
    "aws.kms_alias": NameRule(256, "a-zA-Z0-9/_-", prefix="alias/", lowercase=False),
    "aws.resource": NameRule(255, "a-zA-Z0-9_-", lowercase=False),
    # Azure: Flexible Server 3-63 and Key Vault 3-24 are global DNS names.
    "azure.flexible_server": NameRule(63, "a-z0-9-", min_len=3, globally_unique=True),
    "azure.key_vault": NameRule(24, "a-zA-Z0-9-", min_len=3, globally_unique=True),
    "azure.key_vault_key": NameRule(127, "a-zA-Z0-9-"),
    "azure.resource_group": NameRule(90, "a-zA-Z0-9_.()-", lowercase=False),
    "azure.resource": NameRule(63, "a-zA-Z0-9_-", min_len=3, lowercase=False),
    "azure.database": NameRule(63, "a-z0-9_-"),
    # GCP: Cloud SQL ids are lowercase, letter first; project:instance <= 98.
    "gcp.sql_instance": NameRule(80, "a-z0-9-", globally_unique=True),
    "gcp.kms": NameRule(63, "a-zA-Z0-9_-", lowercase=False),
    "gcp.secret": NameRule(255, "a-zA-Z0-9_-", lowercase=False),
    "gcp.resource": NameRule(63, "a-z0-9-"),
    "gcp.service_account": NameRule(30, "a-z0-9-", min_len=6),  # account_id: 6-30
    # Kubernetes DNS-1123 label (namespaces, most object names).
    "k8s.dns1123_label": NameRule(63, "a-z0-9-"),
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
    if rule.start_letter and not base[:1].isalpha():
        raise NamingError(f"{kind} name {base!r} must start with a letter")
    if len(base) < rule.min_len:
        raise NamingError(f"{kind} name {base!r} is shorter than {rule.min_len} characters")
    return rule.prefix + base


def logical_name(owner: str, entity: str) -> str:
    """Pulumi logical name: stable API, derived only from the owner id and the entity."""
    return f"{owner}-{entity}"


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
