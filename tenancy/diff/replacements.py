"""What makes a change dangerous, per Pulumi resource type: the one table to extend.

Pure data, no Pulumi import. Input names are the engine (camelCase) names that the
offline plan records; they were checked against the installed SDKs (pulumi-aws 7.51,
pulumi-azure-native 3.29, pulumi-gcp 10.2, pulumi-kubernetes 4.34). Dotted names
reach into nested inputs (``versionTemplate.protectionLevel``).

Where each replacement entry comes from (the provider's "this forces a new resource"):

- ``aws:*`` -- pulumi-aws bridges hashicorp/terraform-provider-aws; the entries are the
  ``ForceNew: true`` attributes of the resource schema in
  ``internal/service/<service>/<resource>.go`` (rds/cluster.go re-read for this table:
  availability_zones, cluster_identifier(_prefix), cluster_scalability_type,
  database_name, db_subnet_group_name, db_system_id, engine, engine_mode, kms_key_id,
  master_username, restore_to_point_in_time, snapshot_identifier, source_region,
  storage_encrypted).
- ``gcp:*`` -- pulumi-gcp bridges hashicorp/terraform-provider-google; ``ForceNew``
  attributes in ``google/services/<service>/resource_*.go``. Cloud SQL's
  ``database_version`` is updatable in place, majors included: pulumi-gcp 10.2's
  ``include_replicas_for_major_version_upgrade`` says "in-place major version upgrades ...
  when ``database_version`` is updated" (see SERVER_VERSION_INPUTS).
- ``azure-native:*`` -- the provider marks every URL path parameter of a resource
  (resource group, resource name) as forcing replacement (pulumi/pulumi-azure-native
  #77), plus ``location`` and properties whose API spec says
  ``x-ms-mutability: [create, read]`` (pulumi-azure-native #137, #169); this is the
  ``replaceOnChanges`` list of the provider schema.
- ``kubernetes:*`` -- pulumi-kubernetes replaces on ``metadata.name`` and
  ``metadata.namespace`` changes, and on the immutable fields the API rejects
  (PersistentVolumeClaim ``spec``).
"""

from __future__ import annotations

from typing import Final

# type -> inputs whose change replaces the resource (delete + create, or create + delete).
REPLACE_ON_CHANGES: Final[dict[str, tuple[str, ...]]] = {
    # AWS: terraform-provider-aws internal/service/rds/cluster.go
    "aws:rds/cluster:Cluster": (
        "availabilityZones",
        "clusterIdentifier",
        "clusterIdentifierPrefix",
        "clusterScalabilityType",
        "databaseName",
        "dbSubnetGroupName",
        "dbSystemId",
        "engine",
        "engineMode",
        "kmsKeyId",
        "masterUsername",
        "restoreToPointInTime",
        "snapshotIdentifier",
        "sourceRegion",
        "storageEncrypted",
    ),
    # internal/service/rds/cluster_instance.go
    "aws:rds/clusterInstance:ClusterInstance": (
        "availabilityZone",
        "clusterIdentifier",
        "customIamInstanceProfile",
        "dbSubnetGroupName",
        "engine",
        "identifier",
        "identifierPrefix",
    ),
    # internal/service/rds/instance.go
    "aws:rds/instance:Instance": (
        "availabilityZone",
        "characterSetName",
        "dbName",
        "identifier",
        "identifierPrefix",
        "kmsKeyId",
        "storageEncrypted",
        "timezone",
        "username",
    ),
    # internal/service/rds/cluster_parameter_group.go, subnet_group.go
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": (
        "description",
        "family",
        "name",
        "namePrefix",
    ),
    "aws:rds/subnetGroup:SubnetGroup": ("name", "namePrefix"),
    # internal/service/kms/key.go, alias.go
    "aws:kms/key:Key": (
        "customKeyStoreId",
        "customerMasterKeySpec",
        "keyUsage",
        "multiRegion",
        "xksKeyId",
    ),
    "aws:kms/alias:Alias": ("name", "namePrefix"),
    # internal/service/secretsmanager/secret.go
    "aws:secretsmanager/secret:Secret": ("name", "namePrefix"),
    # internal/service/backup/vault.go
    "aws:backup/vault:Vault": ("kmsKeyArn", "name"),
    # internal/service/ec2/vpc_.go, vpc_subnet.go, vpc_security_group.go
    "aws:ec2/vpc:Vpc": ("cidrBlock", "instanceTenancy", "ipv4IpamPoolId"),
    "aws:ec2/subnet:Subnet": ("availabilityZone", "availabilityZoneId", "cidrBlock", "vpcId"),
    "aws:ec2/securityGroup:SecurityGroup": ("description", "name", "namePrefix", "vpcId"),
    # Azure native: path parameters + location + create-only properties.
    "azure-native:dbforpostgresql:Server": (
        "administratorLogin",
        "location",
        "resourceGroupName",
        "serverName",
    ),
    "azure-native:dbforpostgresql:Database": ("databaseName", "resourceGroupName", "serverName"),
    "azure-native:keyvault:Vault": ("location", "resourceGroupName", "vaultName"),
    "azure-native:keyvault:Key": ("keyName", "resourceGroupName", "vaultName"),
    "azure-native:keyvault:Secret": ("resourceGroupName", "secretName", "vaultName"),
    "azure-native:managedidentity:UserAssignedIdentity": (
        "location",
        "resourceGroupName",
        "resourceName",
    ),
    "azure-native:resources:ResourceGroup": ("location", "resourceGroupName"),
    "azure-native:dataprotection:BackupVault": ("location", "resourceGroupName", "vaultName"),
    # GCP: terraform-provider-google google/services/sql/resource_sql_database_instance.go
    "gcp:sql/databaseInstance:DatabaseInstance": (
        "encryptionKeyName",
        "masterInstanceName",
        "name",
        "project",
        "region",
        "replicaConfiguration",
    ),
    # google/services/sql/resource_sql_database.go
    "gcp:sql/database:Database": ("instance", "name", "project"),
    # google/services/kms/resource_kms_crypto_key.go, resource_kms_key_ring.go
    "gcp:kms/cryptoKey:CryptoKey": (
        "importOnly",
        "keyRing",
        "name",
        "purpose",
        "skipInitialVersionCreation",
        "versionTemplate.protectionLevel",
    ),
    "gcp:kms/keyRing:KeyRing": ("location", "name", "project"),
    # google/services/secretmanager/resource_secret_manager_secret.go
    "gcp:secretmanager/secret:Secret": ("project", "replication", "secretId"),
    # pulumi-kubernetes: names are identity; PVC specs are immutable.
    "kubernetes:core/v1:Namespace": ("metadata.name",),
    "kubernetes:core/v1:PersistentVolumeClaim": ("metadata.name", "metadata.namespace", "spec"),
}

