"""GCP silo tier: one tenant, its own Cloud KMS key, its own Cloud SQL instance."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.args import ServerArgs
from components.gcp.cloudsql import CellFacts, encrypted_cloudsql
from components.tier_server import TierServer


@dataclass(frozen=True)
class SiloTenantArgs:
    server: ServerArgs  # ``server.owner`` is the tenant id
    key_name: str  # the server's own key (alias on AWS), from the naming module
    cell: CellFacts  # what the cell's servers share


class SiloTenant(TierServer):
    def __init__(self, name: str, args: SiloTenantArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:gcp:SiloTenant", name, None, opts)
        built = encrypted_cloudsql(self, name, args.server, args.key_name, args.cell)
        self._complete(name, args.server, built)
