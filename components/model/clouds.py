"""One record of traits per cloud: everything the pure model knows about a cloud.

A fourth cloud is one more ``CloudTraits`` here (plus the touch points listed in
docs/adding-a-cloud.md); nothing else in ``components/model`` switches on the
cloud's name. Facts are the managed services' documented limits: each comment
names the API field the limit comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .namerules import NameRule

# How a silo pod reaches its cloud's token endpoint (see identity_egress.py):
# "private": an interface endpoint inside the cell's private ranges (configurable);
# "public": a public service with no private address (configurable, RFC 1918 excepted);
# "fixed": link-local addresses the platform fixes (not configurable).
IdentityEndpoint = Literal["private", "public", "fixed"]


@dataclass(frozen=True)
class NetworkTraits:
    """The keys of ``tenancy:network`` (existing networking) a cloud's cell understands."""

    # Keys that name existing networking; all of them are needed together.
    existing: tuple[str, ...]
    # Keys that may stand alone (e.g. an existing resource group).
    standalone: tuple[str, ...] = ()
    optional: tuple[str, ...] = ("allowedCidrs",)
    # key -> minimum number of ids, for keys that take a list.
    lists: Mapping[str, int] = field(default_factory=dict)
    # key -> (regex the id must match, an example) where the id has a checkable form.
    id_patterns: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    hint: str = ""  # how to fill it in
    labels: Mapping[str, str] = field(default_factory=dict)  # key -> what errors call it

    @property
    def keys(self) -> tuple[str, ...]:
        return self.existing + self.standalone + self.optional


@dataclass(frozen=True)
class IdentityTraits:
    """The workload identity a silo tenant's pods get, and the setting it cannot do without."""

    kind: str  # for docs and errors
    required_setting: str  # stack config key, e.g. "tenancy:app.oidcProviderArn"
    hint: str
    endpoint: IdentityEndpoint
    # How to fill in tenancy:app.identityEndpointCidrs ("private"/"public" endpoints).
    cidrs_hint: str = ""
    default_cidrs: tuple[str, ...] = ()  # "public": where the endpoint is, by default
    # "fixed": (CIDR, port) pairs the platform serves the token exchange on.
    fixed_endpoints: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class CloudTraits:
    name: str
    title: str  # as docs write it
    region_key: str  # the provider config key that carries the region (never a default)
    retention_days: tuple[int, int]  # backup retention the service accepts
    read_replica_limit: int  # read replicas one primary may have
    # True: replicas autoscale up to max_read_replicas (so that is the count to check);
    # False: min_read_replicas is a fixed count the cloud creates.
    autoscaled_replicas: bool
    # Namespaced tag keys ("tenancy:tier") where allowed, else "tenancy-tier".
    tag_key_separator: str
    # Label values restricted to lowercase [a-z0-9_-], at most 63 characters.
    restricted_label_values: bool
    name_rules: Mapping[str, NameRule]  # physical-name kinds, without the "<cloud>." prefix
    server_name_kind: str  # the name rule a server's physical name follows
    key_name_kind: str  # the name rule of a server's key (alias)
    network: NetworkTraits
    identity: IdentityTraits
    # PostgreSQL majors the managed service offers GA (the catalog's postgres_major_version).
    postgres_major_versions: tuple[int, ...] = ()
    # Region -> its fixed geo-redundant backup pair, where the service copies backups to one.
    paired_regions: Mapping[str, str] = field(default_factory=dict)
    # Autoscaling profile field -> the knob it sets on this cloud (README table).
    knobs: Mapping[str, str] = field(default_factory=dict)


_PRIVATE_CIDRS_HINT = "allow only private address space (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)"
_NOT_SCALED = "— (no replica autoscaling: no effect)"
_ARM = r"(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"

