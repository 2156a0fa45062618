"""The pulumi-policy entry point: ``pulumi preview --policy-pack policies``.

The only place that constructs ``PolicyPack`` (its constructor serves gRPC and
blocks). Importing this module builds ``POLICIES`` without starting anything.
Under Pulumi, unknown values reach the rules as ``<unknown>``; a finding that
only says a value is not known at preview is raised as the SDK's
``UnknownValueError``, so Pulumi reports "can't run during preview" and checks the
resource again with real values during ``pulumi up``: unknown is never a pass.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, _is_unknown

if "policies" not in sys.modules:  # run as a directory by Pulumi: load it as the package
    _here = Path(__file__).resolve().parent
    _spec = importlib.util.spec_from_file_location(
        "policies", _here / "__init__.py", submodule_search_locations=[str(_here)]
    )
    assert _spec and _spec.loader
    sys.modules["policies"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["policies"])

from policies.config import SCHEMA, load_generated, rule_config  # noqa: E402
from policies.framework import (  # noqa: E402
    NOT_KNOWN_AT_PLAN_TIME,
    UNKNOWN,
    Ctx,
    Outcome,
    Res,
    Rule,
    outcome_of,
)
from policies.rules import RULES  # noqa: E402
from policies.waivers import WaiverFileError, find_waiver, load_waivers  # noqa: E402

PACK_NAME = "tenancy"


def _plain(value: Any) -> Any:
    """The SDK's unknown-checking proxy -> plain values, unknowns as ``<unknown>``."""
    if isinstance(value, Secret):
        return _plain(value.value)
    raw = getattr(value, "_DictProxy__target", None)
    if raw is not None or isinstance(value, Mapping):
        return {key: _plain(item) for key, item in (value if raw is None else raw).items()}
    raw = getattr(value, "_ListProxy__target", None)
    if raw is not None or isinstance(value, list):
        return [_plain(item) for item in (value if raw is None else raw)]
    return UNKNOWN if _is_unknown(value) else value


def _waivers() -> list[Any]:
    try:
        return load_waivers(None, {r.id for r in RULES})
    except WaiverFileError:
        return []  # the offline check reports it; here no waiver applies


WAIVERS = _waivers()


def _report(
    rule: Rule, urn: str, messages: list[str], report: Any, tenant: str | None, ctx: Ctx
) -> None:
    # Unknown only because preview has no value yet: Pulumi checks again at `up`. Unknown
    # for any other reason (a value not set, a config gap) is reported like a finding.
    unknown = outcome_of(messages) is Outcome.UNKNOWN
    if unknown and all(NOT_KNOWN_AT_PLAN_TIME in m for m in messages):
        raise UnknownValueError(UNKNOWN_STRING_VALUE, [messages[0]])
    for message in messages:
        waiver = find_waiver(WAIVERS, rule.id, urn, tenant, ctx.today)
        if waiver is not None:
            message = f"[waived until {waiver.expires}, approved by {waiver.approver}: {waiver.reason}] {message}"
        report(message, urn)


def _stack_of(urn: str) -> str:
    return (
        urn.split("::", 1)[0].removeprefix("urn:pulumi:") if urn.startswith("urn:pulumi:") else ""
    )


def _resource_validation(rule: Rule):  # type: ignore[no-untyped-def]
    from policies.framework import tags_of, tenancy_tags

    def validate(args: ResourceValidationArgs, report: Any) -> None:
        if args.resource_type not in rule.types:
            return
        props = _plain(args.props)
        ctx = Ctx(
            config=rule_config(rule.config_keys, args.get_config()),
            stack=_stack_of(args.urn),
            urn=args.urn,
            protect=args.opts.protect,  # Pulumi keeps resource options out of props
            waivers=WAIVERS,
        )
        messages = rule.check(args.resource_type, props, ctx)
        if messages:
            tenant = tenancy_tags(tags_of(args.resource_type, props)).get("tenant")
            _report(rule, args.urn, messages, report, tenant, ctx)

    return validate


def _stack_validation(rule: Rule):  # type: ignore[no-untyped-def]
    def validate(args: StackValidationArgs, report: Any) -> None:
        resources = [
            Res(
                urn=r.urn,
                type=r.resource_type,
                props=_plain(r.props),
                protect=r.opts.protect,
                dependencies=tuple(d.urn for d in r.dependencies),
                parent=r.parent.urn if r.parent else None,
            )
            for r in args.resources
        ]
        stack = _stack_of(resources[0].urn) if resources else ""
        ctx = Ctx(
            config=rule_config(rule.config_keys, args.get_config()), stack=stack, waivers=WAIVERS
        )
        for urn, messages in rule.check(resources, ctx):
            _report(rule, urn, messages, report, None, ctx)

    return validate


def _common(rule: Rule) -> dict[str, Any]:
    controls = ", ".join(control.label for control in rule.controls)
    return {
        "name": rule.id,
        "description": rule.description,
        "enforcement_level": EnforcementLevel(rule.enforcement),
        "severity": Severity(rule.severity),
        "remediation_steps": rule.remediation,
        "framework": PolicyComplianceFramework(name="tenancy", specification=controls),
        "tags": [rule.family, rule.cloud, *rule.frameworks],
        "config_schema": PolicyConfigSchema({key: SCHEMA[key] for key in rule.config_keys})
        if rule.config_keys
        else None,
    }


def build_policies() -> list[Policy]:
    policies: list[Policy] = []
    for rule in RULES:
        if rule.kind == "stack":
            policies.append(
                StackValidationPolicy(validate=_stack_validation(rule), **_common(rule))
            )
        else:
            policies.append(
                ResourceValidationPolicy(validate=_resource_validation(rule), **_common(rule))
            )
    return policies


POLICIES = build_policies()


def initial_config() -> dict[str, Any]:
    """The shipped config.generated.json, restricted to each rule's own keys."""
    generated = load_generated()
    return {
        rule.id: rule_config(rule.config_keys, generated.get(rule.id))
        for rule in RULES
        if rule.config_keys
    }


if __name__ == "__main__":
    PolicyPack(
        name=PACK_NAME,
        policies=POLICIES,
        enforcement_level=EnforcementLevel.MANDATORY,
        initial_config=initial_config(),
        description="Encryption, residency, backups, isolation and workload guardrails for tenancy's multi-tenant data tier.",
    )
