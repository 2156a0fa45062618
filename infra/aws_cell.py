"""An AWS cell: private network, then one Aurora server per silo tenant and per shard."""

from __future__ import annotations

from typing import Any

from components.args import NetworkArgs
from components.aws.network import PrivateNetwork, PrivateNetworkArgs
from components.aws.shard import Shard, ShardArgs
from components.aws.silo import SiloTenant, SiloTenantArgs
from components.model.blueprint import Blueprint
from components.model.stack import StackSettings
from components.model.tags import resource_tags
from infra.servers import server_args


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


def deploy(settings: StackSettings, blueprint: Blueprint) -> dict[str, Any]:
    network = _network(settings, blueprint)
    connections: dict[str, Any] = {}
    for spec in blueprint.servers:
        args = server_args(spec, settings, network)
        if spec.is_silo:
            server: SiloTenant | Shard = SiloTenant(
                f"silo-{spec.owner}", SiloTenantArgs(spec.owner, args, spec.key_name, spec.database)
            )
        else:
            server = Shard(
                f"shard-{spec.owner}",
                ShardArgs(spec.owner, spec.tenant_ids, args, spec.key_name, spec.database),
            )
        for tenant_id in spec.tenant_ids:
            connections[tenant_id] = {
                "endpoint": server.endpoint,
                "database": args.database_name,
                "isolation": spec.isolation,
                "shard": None if spec.is_silo else spec.owner,
                # A reference to the managed secret, never the password itself.
                "secret_arn": server.secret_arn,
            }
    return connections
