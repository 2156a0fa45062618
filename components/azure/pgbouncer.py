"""Azure Database for PostgreSQL Flexible Server's built-in PgBouncer, set by server parameters.

Clients connect to the server's own host name on port 6432. Azure offers the
built-in PgBouncer on General Purpose and Memory Optimized only, never on
Burstable (tenancy's servers are General Purpose, ``flexible_server.sku_for``).
Azure's PgBouncer is 1.25: ``pgbouncer.max_prepared_statements`` (default 0) is
set explicitly to 0, so apps use one client setting on every cloud (prepared
statements off, psycopg ``prepare_threshold=None``); raising it is safe there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure

from components.args import PoolerArgs, PoolerEndpoint

PGBOUNCER_PORT = 6432
BURSTABLE = "Burstable"


@dataclass(frozen=True)
class BuiltinPgBouncerArgs:
    server_name: Any  # Input[str]: the Flexible Server
    resource_group_name: Any  # Input[str]
    endpoint: Any  # Input[str]: the server's private host name; PgBouncer shares it
    pooler: PoolerArgs
    sku_tier: str  # the server's SKU tier: the built-in PgBouncer is not on Burstable


def pgbouncer_parameters(pooler: PoolerArgs) -> Mapping[str, str]:
    """Azure's ``pgbouncer.*`` server parameters for a tier's pooling section."""
    return {
        "pgbouncer.enabled": "true",
        "pgbouncer.pool_mode": pooler.mode.upper(),
        "pgbouncer.default_pool_size": str(pooler.default_pool_size),
        "pgbouncer.max_client_conn": str(pooler.max_client_connections),
        "pgbouncer.server_idle_timeout": str(pooler.idle_timeout_seconds),
        "pgbouncer.max_prepared_statements": "0",
    }


class BuiltinPgBouncer(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]

    def __init__(
        self, name: str, args: BuiltinPgBouncerArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:azure:BuiltinPgBouncer", name, None, opts)
        if args.sku_tier == BURSTABLE:
            raise ValueError(
                f"{name}: Azure offers no built-in PgBouncer on Burstable servers; "
                "use a General Purpose SKU or set the tier's pooling.mode to none (silo only)"
            )
        previous: pulumi.Resource | None = None
        for parameter, value in pgbouncer_parameters(args.pooler).items():
            # One at a time: Azure rejects concurrent parameter updates on a server.
            previous = azure.dbforpostgresql.Configuration(
                f"{name}-{parameter.replace('.', '-').replace('_', '-')}",
                configuration_name=parameter,
                server_name=args.server_name,
                resource_group_name=args.resource_group_name,
                value=value,
                source="user-override",
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous] if previous else []),
            )
        self.endpoint = pulumi.Output.from_input(args.endpoint)
        self.register_outputs({"endpoint": self.endpoint, "port": PGBOUNCER_PORT})

    @property
    def facts(self) -> PoolerEndpoint:
        return PoolerEndpoint(self.endpoint, PGBOUNCER_PORT)
