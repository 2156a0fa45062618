"""Switch one secure default off in a component; the offline plan must then fail a rule.

Each case runs the real program under the capturing engine with a component (or the
SDK constructor it calls) patched, and asserts the named rule fires.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi_aws as aws
import pulumi_azure_native as azure
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pytest

from components.aws.aurora import AuroraServer
from components.azure import audit_logging, flexible_server, server_guards
from components.azure.flexible_server import FlexibleServer
from components.gcp import cloudsql
from components.gcp.cloudsql import CloudSqlServer
from components.k8s import pgbouncer, workload
from infra import program
from policies.offline import evaluate
from tenancy import engine
from tenancy.stackfiles import engine_config, read_stack_config

AWS, AZURE, GCP = "prod-aws-eu-central-1", "prod-azure-westeurope", "prod-gcp-us-central1"


def fired(stack: str) -> set[str]:
    config = engine_config(read_stack_config(stack))
    captured = engine.capture(program.run, project="tenancy", stack=stack, config=config)
    plan = {
        "stack": stack,
        "resources": [r.to_json() for r in captured.resources],
        "tenants": [],  # the tenant/database rule is not what these cases probe
    }
    return {
        v["policy"]
        for v in evaluate(plan, waivers=[]).violations()
        if v["enforcement"] == "mandatory"
    }


def patch_static(
    monkeypatch: pytest.MonkeyPatch,
    cls: type,
    method: str,
    change: Callable[[dict[str, Any]], None],
) -> None:
    original = getattr(cls, method)

    def patched(*args: Any, **kwargs: Any) -> dict[str, Any]:
        inputs = original(*args, **kwargs)
        change(inputs)
        return inputs

    monkeypatch.setattr(cls, method, staticmethod(patched))


def patch_resource(
    monkeypatch: pytest.MonkeyPatch, cls: type, change: Callable[[str, dict[str, Any]], None]
) -> None:
    """Wrap an SDK resource constructor: ``change(name, kwargs)`` edits the inputs in place."""
    original = getattr(cls, "__init__")  # noqa: B009 - mypy rejects cls.__init__ on a type

    def patched(self: Any, resource_name: str, *args: Any, **kwargs: Any) -> None:
        change(resource_name, kwargs)
        original(self, resource_name, *args, **kwargs)

    monkeypatch.setattr(cls, "__init__", patched)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(inputs: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = inputs
        for key in parents:
            node = node[key]
        node[last] = value

    return change


def _aurora(path: str, value: Any) -> Callable[[pytest.MonkeyPatch], None]:
    return lambda mp: patch_static(mp, AuroraServer, "_cluster_inputs", _set(path, value))


def _flexible(path: str, value: Any) -> Callable[[pytest.MonkeyPatch], None]:
    return lambda mp: patch_static(mp, FlexibleServer, "_server_inputs", _set(path, value))


def _cloudsql(path: str, value: Any) -> Callable[[pytest.MonkeyPatch], None]:
    return lambda mp: patch_static(mp, CloudSqlServer, "_settings", _set(path, value))


def _proxy(**inputs: Any) -> Callable[[pytest.MonkeyPatch], None]:
    return lambda mp: patch_resource(mp, aws.rds.Proxy, lambda _n, kw: kw.update(**inputs))


def _proxy_without_iam(mp: pytest.MonkeyPatch) -> None:
    def change(_name: str, kwargs: dict[str, Any]) -> None:
        kwargs["auths"] = [{**auth, "iam_auth": "DISABLED"} for auth in kwargs["auths"]]

    patch_resource(mp, aws.rds.Proxy, change)


def _session_pooling(mp: pytest.MonkeyPatch) -> None:
    def change(_name: str, kwargs: dict[str, Any]) -> None:
        if kwargs.get("configuration_name") == "pgbouncer.pool_mode":
            kwargs["value"] = "SESSION"

    patch_resource(mp, azure.dbforpostgresql.Configuration, change)


def _pooler_ini(old: str, new: str) -> Callable[[pytest.MonkeyPatch], None]:
    def mutate(mp: pytest.MonkeyPatch) -> None:
        original = pgbouncer.pgbouncer_ini
        mp.setattr(
            pgbouncer, "pgbouncer_ini", lambda settings: original(settings).replace(old, new)
        )

    return mutate


def _exposed_pooler(mp: pytest.MonkeyPatch) -> None:
    def change(name: str, kwargs: dict[str, Any]) -> None:
        if name.endswith("-pooler-service"):
            kwargs["spec"]["type"] = "LoadBalancer"

    patch_resource(mp, k8s.core.v1.Service, change)


def _pooler_by_tag(mp: pytest.MonkeyPatch) -> None:
    def change(name: str, kwargs: dict[str, Any]) -> None:
        if name.endswith("-pooler-deployment"):
            container = kwargs["spec"]["template"]["spec"]["containers"][0]
            container["image"] = "ghcr.io/cloudnative-pg/pgbouncer:1.25.1"

    patch_resource(mp, k8s.apps.v1.Deployment, change)


def _public_instances(mp: pytest.MonkeyPatch) -> None:
    patch_resource(mp, aws.rds.ClusterInstance, lambda _n, kw: kw.update(publicly_accessible=True))


def _no_force_ssl(mp: pytest.MonkeyPatch) -> None:
    def change(_name: str, kwargs: dict[str, Any]) -> None:
        kwargs["parameters"] = [p for p in kwargs["parameters"] if p["name"] != "rds.force_ssl"]

    patch_resource(mp, aws.rds.ClusterParameterGroup, change)


def _no_pgaudit_on_aurora(mp: pytest.MonkeyPatch) -> None:
    def change(_name: str, kwargs: dict[str, Any]) -> None:
        kwargs["parameters"] = [p for p in kwargs["parameters"] if "pgaudit" not in p["value"]]

    patch_resource(mp, aws.rds.ClusterParameterGroup, change)


def _no_pgaudit_on_flexible_server(mp: pytest.MonkeyPatch) -> None:
    original = audit_logging.audit_parameter_values
    mp.setattr(
        audit_logging,
        "audit_parameter_values",
        lambda audit: {k: v for k, v in original(audit).items() if k != "azure.extensions"},
    )


def _pgaudit_flag_off(mp: pytest.MonkeyPatch) -> None:
    def change(inputs: dict[str, Any]) -> None:
        for flag in inputs["database_flags"]:
            if flag["name"] == "cloudsql.enable_pgaudit":
                flag["value"] = "off"

    patch_static(mp, CloudSqlServer, "_settings", change)


def _log_mutation(cls: type, change: Callable[[dict[str, Any]], None]) -> Callable[..., None]:
    return lambda mp: patch_resource(mp, cls, lambda _n, kw: change(kw))


def _lock_mode(mode: str) -> Callable[[dict[str, Any]], None]:
    return lambda kw: kw["rule"]["default_retention"].update(mode=mode)


def _immutability(**policy: Any) -> Callable[[dict[str, Any]], None]:
    return lambda kw: kw["immutable_storage_with_versioning"]["immutability_policy"].update(policy)


LOG_MUTATIONS: list[tuple[str, str, Callable[[pytest.MonkeyPatch], None], str]] = [
    (
        "aws-log-group-provider-key",
        AWS,
        _log_mutation(aws.cloudwatch.LogGroup, lambda kw: kw.pop("kms_key_id")),
        "aws-logs-destination-configure-zone-key-retention",
    ),
    (
        "aws-log-group-kept-a-month",
        AWS,
        _log_mutation(aws.cloudwatch.LogGroup, lambda kw: kw.update(retention_in_days=30)),
        "aws-logs-destination-configure-zone-key-retention",
    ),
    (
        "aws-archive-bucket-outside-zone",
        AWS,
        _log_mutation(aws.s3.Bucket, lambda kw: kw.update(region="us-east-1")),
        "aws-logs-destination-configure-zone-key-retention",
    ),
    (
        "aws-archive-governance-in-prod",
        AWS,
        _log_mutation(aws.s3.BucketObjectLockConfiguration, _lock_mode("GOVERNANCE")),
        "aws-logs-archive-enable-object-lock",
    ),
    (
        "aws-archive-not-subscribed",
        AWS,
        _log_mutation(
            aws.cloudwatch.LogSubscriptionFilter, lambda kw: kw.update(log_group="/elsewhere")
        ),
        "aws-logs-archive-enable-object-lock",
    ),
    (
        "azure-workspace-outside-zone",
        AZURE,
        _log_mutation(azure.operationalinsights.Workspace, lambda kw: kw.update(location="eastus")),
        "azure-monitor-destination-configure-zone-key-retention",
    ),
    (
        "azure-archive-geo-replicated",
        AZURE,
        _log_mutation(
            azure.storage.StorageAccount, lambda kw: kw.update(sku={"name": "Standard_GRS"})
        ),
        "azure-monitor-destination-configure-zone-key-retention",
    ),
    (
        "azure-archive-refuses-appends",
        AZURE,
        _log_mutation(
            azure.storage.StorageAccount, _immutability(allow_protected_append_writes=False)
        ),
        "azure-storage-archive-enable-immutability",
    ),
    (
        "azure-archive-unlocked-in-prod",
        AZURE,
        _log_mutation(azure.storage.StorageAccount, _immutability(state="Unlocked")),
        "azure-storage-archive-enable-immutability",
    ),
    (
        "azure-diagnostics-skip-archive",
        AZURE,
        _log_mutation(azure.monitor.DiagnosticSetting, lambda kw: kw.pop("storage_account_id", 0)),
        "azure-storage-archive-enable-immutability",
    ),
    (
        "gcp-log-bucket-global",
        GCP,
        _log_mutation(gcp.logging.ProjectBucketConfig, lambda kw: kw.update(location="global")),
        "gcp-logging-destination-configure-zone-key-retention",
    ),
    (
        "gcp-cloudsql-logs-reach-default",
        GCP,
        _log_mutation(gcp.logging.ProjectExclusion, lambda kw: kw.update(disabled=True)),
        "gcp-logging-destination-configure-zone-key-retention",
    ),
    (
        "gcp-log-bucket-unlocked-in-prod",
        GCP,
        _log_mutation(gcp.logging.ProjectBucketConfig, lambda kw: kw.update(locked=False)),
        "gcp-logging-bucket-enable-locked-retention",
    ),
]


def _no_deadlock_alarm(mp: pytest.MonkeyPatch) -> None:
    def change(_name: str, kwargs: dict[str, Any]) -> None:
        if kwargs["metric_name"] == "Deadlocks":
            kwargs["metric_name"] = "LoginFailures"  # watches something else

    patch_resource(mp, aws.cloudwatch.MetricAlarm, change)


def _alarms_notify_nobody(mp: pytest.MonkeyPatch) -> None:
    patch_resource(mp, aws.cloudwatch.MetricAlarm, lambda _n, kw: kw.update(alarm_actions=[]))


def _no_cpu_alert(mp: pytest.MonkeyPatch) -> None:
    original = flexible_server.flexible_server_alarms
    mp.setattr(
        flexible_server,
        "flexible_server_alarms",
        lambda *args: [spec for spec in original(*args) if spec.key != "cpu"],
    )


def _empty_action_group(mp: pytest.MonkeyPatch) -> None:
    def change(_name: str, kwargs: dict[str, Any]) -> None:
        kwargs.update(email_receivers=[], webhook_receivers=[])

    patch_resource(mp, azure.monitor.ActionGroup, change)


def _no_replica_lag_policy(mp: pytest.MonkeyPatch) -> None:
    original = cloudsql.instance_alarms
    mp.setattr(
        cloudsql,
        "instance_alarms",
        lambda *args: [spec for spec in original(*args) if spec.key != "replica-lag"],
    )


def _policies_without_channels(mp: pytest.MonkeyPatch) -> None:
    patch_resource(
        mp, gcp.monitoring.AlertPolicy, lambda _n, kw: kw.update(notification_channels=[])
    )


def _multi_region_key(mp: pytest.MonkeyPatch) -> None:
    patch_resource(mp, aws.kms.Key, lambda _n, kw: kw.update(multi_region=True))


def _default_key_policy(mp: pytest.MonkeyPatch) -> None:
    patch_resource(mp, aws.kms.Key, lambda _n, kw: kw.pop("policy"))


def _software_vault_key(mp: pytest.MonkeyPatch) -> None:
    patch_resource(mp, azure.keyvault.Key, lambda _n, kw: kw["properties"].update(kty="RSA"))


def _vault_key_without_expiry(mp: pytest.MonkeyPatch) -> None:
    patch_resource(
        mp, azure.keyvault.Key, lambda _n, kw: kw["properties"]["rotation_policy"].pop("attributes")
    )


def _yearly_cloud_kms_rotation(mp: pytest.MonkeyPatch) -> None:
    patch_resource(mp, gcp.kms.CryptoKey, lambda _n, kw: kw.update(rotation_period="31536000s"))


def _insecure_transport(mp: pytest.MonkeyPatch) -> None:
    mp.setitem(server_guards.SERVER_PARAMETERS, "require_secure_transport", "off")


def _read_only_lock(mp: pytest.MonkeyPatch) -> None:
    patch_resource(
        mp, azure.authorization.ManagementLockByScope, lambda _n, kw: kw.update(level="ReadOnly")
    )


def _workload_identity_as_admin(mp: pytest.MonkeyPatch) -> None:
    # The gap issue 15 closed: a managed identity (a service principal) as server admin.
    patch_resource(
        mp,
        azure.dbforpostgresql.Administrator,
        lambda _n, kw: kw.update(principal_type="ServicePrincipal"),
    )


def _no_entra_admin(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(flexible_server, "entra_administrator", lambda *args, **kwargs: None)


def _escalating_containers(mp: pytest.MonkeyPatch) -> None:
    original = workload.container_security
    mp.setattr(
        workload, "container_security", lambda: {**original(), "allow_privilege_escalation": True}
    )


def _unbounded_hpa(mp: pytest.MonkeyPatch) -> None:
    def change(_name: str, kwargs: dict[str, Any]) -> None:
        kwargs["spec"].max_replicas = 500  # a HorizontalPodAutoscalerSpecArgs

    patch_resource(mp, k8s.autoscaling.v2.HorizontalPodAutoscaler, change)


def _no_default_deny(mp: pytest.MonkeyPatch) -> None:
    def change(_name: str, kwargs: dict[str, Any]) -> None:
        if kwargs["metadata"]["name"] == "default-deny":
            kwargs["spec"] = {**kwargs["spec"], "policy_types": ["Ingress"]}

    patch_resource(mp, k8s.networking.v1.NetworkPolicy, change)


def _no_pdb(mp: pytest.MonkeyPatch) -> None:
    patch_resource(
        mp,
        k8s.policy.v1.PodDisruptionBudget,
        lambda _n, kw: kw["spec"].update(selector={"match_labels": {"app": "nothing"}}),
    )


MUTATIONS: list[tuple[str, str, Callable[[pytest.MonkeyPatch], None], str]] = [
    # AWS
    (
        "aws-storage-encryption-off",
        AWS,
        _aurora("storage_encrypted", False),
        "aws-rds-cluster-enable-storage-encryption",
    ),
    (
        "aws-deletion-protection-off",
        AWS,
        _aurora("deletion_protection", False),
        "aws-rds-cluster-enable-deletion-protection",
    ),
    (
        "aws-backups-one-day",
        AWS,
        _aurora("backup_retention_period", 1),
        "aws-rds-cluster-configure-backup-retention",
    ),
    (
        "aws-region-outside-zone",
        AWS,
        _aurora("region", "us-east-1"),
        "aws-all-resource-configure-residency-region",
    ),
    ("aws-public-instance", AWS, _public_instances, "aws-rds-instance-disallow-public-access"),
    ("aws-tls-not-forced", AWS, _no_force_ssl, "aws-rds-parametergroup-enable-force-ssl"),
    ("aws-multi-region-key", AWS, _multi_region_key, "aws-kms-key-enable-rotation"),
    ("aws-proxy-tls-optional", AWS, _proxy(require_tls=False), "aws-rds-proxy-enable-require-tls"),
    ("aws-proxy-password-auth", AWS, _proxy_without_iam, "aws-rds-proxy-enable-iam-auth"),
    (
        "aws-proxy-public-subnet",
        AWS,
        _proxy(vpc_subnet_ids=["subnet-public-a"]),
        "aws-rds-proxy-disallow-public-subnets",
    ),
    ("aws-no-pgaudit", AWS, _no_pgaudit_on_aurora, "aws-rds-parametergroup-enable-pgaudit"),
    (
        "azure-pgaudit-not-allow-listed",
        AZURE,
        _no_pgaudit_on_flexible_server,
        "azure-postgresql-configuration-enable-pgaudit",
    ),
    ("gcp-pgaudit-off", GCP, _pgaudit_flag_off, "gcp-sql-instance-enable-pgaudit"),
    ("aws-default-key-policy", AWS, _default_key_policy, "aws-kms-key-configure-key-policy"),
    (
        "aws-no-deadlock-alarm",
        AWS,
        _no_deadlock_alarm,
        "aws-cloudwatch-metricalarm-enable-server-alarms",
    ),
    ("aws-alarms-notify-nobody", AWS, _alarms_notify_nobody, "aws-sns-topic-enable-alert-channel"),
    ("azure-no-cpu-alert", AZURE, _no_cpu_alert, "azure-monitor-metricalert-enable-server-alarms"),
    (
        "azure-empty-action-group",
        AZURE,
        _empty_action_group,
        "azure-monitor-actiongroup-enable-alert-channel",
    ),
    (
        "gcp-no-replica-lag-policy",
        GCP,
        _no_replica_lag_policy,
        "gcp-monitoring-alertpolicy-enable-server-alarms",
    ),
    (
        "gcp-policies-without-channels",
        GCP,
        _policies_without_channels,
        "gcp-monitoring-notificationchannel-enable-alert-channel",
    ),
    ("azure-software-key", AZURE, _software_vault_key, "azure-keyvault-key-enable-hsm"),
    (
        "azure-key-without-expiry",
        AZURE,
        _vault_key_without_expiry,
        "azure-keyvault-key-configure-rotation-expiry",
    ),
    (
        "gcp-yearly-key-rotation",
        GCP,
        _yearly_cloud_kms_rotation,
        "gcp-kms-cryptokey-configure-rotation",
    ),
    # Azure
    (
        "azure-public-network",
        AZURE,
        _flexible("network.public_network_access", "Enabled"),
        "azure-postgresql-server-disallow-public-network-access",
    ),
    (
        "azure-service-managed-key",
        AZURE,
        _flexible("data_encryption", {"type": "SystemManaged"}),
        "azure-postgresql-server-configure-cmk",
    ),
    (
        "azure-backups-short",
        AZURE,
        _flexible("backup.backup_retention_days", 7),
        "azure-postgresql-server-configure-backup-retention",
    ),
    (
        "azure-location-outside-zone",
        AZURE,
        _flexible("location", "eastus"),
        "azure-all-resource-configure-residency-region",
    ),
    (
        "azure-tls-optional",
        AZURE,
        _insecure_transport,
        "azure-postgresql-configuration-enable-secure-transport",
    ),
    ("azure-no-delete-lock", AZURE, _read_only_lock, "azure-postgresql-server-enable-delete-lock"),
    (
        "azure-workload-identity-as-admin",
        AZURE,
        _workload_identity_as_admin,
        "azure-postgresql-administrator-configure-group-principal",
    ),
    (
        "azure-no-entra-admin",
        AZURE,
        _no_entra_admin,
        "azure-postgresql-server-enable-entra-administrator",
    ),
    (
        "azure-session-pooling",
        AZURE,
        _session_pooling,
        "azure-postgresql-configuration-configure-transaction-pool-mode",
    ),
    # GCP
    (
        "gcp-pooler-client-tls-optional",
        GCP,
        _pooler_ini("client_tls_sslmode = require", "client_tls_sslmode = prefer"),
        "gcp-pgbouncer-config-enable-require-tls",
    ),
    (
        "gcp-pooler-server-not-verified",
        GCP,
        _pooler_ini("server_tls_sslmode = verify-ca", "server_tls_sslmode = require"),
        "gcp-pgbouncer-config-enable-require-tls",
    ),
    (
        "gcp-pooler-session-mode",
        GCP,
        _pooler_ini("pool_mode = transaction", "pool_mode = session"),
        "gcp-pgbouncer-config-configure-transaction-pool-mode",
    ),
    (
        "gcp-pooler-load-balancer",
        GCP,
        _exposed_pooler,
        "gcp-pgbouncer-service-disallow-public-exposure",
    ),
    ("gcp-pooler-by-tag", GCP, _pooler_by_tag, "gcp-pgbouncer-deployment-enable-image-digest"),
    (
        "gcp-ssl-optional",
        GCP,
        _cloudsql("ip_configuration.ssl_mode", "ALLOW_UNENCRYPTED_AND_ENCRYPTED"),
        "gcp-sql-instance-enable-ssl-only",
    ),
    (
        "gcp-public-ip",
        GCP,
        _cloudsql("ip_configuration.ipv4_enabled", True),
        "gcp-sql-instance-disallow-public-ip",
    ),
    (
        "gcp-pitr-off",
        GCP,
        _cloudsql("backup_configuration.point_in_time_recovery_enabled", False),
        "gcp-sql-instance-configure-backups",
    ),
    (
        "gcp-backups-multi-region",
        GCP,
        _cloudsql("backup_configuration.location", "us"),
        "gcp-all-resource-configure-residency-region",
    ),
    (
        "gcp-deletion-protection-off",
        GCP,
        _cloudsql("deletion_protection_enabled", False),
        "gcp-sql-instance-enable-deletion-protection",
    ),
    # Kubernetes
    (
        "k8s-privilege-escalation",
        AWS,
        _escalating_containers,
        "k8s-apps-deployment-configure-restricted-security-context",
    ),
    ("k8s-hpa-above-tier", AWS, _unbounded_hpa, "k8s-autoscaling-hpa-configure-tier-bounds"),
    (
        "k8s-no-default-deny",
        GCP,
        _no_default_deny,
        "k8s-networking-networkpolicy-enable-default-deny",
    ),
    ("k8s-pdb-selects-nothing", AZURE, _no_pdb, "k8s-policy-pdb-enable-disruption-budget"),
    *LOG_MUTATIONS,
]


@pytest.mark.parametrize(
    ("stack", "mutate", "rule"), [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS]
)
def test_switching_a_secure_default_off_fires_a_rule(
    monkeypatch: pytest.MonkeyPatch,
    stack: str,
    mutate: Callable[[pytest.MonkeyPatch], None],
    rule: str,
) -> None:
    mutate(monkeypatch)
    assert rule in fired(stack)


def test_mutations_cover_every_cloud_and_kubernetes() -> None:
    assert len(MUTATIONS) >= 12
    assert {name.split("-", 1)[0] for name, *_ in MUTATIONS} == {"aws", "azure", "gcp", "k8s"}


@pytest.mark.parametrize("stack", [AWS, AZURE, GCP])
def test_unmutated_program_fires_nothing(stack: str) -> None:
    assert fired(stack) == set()
