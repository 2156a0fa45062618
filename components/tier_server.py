"""What every cloud's silo tenant and shard have in common.

A ``TierServer`` is one PostgreSQL server with its own key (built by the cloud's
``encrypted_*`` function) plus the in-database isolation of the tenants on it.
Subclasses in ``components/<cloud>/silo.py`` and ``shard.py`` only build the
cloud's server; the outputs, and the SQL that isolates tenants inside the
server, are the same on every cloud, so they live here once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi

from components.args import ServerArgs
from components.postgres.isolation import (
    AdminConnectionArgs,
    DatabaseIsolation,
    DatabaseIsolationArgs,
)

# Silo tenants get their database from the isolation plan, so the admin connects to the
# maintenance database; shards keep the pool tables / tenant schemas in the server's own.
MAINTENANCE_DATABASE = "postgres"
R = TypeVar("R", bound=pulumi.Resource)


@dataclass(frozen=True)
class BuiltServer:
    """The facts a cloud's server hands back, named alike on every cloud."""

    endpoint: Any  # Output[str]: private host name or IP
    secret_ref: Any  # Output[str]: where the admin password lives (never the password)
    key_ref: Any  # Output[str]: the customer-managed key
    admin_user: str
    admin_password: Any  # Output[str], secret: read from the cloud's secret store
    ready: pulumi.Resource  # the server component: isolation waits for all of it
    # Output[str]: the server as its cloud's database IAM names it, what a silo tenant's
    # identity is granted on: Aurora's rds-db ARN up to the cluster resource id
    # (arn:aws:rds-db:<region>:<account>:dbuser:<cluster-resource-id>), Cloud SQL's
    # projects/<project>/instances/<name>, Flexible Server's ARM id.
    iam_resource: Any
    # Output[str] each: where read-only traffic goes. Aurora: the cluster's reader endpoint
    # (it balances the readers, or reaches the writer while there are none); Flexible
    # Server and Cloud SQL: one per fixed read replica (none when the tier has none).
    replica_endpoints: tuple[Any, ...] = ()
    # Output[str]: the CA certificates that sign the server's TLS certificate, concatenated
    # PEM, for a pooler that verifies it (GCP's PgBouncer: Cloud SQL's per-instance CA).
    # None where no component needs it.
    server_ca_pem: Any = None


class TierServer(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    secret_ref: pulumi.Output[str]
    key_ref: pulumi.Output[str]
    iam_resource: pulumi.Output[str]
    replica_endpoints: pulumi.Output[list[str]]
    server_ca_pem: Any  # Output[str] | None: see BuiltServer
    isolation: DatabaseIsolation
    admin_connection: AdminConnectionArgs

    def _complete(self, name: str, server: ServerArgs, built: BuiltServer) -> None:
        """Isolate the server's tenants inside PostgreSQL, then publish the outputs."""
        database = MAINTENANCE_DATABASE if server.isolation == "silo" else server.database_name
        # How the deploy reaches the server as its admin (also the GCP pooler's login setup).
        self.admin_connection = AdminConnectionArgs(
            host=built.endpoint,
            username=built.admin_user,
            password=built.admin_password,
            database=database,
        )
        self.isolation = DatabaseIsolation(
            f"{name}-isolation",
            DatabaseIsolationArgs(
                server=server.owner,
                isolation=server.isolation,
                tenants=server.tenants,
                cell=pulumi.get_stack(),
                connection=self.admin_connection,
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[built.ready]),
        )
        self.endpoint = built.endpoint
        self.secret_ref = built.secret_ref
        self.key_ref = built.key_ref
        self.iam_resource = built.iam_resource
        self.server_ca_pem = built.server_ca_pem
        self.replica_endpoints = pulumi.Output.all(*built.replica_endpoints)
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "secret_ref": self.secret_ref,
                "key_ref": self.key_ref,
                "replica_endpoints": self.replica_endpoints,
                "plan_digest": self.isolation.plan_digest,
            }
        )


def one_replica_at_a_time(
    parent: pulumi.Resource,
    primary: pulumi.Resource,
    count: int,
    build: Callable[[int, pulumi.ResourceOptions], R],
) -> list[R]:
    """``count`` read replicas (numbered from 1), each created after the previous one.

    The first waits for the whole primary. Azure and Cloud SQL both mark a source
    server busy while a replica is created and reject concurrent operations on it.
    """
    built: list[R] = []
    previous = primary
    for index in range(1, count + 1):
        previous = build(index, pulumi.ResourceOptions(parent=parent, depends_on=[previous]))
        built.append(previous)
    return built
