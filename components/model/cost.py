"""Monthly cost of an offline plan, per server, tier and tenant, at both ends of every range.

Pure: it reads a plan (``tenancy plan --json``) and a ``PriceTable``; no file I/O, no Pulumi.
Each custom resource is either priced (a line item with a low and a high monthly figure),
metered (billed by usage the plan cannot bound; the rate is stated), free of any direct
charge, or unpriced (no sourced price, or a type the model does not know). Unpriced
resources are always listed: nothing is counted as zero silently.

"low" is every autoscaling range at its minimum (ACU, read replicas, storage size) and
"high" at its maximum (ACU ceiling, replica ceiling, storage limit); a month is the price
table's ``hours_per_month`` (730).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Price:
    cloud: str
    sku: str
    region: str  # a region, or "global" for a price that is the same everywhere
    unit: str
    usd: float
    source: str
    read: date
    note: str = ""


class PriceTable:
    def __init__(self, prices: Iterable[Price], hours_per_month: float = 730.0):
        self.prices = list(prices)
        self.hours_per_month = hours_per_month
        self._index = {(p.cloud, p.sku, p.region): p for p in self.prices}

    def get(self, cloud: str, sku: str, region: str) -> Price | None:
        """The regional price, else the global one, else None (unpriced)."""
        return self._index.get((cloud, sku, region)) or self._index.get((cloud, sku, "global"))


@dataclass(frozen=True)
class LineItem:
    resource: str  # the plan's logical name
    type: str
    what: str
    low: float
    high: float
    basis: str  # how the figure was computed, with the prices used


@dataclass(frozen=True)
class Unpriced:
    resource: str
    type: str
    what: str
    reason: str


@dataclass(frozen=True)
class Metered:
    resource: str
    type: str
    what: str
    rate: str  # "$0.10 per GB-month", already sourced


@dataclass
class Bucket:
    """What one owner (a server, or the cell) costs."""

    key: str  # silo:<tenant> | shard:<name> | cell
    tier: str | None = None
    isolation: str | None = None
    tenants: tuple[str, ...] = ()
    items: list[LineItem] = field(default_factory=list)
    unpriced: list[Unpriced] = field(default_factory=list)
    metered: list[Metered] = field(default_factory=list)

    @property
    def low(self) -> float:
        return sum(item.low for item in self.items)

    @property
    def high(self) -> float:
        return sum(item.high for item in self.items)


@dataclass(frozen=True)
class TenantCost:
    tenant: str
    tier: str
    server: str
    low: float
    high: float
    share: str  # "own server" | "1/3 of shard free-01"
    unpriced: int  # unpriced items on the server it uses


@dataclass
class CostReport:
    stack: str
    cloud: str
    region: str
    hours_per_month: float
    servers: dict[str, Bucket]
    cell: Bucket
    tenants: dict[str, TenantCost]
    free: dict[str, int]  # type -> count of resources with no direct charge

    @property
    def low(self) -> float:
        return self.cell.low + sum(b.low for b in self.servers.values())

    @property
    def high(self) -> float:
        return self.cell.high + sum(b.high for b in self.servers.values())

    def buckets(self) -> list[Bucket]:
        return [*self.servers.values(), self.cell]

    def unpriced(self) -> list[tuple[str, Unpriced]]:
        return [(b.key, u) for b in self.buckets() for u in b.unpriced]

    def tiers(self) -> dict[str, tuple[float, float, int]]:
        """tier -> (low, high, servers)."""
        totals: dict[str, tuple[float, float, int]] = {}
        for bucket in self.servers.values():
            low, high, count = totals.get(bucket.tier or "?", (0.0, 0.0, 0))
            totals[bucket.tier or "?"] = (low + bucket.low, high + bucket.high, count + 1)
        return dict(sorted(totals.items()))

    def to_json(self) -> dict[str, Any]:
        def bucket_json(b: Bucket) -> dict[str, Any]:
            return {
                "key": b.key,
                "tier": b.tier,
                "isolation": b.isolation,
                "tenants": list(b.tenants),
                "monthly_usd": {"min": round(b.low, 2), "max": round(b.high, 2)},
                "items": [
                    {
                        "resource": i.resource,
                        "type": i.type,
                        "what": i.what,
                        "min": round(i.low, 2),
                        "max": round(i.high, 2),
                        "basis": i.basis,
                    }
                    for i in b.items
                ],
                "metered": [m.__dict__ for m in b.metered],
                "unpriced": [u.__dict__ for u in b.unpriced],
            }

        return {
            "stack": self.stack,
            "cloud": self.cloud,
            "region": self.region,
            "hours_per_month": self.hours_per_month,
            "monthly_usd": {"min": round(self.low, 2), "max": round(self.high, 2)},
            "tiers": {
                tier: {"min": round(low, 2), "max": round(high, 2), "servers": count}
                for tier, (low, high, count) in self.tiers().items()
            },
            "servers": [bucket_json(b) for b in self.servers.values()],
            "cell": bucket_json(self.cell),
            "tenants": [
                {
                    "tenant": t.tenant,
                    "tier": t.tier,
                    "server": t.server,
                    "share": t.share,
                    "monthly_usd": {"min": round(t.low, 2), "max": round(t.high, 2)},
                    "unpriced_items_on_server": t.unpriced,
                }
                for t in self.tenants.values()
            ],
            "unpriced": [{"owner": key, **u.__dict__} for key, u in self.unpriced()],
            "free_of_direct_charge": self.free,
        }


# Resources that carry no charge of their own (configuration, identity, networking
# without hourly fees, SQL objects inside a server). Kubernetes objects other than the
# workloads below only configure the cell's existing cluster.
FREE_TYPES = frozenset(
    {
        "aws:kms/alias:Alias",
        "aws:rds/clusterParameterGroup:ClusterParameterGroup",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/vpc:Vpc",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:appautoscaling/policy:Policy",
        "aws:appautoscaling/scheduledAction:ScheduledAction",
        # Billed as part of their RDS Proxy (aws_proxy below).
        "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup",
        "aws:rds/proxyTarget:ProxyTarget",
        "azure-native:resources:ResourceGroup",
        "azure-native:authorization:ManagementLockByScope",
        "azure-native:authorization:RoleAssignment",
        "azure-native:managedidentity:UserAssignedIdentity",
        "azure-native:managedidentity:FederatedIdentityCredential",
        "azure-native:dbforpostgresql:Configuration",
        "azure-native:dbforpostgresql:Database",
        "azure-native:dbforpostgresql:Administrator",
        "azure-native:network:VirtualNetwork",
        "azure-native:network:Subnet",
        "gcp:kms/keyRing:KeyRing",
        "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
        "gcp:projects/iAMMember:IAMMember",
        "gcp:projects/serviceIdentity:ServiceIdentity",
        "gcp:serviceaccount/account:Account",
        "gcp:serviceaccount/iAMMember:IAMMember",
        "gcp:secretmanager/secretVersion:SecretVersion",  # billed on its Secret, per location
        "gcp:sql/database:Database",
        "gcp:sql/user:User",
        "gcp:compute/network:Network",
        "gcp:compute/globalAddress:GlobalAddress",
        "gcp:servicenetworking/connection:Connection",
        "random:index/randomPassword:RandomPassword",
        "pulumi-python:dynamic:Resource",  # roles, schemas and grants inside a server
        "pulumi:providers:kubernetes",
    }
)
_CLUSTER_WORKLOADS = {
    "kubernetes:apps/v1:Deployment": "tenant service pods",
    "kubernetes:helm.sh/v3:Release": "KEDA operator pods",
}
_CLUSTER_REASON = "runs on the cell's existing Kubernetes cluster; node cost is not in the plan"
# The GCP pooler's pods: on the cluster too (requests in components/k8s/pgbouncer.py).
_POOLER_PODS = "PgBouncer pods (the GCP pooler)"
# RDS Proxy in front of Aurora Serverless v2 is billed per ACU of its target's instances,
# with a floor of 8 ACUs (AWS's RDS Proxy pricing page; the rate itself is not sourced in
# prices/aws.yaml yet, so the proxy shows as unpriced until it is).
RDS_PROXY_MIN_ACU = 8


class _Pricer:
    """Turns one resource into line items, metered rates or unpriced entries on a bucket."""

    def __init__(self, plan: dict[str, Any], prices: PriceTable, cloud: str, region: str):
        self.prices, self.cloud, self.region = prices, cloud, region
        self.hours = prices.hours_per_month
        self.clusters = {
            r["inputs"].get("clusterIdentifier"): r
            for r in plan["resources"]
            if r["type"] == "aws:rds/cluster:Cluster"
        }
        self.instances_per_cluster: dict[str, int] = {}
        for r in plan["resources"]:
            if r["type"] == "aws:rds/clusterInstance:ClusterInstance":
                cid = r["inputs"].get("clusterIdentifier")
                self.instances_per_cluster[cid] = self.instances_per_cluster.get(cid, 0) + 1

    def price(self, sku: str) -> Price | None:
        return self.prices.get(self.cloud, sku, self.region)

    def _money(self, p: Price) -> str:
        return f"${p.usd:g} per {p.unit}"

    def add_priced(
        self,
        bucket: Bucket,
        r: dict[str, Any],
        what: str,
        skus: list[str],
        compute: Callable[[list[Price]], tuple[float, float, str]],
    ) -> None:
        found = [self.price(sku) for sku in skus]
        missing = [sku for sku, p in zip(skus, found, strict=True) if p is None]
        if missing:
            reason = f"no sourced price for {', '.join(missing)} in {self.region}"
            bucket.unpriced.append(Unpriced(r["name"], r["type"], what, reason))
            return
        low, high, basis = compute([p for p in found if p is not None])
        bucket.items.append(LineItem(r["name"], r["type"], what, low, high, basis))

    def add_metered(self, bucket: Bucket, r: dict[str, Any], what: str, sku: str) -> None:
        p = self.price(sku)
        if p is None:
            reason = f"billed by usage; no sourced price for {sku} in {self.region}"
            bucket.unpriced.append(Unpriced(r["name"], r["type"], what, reason))
        else:
            bucket.metered.append(Metered(r["name"], r["type"], what, self._money(p)))

    # --- AWS ----------------------------------------------------------------------------

    def _acu_range(self, cluster_id: str) -> tuple[float, float]:
        cluster = self.clusters.get(cluster_id) or {}
        scaling = cluster.get("inputs", {}).get("serverlessv2ScalingConfiguration") or {}
        return float(scaling.get("minCapacity", 0)), float(scaling.get("maxCapacity", 0))

    def aws_instance(self, bucket: Bucket, r: dict[str, Any]) -> None:
        inputs = r["inputs"]
        if inputs.get("instanceClass") != "db.serverless":
            reason = f"instance class {inputs.get('instanceClass')!r} is not in the cost model"
            bucket.unpriced.append(Unpriced(r["name"], r["type"], "DB instance", reason))
            return
        low_acu, high_acu = self._acu_range(inputs.get("clusterIdentifier"))

        def compute(p: list[Price]) -> tuple[float, float, str]:
            rate = p[0].usd * self.hours
            basis = f"{low_acu:g}-{high_acu:g} ACU x {self.hours:g} h x {self._money(p[0])}"
            return low_acu * rate, high_acu * rate, basis

        self.add_priced(
            bucket, r, "Serverless v2 capacity (ACU)", ["aurora-serverless-v2-acu-hour"], compute
        )

    def aws_replica_target(self, bucket: Bucket, r: dict[str, Any]) -> None:
        inputs = r["inputs"]
        if inputs.get("scalableDimension") != "rds:cluster:ReadReplicaCount":
            bucket.unpriced.append(
                Unpriced(r["name"], r["type"], "scaling target", "dimension not in the model")
            )
            return
        cluster_id = str(inputs.get("resourceId", "")).removeprefix("cluster:")
        # ReadReplicaCount counts every reader, the HA standby included: autoscaling only
        # adds instances above the readers the plan already creates.
        readers = max(0, self.instances_per_cluster.get(cluster_id, 1) - 1)
        low_n = max(0, int(inputs.get("minCapacity", 0)) - readers)
        high_n = max(0, int(inputs.get("maxCapacity", 0)) - readers)
        if high_n == 0:
            return
        low_acu, high_acu = self._acu_range(cluster_id)

        def compute(p: list[Price]) -> tuple[float, float, str]:
            rate = p[0].usd * self.hours
            basis = (
                f"{low_n}-{high_n} autoscaled readers beyond {readers} planned, "
                f"{low_acu:g}-{high_acu:g} ACU each x {self.hours:g} h x {self._money(p[0])}"
            )
            return low_n * low_acu * rate, high_n * high_acu * rate, basis

        what = f"read replicas {low_n}-{high_n} (autoscaled)"
        self.add_priced(bucket, r, what, ["aurora-serverless-v2-acu-hour"], compute)

    def aws_proxy(self, bucket: Bucket, r: dict[str, Any]) -> None:
        cluster_id = str(r["inputs"].get("name", "")).removesuffix("-proxy")
        low_acu, high_acu = self._acu_range(cluster_id)
        instances = self.instances_per_cluster.get(cluster_id, 1)

        def compute(p: list[Price]) -> tuple[float, float, str]:
            rate = p[0].usd * self.hours
            low = max(RDS_PROXY_MIN_ACU, instances * low_acu)
            high = max(RDS_PROXY_MIN_ACU, instances * high_acu)
            basis = (
                f"max({RDS_PROXY_MIN_ACU}, {instances} instance(s) x {low_acu:g}-{high_acu:g} "
                f"ACU) x {self.hours:g} h x {self._money(p[0])}"
            )
            return low * rate, high * rate, basis

        what = "RDS Proxy (per ACU of its Serverless v2 target, at least 8)"
        self.add_priced(bucket, r, what, ["rds-proxy-serverless-v2-acu-hour"], compute)

    def aws_cluster(self, bucket: Bucket, r: dict[str, Any]) -> None:
        self.add_metered(bucket, r, "Aurora storage (grows with data)", "aurora-storage-gb-month")
        self.add_metered(bucket, r, "Aurora I/O requests", "aurora-io-million-requests")
        self.add_metered(
            bucket, r, "backup storage beyond the free allowance", "aurora-backup-gb-month"
        )
        if r["inputs"].get("enabledCloudwatchLogsExports"):
            self.add_metered(
                bucket, r, "CloudWatch Logs ingestion of exported logs", "cloudwatch-logs-ingest-gb"
            )
        if r["inputs"].get("manageMasterUserPassword"):
            self.add_priced(
                bucket,
                r,
                "master password secret (Secrets Manager, created by RDS)",
                ["secretsmanager-secret-month"],
                lambda p: (p[0].usd, p[0].usd, self._money(p[0])),
            )

    def fixed(self, bucket: Bucket, r: dict[str, Any], what: str, sku: str, count: int = 1) -> None:
        self.add_priced(
            bucket,
            r,
            what,
            [sku],
            lambda p: (count * p[0].usd, count * p[0].usd, f"{count} x {self._money(p[0])}"),
        )

    # --- Azure --------------------------------------------------------------------------

    def azure_server(self, bucket: Bucket, r: dict[str, Any]) -> None:
        inputs = r["inputs"]
        sku = (inputs.get("sku") or {}).get("name", "?")
        ha = (inputs.get("highAvailability") or {}).get("mode", "Disabled") != "Disabled"
        factor = 2 if ha else 1  # the standby has the primary's compute and storage
        role = "replica " if inputs.get("createMode") == "Replica" else ""
        self.add_priced(
            bucket,
            r,
            f"{role}compute {sku}" + (" + HA standby" if ha else ""),
            [f"flexible-server-{sku}-hour"],
            lambda p: (
                factor * p[0].usd * self.hours,
                factor * p[0].usd * self.hours,
                f"{factor} x {self._money(p[0])} x {self.hours:g} h",
            ),
        )
        size = float((inputs.get("storage") or {}).get("storageSizeGB", 0))
        self.add_priced(
            bucket,
            r,
            f"{role}storage {size:g} GB (auto-grow)",
            ["flexible-server-storage-gb-month"],
            lambda p: (
                factor * size * p[0].usd,
                factor * size * p[0].usd,
                f"{factor} x {size:g} GB x {self._money(p[0])}",
            ),
        )

    # --- GCP ----------------------------------------------------------------------------

    def gcp_instance(self, bucket: Bucket, r: dict[str, Any]) -> None:
        settings = r["inputs"].get("settings") or {}
        tier = str(settings.get("tier", ""))
        match = re.fullmatch(r"db-custom-(\d+)-(\d+)", tier)
        role = "replica " if r["inputs"].get("masterInstanceName") else ""
        if not match:
            reason = f"machine tier {tier!r} is not in the cost model"
            bucket.unpriced.append(Unpriced(r["name"], r["type"], "instance", reason))
            return
        vcpus, memory_gb = int(match[1]), int(match[2]) / 1024
        regional = settings.get("availabilityType") == "REGIONAL"
        skus = ["cloudsql-enterprise-vcpu-hour", "cloudsql-enterprise-memory-gb-hour"]
        if regional:
            skus.append("cloudsql-ha-multiplier")

        def compute(p: list[Price]) -> tuple[float, float, str]:
            factor = p[2].usd if regional else 1.0
            monthly = factor * (vcpus * p[0].usd + memory_gb * p[1].usd) * self.hours
            basis = (
                f"{factor:g} x ({vcpus} vCPU x {self._money(p[0])} + {memory_gb:g} GB x "
                f"{self._money(p[1])}) x {self.hours:g} h"
            )
            return monthly, monthly, basis

        what = f"{role}compute {tier}" + (" (REGIONAL: HA standby)" if regional else "")
        self.add_priced(bucket, r, what, skus, compute)
        low_gb = float(settings.get("diskSize", 10))
        high_gb = float(settings.get("diskAutoresizeLimit") or low_gb)
        disk_skus = ["cloudsql-ssd-gb-month"] + (["cloudsql-ha-multiplier"] if regional else [])

        def disk(p: list[Price]) -> tuple[float, float, str]:
            factor = p[1].usd if regional else 1.0
            basis = f"{factor:g} x {low_gb:g}-{high_gb:g} GB x {self._money(p[0])}"
            return factor * low_gb * p[0].usd, factor * high_gb * p[0].usd, basis

        what = f"{role}SSD storage {low_gb:g}-{high_gb:g} GB (auto-resize limit)"
        self.add_priced(bucket, r, what, disk_skus, disk)
        if not role:
            self.add_metered(bucket, r, "backup storage", "cloudsql-backup-gb-month")

    def gcp_secret(self, bucket: Bucket, r: dict[str, Any]) -> None:
        replicas = ((r["inputs"].get("replication") or {}).get("userManaged") or {}).get(
            "replicas"
        ) or [{}]
        self.fixed(
            bucket,
            r,
            f"admin secret, 1 version x {len(replicas)} location(s)",
            "secretmanager-active-version-location-month",
            len(replicas),
        )

    def price_resource(self, bucket: Bucket, r: dict[str, Any]) -> bool:
        """Price ``r`` onto ``bucket``; False when its type is not in the model."""
        handlers: dict[str, Callable[[Bucket, dict[str, Any]], None]] = {
            "aws:rds/clusterInstance:ClusterInstance": self.aws_instance,
            "aws:appautoscaling/target:Target": self.aws_replica_target,
            "aws:rds/cluster:Cluster": self.aws_cluster,
            "aws:rds/proxy:Proxy": self.aws_proxy,
            "aws:kms/key:Key": lambda b, x: self.fixed(b, x, "KMS key", "kms-key-month"),
            "azure-native:dbforpostgresql:Server": self.azure_server,
            "azure-native:keyvault:Vault": lambda b, x: self.add_metered(
                b, x, "Key Vault operations", "keyvault-operations-10k"
            ),
            "azure-native:keyvault:Key": lambda b, x: self.fixed(
                b, x, "Key Vault RSA-3072 key", "keyvault-key-month"
            ),
            "azure-native:keyvault:Secret": lambda b, x: self.add_metered(
                b, x, "Key Vault secret operations", "keyvault-operations-10k"
            ),
            "azure-native:privatedns:PrivateZone": lambda b, x: self.fixed(
                b, x, "private DNS zone", "privatedns-zone-month"
            ),
            "azure-native:privatedns:VirtualNetworkLink": lambda b, x: self.fixed(
                b, x, "private DNS virtual network link", "privatedns-vnet-link-month"
            ),
            "gcp:sql/databaseInstance:DatabaseInstance": self.gcp_instance,
            "gcp:kms/cryptoKey:CryptoKey": lambda b, x: self.fixed(
                b, x, "Cloud KMS key (1 active version)", "cloudkms-software-key-version-month"
            ),
            "gcp:secretmanager/secret:Secret": self.gcp_secret,
        }
        handler = handlers.get(r["type"])
        if handler is None:
            return False
        handler(bucket, r)
        return True


def _labels(inputs: dict[str, Any]) -> dict[str, str]:
    """The tenancy owner tags/labels of a resource, in one form (``tenancy:tenant``)."""
    found: dict[str, str] = {}
    settings = inputs.get("settings")
    for source in (
        inputs.get("tags"),
        inputs.get("labels"),
        settings.get("userLabels") if isinstance(settings, dict) else None,
    ):
        if isinstance(source, dict):
            for key, value in source.items():
                if isinstance(key, str) and key.startswith("tenancy"):
                    found[key.replace("tenancy-", "tenancy:", 1)] = str(value)
    return found


def split_stack(stack: str) -> tuple[str, str]:
    """``<env>-<cloud>-<region>`` -> (cloud, region)."""
    parts = stack.split("-", 2)
    return (parts[1], parts[2]) if len(parts) == 3 else ("", "")


def _owner_key(labels: dict[str, str]) -> str:
    if labels.get("tenancy:shard"):
        return f"shard:{labels['tenancy:shard']}"
    tenant = labels.get("tenancy:tenant")
    if tenant and tenant != "shared":
        return f"silo:{tenant}"
    return "cell"


def _owner_by_name(name: str, servers: dict[str, Bucket]) -> str:
    """For a resource without owner tags (e.g. a Key Vault key): components name their
    children after the owner, ``silo-<tenant>-...`` or ``shard-<shard>-...``."""
    kind, _, rest = name.partition("-")
    if kind not in ("silo", "shard"):
        return "cell"
    parts = rest.split("-")
    for end in range(1, len(parts)):  # ids contain hyphens: try each prefix
        key = f"{kind}:{'-'.join(parts[:end])}"
        if key in servers:
            return key
    return "cell"


def _home(row: dict[str, Any]) -> str:
    return f"shard:{row['shard']}" if row.get("shard") else f"silo:{row['id']}"


def _old_home(row: dict[str, Any]) -> str | None:
    """A tenant in motion keeps its old home until the move finishes: it pays for both."""
    old = row.get("moving_from") or None
    if old is None:
        return None
    key = _home({"id": row["id"], "shard": old.get("shard")})
    return None if key == _home(row) else key


def _buckets(plan: dict[str, Any]) -> tuple[dict[str, Bucket], Bucket]:
    servers: dict[str, Bucket] = {}
    for row in plan["tenants"]:
        homes = [(_home(row), row["tier"], row["isolation"])]
        old_key = _old_home(row)
        if old_key:
            old = row["moving_from"]
            homes.append((old_key, old.get("tier"), old.get("isolation")))
        for key, tier, isolation in homes:
            bucket = servers.setdefault(key, Bucket(key, tier, isolation))
            bucket.tenants = tuple(sorted({*bucket.tenants, row["id"]}))
    return servers, Bucket("cell")


def cost_of_plan(plan: dict[str, Any], prices: PriceTable) -> CostReport:
    """The monthly cost report of one stack's plan."""
    cloud, region = split_stack(plan["stack"])
    pricer = _Pricer(plan, prices, cloud, region)
    servers, cell = _buckets(plan)
    free: dict[str, int] = {}
    for r in plan["resources"]:
        if not r.get("custom"):
            continue  # component resources group children; they bill nothing themselves
        labels = _labels(r.get("inputs") or {})
        key = _owner_key(labels)
        if key == "cell":
            key = _owner_by_name(r["name"], servers)
        bucket = servers.get(key) or cell
        if key != "cell" and key not in servers:
            # A server the tenant list does not name (e.g. a shard emptied by this change).
            bucket = servers.setdefault(
                key, Bucket(key, labels.get("tenancy:tier"), labels.get("tenancy:isolation"))
            )
        if r["type"] in FREE_TYPES or (
            r["type"].startswith("kubernetes:") and r["type"] not in _CLUSTER_WORKLOADS
        ):
            free[r["type"]] = free.get(r["type"], 0) + 1
        elif r["type"] in _CLUSTER_WORKLOADS:
            pooler = r["name"].endswith("-pooler-deployment")
            what = _POOLER_PODS if pooler else _CLUSTER_WORKLOADS[r["type"]]
            bucket.unpriced.append(Unpriced(r["name"], r["type"], what, _CLUSTER_REASON))
        elif not pricer.price_resource(bucket, r):
            bucket.unpriced.append(
                Unpriced(r["name"], r["type"], "resource", "resource type not in the cost model")
            )
    report = CostReport(
        plan["stack"],
        cloud,
        region,
        prices.hours_per_month,
        servers,
        cell,
        {},
        dict(sorted(free.items())),
    )
    report.tenants = _tenant_costs(plan, servers)
    return report


def _tenant_costs(plan: dict[str, Any], servers: dict[str, Bucket]) -> dict[str, TenantCost]:
    """A silo tenant pays its own server; a shared server is split equally among its tenants."""
    costs: dict[str, TenantCost] = {}
    for row in sorted(plan["tenants"], key=lambda row: row["id"]):
        keys = [_home(row), *filter(None, [_old_home(row)])]
        low = high = 0.0
        shares, unpriced = [], 0
        for position, key in enumerate(keys):
            bucket = servers[key]
            n = max(1, len(bucket.tenants))
            low, high = low + bucket.low / n, high + bucket.high / n
            unpriced += len(bucket.unpriced)
            share = "own server" if key.startswith("silo:") else f"1/{n} of shard {key[6:]}"
            shares.append(share if position == 0 else f"{share} (old home, until the move ends)")
        costs[row["id"]] = TenantCost(
            row["id"], row["tier"], keys[0], low, high, " + ".join(shares), unpriced
        )
    return costs


def money(value: float) -> str:
    return f"${value:,.2f}"


def money_range(low: float, high: float) -> str:
    return money(low) if round(low, 2) == round(high, 2) else f"{money(low)}–{money(high)}"
