"""A captured plan with lookups by type, name and parent chain (shared by the cloud tests)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tenancy.plan import plan_stack

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "stacks" / "tenants.yaml"


class Plan:
    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.resources: list[dict[str, Any]] = data["resources"]
        self.by_urn = {r["urn"]: r for r in self.resources}
        self.tenants = {row["id"]: row for row in data["tenants"]}
        self.outputs: dict[str, Any] = data.get("outputs", {})

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == kind]

    def ancestors(self, resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
        parent = resource["parent"]
        while parent:
            node = self.by_urn[parent]
            yield node
            parent = node["parent"]

    def under(self, component: dict[str, Any], kind: str) -> list[dict[str, Any]]:
        return [
            r
            for r in self.of_type(kind)
            if any(a["urn"] == component["urn"] for a in self.ancestors(r))
        ]

    def one_under(self, component: dict[str, Any], kind: str) -> dict[str, Any]:
        (found,) = self.under(component, kind)
        return found

    @staticmethod
    def is_replica(resource: dict[str, Any]) -> bool:
        """A read replica: Cloud SQL ``masterInstanceName`` or Flexible Server ``createMode``."""
        inputs = resource["inputs"]
        return bool(inputs.get("masterInstanceName")) or inputs.get("createMode") == "Replica"

    def primaries(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.of_type(kind) if not self.is_replica(r)]

    def primary_under(self, component: dict[str, Any], kind: str) -> dict[str, Any]:
        (found,) = [r for r in self.under(component, kind) if not self.is_replica(r)]
        return found

    def replicas_under(self, component: dict[str, Any], kind: str) -> list[dict[str, Any]]:
        return [r for r in self.under(component, kind) if self.is_replica(r)]

    def component(self, kind: str, name: str) -> dict[str, Any]:
        (found,) = [r for r in self.of_type(kind) if r["name"] == name]
        return found

    def owner(self, resource: dict[str, Any]) -> dict[str, Any]:
        """The silo tenant or shard component (any cloud) a resource belongs to."""
        return next(
            a for a in self.ancestors(resource) if a["type"].endswith((":SiloTenant", ":Shard"))
        )

    def owners(self, cloud: str) -> list[dict[str, Any]]:
        """Silo tenant and shard components: one per server."""
        return self.of_type(f"tenancy:{cloud}:SiloTenant") + self.of_type(f"tenancy:{cloud}:Shard")

    def silo_ids(self) -> list[str]:
        return [tid for tid, row in self.tenants.items() if row["isolation"] == "silo"]


def catalog_data() -> dict[str, Any]:
    return yaml.safe_load(CATALOG.read_text(encoding="utf-8"))


def write_catalog(directory: Path, data: dict[str, Any]) -> str:
    path = directory / "tenants.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


@functools.cache
def planned(stack: str) -> Plan:
    """Each example stack is planned once per test session, whichever test file asks first."""
    return Plan(plan_stack(stack))
