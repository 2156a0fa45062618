"""A Flexible Server read replica of a tenant's or shard's server.

Azure cannot autoscale read replicas, so a server gets the tier's
``min_read_replicas`` as a fixed number. A replica is the primary's twin where a
guarantee lives on the server: same location (residency), same customer-managed
key through the same user-assigned identity, same delegated subnet and private
DNS zone with public access disabled, TLS-only parameters, a CanNotDelete lock,
tags. It differs where Azure requires: no backups of its own (the primary's
cover the data, so no geo-redundant backup key either), no high availability,
and no administrator login (roles replicate from the primary).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure

from components.args import ServerArgs, depends_on_of
from components.azure.server_guards import delete_lock, tls_parameters
from components.model.naming import physical_name

# Taken from the primary as they are: a replica has the primary's size, network and tags.
_FROM_PRIMARY = ("location", "version", "sku", "storage", "network", "maintenance_window", "tags")


def replica_server_name(primary_name: str, index: int) -> str:
    return physical_name("azure.flexible_server", primary_name, f"r{index}")


@dataclass(frozen=True)
class FlexibleReadReplicaArgs:
    server: ServerArgs  # the primary's server settings
    index: int  # 1-based
    resource_group_name: Any  # Input[str]: Azure keeps a replica in its primary's group
    source_server_id: Any  # Input[str]: the primary's resource id
    key_uri: Any  # Input[str]: the primary's key
    identity_id: Any  # Input[str]: the primary's user-assigned identity for that key
    primary_inputs: Mapping[str, Any]  # the primary's Server inputs


class FlexibleReadReplica(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    server_id: pulumi.Output[str]
    logical_name: str  # the component's name: its children's names start with it
    physical_name: str  # the replica server's name in Azure

    def __init__(
        self, name: str, args: FlexibleReadReplicaArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:azure:FlexibleReadReplica", name, None, opts)
        server = args.server
        self.logical_name = name
        self.physical_name = replica_server_name(server.physical_name, args.index)
        replica = azure.dbforpostgresql.Server(
            f"{name}-server",
            **self._server_inputs(args),
            # depends_on of a component does not reach its children: pass it on.
            opts=pulumi.ResourceOptions(
                parent=self, protect=server.protect, depends_on=depends_on_of(opts)
            ),
        )
        tls_parameters(self, name, replica.name, args.resource_group_name)
        if server.deletion_protection:
            delete_lock(self, name, replica.id, server.owner)
        self.endpoint = replica.fully_qualified_domain_name
        self.server_id = replica.id
        self.register_outputs({"endpoint": self.endpoint, "server_id": self.server_id})

    @staticmethod
    def _server_inputs(args: FlexibleReadReplicaArgs) -> dict[str, Any]:
        primary = args.primary_inputs
        return {key: primary[key] for key in _FROM_PRIMARY} | {
            "server_name": replica_server_name(args.server.physical_name, args.index),
            "resource_group_name": args.resource_group_name,
            "create_mode": "Replica",
            "source_server_resource_id": args.source_server_id,
            # Azure offers no high availability on a read replica.
            "high_availability": {"mode": "Disabled"},
            "identity": {
                "type": "UserAssigned",
                "user_assigned_identities": pulumi.Output.from_input(args.identity_id).apply(
                    lambda identity: {identity: {}}
                ),
            },
            "data_encryption": {
                "type": "AzureKeyVault",
                "primary_key_uri": args.key_uri,
                "primary_user_assigned_identity_id": args.identity_id,
            },
        }
