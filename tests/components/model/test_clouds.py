"""The per-cloud traits record, and the checks it drives before anything is registered."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.model.catalog import CLOUDS
from components.model.clouds import CLOUD_TRAITS, traits
from components.model.errors import InputError
from components.model.stack import parse_stack_settings

ROOT = Path(__file__).resolve().parents[3]
ARM = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network"
AZURE_NETWORK = {
    "delegatedSubnetId": f"{ARM}/virtualNetworks/v/subnets/pg",
    "privateDnsZoneId": f"{ARM}/privateDnsZones/x.private.postgres.database.azure.com",
}


# Required on every Azure stack (components/model/entra.py); not what these tests probe.
AZURE_ENTRA_GROUP = {
    "tenancy:entraAdminGroup": {
        "objectId": "5f0c8a7e-2b1d-4c3e-9a8f-7d6e5c4b3a21",
        "displayName": "db-operators",
    }
}


def _config(cloud: str, region: str, network: dict[str, Any]) -> dict[str, Any]:
    return {
        traits(cloud).region_key: region,
        "tenancy:environment": "dev",
        "tenancy:cloud": cloud,
        "tenancy:residency": "eu",
        "tenancy:network": network,
    } | (AZURE_ENTRA_GROUP if cloud == "azure" else {})


def _network_issues(cloud: str, region: str, network: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        parse_stack_settings(f"dev-{cloud}-{region}", _config(cloud, region, network), "s.yaml")
    except InputError as error:
        return [(issue.path, issue.message) for issue in error.issues]
    return []


def test_every_catalog_cloud_has_exactly_one_traits_record() -> None:
    assert sorted(CLOUD_TRAITS) == sorted(CLOUDS)


def test_an_unknown_cloud_names_the_doc_for_adding_one() -> None:
    with pytest.raises(ValueError, match="adding-a-cloud"):
        traits("oracle")


def test_every_traits_record_is_complete() -> None:
    for cloud in CLOUD_TRAITS.values():
        low, high = cloud.retention_days
        assert 0 < low <= high, cloud.name
        assert cloud.read_replica_limit > 0
        assert cloud.network.existing and cloud.identity.required_setting
        assert cloud.name_rules and cloud.knobs


def test_azure_existing_network_needs_subnet_and_dns_zone_together() -> None:
    half = {"delegatedSubnetId": AZURE_NETWORK["delegatedSubnetId"]}
    issues = _network_issues("azure", "westeurope", half)
    assert issues == [("config.tenancy:network.privateDnsZoneId", "missing 'privateDnsZoneId'")]


def test_azure_resource_group_alone_is_a_valid_network_setting() -> None:
    assert _network_issues("azure", "westeurope", {"resourceGroupName": "rg-x"}) == []


def test_azure_complete_network_passes() -> None:
    assert _network_issues("azure", "westeurope", AZURE_NETWORK) == []


def test_azure_dns_zone_outside_the_postgres_suffix_is_refused() -> None:
    network = AZURE_NETWORK | {"privateDnsZoneId": f"{ARM}/privateDnsZones/corp.example.com"}
    issues = _network_issues("azure", "westeurope", network)
    assert issues and issues[0][0] == "config.tenancy:network.privateDnsZoneId"
    assert "is not an id of this kind" in issues[0][1]


def test_azure_public_allowed_cidrs_are_refused() -> None:
    issues = _network_issues("azure", "westeurope", AZURE_NETWORK | {"allowedCidrs": ["0.0.0.0/0"]})
    assert (
        "config.tenancy:network.allowedCidrs",
        "expected a list of private CIDR blocks, got ['0.0.0.0/0']",
    ) in issues


def test_gcp_network_id_must_be_a_vpc_path() -> None:
    good = {"networkId": "projects/p/global/networks/vpc"}
    assert _network_issues("gcp", "europe-west3", good) == []
    issues = _network_issues("gcp", "europe-west3", {"networkId": "vpc"})
    assert [path for path, _ in issues] == ["config.tenancy:network.networkId"]


def test_gcp_allowed_cidrs_without_a_network_is_incomplete() -> None:
    issues = _network_issues("gcp", "europe-west3", {"allowedCidrs": ["10.0.0.0/8"]})
    assert issues == [("config.tenancy:network.networkId", "missing 'networkId'")]


def test_unknown_network_keys_list_the_clouds_own_keys() -> None:
    issues = _network_issues(
        "gcp", "europe-west3", {"vpcId": "vpc-1", "networkId": "projects/p/global/networks/n"}
    )
    assert issues == [("config.tenancy:network.vpcId", "unknown network setting")]


# --- identity prerequisites: checked before the engine runs, with the stack file's line ---


def _stack_without(tmp_path: Path, stack: str, key: str) -> Path:
    stacks = tmp_path / "stacks"
    shutil.copytree(ROOT / "stacks", stacks)
    path = stacks / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(path.read_text())
    namespace, _, name = key.partition(".")
    if name:
        del data["config"][namespace][name]
    else:
        del data["config"][namespace]
    path.write_text(yaml.safe_dump(data))
    return stacks


@pytest.mark.parametrize(
    "stack",
    ["prod-aws-eu-central-1", "prod-azure-westeurope", "dev-gcp-us-central1"],
)
def test_missing_identity_setting_fails_before_anything_is_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: str
) -> None:
    from infra import program
    from tenancy import engine
    from tenancy.plan import plan_stack

    cloud = stack.split("-")[1]
    setting = traits(cloud).identity.required_setting
    monkeypatch.setattr(program, "STACKS_DIR", _stack_without(tmp_path, stack, setting))
    monkeypatch.setattr(engine, "capture", lambda *a, **k: pytest.fail("the engine ran"))
    with pytest.raises(InputError) as raised:
        plan_stack(stack)
    (issue,) = raised.value.issues
    assert issue.path == f"config.{setting}"
    assert issue.file.endswith(f"Pulumi.{stack}.yaml") and issue.line
    assert "workload identity of silo tenants" in issue.message
    assert issue.hint == traits(cloud).identity.hint
