"""GCP bridge and pool tiers: a shared Cloud SQL instance (shard) with one CMEK per shard.

Bridge and pool differ only inside PostgreSQL (schemas vs row-level security);
the server they share is built here for both.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.args import ServerArgs
from components.gcp.cloudsql import CellFacts, encrypted_cloudsql


@dataclass(frozen=True)
class ShardArgs:
    shard: str
    tenant_ids: tuple[str, ...]
    server: ServerArgs
    key_name: str
    cell: CellFacts


class Shard(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    secret_id: pulumi.Output[str]
    key_id: pulumi.Output[str]

    def __init__(self, name: str, args: ShardArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:gcp:Shard", name, None, opts)
        key, database = encrypted_cloudsql(self, name, args.server, args.key_name, args.cell)
        self.endpoint = database.endpoint
        self.secret_id = database.secret_id
        self.key_id = key.key_id
        self.register_outputs(
            {"endpoint": self.endpoint, "secret_id": self.secret_id, "key_id": self.key_id}
        )
