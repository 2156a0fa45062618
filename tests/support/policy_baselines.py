"""Compliant engine-form props, as `tenancy plan` captures them (trimmed from real plans).

Each test takes one baseline, changes one property, and asserts the exact message.
"""

from __future__ import annotations

import copy
from typing import Any

from components.model.keys import aws_key_policy_json
from policies.config import load_generated, merged_config
from policies.framework import Ctx, Res

STACK = "prod-aws-eu-central-1"
KEY_ARN = "arn:aws:kms:eu-central-1:123456789012:key/7e31a70b-060b-26c2-6f9f-c0839777a139"


def aws_tags(
    tenant: str = "globex",
    isolation: str = "silo",
    tier: str = "enterprise",
    compliance: str = "gdpr-hipaa-iso27001",
    env: str = "prod",
) -> dict[str, str]:
    return {
        "managed-by": "tenancy",
        "tenancy:compliance": compliance,
        "tenancy:environment": env,
        "tenancy:isolation": isolation,
        "tenancy:residency": "eu",
        "tenancy:tenant": tenant,
        "tenancy:tier": tier,
    }


def gcp_labels(tenant: str = "cyberdyne", compliance: str = "hipaa-soc2") -> dict[str, str]:
    return {
        "managed-by": "tenancy",
        "tenancy-compliance": compliance,
        "tenancy-environment": "prod",
        "tenancy-isolation": "silo",
        "tenancy-residency": "us",
        "tenancy-tenant": tenant,
        "tenancy-tier": "enterprise",
    }


def k8s_labels(
    tenant: str = "acme", tier: str = "enterprise", isolation: str = "silo"
) -> dict[str, str]:
    return {
        "app.kubernetes.io/instance": f"tnc-tenant-{tenant}",
        "app.kubernetes.io/managed-by": "tenancy",
        "app.kubernetes.io/name": "tenant-api",
        "tenancy.dev/isolation": isolation,
        "tenancy.dev/tenant": tenant,
        "tenancy.dev/tier": tier,
    }


_POD_LABELS = {
    "app.kubernetes.io/instance": "tnc-tenant-acme",
    "app.kubernetes.io/name": "tenant-api",
}

PGBOUNCER_LABELS = {
    "app.kubernetes.io/instance": "pgbouncer-free-01",
    "app.kubernetes.io/managed-by": "tenancy",
    "app.kubernetes.io/name": "pgbouncer",
    "tenancy.dev/environment": "prod",
    "tenancy.dev/isolation": "pool",
    "tenancy.dev/tenant": "shared",
    "tenancy.dev/tier": "free",
}
PGBOUNCER_INI = """[databases]
app = host=10.40.0.5 port=5432 dbname=app

[pgbouncer]
listen_port = 6432
pool_mode = transaction
default_pool_size = 3
auth_type = scram-sha-256
client_tls_sslmode = require
server_tls_sslmode = verify-ca
server_tls_ca_file = /etc/pgbouncer/server-ca/ca.crt
"""

