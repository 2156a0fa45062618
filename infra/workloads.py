"""A cell's Kubernetes side: per workload a namespace, network policies and the service,
with its cloud's workload identity for silo tenants; KEDA when a profile has scale windows.

Suspended tenants keep their namespace (and so quota, policies and identity) but
run no pods: a silo tenant's Deployment is scaled to 0 with no autoscaler or PDB;
a tier namespace is scaled to 0 only when every tenant in it is suspended.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.k8s.alerts import hpa_at_max_rule
from components.k8s.keda import Keda, KedaArgs
from components.k8s.namespace import QuotaReserve, TenantNamespace, TenantNamespaceArgs
from components.k8s.network_policy import NamespaceNetworkPolicies, NamespaceNetworkPoliciesArgs
from components.k8s.pgbouncer import PgBouncer, PgBouncerArgs, quota_reserve
from components.k8s.workload import APP_NAME, TenantWorkload, TenantWorkloadArgs, selector
from components.model.appconfig import AppSettings, pull_policy
from components.model.blueprint import Blueprint
from components.model.identity_egress import identity_egress
from components.model.pooling import pooler_port
from components.model.stack import PROMETHEUS_OPERATOR_KEY, StackSettings
from components.model.workloads import WorkloadSpec, cell_workloads, needs_keda
from components.tier_server import TierServer
from infra.cells import CloudCell, WorkloadIdentity
from infra.servers import InClusterPooler

DATABASE_PORT = 5432  # PostgreSQL on every cloud
HPA_ALERTS_ON = "PrometheusRule per autoscaled workload: HPA at its max replicas for 15 min"
HPA_ALERTS_OFF = (
    f"left out: {PROMETHEUS_OPERATOR_KEY} is not true, so no PrometheusRule "
    "(no alert when a tier's HPA sits at its max replicas)"
)


def deploy(
    settings: StackSettings,
    blueprint: Blueprint,
    cell: CloudCell,
    servers: Mapping[str, TierServer],
    poolers: Sequence[InClusterPooler] = (),
    connections: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``cell`` gives silo workloads their cloud identity, granted on their own server
    (``servers``: each silo tenant's, from the cell's deploy). ``poolers`` (GCP's
    PgBouncer) go into the namespace of the apps that use them."""
    app = settings.app
    workloads = cell_workloads(blueprint)
    unplaced = {pooler.namespace for pooler in poolers} - {spec.namespace for spec in workloads}
    if unplaced:  # a pooled server always has its tier's (or tenant's) workload in the cell
        raise RuntimeError(f"poolers without a workload namespace: {sorted(unplaced)}")
    if not workloads:
        return {}
    # One explicit provider per cell: every manifest goes to the cell's own cluster.
    provider = k8s.Provider(
        "cell-cluster",
        context=app.kube_context,
        enable_server_side_apply=True,
        delete_unreachable=False,
    )
    on_cluster = pulumi.ResourceOptions(provider=provider)
    keda = Keda("keda", KedaArgs(), on_cluster) if needs_keda(workloads) else None
    # Silo pods may reach their cloud's token endpoint; nothing else has a workload identity.
    identity_rules = identity_egress(
        settings.cell.cloud, app.identity_endpoint_cidrs, app.database_cidrs
    )
    namespaces: dict[str, Any] = {}
    for spec in workloads:
        labels = spec.labels()
        own_poolers = [pooler for pooler in poolers if pooler.namespace == spec.namespace]
        reserve = (
            quota_reserve(spec.app, [p.args.default_pool_size for p in own_poolers])
            if own_poolers
            else QuotaReserve()
        )
        namespace = TenantNamespace(
            f"{spec.owner}-namespace",
            TenantNamespaceArgs(
                namespace=spec.namespace, labels=labels, app=spec.app, reserve=reserve
            ),
            on_cluster,
        )
        in_namespace = pulumi.ResourceOptions(provider=provider, depends_on=[namespace])
        for pooler in own_poolers:
            _pgbouncer(pooler, spec, app, in_namespace)
        NamespaceNetworkPolicies(
            f"{spec.owner}-netpol",
            NamespaceNetworkPoliciesArgs(
                namespace=spec.namespace,
                labels=labels,
                app_selector=selector(spec.namespace),
                app_port=app.port,
                database_port=DATABASE_PORT,
                pooler_port=pooler_port(settings.cell.cloud, spec.pools),
                database_cidrs=app.database_cidrs,
                ingress_namespace=app.ingress_namespace,
                identity_egress=identity_rules if spec.is_silo else (),
            ),
            in_namespace,
        )
        identity = (
            cell.workload_identity(spec, servers[spec.owner])
            if spec.is_silo
            else WorkloadIdentity({})
        )
        if connections is not None and spec.owner in connections:
            connections[spec.owner].update(identity.connection_facts)
        workload = TenantWorkload(
            f"{spec.owner}-workload",
            TenantWorkloadArgs(
                namespace=spec.namespace,
                labels=labels,
                template_labels=spec.pod_labels(),
                app=spec.app,
                image=app.image,
                image_pull_policy=app.image_pull_policy,
                port=app.port,
                env={"TENANCY_TIER": spec.tier, "TENANCY_ISOLATION": spec.isolation}
                | ({"TENANCY_TENANT": spec.owner} if spec.is_silo else {}),
                service_account_annotations=identity.service_account_annotations,
                pod_labels=identity.pod_labels,
                suspended=spec.suspended,
                keda=keda.release if keda else None,
            ),
            in_namespace,
        )
        if settings.prometheus_operator and not spec.suspended:
            hpa_at_max_rule(
                spec.owner,
                spec.namespace,
                APP_NAME,
                spec.tier,
                labels,
                pulumi.ResourceOptions(provider=provider, depends_on=[workload]),
            )
        for tenant_id in spec.tenant_ids:
            namespaces[tenant_id] = spec.namespace
    # "The plan says why": whether the HPA-at-max alert exists, as a stack output.
    pulumi.export("hpa_alerts", HPA_ALERTS_ON if settings.prometheus_operator else HPA_ALERTS_OFF)
    # A tenant in motion is served from its old home until the move is verified.
    namespaces |= {tenant: spec.namespace for spec in workloads for tenant in spec.leaving_ids}
    return namespaces


def _pgbouncer(
    pooler: InClusterPooler,
    spec: WorkloadSpec,
    app: AppSettings,
    opts: pulumi.ResourceOptions,
) -> PgBouncer:
    """The in-cluster pooler of one server, next to the apps that use it."""
    return PgBouncer(
        f"{pooler.spec.component_name}-pooler",
        PgBouncerArgs(
            namespace=pooler.namespace,
            service_name=pooler.service_name,
            labels=spec.labels(),
            app_selector=selector(spec.namespace),
            server_host=pooler.server_host,
            server_ca_pem=pooler.server_ca_pem,
            database=pooler.database,
            login_roles=pooler.login_roles,
            pooler=pooler.args,
            app=spec.app,
            image=app.pooler_image,
            image_pull_policy=pull_policy(app.pooler_image),
            tls_issuer=app.pooler_tls_issuer,
            server_owner=pooler.spec.owner,
            server_admin=pooler.server.admin_connection,
            server_ready=pooler.server.isolation,
        ),
        opts,
    )
