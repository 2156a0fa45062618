"""GCP silo tier: one tenant, its own Cloud KMS key, its own Cloud SQL instance."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.args import ServerArgs
from components.gcp.cloudsql import CellFacts, encrypted_cloudsql
from components.gcp.key import CloudKmsKey, CloudKmsKeyArgs
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


@dataclass(frozen=True)
class DepartedSiloTenantArgs:
    server: ServerArgs  # the server the tenant had: names, labels and key settings
    key_name: str
    cell: CellFacts
    enabled: bool  # False once the tenant is erased


class DepartedSiloTenant(pulumi.ComponentResource):
    """What an offboarded or erased silo tenant keeps: its own key ring and crypto key.

    The type token and the key's logical name are the live tenant's, so the key keeps its
    URN. A Cloud KMS CryptoKey has no "enabled" switch (only its versions do, and the
    program does not own the versions rotation creates), so an erased tenant's key is put
    beyond use by revoking every grant on it: no service agent may encrypt or decrypt.
    """

    def __init__(
        self, name: str, args: DepartedSiloTenantArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:gcp:SiloTenant", name, None, opts)
        server, cell = args.server, args.cell
        CloudKmsKey(
            f"{name}-key",
            CloudKmsKeyArgs(
                name=args.key_name,
                project=cell.project,
                location=server.region,
                service_agent_members=cell.service_agent_members if args.enabled else {},
                labels=server.tags,
                encryption=server.encryption,
                protect=server.protect,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
