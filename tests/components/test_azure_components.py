"""Azure components, asserted on what the offline plan captures (engine-form inputs and options)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.model.regions import GEO_BACKUP_OFF_OUTSIDE_ZONE, GEO_BACKUP_ON
from components.model.tags import TAG_KEYS, tag_key
from components.postgres.sqlplan import tenant_role
from tenancy.plan import plan_stack
from tests.support.planview import Plan, catalog_data, planned, write_catalog

DEV, PROD = "dev-azure-westeurope", "prod-azure-westeurope"
SERVER = "azure-native:dbforpostgresql:Server"
CONFIG = "azure-native:dbforpostgresql:Configuration"
DATABASE = "azure-native:dbforpostgresql:Database"
KEY = "azure-native:keyvault:Key"
VAULT = "azure-native:keyvault:Vault"
SECRET = "azure-native:keyvault:Secret"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
ROLE = "azure-native:authorization:RoleAssignment"
LOCK = "azure-native:authorization:ManagementLockByScope"
VNET = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
RG = "azure-native:resources:ResourceGroup"
REQUIRED_TAGS = [tag_key("azure", key) for key in TAG_KEYS] + ["managed-by"]


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
def tiers() -> dict[str, Any]:
    return catalog_data()["tiers"]


@pytest.fixture(scope="module")
def geo_on(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """A zone that contains westeurope's pair (northeurope): geo backup may go there."""
    data = copy.deepcopy(catalog_data())
    data["residency_zones"]["eu"]["azure"].append("northeurope")
    return Plan(plan_stack(DEV, catalog=write_catalog(tmp_path_factory.mktemp("geo"), data)))


def test_every_tier_has_an_active_tenant_on_azure(dev: Plan) -> None:
    assert {row["isolation"] for row in dev.tenants.values()} == {"silo", "bridge", "pool"}


def test_servers_live_only_in_a_delegated_subnet_without_public_access(any_plan: Plan) -> None:
    for server in any_plan.of_type(SERVER):
        network = server["inputs"]["network"]
        assert network["publicNetworkAccess"] == "Disabled"
        assert network["delegatedSubnetResourceId"]
        assert network["privateDnsZoneArmResourceId"].endswith(".postgres.database.azure.com")


def test_dev_creates_a_delegated_subnet_and_a_linked_private_dns_zone(dev: Plan) -> None:
    (subnet,) = dev.of_type(SUBNET)
    (delegation,) = subnet["inputs"]["delegations"]
    assert delegation["serviceName"] == "Microsoft.DBforPostgreSQL/flexibleServers"
    assert subnet["inputs"]["defaultOutboundAccess"] is False
    link = dev.of_type("azure-native:privatedns:VirtualNetworkLink")[0]
    for server in dev.of_type(SERVER):
        assert link["urn"] in server["dependencies"]  # the zone is linked before the server


def test_prod_uses_the_configured_group_subnet_and_zone(prod: Plan) -> None:
    assert not prod.of_type(VNET)
    assert not [rg for rg in prod.of_type(RG) if rg["name"] == "cell-rg-rg"]
    for server in prod.of_type(SERVER):
        assert server["inputs"]["resourceGroupName"] == "rg-tenancy-prod-westeurope"
        assert server["inputs"]["network"]["delegatedSubnetResourceId"].endswith(
            "/subnets/postgres-flexible"
        )


def test_key_vault_is_purge_protected_rbac_only_and_closed(any_plan: Plan) -> None:
    (vault,) = any_plan.of_type(VAULT)
    props = vault["inputs"]["properties"]
    assert props["enablePurgeProtection"] is True
    assert props["enableRbacAuthorization"] is True
    assert props["softDeleteRetentionInDays"] == 90
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["networkAcls"] == {"bypass": "AzureServices", "defaultAction": "Deny"}
    assert "accessPolicies" not in props


def test_every_key_rotates(any_plan: Plan) -> None:
    for key in any_plan.of_type(KEY):
        actions = key["inputs"]["properties"]["rotationPolicy"]["lifetimeActions"]
        (rotate,) = [a for a in actions if a["action"]["type"] == "rotate"]
        # Yearly, or every 90 days for pci/hipaa tiers (tests/components/test_keys.py).
        assert rotate["trigger"]["timeAfterCreate"] in ("P365D", "P90D")


