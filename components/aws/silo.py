"""AWS silo tier: one tenant, its own CMK and its own Aurora cluster."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.args import ServerArgs
from components.aws.aurora import CellFacts, encrypted_aurora
from components.aws.key import KmsKey, KmsKeyArgs
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


@dataclass(frozen=True)
class DepartedSiloTenantArgs:
    server: ServerArgs  # the server the tenant had: names, tags and key settings
    key_name: str
    enabled: bool  # False once the tenant is erased


class DepartedSiloTenant(pulumi.ComponentResource):
    """What an offboarded or erased silo tenant keeps: its own CMK, nothing else.

    The type token is the live tenant's, and the key's logical name too, so the key keeps
    its URN: Pulumi updates it (disables it) instead of deleting it and creating another.
    """

    def __init__(
        self, name: str, args: DepartedSiloTenantArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:aws:SiloTenant", name, None, opts)
        server = args.server
        KmsKey(
            f"{name}-key",
            KmsKeyArgs(
                alias=args.key_name,
                description=f"tenancy: data, secret and backups of silo tenant {server.owner}",
                region=server.region,
                tags=server.tags,
                encryption=server.encryption,  # no tenant role: nobody uses it any more
                protect=server.protect,
                enabled=args.enabled,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
