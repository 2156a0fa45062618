"""The immutable copy of a cell's audit trail on Azure: a storage account that regulated
servers' diagnostic settings also write to, under a time-based immutability policy.

Diagnostic settings choose their own containers (``insights-logs-<category>``) and append
to blobs hour by hour, so the policy is the account's default (version-level WORM covers
every container, including those Azure Monitor creates later) and allows *protected
append writes*: new blocks may be appended, nothing written may change or go.
The policy is Locked in production (it can then only be lengthened) and Unlocked in dev.

The account is in the cell's region with zone-redundant storage (never GRS: the paired
region may lie outside the residency zone), encrypted with a key of the cell's vault
through its own identity, TLS 1.2 only, no anonymous blob access, no shared keys
(Entra ID only), and its firewall denies everything but trusted Azure services (Azure
Monitor's delivery).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.azure.storage_account import ImmutableAccountArgs, immutable_account


@dataclass(frozen=True)
class AuditArchiveArgs(ImmutableAccountArgs):
    """retention_days: the longest log retention of the cell's regulated servers; locked:
    production (the policy can no longer be shortened or removed)."""


class AuditArchive(pulumi.ComponentResource):
    account_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: AuditArchiveArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:azure:AuditArchive", name, None, opts)
        account = immutable_account(
            name,
            args,
            append_writes=True,  # diagnostics append to their hourly blobs
            # Azure Monitor's diagnostic delivery comes in as a trusted service (not
            # exercised here: no cloud account).
            firewall_bypass="AzureServices",
            parent=self,
        )
        self.account_id = account.id
        self.register_outputs({"account_id": self.account_id})