AWS = CloudTraits(
    name="aws",
    title="AWS",
    region_key="aws:region",
    retention_days=(1, 35),  # Aurora BackupRetentionPeriod
    read_replica_limit=15,  # Aurora replicas per cluster
    autoscaled_replicas=True,
    # Aurora PostgreSQL release calendar (AuroraPostgreSQLReleaseNotes): 17 is the newest
    # GA major; each needs a minor in components/aws/aurora.py ENGINE_VERSIONS.
    postgres_major_versions=(14, 15, 16, 17),
    tag_key_separator=":",
    restricted_label_values=False,
    # RDS: 1-63, letter first, lowercase alnum + hyphen, no "--", no trailing "-".
    name_rules={
        "rds_cluster": NameRule(63, "a-z0-9-"),
        "rds_instance": NameRule(63, "a-z0-9-"),
        "rds_proxy": NameRule(60, "a-z0-9-"),  # RDS Proxy: 1-60, same alphabet
        "rds_parameter_group": NameRule(255, "a-z0-9-"),
        "db_subnet_group": NameRule(255, "a-z0-9-"),
        "kms_alias": NameRule(256, "a-zA-Z0-9/_-", prefix="alias/", lowercase=False),
        "s3_bucket": NameRule(63, "a-z0-9-", min_len=3, globally_unique=True),
        "resource": NameRule(255, "a-zA-Z0-9_-", lowercase=False),
    },
    server_name_kind="rds_cluster",
    key_name_kind="kms_alias",
    network=NetworkTraits(
        existing=("vpcId", "privateSubnetIds"),
        lists={"privateSubnetIds": 2},  # Aurora needs subnets in two availability zones
        labels={"vpcId": "the VPC id", "privateSubnetIds": "private subnet ids"},
        hint="'vpcId: vpc-...' and 'privateSubnetIds: [subnet-..., subnet-...]' in two or more "
        "availability zones (or drop tenancy:network for a new private VPC)",
    ),
    identity=IdentityTraits(
        kind="IAM roles for service accounts (IRSA)",
        required_setting="tenancy:app.oidcProviderArn",
        hint="set the EKS cluster's IAM OIDC provider ARN",
        endpoint="private",  # the cell's STS interface VPC endpoint
        cidrs_hint="list the private ranges of the cell's STS interface VPC endpoint",
    ),
    knobs={
        "database.min_capacity / max_capacity": "Aurora Serverless v2 "
        "`serverlessv2ScalingConfiguration` min/max ACU",
        "database.min_read_replicas / max_read_replicas": "silos and shards: App Auto Scaling "
        "target `rds:cluster:ReadReplicaCount` min/max",
        "database.read_replica_cpu_target": "target-tracking policy "
        "`RDSReaderAverageCPUUtilization`",
        "database.storage_limit_gb": "— (Aurora storage grows by itself, up to 128 TiB)",
        "database.scale_windows": "App Auto Scaling scheduled actions (`cron(...)`, "
        "`timezone`) on replica count",
    },
)

# Azure region pairs (Microsoft's "cross-region replication" pairs). Geo-redundant
# backups of a Flexible Server are copied to the pair; there is no way to choose another.
_AZURE_PAIRS: dict[str, str] = {
    "westeurope": "northeurope",
    "northeurope": "westeurope",
    "germanywestcentral": "germanynorth",
    "germanynorth": "germanywestcentral",
    "francecentral": "francesouth",
    "francesouth": "francecentral",
    "uksouth": "ukwest",
    "ukwest": "uksouth",
    "swedencentral": "swedensouth",
    "swedensouth": "swedencentral",
    "switzerlandnorth": "switzerlandwest",
    "switzerlandwest": "switzerlandnorth",
    "norwayeast": "norwaywest",
    "norwaywest": "norwayeast",
    "eastus": "westus",
    "westus": "eastus",
    "eastus2": "centralus",
    "centralus": "eastus2",
    "westus2": "westcentralus",
    "westcentralus": "westus2",
    "westus3": "eastus",
    "northcentralus": "southcentralus",
    "southcentralus": "northcentralus",
    "canadacentral": "canadaeast",
    "canadaeast": "canadacentral",
    "australiaeast": "australiasoutheast",
    "australiasoutheast": "australiaeast",
    "japaneast": "japanwest",
    "japanwest": "japaneast",
}

AZURE = CloudTraits(
    name="azure",
    title="Azure",
    region_key="azure-native:location",
    retention_days=(7, 35),  # Flexible Server backupRetentionDays
    read_replica_limit=5,  # Flexible Server read replicas per primary
    autoscaled_replicas=False,
    # dbforpostgresql PostgresMajorVersion (pulumi-azure-native 3.29 lists 11-18; 11-13
    # are past standard support; concepts-version-policy).
    postgres_major_versions=(14, 15, 16, 17, 18),
    tag_key_separator=":",
    restricted_label_values=False,
    # Flexible Server 3-63 and Key Vault 3-24 are global DNS names.
    name_rules={
        "flexible_server": NameRule(63, "a-z0-9-", min_len=3, globally_unique=True),
        "key_vault": NameRule(24, "a-zA-Z0-9-", min_len=3, globally_unique=True),
        "key_vault_key": NameRule(127, "a-zA-Z0-9-"),
        "storage_account": NameRule(24, "a-z0-9", min_len=3, globally_unique=True),
        "resource_group": NameRule(90, "a-zA-Z0-9_.()-", lowercase=False),
        "resource": NameRule(63, "a-zA-Z0-9_-", min_len=3, lowercase=False),
        "database": NameRule(63, "a-z0-9_-"),
    },
    server_name_kind="flexible_server",
    key_name_kind="key_vault_key",
    network=NetworkTraits(
        existing=("delegatedSubnetId", "privateDnsZoneId"),
        standalone=("resourceGroupName",),
        optional=("vnetId", "allowedCidrs"),
        id_patterns={
            "delegatedSubnetId": (
                _ARM + r"Microsoft\.Network/virtualNetworks/[^/]+/subnets/[^/]+$",
                "/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/"
                "virtualNetworks/<vnet>/subnets/<subnet>",
            ),
            # Flexible Server accepts only zones ending in its own private DNS suffix.
            "privateDnsZoneId": (
                _ARM + r"Microsoft\.Network/privateDnsZones/[^/]+\.postgres\.database\.azure\.com$",
                "/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/"
                "privateDnsZones/<name>.private.postgres.database.azure.com",
            ),
            "vnetId": (
                _ARM + r"Microsoft\.Network/virtualNetworks/[^/]+$",
                "/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/"
                "virtualNetworks/<vnet>",
            ),
        },
        hint="give both 'delegatedSubnetId' (a subnet delegated to "
        "Microsoft.DBforPostgreSQL/flexibleServers) and 'privateDnsZoneId' (or drop them for a "
        "new private VNet)",
    ),
    identity=IdentityTraits(
        kind="Microsoft Entra Workload ID",
        required_setting="tenancy:app.oidcIssuerUrl",
        hint="set the AKS cluster's OIDC issuer URL",
        endpoint="public",  # Microsoft Entra ID has no private address
        cidrs_hint="list Entra ID's public ranges (or 0.0.0.0/0): private ranges would reopen "
        "east-west HTTPS to other tenants",
        default_cidrs=("0.0.0.0/0",),
    ),
    paired_regions=_AZURE_PAIRS,
    knobs={
        "database.min_capacity / max_capacity": "fixed SKU per tier: General Purpose D-series "
        "sized for `min_capacity` (no compute autoscale)",
        "database.min_read_replicas / max_read_replicas": "`min_read_replicas` fixed replicas "
        "(`createMode: Replica`); max: no effect (no replica autoscaling)",
        "database.read_replica_cpu_target": _NOT_SCALED,
        "database.storage_limit_gb": "`storage.autoGrow: Enabled` (grows to the SKU's maximum)",
        "database.scale_windows": "— (no compute or replica autoscale: windows have no effect)",
    },
)

