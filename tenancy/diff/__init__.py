"""``tenancy diff``: two offline plans -> tenant-level change report with danger flags.

Pure Python (no Pulumi import), built from the plan JSON only.
"""

from tenancy.diff.compute import PlanDiff, diff_plans
from tenancy.diff.markdown import APPROVAL_LABEL, COMMENT_LIMIT, marker, render
from tenancy.diff.planfile import load_plan, validate_plan

__all__ = [
    "APPROVAL_LABEL",
    "COMMENT_LIMIT",
    "PlanDiff",
    "diff_plans",
    "load_plan",
    "marker",
    "render",
    "validate_plan",
]
