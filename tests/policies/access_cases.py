"""Rule cases of the Entra administrator rule (issue 15, item 6), in test_policy_rules.py's
form: (rule id, baseline, [(path, value)], expected messages, ctx kwargs). ``...`` deletes."""

from __future__ import annotations

from typing import Any

RULE = "azure-postgresql-administrator-configure-group-principal"

ACCESS_CASES: list[tuple[str, str, list[tuple[Any, Any]], list[str] | None, dict[str, Any]]] = [
    (RULE, "azure_administrator", [], [], {}),
    # The SDK's enum spells it "group"; ARM compares enum values case-insensitively.
    (RULE, "azure_administrator", [("principalType", "group")], [], {}),
    (
        RULE,
        "azure_administrator",
        [("principalType", "User")],
        ["the administrator is a User; it must be a Group (the operators' group)"],
        {},
    ),
    (
        RULE,
        "azure_administrator",
        [("principalType", "ServicePrincipal")],
        ["the administrator is a ServicePrincipal; it must be a Group (the operators' group)"],
        {},
    ),
    (
        RULE,
        "azure_administrator",
        [("principalType", ...)],
        ["principalType is not set; it must be Group"],
        {},
    ),
    (
        RULE,
        "azure_administrator",
        [("principalType", "<unknown>")],
        ["cannot verify principalType: it is not known at plan time"],
        {},
    ),
]
