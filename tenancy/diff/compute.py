"""Two offline plans -> tenant-level changes, resource changes per owner, danger flags.

Built from the plan JSON only. A resource belongs to a tenant (its ``tenancy:tenant``
tag or label, else its top-level component ``silo-<id>``), to a shard (tag value
``shared`` plus ``tenancy:shard``, else component ``shard-<name>``), or to the cell.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from components.model.moves import Home, dsn_hint, home, move_command
from tenancy.diff.replacements import (
    DELETION_GUARD_TYPES,
    DELETION_PROTECTION_INPUTS,
    REPLACE_ON_CHANGES,
    SERVER_VERSION_INPUTS,
    STATEFUL_TYPES,
)

SHARED = "shared"  # components.model.tags.SHARED_TENANT: the tenant tag of shard servers
_TENANT_KEY = re.compile(r"tenancy[:-]tenant|[\w.-]*tenancy[\w.-]*/tenant")
_SHARD_KEY = re.compile(r"tenancy[:-]shard|[\w.-]*tenancy[\w.-]*/shard")
_TIER_KEY = re.compile(r"tenancy[:-]tier|[\w.-]*tenancy[\w.-]*/tier")
_MISSING = object()

# Flag kinds, in the order the report shows them. The first three are about a tenant's
# home (where its data lives), not one resource: their urn, type and name are empty.
RETIER_WITHOUT_MOVE = "re-tier-without-move"
OLD_HOME_DELETE = "old-home-delete"
MOVE_TARGET_DELETE = "move-target-delete"
# An erased silo tenant's key leaves the plan: crypto-shredding starts (issue 12).
KEY_DESTRUCTION = "key-destruction"
STATEFUL_DELETE = "stateful-delete"
REPLACEMENT = "replacement"
PROTECT_LOST = "protect-lost"
DELETION_PROTECTION_LOST = "deletion-protection-lost"
MAJOR_DOWNGRADE = "major-downgrade"
MAJOR_UPGRADE_WITH_REPLICAS = "major-upgrade-with-replicas"
FLAG_KINDS = (
    RETIER_WITHOUT_MOVE,
    OLD_HOME_DELETE,
    MOVE_TARGET_DELETE,
    KEY_DESTRUCTION,
    STATEFUL_DELETE,
    REPLACEMENT,
    MAJOR_DOWNGRADE,
    MAJOR_UPGRADE_WITH_REPLICAS,
    PROTECT_LOST,
    DELETION_PROTECTION_LOST,
)


@dataclass(frozen=True, order=True)
class Owner:
    kind: str  # "tenant" | "shard" | "tier" (shared per tier, e.g. a namespace) | "cell"
    name: str = ""

    def label(self) -> str:
        names = {"tenant": self.name, "shard": f"shard {self.name}", "tier": f"tier {self.name}"}
        return names.get(self.kind, "cell")


@dataclass(frozen=True)
class ResourceChange:
    action: str  # create | update | replace | delete
    urn: str
    type: str
    name: str
    owner: Owner
    keys: tuple[str, ...] = ()  # changed inputs (top-level) and options, for update/replace
    replace_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flag:
    kind: str
    urn: str
    type: str
    name: str
    owner: Owner
    tenants: tuple[str, ...]  # tenants whose data the resource holds
    message: str


@dataclass(frozen=True)
class TenantChange:
    tenant: str
    kinds: tuple[str, ...]  # added | removed | re-tiered | moved | status | compliance
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def describe(self) -> str:
        b, a = self.before or {}, self.after or {}
        parts = []
        for kind in self.kinds:
            if kind == "added":
                parts.append(f"added as {_placement(a)}")
            elif kind == "removed":
                parts.append(f"removed (was {_placement(b)})")
            elif kind == "re-tiered" and "moving" not in self.kinds:
                parts.append(f"re-tiered {_placement(b)} → {_placement(a)}")
            elif kind == "moved":
                parts.append(f"moved shard {b.get('shard')} → {a.get('shard')}")
            elif kind == "status":
                parts.append(f"status {b.get('status')} → {a.get('status')}")
            elif kind == "compliance":
                before = ",".join(b.get("compliance") or []) or "none"
                after = ",".join(a.get("compliance") or []) or "none"
                parts.append(f"compliance {before} → {after}")
            elif kind == "moving":
                parts.append(f"moving {_placement(a['moving_from'])} → {_placement(a)}")
            elif kind == "move-finished":
                parts.append(f"move from {_placement(b['moving_from'])} finished")
        return "; ".join(parts)


@dataclass(frozen=True)
class Warning:
    tenant: str
    message: str


@dataclass
class PlanDiff:
    stack: str
    base_stack: str
    base_tenants: list[dict[str, Any]]
    head_tenants: list[dict[str, Any]]
    tenant_changes: list[TenantChange] = field(default_factory=list)
    changes: list[ResourceChange] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    shard_tenants: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def in_motion(self) -> list[Motion]:
        """The head's tenants in motion (changed by this diff or not): what finishes each."""
        return [Motion.of(row) for row in self.head_tenants if row.get("moving_from")]

    @property
    def changed(self) -> bool:
        return bool(self.tenant_changes or self.changes)

    @property
    def dangerous(self) -> bool:
        return bool(self.flags)

    def action_counts(self) -> Counter[str]:
        return Counter(change.action for change in self.changes)

    def changes_by_owner(self) -> dict[Owner, list[ResourceChange]]:
        grouped: dict[Owner, list[ResourceChange]] = {}
        for change in self.changes:
            grouped.setdefault(change.owner, []).append(change)
        return grouped

    def owner_tenants(self, owner: Owner) -> tuple[str, ...]:
        """The tenants whose data or workloads a resource of ``owner`` serves."""
        if owner.kind == "tenant":
            return (owner.name,)
        if owner.kind == "shard":
            return self.shard_tenants.get(owner.name, ())
        if owner.kind == "tier":
            rows = self.base_tenants + self.head_tenants
            return tuple(sorted({row["id"] for row in rows if row["tier"] == owner.name}))
        return ()

    def touched_tenants(self) -> set[str]:
        """Tenants with a tenant-level change or a change to their own resources."""
        touched = {change.tenant for change in self.tenant_changes}
        touched |= {c.owner.name for c in self.changes if c.owner.kind == "tenant"}
        return touched

    def to_json(self) -> dict[str, Any]:
        counts = self.action_counts()
        return {
            "stack": self.stack,
            "changed": self.changed,
            "safe": not self.dangerous,
            "counts": {action: counts.get(action, 0) for action in ACTIONS},
            "tenant_changes": [
                {"tenant": c.tenant, "kinds": list(c.kinds), "before": c.before, "after": c.after}
                for c in self.tenant_changes
            ],
            "resource_changes": [
                {
                    "action": c.action,
                    "urn": c.urn,
                    "type": c.type,
                    "name": c.name,
                    "owner": {"kind": c.owner.kind, "name": c.owner.name},
                    "keys": list(c.keys),
                    "replace_keys": list(c.replace_keys),
                }
                for c in self.changes
            ],
            "danger_flags": [
                {
                    "kind": f.kind,
                    "urn": f.urn,
                    "type": f.type,
                    "name": f.name,
                    "owner": {"kind": f.owner.kind, "name": f.owner.name},
                    "tenants": list(f.tenants),
                    "message": f.message,
                }
                for f in self.flags
            ],
            "warnings": [{"tenant": w.tenant, "message": w.message} for w in self.warnings],
            "tenants_in_motion": [
                {"tenant": m.tenant, "from": m.source, "to": m.target, "command": m.command}
                for m in self.in_motion()
            ],
        }


