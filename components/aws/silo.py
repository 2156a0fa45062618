"""AWS silo tier: one tenant, its own CMK and its own Aurora cluster."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.args import ServerArgs
from components.aws.aurora import encrypted_aurora
from components.aws.replica_autoscaling import replica_autoscaling
from components.model.catalog import DatabaseProfile


@dataclass(frozen=True)
class SiloTenantArgs:
    tenant_id: str
    server: ServerArgs
    key_alias: str
    # Read replicas, their CPU target and scale windows; None: no replica autoscaling.
    database: DatabaseProfile | None = None


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
        replica_autoscaling(
            self, name, database.cluster_identifier, server.region, server.tags, args.database
        )
        self.endpoint = database.endpoint
        self.secret_arn = database.secret_arn
        self.key_arn = key.arn
        self.register_outputs(
            {"endpoint": self.endpoint, "secret_arn": self.secret_arn, "key_arn": self.key_arn}
        )
