"""A private-only VPC for a cell whose stack config names no existing subnets."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.args import NetworkArgs


@dataclass(frozen=True)
class PrivateNetworkArgs:
    region: str
    tags: Mapping[str, str]
    cidr_block: str = "10.40.0.0/16"
    zone_count: int = 3  # Aurora needs subnets in at least two AZs; three survive an AZ loss


class PrivateNetwork(pulumi.ComponentResource):
    """VPC with private subnets only: no internet gateway, no NAT, no public IPs."""

    network: NetworkArgs

    def __init__(
        self, name: str, args: PrivateNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:aws:PrivateNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr_block,
            enable_dns_support=True,  # private endpoints resolve only with VPC DNS on
            enable_dns_hostnames=True,
            region=args.region,
            tags={**args.tags, "Name": name},
            opts=child,
        )
        subnets = [
            aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                cidr_block=str(cidr),
                availability_zone=f"{args.region}{zone}",
                map_public_ip_on_launch=False,
                region=args.region,
                tags={**args.tags, "Name": f"{name}-private-{zone}", "tier": "private"},
                opts=child,
            )
            for zone, cidr in zip(
                "abc"[: args.zone_count],
                ipaddress.ip_network(args.cidr_block).subnets(new_prefix=20),
                strict=False,
            )
        ]
        self.network = NetworkArgs(
            network_id=vpc.id,
            subnet_ids=[subnet.id for subnet in subnets],
            allowed_cidrs=(args.cidr_block,),
        )
        self.register_outputs({"vpc_id": vpc.id, "subnet_ids": [s.id for s in subnets]})
