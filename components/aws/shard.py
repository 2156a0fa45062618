"""AWS bridge and pool tiers: a shared Aurora cluster (shard) with one CMK per shard.

Bridge and pool differ only inside PostgreSQL (schemas vs row-level security, see
components/model/sqlplan.py); the server they share is built here for both.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.args import ServerArgs
from components.aws.aurora import encrypted_aurora
from components.model.catalog import DatabaseProfile
from components.tier_server import TierServer


@dataclass(frozen=True)
class ShardArgs:
    shard: str
    server: ServerArgs
    key_alias: str
    # Read replicas, their CPU target and scale windows; None: no replica autoscaling.
    database: DatabaseProfile | None = None


class Shard(TierServer):
    def __init__(self, name: str, args: ShardArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:aws:Shard", name, None, opts)
        purpose = f"{args.server.isolation} shard {args.shard}"
        built = encrypted_aurora(self, name, args.server, args.key_alias, purpose, args.database)
        self._complete(name, args.server, built)
