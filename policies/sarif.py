"""SARIF 2.1.0 for code scanning: each rule with its controls and remediation, each finding."""

from __future__ import annotations

import hashlib
from typing import Any

from .framework import Rule
from .offline import Evaluation
from .rules import RULES

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"
INFO_URI = "https://github.com/tenancy/tenancy/blob/main/docs/policies.md"
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
_LEVEL = {"mandatory": "error", "advisory": "warning"}


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    controls = [control.label for control in rule.controls]
    help_text = f"{rule.why}\n\nRemediation: {rule.remediation}\n\nControls: {', '.join(controls)}"
    return {
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
        "helpUri": f"{INFO_URI}#{rule.id}",
        "defaultConfiguration": {"level": _LEVEL[rule.enforcement]},
        "properties": {
            "tags": ["security", rule.family, rule.cloud, *controls],
            "security-severity": _SECURITY_SEVERITY[rule.severity],
            "precision": "high",
            "problem.severity": "error" if rule.severity in ("critical", "high") else "warning",
            "enforcement": rule.enforcement,
            "controls": controls,
            "remediation": rule.remediation,
        },
    }


def sarif_log(
    evaluation: Evaluation, artifact: str, extra_properties: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One run; ``artifact`` is the repo-relative file results point at (the stack file)."""
    index = {rule.id: i for i, rule in enumerate(RULES)}
    results = []
    for result in evaluation.results:
        rule = result.rule
        for message in result.messages:
            digest = hashlib.sha256(f"{rule.id}|{result.urn}|{message}".encode()).hexdigest()
            entry: dict[str, Any] = {
                "ruleId": rule.id,
                "ruleIndex": index[rule.id],
                "level": _LEVEL[rule.enforcement],
                "message": {
                    "text": f"{message} ({result.urn.rsplit('::', 1)[-1]}). Fix: {rule.remediation}"
                },
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": artifact},
                            "region": {"startLine": 1},
                        },
                        "logicalLocations": [
                            {"fullyQualifiedName": result.urn, "kind": "resource"}
                        ],
                    }
                ],
                "partialFingerprints": {"tenancyFinding/v1": digest[:32]},
                "properties": {
                    "urn": result.urn,
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
            results.append(entry)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "tenancy-policies",
                "informationUri": INFO_URI,
                "version": "0.1.0",
                "rules": [_rule_descriptor(rule) for rule in RULES],
            }
        },
        "automationDetails": {"id": f"tenancy/{evaluation.stack}/"},
        "results": results,
        "properties": {"stack": evaluation.stack, **(extra_properties or {})},
    }
    return {"$schema": SCHEMA, "version": VERSION, "runs": [run]}
