"""Waivers as code (``stacks/waivers.yaml``): a waived finding is reported, never hidden.

```yaml
version: 1
waivers:
  - rule: aws-rds-cluster-enable-deletion-protection
    urn: "urn:pulumi:dev-*::tenancy::*::shard-free-01-*"   # fnmatch pattern; or
    tenant: "acme"                                         # a tenant id pattern
    reason: "Load-test clusters are recreated nightly; ticket OPS-1234"
    approver: security@example.com
    expires: 2026-12-31
```
An entry that is malformed, reasonless or expired applies to nothing and is itself a
mandatory violation (rule ``multi-waivers-file-configure-valid-waiver``).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "stacks" / "waivers.yaml"
ENV_FILE = "TENANCY_WAIVERS"
MIN_REASON = 20


class WaiverFileError(ValueError):
    """The waivers file cannot be read as a list of entries at all (exit 2)."""


@dataclass(frozen=True)
class Waiver:
    index: int
    rule: str
    urn: str | None
    tenant: str | None
    reason: str
    approver: str
    expires: date | None
    static_problems: tuple[str, ...]
    file: str = "stacks/waivers.yaml"

    @property
    def where(self) -> str:
        return f"{self.file}: waivers[{self.index}] ({self.rule or 'no rule'})"

    def problems(self, today: date) -> list[str]:
        found = list(self.static_problems)
        if self.expires is not None and self.expires < today:
            found.append(f"expired on {self.expires.isoformat()}")
        return found

    def applies(self, rule_id: str, urn: str, tenant: str | None, today: date) -> bool:
        if self.rule != rule_id or self.problems(today):
            return False
        if self.urn is not None and not fnmatch.fnmatchcase(urn, self.urn):
            return False
        return self.tenant is None or (
            tenant is not None and fnmatch.fnmatchcase(tenant, self.tenant)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "urn": self.urn,
            "tenant": self.tenant,
            "reason": self.reason,
            "approver": self.approver,
            "expires": self.expires.isoformat() if self.expires else None,
        }


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    return value.strip() if isinstance(value, str) else ""


def _expiry(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def parse_entry(index: int, entry: Any, known_rules: Collection[str], file: str) -> Waiver:
    if not isinstance(entry, Mapping):
        return Waiver(index, "", None, None, "", "", None, ("the entry must be a mapping",), file)
    problems = []
    rule = _text(entry, "rule")
    if not rule:
        problems.append("no rule id")
    elif rule not in known_rules:
        problems.append(f"unknown rule id {rule!r}")
    urn, tenant = _text(entry, "urn") or None, _text(entry, "tenant") or None
    if urn is None and tenant is None:
        problems.append("neither a urn nor a tenant pattern: a waiver must name what it covers")
    reason = _text(entry, "reason")
    if len(reason) < MIN_REASON:
        problems.append(f"the reason must be at least {MIN_REASON} characters (got {len(reason)})")
    approver = _text(entry, "approver")
    if not approver:
        problems.append("no approver")
    expires = _expiry(entry.get("expires"))
    if expires is None:
        problems.append("no valid expiry date (expires: YYYY-MM-DD)")
    unknown = sorted(set(entry) - {"rule", "urn", "tenant", "reason", "approver", "expires"})
    if unknown:
        problems.append(f"unknown keys: {', '.join(map(str, unknown))}")
    return Waiver(index, rule, urn, tenant, reason, approver, expires, tuple(problems), file)


def parse_waivers(
    data: Any, known_rules: Collection[str], file: str = "stacks/waivers.yaml"
) -> list[Waiver]:
    if data is None:
        return []
    if not isinstance(data, Mapping) or not isinstance(data.get("waivers", []), list):
        raise WaiverFileError(f"{file}: expected a mapping with a 'waivers:' list")
    return [parse_entry(i, e, known_rules, file) for i, e in enumerate(data.get("waivers") or [])]


def default_path() -> Path:
    return Path(os.environ[ENV_FILE]) if os.environ.get(ENV_FILE) else DEFAULT_FILE


def load_waivers(path: Path | None, known_rules: Collection[str]) -> list[Waiver]:
    """Entries of the waivers file; [] when it does not exist."""
    import yaml

    path = path or default_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as error:
        raise WaiverFileError(f"{path}: cannot read: {error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise WaiverFileError(f"{path}: not valid YAML: {error}") from None
    try:
        shown = str(path.resolve().relative_to(DEFAULT_FILE.parent.parent))
    except ValueError:
        shown = str(path)
    return parse_waivers(data, known_rules, shown)


def find_waiver(
    waivers: Sequence[Waiver], rule_id: str, urn: str, tenant: str | None, today: date
) -> Waiver | None:
    for waiver in waivers:
        if waiver.applies(rule_id, urn, tenant, today):
            return waiver
    return None