GCP = CloudTraits(
    name="gcp",
    title="GCP",
    region_key="gcp:region",
    retention_days=(1, 365),  # Cloud SQL retainedBackups (one backup a day)
    read_replica_limit=10,  # Cloud SQL read replicas per primary
    autoscaled_replicas=False,
    # DatabaseInstance databaseVersion POSTGRES_<n> (pulumi-gcp 10.2 lists 9_6-18).
    postgres_major_versions=(14, 15, 16, 17, 18),
    # Label keys allow only [a-z0-9_-]; values likewise, lowercase, at most 63.
    tag_key_separator="-",
    restricted_label_values=True,
    # Cloud SQL ids are lowercase, letter first; project:instance <= 98.
    name_rules={
        "sql_instance": NameRule(80, "a-z0-9-", globally_unique=True),
        "kms": NameRule(63, "a-zA-Z0-9_-", lowercase=False),
        "secret": NameRule(255, "a-zA-Z0-9_-", lowercase=False),
        "resource": NameRule(63, "a-z0-9-"),
        "service_account": NameRule(30, "a-z0-9-", min_len=6),  # account_id: 6-30
        "bucket": NameRule(63, "a-z0-9-", min_len=3, globally_unique=True),
    },
    server_name_kind="sql_instance",
    key_name_kind="kms",
    network=NetworkTraits(
        existing=("networkId",),
        id_patterns={
            # The VPC with private services access, as Cloud SQL's privateNetwork takes it.
            "networkId": (
                r"^(https://www\.googleapis\.com/compute/v1/)?projects/[^/]+/global/networks/[^/]+$",
                "projects/<project>/global/networks/<network>",
            ),
        },
        hint="'networkId: projects/<project>/global/networks/<network>' of a VPC with private "
        "services access (or drop tenancy:network for a new private VPC)",
    ),
    identity=IdentityTraits(
        kind="GKE Workload Identity",  # tokens from the GKE metadata server
        required_setting="gcp:project",
        hint="set gcp:project",
        endpoint="fixed",
        # The GKE metadata server, and on Dataplane V2 also its second address.
        fixed_endpoints=(("169.254.169.254/32", 80), ("169.254.169.252/32", 988)),
    ),
    knobs={
        "database.min_capacity / max_capacity": "fixed `db-custom` machine tier sized for "
        "`min_capacity` (no compute autoscale)",
        "database.min_read_replicas / max_read_replicas": "`min_read_replicas` fixed replicas "
        "(`masterInstanceName`); max: no effect (no replica autoscaling)",
        "database.read_replica_cpu_target": _NOT_SCALED,
        "database.storage_limit_gb": "`diskAutoresize: true`, `diskAutoresizeLimit`",
        "database.scale_windows": "— (no scheduled scaling: windows have no effect)",
    },
)

CLOUD_TRAITS: Mapping[str, CloudTraits] = {traits.name: traits for traits in (AWS, AZURE, GCP)}


def traits(cloud: str) -> CloudTraits:
    try:
        return CLOUD_TRAITS[cloud]
    except KeyError:
        raise ValueError(
            f"unknown cloud {cloud!r}; known: {', '.join(CLOUD_TRAITS)} "
            "(docs/adding-a-cloud.md lists what a new cloud needs)"
        ) from None
