"""A private VPC with private services access, for a cell whose stack config names no network."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.args import NetworkArgs

PRIVATE_SERVICES_PREFIX_LENGTH = 16  # room for many Cloud SQL instances (Google recommends /16)


@dataclass(frozen=True)
class PrivateNetworkArgs:
    project: str | None
    network_name: str  # from the naming module
    allowed_cidrs: tuple[str, ...] = ("10.0.0.0/8",)


class PrivateNetwork(pulumi.ComponentResource):
    """VPC without default subnets, peered to Google's service network for Cloud SQL.

    Cloud SQL instances get only a private IP in the reserved range; nothing here
    routes to the internet.
    """

    network: NetworkArgs

    def __init__(
        self, name: str, args: PrivateNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:gcp:PrivateNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        vpc = gcp.compute.Network(
            f"{name}-vpc",
            name=args.network_name,
            project=args.project,
            auto_create_subnetworks=False,  # no default subnets in every region of the world
            routing_mode="REGIONAL",
            delete_default_routes_on_create=True,  # no default route to the internet gateway
            opts=child,
        )
        reserved = gcp.compute.GlobalAddress(
            f"{name}-private-services",
            name=f"{args.network_name}-psa",
            project=args.project,
            network=vpc.id,
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            prefix_length=PRIVATE_SERVICES_PREFIX_LENGTH,
            opts=child,
        )
        peering = gcp.servicenetworking.Connection(
            f"{name}-peering",
            network=vpc.id,
            service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[reserved.name],
            opts=child,
        )
        # Instances must wait for the peering: without it they cannot get a private IP.
        peered_network = pulumi.Output.all(vpc.id, peering.id).apply(lambda ids: ids[0])
        self.network = NetworkArgs(network_id=peered_network, allowed_cidrs=args.allowed_cidrs)
        self.register_outputs({"network_id": peered_network})
