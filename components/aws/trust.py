"""IAM trust policies: who may assume a role the components create."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def service_trust_policy(service: str, condition: Mapping[str, Any] | None = None) -> str:
    """A trust policy that lets only the AWS service ``service`` assume the role, under
    ``condition`` when given (e.g. aws:SourceAccount against the confused deputy)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = dict(condition)
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
