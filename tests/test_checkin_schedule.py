"""When check-ins are due: local time and zone to UTC, across both daylight-saving switches."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.checkins.schedule import Plan, local_day, next_due
from bot.flows.answers import parse_time
from bot.flows.timezones import resolve

# 2026: the US switches on March 8 and November 1, the EU on March 29 and October 25.
SWITCH_DAYS = {
    "Europe/Paris": [date(2026, 3, 29), date(2026, 10, 25)],
    "America/New_York": [date(2026, 3, 8), date(2026, 11, 1)],
}


@pytest.mark.parametrize("zone", sorted(SWITCH_DAYS))
def test_nine_local_every_day_around_both_switches(zone: str):
    plan = Plan(time(9, 0), zone)
    tz = ZoneInfo(zone)
    for switch in SWITCH_DAYS[zone]:
        moment = datetime.combine(switch - timedelta(days=3), time(12), tzinfo=tz)
        for _ in range(6):
            due = next_due(plan, moment.astimezone(UTC))
            assert due is not None
            local = due.astimezone(tz)
            assert (local.hour, local.minute) == (9, 0), local
            assert local.date() == moment.date() + timedelta(days=1)
            moment = local + timedelta(hours=3)


def test_offsets_really_change_at_the_switch():
    plan = Plan(time(9, 0), "Europe/Paris")
    before = next_due(plan, datetime(2026, 3, 28, 0, 0, tzinfo=UTC))
    after = next_due(plan, datetime(2026, 3, 29, 0, 0, tzinfo=UTC))
    assert (before.hour, after.hour) == (8, 7)  # 09:00 CET, then 09:00 CEST


def test_weekdays_only_skips_the_weekend():
    plan = Plan(time(8, 30), "Europe/Paris", weekdays_only=True)
    friday_evening = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
    due = next_due(plan, friday_evening)
    assert due.astimezone(ZoneInfo("Europe/Paris")).date() == date(2026, 11, 30)  # Monday


def test_a_pause_covers_its_last_day():
    plan = Plan(time(9, 0), "Europe/Paris", paused_until=date(2026, 12, 3))
    due = next_due(plan, datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    assert due.astimezone(ZoneInfo("Europe/Paris")).date() == date(2026, 12, 4)


def test_due_today_if_the_time_has_not_passed_yet():
    plan = Plan(time(18, 0), "America/New_York")
    due = next_due(plan, datetime(2026, 11, 26, 15, 0, tzinfo=UTC))  # 10:00 in New York
    assert due == datetime(2026, 11, 26, 23, 0, tzinfo=UTC)


def test_local_day_is_the_zone_s_day():
    late = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
    assert local_day(late, "Europe/Paris") == date(2026, 11, 27)
    assert local_day(late, "America/New_York") == date(2026, 11, 26)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("9h", "09:00"),
        ("9:30", "09:30"),
        ("18 h 15", "18:15"),
        ("18h15", "18:15"),
        ("07.45", "07:45"),
        ("24:00", None),
        ("9:75", None),
        ("neuf", "09:00"),  # number words are times too (refs #9)
        ("neuf pommes", None),
        ("", None),
    ],
)
def test_times_as_people_type_them(typed: str, expected: str | None):
    assert parse_time(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Paris", "Europe/Paris"),
        ("montréal", "America/Montreal"),
        ("New York", "America/New_York"),
        ("Genève", "Europe/Zurich"),
        ("europe/london", "Europe/London"),
        ("Asia/Tokyo", "Asia/Tokyo"),
        ("Atlantide", None),  # (Atlantis is a town of 80,000 near Cape Town)
        ("America/Argentina", None),  # a folder of the database, not a zone
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("../../etc/passwd", None),
        ("Europe/Atlantis", None),
        ("", None),
    ],
)
def test_time_zones_as_people_type_them(typed: str, expected: str | None):
    assert resolve(typed) == expected
