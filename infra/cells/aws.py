"""An AWS cell: private network, then one Aurora server per silo tenant and per shard."""

from __future__ import annotations

from components.args import NetworkArgs, ServerArgs
from components.aws.network import PrivateNetwork, PrivateNetworkArgs
from components.aws.shard import Shard, ShardArgs
from components.aws.silo import SiloTenant, SiloTenantArgs
from components.model.blueprint import Blueprint, ServerSpec
from components.model.stack import StackSettings
from components.model.tags import resource_tags
from components.tier_server import TierServer
from infra.servers import DeployedServers, deploy_servers


def _network(settings: StackSettings, blueprint: Blueprint) -> NetworkArgs:
    """Existing private subnets from the stack config, else a new private-only VPC."""
    given = settings.network
    if given.get("privateSubnetIds"):
        return NetworkArgs(
            network_id=given["vpcId"],
            subnet_ids=tuple(given["privateSubnetIds"]),
            allowed_cidrs=tuple(given.get("allowedCidrs", ("10.0.0.0/8",))),
        )
    tags = resource_tags(
        "aws",
        tenant="shared",
        tier="cell",
        isolation="network",
        residency=blueprint.residency,
        compliance=(),
        environment=settings.cell.environment,
    )
    network = PrivateNetwork(
        "cell-network", PrivateNetworkArgs(region=settings.cell.region, tags=tags)
    )
    return network.network


def deploy(settings: StackSettings, blueprint: Blueprint) -> DeployedServers:
    network = _network(settings, blueprint)

    def build(spec: ServerSpec, args: ServerArgs) -> TierServer:
        if spec.is_silo:
            return SiloTenant(
                spec.component_name, SiloTenantArgs(spec.owner, args, spec.key_name, spec.database)
            )
        return Shard(spec.component_name, ShardArgs(spec.owner, args, spec.key_name, spec.database))

    return deploy_servers(settings, blueprint, network, build)
