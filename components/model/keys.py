"""Key settings that follow from what a tier's tenants must comply with (pure, no Pulumi).

A tier is *regulated* when any of its tenants, anywhere in the catalog, carries a
framework in ``REGULATED_FRAMEWORKS`` (the policy pack's ``regulatedFrameworks``).
Its servers' keys then rotate every ``REGULATED_ROTATION_DAYS`` and, on Azure, live in
an HSM; other tiers rotate yearly (``DEFAULT_ROTATION_DAYS``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

REGULATED_FRAMEWORKS = ("hipaa", "pci")
DEFAULT_ROTATION_DAYS = 365  # PCI DSS 3.6.4's yearly cryptoperiod; the AWS/GCP maximum we accept
REGULATED_ROTATION_DAYS = 90  # the shortest period AWS KMS accepts; Cloud KMS and Key Vault too
# A Key Vault key version expires this long after its rotation is due: rotation always
# comes first, and a version that somehow was not rotated still stops working.
EXPIRY_MARGIN_DAYS = 30

# What a key's users may do with it; administration is a separate statement.
AWS_KEY_USE_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
)
# Account administration without use: whoever manages keys cannot decrypt with them.
AWS_KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",  # not kms:Create*: CreateGrant would hand out use
    "kms:Delete*",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Get*",
    "kms:List*",
    "kms:Put*",
    "kms:Revoke*",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:Update*",
)
# The services that encrypt a server's data with its key (kms:ViaService <svc>.<region>...).
AWS_KEY_SERVICES = ("rds", "secretsmanager", "backup")


def is_regulated(frameworks: Iterable[str]) -> bool:
    return any(framework in REGULATED_FRAMEWORKS for framework in frameworks)


def rotation_days(frameworks: Iterable[str]) -> int:
    return REGULATED_ROTATION_DAYS if is_regulated(frameworks) else DEFAULT_ROTATION_DAYS


def aws_key_policy(
    *,
    account_id: str,
    partition: str,
    region: str,
    dns_suffix: str = "amazonaws.com",
    tenant_role_names: Sequence[str] = (),
    services: Sequence[str] = AWS_KEY_SERVICES,
    logs: bool = True,
) -> dict[str, Any]:
    """The key policy of a server's CMK: the account administers it; principals of the
    account use it only through RDS, Secrets Manager and AWS Backup in the cell's region;
    CloudWatch Logs may use it for this account's log groups in the region; the tenant's
    own roles (silo) may read its secrets through Secrets Manager."""
    root = f"arn:{partition}:iam::{account_id}:root"
    via = [f"{service}.{region}.{dns_suffix}" for service in services]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": list(AWS_KEY_ADMIN_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "UseThroughDataServices",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": [*AWS_KEY_USE_ACTIONS, "kms:CreateGrant", "kms:ListGrants"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": via, "kms:CallerAccount": account_id}},
        },
    ]
    if logs:
        statements.append(
            {
                "Sid": "CloudWatchLogs",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.{dns_suffix}"},
                "Action": list(AWS_KEY_USE_ACTIONS),
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
                        )
                    }
                },
            }
        )
    if tenant_role_names:
        statements.append(
            {
                "Sid": "TenantRoles",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": "*",
                # A condition, not the role as principal: the key exists before the role,
                # and a key policy naming a missing principal is refused.
                "Condition": {
                    "ArnEquals": {
                        "aws:PrincipalArn": [
                            f"arn:{partition}:iam::{account_id}:role/{name}"
                            for name in tenant_role_names
                        ]
                    },
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.{dns_suffix}"},
                },
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def aws_key_policy_json(**kwargs: Any) -> str:
    return json.dumps(aws_key_policy(**kwargs), sort_keys=True)
