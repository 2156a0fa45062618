"""identity_egress: the one narrow egress allow a silo pod needs to reach its token endpoint."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.model.identity_egress import RFC1918, EgressRule, identity_egress

CELL_PRIVATE = ("10.20.0.0/16",)


def test_aws_defaults_to_https_to_the_cells_private_ranges() -> None:
    # The STS interface VPC endpoint lives in the cell's private subnets.
    assert identity_egress("aws", None, ["10.20.0.0/16", "10.30.0.0/16"]) == (
        EgressRule("10.20.0.0/16", (443,)),
        EgressRule("10.30.0.0/16", (443,)),
    )


def test_aws_configured_ranges_replace_the_cell_default() -> None:
    assert identity_egress("aws", ["10.20.8.0/24"], CELL_PRIVATE) == (
        EgressRule("10.20.8.0/24", (443,)),
    )


def test_aws_rules_except_nothing() -> None:
    (rule,) = identity_egress("aws", None, ["10.0.0.0/8"])
    assert rule.except_cidrs == ()


def test_an_empty_configured_list_falls_back_to_the_default() -> None:
    assert identity_egress("aws", [], CELL_PRIVATE) == identity_egress("aws", None, CELL_PRIVATE)
    assert identity_egress("azure", [], CELL_PRIVATE) == identity_egress(
        "azure", None, CELL_PRIVATE
    )


def test_azure_defaults_to_https_anywhere_except_every_rfc1918_range() -> None:
    # Entra ID has no private address; excepting RFC 1918 keeps east-west traffic closed.
    assert identity_egress("azure", None, CELL_PRIVATE) == (
        EgressRule("0.0.0.0/0", (443,), ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")),
    )


def test_azure_ignores_the_cells_private_ranges() -> None:
    assert identity_egress("azure", None, ["10.20.0.0/16"]) == identity_egress(
        "azure", None, ["192.168.0.0/16"]
    )


def test_azure_public_range_without_private_space_excepts_nothing() -> None:
    (rule,) = identity_egress("azure", ["20.190.128.0/18"], CELL_PRIVATE)
    assert rule == EgressRule("20.190.128.0/18", (443,), ())


@pytest.mark.parametrize(
    ("cidr", "excepted"),
    [
        ("8.0.0.0/5", ("10.0.0.0/8",)),  # 8.0.0.0-15.255.255.255
        ("172.0.0.0/8", ("172.16.0.0/12",)),
        ("128.0.0.0/1", ("172.16.0.0/12", "192.168.0.0/16")),
        ("0.0.0.0/1", ("10.0.0.0/8",)),
    ],
)
def test_azure_excepts_exactly_the_rfc1918_ranges_inside_a_configured_range(
    cidr: str, excepted: tuple[str, ...]
) -> None:
    (rule,) = identity_egress("azure", [cidr], CELL_PRIVATE)
    assert rule.except_cidrs == excepted


def test_azure_ipv6_range_gets_no_ipv4_excepts() -> None:
    # A NetworkPolicy 'except' must lie inside its cidr, so an IPv4 range cannot go under ::/0.
    (rule,) = identity_egress("azure", ["2603:1000::/24"], CELL_PRIVATE)
    assert rule.except_cidrs == ()


def test_gcp_allows_only_the_gke_metadata_server_addresses() -> None:
    assert identity_egress("gcp", None, CELL_PRIVATE) == (
        EgressRule("169.254.169.254/32", (80,)),
        EgressRule("169.254.169.252/32", (988,)),
    )


def test_gcp_ignores_configured_ranges_because_gke_fixes_them() -> None:
    # appconfig rejects identityEndpointCidrs on GCP; even if passed, nothing else opens.
    assert identity_egress("gcp", ["0.0.0.0/0"], CELL_PRIVATE) == identity_egress(
        "gcp", None, CELL_PRIVATE
    )


def test_an_unknown_cloud_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown cloud 'oracle'"):
        identity_egress("oracle", None, CELL_PRIVATE)


ipv4_networks = st.builds(
    lambda address, prefix: str(ipaddress.ip_network(f"{address}/{prefix}", strict=False)),
    st.ip_addresses(v=4),
    st.integers(0, 32),
)


@settings(max_examples=50, deadline=None)
@given(st.lists(ipv4_networks, min_size=1, max_size=4))
def test_azure_excepts_lie_inside_their_range_and_are_rfc1918(cidrs: list[str]) -> None:
    for rule in identity_egress("azure", cidrs, CELL_PRIVATE):
        network = ipaddress.ip_network(rule.cidr)
        assert rule.ports == (443,)
        assert set(rule.except_cidrs) <= set(RFC1918)
        for excepted in rule.except_cidrs:
            assert ipaddress.ip_network(excepted).subnet_of(network)  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(st.lists(ipv4_networks, min_size=1, max_size=4), st.ip_addresses(v=4))
def test_azure_rules_never_reach_an_rfc1918_address_that_lies_under_an_except(
    cidrs: list[str], address: ipaddress.IPv4Address
) -> None:
    # What the rule lets through: inside cidr and outside every except.
    private = any(address in ipaddress.ip_network(r) for r in RFC1918)
    for rule in identity_egress("azure", cidrs, CELL_PRIVATE):
        allowed = address in ipaddress.ip_network(rule.cidr) and not any(
            address in ipaddress.ip_network(e) for e in rule.except_cidrs
        )
        # Configured ranges that are themselves private are refused earlier (appconfig);
        # for every other range, a private address is never allowed.
        if not ipaddress.ip_network(rule.cidr).is_private:
            assert not (allowed and private)
