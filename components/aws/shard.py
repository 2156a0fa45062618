"""AWS bridge and pool tiers: a shared Aurora cluster (shard) with one CMK per shard.

Bridge and pool differ only inside PostgreSQL (schemas vs row-level security, see
components/postgres/sqlplan.py); the server they share is built here for both.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.args import ServerArgs
from components.aws.aurora import CellFacts, encrypted_aurora
from components.tier_server import TierServer


@dataclass(frozen=True)
class ShardArgs:
    server: ServerArgs  # ``server.owner`` is the shard name
    key_name: str  # the server's own key (alias on AWS), from the naming module
    cell: CellFacts  # what the cell's servers share


class Shard(TierServer):
    def __init__(self, name: str, args: ShardArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:aws:Shard", name, None, opts)
        purpose = f"{args.server.isolation} shard {args.server.owner}"
        built = encrypted_aurora(self, name, args.server, args.key_name, purpose, args.cell)
        self._complete(name, args.server, built)
