"""The catalog's weekly maintenance window (``ddd:hh:mm-ddd:hh:mm``, UTC) in each cloud's terms."""

from __future__ import annotations

from dataclasses import dataclass

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class WeeklyStart:
    day: str  # "mon" .. "sun"
    hour: int
    minute: int

    @property
    def azure_day_of_week(self) -> int:
        # Flexible Server counts from Sunday = 0.
        return (DAYS.index(self.day) + 1) % 7

    @property
    def gcp_day(self) -> int:
        # Cloud SQL counts from Monday = 1 to Sunday = 7.
        return DAYS.index(self.day) + 1


def window_start(window: str) -> WeeklyStart:
    """Start of a validated window; Azure and GCP take a start and fix the length themselves."""
    day, hour, minute = window.split("-", 1)[0].split(":")
    return WeeklyStart(day, int(hour), int(minute))


def hh_mm_start(window_utc: str) -> str:
    """'01:00-02:00' -> '01:00' (GCP backup start time)."""
    return window_utc.split("-", 1)[0]
