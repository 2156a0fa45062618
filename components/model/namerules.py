"""The shape of a physical-name rule; each cloud's rules live in its traits record."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NameRule:
    max_len: int
    allowed: str  # regex character class of allowed characters
    min_len: int = 1
    lowercase: bool = True
    start_letter: bool = True
    single_hyphens: bool = True  # collapse "--" and strip edge hyphens
    globally_unique: bool = False  # needs a stable per-stack suffix (DNS-visible names)
    prefix: str = ""
