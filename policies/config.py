"""Policy configuration: the schema of every setting, pack defaults, the shipped file.

``config.generated.json`` is written by ``tenancy policy-config`` from the tenant
catalog (allowed regions per residency zone, minimum retention and app limits per
tier, tenants per stack). It is in ``--policy-pack-config`` form: rule id -> settings,
so ``__main__.py`` passes it as ``initial_config`` and a user file can override it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

GENERATED_FILE = Path(__file__).resolve().parent / "config.generated.json"

_STRINGS = {"type": "array", "items": {"type": "string"}}

SCHEMA: dict[str, dict[str, Any]] = {
    "productionEnvironments": {
        **_STRINGS,
        "description": "Environment tag values that count as production.",
    },
    "allowedRegions": {
        "type": "object",
        "description": "Residency zone -> cloud -> regions where the zone's data may live.",
        "additionalProperties": {"type": "object", "additionalProperties": _STRINGS},
    },
    "azurePairedRegions": {
        "type": "object",
        "description": "Azure region -> its fixed pair (where geo-redundant backups go).",
        "additionalProperties": {"type": "string"},
    },
    "minRetentionDaysByTier": {
        "type": "object",
        "description": "Tier -> minimum backup retention in days.",
        "additionalProperties": {"type": "integer", "minimum": 1},
    },
    "minLogRetentionDaysByTier": {
        "type": "object",
        "description": "Tier -> how long its servers' logs must be kept, in days (audit section).",
        "additionalProperties": {"type": "integer", "minimum": 1},
    },
    "minRetentionDaysByFramework": {
        "type": "object",
        "description": "Compliance framework -> minimum backup retention in days.",
        "additionalProperties": {"type": "integer", "minimum": 1},
    },
    "tierAppLimits": {
        "type": "object",
        "description": "Tier -> {minReplicas, maxReplicas, cpuTarget, memoryTarget}.",
        "additionalProperties": {
            "type": "object",
            "properties": {
                key: {"type": "integer", "minimum": 0}
                for key in ("minReplicas", "maxReplicas", "cpuTarget", "memoryTarget")
            },
        },
    },
    "prodMinReplicas": {"type": "integer", "minimum": 1, "description": "HPA floor in prod."},
    "requiredTagKeys": {**_STRINGS, "description": "Cloud tag/label keys (without prefix)."},
    "requiredLabelKeys": {**_STRINGS, "description": "Kubernetes label keys (without prefix)."},
    "regulatedFrameworks": {
        **_STRINGS,
        "description": "Frameworks whose silo tenants need a key of their own.",
    },
    "maxKeyRotationDays": {"type": "integer", "minimum": 1, "maximum": 3650},
    "frameworksByTier": {
        "type": "object",
        "description": "Tier -> every framework its tenants carry, catalog-wide (what its keys are built for).",
        "additionalProperties": _STRINGS,
    },
    "maxRegulatedKeyRotationDays": {
        "type": "integer",
        "minimum": 1,
        "maximum": 3650,
        "description": "Rotation ceiling of keys whose data carries a regulated framework.",
    },
    "tenantsByStack": {
        "type": "object",
        "description": "Stack -> the tenants it must serve [{id, tier, isolation, shard}].",
        "additionalProperties": {"type": "array", "items": {"type": "object"}},
    },
}

# Values that do not depend on the catalog; catalog-derived ones start empty and make
# the rules answer "cannot verify" until the generated file provides them.
DEFAULTS: dict[str, Any] = {
    "productionEnvironments": ["prod", "production"],
    "allowedRegions": {},
    "azurePairedRegions": {},
    "minRetentionDaysByTier": {},
    "minLogRetentionDaysByTier": {},
    # HIPAA asks for a retrievable exact copy; PCI for recovery of stored data. A month
    # of restore points covers a monthly review cycle; the rest follow GDPR art. 32(1)(c).
    "minRetentionDaysByFramework": {"gdpr": 7, "soc2": 7, "iso27001": 7, "pci": 14, "hipaa": 30},
    "tierAppLimits": {},
    "prodMinReplicas": 2,
    "requiredTagKeys": [
        "tenant",
        "tier",
        "isolation",
        "residency",
        "compliance",
        "environment",
        "managed-by",
    ],
    # Kubernetes objects are per tier or tenant; residency and frameworks live on the data.
    "requiredLabelKeys": ["tenant", "tier", "isolation", "managed-by"],
    "regulatedFrameworks": ["hipaa", "pci"],
    "maxKeyRotationDays": 365,
    "maxRegulatedKeyRotationDays": 90,
    "frameworksByTier": {},
    "tenantsByStack": {},
}


def load_generated(path: Path = GENERATED_FILE) -> dict[str, dict[str, Any]]:
    """The shipped per-rule config; {} when the file is absent."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return {key: value for key, value in data.items() if isinstance(value, dict)}


def rule_config(keys: Iterable[str], *layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults for ``keys``, overlaid by each layer in turn (later wins)."""
    merged = {key: DEFAULTS[key] for key in keys}
    for layer in layers:
        if layer:
            merged.update({key: value for key, value in layer.items() if key in merged})
    return merged


def merged_config(
    generated: Mapping[str, Mapping[str, Any]], overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """One flat config for offline runs: defaults, every rule's generated values, overrides."""
    merged = dict(DEFAULTS)
    for settings in generated.values():
        merged.update({key: value for key, value in settings.items() if key in SCHEMA})
    if overrides:
        merged.update(overrides)
    return merged
