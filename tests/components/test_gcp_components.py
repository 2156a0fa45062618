"""GCP components, asserted on what the offline plan captures (engine-form inputs and options)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from components.model.tags import TAG_KEYS, tag_key
from components.postgres.sqlplan import tenant_role
from tests.support.planview import Plan, catalog_data, planned

DEV, PROD = "dev-gcp-us-central1", "prod-gcp-us-central1"
INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
DATABASE = "gcp:sql/database:Database"
USER = "gcp:sql/user:User"
RING = "gcp:kms/keyRing:KeyRing"
KEY = "gcp:kms/cryptoKey:CryptoKey"
GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
AGENT = "gcp:projects/serviceIdentity:ServiceIdentity"
SECRET = "gcp:secretmanager/secret:Secret"
VERSION = "gcp:secretmanager/secretVersion:SecretVersion"
NETWORK = "gcp:compute/network:Network"
PEERING = "gcp:servicenetworking/connection:Connection"
REQUIRED_LABELS = [tag_key("gcp", key) for key in TAG_KEYS] + ["managed-by"]
LABEL = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")


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
def catalog() -> dict[str, Any]:
    return catalog_data()


def _settings(instance: dict[str, Any]) -> dict[str, Any]:
    return instance["inputs"]["settings"]


def test_every_tier_has_an_active_tenant_on_gcp(dev: Plan) -> None:
    assert {row["isolation"] for row in dev.tenants.values()} == {"silo", "bridge", "pool"}


def test_instances_have_no_public_ip_and_require_tls(any_plan: Plan) -> None:
    for instance in any_plan.of_type(INSTANCE):
        ip = _settings(instance)["ipConfiguration"]
        assert ip["ipv4Enabled"] is False
        assert ip["sslMode"] == "ENCRYPTED_ONLY"
        assert ip["privateNetwork"]
        assert "authorizedNetworks" not in ip


def test_dev_creates_a_vpc_peered_for_private_services_before_any_instance(dev: Plan) -> None:
    (network,) = dev.of_type(NETWORK)
    assert network["inputs"]["autoCreateSubnetworks"] is False
    (peering,) = dev.of_type(PEERING)
    assert peering["inputs"]["service"] == "servicenetworking.googleapis.com"
    for instance in dev.of_type(INSTANCE):
        assert peering["urn"] in instance["dependencies"]


def test_prod_uses_the_configured_network(prod: Plan) -> None:
    assert not prod.of_type(NETWORK)
    for instance in prod.of_type(INSTANCE):
        assert _settings(instance)["ipConfiguration"]["privateNetwork"].endswith(
            "/networks/prod-shared-vpc"
        )


def test_each_instance_uses_its_own_rotating_cmek_in_its_region(any_plan: Plan) -> None:
    owners = any_plan.owners("gcp")
    keys = [any_plan.one_under(owner, KEY) for owner in owners]
    assert len({key["urn"] for key in keys}) == len(owners)
    for owner, key in zip(owners, keys, strict=True):
        ring = any_plan.one_under(owner, RING)["inputs"]
        instance = any_plan.primary_under(owner, INSTANCE)["inputs"]
        assert ring["location"] == instance["region"]
        assert instance["encryptionKeyName"].endswith(
            f"/locations/{ring['location']}/keyRings/{ring['name']}/cryptoKeys/{key['inputs']['name']}"
        )
        # Yearly, or every 90 days for pci/hipaa tiers (tests/components/test_keys.py).
        assert key["inputs"]["rotationPeriod"] in ("31536000s", "7776000s")
        assert key["inputs"]["purpose"] == "ENCRYPT_DECRYPT"


def test_the_service_agents_may_use_each_key_before_instance_and_secret_exist(
    any_plan: Plan,
) -> None:
    services = {a["inputs"]["service"] for a in any_plan.of_type(AGENT)}
    expected = {"sqladmin.googleapis.com", "secretmanager.googleapis.com"}
    if any_plan.of_type("gcp:backupdisasterrecovery/backupVault:BackupVault"):
        expected.add("backupdr.googleapis.com")  # immutable backup vaults (regulated, prod)
    assert services == expected
    for owner in any_plan.owners("gcp"):
        instance = any_plan.primary_under(owner, INSTANCE)
        secret = any_plan.one_under(owner, SECRET)
        grants = {g["name"].rsplit("-", 2)[-2]: g for g in any_plan.under(owner, GRANT)}
        agents = {"cloudsql": "cloud-sql", "secretmanager": "secretmanager"}
        if "backupdr.googleapis.com" in services:
            agents["backupdr"] = "backupdr"
        assert set(grants) == set(agents)
        for agent, grant in grants.items():
            assert grant["inputs"]["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
            assert re.fullmatch(
                rf"serviceAccount:service-\d+@gcp-sa-{agents[agent]}\.iam\.gserviceaccount\.com",
                grant["inputs"]["member"],
            )
            assert grant["inputs"]["cryptoKeyId"] == instance["inputs"]["encryptionKeyName"]
            assert grant["urn"] in instance["dependencies"]
            assert grant["urn"] in secret["dependencies"]


def test_backups_pitr_and_location_follow_the_tier_and_zone(
    any_plan: Plan, catalog: dict[str, Any]
) -> None:
    zone_regions = catalog["residency_zones"]["us"]["gcp"]
    # Primaries: Cloud SQL forbids backups on read replicas (test_read_replicas.py).
    for instance in any_plan.primaries(INSTANCE):
        settings = _settings(instance)
        database = catalog["tiers"][settings["userLabels"]["tenancy-tier"]]["database"]
        backup = settings["backupConfiguration"]
        assert backup["enabled"] is True
        assert backup["pointInTimeRecoveryEnabled"] is database["pitr"]
        assert backup["location"] in zone_regions
        assert backup["backupRetentionSettings"] == {
            "retainedBackups": database["backup_retention_days"],
            "retentionUnit": "COUNT",
        }
        assert 1 <= backup["transactionLogRetentionDays"] <= 7
        assert settings["retainBackupsOnDelete"] is True


def test_availability_and_disk_follow_the_tier(any_plan: Plan, catalog: dict[str, Any]) -> None:
    # Primaries: read replicas are zonal (test_read_replicas.py).
    for instance in any_plan.primaries(INSTANCE):
        settings = _settings(instance)
        database = catalog["tiers"][settings["userLabels"]["tenancy-tier"]]["database"]
        expected = "REGIONAL" if database["high_availability"] else "ZONAL"
        assert settings["availabilityType"] == expected
        assert settings["diskAutoresize"] is True
        assert settings["diskAutoresizeLimit"] == database.get("storage_limit_gb", 1024)
        assert instance["inputs"]["databaseVersion"] == "POSTGRES_17"  # the default tier major


def test_iam_authentication_flag_is_on(any_plan: Plan) -> None:
    for instance in any_plan.of_type(INSTANCE):
        flags = {f["name"]: f["value"] for f in _settings(instance)["databaseFlags"]}
        assert flags["cloudsql.iam_authentication"] == "on"


def test_logical_decoding_flag_is_on_every_instance(any_plan: Plan) -> None:
    instances = any_plan.of_type(INSTANCE)
    assert any(any_plan.is_replica(i) for i in instances)
    for instance in instances:
        flags = {f["name"]: f["value"] for f in _settings(instance)["databaseFlags"]}
        assert flags["cloudsql.logical_decoding"] == "on"


def test_both_deletion_protection_flags_everywhere_and_protect_in_prod(
    dev: Plan, prod: Plan
) -> None:
    for plan, protected in ((dev, False), (prod, True)):
        for instance in plan.of_type(INSTANCE):
            assert instance["inputs"]["deletionProtection"] is True
            assert _settings(instance)["deletionProtectionEnabled"] is True
            assert instance["protect"] is protected
        for kind in (KEY, RING, DATABASE, SECRET):
            assert all(r["protect"] is protected for r in plan.of_type(kind))


def test_a_database_per_silo_tenant(any_plan: Plan) -> None:
    for tenant_id in any_plan.silo_ids():
        silo = any_plan.component("tenancy:gcp:SiloTenant", f"silo-{tenant_id}")
        # Named like the database its isolation plan owns, so the plan adopts it.
        database = any_plan.one_under(silo, DATABASE)["inputs"]["name"]
        assert database == tenant_role(tenant_id)


def test_credentials_live_in_secret_manager_replicated_only_inside_the_zone(
    any_plan: Plan, catalog: dict[str, Any]
) -> None:
    zone_regions = catalog["residency_zones"]["us"]["gcp"]
    for owner in any_plan.owners("gcp"):
        secret = any_plan.one_under(owner, SECRET)["inputs"]
        replicas = [r["location"] for r in secret["replication"]["userManaged"]["replicas"]]
        assert replicas and set(replicas) <= set(zone_regions)
        key = any_plan.primary_under(owner, INSTANCE)["inputs"]["encryptionKeyName"]
        for replica in secret["replication"]["userManaged"]["replicas"]:
            assert replica["customerManagedEncryption"]["kmsKeyName"] == key
        assert "auto" not in secret["replication"]
        assert any_plan.one_under(owner, VERSION)["inputs"]["secretData"] == "[secret]"
        assert any_plan.one_under(owner, USER)["inputs"]["password"] == "[secret]"
    for facts in any_plan.outputs["tenants"].values():
        assert facts["secret_ref"].startswith("projects/")


def test_labels_follow_gcps_charset(any_plan: Plan) -> None:
    labelled = [_settings(i)["userLabels"] for i in any_plan.of_type(INSTANCE)]
    labelled += [r["inputs"]["labels"] for kind in (KEY, SECRET) for r in any_plan.of_type(kind)]
    for labels in labelled:
        assert set(REQUIRED_LABELS) <= set(labels)
        for key, value in labels.items():
            assert LABEL.match(key) and LABEL_VALUE.match(value), (key, value)


def test_instance_names_are_lowercase_and_differ_between_stacks(dev: Plan, prod: Plan) -> None:
    dev_names = {i["inputs"]["name"] for i in dev.of_type(INSTANCE)}
    prod_names = {i["inputs"]["name"] for i in prod.of_type(INSTANCE)}
    for name in dev_names | prod_names:
        assert re.fullmatch(r"[a-z][a-z0-9-]{0,78}[a-z0-9]", name)
    assert not dev_names & prod_names


DATA_TIER_ROOTS = ("silo-", "shard-", "cell-network", "cloudsql-agent", "secretmanager-agent")


def test_every_data_tier_resource_is_parented_by_a_gcp_component(any_plan: Plan) -> None:
    data_tier = [r for r in any_plan.resources if r["name"].startswith(DATA_TIER_ROOTS)]
    assert data_tier
    for resource in data_tier:
        if resource["custom"]:
            parent = any_plan.by_urn[resource["parent"]]
            # The server's in-database isolation is a cloud-neutral child; the pooler
            # (PgBouncer on the cell's cluster) is a Kubernetes component.
            allowed = (
                "tenancy:gcp:",
                "tenancy:postgres:DatabaseIsolation",
                "tenancy:k8s:PgBouncer",
            )
            assert parent["type"].startswith(allowed), resource["name"]
