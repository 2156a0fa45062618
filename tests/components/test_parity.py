"""One tier spec, the same guarantees on every cloud.

Table-driven over cloud x isolation: each cloud's extractor reads one server (a
silo tenant's or a shard's) from the offline plan into the same ``Guarantees``
record, and every field is compared against what the tier asks for. Where a
cloud cannot express a guarantee the way the others do, ``EXCEPTIONS`` names it
and the test checks the documented substitute instead (README "Azure and GCP").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from components.model.catalog import Cloud
from components.model.clouds import AZURE
from components.model.tags import TAG_KEYS, tag_key
from tenancy import cli
from tenancy.stackfiles import read_stack_config
from tests.support.planview import ROOT, Plan, catalog_data, planned, write_catalog

STACKS = {
    "aws": ("dev-aws-eu-central-1", "prod-aws-eu-central-1"),
    "azure": ("dev-azure-westeurope", "prod-azure-westeurope"),
    "gcp": ("dev-gcp-us-central1", "prod-gcp-us-central1"),
}
ISOLATIONS = ("silo", "bridge", "pool")

# (cloud, guarantee) -> why the cloud differs, and what the test checks instead.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("gcp", "pitr_window_days"): (
        "Cloud SQL Enterprise keeps at most 7 days of transaction logs: PITR covers "
        "min(retention, 7) days while backups are kept for the full retention"
    ),
    ("azure", "deletion_protection"): (
        "Flexible Server has no deletion-protection flag: a CanNotDelete management "
        "lock on the server takes its place"
    ),
    ("azure", "pitr_flag"): (
        "Flexible Server has no PITR switch: every server can be restored to any point "
        "within its backup retention (the same holds for Aurora)"
    ),
    ("aws", "pitr_flag"): (
        "Aurora has no PITR switch: continuous backup covers the whole retention period"
    ),
}


@dataclass(frozen=True)
class Guarantees:
    key: str  # identity of the customer-managed key the server's data is encrypted with
    cmk: bool
    key_rotates: bool
    tls_enforced: bool
    public_endpoint: bool
    backup_retention_days: int
    pitr_flag: bool | None  # None: the cloud has no separate switch (see EXCEPTIONS)
    pitr_window_days: int
    high_availability: bool
    deletion_protection: bool
    protect: bool
    tags: dict[str, str]
    locations: dict[str, str]  # what -> region: server, backup, key, ...


def _aws(plan: Plan, owner: dict[str, Any]) -> Guarantees:
    cluster = plan.one_under(owner, "aws:rds/cluster:Cluster")
    key = plan.one_under(owner, "aws:kms/key:Key")
    alias = plan.one_under(owner, "aws:kms/alias:Alias")
    params = plan.one_under(owner, "aws:rds/clusterParameterGroup:ClusterParameterGroup")
    instances = plan.under(owner, "aws:rds/clusterInstance:ClusterInstance")
    inputs = cluster["inputs"]
    force_ssl = {p["name"]: p["value"] for p in params["inputs"]["parameters"]}["rds.force_ssl"]
    return Guarantees(
        key=key["urn"],
        cmk=inputs["storageEncrypted"]
        and inputs["kmsKeyId"].endswith(f":key/{alias['inputs']['targetKeyId']}"),
        key_rotates=key["inputs"]["enableKeyRotation"],
        tls_enforced=force_ssl == "1",
        public_endpoint=any(i["inputs"]["publiclyAccessible"] for i in instances),
        backup_retention_days=inputs["backupRetentionPeriod"],
        pitr_flag=None,
        pitr_window_days=inputs["backupRetentionPeriod"],
        high_availability=len(instances) >= 2,
        deletion_protection=inputs["deletionProtection"],
        protect=cluster["protect"] and key["protect"],
        tags=inputs["tags"],
        # Aurora's automated backups stay in the cluster's region (no cross-region copy).
        locations={
            "server": inputs["region"],
            "backup": inputs["region"],
            "key": key["inputs"]["region"],
        },
    )


def _azure(plan: Plan, owner: dict[str, Any]) -> Guarantees:
    server = plan.primary_under(owner, "azure-native:dbforpostgresql:Server")
    key = plan.one_under(owner, "azure-native:keyvault:Key")
    configs = {
        c["inputs"]["configurationName"]: c["inputs"]["value"]
        for c in plan.under(owner, "azure-native:dbforpostgresql:Configuration")
    }
    locks = plan.under(owner, "azure-native:authorization:ManagementLockByScope")
    vaults = {v["inputs"]["vaultName"]: v for v in plan.of_type("azure-native:keyvault:Vault")}
    inputs = server["inputs"]
    encryption = inputs["dataEncryption"]
    locations = {
        "server": inputs["location"],
        "backup": inputs["location"],
        "key": vaults[key["inputs"]["vaultName"]]["inputs"]["location"],
    }
    if inputs["backup"]["geoRedundantBackup"] == "Enabled":
        locations["geo_backup"] = AZURE.paired_regions[inputs["location"]]
    for index, replica in enumerate(
        plan.replicas_under(owner, "azure-native:dbforpostgresql:Server")
    ):
        locations[f"read_replica_{index}"] = replica["inputs"]["location"]
    return Guarantees(
        key=key["urn"],
        cmk=encryption["type"] == "AzureKeyVault"
        and encryption["primaryKeyURI"].endswith(f"/keys/{key['inputs']['keyName']}"),
        key_rotates=bool(key["inputs"]["properties"]["rotationPolicy"]["lifetimeActions"]),
        tls_enforced=configs.get("require_secure_transport") == "on",
        public_endpoint=inputs["network"]["publicNetworkAccess"] != "Disabled",
        backup_retention_days=inputs["backup"]["backupRetentionDays"],
        pitr_flag=None,
        pitr_window_days=inputs["backup"]["backupRetentionDays"],
        high_availability=inputs["highAvailability"]["mode"] == "ZoneRedundant",
        deletion_protection=any(lock["inputs"]["level"] == "CanNotDelete" for lock in locks),
        protect=server["protect"] and key["protect"],
        tags=inputs["tags"],
        locations=locations,
    )


def _gcp(plan: Plan, owner: dict[str, Any]) -> Guarantees:
    instance = plan.primary_under(owner, "gcp:sql/databaseInstance:DatabaseInstance")
    key = plan.one_under(owner, "gcp:kms/cryptoKey:CryptoKey")
    ring = plan.one_under(owner, "gcp:kms/keyRing:KeyRing")
    secret = plan.one_under(owner, "gcp:secretmanager/secret:Secret")
    inputs = instance["inputs"]
    settings = inputs["settings"]
    backup = settings["backupConfiguration"]
    locations = {
        "server": inputs["region"],
        "backup": backup["location"],
        "key": ring["inputs"]["location"],
    }
    for index, replica in enumerate(secret["inputs"]["replication"]["userManaged"]["replicas"]):
        locations[f"secret_replica_{index}"] = replica["location"]
    for index, read in enumerate(
        plan.replicas_under(owner, "gcp:sql/databaseInstance:DatabaseInstance")
    ):
        locations[f"read_replica_{index}"] = read["inputs"]["region"]
    return Guarantees(
        key=key["urn"],
        cmk=inputs["encryptionKeyName"].endswith(
            f"/keyRings/{ring['inputs']['name']}/cryptoKeys/{key['inputs']['name']}"
        ),
        key_rotates=bool(key["inputs"].get("rotationPeriod")),
        tls_enforced=settings["ipConfiguration"]["sslMode"] == "ENCRYPTED_ONLY",
        public_endpoint=settings["ipConfiguration"]["ipv4Enabled"],
        backup_retention_days=backup["backupRetentionSettings"]["retainedBackups"]
        if backup["enabled"]
        else 0,
        pitr_flag=backup["pointInTimeRecoveryEnabled"],
        pitr_window_days=backup["transactionLogRetentionDays"],
        high_availability=settings["availabilityType"] == "REGIONAL",
        deletion_protection=inputs["deletionProtection"] and settings["deletionProtectionEnabled"],
        protect=instance["protect"] and key["protect"],
        tags=settings["userLabels"],
        locations=locations,
    )


EXTRACT = {"aws": _aws, "azure": _azure, "gcp": _gcp}


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    return catalog_data()


@functools.cache
def _guarantees(cloud: str, stack: str) -> tuple[tuple[str, Guarantees], ...]:
    plan = planned(stack)
    return tuple((owner["name"], EXTRACT[cloud](plan, owner)) for owner in plan.owners(cloud))


def _of_isolation(cloud: str, stack: str, isolation: str) -> list[tuple[str, Guarantees]]:
    return [
        (name, g)
        for name, g in _guarantees(cloud, stack)
        if g.tags[_tag(cloud, "isolation")] == isolation
    ]


def _tag(cloud: str, key: str) -> str:
    return tag_key(cast(Cloud, cloud), key)


def _tier(catalog: dict[str, Any], cloud: str, g: Guarantees) -> dict[str, Any]:
    return catalog["tiers"][g.tags[_tag(cloud, "tier")]]["database"]


def _exception(cloud: str, guarantee: str) -> str | None:
    return EXCEPTIONS.get((cloud, guarantee))


CASES = [(cloud, isolation) for cloud in STACKS for isolation in ISOLATIONS]


@pytest.mark.parametrize(("cloud", "isolation"), CASES)
def test_same_tier_spec_same_guarantees(
    cloud: str, isolation: str, catalog: dict[str, Any]
) -> None:
    dev_stack, prod_stack = STACKS[cloud]
    zone = catalog["residency_zones"][read_stack_config(prod_stack)["tenancy:residency"]][cloud]
    prod = _of_isolation(cloud, prod_stack, isolation)
    dev = _of_isolation(cloud, dev_stack, isolation)
    assert prod and dev, f"{cloud} has no active {isolation} tenant in its example stacks"
    for name, g in prod + dev:
        spec = _tier(catalog, cloud, g)
        where = f"{cloud}/{isolation}/{name}"
        # Encrypted at rest with a customer-managed key that rotates.
        assert g.cmk and g.key_rotates, where
        # TLS enforced, no public endpoint.
        assert g.tls_enforced and not g.public_endpoint, where
        # Backups with the tier's retention, and PITR.
        assert g.backup_retention_days == spec["backup_retention_days"], where
        if _exception(cloud, "pitr_flag"):
            assert g.pitr_flag is None, where  # implicit in the retention
        else:
            assert g.pitr_flag is spec["pitr"], where
        if _exception(cloud, "pitr_window_days"):
            assert g.pitr_window_days == min(spec["backup_retention_days"], 7), where
        else:
            assert g.pitr_window_days == spec["backup_retention_days"], where
        # HA when the tier asks for it.
        assert g.high_availability is spec["high_availability"], where
        # Deletion protection everywhere (Azure: its lock, see EXCEPTIONS).
        assert g.deletion_protection, where
        # Tags/labels present, in the cloud's charset.
        for key in TAG_KEYS:
            assert _tag(cloud, key) in g.tags, (where, key)
        # Residency: server, backups, replicas and keys all inside the zone.
        for what, region in g.locations.items():
            assert region in zone, (where, what, region)
    assert all(g.protect for _, g in prod), f"{cloud}/{isolation}: prod must be protected"
    assert not any(g.protect for _, g in dev), f"{cloud}/{isolation}: dev is not protected"


@pytest.mark.parametrize("cloud", list(STACKS))
def test_silo_tenants_never_share_a_key(cloud: str) -> None:
    for stack in STACKS[cloud]:
        keys = [g.key for _, g in _of_isolation(cloud, stack, "silo")]
        assert keys and len(set(keys)) == len(keys)
        shared = [g.key for iso in ("bridge", "pool") for _, g in _of_isolation(cloud, stack, iso)]
        assert not set(keys) & set(shared)


def test_every_exception_is_stated_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for cloud, guarantee in EXCEPTIONS:
        assert f"`{guarantee}`" in readme and cloud in readme, (cloud, guarantee)


# --- residency is checked before anything is registered -------------------------


def _catalog_with(tmp_path: Path, **tenant: Any) -> str:
    data = catalog_data()
    data["tenants"].append(
        {"name": "Stray", "tier": "enterprise", "compliance": [], "status": "active", **tenant}
    )
    return write_catalog(tmp_path, data)


@pytest.mark.parametrize(
    ("stack", "tenant"),
    [
        (
            "dev-azure-westeurope",
            {"id": "stray-azure", "cloud": "azure", "region": "northeurope", "residency": "eu"},
        ),
        (
            "dev-gcp-us-central1",
            {"id": "stray-gcp", "cloud": "gcp", "region": "europe-west3", "residency": "us"},
        ),
    ],
)
def test_a_tenant_outside_its_residency_zone_fails_validation(
    tmp_path: Path, stack: str, tenant: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = _catalog_with(tmp_path, **tenant)
    assert cli.main(["plan", stack, "--catalog", catalog]) == 2
    assert "outside residency zone" in capsys.readouterr().err


# --- the arguments every cloud's silo tenant and shard take ---------------------------


def _server_args_classes() -> list[type]:
    import importlib

    return [
        getattr(importlib.import_module(f"components.{cloud}.{module}"), name)
        for cloud in STACKS
        for module, name in (("silo", "SiloTenantArgs"), ("shard", "ShardArgs"))
    ]


def test_the_six_silo_and_shard_args_have_one_shape_field_by_field() -> None:
    import dataclasses

    shapes = {
        cls.__module__: [(f.name, str(f.type)) for f in dataclasses.fields(cls)]
        for cls in _server_args_classes()
    }
    assert len(shapes) == 6
    expected = [("server", "ServerArgs"), ("key_name", "str"), ("cell", "CellFacts")]
    for module, shape in shapes.items():
        assert shape == expected, module


def test_every_cloud_cell_facts_type_lives_with_its_server_builder() -> None:
    import dataclasses
    import importlib

    for cloud, module in (
        ("aws", "components.aws.aurora"),
        ("azure", "components.azure.flexible_server"),
        ("gcp", "components.gcp.cloudsql"),
    ):
        facts = importlib.import_module(module).CellFacts
        assert dataclasses.is_dataclass(facts), cloud
        for cls in _server_args_classes():
            if cls.__module__.startswith(f"components.{cloud}."):
                assert {f.name: f.type for f in dataclasses.fields(cls)}["cell"] == "CellFacts"
                assert importlib.import_module(cls.__module__).CellFacts is facts


def test_one_admin_user_on_every_cloud() -> None:
    from components.args import ADMIN_USER

    for cloud in STACKS:
        plan = planned(STACKS[cloud][1])
        logins = {
            r["inputs"].get(key)
            for r in plan.resources
            for key in ("masterUsername", "administratorLogin")
            if r["inputs"].get(key)
        } | {
            r["inputs"]["name"]
            for r in plan.resources
            if r["type"] == "gcp:sql/user:User" and r["inputs"].get("type") == "BUILT_IN"
        }
        assert logins == {ADMIN_USER}, cloud
