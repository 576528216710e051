"""Quiet hours: the local hours when Rebond sends nothing unasked. Pure."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
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


def next_quiet_start(moment: datetime, zone: str, hours: str) -> datetime | None:
    """When the next quiet hours begin, from `moment` (aware; `moment` itself when quiet now),
    as an aware datetime in that zone; None when the range is empty (never quiet). A message
    queued now is worth delivering only until then."""
    start, end = parse_quiet_hours(hours)
    if start == end:
        return None
    if is_quiet(moment, zone, hours):
        return moment
    local = moment.astimezone(ZoneInfo(zone))
    begins = datetime.combine(local.date(), start, tzinfo=ZoneInfo(zone))
    if begins <= local:
        begins = datetime.combine(local.date() + timedelta(days=1), start, tzinfo=ZoneInfo(zone))
    return begins
