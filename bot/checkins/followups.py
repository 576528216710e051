"""When the manager lost the client, which follow-ups (D+7, D+30) count from. Pure.

The reflection asks "since when do you know?" as a date: a day or a period in the past typed
in words ("le 12 novembre", "il y a 3 semaines"; stored as an ISO date or interval), or one of
the quick answers (this week, this month, 1 to 3 months, longer). The loss day is the latest
day the answer allows: a follow-up then never comes before its day, at worst a little after.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from ..flows.dates import ISO_PERIOD

# Days before the reflection began: (fewest, most) for each answer of `since_when`.
SINCE_WHEN_DAYS: dict[str, tuple[int, int | None]] = {
    "this_week": (0, 6),
    "this_month": (7, 30),
    "one_to_three_months": (30, 92),
    "longer": (92, None),
}
LOSS_DATE_STEP = "loss_date"
"""A step answering with the loss day itself (ISO 8601), preferred when a playbook has one."""
SINCE_WHEN_STEP = "since_when"


def loss_window(answers: Mapping[str, object], started: date) -> tuple[date | None, date]:
    """(earliest, latest) days the manager can have learned of the loss; earliest None when
    the answer has no lower bound ("longer"). Without an answer: the day the reflection began."""
    for step in (LOSS_DATE_STEP, SINCE_WHEN_STEP):
        period = _period(answers.get(step))
        if period is not None and period[0] <= started:  # known by the day they reflected
            return period[0], min(period[1], started)
    fewest, most = SINCE_WHEN_DAYS.get(str(answers.get(SINCE_WHEN_STEP)), (0, 0))
    earliest = started - timedelta(days=most) if most is not None else None
    return earliest, started - timedelta(days=fewest)


def loss_day(answers: Mapping[str, object], started: date) -> date:
    """The day follow-ups count from: the latest day the answers allow (see module doc)."""
    return loss_window(answers, started)[1]


def _period(value: object) -> tuple[date, date] | None:
    """An ISO date ("2026-11-12") or interval ("2026-11-02/2026-11-08") as (first, last)."""
    if not isinstance(value, str) or not ISO_PERIOD.match(value):
        return None
    first, _, last = value.partition("/")
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last or first)
    except ValueError:
        return None
    return (start, end) if start <= end else None
