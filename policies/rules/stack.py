"""Stack rules: keys per silo tenant, a database for every tenant, valid waivers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .. import controls as c
from .. import types as t
from ..framework import Ctx, Res, cannot_verify, frameworks_of, rule, tags_of, tenancy_tags


def _tags(r: Res) -> dict[str, str]:
    return tenancy_tags(tags_of(r.type, r.props))


def _keys_of(database: Res, keys: Mapping[str, Res]) -> list[Res]:
    return [keys[urn] for urn in database.dependencies if urn in keys]


@rule(
    id="multi-kms-key-disallow-shared-silo-key",
    description="No encryption key is used by the databases of two silo tenants, or by a silo tenant and a shared server.",
    why="Silo isolation promises a tenant its own key: revoking or rotating it must affect that tenant alone, and its data can be crypto-shredded at offboarding.",
    remediation="Give every silo tenant its own KMS key / Key Vault key / Cloud KMS key (the silo components create one per tenant).",
    severity="critical",
    enforcement="mandatory",
    controls=c.KEY_ISOLATION,
    cloud="multi",
    family="stack",
    kind="stack",
    types=t.KEYS,
)
def shared_silo_key(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    keys = {r.urn: r for r in resources if r.type in t.KEYS}
    users: dict[str, set[str]] = {}
    for database in resources:
        if database.type not in t.ALL_DATABASES:
            continue
        tags = _tags(database)
        owner = (
            tags.get("tenant", "?")
            if tags.get("isolation") == "silo"
            else f"shard {tags.get('shard', '?')}"
        )
        for key in _keys_of(database, keys):
            users.setdefault(key.urn, set()).add(owner)
    results = []
    for urn, owners in users.items():
        silo = sorted(o for o in owners if not o.startswith("shard "))
        if silo and len(owners) > 1:
            results.append(
                (
                    urn,
                    [
                        f"the key is shared by {', '.join(sorted(owners))}; a silo tenant's key must be its own"
                    ],
                )
            )
        else:
            results.append((urn, []))
    return results


@rule(
    id="multi-kms-key-enable-dedicated-regulated-key",
    description="A silo tenant under a regulated framework (HIPAA, PCI DSS) has its database encrypted with a key tagged as its own.",
    why="HIPAA and PCI DSS ask that access to the key protecting ePHI or cardholder data be limited to that data's custodians; a key of its own keeps the tenant's key policy, audit trail and revocation separate.",
    remediation="Create the tenant's CMK with the tenant's tags and point the database's storage key (kmsKeyId / dataEncryption.primaryKeyURI / encryptionKeyName) at it.",
    severity="critical",
    enforcement="mandatory",
    controls=(c.HIPAA_ENCRYPT, c.PCI_3_5, c.PCI_3_6),
    cloud="multi",
    family="stack",
    kind="stack",
    types=t.ALL_DATABASES,
    config_keys=["regulatedFrameworks"],
)
def dedicated_regulated_key(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    regulated = set(ctx.config.get("regulatedFrameworks", ("hipaa", "pci")))
    keys = {r.urn: r for r in resources if r.type in t.KEYS}
    results = []
    for database in resources:
        if database.type not in t.ALL_DATABASES:
            continue
        tags = _tags(database)
        frameworks = frameworks_of(tags) & regulated
        if tags.get("isolation") != "silo" or not frameworks:
            continue
        tenant = tags.get("tenant")
        mine = _keys_of(database, keys)
        if not mine:
            results.append(
                (
                    database.urn,
                    [
                        cannot_verify(
                            f"the key of {tenant} ({', '.join(sorted(frameworks))})",
                            reason="the database depends on no key resource of the stack",
                        )
                    ],
                )
            )
            continue
        found = [
            f"the database of {tenant} ({', '.join(sorted(frameworks))}) uses a key tagged for {_tags(key).get('tenant') or 'no tenant'}"
            for key in mine
            if _tags(key).get("tenant") != tenant
        ]
        results.append((database.urn, found))
    return results


def stack_urn(resources: Sequence[Res], ctx: Ctx) -> str:
    for r in resources:
        if r.type == "pulumi:pulumi:Stack":
            return r.urn
    return f"urn:pulumi:{ctx.stack}::tenancy::pulumi:pulumi:Stack::tenancy-{ctx.stack}"


@rule(
    id="multi-tenancy-stack-configure-tenant-databases",
    description="Every tenant the stack serves has its database: a server tagged with its id (silo) or its shard's server (bridge/pool).",
    why="A tenant without its database is an outage, or worse, a tenant silently placed on another tenant's server.",
    remediation="Check the tenant's cloud, region, tier and shard in stacks/tenants.yaml, and that the cell's components register a server for every silo tenant and shard.",
    severity="high",
    enforcement="mandatory",
    controls=(c.SOC2_A1_2, c.ISO_A8_14, c.SOC2_CC7_1),
    cloud="multi",
    family="stack",
    kind="stack",
    types=["pulumi:pulumi:Stack"],
    config_keys=["tenantsByStack"],
)
def tenant_databases(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    urn = stack_urn(resources, ctx)
    tenants = ctx.tenants
    if tenants is None:
        tenants = (ctx.config.get("tenantsByStack") or {}).get(ctx.stack)
    if tenants is None:
        return [
            (
                urn,
                [
                    cannot_verify(
                        "the tenants' databases",
                        reason=f"stack {ctx.stack!r} is not in the policy config's tenantsByStack",
                    )
                ],
            )
        ]
    silos, shards = set(), set()
    for database in resources:
        if database.type in t.ALL_DATABASES:
            tags = _tags(database)
            if tags.get("isolation") == "silo":
                silos.add(tags.get("tenant"))
            elif tags.get("shard"):
                shards.add(tags["shard"])
    results = []
    for tenant in tenants:
        if tenant.get("isolation") == "silo":
            ok = tenant.get("id") in silos
            where = "its own database server"
        else:
            ok = tenant.get("shard") in shards
            where = f"the server of shard {tenant.get('shard')}"
        results.append(
            (
                urn,
                []
                if ok
                else [
                    f"tenant {tenant.get('id')} ({tenant.get('isolation')}) has no database: {where} is not in the plan"
                ],
            )
        )
    return results


@rule(
    id="multi-waivers-file-configure-valid-waiver",
    description="Every waiver in stacks/waivers.yaml names a known rule, a URN or tenant pattern, a reason of at least 20 characters, an approver and an expiry date that has not passed.",
    why="A waiver without a reason or approver cannot be audited, and an expired one would silently keep a risk accepted past its review date.",
    remediation="Fix the entry in stacks/waivers.yaml: add the missing field, renew the expiry after a new review, or delete the waiver and fix the finding.",
    severity="high",
    enforcement="mandatory",
    controls=(c.SOC2_CC7_1, c.ISO_A8_9, c.PCI_12_10),
    cloud="multi",
    family="stack",
    kind="stack",
    types=["pulumi:pulumi:Stack"],
)
def valid_waivers(resources: Sequence[Res], ctx: Ctx) -> list[tuple[str, list[str]]]:
    urn = stack_urn(resources, ctx)
    return [(urn, [f"waiver {w.where}: {p}" for p in w.problems(ctx.today)]) for w in ctx.waivers]


RULES = (shared_silo_key, dedicated_regulated_key, tenant_databases, valid_waivers)