def test_each_server_is_encrypted_with_its_own_key_and_identity(any_plan: Plan) -> None:
    owners = any_plan.owners("azure")
    assert len({any_plan.one_under(o, KEY)["urn"] for o in owners}) == len(owners)
    for owner in owners:
        key = any_plan.one_under(owner, KEY)
        identity = any_plan.one_under(owner, IDENTITY)
        server = any_plan.primary_under(owner, SERVER)["inputs"]
        encryption = server["dataEncryption"]
        assert encryption["type"] == "AzureKeyVault"
        assert encryption["primaryKeyURI"].endswith(f"/keys/{key['inputs']['keyName']}")
        assert encryption["primaryUserAssignedIdentityId"].endswith(
            f"/{identity['inputs']['resourceName']}"
        )
        assert list(server["identity"]["userAssignedIdentities"]) == [
            encryption["primaryUserAssignedIdentityId"]
        ]


def test_each_identity_may_use_only_its_own_key(any_plan: Plan) -> None:
    for owner in any_plan.owners("azure"):
        key = any_plan.one_under(owner, KEY)
        role = any_plan.one_under(owner, ROLE)["inputs"]
        assert role["scope"].endswith(f"/keys/{key['inputs']['keyName']}")
        assert role["roleDefinitionId"].endswith("e147488a-f6f5-4113-8e2d-b22465e65bf6")
        assert role["principalType"] == "ServicePrincipal"


def test_tls_is_required_on_every_server(any_plan: Plan) -> None:
    for owner in any_plan.owners("azure"):
        settings = {c["inputs"]["configurationName"]: c for c in any_plan.under(owner, CONFIG)}
        assert settings["require_secure_transport"]["inputs"]["value"] == "on"
        assert settings["ssl_min_protocol_version"]["inputs"]["value"] == "TLSv1.2"
        # Azure rejects concurrent parameter updates: each waits for the one before.
        assert (
            settings["require_secure_transport"]["urn"]
            in settings["ssl_min_protocol_version"]["dependencies"]
        )


def test_logical_decoding_is_on_every_primary_after_the_tls_parameters(any_plan: Plan) -> None:
    primaries = any_plan.primaries(SERVER)
    assert primaries
    for server in primaries:
        owner = next(a for a in any_plan.ancestors(server) if a["type"].endswith("FlexibleServer"))
        settings = {c["inputs"]["configurationName"]: c for c in any_plan.under(owner, CONFIG)}
        wal = settings["wal_level"]
        assert wal["inputs"]["value"] == "logical"
        assert wal["inputs"]["source"] == "user-override"
        # Flexible Server rejects parallel parameter updates: the chain goes on through it.
        assert settings["log_connections"]["urn"] in wal["dependencies"]


def test_read_replicas_leave_wal_level_to_their_primary(any_plan: Plan) -> None:
    replicas = any_plan.of_type("tenancy:azure:FlexibleReadReplica")
    assert replicas
    for replica in replicas:
        names = {c["inputs"]["configurationName"] for c in any_plan.under(replica, CONFIG)}
        assert "require_secure_transport" in names and "wal_level" not in names


def test_backup_retention_ha_and_storage_follow_the_tier(
    any_plan: Plan, tiers: dict[str, Any]
) -> None:
    # Primaries: read replicas have no backups or HA of their own (test_read_replicas.py).
    for server in any_plan.primaries(SERVER):
        inputs = server["inputs"]
        database = tiers[inputs["tags"]["tenancy:tier"]]["database"]
        assert inputs["backup"]["backupRetentionDays"] == database["backup_retention_days"]
        expected = "ZoneRedundant" if database["high_availability"] else "Disabled"
        assert inputs["highAvailability"]["mode"] == expected
        assert inputs["storage"]["autoGrow"] == "Enabled"
        assert inputs["version"] in ("16", "17")
        assert inputs["authConfig"]["activeDirectoryAuth"] == "Enabled"


def test_geo_backup_stays_off_when_the_pair_is_outside_the_zone_and_the_plan_says_why(
    any_plan: Plan,
) -> None:
    for server in any_plan.primaries(SERVER):
        assert server["inputs"]["backup"]["geoRedundantBackup"] == "Disabled"
        assert server["inputs"]["tags"]["tenancy:geo-backup"] == GEO_BACKUP_OFF_OUTSIDE_ZONE
    note = any_plan.outputs["notes"]["geo_backup"]
    assert "northeurope is outside residency zone 'eu'" in note


