"""The cloud cells: one module per cloud, each defining ``Cell``, a ``CloudCell``.

A cell deploys its cloud's servers (one per silo tenant and per shard) and gives
a silo tenant's workload its cloud identity; the Kubernetes side
(``infra/workloads.py``) is the same on every cloud and asks the cell only for
that identity. A new cloud is one module here plus one line in ``CELL_MODULES``
(docs/adding-a-cloud.md lists every other touch point).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from components.model.blueprint import Blueprint
from components.model.stack import StackSettings
from components.model.tags import SHARED_TENANT, resource_tags
from components.model.workloads import WorkloadSpec
from components.tier_server import TierServer
from infra.servers import DeployedServers

# Imported by name so a stack loads only its own cloud's (large) SDK.
CELL_MODULES = {
    "aws": "infra.cells.aws",
    "azure": "infra.cells.azure",
    "gcp": "infra.cells.gcp",
}


@dataclass(frozen=True)
class WorkloadIdentity:
    """What a silo workload's ServiceAccount and pods carry to use their cloud identity."""

    service_account_annotations: dict[str, Any]
    pod_labels: dict[str, str] = field(default_factory=dict)
    # Added to the tenant's connection facts (stack output): how its app logs in.
    connection_facts: dict[str, Any] = field(default_factory=dict)


class CloudCell(Protocol):
    def deploy_servers(self) -> DeployedServers:
        """Register the cell's network, keys and servers; facts per tenant."""
        ...

    def workload_identity(self, spec: WorkloadSpec, server: TierServer) -> WorkloadIdentity:
        """The cloud identity of silo tenant ``spec.owner``'s workload, granted on ``server``.

        Its prerequisites (OIDC issuer, project ...) were validated before anything was
        registered (``components/model/workloads.py: check_identity_settings``)."""
        ...


def cell_for(settings: StackSettings, blueprint: Blueprint) -> CloudCell:
    module = importlib.import_module(CELL_MODULES[settings.cell.cloud])
    cell: CloudCell = module.Cell(settings, blueprint)
    return cell


def cell_tags(
    settings: StackSettings, blueprint: Blueprint, compliance: tuple[str, ...] = ()
) -> dict[str, str]:
    """The tags (labels on GCP) of cell-wide infrastructure: network, log and export stores.
    ``compliance``: the frameworks whose data the resource keeps (an audit archive's)."""
    return resource_tags(
        settings.cell.cloud,
        tenant=SHARED_TENANT,
        tier="cell",
        isolation="network",  # the tag rule's value for cell-wide infrastructure
        residency=blueprint.residency,
        compliance=compliance,
        environment=settings.cell.environment,
    )


def workload_tags(
    settings: StackSettings, blueprint: Blueprint, spec: WorkloadSpec
) -> dict[str, str]:
    """The tags of a silo workload's cloud identity: its tenant's, like its server's."""
    placed = next(p for p in blueprint.tenants if p.id == spec.owner)
    return resource_tags(
        settings.cell.cloud,
        tenant=spec.owner,
        tier=spec.tier,
        isolation=spec.isolation,
        residency=blueprint.residency,
        compliance=placed.tenant.compliance,
        environment=settings.cell.environment,
    )


def export_bucket_output(kind: str, name: Any, location: str, retention_days: int) -> None:
    """The stack output `tenancy tenant export` names its archive's destination by."""
    import pulumi  # here: the model-only importers of this module never need the SDK

    pulumi.export(
        "export_bucket",
        {"kind": kind, "name": name, "location": location, "retention_days": retention_days},
    )
