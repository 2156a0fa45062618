"""Composition root: stack config + the cell's slice of the catalog -> components.

The offline plan (``tenancy plan``) runs this same ``run()`` under the capturing
mock engine, so what the plan shows is what ``pulumi up`` registers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pulumi

from components.model.blueprint import Blueprint, build_blueprint
from components.model.catalog import Catalog
from components.model.erasure import plan_today
from components.model.errors import InputError, Issue
from components.model.naming import NamingError
from components.model.stack import (
    OPTIONAL_KEYS,
    REGION_KEY,
    REQUIRED_KEYS,
    StackSettings,
    check_cell_against_catalog,
    parse_stack_settings,
)
from components.model.validation import parse_catalog
from components.model.workloads import check_identity_settings
from infra import workloads
from infra.cells import cell_for

STACKS_DIR = Path(__file__).resolve().parent.parent / "stacks"


def read_pulumi_config() -> dict[str, Any]:
    """The settings the program understands, read through pulumi.Config (real or mocked)."""
    values: dict[str, Any] = {}
    for key in REQUIRED_KEYS + OPTIONAL_KEYS + tuple(REGION_KEY.values()):
        namespace, name = key.split(":", 1)
        config = pulumi.Config(namespace)
        raw = config.get(name)
        if raw is None:
            continue
        try:
            values[key] = json.loads(raw) if raw[:1] in "{[" else raw
        except json.JSONDecodeError:
            values[key] = raw
    return values


def stack_file(stack: str) -> str:
    return str(STACKS_DIR / f"Pulumi.{stack}.yaml")


def read_catalog(path: str) -> Catalog:
    file = Path(path) if Path(path).is_absolute() else STACKS_DIR / path
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise InputError(
            [
                Issue(
                    str(file),
                    "",
                    f"cannot read the catalog: {reason}",
                    "check tenancy:catalog in the stack file (a path relative to stacks/) or --catalog",
                )
            ]
        ) from None
    return parse_catalog(text, str(file))


def resolve(
    stack: str, config: dict[str, Any], project: str | None = None
) -> tuple[StackSettings, Catalog, Blueprint]:
    """Validate everything a run needs, before a single resource is registered."""
    file = stack_file(stack)
    settings = parse_stack_settings(stack, config, file)
    catalog = read_catalog(settings.catalog_path)
    check_cell_against_catalog(settings, catalog, file)
    try:
        blueprint = build_blueprint(
            catalog,
            settings.cell,
            settings.residency,
            project or pulumi.get_project(),
            today=plan_today(os.environ),
        )
    except NamingError as error:
        raise InputError(
            [Issue(settings.catalog_path, "tenants", str(error), "rename one of the tenants")]
        ) from None
    check_identity_settings(settings, blueprint, file)
    return settings, catalog, blueprint


def run() -> None:
    stack = pulumi.get_stack()
    settings, _catalog, blueprint = resolve(stack, read_pulumi_config())
    deploy(settings, blueprint)


def deploy(settings: StackSettings, blueprint: Blueprint) -> None:
    cell = cell_for(settings, blueprint)
    deployed = cell.deploy_servers()
    connections = deployed.connections
    # After the servers: a silo identity is granted on its own server.
    namespaces = workloads.deploy(
        settings,
        blueprint,
        cell,
        deployed.silo_servers,
        deployed.in_cluster_poolers,
        connections,
    )
    for tenant_id, namespace in namespaces.items():
        if tenant_id in connections:
            connections[tenant_id]["namespace"] = namespace
    pulumi.export("cell", settings.cell.stack)
    pulumi.export("tenants", connections)
    if blueprint.departed_silos:
        pulumi.export("departed_keys", departed_keys(blueprint))


def departed_keys(blueprint: Blueprint) -> dict[str, Any]:
    """Per departed silo tenant: where its key stands and the dates of its destruction (what
    `tenancy diff` flags, and what the erasure evidence quotes)."""
    rows: dict[str, Any] = {}
    for departed in blueprint.departed_silos:
        key = departed.schedule.key if departed.schedule else None
        row: dict[str, Any] = {"phase": departed.phase, "key": departed.spec.key_name}
        if departed.schedule is not None and key is not None:
            row |= {
                "erased_on": departed.schedule.erased_on.isoformat(),
                "schedule_on": key.schedule_on.isoformat(),
                "unreadable_on": key.destroyed_on.isoformat(),
                "fully_erased": departed.schedule.fully_erased.isoformat(),
                "approved": key.approved,
                "mechanism": key.mechanism,
            }
        if departed.phase == "awaiting-approval":
            row["action"] = (
                "key destruction is due: approve it with erasure.destroy_key: true in the catalog"
            )
        rows[departed.spec.owner] = row
    return rows
