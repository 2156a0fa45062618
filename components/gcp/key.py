"""A Cloud KMS key ring and rotating crypto key, usable only by the Cloud SQL service agent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from components.args import EncryptionArgs

SECONDS_PER_DAY = 86_400
ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


@dataclass(frozen=True)
class CloudKmsKeyArgs:
    name: str  # key ring and key name, from the naming module
    project: str | None
    location: str  # the cell's region: Cloud SQL CMEK must be in the instance's region
    # Who may encrypt with the key: {"cloudsql": "serviceAccount:service-<n>@gcp-sa-cloud-sql...", ...}
    service_agent_members: Mapping[str, Any]
    labels: Mapping[str, str]
    encryption: EncryptionArgs = EncryptionArgs()
    protect: bool = False


class CloudKmsKey(pulumi.ComponentResource):
    """CMEK for one silo tenant or one shard: its disk, backups, logs and admin secret use it.

    A key ring per owner keeps each tenant's key under its own IAM boundary. Key
    rings and keys cannot be deleted in GCP (only their versions are destroyed),
    so names are stable and never reused.
    """

    key_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: CloudKmsKeyArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:gcp:CloudKmsKey", name, None, opts)
        ring = gcp.kms.KeyRing(
            f"{name}-ring",
            name=args.name,
            project=args.project,
            location=args.location,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        key = gcp.kms.CryptoKey(
            f"{name}-cmek",
            name=args.name,
            key_ring=ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=f"{args.encryption.rotation_period_days * SECONDS_PER_DAY}s",
            destroy_scheduled_duration=f"{args.encryption.deletion_window_days * SECONDS_PER_DAY}s",
            version_template={
                "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION",
                "protection_level": "SOFTWARE",
            },
            labels=dict(args.labels),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        grants = [
            gcp.kms.CryptoKeyIAMMember(
                f"{name}-{agent}-agent",
                crypto_key_id=key.id,
                role=ENCRYPTER_DECRYPTER,
                member=member,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for agent, member in sorted(args.service_agent_members.items())
        ]
        # An instance or secret created before its grant fails: hand out the id once they exist.
        self.key_id = pulumi.Output.all(key.id, *(g.id for g in grants)).apply(lambda ids: ids[0])
        self.register_outputs({"key_id": self.key_id})