BASELINES: dict[str, tuple[str, dict[str, Any]]] = {
    "aws_cluster": (
        "aws:rds/cluster:Cluster",
        {
            "backupRetentionPeriod": 35,
            "clusterIdentifier": "tnc-prod-globex",
            "copyTagsToSnapshot": True,
            "databaseName": "globex",
            "dbClusterParameterGroupName": "tnc-prod-globex-params",
            "dbSubnetGroupName": "tnc-prod-globex",
            "deleteAutomatedBackups": False,
            "deletionProtection": True,
            "enabledCloudwatchLogsExports": ["postgresql"],
            "engine": "aurora-postgresql",
            "engineMode": "provisioned",
            "engineVersion": "16.6",
            "finalSnapshotIdentifier": "tnc-prod-globex-final",
            "iamDatabaseAuthenticationEnabled": True,
            "kmsKeyId": KEY_ARN,
            "manageMasterUserPassword": True,
            "masterUserSecretKmsKeyId": KEY_ARN,
            "masterUsername": "tenancy_admin",
            "port": 5432,
            "preferredBackupWindow": "01:00-02:00",
            "region": "eu-central-1",
            "serverlessv2ScalingConfiguration": {"maxCapacity": 64, "minCapacity": 2},
            "skipFinalSnapshot": False,
            "storageEncrypted": True,
            "tags": aws_tags(),
            "vpcSecurityGroupIds": ["sg-26f0c9b45f3ebb40"],
        },
    ),
    "aws_cluster_instance": (
        "aws:rds/clusterInstance:ClusterInstance",
        {
            "autoMinorVersionUpgrade": True,
            "availabilityZone": "eu-central-1a",
            "clusterIdentifier": "tnc-prod-globex",
            "engine": "aurora-postgresql",
            "identifier": "tnc-prod-globex-1",
            "instanceClass": "db.serverless",
            "performanceInsightsEnabled": True,
            "performanceInsightsKmsKeyId": KEY_ARN,
            "publiclyAccessible": False,
            "region": "eu-central-1",
            "tags": aws_tags(),
        },
    ),
    "aws_params": (
        "aws:rds/clusterParameterGroup:ClusterParameterGroup",
        {
            "description": "TLS-only settings for globex",
            "family": "aurora-postgresql16",
            "name": "tnc-prod-globex-params",
            "parameters": [
                {"applyMethod": "pending-reboot", "name": "rds.force_ssl", "value": "1"},
                {
                    "applyMethod": "pending-reboot",
                    "name": "ssl_min_protocol_version",
                    "value": "TLSv1.2",
                },
                {"applyMethod": "immediate", "name": "log_connections", "value": "1"},
            ],
            "region": "eu-central-1",
            "tags": aws_tags(),
        },
    ),
    "aws_key": (
        "aws:kms/key:Key",
        {
            "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
            "deletionWindowInDays": 30,
            "description": "tenancy: data, secret and backups of silo tenant globex",
            "enableKeyRotation": True,
            "keyUsage": "ENCRYPT_DECRYPT",
            "multiRegion": False,
            "policy": aws_key_policy_json(
                account_id="123456789012",
                partition="aws",
                region="eu-central-1",
                tenant_role_names=("tnc-prod-globex-app",),
            ),
            "region": "eu-central-1",
            "rotationPeriodInDays": 365,
            "tags": aws_tags(),
        },
    ),
    "aws_secret": (
        "aws:secretsmanager/secret:Secret",
        {
            "description": "tenancy: app credentials of globex",
            "kmsKeyId": KEY_ARN,
            "name": "tnc-prod-globex-app",
            "recoveryWindowInDays": 30,
            "region": "eu-central-1",
            "replicas": [
                {"kmsKeyId": KEY_ARN.replace("eu-central-1", "eu-west-1"), "region": "eu-west-1"}
            ],
            "tags": aws_tags(),
        },
    ),
    "aws_backup_vault": (
        "aws:backup/vault:Vault",
        {
            "kmsKeyArn": KEY_ARN,
            "name": "tnc-prod-globex",
            "region": "eu-central-1",
            "tags": aws_tags(),
        },
    ),
    "aws_snapshot": (
        "aws:rds/clusterSnapshot:ClusterSnapshot",
        {
            "dbClusterIdentifier": "tnc-prod-globex",
            "dbClusterSnapshotIdentifier": "tnc-prod-globex-pre-upgrade",
            "sharedAccounts": ["210987654321"],
            "region": "eu-central-1",
            "tags": aws_tags(),
        },
    ),
    "aws_sg": (
        "aws:ec2/securityGroup:SecurityGroup",
        {
            "description": "PostgreSQL of globex: private clients only",
            "egress": [],
            "ingress": [
                {
                    "cidrBlocks": ["10.20.0.0/16"],
                    "description": "PostgreSQL from private address space",
                    "fromPort": 5432,
                    "protocol": "tcp",
                    "toPort": 5432,
                }
            ],
            "region": "eu-central-1",
            "revokeRulesOnDelete": True,
            "tags": aws_tags(),
            "vpcId": "vpc-0a1b2c3d4e5f60718",
        },
    ),
    "azure_server": (
        "azure-native:dbforpostgresql:Server",
        {
            "administratorLogin": "tenancy_admin",
            "administratorLoginPassword": "[secret]",
            "availabilityZone": "1",
            "backup": {"backupRetentionDays": 35, "geoRedundantBackup": "Disabled"},
            "createMode": "Create",
            "dataEncryption": {
                "primaryKeyURI": "https://tnc-prod-kv-fc7b13.vault.azure.net/keys/tnc-prod-stark",
                "primaryUserAssignedIdentityId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-tenancy-prod-westeurope/providers/Microsoft.ManagedIdentity/userAssignedIdentities/tnc-prod-stark-9da4a4-cmk",
                "type": "AzureKeyVault",
            },
            "highAvailability": {"mode": "ZoneRedundant", "standbyAvailabilityZone": "2"},
            "location": "westeurope",
            "network": {
                "delegatedSubnetResourceId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-network-prod/providers/Microsoft.Network/virtualNetworks/vnet-prod-westeurope/subnets/postgres-flexible",
                "publicNetworkAccess": "Disabled",
            },
            "resourceGroupName": "rg-tenancy-prod-westeurope",
            "serverName": "tnc-prod-stark-9da4a4",
            "storage": {"autoGrow": "Enabled", "storageSizeGB": 32},
            "tags": aws_tags("stark", compliance="gdpr-iso27001"),
            "version": "16",
        },
    ),
    "azure_administrator": (
        "azure-native:dbforpostgresql:Administrator",
        {
            "objectId": "55555555-5555-5555-5555-555555555555",
            "principalName": "tenancy-prod-db-operators",
            "principalType": "Group",
            "resourceGroupName": "rg-tenancy-prod-westeurope",
            "serverName": "tnc-prod-stark-9da4a4",
            "tenantId": "11111111-1111-1111-1111-111111111111",
        },
    ),
    "azure_vault": (
        "azure-native:keyvault:Vault",
        {
            "location": "westeurope",
            "properties": {
                "enablePurgeProtection": True,
                "enableRbacAuthorization": True,
                "enableSoftDelete": True,
                "networkAcls": {"bypass": "AzureServices", "defaultAction": "Deny"},
                "publicNetworkAccess": "Disabled",
                "sku": {"family": "A", "name": "standard"},
                "softDeleteRetentionInDays": 90,
                "tenantId": "11111111-1111-1111-1111-111111111111",
            },
            "resourceGroupName": "rg-tenancy-prod-westeurope",
            "tags": aws_tags("shared", isolation="network", tier="cell", compliance="none"),
            "vaultName": "tnc-prod-kv-fc7b13",
        },
    ),
    "azure_key": (
        "azure-native:keyvault:Key",
        {
            "keyName": "tnc-prod-wayne",
            "properties": {
                "attributes": {"enabled": True, "exportable": False},
                "keyOps": ["wrapKey", "unwrapKey"],
                "keySize": 3072,
                "kty": "RSA-HSM",
                "rotationPolicy": {
                    "attributes": {"expiryTime": "P120D"},
                    "lifetimeActions": [
                        {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P90D"}},
                        {"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P15D"}},
                    ],
                },
            },
            "resourceGroupName": "rg-tenancy-prod-westeurope",
            "tags": aws_tags("shared", isolation="bridge", tier="standard", compliance="gdpr-pci"),
            "vaultName": "tnc-prod-kv-fc7b13",
        },
    ),
    "azure_firewall_rule": (
        "azure-native:dbforpostgresql:FirewallRule",
        {
            "endIpAddress": "255.255.255.255",
            "firewallRuleName": "allow-all",
            "resourceGroupName": "rg-tenancy-prod-westeurope",
            "serverName": "tnc-prod-stark-9da4a4",
            "startIpAddress": "0.0.0.0",
        },
    ),
    "gcp_sql": (
        "gcp:sql/databaseInstance:DatabaseInstance",
        {
            "databaseVersion": "POSTGRES_16",
            "deletionProtection": True,
            "encryptionKeyName": "projects/tenancy-prod-4711/locations/us-central1/keyRings/tnc-prod-cyberdyne/cryptoKeys/tnc-prod-cyberdyne",
            "name": "tnc-prod-cyberdyne-0268ee",
            "project": "tenancy-prod-4711",
            "region": "us-central1",
            "settings": {
                "availabilityType": "REGIONAL",
                "backupConfiguration": {
                    "backupRetentionSettings": {"retainedBackups": 35, "retentionUnit": "COUNT"},
                    "enabled": True,
                    "location": "us-central1",
                    "pointInTimeRecoveryEnabled": True,
                    "startTime": "01:00",
                    "transactionLogRetentionDays": 7,
                },
                "deletionProtectionEnabled": True,
                "diskAutoresize": True,
                "diskAutoresizeLimit": 8192,
                "edition": "ENTERPRISE",
                "ipConfiguration": {
                    "ipv4Enabled": False,
                    "privateNetwork": "projects/tenancy-host-4711/global/networks/prod-shared-vpc",
                    "sslMode": "ENCRYPTED_ONLY",
                },
                "tier": "db-custom-2-7680",
                "userLabels": gcp_labels(),
            },
        },
    ),
    "gcp_crypto_key": (
        "gcp:kms/cryptoKey:CryptoKey",
        {
            "destroyScheduledDuration": "2592000s",
            "keyRing": "projects/tenancy-prod-4711/locations/us-central1/keyRings/tnc-prod-cyberdyne",
            "labels": gcp_labels(),
            "name": "tnc-prod-cyberdyne",
            "purpose": "ENCRYPT_DECRYPT",
            "rotationPeriod": "7776000s",
        },
    ),
    "gcp_secret": (
        "gcp:secretmanager/secret:Secret",
        {
            "deletionProtection": True,
            "labels": gcp_labels(),
            "project": "tenancy-prod-4711",
            "replication": {
                "userManaged": {
                    "replicas": [
                        {
                            "customerManagedEncryption": {
                                "kmsKeyName": "projects/tenancy-prod-4711/locations/us-central1/keyRings/tnc-prod-cyberdyne/cryptoKeys/tnc-prod-cyberdyne"
                            },
                            "location": "us-central1",
                        }
                    ]
                }
            },
            "secretId": "tnc-prod-cyberdyne-0268ee-admin",
        },
    ),
    "k8s_hpa": (
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {
                "labels": k8s_labels(),
                "name": "tenant-api",
                "namespace": "tnc-tenant-acme",
            },
            "spec": {
                "maxReplicas": 30,
                "metrics": [
                    {
                        "resource": {
                            "name": "cpu",
                            "target": {"averageUtilization": 60, "type": "Utilization"},
                        },
                        "type": "Resource",
                    },
                    {
                        "resource": {
                            "name": "memory",
                            "target": {"averageUtilization": 75, "type": "Utilization"},
                        },
                        "type": "Resource",
                    },
                ],
                "minReplicas": 3,
                "scaleTargetRef": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "tenant-api",
                },
            },
        },
    ),
    "k8s_scaled_object": (
        "kubernetes:keda.sh/v1alpha1:ScaledObject",
        {
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "metadata": {
                "labels": k8s_labels("shared", "standard", "bridge"),
                "name": "tenant-api",
                "namespace": "tnc-tier-standard",
            },
            "spec": {
                "maxReplicaCount": 50,
                "minReplicaCount": 2,
                "scaleTargetRef": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "tenant-api",
                },
                "triggers": [
                    {"metadata": {"value": "70"}, "metricType": "Utilization", "type": "cpu"},
                    {"metadata": {"value": "80"}, "metricType": "Utilization", "type": "memory"},
                ],
            },
        },
    ),
    "k8s_deployment": (
        "kubernetes:apps/v1:Deployment",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "labels": k8s_labels(),
                "name": "tenant-api",
                "namespace": "tnc-tenant-acme",
            },
            "spec": {
                "selector": {"matchLabels": dict(_POD_LABELS)},
                "template": {
                    "metadata": {"labels": k8s_labels()},
                    "spec": {
                        "automountServiceAccountToken": False,
                        "containers": [
                            {
                                "image": "ghcr.io/tenancy/tenant-api:0.1.0",
                                "name": "tenant-api",
                                "securityContext": {
                                    "allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]},
                                    "privileged": False,
                                    "readOnlyRootFilesystem": True,
                                    "runAsGroup": 10001,
                                    "runAsNonRoot": True,
                                    "runAsUser": 10001,
                                    "seccompProfile": {"type": "RuntimeDefault"},
                                },
                            }
                        ],
                        "securityContext": {
                            "fsGroup": 10001,
                            "runAsNonRoot": True,
                            "runAsUser": 10001,
                            "seccompProfile": {"type": "RuntimeDefault"},
                        },
                        "serviceAccountName": "tenant-api",
                    },
                },
            },
        },
    ),
    "aws_proxy": (
        "aws:rds/proxy:Proxy",
        {
            "auths": [
                {
                    "authScheme": "SECRETS",
                    "clientPasswordAuthType": "POSTGRES_SCRAM_SHA_256",
                    "iamAuth": "REQUIRED",
                    "secretArn": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!tnc-prod-free-01",
                }
            ],
            "debugLogging": False,
            "engineFamily": "POSTGRESQL",
            "idleClientTimeout": 1800,
            "name": "tnc-prod-free-01-proxy",
            "region": "eu-central-1",
            "requireTls": True,
            "roleArn": "arn:aws:iam::123456789012:role/tnc-prod-free-01-proxy",
            "tags": aws_tags("shared", "pool", "free", "gdpr"),
            "vpcSecurityGroupIds": ["sg-0a1b2c3d"],
            "vpcSubnetIds": ["subnet-a", "subnet-b"],
        },
    ),
    # GCP's pooler: PgBouncer on the cell's cluster (components/k8s/pgbouncer.py).
    "gcp_pgbouncer_config": (
        "kubernetes:core/v1:ConfigMap",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "labels": PGBOUNCER_LABELS,
                "name": "pgbouncer-free-01-config",
                "namespace": "tnc-tier-free",
            },
            "data": {"pgbouncer.ini": PGBOUNCER_INI},
        },
    ),
    "gcp_pgbouncer_service": (
        "kubernetes:core/v1:Service",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "labels": PGBOUNCER_LABELS,
                "name": "pgbouncer-free-01",
                "namespace": "tnc-tier-free",
            },
            "spec": {
                "type": "ClusterIP",
                "ports": [{"name": "postgres", "port": 6432, "targetPort": "postgres"}],
                "selector": {"app.kubernetes.io/name": "pgbouncer"},
            },
        },
    ),
    "gcp_pgbouncer_deployment": (
        "kubernetes:apps/v1:Deployment",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "labels": PGBOUNCER_LABELS,
                "name": "pgbouncer-free-01",
                "namespace": "tnc-tier-free",
            },
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "pgbouncer",
                                "image": "ghcr.io/cloudnative-pg/pgbouncer:1.25.1@sha256:"
                                + "e6ddfe22d845e603825e235dd8334b21ecd125abea2a2172478f556b8dee2bb8",
                            }
                        ]
                    }
                }
            },
        },
    ),
}


