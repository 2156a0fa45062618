"""Key management: who may use a key, how often it rotates, when it expires, where it lives."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from typing import Any

from .. import controls as c
from .. import types as t
from ..framework import (
    KEY_MANAGEMENT,
    Ctx,
    cannot_verify,
    frameworks_of,
    get,
    is_unknown,
    rule,
    tags_of,
    tenancy_tags,
)

KEY_CONTROLS = (c.PCI_3_6, c.HIPAA_ENCRYPT, c.SOC2_CC6_1, c.ISO_A8_24, c.GDPR_32)
# What using a key means (data in or out); anything else is administration.
_USE = (
    "kms:CreateGrant",  # a grant hands use to another principal
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
_ADMIN = ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:EnableKeyRotation")
_ROOT = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:root$")
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _grants(statement: Mapping[str, Any], actions: tuple[str, ...]) -> list[str]:
    patterns = [str(a) for a in _listed(statement.get("Action", []))]
    return [a for a in actions if any(fnmatch.fnmatchcase(a, p) for p in patterns)]


def _principals(statement: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(AWS principals, service principals); ``"*"`` counts as an AWS principal."""
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"], []
    if not isinstance(principal, Mapping):
        return [], []
    aws = [str(p) for p in _listed(principal.get("AWS", []))]
    return aws, [str(p) for p in _listed(principal.get("Service", []))]


def _conditions(statement: Mapping[str, Any]) -> set[str]:
    found = set()
    for block in (statement.get("Condition") or {}).values():
        if isinstance(block, Mapping):
            found |= {str(key) for key in block}
    return found


def _use_problems(index: int, statement: Mapping[str, Any]) -> list[str]:
    used = _grants(statement, _USE)
    if statement.get("Effect") != "Allow" or not used:
        return []
    aws, services = _principals(statement)
    conditions = _conditions(statement)
    label = statement.get("Sid") or f"statement {index}"
    if aws and "kms:ViaService" not in conditions:
        return [
            f"{label} lets {', '.join(aws)} use the key ({used[0]}) without a kms:ViaService "
            "condition; use must go through the data services"
        ]
    if services and not conditions:
        return [f"{label} lets {', '.join(services)} use the key without a condition"]
    return []


def _administered(statements: list[Any]) -> bool:
    for statement in statements:
        aws, _ = _principals(statement)
        if (
            statement.get("Effect") == "Allow"
            and any(_ROOT.match(p) for p in aws)
            and not statement.get("Condition")
            and len(_grants(statement, _ADMIN)) == len(_ADMIN)
        ):
            return True
    return False


