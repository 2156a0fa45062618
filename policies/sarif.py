"""SARIF 2.1.0 for code scanning: each rule with its controls and remediation, each finding.

The output passes Microsoft's SARIF Multitool ``validate`` with no error or warning
(tests/policies/test_sarif.py runs it). Code scanning needs three things
from it: one result per (rule, resource) with a fingerprint that survives pushes, a
location in the repository (the tenant's catalog entry, else the stack file), and
links only where they lead somewhere: without a repository URL, no ``helpUri``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .framework import Rule, tags_of, tenancy_tags
from .offline import Evaluation, Result
from .rules import RULES

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"  # the uriBaseId of the repository's root, as code scanning knows it
DOCS_PATH = "docs/policies.md"  # the rules table, with one heading (anchor) per rule id
FINGERPRINT = "tenancyFinding/v2"  # v2: (stack, rule, urn); v1 also hashed the message
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
_LEVEL = {"mandatory": "error", "advisory": "warning"}


@dataclass(frozen=True)
class Place:
    """A line of a file, as SARIF names it: a repo-relative path or an absolute file URI."""

    uri: str
    line: int
    what: str  # says what is there, e.g. "tenant acme in the catalog"
    snippet: str | None = None  # the text of ``line``
    context: tuple[int, int, str] | None = None  # first and last line around it, their text


@dataclass(frozen=True)
class Sources:
    """Where a stack's findings point, and where its rules are documented."""

    stack_file: Place
    tenants: Mapping[str, Place] = field(default_factory=dict)  # tenant id -> catalog entry
    repository_url: str | None = None  # e.g. https://github.com/acme/platform
    revision: str | None = None  # the commit analysed, when known
    docs_uri: str | None = None  # the rules' documentation when there is no repository URL

    def help_uri(self, rule_id: str) -> str | None:
        if self.repository_url is None:
            return None
        return f"{self.repository_url}/blob/HEAD/{DOCS_PATH}#{rule_id}"

    def information_uri(self) -> str | None:
        if self.repository_url is not None:
            return f"{self.repository_url}/blob/HEAD/{DOCS_PATH}"
        return self.docs_uri


def resource_tenants(plan: Mapping[str, Any]) -> dict[str, str]:
    """URN -> tenant id, from the resource's tenancy tag or, without one, its parent's."""
    resources = {r["urn"]: r for r in plan.get("resources", [])}
    found: dict[str, str | None] = {}

    def tenant(urn: str, depth: int = 0) -> str | None:
        if urn in found:
            return found[urn]
        resource = resources.get(urn)
        if resource is None or depth > 64:  # a parent cycle in a hand-written plan
            return None
        own = tenancy_tags(tags_of(resource["type"], resource.get("inputs") or {})).get("tenant")
        parent = resource.get("parent")
        found[urn] = own or (tenant(parent, depth + 1) if isinstance(parent, str) else None)
        return found[urn]

    # Shared resources carry a tag too ("shared"): only the plan's tenants count.
    known = {row.get("id") for row in plan.get("tenants", []) if isinstance(row, Mapping)}
    out = {urn: tenant(urn) for urn in resources}
    return {urn: t for urn, t in out.items() if t is not None and t in known}


def _rule_descriptor(rule: Rule, sources: Sources) -> dict[str, Any]:
    controls = [control.label for control in rule.controls]
    help_text = f"{rule.why}\n\nRemediation: {rule.remediation}\n\nControls: {', '.join(controls)}"
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.description},
        "fullDescription": {"text": f"{rule.description} {rule.why}"},
        "help": {
            "text": help_text,
            "markdown": (
                f"**Why:** {rule.why}\n\n**Remediation:** {rule.remediation}\n\n"
                f"**Controls:** {', '.join(controls)}"
            ),
        },
    }
    help_uri = sources.help_uri(rule.id)
    if help_uri is not None:
        descriptor["helpUri"] = help_uri
    descriptor["defaultConfiguration"] = {"level": _LEVEL[rule.enforcement]}
    descriptor["properties"] = {
        # The schema requires unique tags: a Kubernetes rule's family and cloud are both
        # "kubernetes", and code scanning rejects the whole upload over a duplicate.
        "tags": list(dict.fromkeys(["security", rule.family, rule.cloud, *controls])),
        "security-severity": _SECURITY_SEVERITY[rule.severity],
        "precision": "high",
        "problem.severity": "error" if rule.severity in ("critical", "high") else "warning",
        "enforcement": rule.enforcement,
        "controls": controls,
        "remediation": rule.remediation,
    }
    return descriptor


