"""Azure bridge and pool tiers: a shared Flexible Server (shard) with one key per shard.

Bridge and pool differ only inside PostgreSQL (schemas vs row-level security);
the server they share is built here for both.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.args import ServerArgs
from components.azure.flexible_server import CellFacts, encrypted_flexible_server


@dataclass(frozen=True)
class ShardArgs:
    shard: str
    tenant_ids: tuple[str, ...]
    server: ServerArgs
    key_name: str
    cell: CellFacts


class Shard(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    secret_uri: pulumi.Output[str]
    key_uri: pulumi.Output[str]

    def __init__(self, name: str, args: ShardArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:azure:Shard", name, None, opts)
        key, database = encrypted_flexible_server(self, name, args.server, args.key_name, args.cell)
        self.endpoint = database.endpoint
        self.secret_uri = database.secret_uri
        self.key_uri = key.key_uri
        self.register_outputs(
            {"endpoint": self.endpoint, "secret_uri": self.secret_uri, "key_uri": self.key_uri}
        )
