"""Reading a plan JSON written by ``tenancy plan --json``, trusting nothing in it."""

from __future__ import annotations

from typing import Any

from components.model.errors import InputError, Issue
from tenancy.files import read_json

HINT = "give a file written by `tenancy plan STACK --json F`"
_RESOURCE_FIELDS: dict[str, tuple[type, ...]] = {
    "urn": (str,),
    "type": (str,),
    "name": (str,),
    "parent": (str, type(None)),
    "custom": (bool,),
    "inputs": (dict,),
    "protect": (bool,),
}
_OPTIONAL_RESOURCE_FIELDS: dict[str, tuple[type, ...]] = {
    "retain_on_delete": (bool,),
    "provider": (str, type(None)),
    "dependencies": (list,),
}
_TENANT_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "tier": (str,),
    "isolation": (str,),
    "shard": (str, type(None)),
}
_OPTIONAL_TENANT_FIELDS: dict[str, tuple[type, ...]] = {
    "status": (str,),
    "compliance": (list,),
    "moving_from": (dict,),  # only on a tenant in motion: its old home
    "move_command": (str,),
}
_HOME_FIELDS = {key: _TENANT_FIELDS[key] for key in ("tier", "isolation", "shard")}


def _type_name(types: tuple[type, ...]) -> str:
    return " or ".join("null" if t is type(None) else t.__name__ for t in types)


def _check_fields(
    row: Any,
    where: str,
    required: dict[str, tuple[type, ...]],
    optional: dict[str, tuple[type, ...]],
    issue: Any,
) -> bool:
    if not isinstance(row, dict):
        issue(where, f"expected an object, got {type(row).__name__}")
        return False
    ok = True
    for key, types in required.items():
        if key not in row:
            issue(f"{where}.{key}", "missing")
            ok = False
        elif not isinstance(row[key], types) or (bool not in types and isinstance(row[key], bool)):
            issue(f"{where}.{key}", f"expected {_type_name(types)}, got {row[key]!r:.60}")
            ok = False
    for key, types in optional.items():
        if key in row and not isinstance(row[key], types):
            issue(f"{where}.{key}", f"expected {_type_name(types)}, got {row[key]!r:.60}")
            ok = False
    return ok


def validate_plan(data: Any, file: str) -> dict[str, Any]:
    """The plan, checked for the shape ``tenancy diff`` relies on; InputError lists every problem."""
    issues: list[Issue] = []

    def issue(path: str, message: str) -> None:
        if len(issues) < 20:  # enough to act on; a wrong file would otherwise flood stderr
            issues.append(Issue(file, path, message, HINT))

    if not isinstance(data, dict):
        raise InputError([Issue(file, "", "a plan is a JSON object", HINT)])
    if not isinstance(data.get("stack"), str) or not data["stack"]:
        issue("stack", "missing or not a non-empty string")
    for key in ("resources", "tenants"):
        if not isinstance(data.get(key), list):
            issue(key, "missing or not a list")
    if issues:
        raise InputError(issues)
    urns: set[str] = set()
    for index, row in enumerate(data["resources"]):
        where = f"resources[{index}]"
        if _check_fields(row, where, _RESOURCE_FIELDS, _OPTIONAL_RESOURCE_FIELDS, issue):
            if row["urn"] in urns:
                issue(f"{where}.urn", f"duplicate URN {row['urn']!r}")
            urns.add(row["urn"])
    ids: set[str] = set()
    for index, row in enumerate(data["tenants"]):
        where = f"tenants[{index}]"
        if _check_fields(row, where, _TENANT_FIELDS, _OPTIONAL_TENANT_FIELDS, issue):
            if row["id"] in ids:
                issue(f"{where}.id", f"duplicate tenant {row['id']!r}")
            ids.add(row["id"])
            if isinstance(row.get("moving_from"), dict):
                _check_fields(row["moving_from"], f"{where}.moving_from", _HOME_FIELDS, {}, issue)
    if issues:
        raise InputError(issues)
    return data


def load_plan(path: str) -> dict[str, Any]:
    return validate_plan(read_json(path, HINT), path)