@rule(
    id="aws-kms-key-configure-key-policy",
    description="KMS keys carry an explicit key policy: the account keeps administration, and principals use the key only through the data services (kms:ViaService) or under a condition.",
    why="Without a policy KMS applies its default, which lets any IAM policy of the account grant every use of the key from anywhere; a key usable outside RDS, Secrets Manager and Backup can decrypt a copied snapshot directly.",
    remediation="Set the key's policy from components/model/keys.py aws_key_policy(): an AccountAdministration statement for the account root without use actions, use for the account only with kms:ViaService rds/secretsmanager/backup.<region>, CloudWatch Logs with an aws:logs:arn encryption-context condition.",
    severity="high",
    enforcement="mandatory",
    controls=KEY_CONTROLS,
    cloud="aws",
    family="keys",
    types=[t.KMS_KEY],
    matrix=[KEY_MANAGEMENT],
)
def aws_kms_key_policy(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    raw = props.get("policy")
    if is_unknown(raw) or raw == "":
        return [cannot_verify("the key policy", raw) + "; KMS would apply its default policy"]
    try:
        document: Any = json.loads(raw) if isinstance(raw, str) else raw
        statements = _listed(document["Statement"])
    except (ValueError, TypeError, KeyError):
        return ["the key policy is not a JSON policy document with a Statement"]
    found = []
    if not _administered(statements):
        found.append(
            "no statement lets the account root administer the key (kms:PutKeyPolicy, "
            "kms:ScheduleKeyDeletion, kms:EnableKeyRotation); the account could lose control of it"
        )
    for index, statement in enumerate(statements):
        if isinstance(statement, Mapping):
            found += _use_problems(index, statement)
    return found


def _days(duration: Any) -> int | None:
    """ISO 8601 ``P90D``/``P1Y``/``P2M`` -> days (a month as 30, a year as 365)."""
    match = _DURATION.match(duration) if isinstance(duration, str) else None
    if not match or not any(match.groups()):
        return None
    years, months, days = (int(g or 0) for g in match.groups())
    return years * 365 + months * 30 + days


def _regulated(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    """Regulated frameworks of the key's data: its own tenants' (tags) and, since a tier's
    keys are built for every tenant the tier may hold, its tier's (frameworksByTier)."""
    tags = tenancy_tags(tags_of(resource_type, props))
    frameworks = frameworks_of(tags)
    frameworks |= set(ctx.config.get("frameworksByTier", {}).get(tags.get("tier"), ()))
    regulated = ctx.config.get("regulatedFrameworks", ("hipaa", "pci"))
    return sorted(frameworks & set(regulated))


def _rotation_limit(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> tuple[int, str]:
    regulated = _regulated(resource_type, props, ctx)
    if regulated:
        return ctx.config.get(
            "maxRegulatedKeyRotationDays", 90
        ), f" (its data is {'/'.join(regulated)})"
    return ctx.config.get("maxKeyRotationDays", 365), ""


@rule(
    id="azure-keyvault-key-configure-rotation-expiry",
    description="Key Vault keys have a rotation policy that rotates them within the allowed period (90 days for pci/hipaa data) and an expiry after the rotation.",
    why="A key without rotation protects ever more data under one version (PCI DSS 3.6.4); a version without expiry stays usable forever if rotation silently stops.",
    remediation="Set properties.rotationPolicy with a Rotate lifetime action (trigger.timeAfterCreate) and attributes.expiryTime longer than it (components/azure/key.py does).",
    severity="high",
    enforcement="mandatory",
    controls=KEY_CONTROLS,
    cloud="azure",
    family="keys",
    types=[t.AZ_KEY],
    config_keys=[
        "maxKeyRotationDays",
        "maxRegulatedKeyRotationDays",
        "regulatedFrameworks",
        "frameworksByTier",
    ],
    matrix=[KEY_MANAGEMENT],
)
def azure_key_rotation_expiry(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    policy = get(props, "properties", "rotationPolicy")
    if is_unknown(policy):
        return [cannot_verify("properties.rotationPolicy", policy)]
    rotate = [
        action
        for action in get(policy, "lifetimeActions") or []
        if str(get(action, "action", "type")).lower() == "rotate"
    ]
    if not rotate:
        return ["the rotation policy has no Rotate lifetime action; the key never rotates"]
    period = _days(get(rotate[0], "trigger", "timeAfterCreate"))
    found = []
    limit, why = _rotation_limit(resource_type, props, ctx)
    if period is None:
        found.append("the Rotate action has no trigger.timeAfterCreate like P90D")
    elif period > limit:
        found.append(f"the key rotates every {period} days; it must be at most {limit}{why}")
    expiry = _days(get(policy, "attributes", "expiryTime"))
    if expiry is None:
        found.append("the rotation policy sets no attributes.expiryTime; key versions never expire")
    elif period is not None and expiry <= period:
        found.append(f"key versions expire after {expiry} days, before their rotation at {period}")
    return found


@rule(
    id="azure-keyvault-key-enable-hsm",
    description="Key Vault keys of tiers whose tenants carry pci or hipaa are HSM-backed (RSA-HSM or EC-HSM, in a Premium vault).",
    why="PCI DSS 3.6 and HIPAA reviews expect key material that cannot be exported from tamper-resistant hardware; a software key exists in memory of the vault service.",
    remediation="Create the key with properties.kty RSA-HSM in a Premium vault (components/azure/key.py does for tiers whose tenants carry pci or hipaa).",
    severity="high",
    enforcement="mandatory",
    controls=(c.PCI_3_6, c.HIPAA_ENCRYPT, c.ISO_A8_24),
    cloud="azure",
    family="keys",
    types=[t.AZ_KEY],
    config_keys=["regulatedFrameworks", "frameworksByTier"],
    matrix=[KEY_MANAGEMENT],
)
def azure_key_hsm(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str] | None:
    regulated = _regulated(resource_type, props, ctx)
    if not regulated:
        return None  # not applicable: software keys are fine for other data
    kty = get(props, "properties", "kty")
    if is_unknown(kty):
        return [cannot_verify("properties.kty", kty)]
    if not str(kty).endswith("-HSM"):
        return [f"kty is {kty}; keys of {'/'.join(regulated)} data must be RSA-HSM or EC-HSM"]
    return []


@rule(
    id="gcp-kms-cryptokey-configure-rotation",
    description="Cloud KMS crypto keys rotate automatically, at most yearly and at most every 90 days for pci/hipaa data.",
    why="Cloud KMS rotates only when rotationPeriod is set; one version protecting years of regulated data widens what one compromised version exposes (PCI DSS 3.6.4).",
    remediation="Set rotationPeriod (seconds, e.g. 7776000s for 90 days) on the crypto key (components/gcp/key.py derives it from the tier).",
    severity="high",
    enforcement="mandatory",
    controls=KEY_CONTROLS,
    cloud="gcp",
    family="keys",
    types=[t.KMS_CRYPTO_KEY],
    config_keys=[
        "maxKeyRotationDays",
        "maxRegulatedKeyRotationDays",
        "regulatedFrameworks",
        "frameworksByTier",
    ],
    matrix=[KEY_MANAGEMENT],
)
def gcp_key_rotation(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    period = props.get("rotationPeriod")
    if is_unknown(period):
        return [cannot_verify("rotationPeriod", period) + "; the key never rotates"]
    match = re.match(r"^(\d+)(?:\.\d+)?s$", str(period))
    if not match:
        return [f"rotationPeriod {period!r} is not a duration in seconds like 7776000s"]
    days = int(match.group(1)) / 86_400
    limit, why = _rotation_limit(resource_type, props, ctx)
    if days > limit:
        return [f"the key rotates every {days:g} days; it must be at most {limit}{why}"]
    return []


RULES = (aws_kms_key_policy, azure_key_rotation_expiry, azure_key_hsm, gcp_key_rotation)
