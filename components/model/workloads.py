"""What a cell runs on Kubernetes: one namespace + workload per tier (bridge/pool) or silo tenant.

Bridge and pool tenants share their tier's Deployment (the pool model applies to
compute too), so the tier's app profile sizes it; a silo tenant gets its own
namespace, sized by its merged (overridden) profile and its own cloud identity.
"""

from __future__ import annotations

from dataclasses import dataclass

from .blueprint import Blueprint
from .catalog import AppProfile, Isolation
from .cell import PlacedTenant, all_homes, silo_homes
from .clouds import traits
from .errors import InputError, Issue
from .naming import physical_name
from .stack import StackSettings
from .tags import SHARED_TENANT, compliance_value

NAMESPACE_PREFIX = "tnc"
# Labels whose value depends on which tenants share a workload. A pod template that
# carried them would change (and roll every pod of the tier) whenever one tenant joins,
# leaves or changes frameworks; namespace and object labels may carry them.
MEMBERSHIP_LABELS = ("tenancy.dev/compliance",)


@dataclass(frozen=True)
class WorkloadSpec:
    owner: str  # tier name (bridge/pool) or tenant id (silo): root of the logical names
    namespace: str
    tier: str
    isolation: Isolation
    tenant_ids: tuple[str, ...]
    app: AppProfile
    # Every tenant of the workload is suspended: keep the namespace, run no pods.
    suspended: bool
    residency: str
    compliance: str  # union of the tenants' frameworks, as the tags spell it
    environment: str
    # Tenants moving out of this workload's home: it keeps serving them (a silo keeps its
    # identity) so the app reaches their data where it still is until the move is verified.
    leaving_ids: tuple[str, ...] = ()
    pools: bool = False  # the tier's servers have a pooler, which the pods must reach

    @property
    def is_silo(self) -> bool:
        return self.isolation == "silo"

    @property
    def tenant_label(self) -> str:
        return self.owner if self.is_silo else SHARED_TENANT

    def labels(self) -> dict[str, str]:
        return {
            "tenancy.dev/tenant": self.tenant_label,
            "tenancy.dev/tier": self.tier,
            "tenancy.dev/isolation": self.isolation,
            "tenancy.dev/residency": self.residency,
            "tenancy.dev/compliance": self.compliance,
            "tenancy.dev/environment": self.environment,
            "app.kubernetes.io/managed-by": "tenancy",
        }

    def pod_labels(self) -> dict[str, str]:
        """The pod template's labels: ``labels()`` without the membership-derived ones."""
        return {k: v for k, v in self.labels().items() if k not in MEMBERSHIP_LABELS}


def namespace_name(owner: str, silo: bool) -> str:
    # "tenant-"/"tier-" keep a tenant id and a tier name from ever sharing a namespace.
    kind = "tenant" if silo else "tier"
    return physical_name("k8s.dns1123_label", NAMESPACE_PREFIX, kind, owner)


def _spec(blueprint: Blueprint, owner: str, members: list[PlacedTenant]) -> WorkloadSpec:
    first = members[0]
    silo = first.isolation == "silo"
    return WorkloadSpec(
        owner=owner,
        namespace=namespace_name(owner, silo),
        tier=first.tier_name,
        isolation=first.isolation,
        tenant_ids=tuple(placed.id for placed in members),
        app=first.app,  # bridge/pool tenants cannot override app (validation), so all agree
        suspended=all(placed.tenant.status == "suspended" for placed in members),
        residency=blueprint.residency,
        compliance=compliance_value(f for placed in members for f in placed.tenant.compliance),
        environment=blueprint.cell.environment,
        leaving_ids=tuple(placed.id for placed in members if placed.leaving),
        pools=first.pooling is not None,
    )


def cell_workloads(blueprint: Blueprint) -> tuple[WorkloadSpec, ...]:
    """Workloads sorted by namespace, so adding a tenant never reorders the others."""
    specs = [
        _spec(blueprint, placed.id, [placed]) for placed in silo_homes(list(blueprint.tenants))
    ]
    tiers: dict[str, list[PlacedTenant]] = {}
    for placed in all_homes(list(blueprint.tenants)):
        if placed.isolation != "silo":
            tiers.setdefault(placed.tier_name, []).append(placed)
    specs += [_spec(blueprint, tier, members) for tier, members in tiers.items()]
    return tuple(sorted(specs, key=lambda spec: spec.namespace))


def needs_keda(workloads: tuple[WorkloadSpec, ...]) -> bool:
    return any(spec.app.scale_windows and not spec.suspended for spec in workloads)


def check_identity_settings(settings: StackSettings, blueprint: Blueprint, file: str) -> None:
    """A cell with silo workloads needs its cloud's workload-identity setting.

    Checked with the rest of the input, before anything is registered; ``file`` is the
    stack file, so the error carries its line."""
    if not any(spec.is_silo for spec in cell_workloads(blueprint)):
        return
    identity = traits(settings.cell.cloud).identity
    if identity.required_setting in settings.given:
        return
    raise InputError(
        [
            Issue(
                file,
                f"config.{identity.required_setting}",
                f"required for the workload identity of silo tenants ({identity.kind})",
                identity.hint,
            )
        ]
    )
