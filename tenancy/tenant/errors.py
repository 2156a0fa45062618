"""What the mover raises; ``tenancy/commands/tenant.py`` maps them to exit codes."""

from __future__ import annotations


class MoveInputError(Exception):
    """Bad input found before anything changed (exit 2)."""


class VerificationFailed(Exception):
    """Row counts or checksums differ; the tenant was rolled back to its source (exit 1)."""
