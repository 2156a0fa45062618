"""Azure silo tier: one tenant, its own Key Vault key and identity, its own Flexible Server."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.args import ServerArgs
from components.azure.flexible_server import CellFacts, encrypted_flexible_server


@dataclass(frozen=True)
class SiloTenantArgs:
    tenant_id: str
    server: ServerArgs
    key_name: str
    cell: CellFacts


class SiloTenant(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    secret_uri: pulumi.Output[str]
    key_uri: pulumi.Output[str]

    def __init__(self, name: str, args: SiloTenantArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:azure:SiloTenant", name, None, opts)
        key, database = encrypted_flexible_server(self, name, args.server, args.key_name, args.cell)
        self.endpoint = database.endpoint
        self.secret_uri = database.secret_uri
        self.key_uri = key.key_uri
        self.register_outputs(
            {"endpoint": self.endpoint, "secret_uri": self.secret_uri, "key_uri": self.key_uri}
        )