def baseline(name: str) -> tuple[str, dict[str, Any]]:
    kind, props = BASELINES[name]
    return kind, copy.deepcopy(props)


def config() -> dict[str, Any]:
    return merged_config(load_generated())


def ctx(protect: bool | None = True, stack: str = STACK, **extra: Any) -> Ctx:
    return Ctx(config=config(), stack=stack, protect=protect, **extra)


def changed(props: dict[str, Any], path: str | tuple[str, ...], value: Any) -> dict[str, Any]:
    """``props`` with ``path`` (dotted, or a tuple for keys with dots) set to ``value``;
    ``...`` deletes it."""
    out = copy.deepcopy(props)
    *parents, last = path.split(".") if isinstance(path, str) else path
    node: Any = out
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is ...:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


def res(
    urn_name: str,
    kind: str,
    props: dict[str, Any],
    deps: tuple[str, ...] = (),
    protect: bool = True,
) -> Res:
    return Res(urn=urn(urn_name, kind), type=kind, props=props, protect=protect, dependencies=deps)


def urn(name: str, kind: str, stack: str = STACK) -> str:
    return f"urn:pulumi:{stack}::tenancy::{kind}::{name}"


# The export buckets' baselines live beside these (issue 12): one table for every rule test.
from tests.support.export_baselines import EXPORT_BASELINES  # noqa: E402

BASELINES.update(EXPORT_BASELINES)
