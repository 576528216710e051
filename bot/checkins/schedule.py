"""When a manager's check-in is due: local time and zone to UTC, correct across DST. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..formatting import day_of

SEARCH_DAYS = 400
"""How far ahead to look for a due day (a pause lasts at most 60 days)."""


@dataclass(frozen=True)
class Plan:
    """A manager's check-in settings."""

    local_time: time
    timezone: str
    weekdays_only: bool = False
    paused_until: date | None = None
    """Last local day without a check-in (inclusive)."""

    def takes_place_on(self, day: date) -> bool:
        """True when a check-in is planned on this local day."""
        if self.weekdays_only and day.weekday() >= 5:
            return False
        return self.paused_until is None or day > self.paused_until


def parse_hhmm(value: str) -> time:
    """A "HH:MM" text as a time."""
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def local_day(moment: datetime, timezone: str) -> date:
    """The local date of a UTC moment in a time zone (the one rule: `formatting.day_of`)."""
    return day_of(moment, timezone)


def due_on(plan: Plan, day: date) -> datetime:
    """The UTC moment of the check-in on a local day (the offset of that very day)."""
    local = datetime.combine(day, plan.local_time, tzinfo=ZoneInfo(plan.timezone))
    return local.astimezone(UTC)


def next_due(plan: Plan, after: datetime) -> datetime | None:
    """The first check-in strictly after `after`, in UTC; None if none within a year."""
    first = local_day(after, plan.timezone)
    for offset in range(SEARCH_DAYS):
        day = first + timedelta(days=offset)
        if plan.takes_place_on(day):
            due = due_on(plan, day)
            if due > after:
                return due
    return None
