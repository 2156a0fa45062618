"""A private VNet for a cell whose stack config names no delegated subnet or DNS zone."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure

from components.args import NetworkArgs

FLEXIBLE_SERVER_DELEGATION = "Microsoft.DBforPostgreSQL/flexibleServers"


@dataclass(frozen=True)
class PrivateNetworkArgs:
    resource_group_name: Any  # Input[str]
    location: str
    vnet_name: str
    dns_zone_name: str  # must end in ".postgres.database.azure.com" for VNet-integrated servers
    tags: Mapping[str, str]
    address_space: str = "10.50.0.0/16"


class PrivateNetwork(pulumi.ComponentResource):
    """VNet + a subnet delegated to Flexible Server + a private DNS zone linked to the VNet.

    VNet integration is what keeps the servers off the internet: a delegated-subnet
    server has no public endpoint at all.
    """

    network: NetworkArgs

    def __init__(
        self, name: str, args: PrivateNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:azure:PrivateNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        subnet_cidr = next(ipaddress.ip_network(args.address_space).subnets(new_prefix=24))
        vnet = azure.network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=args.vnet_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            address_space={"address_prefixes": [args.address_space]},
            tags=dict(args.tags),
            opts=child,
        )
        subnet = azure.network.Subnet(
            f"{name}-postgres",
            subnet_name="postgres",
            virtual_network_name=vnet.name,
            resource_group_name=args.resource_group_name,
            address_prefix=str(subnet_cidr),
            default_outbound_access=False,  # a database initiates nothing to the internet
            delegations=[{"name": "flexible-server", "service_name": FLEXIBLE_SERVER_DELEGATION}],
            opts=child,
        )
        zone = azure.privatedns.PrivateZone(
            f"{name}-dns",
            private_zone_name=args.dns_zone_name,
            resource_group_name=args.resource_group_name,
            location="global",  # private DNS zones are global objects; they hold no tenant data
            tags=dict(args.tags),
            opts=child,
        )
        link = azure.privatedns.VirtualNetworkLink(
            f"{name}-dns-link",
            virtual_network_link_name=args.vnet_name,
            private_zone_name=zone.name,
            resource_group_name=args.resource_group_name,
            location="global",
            virtual_network={"id": vnet.id},
            registration_enabled=False,
            tags=dict(args.tags),
            opts=child,
        )
        # Servers must wait for the link: a server created before it cannot resolve its own name.
        linked_zone_id = pulumi.Output.all(zone.id, link.id).apply(lambda ids: ids[0])
        self.network = NetworkArgs(
            network_id=vnet.id,
            subnet_ids=(subnet.id,),
            allowed_cidrs=(args.address_space,),
            private_dns_zone_id=linked_zone_id,
        )
        self.register_outputs(
            {"vnet_id": vnet.id, "subnet_id": subnet.id, "private_dns_zone_id": linked_zone_id}
        )
