"""AWS silo tier: one tenant, its own CMK and its own Aurora cluster."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.args import ServerArgs
from components.aws.aurora import encrypted_aurora


@dataclass(frozen=True)
class SiloTenantArgs:
    tenant_id: str
    server: ServerArgs
    key_alias: str


class SiloTenant(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    secret_arn: pulumi.Output[str | None]
    key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: SiloTenantArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:aws:SiloTenant", name, None, opts)
        server = args.server
        key, database = encrypted_aurora(
            self, name, server, args.key_alias, f"silo tenant {args.tenant_id}"
        )
        self.endpoint = database.endpoint
        self.secret_arn = database.secret_arn
        self.key_arn = key.arn
        self.register_outputs(
            {"endpoint": self.endpoint, "secret_arn": self.secret_arn, "key_arn": self.key_arn}
        )
