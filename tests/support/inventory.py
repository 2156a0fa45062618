"""Resource inventories of the example stacks, checked in under ``tests/inventory/``.

An inventory is what a reviewer reads to see what a change does to a stack (the
model is cloud-foundation-fabric's inventory files): every resource's type, name,
parent (by name) and ``protect``, the count per type, the tenants' placement, and
a few secure facts per database server. Each resource also carries a short digest
of the rest of its plan record (inputs, dependencies, provider, options), so the
inventory changes exactly when the plan does; ``tenancy diff`` says how.

``make inventory`` (``python -m tests.support.inventory``) rewrites the files from
fresh plans; ``tests/test_inventory.py`` compares them with the plans.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from tenancy.stackfiles import known_stacks
from tests.support.planview import ROOT, Plan, planned

INVENTORY_DIR = ROOT / "tests" / "inventory"
UPDATE_COMMAND = "make inventory"
# What the resource line shows; the digest covers every other field of the record.
SHOWN = ("urn", "type", "name", "parent", "protect")

AWS_CLUSTER = "aws:rds/cluster:Cluster"
AZURE_SERVER = "azure-native:dbforpostgresql:Server"
GCP_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"


def inventory_path(stack: str) -> Path:
    return INVENTORY_DIR / f"{stack}.yaml"


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _flow(mapping: Mapping[str, Any]) -> str:
    """One YAML flow mapping on one line, keys in the given order (one line per item
    keeps a diff to the items that changed)."""
    return yaml.safe_dump(
        dict(mapping), default_flow_style=True, sort_keys=False, width=1_000_000
    ).strip()


def resource_rows(plan: Plan) -> list[dict[str, Any]]:
    rows = []
    for resource in plan.resources:
        parent = plan.by_urn.get(resource["parent"]) if resource["parent"] else None
        rest = {key: value for key, value in resource.items() if key not in SHOWN}
        rows.append(
            {
                "type": resource["type"],
                "name": resource["name"],
                "parent": parent["name"] if parent else None,
                "protect": resource["protect"],
                "digest": _digest(rest),
            }
        )
    return sorted(rows, key=lambda row: (row["type"], row["name"], row["parent"] or ""))


# ---- secure facts per database server, read from the resources that decide them -----


def _aws_cluster_facts(plan: Plan, cluster: dict[str, Any]) -> dict[str, Any]:
    inputs = cluster["inputs"]
    groups = [
        g
        for g in plan.of_type("aws:rds/clusterParameterGroup:ClusterParameterGroup")
        if g["inputs"].get("name") == inputs.get("dbClusterParameterGroupName")
    ]
    parameters = {
        p["name"]: p["value"] for g in groups for p in g["inputs"].get("parameters") or []
    }
    instances = [
        i
        for i in plan.of_type("aws:rds/clusterInstance:ClusterInstance")
        if i["inputs"].get("clusterIdentifier") == inputs.get("clusterIdentifier")
    ]
    return {
        "encryption_key": inputs.get("storageEncrypted") is True and bool(inputs.get("kmsKeyId")),
        "tls_only": parameters.get("rds.force_ssl") == "1",
        "public_access": any(i["inputs"].get("publiclyAccessible") is not False for i in instances),
        "deletion_protection": inputs.get("deletionProtection") is True,
    }


def _azure_server_facts(plan: Plan, server: dict[str, Any]) -> dict[str, Any]:
    inputs = server["inputs"]
    name = inputs.get("serverName")
    settings = {
        c["inputs"].get("configurationName"): c["inputs"].get("value")
        for c in plan.of_type("azure-native:dbforpostgresql:Configuration")
        if c["inputs"].get("serverName") == name
    }
    locks = [
        lock
        for lock in plan.of_type("azure-native:authorization:ManagementLockByScope")
        if str(lock["inputs"].get("scope", "")).endswith(f"/flexibleServers/{name}")
        and lock["inputs"].get("level") == "CanNotDelete"
    ]
    encryption = inputs.get("dataEncryption") or {}
    return {
        "encryption_key": encryption.get("type") == "AzureKeyVault"
        and bool(encryption.get("primaryKeyURI")),
        "tls_only": settings.get("require_secure_transport") == "on",
        "public_access": (inputs.get("network") or {}).get("publicNetworkAccess") != "Disabled",
        "deletion_protection": bool(locks),
    }


def _gcp_instance_facts(_plan: Plan, instance: dict[str, Any]) -> dict[str, Any]:
    inputs = instance["inputs"]
    settings = inputs.get("settings") or {}
    ip = settings.get("ipConfiguration") or {}
    return {
        "encryption_key": bool(inputs.get("encryptionKeyName")),
        "tls_only": ip.get("sslMode") == "ENCRYPTED_ONLY",
        "public_access": ip.get("ipv4Enabled") is not False,
        "deletion_protection": inputs.get("deletionProtection") is True
        and settings.get("deletionProtectionEnabled") is True,
    }


SERVER_FACTS: dict[str, Callable[[Plan, dict[str, Any]], dict[str, Any]]] = {
    AWS_CLUSTER: _aws_cluster_facts,
    AZURE_SERVER: _azure_server_facts,
    GCP_INSTANCE: _gcp_instance_facts,
}


def server_rows(plan: Plan) -> list[dict[str, Any]]:
    rows = []
    for kind, facts in SERVER_FACTS.items():
        for server in plan.of_type(kind):
            rows.append(
                {"name": server["name"], **facts(plan, server), "protect": server["protect"]}
            )
    return sorted(rows, key=lambda row: row["name"])


def render(plan: Plan) -> str:
    """The inventory file's text for one planned stack."""
    stack = plan.data["stack"]
    counts = Counter(r["type"] for r in plan.resources)
    lines = [
        f"# Inventory of stack {stack}: generated from its offline plan by `{UPDATE_COMMAND}`.",
        "# A change here is a change to what the stack deploys: review it, commit it with its cause.",
        f"stack: {stack}",
        f"resources_total: {len(plan.resources)}",
        f"outputs_digest: {_digest(plan.outputs)}",
        "counts:",
        *(f"  {_flow({kind: counts[kind]})[1:-1]}" for kind in sorted(counts)),
        "tenants:",
        *(
            "  - " + _flow({k: row.get(k) for k in ("id", "tier", "isolation", "shard", "status")})
            for row in sorted(plan.data["tenants"], key=lambda row: row["id"])
        ),
        "servers:",
        *("  - " + _flow(row) for row in server_rows(plan)),
        "resources:",
        *("  - " + _flow(row) for row in resource_rows(plan)),
    ]
    return "\n".join(lines) + "\n"


def write_all(stacks: list[str] | None = None) -> list[Path]:
    """Rewrite the inventory of every example stack (and drop those of removed stacks)."""
    stacks = stacks or known_stacks()
    INVENTORY_DIR.mkdir(parents=True, exist_ok=True)
    for stale in INVENTORY_DIR.glob("*.yaml"):
        if stale.stem not in stacks:
            stale.unlink()
    written = []
    for stack in stacks:
        path = inventory_path(stack)
        path.write_text(render(planned(stack)), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written in write_all(sys.argv[1:] or None):
        print(f"wrote {written.relative_to(ROOT)}")