def test_geo_backup_is_on_with_a_key_in_the_pair_region_when_the_pair_is_inside(
    geo_on: Plan,
) -> None:
    vaults = {v["name"]: v["inputs"]["location"] for v in geo_on.of_type(VAULT)}
    assert vaults == {"cell-vault-vault": "westeurope", "cell-geo-vault-vault": "northeurope"}
    for owner in geo_on.owners("azure"):
        server = geo_on.primary_under(owner, SERVER)["inputs"]
        assert server["backup"]["geoRedundantBackup"] == "Enabled"
        assert server["tags"]["tenancy:geo-backup"] == GEO_BACKUP_ON
        encryption = server["dataEncryption"]
        assert ".vault.azure.net/keys/" in encryption["geoBackupKeyURI"]
        assert "-kvgeo-" in encryption["geoBackupKeyURI"]  # the pair region's vault
        assert encryption["geoBackupUserAssignedIdentityId"].endswith("-cmk-geo")
        assert len(server["identity"]["userAssignedIdentities"]) == 2
    assert "geo-redundant backup on" in geo_on.outputs["notes"]["geo_backup"]


def test_a_database_per_silo_tenant(any_plan: Plan) -> None:
    for tenant_id in any_plan.silo_ids():
        silo = any_plan.component("tenancy:azure:SiloTenant", f"silo-{tenant_id}")
        # Named like the database its isolation plan owns, so the plan adopts it.
        database = any_plan.one_under(silo, DATABASE)["inputs"]["databaseName"]
        assert database == tenant_role(tenant_id)


def test_prod_locks_and_protects_servers_keys_and_vault(prod: Plan) -> None:
    for server in prod.of_type(SERVER):
        assert server["protect"] is True
    for kind in (KEY, VAULT, DATABASE):
        assert all(r["protect"] for r in prod.of_type(kind))
    locks = prod.of_type(LOCK)
    assert len(locks) == len(prod.of_type(SERVER))
    assert all(lock["inputs"]["level"] == "CanNotDelete" for lock in locks)


def test_dev_keeps_the_lock_but_not_protect(dev: Plan) -> None:
    assert not any(r["protect"] for r in dev.resources)
    assert len(dev.of_type(LOCK)) == len(dev.of_type(SERVER))


def test_admin_password_is_secret_and_kept_in_key_vault(any_plan: Plan) -> None:
    for owner in any_plan.owners("azure"):
        server = any_plan.primary_under(owner, SERVER)["inputs"]
        assert server["administratorLoginPassword"] == "[secret]"
        assert any_plan.one_under(owner, SECRET)["inputs"]["properties"]["value"] == "[secret]"
    for facts in any_plan.outputs["tenants"].values():
        assert facts["secret_ref"].startswith("https://")


def test_server_names_are_valid_and_globally_unique_per_stack(dev: Plan, prod: Plan) -> None:
    dev_names = {s["inputs"]["serverName"] for s in dev.of_type(SERVER)}
    prod_names = {s["inputs"]["serverName"] for s in prod.of_type(SERVER)}
    for name in dev_names | prod_names:
        assert 3 <= len(name) <= 63 and name == name.lower()
    assert not dev_names & prod_names


def test_every_taggable_resource_carries_the_required_tags(any_plan: Plan) -> None:
    for kind in (SERVER, KEY, VAULT, IDENTITY, SECRET):
        for resource in any_plan.of_type(kind):
            assert set(REQUIRED_TAGS) <= set(resource["inputs"]["tags"]), resource["name"]


DATA_TIER_ROOTS = ("silo-", "shard-", "cell-rg", "cell-network", "cell-vault", "cell-geo-vault")


def test_every_data_tier_resource_is_parented_by_a_azure_component(any_plan: Plan) -> None:
    data_tier = [r for r in any_plan.resources if r["name"].startswith(DATA_TIER_ROOTS)]
    assert data_tier
    for resource in data_tier:
        if resource["custom"]:
            parent = any_plan.by_urn[resource["parent"]]
            # The server's in-database isolation is the one cloud-neutral child.
            allowed = ("tenancy:azure:", "tenancy:postgres:DatabaseIsolation")
            assert parent["type"].startswith(allowed), resource["name"]
