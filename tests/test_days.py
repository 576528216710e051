"""One rule for "which day" (the manager's local day), Babel's words and numbers, and streaks
that never count a day the bot did not ask (issue #10, kinds 1, 5 and 6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.bootstrap import build_services
from bot.formatting import count, day_of, day_text, decimal, short_day, time_text
from bot.settings import load_settings
from storage import checkins as store
from storage.db import open_database

from .helpers import REAL_PLAYBOOK, FakeClock, reflect
from .test_checkins import answer_checkin, checkin_days, send_due, set_up
from .test_coach import COACH_TELEGRAM_ID, pair, person, settle


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(tmp_path, clock):
    settings = load_settings(
        db_path=tmp_path / "days.db", playbook_path=REAL_PLAYBOOK, coach_ids=str(COACH_TELEGRAM_ID)
    )
    built = build_services(settings, open_database(settings.db_path), clock)
    yield built
    built.conversation.db.close()


def test_a_paris_manager_finishing_at_half_past_midnight_finished_that_day(services, clock):
    ana = set_up(services, "ana")  # Paris
    clock.now = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)  # 00:00 in Paris on the 27th
    session = reflect(services, ana)  # the reflection ends at 00:30 local, say
    row = services.conversation.session(session)
    assert row.completed_at.startswith("2026-11-26T23")  # stored in UTC
    day = date(2026, 11, 27)
    assert services.conversation.session_day(row) == day  # /history
    assert services.conversation.session_day_text(row, "fr") == "27 nov. 2026"
    assert services.coach.card(row).day == day  # the coach's card, /trend, file names
    assert services.checkins.progress(ana).reflection_days == [day]  # /progress


def test_a_new_york_manager_s_day_is_new_york_s_everywhere(services, clock):
    coach = person(services, COACH_TELEGRAM_ID, "Coach")
    bo = set_up(services, "bo", zone="New York")
    link = pair(services, coach, bo)
    clock.now = datetime(2026, 11, 27, 3, 30, tzinfo=UTC)  # 22:30 on the 26th in New York
    session = reflect(services, bo)
    settle(services, clock)
    row = services.conversation.session(session)
    day = date(2026, 11, 26)
    assert services.coach.card(row).day == day  # was the 27th (Paris for every coach view)
    assert services.conversation.session_day(row) == day
    _, _, cards, _, end = services.coach.trend(coach, link)
    assert end == date(2026, 11, 26) and [c.day for c in cards] == [day]
    assert services.checkins.progress(bo).reflection_days == [day]


def test_a_coach_reads_times_in_their_own_zone_else_the_manager_s(services, clock):
    coach = person(services, COACH_TELEGRAM_ID, "Coach")
    bo = set_up(services, "bo", zone="New York")
    moment = "2026-11-27T03:30:00.000+00:00"
    assert services.coach.time_for_coach(coach, bo.id, moment) == "26 nov. 2026, 22:30"
    assert services.coach.set_zone(coach, "Montréal") == "America/Montreal"
    assert services.coach.set_zone(coach, "Atlantide") is None
    assert services.coach.time_for_coach(coach, bo.id, moment) == "26 nov. 2026, 22:30"
    assert services.coach.set_zone(coach, "Paris") == "Europe/Paris"
    assert services.coach.time_for_coach(coach, bo.id, moment) == "27 nov. 2026, 04:30"
    assert services.coach.set_zone(bo, "Paris") is None  # not a coach


def test_three_answered_the_bot_down_on_day_four_day_five_answered_is_a_streak_of_four(
    services, clock
):
    user = set_up(services, "lou")
    start = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    for offset in (0, 1, 2):
        clock.now = start + timedelta(days=offset)
        assert send_due(services) == [user.key]
        answer_checkin(services, user, 4)
    clock.now = start + timedelta(days=3, hours=4)  # down past the grace on day 4
    assert send_due(services) == []
    clock.now = start + timedelta(days=4)
    assert send_due(services) == [user.key]
    answer_checkin(services, user, 5)
    assert [status for _, status in checkin_days(services, user)] == [
        "answered",
        "answered",
        "answered",
        "skipped",
        "answered",
    ]
    assert services.checkins.streak(user) == 4


def test_a_checkin_the_bot_could_not_deliver_never_breaks_a_streak(services, clock):
    user = set_up(services, "max")
    start = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    ids = []
    for offset in range(3):
        clock.now = start + timedelta(days=offset)
        for due in services.checkins.claim_due(10):
            services.checkins.start(due)
            ids.append(due.checkin_id)
        if offset != 1:
            answer_checkin(services, user, 3)
    services.checkins.undelivered(ids[1])  # Telegram refused the second day's message
    assert checkin_days(services, user)[1] == ("2026-11-27", "undelivered")
    assert services.checkins.streak(user) == 2
    store.mark_undelivered(services.conversation.db, ids[2])  # an answered day stays answered
    assert checkin_days(services, user)[2] == ("2026-11-28", "answered")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("fr", ("27 nov. 2026", "27/11", "3,7", "1 réflexion", "2 réflexions", "0 réflexion")),
        ("en", ("27 Nov 2026", "27/11", "3.7", "1 reflection", "2 reflections", "0 reflections")),
    ],
)
def test_babel_writes_days_decimals_and_plurals(lang, expected):
    day = date(2026, 11, 27)
    assert (
        day_text(day, lang),
        short_day(day, lang),
        decimal(3.66, lang),
        count(1, "reflection", lang),
        count(2, "reflection", lang),
        count(0, "reflection", lang),
    ) == expected
    assert count(1, "checkin", lang) in ("1 point du jour", "1 check-in")
    assert day_of("2026-11-26T23:30:00.000+00:00", "Europe/Paris") == day
    assert time_text("2026-11-26T23:30:00.000+00:00", "Europe/Paris", lang).endswith("00:30")


def test_the_coach_trend_line_writes_decimals_in_the_coach_s_language(services, clock):
    coach = person(services, COACH_TELEGRAM_ID, "Coach")
    lou = set_up(services, "lou")
    pair(services, coach, lou, checkins=True)
    start = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    for offset, mood in enumerate([4, 3, 4]):
        clock.now = start + timedelta(days=offset)
        send_due(services)
        answer_checkin(services, lou, mood)
    [(_, trend)] = services.coach.managers(coach)
    assert trend == "3,7/5"


def test_chart_axes_write_days_with_babel():
    from bot.charts import date_ticks

    _, labels = date_ticks(date(2026, 11, 27), date(2026, 11, 29), "en")
    assert labels == ["27/11", "28/11", "29/11"]
    _, labels = date_ticks(date(2026, 12, 31), date(2027, 1, 1), "fr")
    assert labels == ["31/12/2026", "01/01/2027"]


def test_answers_in_summaries_write_numbers_in_the_manager_s_language(make_playbook):
    from bot.flows.text import display_value

    playbook = make_playbook(
        """
        demo:
          title: {fr: "D", en: "D"}
          sections:
            - id: s
              title: {fr: "S", en: "S"}
              steps:
                - id: years
                  type: number
                  min: 0
                  max: 100000
                  unit: {fr: "ans", en: "years"}
                  prompt: {fr: "Combien ?", en: "How many?"}
        """
    )
    step = playbook.flows["demo"].step_by_id["years"]
    assert display_value(playbook, step, 3.5, "fr") == "3,5 ans"
    assert display_value(playbook, step, 3.5, "en") == "3.5 years"
    assert display_value(playbook, step, 12000.0, "en") == "12,000 years"


def test_the_export_summary_counts_each_thing_in_its_plural():
    """From a new user's trial: "exported 1 reflection of 2 managers into 1 files" read oddly."""
    from bot.cli import export_line

    assert export_line(2, 1, 1, "out/") == "exported 2 managers and 1 reflection: 1 file in out/"
    assert export_line(1, 0, 0, "out/") == "exported 1 manager and 0 reflections: 0 files in out/"
