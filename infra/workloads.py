"""A cell's Kubernetes side: per workload a namespace, network policies and the service,
with its cloud's workload identity for silo tenants; KEDA when a profile has scale windows.

Suspended tenants keep their namespace (and so quota, policies and identity) but
run no pods: a silo tenant's Deployment is scaled to 0 with no autoscaler or PDB;
a tier namespace is scaled to 0 only when every tenant in it is suspended.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.k8s.keda import Keda, KedaArgs
from components.k8s.namespace import TenantNamespace, TenantNamespaceArgs
from components.k8s.network_policy import NamespaceNetworkPolicies, NamespaceNetworkPoliciesArgs
from components.k8s.workload import APP_NAME, TenantWorkload, TenantWorkloadArgs, selector
from components.model.appconfig import AppSettings
from components.model.blueprint import NAME_PREFIX, Blueprint
from components.model.errors import InputError, Issue
from components.model.identity_egress import identity_egress
from components.model.naming import physical_name
from components.model.stack import StackSettings
from components.model.tags import resource_tags
from components.model.workloads import WorkloadSpec, cell_workloads, needs_keda
from components.postgres.sqlplan import tenant_role
from components.tier_server import TierServer

DATABASE_PORT = 5432  # PostgreSQL on every cloud


def _missing(settings: StackSettings, key: str, hint: str) -> InputError:
    return InputError(
        [
            Issue(
                f"stacks/Pulumi.{settings.cell.stack}.yaml",
                f"config.tenancy:app.{key}",
                "required for the workload identity of silo tenants",
                hint,
            )
        ]
    )


class _Identities:
    """Creates the cloud identity of a silo workload; returns ServiceAccount annotations + pod labels."""

    def __init__(
        self,
        settings: StackSettings,
        blueprint: Blueprint,
        app: AppSettings,
        servers: Mapping[str, TierServer],
    ):
        self.settings, self.blueprint, self.app = settings, blueprint, app
        self.servers = servers  # silo tenant -> its own server
        self._azure_group: Any = None

    def _tags(self, spec: WorkloadSpec) -> dict[str, str]:
        placed = next(p for p in self.blueprint.tenants if p.id == spec.owner)
        return resource_tags(
            self.settings.cell.cloud,
            tenant=spec.owner,
            tier=spec.tier,
            isolation=spec.isolation,
            residency=self.blueprint.residency,
            compliance=placed.tenant.compliance,
            environment=self.settings.cell.environment,
        )

    def __call__(self, spec: WorkloadSpec) -> tuple[dict[str, Any], dict[str, str]]:
        cloud = self.settings.cell.cloud
        env = self.settings.cell.environment
        server = self.servers[spec.owner].iam_resource
        if cloud == "aws":
            from components.aws.workload_identity import IrsaRole, IrsaRoleArgs

            if not self.app.oidc_provider_arn:
                raise _missing(
                    self.settings, "oidcProviderArn", "set the EKS cluster's IAM OIDC provider ARN"
                )
            role = IrsaRole(
                f"silo-{spec.owner}-irsa",
                IrsaRoleArgs(
                    role_name=physical_name("aws.resource", NAME_PREFIX, env, spec.owner, "app"),
                    oidc_provider_arn=self.app.oidc_provider_arn,
                    namespace=spec.namespace,
                    service_account=APP_NAME,
                    tags=self._tags(spec),
                    # The SQL plan's login role of the tenant, on its own cluster only.
                    db_user_arn=pulumi.Output.concat(server, "/", tenant_role(spec.owner)),
                ),
            )
            return {"eks.amazonaws.com/role-arn": role.arn}, {}
        if cloud == "azure":
            from components.azure.resource_group import ResourceGroup, ResourceGroupArgs
            from components.azure.workload_identity import WorkloadIdentity, WorkloadIdentityArgs

            if not self.app.oidc_issuer_url:
                raise _missing(
                    self.settings, "oidcIssuerUrl", "set the AKS cluster's OIDC issuer URL"
                )
            region = self.settings.cell.region
            if self._azure_group is None:
                # Identities outlive no server: their own group keeps them apart from the data.
                self._azure_group = ResourceGroup(
                    "workload-identities",
                    ResourceGroupArgs(
                        name=physical_name(
                            "azure.resource_group", NAME_PREFIX, env, region, "identities"
                        ),
                        location=region,
                        tags=self._tags(spec) | {"tenancy:tenant": "shared"},
                    ),
                )
            identity = WorkloadIdentity(
                f"silo-{spec.owner}-workload-identity",
                WorkloadIdentityArgs(
                    identity_name=physical_name(
                        "azure.resource", NAME_PREFIX, env, spec.owner, "app"
                    ),
                    resource_group_name=self._azure_group.name,
                    location=region,
                    oidc_issuer_url=self.app.oidc_issuer_url,
                    namespace=spec.namespace,
                    service_account=APP_NAME,
                    tags=self._tags(spec),
                    database_server_id=server,
                ),
            )
            return (
                {"azure.workload.identity/client-id": identity.client_id},
                {"azure.workload.identity/use": "true"},
            )
        from components.gcp.workload_identity import WorkloadIdentity as GkeIdentity
        from components.gcp.workload_identity import WorkloadIdentityArgs as GkeIdentityArgs

        if not self.settings.gcp_project:
            raise InputError(
                [
                    Issue(
                        f"stacks/Pulumi.{self.settings.cell.stack}.yaml",
                        "config.gcp:project",
                        "required for GKE Workload Identity",
                        "set gcp:project",
                    )
                ]
            )
        account = GkeIdentity(
            f"silo-{spec.owner}-workload-identity",
            GkeIdentityArgs(
                account_id=physical_name("gcp.service_account", NAME_PREFIX, env, spec.owner),
                project=self.settings.gcp_project,
                namespace=spec.namespace,
                service_account=APP_NAME,
                instance=server,
            ),
        )
        return {"iam.gke.io/gcp-service-account": account.email}, {}


def deploy(
    settings: StackSettings, blueprint: Blueprint, servers: Mapping[str, TierServer]
) -> dict[str, Any]:
    """``servers``: each silo tenant's own server (from the cloud cell), for its identity's grants."""
    app = settings.app
    workloads = cell_workloads(blueprint)
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
    identities = _Identities(settings, blueprint, app, servers)
    # Silo pods may reach their cloud's token endpoint; nothing else has a workload identity.
    identity_rules = identity_egress(
        settings.cell.cloud, app.identity_endpoint_cidrs, app.database_cidrs
    )
    namespaces: dict[str, Any] = {}
    for spec in workloads:
        labels = spec.labels()
        namespace = TenantNamespace(
            f"{spec.owner}-namespace",
            TenantNamespaceArgs(namespace=spec.namespace, labels=labels, app=spec.app),
            on_cluster,
        )
        in_namespace = pulumi.ResourceOptions(provider=provider, depends_on=[namespace])
        NamespaceNetworkPolicies(
            f"{spec.owner}-netpol",
            NamespaceNetworkPoliciesArgs(
                namespace=spec.namespace,
                labels=labels,
                app_selector=selector(spec.namespace),
                app_port=app.port,
                database_port=DATABASE_PORT,
                database_cidrs=app.database_cidrs,
                ingress_namespace=app.ingress_namespace,
                identity_egress=identity_rules if spec.is_silo else (),
            ),
            in_namespace,
        )
        annotations, pod_labels = identities(spec) if spec.is_silo else ({}, {})
        TenantWorkload(
            f"{spec.owner}-workload",
            TenantWorkloadArgs(
                namespace=spec.namespace,
                labels=labels,
                app=spec.app,
                image=app.image,
                port=app.port,
                env={"TENANCY_TIER": spec.tier, "TENANCY_ISOLATION": spec.isolation}
                | ({"TENANCY_TENANT": spec.owner} if spec.is_silo else {}),
                service_account_annotations=annotations,
                pod_labels=pod_labels,
                suspended=spec.suspended,
                keda=keda.release if keda else None,
            ),
            in_namespace,
        )
        for tenant_id in spec.tenant_ids:
            namespaces[tenant_id] = spec.namespace
    return namespaces
