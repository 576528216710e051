"""Quiet hours: the local hours when Rebond sends nothing unasked. Pure."""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

DEFAULT_QUIET_HOURS = "21:00-08:00"
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_quiet_hours(text: str) -> tuple[time, time]:
    """ "21:00-08:00" as (start, end); ValueError saying how to write it otherwise."""
    match = _RANGE.match(text)
    if match is None:
        raise ValueError(f"'{text}' is not a range of hours; write it like 21:00-08:00")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"'{text}' holds a time that does not exist; write it like 21:00-08:00")
    return time(h1, m1), time(h2, m2)


def is_quiet(moment: datetime, zone: str, hours: str) -> bool:
    """True when `moment` (aware) falls in the quiet hours of that time zone; a range may cross
    midnight ("21:00-08:00"); an empty range ("08:00-08:00") is never quiet."""
    start, end = parse_quiet_hours(hours)
    local = moment.astimezone(ZoneInfo(zone)).time()
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end