def fingerprint(stack: str, rule_id: str, urn: str) -> str:
    """Stable across plans and pushes: the identity of a finding, never its wording."""
    return hashlib.sha256(f"{stack}\n{rule_id}\n{urn}".encode()).hexdigest()[:32]


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _physical(place: Place) -> dict[str, Any]:
    artifact = {"uri": place.uri}
    if not place.uri.startswith("file:"):  # repo-relative: resolved against the checkout
        artifact["uriBaseId"] = SRCROOT
    region: dict[str, Any] = {"startLine": place.line}
    if place.snippet is not None:
        region["snippet"] = {"text": place.snippet}
    physical: dict[str, Any] = {"artifactLocation": artifact, "region": region}
    if place.context is not None:
        start, end, text = place.context
        physical["contextRegion"] = {"startLine": start, "endLine": end, "snippet": {"text": text}}
    return physical


def _locations(result: Result, tenant: str | None, sources: Sources) -> dict[str, Any]:
    """The tenant's catalog entry is the primary location (the line a PR changes), the
    stack file a related one; a shared resource points at the stack file alone."""
    place = sources.tenants.get(tenant) if tenant else None
    primary = place or sources.stack_file
    located: dict[str, Any] = {
        "locations": [
            {
                "physicalLocation": _physical(primary),
                "logicalLocations": [{"fullyQualifiedName": result.urn, "kind": "resource"}],
            }
        ]
    }
    if place is not None:
        located["relatedLocations"] = [
            {
                "id": 1,
                "physicalLocation": _physical(sources.stack_file),
                "message": {"text": _sentence(sources.stack_file.what)},
            }
        ]
    return located


def _result(
    result: Result, stack: str, index: int, tenant: str | None, sources: Sources
) -> dict[str, Any]:
    rule = result.rule
    name = result.urn.rsplit("::", 1)[-1]
    problems = " ".join(_sentence(message) for message in result.messages)
    entry: dict[str, Any] = {
        "ruleId": rule.id,
        "ruleIndex": index,
        "level": _LEVEL[rule.enforcement],
        "message": {"text": f"{name}: {problems} Fix: {_sentence(rule.remediation)}"},
        **_locations(result, tenant, sources),
        "partialFingerprints": {FINGERPRINT: fingerprint(stack, rule.id, result.urn)},
        "properties": {
            "urn": result.urn,
            **({"tenant": tenant} if tenant else {}),
            "severity": rule.severity,
            "controls": [control.label for control in rule.controls],
        },
    }
    if result.waiver is not None:
        waiver = result.waiver
        entry["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": (
                    f"{waiver.reason} (approved by {waiver.approver}, expires {waiver.expires})"
                ),
            }
        ]
    return entry


def sarif_log(
    evaluation: Evaluation,
    sources: Sources,
    tenants: Mapping[str, str] | None = None,
    extra_properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One run; ``tenants`` maps URNs to tenant ids (see :func:`resource_tenants`).

    A rule that reports several problems on one resource gives one result, so the
    fingerprint (stack, rule, URN) is unique within the run.
    """
    index = {rule.id: i for i, rule in enumerate(RULES)}
    tenants = tenants or {}
    results = [
        _result(result, evaluation.stack, index[result.rule.id], tenants.get(result.urn), sources)
        for result in evaluation.results
        if result.messages
    ]
    driver: dict[str, Any] = {"name": "tenancy-policies", "version": "0.1.0"}
    information_uri = sources.information_uri()
    if information_uri is not None:
        driver["informationUri"] = information_uri
    driver["rules"] = [_rule_descriptor(rule, sources) for rule in RULES]
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        # upload-sarif keeps an automationDetails.id over its `category` input: the PR
        # workflow's category per stack is this id, so both name the same analysis.
        "automationDetails": {"id": f"tenancy/{evaluation.stack}/"},
    }
    if sources.repository_url is not None:
        provenance: dict[str, Any] = {
            "repositoryUri": sources.repository_url,
            "mappedTo": {"uriBaseId": SRCROOT},
        }
        if sources.revision:
            provenance["revisionId"] = sources.revision
        run["versionControlProvenance"] = [provenance]
    run["results"] = results
    run["properties"] = {"stack": evaluation.stack, **(extra_properties or {})}
    return {"$schema": SCHEMA, "version": VERSION, "runs": [run]}
