"""AWS silo tier: one tenant, its own CMK and its own Aurora cluster."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.args import ServerArgs
from components.aws.aurora import encrypted_aurora
from components.model.catalog import DatabaseProfile
from components.tier_server import TierServer


@dataclass(frozen=True)
class SiloTenantArgs:
    tenant_id: str
    server: ServerArgs
    key_alias: str
    # Read replicas, their CPU target and scale windows; None: no replica autoscaling.
    database: DatabaseProfile | None = None


class SiloTenant(TierServer):
    def __init__(self, name: str, args: SiloTenantArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:aws:SiloTenant", name, None, opts)
        purpose = f"silo tenant {args.tenant_id}"
        built = encrypted_aurora(self, name, args.server, args.key_alias, purpose, args.database)
        self._complete(name, args.server, built)
