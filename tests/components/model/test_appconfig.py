"""appconfig: stack config ``tenancy:app`` -> the Kubernetes workload settings of a cell."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.model.appconfig import (
    DEFAULT_IMAGE,
    DEFAULT_PORT,
    KNOWN_KEYS,
    AppSettings,
    parse_app_settings,
)
from components.model.errors import InputError, Issue

FILE = "stacks/Pulumi.dev-aws-eu-central-1.yaml"
ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/0A1B2C3D"
ISSUER = "https://westeurope.oic.prod-aks.azure.com/00000000-0000/11111111-1111/"


def _issues(raw: dict[str, Any], cloud: str | None = "aws") -> list[Issue]:
    with pytest.raises(InputError) as caught:
        parse_app_settings(raw, FILE, cloud)
    assert all(issue.file == FILE and issue.hint for issue in caught.value.issues)
    return caught.value.issues


def _only_issue(raw: dict[str, Any], cloud: str | None = "aws") -> Issue:
    (issue,) = _issues(raw, cloud)
    return issue


def test_no_settings_give_the_secure_defaults() -> None:
    app = parse_app_settings({}, FILE, "aws")
    assert app == AppSettings()
    assert app.image == DEFAULT_IMAGE
    assert app.port == DEFAULT_PORT
    assert app.ingress_namespace == "ingress-nginx"
    assert app.database_cidrs == ("10.0.0.0/8",)
    assert app.identity_endpoint_cidrs is None


def test_every_documented_setting_is_read() -> None:
    app = parse_app_settings(
        {
            "image": "ghcr.io/acme/tenant-api:1.4.2",
            "port": 9090,
            "ingressNamespace": "edge",
            "databaseCidrs": ["10.20.0.0/16", "172.16.0.0/12"],
            "identityEndpointCidrs": ["10.20.8.0/24"],
            "oidcProviderArn": ARN,
            "kubeContext": "prod-eu",
        },
        FILE,
        "aws",
    )
    assert app == AppSettings(
        image="ghcr.io/acme/tenant-api:1.4.2",
        port=9090,
        ingress_namespace="edge",
        database_cidrs=("10.20.0.0/16", "172.16.0.0/12"),
        identity_endpoint_cidrs=("10.20.8.0/24",),
        oidc_provider_arn=ARN,
        kube_context="prod-eu",
    )


def test_azure_reads_the_oidc_issuer_url() -> None:
    app = parse_app_settings({"oidcIssuerUrl": ISSUER}, FILE, "azure")
    assert app.oidc_issuer_url == ISSUER


def test_an_unknown_setting_is_named_with_the_allowed_ones() -> None:
    issue = _only_issue({"replicas": 3})
    assert issue.path == "config.tenancy:app.replicas"
    assert issue.message == "unknown app setting"
    assert issue.hint == f"allowed: {', '.join(KNOWN_KEYS)}"


def test_every_problem_is_reported_at_once() -> None:
    issues = _issues({"port": 80, "image": "nginx:latest", "databaseCidrs": ["8.8.8.0/24"]})
    assert [issue.path for issue in issues] == [
        "config.tenancy:app.port",
        "config.tenancy:app.image",
        "config.tenancy:app.databaseCidrs",
    ]


@pytest.mark.parametrize("port", [80, 1023, 65536, 0, -1, "http", True, 8080.5, None])
def test_a_port_outside_the_unprivileged_range_is_refused(port: Any) -> None:
    issue = _only_issue({"port": port})
    assert issue.path == "config.tenancy:app.port"
    assert issue.message == f"port {port!r} is not an unprivileged TCP port"
    assert "1024-65535" in issue.hint and "non-root" in issue.hint


@pytest.mark.parametrize("port", [1024, 8080, 65535])
def test_an_unprivileged_port_is_accepted(port: int) -> None:
    assert parse_app_settings({"port": port}, FILE, "aws").port == port


def test_a_port_written_as_a_string_of_digits_becomes_an_int() -> None:
    # Pulumi passes config values as strings.
    assert parse_app_settings({"port": "9090"}, FILE, "aws").port == 9090


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/acme/tenant-api:1.4.2",
        "registry.example.com:5000/team/api:2024.06.01",
        "ghcr.io/acme/tenant-api@sha256:" + "a" * 64,
        "ghcr.io/acme/tenant-api:1.4.2@sha256:" + "0123456789abcdef" * 4,
        "nginx:1.25",
    ],
)
def test_a_pinned_image_reference_is_accepted(image: str) -> None:
    assert parse_app_settings({"image": image}, FILE, "aws").image == image


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/acme/tenant-api:latest",
        "nginx",  # no tag: the registry serves :latest
        "ghcr.io/acme/tenant-api",
        "registry.example.com:5000/team/api",  # the port is not a tag
        "ghcr.io/acme/tenant-api@sha256:short",
        "ghcr.io/acme/tenant api:1.0",
        "ghcr.io/acme/tenant-api:1.0\n",
        "ghcr.io/acme/tënant-api:1.0",  # references are ASCII
        "",
        42,
    ],
)
def test_an_unpinned_or_malformed_image_is_refused(image: Any) -> None:
    issue = _only_issue({"image": image})
    assert issue.path == "config.tenancy:app.image"
    assert issue.message == f"image {image!r} is not a pinned image reference"
    assert issue.hint == "use registry/name:version or @sha256:digest"


@pytest.mark.parametrize(
    "cidrs",
    [["8.8.8.0/24"], ["10.0.0.0/8", "0.0.0.0/0"], [], "10.0.0.0/8", ["10.0.0.0/33"], ["x"]],
)
def test_database_cidrs_must_be_a_list_of_private_ranges(cidrs: Any) -> None:
    issue = _only_issue({"databaseCidrs": cidrs})
    assert issue.path == "config.tenancy:app.databaseCidrs"
    assert issue.message == f"{cidrs!r} is not a list of private CIDRs"
    assert issue.hint == "list the private ranges of the database subnets"


def test_database_cidrs_are_normalised() -> None:
    app = parse_app_settings({"databaseCidrs": ["192.168.1.0/24"]}, FILE, "aws")
    assert app.database_cidrs == ("192.168.1.0/24",)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::12345:oidc-provider/oidc.eks.amazonaws.com/id/X",  # short account
        "arn:aws:iam::123456789012:role/tenant",  # a role, not a provider
        "oidc.eks.eu-central-1.amazonaws.com/id/0A1B",
        42,
    ],
)
def test_an_oidc_provider_arn_must_be_an_iam_oidc_provider(arn: Any) -> None:
    issue = _only_issue({"oidcProviderArn": arn})
    assert issue.path == "config.tenancy:app.oidcProviderArn"
    assert issue.message == f"{arn!r} is not an IAM OIDC provider ARN"
    assert "EKS cluster's IAM OIDC provider" in issue.hint


def test_an_oidc_provider_arn_of_another_aws_partition_is_accepted() -> None:
    arn = "arn:aws-us-gov:iam::123456789012:oidc-provider/oidc.eks.us-gov-west-1.amazonaws.com/id/A"
    assert parse_app_settings({"oidcProviderArn": arn}, FILE, "aws").oidc_provider_arn == arn


@pytest.mark.parametrize("issuer", ["http://issuer.example.com/", "westeurope.oic", 7])
def test_an_oidc_issuer_must_be_an_https_url(issuer: Any) -> None:
    issue = _only_issue({"oidcIssuerUrl": issuer}, "azure")
    assert issue.path == "config.tenancy:app.oidcIssuerUrl"
    assert issue.message == f"{issuer!r} is not an https issuer URL"
    assert "oidcIssuerProfile.issuerURL" in issue.hint


def test_aws_identity_endpoint_may_be_a_private_range() -> None:
    app = parse_app_settings({"identityEndpointCidrs": ["10.20.8.0/24"]}, FILE, "aws")
    assert app.identity_endpoint_cidrs == ("10.20.8.0/24",)


def test_aws_identity_endpoint_must_be_private_because_sts_is_a_vpc_endpoint() -> None:
    issue = _only_issue({"identityEndpointCidrs": ["0.0.0.0/0"]}, "aws")
    assert issue.path == "config.tenancy:app.identityEndpointCidrs"
    assert issue.message == "['0.0.0.0/0'] is not a list of private CIDRs"
    assert "STS interface VPC endpoint" in issue.hint


def test_azure_identity_endpoint_may_be_entra_ids_public_ranges() -> None:
    app = parse_app_settings(
        {"identityEndpointCidrs": ["20.190.128.0/18", "40.126.0.0/18"]}, FILE, "azure"
    )
    assert app.identity_endpoint_cidrs == ("20.190.128.0/18", "40.126.0.0/18")


def test_azure_identity_endpoint_may_be_everything_because_rfc1918_is_excepted() -> None:
    app = parse_app_settings({"identityEndpointCidrs": ["0.0.0.0/0"]}, FILE, "azure")
    assert app.identity_endpoint_cidrs == ("0.0.0.0/0",)


@pytest.mark.parametrize("cidr", ["10.0.0.0/8", "172.16.5.0/24", "192.168.0.0/16"])
def test_azure_identity_endpoint_may_not_be_a_private_range(cidr: str) -> None:
    issue = _only_issue({"identityEndpointCidrs": ["20.190.128.0/18", cidr]}, "azure")
    assert issue.path == "config.tenancy:app.identityEndpointCidrs"
    assert issue.message.endswith("includes a private range")
    assert "east-west" in issue.hint


def test_gcp_identity_endpoint_is_not_settable() -> None:
    issue = _only_issue({"identityEndpointCidrs": ["169.254.169.254/32"]}, "gcp")
    assert issue.path == "config.tenancy:app.identityEndpointCidrs"
    assert issue.message == "GKE Workload Identity's token endpoint has fixed addresses"
    assert issue.hint == "remove it: gcp always allows 169.254.169.254:80 and 169.254.169.252:988"


@pytest.mark.parametrize("cloud", ["aws", "azure"])
@pytest.mark.parametrize("value", ["10.0.0.0/8", [], ["not-a-cidr"], [None], {"a": 1}])
def test_identity_endpoint_must_be_a_non_empty_list_of_cidrs(cloud: str, value: Any) -> None:
    issue = _only_issue({"identityEndpointCidrs": value}, cloud)
    assert issue.path == "config.tenancy:app.identityEndpointCidrs"
    assert issue.message == f"{value!r} is not a list of CIDRs"
    assert issue.hint == "list CIDRs like 10.20.0.0/16"


def test_without_a_cloud_identity_cidrs_are_only_parsed() -> None:
    # The cloud-specific rules apply once the cell is known (stack.py passes it).
    app = parse_app_settings({"identityEndpointCidrs": ["0.0.0.0/0"]}, FILE)
    assert app.identity_endpoint_cidrs == ("0.0.0.0/0",)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=-(2**20), max_value=2**20))
def test_a_port_is_accepted_exactly_when_unprivileged(port: int) -> None:
    if 1024 <= port <= 65535:
        assert parse_app_settings({"port": port}, FILE, "aws").port == port
    else:
        assert _only_issue({"port": port}).path == "config.tenancy:app.port"
