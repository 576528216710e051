"""When the manager lost the client, which follow-ups (D+7, D+30) count from. Pure.

The reflection asks "since when do you know?" as a range (this week, this month, 1 to 3
months, longer). Until the facts step asks for a date, the loss day is the latest day that
range allows: a follow-up then never comes before its day, at worst a little after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

# Days before the reflection began: (fewest, most) for each answer of `since_when`.
SINCE_WHEN_DAYS: dict[str, tuple[int, int | None]] = {
    "this_week": (0, 6),
    "this_month": (7, 30),
    "one_to_three_months": (30, 92),
    "longer": (92, None),
}
LOSS_DATE_STEP = "loss_date"
"""A step answering with the loss day itself (ISO 8601), preferred when a playbook has one."""


def loss_window(answers: Mapping[str, object], started: date) -> tuple[date | None, date]:
    """(earliest, latest) days the manager can have learned of the loss; earliest None when
    the answer has no lower bound ("longer"). Without an answer: the day the reflection began."""
    given = answers.get(LOSS_DATE_STEP)
    if isinstance(given, str):
        try:
            day = date.fromisoformat(given[:10])
        except ValueError:
            day = None
        if day is not None and day <= started:
            return day, day
    fewest, most = SINCE_WHEN_DAYS.get(str(answers.get("since_when")), (0, 0))
    earliest = started - timedelta(days=most) if most is not None else None
    return earliest, started - timedelta(days=fewest)


def loss_day(answers: Mapping[str, object], started: date) -> date:
    """The day follow-ups count from: the latest day the answers allow (see module doc)."""
    return loss_window(answers, started)[1]