@dataclass(frozen=True)
class Motion:
    """A tenant in motion, as a plan row states it."""

    tenant: str
    source: str  # e.g. "free (pool on free-01)"
    target: str
    command: str  # the `tenancy tenant move` that finishes it
    dsn_hint: str

    @classmethod
    def of(cls, row: dict[str, Any]) -> Motion:
        old = row["moving_from"]
        return cls(
            row["id"],
            _placement(old),
            _placement(row),
            row.get("move_command") or "tenancy tenant move " + row["id"],
            dsn_hint(
                home(row["id"], old["isolation"], old["shard"]),
                home(row["id"], row["isolation"], row["shard"]),
            ),
        )


ACTIONS = ("create", "update", "replace", "delete")


def _home(tenant: str, row: dict[str, Any] | None) -> Home | None:
    return None if not row else home(tenant, row.get("isolation", ""), row.get("shard"))


def _placement(row: dict[str, Any]) -> str:
    if not row:
        return "?"
    shard = row.get("shard")
    where = f" on {shard}" if shard else ""
    return f"{row.get('tier')} ({row.get('isolation')}{where})"


# --- attribution ---------------------------------------------------------------------


def _label_maps(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    maps = [inputs.get("tags"), inputs.get("labels")]
    for parent, child in (("settings", "userLabels"), ("metadata", "labels")):
        holder = inputs.get(parent)
        if isinstance(holder, dict):
            maps.append(holder.get(child))
    return [m for m in maps if isinstance(m, dict)]


def _tag(inputs: dict[str, Any], pattern: re.Pattern[str]) -> str | None:
    for labels in _label_maps(inputs):
        for key, value in labels.items():
            if isinstance(key, str) and isinstance(value, str) and pattern.fullmatch(key):
                return value
    return None


class _Attributor:
    def __init__(self, resources: list[dict[str, Any]], tenant_ids: set[str]):
        self.by_urn = {r["urn"]: r for r in resources}
        self.tenant_ids = tenant_ids

    def _top_component(self, resource: dict[str, Any]) -> dict[str, Any] | None:
        """The ancestor just below the stack root (silo-<id>, shard-<name>, cell-network)."""
        current, seen = resource, set()
        while current["urn"] not in seen:
            seen.add(current["urn"])
            parent = self.by_urn.get(current["parent"] or "")
            if parent is None or parent["type"] == "pulumi:pulumi:Stack":
                return current
            current = parent
        return None  # a parent cycle: nothing to trust

    def _silo_tenant(self, rest: str) -> str:
        """``acme`` or ``acme-irsa`` (a silo tenant's identity component) -> ``acme``."""
        if rest in self.tenant_ids:
            return rest
        known = [t for t in self.tenant_ids if rest.startswith(f"{t}-")]
        return max(known, key=len) if known else rest

    def owner(self, resource: dict[str, Any]) -> Owner:
        tenant = _tag(resource["inputs"], _TENANT_KEY)
        if tenant == SHARED:
            shard = _tag(resource["inputs"], _SHARD_KEY)
            if shard:
                return Owner("shard", shard)
            tier = _tag(resource["inputs"], _TIER_KEY)
            if tier:
                return Owner("tier", tier)
        elif tenant:
            return Owner("tenant", tenant)
        top = self._top_component(resource)
        if top is not None and not top["custom"]:
            name = top["name"]
            if name.startswith("silo-"):
                return Owner("tenant", self._silo_tenant(name[len("silo-") :]))
            if name.startswith("shard-"):
                # A shard's pooler (shard-<name>-pooler) sits beside the shard's component.
                return Owner("shard", name[len("shard-") :].removesuffix("-pooler"))
        return Owner("cell")


def _article(noun: str) -> str:
    return "an" if noun[:1] in "aeiou" else "a"


# --- resource comparison -------------------------------------------------------------


def _get(inputs: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(inputs, dict) or part not in inputs:
            return _MISSING
        inputs = inputs[part]
    return inputs


def _major(value: Any) -> int | None:
    # "POSTGRES_16" -> 16, "POSTGRES_9_6" -> 9, "16.4" -> 16, "17" -> 17
    match = re.search(r"(\d+)", value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def major_change(
    type_: str, before: dict[str, Any], after: dict[str, Any]
) -> tuple[int, int] | None:
    """(old, new) PostgreSQL major of a server whose major changes, else None."""
    path = SERVER_VERSION_INPUTS.get(type_)
    if path is None:
        return None
    old, new = _major(_get(before, path)), _major(_get(after, path))
    if old is None or new is None or old == new:
        return None
    return old, new


def replacement_keys(type_: str, before: dict[str, Any], after: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        path
        for path in REPLACE_ON_CHANGES.get(type_, ())
        if _get(before, path) != _get(after, path)
    )


def _protection_values(inputs: Any, prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    if isinstance(inputs, dict):
        for key, value in inputs.items():
            path = f"{prefix}{key}"
            if key in DELETION_PROTECTION_INPUTS:
                found[path] = value
            elif isinstance(value, dict):
                found.update(_protection_values(value, f"{path}."))
    return found


def _changed_keys(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(
        key
        for key in before.keys() | after.keys()
        if before.get(key, _MISSING) != after.get(key, _MISSING)
    )


# --- the diff ------------------------------------------------------------------------


def _tenant_changes(
    base: dict[str, dict[str, Any]], head: dict[str, dict[str, Any]]
) -> list[TenantChange]:
    changes = []
    for tenant in sorted(base.keys() | head.keys()):
        before, after = base.get(tenant), head.get(tenant)
        kinds: list[str] = []
        if before is None:
            kinds.append("added")
        elif after is None:
            kinds.append("removed")
        else:
            if before["tier"] != after["tier"] or before["isolation"] != after["isolation"]:
                kinds.append("re-tiered")
            if before["shard"] != after["shard"] and before["shard"] and after["shard"]:
                kinds.append("moved")
            if "status" in before and "status" in after and before["status"] != after["status"]:
                kinds.append("status")
            if (
                "compliance" in before
                and "compliance" in after
                and sorted(before["compliance"]) != sorted(after["compliance"])
            ):
                kinds.append("compliance")
            if after.get("moving_from") and after["moving_from"] != before.get("moving_from"):
                kinds.append("moving")
            elif before.get("moving_from") and not after.get("moving_from"):
                kinds.append("move-finished")
        if kinds:
            changes.append(TenantChange(tenant, tuple(kinds), before, after))
    return changes


def _moving_from_yaml(row: dict[str, Any]) -> str:
    shard = f", shard: {row['shard']}" if row.get("shard") else ""
    return f"moving_from: {{tier: {row['tier']}{shard}}}"


def _home_flags(change: TenantChange, stack: str) -> list[tuple[str, str]]:
    """(kind, message) for every home (server) of a tenant that this change stops deploying.

    A home is where the tenant's data lives; a deploy keeps both homes of a tenant in
    motion. A home the head no longer keeps is lost data unless a verified move took it.
    """
    if change.before is None or change.after is None:
        return []  # added, or removed: resource-level flags cover a removed tenant
    b, a, tenant = change.before, change.after, change.tenant
    current, leaving = _home(tenant, b), _home(tenant, b.get("moving_from"))
    kept = {_home(tenant, a), _home(tenant, a.get("moving_from"))}
    found = []
    if leaving is not None and leaving not in kept:
        found.append(
            (
                OLD_HOME_DELETE,
                f"old home of {tenant} will be deleted ({_data_of(leaving, b['moving_from'])}): "
                f"make sure "
                f"`{move_command(tenant, stack)}` verified it (exit 0) before this deploys",
            )
        )
    if current is not None and current not in kept and leaving is None:
        found.append(
            (
                RETIER_WITHOUT_MOVE,
                f"home changes {_placement(b)} → {_placement(a)} without `moving_from`: "
                f"{_loss(current, b)}. Add "
                f"`{_moving_from_yaml(b)}` to the tenant, and move the data first with "
                "`tenancy tenant move`",
            )
        )
    elif current is not None and current not in kept:
        found.append(
            (
                MOVE_TARGET_DELETE,
                f"the move of {tenant} to {_placement(b)} is abandoned: that home will be "
                f"deleted ({_data_of(current, b)}); make sure the move never switched, or that "
                "`tenancy tenant move --rollback` brought every row back",
            )
        )
    return found


def _data_of(where: Home, row: dict[str, Any]) -> str:
    if where.kind == "silo":
        return "its own server and key"
    data = "rows" if row.get("isolation") == "pool" else "schema"
    return f"its {data} on shard {where.name} leave that shard's SQL plan, as orphans"


def _loss(where: Home, row: dict[str, Any]) -> str:
    if where.kind == "silo":
        return "its data is deleted with its own server and key"
    data = "rows stay" if row.get("isolation") == "pool" else "schema stays"
    return f"its {data} behind on shard {where.name}, outside that shard's SQL plan"


def _warnings(change: TenantChange) -> list[Warning]:
    b, a = change.before or {}, change.after or {}
    found = []
    if "removed" in change.kinds and b.get("isolation") in ("pool", "bridge"):
        found.append(
            Warning(
                change.tenant,
                f"removed from the cell: its {'rows' if b.get('isolation') == 'pool' else 'schema'} "
                f"stay on shard {b.get('shard')} until the offboarding step purges them",
            )
        )
    if "status" in change.kinds and a.get("status") == "suspended":
        found.append(Warning(change.tenant, "suspended: resources stay, access is to be revoked"))
    return found


AZURE_SERVER = "azure-native:dbforpostgresql:Server"


def azure_replicas_of(server: dict[str, Any], resources: list[dict[str, Any]]) -> list[str]:
    """Names of the Flexible Server read replicas whose source is ``server`` (by ARM id)."""
    name = str(server["inputs"].get("serverName") or "").lower()
    if server["type"] != AZURE_SERVER or not name:
        return []
    return sorted(
        r["name"]
        for r in resources
        if r["type"] == AZURE_SERVER
        and r["inputs"].get("createMode") == "Replica"
        and isinstance(r["inputs"].get("sourceServerResourceId"), str)
        and r["inputs"]["sourceServerResourceId"].lower().endswith(f"/flexibleservers/{name}")
    )


def _major_version_notice(
    result: PlanDiff,
    resource: dict[str, Any],
    owner: Owner,
    change: tuple[int, int],
    flag: Any,
    replicas: list[str] = [],  # noqa: B006 -- read only
) -> None:
    """An in-place major upgrade is a warning (the server stays, with its data); a lower
    major is a flag: no service downgrades in place, the deploy would fail halfway. So is
    an upgrade of a Flexible Server with read replicas: Azure refuses it (replicas must
    be deleted first and recreated on the new major), so the deploy would fail there."""
    old, new = change
    if new < old:
        flag(
            MAJOR_DOWNGRADE,
            resource,
            owner,
            f"lowers PostgreSQL {old} → {new}: no service downgrades in place; restore a "
            "dump into a new server instead",
        )
        return
    if replicas:
        flag(
            MAJOR_UPGRADE_WITH_REPLICAS,
            resource,
            owner,
            f"upgrades PostgreSQL {old} → {new} on a Flexible Server with read replicas"
            f" ({', '.join(replicas)}): Azure cannot upgrade a server that has replicas, so"
            " the deploy would fail; first set the tier's min_read_replicas to 0 and deploy,"
            " then upgrade, then restore the replicas (they are recreated on the new major)",
        )
        return
    result.warnings.append(
        Warning(
            owner.label(),
            f"PostgreSQL major upgrade {old} → {new} in place on `{resource['name']}` "
            "(the server and its data stay; it is unavailable while it upgrades, in its "
            "maintenance window on AWS); deploy waves roll it out dev first",
        )
    )


def _key_destruction(resource: dict[str, Any], owner: Owner, outputs: dict[str, Any]) -> str | None:
    """The message for an erased silo tenant's key that the head plan lets go, else None."""
    if STATEFUL_TYPES.get(resource["type"]) != "encryption key" or owner.kind != "tenant":
        return None
    row = (outputs.get("departed_keys") or {}).get(owner.name)
    if not isinstance(row, dict) or row.get("phase") != "destroy":
        return None
    return (
        f"destroys tenant {owner.name}'s own key (crypto-shredding, erased on "
        f"{row.get('erased_on')}): {row.get('mechanism')}; from {row.get('unreadable_on')} the "
        "key and every backup and snapshot under it are unreadable for good"
    )


def diff_plans(base: dict[str, Any], head: dict[str, Any]) -> PlanDiff:
    """Compare two validated plans (see planfile.validate_plan)."""
    base_rows = {row["id"]: row for row in base["tenants"]}
    head_rows = {row["id"]: row for row in head["tenants"]}
    result = PlanDiff(
        stack=head["stack"],
        base_stack=base["stack"],
        base_tenants=list(base["tenants"]),
        head_tenants=list(head["tenants"]),
    )
    shard_tenants: dict[str, set[str]] = {}
    for rows in (base_rows, head_rows):
        for row in rows.values():
            if row["shard"]:
                shard_tenants.setdefault(row["shard"], set()).add(row["id"])
    result.shard_tenants = {shard: tuple(sorted(ids)) for shard, ids in shard_tenants.items()}
    result.tenant_changes = _tenant_changes(base_rows, head_rows)
    for change in result.tenant_changes:
        result.warnings.extend(_warnings(change))
        for kind, message in _home_flags(change, result.stack):
            owner = Owner("tenant", change.tenant)
            result.flags.append(Flag(kind, "", "", "", owner, (change.tenant,), message))

    base_by_urn = {r["urn"]: r for r in base["resources"] if r["custom"]}
    head_by_urn = {r["urn"]: r for r in head["resources"] if r["custom"]}
    base_owner = _Attributor(base["resources"], set(base_rows))
    head_owner = _Attributor(head["resources"], set(head_rows))

    def flag(kind: str, resource: dict[str, Any], owner: Owner, message: str) -> None:
        result.flags.append(
            Flag(
                kind,
                resource["urn"],
                resource["type"],
                resource["name"],
                owner,
                result.owner_tenants(owner),
                message,
            )
        )

    for urn in sorted(base_by_urn.keys() | head_by_urn.keys()):
        old, new = base_by_urn.get(urn), head_by_urn.get(urn)
        if old is None and new is not None:
            result.changes.append(
                ResourceChange("create", urn, new["type"], new["name"], head_owner.owner(new))
            )
            continue
        if new is None and old is not None:
            owner = base_owner.owner(old)
            result.changes.append(ResourceChange("delete", urn, old["type"], old["name"], owner))
            shredding = _key_destruction(old, owner, head.get("outputs") or {})
            if shredding is not None:
                flag(KEY_DESTRUCTION, old, owner, shredding)
            elif old["type"] in STATEFUL_TYPES:
                what = STATEFUL_TYPES[old["type"]]
                guard = (
                    " (protected: the delete fails until it is unprotected)"
                    if old["protect"]
                    else ""
                )
                flag(
                    STATEFUL_DELETE,
                    old,
                    owner,
                    f"deletes {_article(what)} {what}; what it holds is lost{guard}",
                )
            if old["type"] in DELETION_GUARD_TYPES:
                flag(
                    DELETION_PROTECTION_LOST,
                    old,
                    owner,
                    "deletes a management lock that guards against deletion",
                )
            continue
        assert old is not None and new is not None
        owner = head_owner.owner(new)
        keys = _changed_keys(old["inputs"], new["inputs"])
        for option in ("protect", "retain_on_delete"):
            if bool(old.get(option)) != bool(new.get(option)):
                keys.append(f"({option})")
        if not keys:
            continue
        replace = (
            replacement_keys(new["type"], old["inputs"], new["inputs"])
            if new["type"] == old["type"]
            else ()
        )
        action = "replace" if replace else "update"
        result.changes.append(
            ResourceChange(action, urn, new["type"], new["name"], owner, tuple(keys), replace)
        )
        if replace:
            stateful = STATEFUL_TYPES.get(new["type"])
            loss = (
                f"; the {stateful} is deleted and recreated, and what it holds is lost"
                if stateful
                else ""
            )
            flag(REPLACEMENT, new, owner, f"changing {', '.join(replace)} forces replacement{loss}")
        upgrade = major_change(new["type"], old["inputs"], new["inputs"])
        if upgrade is not None and not replace:
            # Replicas now or after the deploy: Pulumi deletes them only after updating.
            replicas = sorted(
                set(azure_replicas_of(old, base["resources"]))
                | set(azure_replicas_of(new, head["resources"]))
            )
            _major_version_notice(result, new, owner, upgrade, flag, replicas)
        if old["protect"] and not new["protect"]:
            flag(
                PROTECT_LOST,
                new,
                owner,
                "loses Pulumi `protect`: it can now be deleted by a deploy",
            )
        if old.get("retain_on_delete") and not new.get("retain_on_delete"):
            flag(
                PROTECT_LOST,
                new,
                owner,
                "loses `retainOnDelete`: a delete now removes it in the cloud",
            )
        before_guard, after_guard = (
            _protection_values(old["inputs"]),
            _protection_values(new["inputs"]),
        )
        for path, value in sorted(before_guard.items()):
            if value is True and after_guard.get(path) is not True:
                flag(
                    DELETION_PROTECTION_LOST,
                    new,
                    owner,
                    f"turns deletion protection off (`{path}`)",
                )
    result.flags.sort(key=lambda f: (FLAG_KINDS.index(f.kind), f.owner, f.type, f.name))
    return result
