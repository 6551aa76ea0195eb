"""Per-day staff reports: the `days=` window they take and the shape of their answer.

A report covers the last `days` calendar days in UTC, today (so far) included: `days=1` is today.
Days are ISO dates (`YYYY-MM-DD`); the database groups by them with `columns.utc_day`. A day
with nothing to count has no row: a chart draws it as zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

T = TypeVar("T")
DEFAULT_DAYS = 30
# A quarter: a chart's range, not an export (a longer history is each list's, page by page).
MAX_DAYS = 90

DaysQuery = Annotated[int, Query(ge=1, le=MAX_DAYS, description=(
    f"how many days, today (UTC) included; 1 to {MAX_DAYS}"))]


@dataclass(frozen=True)
class DayWindow:
    since: date  # the first day
    until: date  # the last: today

    @property
    def start(self) -> datetime:
        """The first day's first instant (UTC): rows at or after it are in."""
        return datetime.combine(self.since, time(), tzinfo=UTC)


def day_window(days: int, now: datetime) -> DayWindow:
    today = now.astimezone(UTC).date()
    return DayWindow(since=today - timedelta(days=days - 1), until=today)


class DailyReport(BaseModel, Generic[T]):
    """A per-day report: the window it covers (both ends included) and its rows, oldest day first."""

    days: int = Field(examples=[30], description="the days covered, today included")
    since: date = Field(examples=["2026-10-28"], description="the first day covered (UTC)")
    until: date = Field(examples=["2026-11-26"], description="the last day covered: today (UTC)")
    results: list[T] = Field(description="one row per day that has something to count, oldest first")
