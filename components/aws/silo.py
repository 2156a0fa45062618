"""AWS silo tier: one tenant, its own CMK and its own Aurora cluster."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.args import ServerArgs
from components.aws.aurora import CellFacts, encrypted_aurora
from components.tier_server import TierServer


@dataclass(frozen=True)
class SiloTenantArgs:
    server: ServerArgs  # ``server.owner`` is the tenant id
    key_name: str  # the server's own key (alias on AWS), from the naming module
    cell: CellFacts  # what the cell's servers share


class SiloTenant(TierServer):
    def __init__(self, name: str, args: SiloTenantArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:aws:SiloTenant", name, None, opts)
        purpose = f"silo tenant {args.server.owner}"
        built = encrypted_aurora(self, name, args.server, args.key_name, purpose, args.cell)
        self._complete(name, args.server, built)
