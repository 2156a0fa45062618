"""A Secret Manager secret whose replicas stay inside the residency zone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp


@dataclass(frozen=True)
class DatabaseSecretArgs:
    secret_id: str  # from the naming module
    project: str | None
    replica_locations: Sequence[str]  # regions of the residency zone only
    kms_key_id: Any  # Input[str]: the server's own CMEK (its region must be the replica's)
    value: Any  # Input[str], secret
    labels: Mapping[str, str]
    protect: bool = False


class DatabaseSecret(pulumi.ComponentResource):
    """The admin credential of a server; consumers get its id, never the value."""

    secret_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: DatabaseSecretArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:gcp:DatabaseSecret", name, None, opts)
        secret = gcp.secretmanager.Secret(
            f"{name}-secret",
            secret_id=args.secret_id,
            project=args.project,
            # User-managed: "automatic" replication would copy it to any region in the world.
            replication={
                "user_managed": {
                    "replicas": [
                        {
                            "location": location,
                            "customer_managed_encryption": {"kms_key_name": args.kms_key_id},
                        }
                        for location in args.replica_locations
                    ]
                }
            },
            labels=dict(args.labels),
            deletion_protection=args.protect,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        gcp.secretmanager.SecretVersion(
            f"{name}-version",
            secret=secret.id,
            secret_data=pulumi.Output.secret(args.value),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.secret_id = secret.id
        self.register_outputs({"secret_id": self.secret_id})
