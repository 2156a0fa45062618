"""Offline evaluation: every rule over a plan's resources and stack, without Pulumi.

``tenancy plan`` calls :func:`evaluate_plan`; ``tenancy check`` and ``tenancy
compliance`` call :func:`evaluate` for the full result (passes too). A plan file is
never trusted: :func:`validate_plan` reports every structural problem at once.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .config import load_generated, merged_config
from .framework import Ctx, Outcome, Res, Rule, outcome_of, tags_of, tenancy_tags
from .rules import BY_ID, RULES
from .waivers import Waiver, WaiverFileError, find_waiver, load_waivers

ISOLATIONS = ("silo", "bridge", "pool")


class PlanError(ValueError):
    """The plan file is malformed; ``problems`` lists each one with its JSON path."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Result:
    """One rule's answer for one subject: no messages is a pass."""

    rule: Rule
    urn: str
    messages: tuple[str, ...]
    waiver: Waiver | None = None

    @property
    def outcome(self) -> Outcome:
        return outcome_of(self.messages, waived=self.waiver is not None)


@dataclass
class Evaluation:
    stack: str
    results: list[Result] = field(default_factory=list)
    tenants: list[Mapping[str, Any]] = field(default_factory=list)
    waivers: list[Waiver] = field(default_factory=list)

    def violations(self) -> list[dict[str, Any]]:
        out = []
        for result in self.results:
            for message in result.messages:
                out.append(
                    {
                        "policy": result.rule.id,
                        "urn": result.urn,
                        "message": message,
                        "enforcement": result.rule.enforcement,
                        "severity": result.rule.severity,
                        "waived": result.waiver is not None,
                        "waiver": result.waiver.to_json() if result.waiver else None,
                    }
                )
        return out


def _problem(problems: list[str], path: str, text: str) -> None:
    if len(problems) < 50:  # enough to fix a broken file; a garbage file must not flood stderr
        problems.append(f"{path}: {text}")


def validate_plan(plan: Any) -> list[str]:
    """Every structural problem of a plan document (empty when it can be evaluated)."""
    problems: list[str] = []
    if not isinstance(plan, Mapping):
        return [f"$: the plan must be a JSON object, got {type(plan).__name__}"]
    if not isinstance(plan.get("stack"), str) or not plan.get("stack"):
        _problem(problems, "$.stack", "must be a non-empty string")
    resources = plan.get("resources")
    if not isinstance(resources, list):
        _problem(problems, "$.resources", "must be a list")
        resources = []
    seen: set[str] = set()
    for i, r in enumerate(resources):
        if (  # the fast path: a well-formed resource, as tenancy plan writes them
            type(r) is dict  # noqa: E721
            and type(urn := r.get("urn")) is str  # noqa: E721
            and urn
            and urn not in seen
            and type(r.get("type")) is str  # noqa: E721
            and r["type"]
            and type(r.get("inputs", {})) is dict  # noqa: E721
            and type(r.get("protect", False)) is bool  # noqa: E721
            and type(deps := r.get("dependencies", [])) is list  # noqa: E721
            and all(type(d) is str for d in deps)  # noqa: E721
        ):
            seen.add(urn)
            continue
        where = f"$.resources[{i}]"
        if not isinstance(r, Mapping):
            _problem(problems, where, "must be an object")
            continue
        for key in ("urn", "type"):
            if not isinstance(r.get(key), str) or not r.get(key):
                _problem(problems, f"{where}.{key}", "must be a non-empty string")
        if isinstance(r.get("urn"), str):
            if r["urn"] in seen:
                _problem(problems, f"{where}.urn", f"duplicate urn {r['urn']}")
            seen.add(r["urn"])
        if not isinstance(r.get("inputs", {}), Mapping):
            _problem(problems, f"{where}.inputs", "must be an object")
        if not isinstance(r.get("protect", False), bool):
            _problem(problems, f"{where}.protect", "must be true or false")
        deps = r.get("dependencies", [])
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            _problem(problems, f"{where}.dependencies", "must be a list of URN strings")
    tenants = plan.get("tenants", [])
    if not isinstance(tenants, list):
        _problem(problems, "$.tenants", "must be a list")
        tenants = []
    for i, row in enumerate(tenants):
        where = f"$.tenants[{i}]"
        if not isinstance(row, Mapping):
            _problem(problems, where, "must be an object")
            continue
        if not isinstance(row.get("id"), str) or not row.get("id"):
            _problem(problems, f"{where}.id", "must be a non-empty string")
        if row.get("isolation") not in ISOLATIONS:
            _problem(problems, f"{where}.isolation", f"must be one of {', '.join(ISOLATIONS)}")
        if row.get("shard") is not None and not isinstance(row.get("shard"), str):
            _problem(problems, f"{where}.shard", "must be a string or null")
    return problems


