"""Resource type tokens the rules judge, by cloud."""

from __future__ import annotations

# AWS
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RDS_CLUSTER_PARAMS = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
RDS_PARAMS = "aws:rds/parameterGroup:ParameterGroup"
RDS_CLUSTER_SNAPSHOT = "aws:rds/clusterSnapshot:ClusterSnapshot"
RDS_SNAPSHOT = "aws:rds/snapshot:Snapshot"
RDS_CLUSTER_SNAPSHOT_COPY = "aws:rds/clusterSnapshotCopy:ClusterSnapshotCopy"
RDS_SNAPSHOT_COPY = "aws:rds/snapshotCopy:SnapshotCopy"
RDS_BACKUP_REPLICATION = (
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
)
KMS_KEY = "aws:kms/key:Key"
S3_BUCKET = "aws:s3/bucket:Bucket"
S3_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
S3_OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
S3_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
S3_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
SM_SECRET = "aws:secretsmanager/secret:Secret"
BACKUP_VAULT = "aws:backup/vault:Vault"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LOG_SUBSCRIPTION = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
S3_SSE = S3_ENCRYPTION
CW_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SNS_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"

# Azure (azure-native)
AZ_SERVER = "azure-native:dbforpostgresql:Server"
AZ_STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
AZ_BLOB_CONTAINER = "azure-native:storage:BlobContainer"
AZ_CONFIGURATION = "azure-native:dbforpostgresql:Configuration"
# A server's Microsoft Entra administrator: the SDK's two tokens for the same ARM resource
# (AdministratorsMicrosoftEntra is the newer name, aliased to Administrator).
AZ_ADMINISTRATOR = "azure-native:dbforpostgresql:Administrator"
AZ_ENTRA_ADMINISTRATOR = "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra"
AZ_ADMINISTRATORS = frozenset({AZ_ADMINISTRATOR, AZ_ENTRA_ADMINISTRATOR})
RDS_PROXY = "aws:rds/proxy:Proxy"
RDS_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
AZ_FIREWALL_RULE = "azure-native:dbforpostgresql:FirewallRule"
AZ_VAULT = "azure-native:keyvault:Vault"
AZ_KEY = "azure-native:keyvault:Key"
AZ_SECRET = "azure-native:keyvault:Secret"
AZ_IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
AZ_LOCK = "azure-native:authorization:ManagementLockAtResourceLevel"
AZ_LOCK_BY_SCOPE = "azure-native:authorization:ManagementLockByScope"
AZ_WORKSPACE = "azure-native:operationalinsights:Workspace"
AZ_STORAGE = AZ_STORAGE_ACCOUNT
AZ_DIAGNOSTIC = "azure-native:monitor:DiagnosticSetting"
AZ_METRIC_ALERT = "azure-native:monitor:MetricAlert"
AZ_ACTION_GROUP = "azure-native:monitor:ActionGroup"

# GCP
SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
KMS_KEY_RING = "gcp:kms/keyRing:KeyRing"
KMS_CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
GSM_SECRET = "gcp:secretmanager/secret:Secret"
GCP_LOG_BUCKET = "gcp:logging/projectBucketConfig:ProjectBucketConfig"
GCP_LOG_SINK = "gcp:logging/projectSink:ProjectSink"
GCP_LOG_EXCLUSION = "gcp:logging/projectExclusion:ProjectExclusion"
GCP_ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
GCP_CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"

# Kubernetes
K8S_NAMESPACE = "kubernetes:core/v1:Namespace"
K8S_DEPLOYMENT = "kubernetes:apps/v1:Deployment"
K8S_HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
KEDA_SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
K8S_PDB = "kubernetes:policy/v1:PodDisruptionBudget"
K8S_NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
K8S_CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
K8S_SERVICE = "kubernetes:core/v1:Service"

# The connection pooler of each cloud that has one (the pooler rows of the matrix): RDS
# Proxy, Azure's built-in PgBouncer (server parameters), and GCP's PgBouncer on the cell's
# cluster (its pgbouncer.ini ConfigMap; components/k8s/pgbouncer.py).
POOLERS = {"aws": RDS_PROXY, "azure": AZ_CONFIGURATION, "gcp": K8S_CONFIG_MAP}

# Where each cloud's server logs land (the log rows of the matrix).
LOG_DESTINATIONS = {"aws": LOG_GROUP, "azure": AZ_WORKSPACE, "gcp": GCP_LOG_BUCKET}

# The database server of each cloud (the control x cloud matrix).
DATABASES = {"aws": RDS_CLUSTER, "azure": AZ_SERVER, "gcp": SQL_INSTANCE}
AWS_DATABASES = frozenset({RDS_CLUSTER, RDS_INSTANCE})
ALL_DATABASES = frozenset({RDS_CLUSTER, RDS_INSTANCE, AZ_SERVER, SQL_INSTANCE})
KEYS = frozenset({KMS_KEY, AZ_KEY, KMS_CRYPTO_KEY})
# Where each cloud's export archives live (the export rows of the control x cloud matrix).
EXPORT_STORES = {
    "aws": frozenset(
        {S3_BUCKET, S3_ENCRYPTION, S3_OBJECT_LOCK, S3_VERSIONING, S3_PUBLIC_ACCESS_BLOCK, S3_POLICY}
    ),
    "azure": frozenset({AZ_STORAGE_ACCOUNT, AZ_BLOB_CONTAINER}),
    "gcp": frozenset({GCS_BUCKET}),
}
# The customer-managed key of each cloud (the key-management row of the matrix).
KEY_TYPES = {"aws": KMS_KEY, "azure": AZ_KEY, "gcp": KMS_CRYPTO_KEY}

# Stateful: losing one loses data (or makes it unreadable, for keys).
STATEFUL = frozenset(
    {
        RDS_CLUSTER,
        RDS_INSTANCE,
        KMS_KEY,
        SM_SECRET,
        BACKUP_VAULT,
        AZ_SERVER,
        AZ_VAULT,
        AZ_KEY,
        S3_BUCKET,
        AZ_STORAGE_ACCOUNT,
        GCS_BUCKET,
        SQL_INSTANCE,
        KMS_KEY_RING,
        KMS_CRYPTO_KEY,
        GSM_SECRET,
    }
)

# Resources that carry the tenancy tags/labels (the AWS network is shared, still tagged).
TAGGED = frozenset(
    {
        RDS_CLUSTER,
        RDS_INSTANCE,
        RDS_CLUSTER_INSTANCE,
        RDS_CLUSTER_PARAMS,
        RDS_PARAMS,
        KMS_KEY,
        SM_SECRET,
        BACKUP_VAULT,
        SECURITY_GROUP,
        "aws:rds/subnetGroup:SubnetGroup",
        AZ_SERVER,
        AZ_VAULT,
        AZ_IDENTITY,
        AZ_KEY,
        S3_BUCKET,
        AZ_STORAGE_ACCOUNT,
        GCS_BUCKET,
        SQL_INSTANCE,
        KMS_CRYPTO_KEY,
        GSM_SECRET,
        K8S_NAMESPACE,
        K8S_DEPLOYMENT,
        K8S_HPA,
        KEDA_SCALED_OBJECT,
    }
)
