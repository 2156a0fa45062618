"""Azure silo tier: one tenant, its own Key Vault key and identity, its own Flexible Server."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.args import ServerArgs
from components.azure.flexible_server import CellFacts, encrypted_flexible_server, server_key_args
from components.azure.key import VaultKey
from components.tier_server import TierServer


@dataclass(frozen=True)
class SiloTenantArgs:
    server: ServerArgs  # ``server.owner`` is the tenant id
    key_name: str  # the server's own key (alias on AWS), from the naming module
    cell: CellFacts  # what the cell's servers share


class SiloTenant(TierServer):
    def __init__(self, name: str, args: SiloTenantArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:azure:SiloTenant", name, None, opts)
        built = encrypted_flexible_server(self, name, args.server, args.key_name, args.cell)
        self._complete(name, args.server, built)


@dataclass(frozen=True)
class DepartedSiloTenantArgs:
    server: ServerArgs  # the server the tenant had: names, tags and key settings
    key_name: str
    cell: CellFacts
    enabled: bool  # False once the tenant is erased


class DepartedSiloTenant(pulumi.ComponentResource):
    """What an offboarded or erased silo tenant keeps: its own Key Vault key (and its
    geo-backup key), nothing else.

    The type token and the key's logical name are the live tenant's, so the key keeps its
    URN. Disabled, it keeps no identity and no role assignment: nothing can unwrap with it.
    """

    def __init__(
        self, name: str, args: DepartedSiloTenantArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:azure:SiloTenant", name, None, opts)
        VaultKey(
            f"{name}-key",
            server_key_args(args.server, args.key_name, args.cell, enabled=args.enabled),
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
