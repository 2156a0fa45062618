"""stack: ``stacks/Pulumi.<stack>.yaml`` config -> the cell and its settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from components.model.appconfig import AppSettings
from components.model.catalog import Catalog, Tenant, Tier
from components.model.cell import Cell, parse_stack_name
from components.model.errors import InputError, Issue
from components.model.stack import (
    StackSettings,
    check_cell_against_catalog,
    parse_stack_settings,
)

STACKS = Path(__file__).resolve().parents[3] / "stacks"
FILE = "stacks/Pulumi.dev-aws-eu-central-1.yaml"
ENTRA_GROUP = {"objectId": "5F0C8A7E-2B1D-4C3E-9A8F-7D6E5C4B3A21", "displayName": "db-operators"}
REGION_KEYS = {"aws": "aws:region", "azure": "azure-native:location", "gcp": "gcp:region"}


def _config(stack: str = "dev-aws-eu-central-1", **extra: Any) -> dict[str, Any]:
    """A minimal valid config for ``stack``, plus ``extra`` (keys with '__' for ':')."""
    cell = parse_stack_name(stack)
    assert cell is not None
    config: dict[str, Any] = {
        REGION_KEYS[cell.cloud]: cell.region,
        "tenancy:environment": cell.environment,
        "tenancy:cloud": cell.cloud,
        "tenancy:residency": "eu",
    }
    if cell.cloud == "azure":  # the operators' Entra group (components/model/entra.py)
        config["tenancy:entraAdminGroup"] = dict(ENTRA_GROUP)
    if cell.is_production:  # an alert channel (issue 13) and images by digest (appconfig.py)
        config["tenancy:alerts"] = [{"kind": "email", "target": "oncall@example.com"}]
        config["tenancy:app"] = {"image": "ghcr.io/acme/tenant-api@sha256:" + "0" * 64}
    config.update({key.replace("__", ":"): value for key, value in extra.items()})
    return config


def _issues(stack: str, config: dict[str, Any]) -> list[Issue]:
    with pytest.raises(InputError) as caught:
        parse_stack_settings(stack, config, FILE)
    assert all(issue.file == FILE and issue.hint for issue in caught.value.issues)
    return caught.value.issues


def _only_issue(stack: str, config: dict[str, Any]) -> Issue:
    (issue,) = _issues(stack, config)
    return issue


# --- stack names ---------------------------------------------------------------------------


def test_a_stack_name_is_environment_cloud_region() -> None:
    assert parse_stack_name("prod-aws-eu-central-1") == Cell("prod", "aws", "eu-central-1")
    assert parse_stack_name("dev-azure-westeurope") == Cell("dev", "azure", "westeurope")
    assert parse_stack_name("staging2-gcp-us-central1") == Cell("staging2", "gcp", "us-central1")


@pytest.mark.parametrize(
    "name",
    [
        "prod",
        "prod-aws",
        "prod-oracle-eu-central-1",  # not a cloud this project knows
        "Prod-aws-eu-central-1",  # uppercase
        "p-aws-eu-central-1",  # environment of one letter
        "1prod-aws-eu-central-1",  # environment starts with a digit
        "prod_aws_eu-central-1",
        "prod-aws-EU-central-1",
        "environment1-aws-eu-central-1",  # environment longer than ten characters
    ],
)
def test_a_name_that_is_not_a_cell_name_parses_to_none(name: str) -> None:
    assert parse_stack_name(name) is None


@pytest.mark.parametrize("environment", ["prod", "production"])
def test_prod_and_production_are_production(environment: str) -> None:
    assert Cell(environment, "aws", "eu-central-1").is_production


@pytest.mark.parametrize("environment", ["dev", "staging", "preprod", "prod2"])
def test_other_environments_are_not_production(environment: str) -> None:
    assert not Cell(environment, "aws", "eu-central-1").is_production


cells = st.builds(
    Cell,
    st.from_regex(r"[a-z][a-z0-9]{1,9}", fullmatch=True),
    st.sampled_from(["aws", "azure", "gcp"]),
    st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True),
)


@settings(max_examples=50, deadline=None)
@given(cells)
def test_a_cells_stack_name_parses_back_to_the_same_cell(cell: Cell) -> None:
    assert parse_stack_name(cell.stack) == cell


# --- the happy path ------------------------------------------------------------------------


def test_a_minimal_config_gives_secure_defaults() -> None:
    result = parse_stack_settings("dev-aws-eu-central-1", _config(), FILE)
    assert result.cell == Cell("dev", "aws", "eu-central-1")
    assert result.residency == "eu"
    assert result.catalog_path == "tenants.yaml"
    assert result.network == {}
    assert result.app == AppSettings()
    assert result.gcp_project is None
    assert result.allow_destroy is False
    assert result.deletion_protection is True


def test_optional_settings_are_read() -> None:
    config = _config(
        "dev-gcp-us-central1",
        tenancy__catalog="other/tenants.yaml",
        gcp__project="acme-dev",
        tenancy__app={"port": 9090},
    )
    result = parse_stack_settings("dev-gcp-us-central1", config, FILE)
    assert result.catalog_path == "other/tenants.yaml"
    assert result.gcp_project == "acme-dev"
    assert result.app.port == 9090


@pytest.mark.parametrize("path", sorted(STACKS.glob("Pulumi.*.yaml")), ids=lambda path: path.name)
def test_every_example_stack_file_is_valid(path: Path) -> None:
    stack = path.name[len("Pulumi.") : -len(".yaml")]
    config = yaml.safe_load(path.read_text(encoding="utf-8"))["config"]
    result = parse_stack_settings(stack, config, str(path))
    assert result.cell.stack == stack
    assert result.deletion_protection


def test_given_lists_the_settings_with_a_value_including_nested_ones() -> None:
    config = _config(
        gcp__project="",
        tenancy__app={"oidcProviderArn": None, "port": 9090},
        tenancy__network={},
    )
    result = parse_stack_settings("dev-aws-eu-central-1", config, FILE)
    assert result.given == {
        "aws:region",
        "tenancy:environment",
        "tenancy:cloud",
        "tenancy:residency",
        "tenancy:app",
        "tenancy:app.port",
    }


def test_provider_and_other_namespaces_are_not_tenancys_to_judge() -> None:
    config = _config(aws__profile="acme", pulumi__template="x")
    assert parse_stack_settings("dev-aws-eu-central-1", config, FILE).cell.cloud == "aws"


# --- validation errors ---------------------------------------------------------------------


def test_a_bad_stack_name_is_the_only_error_reported() -> None:
    issue = _only_issue("production", {})
    assert issue.path == ""
    assert issue.message == "stack name 'production' is not <env>-<cloud>-<region>"
    assert issue.hint == ("name it like prod-aws-eu-central-1; cloud is one of aws, azure, gcp")


@pytest.mark.parametrize(
    ("stack", "key"),
    [
        ("dev-aws-eu-central-1", "tenancy:environment"),
        ("dev-aws-eu-central-1", "tenancy:cloud"),
        ("dev-aws-eu-central-1", "tenancy:residency"),
        ("dev-aws-eu-central-1", "aws:region"),
        ("dev-azure-westeurope", "azure-native:location"),
        ("dev-gcp-us-central1", "gcp:region"),
    ],
)
def test_each_required_setting_is_named_when_missing(stack: str, key: str) -> None:
    config = _config(stack)
    del config[key]
    issue = _only_issue(stack, config)
    assert issue.path == f"config.{key}"
    assert issue.message == "missing required setting"
    assert issue.hint == f"add '{key}' under config:"


def test_an_empty_value_counts_as_missing() -> None:
    issue = _only_issue("dev-aws-eu-central-1", _config(tenancy__residency=""))
    assert (issue.path, issue.message) == ("config.tenancy:residency", "missing required setting")


def test_every_missing_setting_is_reported_at_once() -> None:
    paths = [issue.path for issue in _issues("dev-azure-westeurope", {})]
    assert paths == [
        "config.tenancy:environment",
        "config.tenancy:cloud",
        "config.tenancy:residency",
        "config.azure-native:location",
        "config.tenancy:entraAdminGroup",  # required on every Azure stack
    ]


@pytest.mark.parametrize(
    ("key", "value", "want"),
    [
        ("tenancy:environment", "prod", "dev"),
        ("tenancy:cloud", "azure", "aws"),
        ("aws:region", "eu-west-1", "eu-central-1"),
    ],
)
def test_a_setting_that_contradicts_the_stack_name_is_refused(
    key: str, value: str, want: str
) -> None:
    issue = _only_issue("dev-aws-eu-central-1", {**_config(), key: value})
    assert issue.path == f"config.{key}"
    assert issue.message == f"{value!r} contradicts the stack name 'dev-aws-eu-central-1'"
    assert issue.hint == f"set it to {want!r}, or rename the stack"


def test_another_clouds_region_key_does_not_stand_in_for_the_cells() -> None:
    config = _config()
    del config["aws:region"]
    config["gcp:region"] = "eu-central-1"
    assert _only_issue("dev-aws-eu-central-1", config).path == "config.aws:region"


def test_an_unknown_tenancy_setting_lists_the_allowed_ones() -> None:
    issue = _only_issue("dev-aws-eu-central-1", _config(tenancy__enviroment="dev"))
    assert issue.path == "config.tenancy:enviroment"
    assert issue.message == "unknown tenancy setting"
    assert issue.hint.startswith("allowed: tenancy:environment, tenancy:cloud")
    assert "tenancy:allowDestroy" in issue.hint


def test_a_config_key_that_is_not_a_string_is_an_input_error() -> None:
    # YAML reads `1: x` as an integer key; it must not crash the run.
    config: dict[Any, Any] = {**_config(), 1: "x"}
    issue = _only_issue("dev-aws-eu-central-1", config)
    assert issue.path == "config.1"
    assert issue.message == "config key 1 is not a 'namespace:name' string"


@pytest.mark.parametrize("value", [True, "true"])
def test_allow_destroy_switches_deletion_protection_off_in_dev(value: Any) -> None:
    result = parse_stack_settings(
        "dev-aws-eu-central-1", _config(tenancy__allowDestroy=value), FILE
    )
    assert result.allow_destroy is True
    assert result.deletion_protection is False


@pytest.mark.parametrize("value", [False, "false"])
def test_allow_destroy_false_keeps_deletion_protection(value: Any) -> None:
    result = parse_stack_settings(
        "prod-aws-eu-central-1", _config("prod-aws-eu-central-1", tenancy__allowDestroy=value), FILE
    )
    assert result.deletion_protection is True


@pytest.mark.parametrize("stack", ["prod-aws-eu-central-1", "production-gcp-us-central1"])
def test_allow_destroy_is_refused_in_production(stack: str) -> None:
    issue = _only_issue(stack, _config(stack, tenancy__allowDestroy=True))
    assert issue.path == "config.tenancy:allowDestroy"
    assert issue.message == "deletion protection cannot be switched off in production"
    assert issue.hint == "remove tenancy:allowDestroy from this prod stack"


@pytest.mark.parametrize("value", ["yes", 1, 0, "True", None])
def test_allow_destroy_must_be_a_boolean(value: Any) -> None:
    issue = _only_issue("dev-aws-eu-central-1", _config(tenancy__allowDestroy=value))
    assert issue.path == "config.tenancy:allowDestroy"
    assert issue.message == f"expected true or false, got {value!r}"
    assert "deletion protection stays on" in issue.hint


@pytest.mark.parametrize("key", ["tenancy:network", "tenancy:app"])
def test_structured_settings_must_be_mappings(key: str) -> None:
    issue = _only_issue("dev-aws-eu-central-1", {**_config(), key: ["a"]})
    assert issue.path == f"config.{key}"
    assert issue.message == "expected a mapping, got list"
    assert issue.hint == "write it as a YAML mapping"


def test_app_setting_errors_are_reported_with_the_stack_errors() -> None:
    config = _config(tenancy__environment="prod", tenancy__app={"port": 80})
    paths = [issue.path for issue in _issues("dev-aws-eu-central-1", config)]
    assert paths == ["config.tenancy:environment", "config.tenancy:app.port"]


def test_app_settings_are_checked_for_the_cells_cloud() -> None:
    config = _config("dev-gcp-us-central1", tenancy__app={"identityEndpointCidrs": ["10.0.0.0/8"]})
    issue = _only_issue("dev-gcp-us-central1", config)
    assert issue.path == "config.tenancy:app.identityEndpointCidrs"
    assert issue.message == "GKE Workload Identity's token endpoint has fixed addresses"


# --- the operators' Entra group (Azure) ---------------------------------------------------

ENTRA_KEY = "config.tenancy:entraAdminGroup"


@pytest.mark.parametrize("stack", ["dev-azure-westeurope", "prod-azure-westeurope"])
def test_an_azure_stack_names_its_operators_entra_group(stack: str) -> None:
    settings = parse_stack_settings(stack, _config(stack), FILE)
    group = settings.entra_admin_group
    assert group is not None
    # Object ids are GUIDs, matched case-insensitively: kept in one spelling.
    assert group.object_id == "5f0c8a7e-2b1d-4c3e-9a8f-7d6e5c4b3a21"
    assert group.display_name == "db-operators"


@pytest.mark.parametrize("stack", ["dev-azure-westeurope", "prod-azure-westeurope"])
def test_an_azure_stack_without_an_entra_group_is_refused_in_dev_and_prod(stack: str) -> None:
    config = _config(stack)
    del config["tenancy:entraAdminGroup"]
    issue = _only_issue(stack, config)
    assert issue.path == ENTRA_KEY
    assert "needs the operators' Entra group" in issue.message
    assert "objectId" in issue.hint and "displayName" in issue.hint


@pytest.mark.parametrize("stack", ["dev-aws-eu-central-1", "prod-gcp-us-central1"])
def test_an_entra_group_on_another_clouds_stack_is_refused(stack: str) -> None:
    config = _config(stack, tenancy__entraAdminGroup=dict(ENTRA_GROUP))
    issue = _only_issue(stack, config)
    assert issue.path == ENTRA_KEY
    assert "only Azure stacks" in issue.message
    assert issue.hint == "remove tenancy:entraAdminGroup from this stack"


@pytest.mark.parametrize(
    ("group", "path", "fragment"),
    [
        ({"objectId": "db-operators", "displayName": "x"}, "objectId", "is not a GUID"),
        ({"objectId": 42, "displayName": "x"}, "objectId", "is not a GUID"),
        (
            {"objectId": "00000000-0000-0000-0000-000000000000", "displayName": "x"},
            "objectId",
            "nil GUID",
        ),
        ({"objectId": ENTRA_GROUP["objectId"], "displayName": ""}, "displayName", "display name"),
        ({"objectId": ENTRA_GROUP["objectId"], "displayName": None}, "displayName", "display"),
        ({"objectId": ENTRA_GROUP["objectId"], "displayName": " ops"}, "displayName", "spaces"),
        (
            {"objectId": ENTRA_GROUP["objectId"], "displayName": "o" * 64},
            "displayName",
            "longer than 63 bytes",
        ),
        ({"objectId": ENTRA_GROUP["objectId"]}, "displayName", "missing required setting"),
        ({**ENTRA_GROUP, "principalType": "User"}, "principalType", "unknown setting"),
    ],
)
def test_a_bad_entra_group_names_the_field(group: dict[str, Any], path: str, fragment: str) -> None:
    config = _config("prod-azure-westeurope", tenancy__entraAdminGroup=group)
    issue = _only_issue("prod-azure-westeurope", config)
    assert issue.path == f"{ENTRA_KEY}.{path}"
    assert fragment in issue.message


@pytest.mark.parametrize("value", ["db-operators", ["db-operators"]])
def test_an_entra_group_that_is_not_a_mapping_is_refused(value: Any) -> None:
    config = _config("dev-azure-westeurope", tenancy__entraAdminGroup=value)
    issue = _only_issue("dev-azure-westeurope", config)
    assert issue.path == ENTRA_KEY and "expected a mapping" in issue.message


def test_a_display_name_counts_bytes_not_characters() -> None:
    # 21 three-byte characters fit (63 bytes); one more does not.
    fits = {"objectId": ENTRA_GROUP["objectId"], "displayName": "\u20ac" * 21}
    config = _config("dev-azure-westeurope", tenancy__entraAdminGroup=fits)
    assert parse_stack_settings("dev-azure-westeurope", config, FILE).entra_admin_group
    config["tenancy:entraAdminGroup"] = {**fits, "displayName": "\u20ac" * 22}
    assert "63 bytes" in _only_issue("dev-azure-westeurope", config).message


# --- existing AWS networking ---------------------------------------------------------------

AWS_NETWORK = {"vpcId": "vpc-0abc", "privateSubnetIds": ["subnet-a", "subnet-b"]}


def test_existing_aws_networking_is_kept_as_given() -> None:
    network = {**AWS_NETWORK, "allowedCidrs": ["10.20.0.0/16"]}
    result = parse_stack_settings("dev-aws-eu-central-1", _config(tenancy__network=network), FILE)
    assert result.network == network


def test_an_empty_network_mapping_means_a_new_private_network() -> None:
    result = parse_stack_settings("dev-aws-eu-central-1", _config(tenancy__network={}), FILE)
    assert result.network == {}


def test_aws_network_without_a_vpc_id_is_refused() -> None:
    issue = _only_issue(
        "dev-aws-eu-central-1", _config(tenancy__network={"privateSubnetIds": ["a", "b"]})
    )
    assert issue.path == "config.tenancy:network.vpcId"
    assert "vpc-" in issue.hint


@pytest.mark.parametrize("subnets", [["subnet-a"], "subnet-a,subnet-b", ["subnet-a", ""], None])
def test_aws_network_needs_two_private_subnets(subnets: Any) -> None:
    network = {**AWS_NETWORK, "privateSubnetIds": subnets}
    issue = _only_issue("dev-aws-eu-central-1", _config(tenancy__network=network))
    assert issue.path == "config.tenancy:network.privateSubnetIds"
    assert "two or more availability zones" in issue.hint


@pytest.mark.parametrize("cidrs", [["0.0.0.0/0"], ["10.0.0.0/8", "8.8.8.0/24"], [], ["x"]])
def test_aws_network_may_allow_only_private_address_space(cidrs: Any) -> None:
    network = {**AWS_NETWORK, "allowedCidrs": cidrs}
    issue = _only_issue("dev-aws-eu-central-1", _config(tenancy__network=network))
    assert issue.path == "config.tenancy:network.allowedCidrs"
    assert issue.message == f"expected a list of private CIDR blocks, got {cidrs!r}"
    assert "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16" in issue.hint


def test_aws_network_with_an_unknown_key_is_refused() -> None:
    network = {**AWS_NETWORK, "subnetIds": ["a", "b"]}
    issue = _only_issue("dev-aws-eu-central-1", _config(tenancy__network=network))
    assert issue.path == "config.tenancy:network.subnetIds"
    assert "privateSubnetIds" in issue.hint


# --- the cell against the catalog ----------------------------------------------------------

DB = {"min_capacity": 1, "max_capacity": 8, "backup_retention_days": 7}


def _tier(isolation: str) -> Tier:
    return Tier.model_validate({"isolation": isolation, "database": DB})


ZONES: dict[str, Any] = {
    "eu": {"aws": ["eu-central-1", "eu-west-1"]},
    "us": {"aws": ["us-east-1"], "azure": ["eastus"]},
}


def _tenant(tenant_id: str, residency: str = "eu", **extra: Any) -> Tenant:
    fields: dict[str, Any] = {
        "id": tenant_id,
        "name": tenant_id,
        "tier": "enterprise",
        "cloud": "aws",
        "region": "eu-central-1",
        "residency": residency,
        **extra,
    }
    return Tenant(**fields)


def _catalog(*tenants: Tenant) -> Catalog:
    return Catalog(
        version=1,
        residency_zones=ZONES,
        tiers={"enterprise": _tier("silo")},
        tenants=list(tenants),
    )


def _settings(stack: str = "dev-aws-eu-central-1", residency: str = "eu") -> StackSettings:
    return parse_stack_settings(stack, _config(stack, tenancy__residency=residency), FILE)


def _cell_issue(settings_: StackSettings, catalog: Catalog) -> Issue:
    with pytest.raises(InputError) as caught:
        check_cell_against_catalog(settings_, catalog, FILE)
    (issue,) = caught.value.issues
    assert issue.file == FILE
    return issue


def test_a_cell_inside_its_residency_zone_passes() -> None:
    check_cell_against_catalog(_settings(), _catalog(_tenant("acme")), FILE)


def test_an_unknown_residency_zone_lists_the_catalogs_zones() -> None:
    issue = _cell_issue(_settings(residency="apac"), _catalog())
    assert issue.path == "config.tenancy:residency"
    assert issue.message == "unknown residency zone 'apac'"
    assert issue.hint == "use one of: eu, us"


def test_a_region_outside_the_zone_lists_the_zones_regions() -> None:
    issue = _cell_issue(_settings("dev-aws-us-east-1"), _catalog())
    assert issue.path == "config.aws:region"
    assert issue.message == "region 'us-east-1' is outside residency zone 'eu'"
    assert issue.hint == "use a region of the zone: eu-central-1, eu-west-1"


def test_a_zone_without_the_cells_cloud_says_it_has_no_regions() -> None:
    issue = _cell_issue(_settings("dev-azure-westeurope"), _catalog())
    assert issue.path == "config.azure-native:location"
    assert issue.hint == "use a region of the zone: (none)"


def test_a_tenant_of_another_zone_in_the_cells_region_is_refused() -> None:
    # Its data would be deployed by a cell that claims a residency the tenant did not choose.
    catalog = _catalog(_tenant("acme"), _tenant("globex", residency="us"))
    issue = _cell_issue(_settings(), catalog)
    assert issue.path == "config.tenancy:residency"
    assert issue.message == (
        "tenants ['globex'] are in this region but declare another residency zone"
    )
    assert "cell of their zone" in issue.hint


def test_an_offboarded_tenant_of_another_zone_is_not_a_stray() -> None:
    catalog = _catalog(_tenant("acme"), _tenant("globex", residency="us", status="offboarded"))
    check_cell_against_catalog(_settings(), catalog, FILE)


def test_a_suspended_tenant_of_another_zone_is_still_a_stray() -> None:
    catalog = _catalog(_tenant("globex", residency="us", status="suspended"))
    assert "globex" in _cell_issue(_settings(), catalog).message


def test_tenants_of_other_regions_or_clouds_are_not_this_cells_concern() -> None:
    catalog = _catalog(
        _tenant("globex", residency="us", region="us-east-1"),
        _tenant("initech", residency="us", cloud="azure", region="eastus"),
    )
    check_cell_against_catalog(_settings(), catalog, FILE)
