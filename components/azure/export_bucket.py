"""The cell's export store: a storage account for `tenancy tenant export` archives.

In the cell's region with zone-redundant storage (ZRS: copies stay in the region; GRS would
copy to the paired region, which may lie outside the residency zone), encrypted with a
customer-managed key of the cell's Key Vault through its own identity (plus
infrastructure encryption), version-level immutability with a retention period (a blob
cannot be changed or deleted before it ends), no public blob access, no public network
access, no shared keys (Entra ID only), TLS 1.2 and HTTPS only. One private container,
``exports``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

from components.azure.storage_account import ImmutableAccountArgs, immutable_account
from components.model.erasure import EXPORT_RETENTION_DAYS

CONTAINER = "exports"


@dataclass(frozen=True)
class ExportBucketArgs(ImmutableAccountArgs):
    retention_days: int = EXPORT_RETENTION_DAYS
    # Locked: the period can only be extended, and the account cannot be deleted while a
    # blob is under it (prod). Unlocked: the same protection, but a dev stack can go.
    locked: bool = True


class ExportBucket(pulumi.ComponentResource):
    """One per cell: tenants' export archives, immutable for ``retention_days``."""

    account_name: str
    retention_days: int

    def __init__(
        self, name: str, args: ExportBucketArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:azure:ExportBucket", name, None, opts)
        account = immutable_account(
            name,
            args,
            append_writes=False,  # an archive is written once
            firewall_bypass="None",  # exports are uploaded by operators through Entra ID
            parent=self,
        )
        after_account = pulumi.ResourceOptions(parent=self, depends_on=[account])
        azure.storage.BlobContainer(
            f"{name}-container",
            account_name=args.account_name,
            resource_group_name=args.resource_group_name,
            container_name=CONTAINER,
            public_access=azure.storage.PublicAccess.NONE,
            opts=after_account,
        )
        azure.storage.ManagementPolicy(
            f"{name}-expiry",
            account_name=args.account_name,
            resource_group_name=args.resource_group_name,
            management_policy_name="default",
            # The day after the immutability period: a blob under it cannot be deleted.
            policy={
                "rules": [
                    {
                        "name": "expire-exports",
                        "enabled": True,
                        "type": "Lifecycle",
                        "definition": {
                            "filters": {"blob_types": ["blockBlob"]},
                            "actions": {
                                "base_blob": {
                                    "delete": {
                                        "days_after_creation_greater_than": args.retention_days + 1
                                    }
                                },
                                "version": {
                                    "delete": {
                                        "days_after_creation_greater_than": args.retention_days + 1
                                    }
                                },
                            },
                        },
                    }
                ]
            },
            opts=after_account,
        )
        self.account_name = args.account_name
        self.retention_days = args.retention_days
        self.register_outputs({"account_name": account.name})
