"""AWS components, asserted on what the offline plan captures (engine-form inputs and options)."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.model.tags import TAG_KEYS, tag_key
from tenancy.plan import plan_stack
from tests.support.planview import Plan, planned

DEV, PROD = "dev-aws-eu-central-1", "prod-aws-eu-central-1"
ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "stacks" / "tenants.yaml"

KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
PARAMS = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
SG = "aws:ec2/securityGroup:SecurityGroup"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
ISOLATION_SQL = "pulumi-python:dynamic:Resource"  # a server's in-database isolation
UNTAGGABLE = {
    ALIAS,
    ISOLATION_SQL,  # lives inside PostgreSQL, not in the cloud: nothing to tag
    # Application Auto Scaling policies and scheduled actions take no tags (their target does).
    "aws:appautoscaling/policy:Policy",
    "aws:appautoscaling/scheduledAction:ScheduledAction",
    "aws:iam/rolePolicy:RolePolicy",  # an inline policy is part of its (tagged) role
    # An RDS Proxy's target group and target take no tags (the proxy carries them).
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup",
    "aws:rds/proxyTarget:ProxyTarget",
    # These take no tags (issue 13): a managed-policy attachment, an SNS subscription, and
    # a log metric filter belong to their tagged role, topic and log group.
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:sns/topicSubscription:TopicSubscription",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter",
    # Immutable backups: the lock and the selection take no tags (the vault, plan and
    # role they belong to do).
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
    "aws:backup/selection:Selection",
    # The export bucket's settings (issue 12) take no tags: S3 keeps them beside the
    # (tagged) bucket.
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    # The log archive's subscription filter belongs to its (tagged) log group.
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter",
}


def _kubernetes(resource: dict[str, Any]) -> bool:
    # The cell's Kubernetes side has its own tests (tests/infra/test_workloads.py).
    return resource["type"].startswith(
        ("kubernetes:", "pulumi:providers:kubernetes", "tenancy:k8s:")
    )


REQUIRED_TAGS = [tag_key("aws", key) for key in TAG_KEYS] + ["managed-by"]


@pytest.fixture(scope="module")
def dev() -> Plan:
    return planned(DEV)


@pytest.fixture(scope="module")
def prod() -> Plan:
    return planned(PROD)


@pytest.fixture(scope="module", params=[DEV, PROD])
def any_plan(request: pytest.FixtureRequest, dev: Plan, prod: Plan) -> Plan:
    return dev if request.param == DEV else prod


@pytest.fixture(scope="module")
def catalog_tiers() -> dict[str, Any]:
    return yaml.safe_load(CATALOG.read_text(encoding="utf-8"))["tiers"]


# --- keys ---------------------------------------------------------------------


def test_every_silo_tenant_has_its_own_rotating_key(any_plan: Plan) -> None:
    assert any_plan.silo_ids(), "the example stack should have silo tenants"
    for tenant_id in any_plan.silo_ids():
        silo = any_plan.component("tenancy:aws:SiloTenant", f"silo-{tenant_id}")
        (key,) = any_plan.under(silo, KEY)
        assert key["inputs"]["enableKeyRotation"] is True
        assert key["inputs"]["multiRegion"] is False


def test_each_silo_cluster_uses_its_own_key_for_data_and_secret(any_plan: Plan) -> None:
    for tenant_id in any_plan.silo_ids():
        silo = any_plan.component("tenancy:aws:SiloTenant", f"silo-{tenant_id}")
        (key,) = any_plan.under(silo, KEY)
        (alias,) = any_plan.under(silo, ALIAS)
        (cluster,) = any_plan.under(silo, CLUSTER)
        inputs = cluster["inputs"]
        assert key["urn"] in cluster["dependencies"]
        assert inputs["kmsKeyId"].endswith(f":key/{alias['inputs']['targetKeyId']}")
        assert inputs["masterUserSecretKmsKeyId"] == inputs["kmsKeyId"]
        for instance in any_plan.under(silo, INSTANCE):
            assert instance["inputs"]["performanceInsightsKmsKeyId"] == inputs["kmsKeyId"]


def test_no_two_clusters_share_a_key(any_plan: Plan) -> None:
    keys = [c["inputs"]["kmsKeyId"] for c in any_plan.of_type(CLUSTER)]
    assert len(keys) == len(set(keys))
    # One data key per cluster; the cell's log key (issue 13) encrypts only logs, its
    # export key (issue 12) only export archives.
    cell_keys = ("cell-log-key-", "cell-exports-key-")
    data_keys = [k for k in any_plan.of_type(KEY) if not k["name"].startswith(cell_keys)]
    assert len(data_keys) == len(any_plan.of_type(CLUSTER))


def test_every_key_depends_only_on_its_own_owner(any_plan: Plan) -> None:
    for cluster in any_plan.of_type(CLUSTER):
        key_deps = [u for u in cluster["dependencies"] if any_plan.by_urn[u]["type"] == KEY]
        assert len(key_deps) == 1
        assert any_plan.owner(any_plan.by_urn[key_deps[0]]) is any_plan.owner(cluster)


# --- encryption and TLS ------------------------------------------------------


def test_storage_is_encrypted(any_plan: Plan) -> None:
    for cluster in any_plan.of_type(CLUSTER):
        assert cluster["inputs"]["storageEncrypted"] is True
        assert cluster["inputs"]["manageMasterUserPassword"] is True
        assert "masterPassword" not in cluster["inputs"]


def test_tls_is_forced_by_the_clusters_parameter_group(any_plan: Plan) -> None:
    for cluster in any_plan.of_type(CLUSTER):
        (params,) = [
            p for p in any_plan.of_type(PARAMS) if any_plan.owner(p) is any_plan.owner(cluster)
        ]
        values = {p["name"]: p["value"] for p in params["inputs"]["parameters"]}
        assert values["rds.force_ssl"] == "1"
        assert values["ssl_min_protocol_version"] == "TLSv1.2"
        assert cluster["inputs"]["dbClusterParameterGroupName"] == params["inputs"]["name"]
        assert params["urn"] in cluster["dependencies"]


def test_logical_decoding_is_on_in_every_clusters_parameter_group(any_plan: Plan) -> None:
    groups = any_plan.of_type(PARAMS)
    assert len(groups) == len(any_plan.of_type(CLUSTER))
    for params in groups:
        (setting,) = [
            p for p in params["inputs"]["parameters"] if p["name"] == "rds.logical_replication"
        ]
        # A static parameter: AWS rejects "immediate" for it.
        assert setting == {
            "name": "rds.logical_replication",
            "value": "1",
            "applyMethod": "pending-reboot",
        }


# --- network ------------------------------------------------------------------


def test_no_instance_is_publicly_accessible(any_plan: Plan) -> None:
    instances = any_plan.of_type(INSTANCE)
    assert instances
    assert all(i["inputs"]["publiclyAccessible"] is False for i in instances)


def test_security_groups_admit_only_private_cidrs_and_have_no_egress(any_plan: Plan) -> None:
    for group in any_plan.of_type(SG):
        # A database initiates nothing; an RDS Proxy reaches its cluster, on 5432 only.
        proxy = group["inputs"]["description"].startswith("RDS Proxy of")
        assert proxy or group["inputs"]["egress"] == []
        for rule in group["inputs"]["ingress"] + group["inputs"]["egress"]:
            assert rule["fromPort"] == rule["toPort"] == 5432
            assert rule["protocol"] == "tcp"
            assert rule["cidrBlocks"]
            for cidr in rule["cidrBlocks"]:
                assert ipaddress.ip_network(cidr).is_private, cidr
            assert not rule.get("ipv6CidrBlocks")


def test_each_cluster_uses_its_own_security_group_and_subnet_group(any_plan: Plan) -> None:
    for cluster in any_plan.of_type(CLUSTER):
        owner = any_plan.owner(cluster)
        (group,) = any_plan.under(owner, SG)
        (subnets,) = any_plan.under(owner, SUBNET_GROUP)
        assert group["urn"] in cluster["dependencies"]
        assert cluster["inputs"]["dbSubnetGroupName"] == subnets["inputs"]["name"]


def test_prod_uses_the_configured_subnets_and_creates_no_vpc(prod: Plan) -> None:
    config = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{PROD}.yaml").read_text())["config"]
    network = config["tenancy:network"]
    assert not prod.of_type("aws:ec2/vpc:Vpc")
    assert not prod.of_type("aws:ec2/subnet:Subnet")
    for group in prod.of_type(SUBNET_GROUP):
        assert group["inputs"]["subnetIds"] == network["privateSubnetIds"]
    for group in prod.of_type(SG):
        assert group["inputs"]["vpcId"] == network["vpcId"]
        assert group["inputs"]["ingress"][0]["cidrBlocks"] == network["allowedCidrs"]


def test_dev_creates_a_private_vpc_without_internet_access(dev: Plan) -> None:
    (vpc,) = dev.of_type("aws:ec2/vpc:Vpc")
    assert ipaddress.ip_network(vpc["inputs"]["cidrBlock"]).is_private
    subnets = dev.of_type("aws:ec2/subnet:Subnet")
    assert len({s["inputs"]["availabilityZone"] for s in subnets}) >= 2
    assert all(s["inputs"]["mapPublicIpOnLaunch"] is False for s in subnets)
    for kind in (
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
    ):
        assert not dev.of_type(kind), kind
    for group in dev.of_type(SUBNET_GROUP):
        assert len(group["inputs"]["subnetIds"]) == len(subnets)


# --- durability and operations -----------------------------------------------


def test_backup_retention_is_the_tiers(any_plan: Plan, catalog_tiers: dict[str, Any]) -> None:
    for cluster in any_plan.of_type(CLUSTER):
        tier = cluster["inputs"]["tags"]["tenancy:tier"]
        days = catalog_tiers[tier]["database"]["backup_retention_days"]
        assert cluster["inputs"]["backupRetentionPeriod"] == days


def test_capacity_is_the_tiers(any_plan: Plan, catalog_tiers: dict[str, Any]) -> None:
    for cluster in any_plan.of_type(CLUSTER):
        database = catalog_tiers[cluster["inputs"]["tags"]["tenancy:tier"]]["database"]
        scaling = cluster["inputs"]["serverlessv2ScalingConfiguration"]
        assert scaling == {
            "minCapacity": database["min_capacity"],
            "maxCapacity": database["max_capacity"],
        }


def test_clusters_use_iam_auth_log_exports_and_copy_tags(any_plan: Plan) -> None:
    for cluster in any_plan.of_type(CLUSTER):
        inputs = cluster["inputs"]
        assert inputs["iamDatabaseAuthenticationEnabled"] is True
        assert inputs["copyTagsToSnapshot"] is True
        assert "postgresql" in inputs["enabledCloudwatchLogsExports"]
        assert inputs["skipFinalSnapshot"] is False
        assert inputs["finalSnapshotIdentifier"]


def test_high_availability_means_two_instances_in_two_zones(
    any_plan: Plan, catalog_tiers: dict[str, Any]
) -> None:
    for cluster in any_plan.of_type(CLUSTER):
        owner = any_plan.owner(cluster)
        instances = any_plan.under(owner, INSTANCE)
        high_availability = catalog_tiers[cluster["inputs"]["tags"]["tenancy:tier"]]["database"][
            "high_availability"
        ]
        assert len(instances) == (2 if high_availability else 1)
        zones = {i["inputs"]["availabilityZone"] for i in instances}
        assert len(zones) == len(instances)
        assert all(z.startswith("eu-central-1") for z in zones)


def test_prod_protects_clusters_and_keys(prod: Plan) -> None:
    for resource in prod.of_type(CLUSTER) + prod.of_type(KEY):
        assert resource["protect"] is True, resource["urn"]
    assert all(c["inputs"]["deletionProtection"] is True for c in prod.of_type(CLUSTER))


def test_dev_does_not_protect_but_keeps_deletion_protection(dev: Plan) -> None:
    assert not any(r["protect"] for r in dev.resources)
    assert all(c["inputs"]["deletionProtection"] is True for c in dev.of_type(CLUSTER))


def test_keys_have_the_longest_deletion_window(any_plan: Plan) -> None:
    assert all(k["inputs"]["deletionWindowInDays"] == 30 for k in any_plan.of_type(KEY))


# --- structure ----------------------------------------------------------------


def test_component_types_are_tenancy_aws(any_plan: Plan) -> None:
    components = [r for r in any_plan.resources if not r["custom"]]
    types = {
        r["type"] for r in components if r["type"] != "pulumi:pulumi:Stack" and not _kubernetes(r)
    }
    # AWS components, plus the cloud-neutral in-database isolation of each server.
    assert types and all(t.startswith(("tenancy:aws:", "tenancy:postgres:")) for t in types)


def test_every_cloud_resource_is_parented_by_a_component(any_plan: Plan) -> None:
    for resource in any_plan.resources:
        if not resource["custom"] or _kubernetes(resource):
            continue
        parent = any_plan.by_urn[resource["parent"]]
        if resource["type"] == ISOLATION_SQL:
            assert parent["type"] == "tenancy:postgres:DatabaseIsolation", resource["urn"]
            continue
        assert parent["type"].startswith("tenancy:aws:"), resource["urn"]
        # parent=self: the child's URN nests under its component's type.
        assert resource["urn"].split("::")[2].startswith(parent["urn"].split("::")[2] + "$")


def test_child_names_are_prefixed_by_their_components_name(any_plan: Plan) -> None:
    for resource in any_plan.resources:
        parent = any_plan.by_urn.get(resource["parent"] or "")
        if parent and parent["type"] != "pulumi:pulumi:Stack":
            assert resource["name"].startswith(parent["name"] + "-"), resource["name"]


def test_every_taggable_resource_carries_the_required_tags(any_plan: Plan) -> None:
    environment = any_plan.data["stack"].split("-")[0]
    for resource in any_plan.resources:
        if not resource["custom"] or resource["type"] in UNTAGGABLE or _kubernetes(resource):
            continue
        tags = resource["inputs"].get("tags", {})
        missing = [key for key in REQUIRED_TAGS if not tags.get(key)]
        assert not missing, f"{resource['urn']} lacks {missing}"
        assert tags["tenancy:environment"] == environment
        assert tags["tenancy:residency"] == "eu"


def test_silo_resources_are_tagged_with_their_tenant(any_plan: Plan) -> None:
    for tenant_id in any_plan.silo_ids():
        silo = any_plan.component("tenancy:aws:SiloTenant", f"silo-{tenant_id}")
        for kind in (KEY, CLUSTER, INSTANCE, PARAMS, SG, SUBNET_GROUP):
            for resource in any_plan.under(silo, kind):
                assert resource["inputs"]["tags"]["tenancy:tenant"] == tenant_id


def test_the_offboarded_tenant_gets_nothing(any_plan: Plan) -> None:
    assert "vandelay" not in any_plan.tenants
    assert "vandelay" not in json.dumps(any_plan.data["resources"])
    assert "vandelay" not in any_plan.data["outputs"]["tenants"]


def test_only_the_cells_tenants_are_deployed(any_plan: Plan) -> None:
    assert set(any_plan.tenants) == {"acme", "globex", "initech", "umbrella", "hooli", "piedpiper"}
    assert set(any_plan.data["outputs"]["tenants"]) == set(any_plan.tenants)


def test_physical_names_carry_the_environment(any_plan: Plan) -> None:
    environment = any_plan.data["stack"].split("-")[0]
    for cluster in any_plan.of_type(CLUSTER):
        assert cluster["inputs"]["clusterIdentifier"].startswith(f"tnc-{environment}-")


def test_connection_facts_contain_no_password(any_plan: Plan) -> None:
    text = json.dumps(any_plan.data["outputs"]).lower()
    assert "password" not in text
    for facts in any_plan.data["outputs"]["tenants"].values():
        assert set(facts) <= {
            "endpoint",
            "replica_endpoints",
            "database",
            "isolation",
            "shard",
            "schema",
            "secret_ref",
            "namespace",
            "port",  # pooled tenants: where the pooler listens
            "pool_mode",
            "server_endpoint",
        }
        assert facts["secret_ref"].startswith("arn:aws:secretsmanager:")


def test_pool_and_bridge_tenants_share_their_shards_server(any_plan: Plan) -> None:
    outputs = any_plan.data["outputs"]["tenants"]
    for tenant_id, row in any_plan.tenants.items():
        if row["shard"] is not None:
            shard = any_plan.component("tenancy:aws:Shard", f"shard-{row['shard']}")
            (cluster,) = any_plan.under(shard, CLUSTER)
            # Through the shard's pooler, in front of the shard's cluster.
            facts = outputs[tenant_id]
            assert facts["server_endpoint"].startswith(cluster["inputs"]["clusterIdentifier"])
            assert facts["endpoint"].startswith(f"{cluster['inputs']['clusterIdentifier']}-proxy.")


# --- stability ----------------------------------------------------------------


def _with_tenants(tmp: Path, *tenants: dict[str, Any]) -> str:
    data = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    data["tenants"] += list(tenants)
    path = tmp / "tenants.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def _new(tenant_id: str, tier: str, compliance: list[str]) -> dict[str, Any]:
    return {
        "id": tenant_id,
        "name": tenant_id,
        "tier": tier,
        "cloud": "aws",
        "region": "eu-central-1",
        "residency": "eu",
        "compliance": compliance,
    }


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    catalog = _with_tenants(
        tmp_path_factory.mktemp("grown"),
        _new("zenith", "enterprise", ["gdpr"]),
        _new("yoyodyne", "standard", ["gdpr"]),
        _new("xanadu", "free", []),
    )
    return Plan(plan_stack(DEV, catalog=catalog))


SQL_PLAN_INPUTS = {"planDigest", "tenants", "tenantSpecs"}


def _changed_inputs(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    keys = set(before["inputs"]) | set(after["inputs"])
    return {key for key in keys if before["inputs"].get(key) != after["inputs"].get(key)}


def test_adding_tenants_changes_no_existing_resource(dev: Plan, grown: Plan) -> None:
    changed = [
        urn
        for urn, resource in dev.by_urn.items()
        if urn not in grown.by_urn or grown.by_urn[urn] != resource
    ]
    # The one shared thing a new bridge/pool tenant changes is its shard's SQL plan (its
    # role and schema join the server); nothing else of anyone else moves.
    assert sorted(urn.rsplit("::", 1)[1] for urn in changed) == [
        "shard-free-01-isolation-sql",
        "shard-standard-01-isolation-sql",
    ]
    for urn in changed:
        assert _changed_inputs(dev.by_urn[urn], grown.by_urn[urn]) == SQL_PLAN_INPUTS
    added = {r["urn"] for r in grown.resources} - set(dev.by_urn)
    assert added and all("zenith" in urn for urn in added)


def test_adding_tenants_keeps_everyone_elses_placement(dev: Plan, grown: Plan) -> None:
    assert {k: grown.tenants[k] for k in dev.tenants} == dev.tenants


def test_a_new_framework_on_a_shard_changes_only_its_compliance_tag(
    dev: Plan, tmp_path: Path
) -> None:
    # iso27001, not pci/hipaa: a first regulated tenant also changes its tier's key settings
    # (components/model/keys.py; tests/components/test_keys.py).
    catalog = _with_tenants(tmp_path, _new("xanadu", "free", ["iso27001"]))
    after = Plan(plan_stack(DEV, catalog=catalog))
    for urn, resource in dev.by_urn.items():
        new = after.by_urn[urn]
        if new == resource:
            continue
        if _kubernetes(new):
            # The free tier's namespace carries the union of its tenants' frameworks, like the shard.
            assert "::free-" in urn, urn
            assert "iso27001" in json.dumps(new["inputs"])
            assert "iso27001" not in json.dumps(resource["inputs"])
            continue
        assert "shard-free-01" in urn, urn
        if new["type"] == ISOLATION_SQL:  # xanadu's role joins the shard's SQL plan
            assert _changed_inputs(resource, new) == SQL_PLAN_INPUTS
            continue
        before_tags = dict(resource["inputs"].get("tags", {}))
        after_tags = dict(new["inputs"].get("tags", {}))
        assert before_tags.pop("tenancy:compliance") != after_tags.pop("tenancy:compliance")
        before, after_inputs = _regulated_audit(resource), _regulated_audit(new)
        assert {**before, "tags": before_tags} == {**after_inputs, "tags": after_tags}


def _regulated_audit(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource's inputs minus what a regulated (PCI/HIPAA) tenant rightly changes on its
    shard (issue 13): pgaudit also records writes, and the logs are kept a year."""
    inputs = dict(resource["inputs"])
    if resource["type"] == "aws:rds/clusterParameterGroup:ClusterParameterGroup":
        inputs["parameters"] = [p for p in inputs["parameters"] if p["name"] != "pgaudit.log"]
    if resource["type"] == "aws:cloudwatch/logGroup:LogGroup":
        inputs.pop("retentionInDays")
    return inputs


def test_logical_names_derive_from_tenant_ids_and_shards(any_plan: Plan) -> None:
    owners = {f"silo-{t}" for t in any_plan.silo_ids()} | {
        f"shard-{row['shard']}" for row in any_plan.tenants.values() if row["shard"]
    }
    for resource in any_plan.resources:
        if (
            resource["custom"]
            and not _kubernetes(resource)
            and resource["type"]
            not in (
                "aws:ec2/vpc:Vpc",
                "aws:ec2/subnet:Subnet",
            )
        ):
            # The cell's log key, alerting, export bucket and log archive are the cell's.
            cell = ("cell-log-key-", "cell-alerts-", "cell-exports-", "cell-audit-archive-")
            prefixes = (*(owner + "-" for owner in owners), *cell)
            assert resource["name"].startswith(prefixes), resource["name"]
