"""The operators' Microsoft Entra group: ``tenancy:entraAdminGroup`` (pure; no Pulumi).

```yaml
tenancy:entraAdminGroup:
  objectId: 5f0c8a7e-2b1d-4c3e-9a8f-7d6e5c4b3a21   # the group's object id in Entra ID
  displayName: tenancy-db-operators                  # the group's display name
```

Every Azure Flexible Server turns Microsoft Entra authentication on, and only an Entra
administrator of a server may create Entra login roles on it: ``tenancy db apply`` maps
each silo tenant's workload identity that way. So every Azure stack, dev or prod, names
the group whose members administer its servers, and the program makes that group (never
a user, never a workload identity) the Entra administrator of each server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import Issue

KEY = "tenancy:entraAdminGroup"
FIELDS = ("objectId", "displayName")
EXAMPLE = f"{KEY}: {{objectId: <the group's object id>, displayName: <its display name>}}"
OBJECT_ID_HINT = "copy the group's Object ID (az ad group show --group <name> --query id -o tsv)"
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
NIL_GUID = "00000000-0000-0000-0000-000000000000"
# The administrator's PostgreSQL role is named after the group; PostgreSQL role names
# have at most NAMEDATALEN - 1 = 63 bytes.
MAX_NAME_BYTES = 63


@dataclass(frozen=True)
class EntraAdminGroup:
    object_id: str  # the group's object id: what Azure and PostgreSQL match tokens against
    display_name: str  # its display name: the admin's role name, the user name operators log in as


def _issue(file: str, path: str, message: str, hint: str) -> Issue:
    return Issue(file=file, path=f"config.{path}", message=message, hint=hint)


def _object_id_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not GUID.match(value):
        return f"object id {value!r} is not a GUID"
    if value == NIL_GUID:
        return "the nil GUID is no Entra object"
    return None


def _display_name_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"expected the group's display name, got {value!r}"
    if value != value.strip():
        return f"display name {value!r} has leading or trailing spaces"
    if len(value.encode("utf-8")) > MAX_NAME_BYTES:
        return (
            f"display name {value!r} is longer than {MAX_NAME_BYTES} bytes, the limit of"
            " a PostgreSQL role name (the administrator's role is named after it)"
        )
    return None


def _fields(raw: dict[Any, Any], file: str) -> tuple[EntraAdminGroup | None, list[Issue]]:
    issues = [
        _issue(file, f"{KEY}.{name}", "unknown setting", f"allowed: {', '.join(FIELDS)}")
        for name in raw
        if name not in FIELDS
    ]
    issues += [
        _issue(file, f"{KEY}.{name}", "missing required setting", EXAMPLE)
        for name in FIELDS
        if name not in raw
    ]
    object_id, display_name = raw.get("objectId"), raw.get("displayName")
    if "objectId" in raw and (problem := _object_id_problem(object_id)):
        issues.append(_issue(file, f"{KEY}.objectId", problem, OBJECT_ID_HINT))
    if "displayName" in raw and (problem := _display_name_problem(display_name)):
        hint = "give the group's display name exactly as Entra ID shows it"
        issues.append(_issue(file, f"{KEY}.displayName", problem, hint))
    if issues:
        return None, issues
    return EntraAdminGroup(object_id=str(object_id).lower(), display_name=str(display_name)), []


def parse_entra_admin_group(
    raw: Any, file: str, cloud: str
) -> tuple[EntraAdminGroup | None, list[Issue]]:
    """The group, and every problem with it (all at once). Required on Azure stacks, refused
    on the others: only Azure servers have Entra administrators."""
    if cloud != "azure":
        if raw is None:
            return None, []
        message = f"only Azure stacks have Entra administrators; this is a {cloud} stack"
        return None, [_issue(file, KEY, message, f"remove {KEY} from this stack")]
    if raw is None or raw in ("", {}):
        message = (
            "an Azure stack needs the operators' Entra group: every server has Entra"
            " authentication on, and only its Entra administrators can map identities"
        )
        return None, [_issue(file, KEY, message, f"add {EXAMPLE}")]
    if not isinstance(raw, dict):
        return None, [_issue(file, KEY, f"expected a mapping, got {raw!r}", f"write {EXAMPLE}")]
    return _fields(raw, file)