# A server's PostgreSQL version input, per type. A change of major there is an upgrade:
# in place on all three services (Aurora with allowMajorVersionUpgrade, Flexible Server's
# in-place major version upgrade, Cloud SQL's database_version update), so the diff shows
# it as one; a lower major is a downgrade no service performs, a danger flag.
SERVER_VERSION_INPUTS: Final[dict[str, str]] = {
    "aws:rds/cluster:Cluster": "engineVersion",
    "azure-native:dbforpostgresql:Server": "version",
    "gcp:sql/databaseInstance:DatabaseInstance": "databaseVersion",
}

# Resources whose deletion loses data or the means to read it: databases, keys,
# secrets, backups. type -> what to call it in a flag.
STATEFUL_TYPES: Final[dict[str, str]] = {
    "aws:rds/cluster:Cluster": "database cluster",
    "aws:rds/instance:Instance": "database instance",
    "aws:rds/globalCluster:GlobalCluster": "global database cluster",
    "aws:kms/key:Key": "encryption key",
    "aws:secretsmanager/secret:Secret": "secret",
    "aws:backup/vault:Vault": "backup vault",
    "aws:s3/bucket:Bucket": "storage bucket",
    "azure-native:dbforpostgresql:Server": "database server",
    "azure-native:dbforpostgresql:Database": "database",
    "azure-native:keyvault:Vault": "key vault",
    "azure-native:keyvault:Key": "encryption key",
    "azure-native:keyvault:Secret": "secret",
    "azure-native:dataprotection:BackupVault": "backup vault",
    "azure-native:recoveryservices:Vault": "backup vault",
    "azure-native:storage:StorageAccount": "storage account",
    "gcp:sql/databaseInstance:DatabaseInstance": "database server",
    "gcp:sql/database:Database": "database",
    "gcp:alloydb/cluster:Cluster": "database cluster",
    "gcp:kms/cryptoKey:CryptoKey": "encryption key",
    "gcp:kms/keyRing:KeyRing": "key ring",
    "gcp:secretmanager/secret:Secret": "secret",
    "gcp:backupdisasterrecovery/backupVault:BackupVault": "backup vault",
    "gcp:storage/bucket:Bucket": "storage bucket",
    "kubernetes:core/v1:PersistentVolumeClaim": "persistent volume claim",
}

# Inputs (any nesting) that switch a provider-side deletion guard on. Turning one
# off is a danger flag: AWS RDS ``deletionProtection``, Cloud SQL
# ``deletionProtection`` (Pulumi-side) and ``settings.deletionProtectionEnabled``
# (API-side), AlloyDB ``deletionProtection``.
DELETION_PROTECTION_INPUTS: Final[tuple[str, ...]] = (
    "deletionProtection",
    "deletionProtectionEnabled",
)

# Resources that are themselves a deletion guard (Azure locks): deleting one is a
# loss of deletion protection.
DELETION_GUARD_TYPES: Final[tuple[str, ...]] = (
    "azure-native:authorization:ManagementLockAtResourceLevel",
    "azure-native:authorization:ManagementLockAtResourceGroupLevel",
    "azure-native:authorization:ManagementLockAtSubscriptionLevel",
    "azure-native:authorization:ManagementLockByScope",
)
