"""PgBouncer in front of one server, on the cell's Kubernetes cluster: the GCP pooler.

Cloud SQL's managed connection pooling needs Enterprise Plus and tenancy's Cloud SQL
servers are Enterprise, so each pooled GCP server (every shard, and a silo whose tier
pools) gets this instead, in the namespace of the tier (silo: of the tenant) whose apps
use it (docs/connection-pooling.md). It is hardened like the tier's own workload:

- pods: restricted securityContext, read-only root filesystem, no service-account token,
  image by digest (``tenancy:app.poolerImage``), spread over zones;
- NetworkPolicy: in, only the tier's app pods on 6432; out, only the server on 5432
  (and DNS, the namespace's ``allow-dns``); the apps may reach the pooler pods;
- PodDisruptionBudget, HPA on CPU, a ClusterIP Service only;
- TLS both ways: clients must use TLS (``client_tls_sslmode=require``) with a
  cert-manager certificate for the Service's names; PgBouncer verifies the server's
  certificate against the Cloud SQL instance's own CAs (``server_tls_sslmode=verify-ca``,
  from a Secret of the instance's ``serverCaCerts``), not its name: the certificate names
  the instance, not the private IP PgBouncer dials;
- auth: SCRAM-SHA-256 from a userlist Secret of verifiers (no password in the plan or in
  the config); each login role's generated password is in a Secret apps mount.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.args import PoolerArgs, PoolerEndpoint
from components.k8s.namespace import QuotaReserve, cpu, memory
from components.k8s.workload import RUN_AS, container_security
from components.model.catalog import AppProfile
from components.model.pgbouncer import (
    AUTH_DIR,
    CONFIG_DIR,
    PGBOUNCER_PORT,
    SERVER_CA_DIR,
    SERVER_CA_FILE,
    SERVER_CA_KEY,
    SERVER_PORT,
    TLS_DIR,
    PgBouncerSettings,
    pgbouncer_ini,
    pooler_bounds,
    reload_script,
    scram_verifier,
    service_host,
    userlist,
)
from components.postgres.isolation import AdminConnectionArgs
from components.postgres.login_verifiers import LoginVerifiers

CERT_MANAGER_API_VERSION = "cert-manager.io/v1"
# Per pod; capped by the namespace's LimitRange (the tier's app limits), see resources().
CPU_REQUEST_MILLICORES, CPU_LIMIT_MILLICORES = 100, 500
MEMORY_REQUEST_MIB, MEMORY_LIMIT_MIB = 64, 128
# The reloader sidecar: a shell loop that reads two small files every few seconds.
RELOADER_MILLICORES, RELOADER_MIB = 10, 16
CPU_TARGET = 70


@dataclass(frozen=True)
class PgBouncerArgs:
    namespace: str
    service_name: str  # the Service (and every object's name): pgbouncer-<server owner>
    labels: Mapping[str, str]  # the namespace's labels
    app_selector: Mapping[str, str]  # the tier's app pods: the pooler's only clients
    server_host: pulumi.Input[str]  # the server's private IP
    # The CA certificates of the server's TLS certificate, concatenated PEM (Cloud SQL's
    # serverCaCerts): PgBouncer verifies the server against them (verify-ca).
    server_ca_pem: pulumi.Input[str]
    database: str  # the one database the pooler serves
    login_roles: Sequence[str]  # who may log in through it (the userlist)
    pooler: PoolerArgs  # the tier's pooling section
    app: AppProfile  # the namespace's LimitRange caps the pooler's container
    image: str  # by digest in prod (validated with the stack config)
    image_pull_policy: str = "IfNotPresent"
    tls_issuer: str = "tenancy-internal-ca"  # cert-manager ClusterIssuer of the client cert
    # The server's admin connection: sets the same verifiers on its login roles (SCRAM
    # pass-through needs them identical), once ``server_ready`` (its SQL plan) has run.
    server_owner: str = ""
    server_admin: AdminConnectionArgs | None = None
    server_ready: pulumi.Resource | None = None


@dataclass(frozen=True)
class PodResources:
    cpu_request_millicores: int
    cpu_limit_millicores: int
    memory_request_mib: int
    memory_limit_mib: int


def resources(app: AppProfile) -> PodResources:
    """The pooler container's resources, within the namespace's LimitRange (the app's)."""
    cpu_limit = min(CPU_LIMIT_MILLICORES, app.cpu_limit_millicores)
    memory_limit = min(MEMORY_LIMIT_MIB, app.memory_limit_mib)
    return PodResources(
        min(CPU_REQUEST_MILLICORES, cpu_limit),
        cpu_limit,
        min(MEMORY_REQUEST_MIB, memory_limit),
        memory_limit,
    )


def selector(service_name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": "pgbouncer", "app.kubernetes.io/instance": service_name}


class PgBouncer(pulumi.ComponentResource):
    endpoint: str  # the Service's cluster DNS name: known before anything is created

    def __init__(self, name: str, args: PgBouncerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:k8s:PgBouncer", name, None, opts)
        self.args, self.name = args, name
        labels = {**args.labels, **selector(args.service_name)}
        self.meta: k8s.meta.v1.ObjectMetaArgsDict = {
            "namespace": args.namespace,
            "labels": labels,
            "name": args.service_name,
        }
        child = pulumi.ResourceOptions(parent=self)
        bounds = pooler_bounds(args.pooler.default_pool_size)
        config = self._config(bounds.pool_size_per_pod)
        users = self._userlist()
        tls = self._certificate()
        server_ca = self._server_ca()
        k8s.core.v1.ServiceAccount(
            f"{name}-sa", metadata=self.meta, automount_service_account_token=False, opts=child
        )
        # A changed pgbouncer.ini (the tier's settings) rolls the pods. The userlist does
        # not: it changes whenever a bridge tenant joins the shard, and onboarding must never
        # restart a shared tier; kubelet refreshes the mounted Secret and the reloader sidecar
        # makes PgBouncer RELOAD it (docs/connection-pooling.md).
        checksum = config.data.apply(
            lambda data: hashlib.sha256((data or {}).get("pgbouncer.ini", "").encode()).hexdigest()
        )
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=self.meta,
            spec=self._deployment_spec(checksum),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[config, users, tls, server_ca]),
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata=self.meta,
            spec={
                "type": "ClusterIP",
                "selector": selector(args.service_name),
                "ports": [
                    {
                        "name": "postgres",
                        "port": PGBOUNCER_PORT,
                        "target_port": "postgres",
                        "protocol": "TCP",
                    }
                ],
            },
            opts=child,
        )
        self._autoscaling(bounds.min_replicas, bounds.max_replicas, deployment)
        self._network_policies()
        self.endpoint = service_host(args.service_name, args.namespace)
        self.register_outputs({"endpoint": self.endpoint, "port": PGBOUNCER_PORT})

    @property
    def facts(self) -> PoolerEndpoint:
        return PoolerEndpoint(self.endpoint, PGBOUNCER_PORT)

    def _config(self, pool_size_per_pod: int) -> k8s.core.v1.ConfigMap:
        args = self.args
        ini = pulumi.Output.from_input(args.server_host).apply(
            lambda host: pgbouncer_ini(
                PgBouncerSettings(
                    server_host=host,
                    database=args.database,
                    mode=args.pooler.mode,
                    pool_size_per_pod=pool_size_per_pod,
                    max_client_connections=args.pooler.max_client_connections,
                    idle_timeout_seconds=args.pooler.idle_timeout_seconds,
                )
            )
        )
        return k8s.core.v1.ConfigMap(
            f"{self.name}-config",
            metadata={**self.meta, "name": f"{self.args.service_name}-config"},
            data={"pgbouncer.ini": ini},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _userlist(self) -> k8s.core.v1.Secret:
        """A generated password per login role: its SCRAM verifier goes to PgBouncer's
        userlist, the password itself to the Secret the apps read."""
        passwords: dict[str, pulumi.Output[str]] = {}
        verifiers: dict[str, pulumi.Output[str]] = {}
        for role in self.args.login_roles:
            password = _random(f"{self.name}-{role}-password", 32, self)
            salt = _random(f"{self.name}-{role}-salt", 24, self)
            passwords[role] = password
            verifiers[role] = pulumi.Output.all(password, salt).apply(
                lambda pair: scram_verifier(pair[0], pair[1].encode())
            )
        k8s.core.v1.Secret(
            f"{self.name}-logins",
            metadata={**self.meta, "name": f"{self.args.service_name}-logins"},
            type="Opaque",
            string_data={role: _secret(p) for role, p in passwords.items()},
            opts=pulumi.ResourceOptions(parent=self),
        )
        all_verifiers = pulumi.Output.all(**verifiers).apply(dict)
        if self.args.server_admin is not None:
            LoginVerifiers(
                f"{self.name}-server-logins",
                self.args.server_owner,
                self.args.server_admin,
                all_verifiers,
                pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[self.args.server_ready] if self.args.server_ready else [],
                ),
            )
        text = all_verifiers.apply(userlist)
        return k8s.core.v1.Secret(
            f"{self.name}-userlist",
            metadata={**self.meta, "name": f"{self.args.service_name}-userlist"},
            type="Opaque",
            string_data={"userlist.txt": _secret(text)},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _server_ca(self) -> k8s.core.v1.Secret:
        """The server's CA bundle, the file ``server_tls_ca_file`` names. When Cloud SQL
        rotates its CA, the next ``pulumi up`` writes the bundle with both CAs; kubelet
        refreshes the mounted file and the reloader makes PgBouncer RELOAD. CA certificates
        are public: a Secret only so the pod mounts it like the other TLS files."""
        return k8s.core.v1.Secret(
            f"{self.name}-server-ca",
            metadata={**self.meta, "name": f"{self.args.service_name}-server-ca"},
            type="Opaque",
            string_data={SERVER_CA_KEY: self.args.server_ca_pem},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _certificate(self) -> pulumi.Resource:
        """The client-side TLS certificate of the Service's names, issued and renewed by
        cert-manager into the Secret ``<service>-tls``."""
        service, namespace = self.args.service_name, self.args.namespace
        return k8s.apiextensions.CustomResource(
            f"{self.name}-certificate",
            api_version=CERT_MANAGER_API_VERSION,
            kind="Certificate",
            metadata=self.meta,
            spec={
                "secretName": f"{service}-tls",
                "dnsNames": [
                    service,
                    f"{service}.{namespace}",
                    f"{service}.{namespace}.svc",
                    service_host(service, namespace),
                ],
                "issuerRef": {"kind": "ClusterIssuer", "name": self.args.tls_issuer},
                "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                "usages": ["server auth"],
                "duration": "2160h",  # 90 days, renewed 15 days before the end
                "renewBefore": "360h",
            },
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _deployment_spec(self, checksum: pulumi.Output[str]) -> k8s.apps.v1.DeploymentSpecArgsDict:
        args, size = self.args, resources(self.args.app)
        pods = selector(args.service_name)
        return {
            "selector": {"match_labels": pods},
            "strategy": {
                "type": "RollingUpdate",
                "rolling_update": {"max_surge": 1, "max_unavailable": 0},
            },
            "revision_history_limit": 5,
            "template": {
                "metadata": {
                    "labels": pods,
                    "annotations": {"tenancy.dev/config-sha256": checksum},
                },
                "spec": {
                    "service_account_name": args.service_name,
                    "automount_service_account_token": False,
                    # The reloader signals PgBouncer (RELOAD) when its Secrets change.
                    "share_process_namespace": True,
                    "security_context": {
                        "run_as_non_root": True,
                        "run_as_user": RUN_AS,
                        "run_as_group": RUN_AS,
                        "fs_group": RUN_AS,
                        "seccomp_profile": {"type": "RuntimeDefault"},
                    },
                    # Clients finish their transactions before a pod goes (SIGTERM waits).
                    "termination_grace_period_seconds": 60,
                    "topology_spread_constraints": [
                        {
                            "max_skew": 1,
                            "topology_key": "topology.kubernetes.io/zone",
                            "when_unsatisfiable": "ScheduleAnyway",
                            "label_selector": {"match_labels": pods},
                        }
                    ],
                    "containers": [
                        {
                            "name": "pgbouncer",
                            "image": args.image,
                            "image_pull_policy": args.image_pull_policy,
                            "command": ["pgbouncer", f"{CONFIG_DIR}/pgbouncer.ini"],
                            "ports": [
                                {
                                    "name": "postgres",
                                    "container_port": PGBOUNCER_PORT,
                                    "protocol": "TCP",
                                }
                            ],
                            "resources": {
                                "requests": {
                                    "cpu": cpu(size.cpu_request_millicores),
                                    "memory": memory(size.memory_request_mib),
                                },
                                "limits": {
                                    "cpu": cpu(size.cpu_limit_millicores),
                                    "memory": memory(size.memory_limit_mib),
                                },
                            },
                            "readiness_probe": {
                                "tcp_socket": {"port": "postgres"},
                                "period_seconds": 5,
                            },
                            "liveness_probe": {
                                "tcp_socket": {"port": "postgres"},
                                "period_seconds": 20,
                                "failure_threshold": 3,
                            },
                            "security_context": container_security(),
                            "volume_mounts": [
                                {"name": "config", "mount_path": CONFIG_DIR, "read_only": True},
                                {"name": "userlist", "mount_path": AUTH_DIR, "read_only": True},
                                {"name": "tls", "mount_path": TLS_DIR, "read_only": True},
                                {
                                    "name": "server-ca",
                                    "mount_path": SERVER_CA_DIR,
                                    "read_only": True,
                                },
                                {"name": "tmp", "mount_path": "/tmp"},
                            ],
                        },
                        self._reloader(),
                    ],
                    "volumes": [
                        {
                            "name": "config",
                            "config_map": {"name": f"{args.service_name}-config"},
                        },
                        {
                            "name": "userlist",
                            "secret": {
                                "secret_name": f"{args.service_name}-userlist",
                                "default_mode": 0o400,
                            },
                        },
                        {
                            "name": "tls",
                            "secret": {
                                "secret_name": f"{args.service_name}-tls",
                                "default_mode": 0o400,
                            },
                        },
                        {
                            "name": "server-ca",
                            "secret": {
                                "secret_name": f"{args.service_name}-server-ca",
                                "default_mode": 0o400,
                            },
                        },
                        {"name": "tmp", "empty_dir": {"size_limit": "16Mi"}},
                    ],
                },
            },
        }

    def _reloader(self) -> k8s.core.v1.ContainerArgsDict:
        """Sidecar: RELOAD PgBouncer when kubelet refreshes the userlist, the certificate or
        the server's CA bundle, so neither a tenant joining the shard nor a CA rotation
        restarts the pooler (reload_script says why)."""
        watched = [
            f"{AUTH_DIR}/userlist.txt",
            f"{TLS_DIR}/tls.crt",
            f"{TLS_DIR}/tls.key",
            SERVER_CA_FILE,
        ]
        return {
            "name": "reloader",
            "image": self.args.image,  # the pooler's own pinned image: it has a POSIX sh
            "image_pull_policy": self.args.image_pull_policy,
            "command": ["/bin/sh", "-c", reload_script(watched)],
            "resources": {
                "requests": {"cpu": cpu(RELOADER_MILLICORES), "memory": memory(RELOADER_MIB)},
                "limits": {"cpu": cpu(RELOADER_MILLICORES), "memory": memory(RELOADER_MIB)},
            },
            "security_context": container_security(),
            "volume_mounts": [
                {"name": "userlist", "mount_path": AUTH_DIR, "read_only": True},
                {"name": "tls", "mount_path": TLS_DIR, "read_only": True},
                {"name": "server-ca", "mount_path": SERVER_CA_DIR, "read_only": True},
            ],
        }

    def _autoscaling(
        self, min_replicas: int, max_replicas: int, deployment: k8s.apps.v1.Deployment
    ) -> None:
        v2 = k8s.autoscaling.v2
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{self.name}-hpa",
            metadata=self.meta,
            spec=v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name=self.args.service_name
                ),
                min_replicas=min_replicas,
                max_replicas=max_replicas,
                metrics=[
                    v2.MetricSpecArgs(
                        type="Resource",
                        resource=v2.ResourceMetricSourceArgs(
                            name="cpu",
                            target=v2.MetricTargetArgs(
                                type="Utilization", average_utilization=CPU_TARGET
                            ),
                        ),
                    )
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[deployment]),
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{self.name}-pdb",
            metadata=self.meta,
            spec={
                "min_available": 1,
                "selector": {"match_labels": selector(self.args.service_name)},
                "unhealthy_pod_eviction_policy": "AlwaysAllow",
            },
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _network_policies(self) -> None:
        """On top of the namespace's default deny: apps -> pooler -> server, nothing else."""
        args = self.args
        pooler, apps = selector(args.service_name), dict(args.app_selector)
        server_cidr = pulumi.Output.from_input(args.server_host).apply(lambda ip: f"{ip}/32")
        pooler_port = [{"protocol": "TCP", "port": PGBOUNCER_PORT}]
        policies: dict[str, k8s.networking.v1.NetworkPolicySpecArgsDict] = {
            "ingress": {
                "pod_selector": {"match_labels": pooler},
                "policy_types": ["Ingress"],
                "ingress": [
                    {"from_": [{"pod_selector": {"match_labels": apps}}], "ports": pooler_port}
                ],
            },
            "egress": {
                "pod_selector": {"match_labels": pooler},
                "policy_types": ["Egress"],
                "egress": [
                    {
                        "to": [{"ip_block": {"cidr": server_cidr}}],
                        "ports": [{"protocol": "TCP", "port": SERVER_PORT}],
                    }
                ],
            },
            "clients": {
                "pod_selector": {"match_labels": apps},
                "policy_types": ["Egress"],
                "egress": [
                    {"to": [{"pod_selector": {"match_labels": pooler}}], "ports": pooler_port}
                ],
            },
        }
        for suffix, spec in policies.items():
            k8s.networking.v1.NetworkPolicy(
                f"{self.name}-{suffix}",
                metadata={**self.meta, "name": f"{args.service_name}-{suffix}"},
                spec=spec,
                opts=pulumi.ResourceOptions(parent=self),
            )


def _secret(value: pulumi.Output[str]) -> pulumi.Output[str]:
    secret: pulumi.Output[str] = pulumi.Output.secret(value)
    return secret


def _random(name: str, length: int, parent: pulumi.Resource) -> pulumi.Output[str]:
    value = random.RandomPassword(
        name,
        length=length,
        special=False,  # one token in the userlist's quotes and in connection strings
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return value.result


def quota_reserve(app: AppProfile, pool_sizes: Sequence[int]) -> QuotaReserve:
    """What the namespace's quota must hold on top of the app for its PgBouncer
    Deployments (one per ``default_pool_size`` given), each at full scale plus a rollout
    surge pod."""
    size = resources(app)
    pods = sum(pooler_bounds(pool_size).max_replicas + 1 for pool_size in pool_sizes)
    return QuotaReserve(
        pods=pods,
        cpu_request_millicores=pods * (size.cpu_request_millicores + RELOADER_MILLICORES),
        memory_request_mib=pods * (size.memory_request_mib + RELOADER_MIB),
        cpu_limit_millicores=pods * (size.cpu_limit_millicores + RELOADER_MILLICORES),
        memory_limit_mib=pods * (size.memory_limit_mib + RELOADER_MIB),
    )