def _index(rules: Sequence[Rule]) -> tuple[dict[str, list[Rule]], list[Rule]]:
    """Resource rules by the types they judge, and the stack rules."""
    by_type: dict[str, list[Rule]] = {}
    for rule in rules:
        if rule.kind == "resource":
            for kind in rule.types:
                by_type.setdefault(kind, []).append(rule)
    return by_type, [r for r in rules if r.kind == "stack"]


_PACK_INDEX = _index(RULES)


def evaluate(
    plan: Mapping[str, Any],
    *,
    config: Mapping[str, Any] | None = None,
    waivers: Sequence[Waiver] | None = None,
    waivers_file: Path | None = None,
    today: date | None = None,
    rules: Sequence[Rule] | None = None,
) -> Evaluation:
    """All rules (the pack's unless ``rules`` says) over a plan. Raises PlanError on a
    malformed plan."""
    problems = validate_plan(plan)
    if problems:
        raise PlanError(problems)
    paused = gc.isenabled()
    gc.disable()  # many small, short-lived objects and no cycles: collection only costs time
    try:
        index = _PACK_INDEX if rules is None else _index(rules)
        return _evaluate(plan, config, waivers, waivers_file, today, index)
    finally:
        if paused:
            gc.enable()


def _evaluate(
    plan: Mapping[str, Any],
    config: Mapping[str, Any] | None,
    waivers: Sequence[Waiver] | None,
    waivers_file: Path | None,
    today: date | None,
    index: tuple[dict[str, list[Rule]], list[Rule]],
) -> Evaluation:
    stack = plan["stack"]
    settings = merged_config(load_generated()) if config is None else merged_config({}, config)
    if waivers is None:
        waivers = load_waivers(waivers_file, BY_ID)
    tenants = list(plan.get("tenants") or [])
    ctx = Ctx(
        config=settings, stack=stack, tenants=tenants, waivers=waivers, today=today or date.today()
    )
    evaluation = Evaluation(stack=stack, tenants=tenants, waivers=list(waivers))
    raw: list[tuple[Rule, str, list[str], Mapping[str, Any] | None]] = []
    by_type, stack_rules = index
    for resource in plan["resources"]:
        rules = by_type.get(resource["type"])
        if not rules:
            continue
        props = resource.get("inputs") or {}
        ctx.urn = resource["urn"]
        ctx.protect = resource.get("protect")
        for rule in rules:
            messages = rule.check(resource["type"], props, ctx)
            if messages is not None:
                raw.append((rule, resource["urn"], messages, props))
    stack_resources = [
        Res(
            urn=r["urn"],
            type=r["type"],
            props=r.get("inputs") or {},
            protect=r.get("protect"),
            dependencies=tuple(r.get("dependencies") or ()),
            parent=r.get("parent"),
        )
        for r in plan["resources"]
    ]
    props_by_urn = {r.urn: r for r in stack_resources}
    for rule in stack_rules:
        for urn, messages in rule.check(stack_resources, ctx):
            subject = props_by_urn.get(urn)
            raw.append((rule, urn, messages, subject.props if subject else None))
    append = evaluation.results.append
    for rule, urn, messages, props in raw:
        waiver = None
        if messages and waivers:
            tenant = tenancy_tags(tags_of(_type_of(props_by_urn, urn), props or {})).get("tenant")
            waiver = find_waiver(waivers, rule.id, urn, tenant, ctx.today)
        append(Result(rule, urn, tuple(messages), waiver))
    return evaluation


def _type_of(resources: Mapping[str, Res], urn: str) -> str:
    resource = resources.get(urn)
    return resource.type if resource else ""


def evaluate_plan(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The DESIGN contract: violation dicts for ``plan["violations"]``.

    An unreadable waivers file is reported as a violation of the waiver rule rather
    than aborting the plan: no waiver applies, every finding shows.
    """
    try:
        return evaluate(plan).violations()
    except WaiverFileError as error:
        broken = Waiver(0, "", None, None, "", "", None, (str(error),))
        return evaluate(plan, waivers=[broken]).violations()
