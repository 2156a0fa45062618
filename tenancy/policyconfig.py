"""The policy pack's config, derived from the catalog: ``policies/config.generated.json``.

The pack cannot read the catalog (it is uploaded alone), so its catalog-derived
settings ship as a generated file in ``--policy-pack-config`` form (rule id ->
settings). Regenerate after editing stacks/tenants.yaml or a stack file:

    tenancy policy-config          # write
    tenancy policy-config --check  # exit 1 when stale
"""

from __future__ import annotations

import json
from typing import Any

from components.model.audit import resolve_audit
from components.model.cell import PRODUCTION_ENVIRONMENTS
from components.model.clouds import AZURE
from infra import program
from policies.config import DEFAULTS
from policies.rules import RULES
from tenancy.stackfiles import known_stacks, read_stack_config

CATALOG = "tenants.yaml"


def _tenant_rows(stack: str) -> list[dict[str, Any]]:
    _settings, _catalog, blueprint = program.resolve(stack, read_stack_config(stack), "tenancy")
    return [
        {"id": p.id, "tier": p.tier_name, "isolation": p.isolation, "shard": p.shard}
        for p in sorted(blueprint.tenants, key=lambda placed: placed.id)
    ]


def tier_log_retention_days(tier: Any, frameworks: Any) -> int:
    """What every server of the tier keeps its logs for (infra/servers.py server_audit)."""
    audit = tier.database.audit
    return resolve_audit(
        audit.log_classes, audit.slow_statement_ms, audit.log_retention_days, frameworks
    ).log_retention_days


def settings() -> dict[str, Any]:
    """Every catalog-derived setting, flat."""
    catalog = program.read_catalog(CATALOG)
    return {
        **DEFAULTS,
        "productionEnvironments": sorted(PRODUCTION_ENVIRONMENTS),
        "allowedRegions": {
            zone: {cloud: list(regions) for cloud, regions in sorted(clouds.items())}
            for zone, clouds in sorted(catalog.residency_zones.items())
        },
        "azurePairedRegions": dict(sorted(AZURE.paired_regions.items())),
        "minRetentionDaysByTier": {
            name: tier.database.backup_retention_days
            for name, tier in sorted(catalog.tiers.items())
        },
        "minLogRetentionDaysByTier": {
            name: tier_log_retention_days(tier, catalog.tier_frameworks(name))
            for name, tier in sorted(catalog.tiers.items())
        },
        "tierAppLimits": {
            name: {
                "minReplicas": tier.app.min_replicas,
                "maxReplicas": tier.app.max_replicas,
                "cpuTarget": tier.app.cpu_target,
                "memoryTarget": tier.app.memory_target,
            }
            for name, tier in sorted(catalog.tiers.items())
        },
        "frameworksByTier": {
            name: list(catalog.tier_frameworks(name)) for name in sorted(catalog.tiers)
        },
        "tenantsByStack": {stack: _tenant_rows(stack) for stack in known_stacks()},
    }


def generate() -> dict[str, dict[str, Any]]:
    values = settings()
    return {
        rule.id: {key: values[key] for key in rule.config_keys}
        for rule in sorted(RULES, key=lambda r: r.id)
        if rule.config_keys
    }


def render() -> str:
    return json.dumps(generate(), indent=2, sort_keys=False) + "\n"
