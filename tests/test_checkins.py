"""Check-ins on a set clock: exactly one a day at the manager's local time, whatever happens."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.bootstrap import Services, build_services
from bot.checkins.service import SETUP
from bot.flows.state import Answer, Pick, Skip
from bot.settings import load_settings
from storage import checkins as store
from storage.db import open_database
from storage.repository import User

from .helpers import REAL_PLAYBOOK, FakeClock, reflect


def services_at(path: Path, clock: FakeClock, grace_hours: float = 3) -> Services:
    settings = load_settings(
        db_path=path, playbook_path=REAL_PLAYBOOK, checkin_grace_hours=grace_hours
    )
    return build_services(settings, open_database(path), clock)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(tmp_path: Path, clock: FakeClock):
    built = services_at(tmp_path / "checkins.db", clock)
    yield built
    built.conversation.db.close()


def set_up(
    services: Services, name: str, action: str = "daily", at: str = "0900", zone: str = "Paris"
) -> User:
    """Go through the real setup flow, as a manager would with the buttons."""
    conversation = services.conversation
    user = conversation.user(f"telegram:{name}", name, "fr")
    conversation.start(user, SETUP)
    conversation.handle(user, Pick(action))
    if action in ("daily", "weekdays"):
        conversation.handle(user, Pick(at))
        conversation.handle(user, Answer(zone))
    return conversation.user(user.key)


def send_due(services: Services) -> list[str]:
    """One scheduler tick: claim what is due and start it; the keys of the users reached."""
    reached = []
    for due in services.checkins.claim_due(500):
        services.checkins.start(due)
        reached.append(due.user.key)
    return reached


def checkin_days(services: Services, user: User) -> list[tuple[str, str]]:
    return [
        (c.local_date, c.status)
        for c in sorted(
            store.recent_checkins(services.conversation.db, user.id), key=lambda c: c.local_date
        )
    ]


def test_the_setup_flow_stores_the_settings(services: Services, clock: FakeClock):
    user = set_up(services, "ana", "weekdays", "0830", "Montréal")
    settings = services.checkins.settings(user)
    assert (settings.enabled, settings.local_time, settings.timezone, settings.weekdays_only) == (
        True,
        "08:30",
        "America/Montreal",
        True,
    )
    assert settings.next_due_at == "2026-11-26T13:30:00.000+00:00"  # 08:30 in Montréal, today


@pytest.mark.parametrize(
    ("zone", "typed", "start"),
    [
        ("Europe/Paris", "Paris", datetime(2026, 3, 26, 12, tzinfo=UTC)),
        ("Europe/Paris", "Paris", datetime(2026, 10, 22, 12, tzinfo=UTC)),
        ("America/New_York", "New York", datetime(2026, 3, 5, 18, tzinfo=UTC)),
        ("America/New_York", "New York", datetime(2026, 10, 29, 18, tzinfo=UTC)),
    ],
)
def test_nine_local_within_a_minute_across_the_switch(tmp_path, zone, typed, start):
    clock = FakeClock(start)
    services = services_at(tmp_path / "dst.db", clock)
    try:
        user = set_up(services, "ben", zone=typed)
        tz = ZoneInfo(zone)
        arrivals = []
        for _day in range(6):  # three days either side of the switch
            local_day = clock.now.astimezone(tz).date() + timedelta(days=1)
            clock.now = datetime.combine(local_day, time(8, 0), tzinfo=tz).astimezone(UTC)
            for _minute in range(120):  # a tick a minute from 08:00 to 10:00 local
                if send_due(services):
                    arrivals.append(clock.now.astimezone(tz))
                clock.advance(minutes=1)
        assert len(arrivals) == 6
        for arrival in arrivals:
            assert abs((arrival.hour * 60 + arrival.minute) - 9 * 60) <= 1, arrival
        statuses = [status for _, status in checkin_days(services, user)]
        assert statuses == ["missed"] * 5 + ["sent"]  # unanswered ones close at the next
    finally:
        services.conversation.db.close()


@pytest.mark.slow
def test_a_thousand_users_and_three_restarts_one_checkin_each(tmp_path: Path):
    path = tmp_path / "many.db"
    clock = FakeClock(datetime(2026, 11, 26, 5, 0, tzinfo=UTC))  # 06:00 in Paris
    services = services_at(path, clock)
    times = ["0730", "0830", "0900", "1230", "1800", "2000"]
    users = [set_up(services, f"u{n}", at=times[n % len(times)]) for n in range(1000)]
    reached: list[str] = []
    restarts = {
        datetime(2026, 11, 26, 7, 31, tzinfo=UTC),
        datetime(2026, 11, 26, 11, 0, tzinfo=UTC),
        datetime(2026, 11, 26, 17, 1, tzinfo=UTC),
    }
    while clock.now < datetime(2026, 11, 26, 22, 0, tzinfo=UTC):
        if clock.now in restarts:  # a new process on the same database
            services.conversation.db.close()
            services = services_at(path, clock)
        reached += send_due(services)
        clock.advance(minutes=1)
    try:
        assert len(reached) == 1000 and len(set(reached)) == 1000
        rows = list(services.conversation.db.query("SELECT count(*) AS n FROM checkins"))
        assert rows[0]["n"] == 1000
        assert {u.key for u in users} == set(reached)
    finally:
        services.conversation.db.close()


def test_down_through_the_due_time_then_back_within_the_grace(services, clock):
    user = set_up(services, "cleo")  # 09:00 Paris = 08:00 UTC
    clock.now = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)  # back 2 h 30 late
    assert send_due(services) == [user.key]
    assert send_due(services) == []
    assert checkin_days(services, user) == [("2026-11-26", "sent")]


def test_back_after_days_down_sends_today_s_if_within_the_grace(services, clock):
    user = set_up(services, "dee")
    clock.now = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)  # down two days, back at 10:30
    assert send_due(services) == []  # the 26th is long past: skipped
    assert send_due(services) == [user.key]  # the 28th, 1 h 30 late: sent
    assert checkin_days(services, user) == [("2026-11-26", "skipped"), ("2026-11-28", "sent")]


def test_down_past_the_grace_that_day_is_skipped(services, clock):
    user = set_up(services, "dan")
    clock.now = datetime(2026, 11, 26, 11, 30, tzinfo=UTC)  # 3 h 30 late
    assert send_due(services) == []
    assert checkin_days(services, user) == [("2026-11-26", "skipped")]
    clock.now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # the next day is on time
    assert send_due(services) == [user.key]


def test_weekdays_only(services, clock):
    user = set_up(services, "eve", "weekdays")
    for _ in range(7 * 24):
        send_due(services)
        clock.advance(hours=1)
    days = [date.fromisoformat(day) for day, _ in checkin_days(services, user)]
    assert [d.weekday() for d in days] == [3, 4, 0, 1, 2]  # Thu, Fri, Mon, Tue, Wed


def test_pause_for_n_days(services, clock):
    user = set_up(services, "fay")
    services.conversation.start(user, SETUP)
    services.conversation.handle(user, Pick("pause"))
    services.conversation.handle(user, Answer("3"))  # today and the next two days
    for _ in range(5 * 24):
        send_due(services)
        clock.advance(hours=1)
    assert [day for day, _ in checkin_days(services, user)] == ["2026-11-29", "2026-11-30"]


def test_turning_them_off(services, clock):
    user = set_up(services, "gil")
    services.conversation.start(user, SETUP)
    services.conversation.handle(user, Pick("off"))
    clock.advance(days=2)
    assert send_due(services) == []
    assert services.checkins.settings(user).enabled is False


def test_later_snoozes_once_by_an_hour(services, clock):
    user = set_up(services, "hal")
    clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    [due] = services.checkins.claim_due(10)
    services.checkins.start(due)
    assert services.checkins.snooze(user, due.checkin_id)
    assert not services.checkins.snooze(user, due.checkin_id)  # once
    clock.advance(minutes=59)
    assert services.checkins.claim_due(10) == []
    clock.advance(minutes=1)
    [again] = services.checkins.claim_due(10)
    assert again.checkin_id == due.checkin_id and not again.snoozable
    reply = services.checkins.start(again)
    assert reply.question.step == "mood"
    assert not services.checkins.snooze(user, due.checkin_id)
    clock.now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # the next day as usual
    assert send_due(services) == [user.key]


def test_an_unanswered_checkin_is_closed_quietly_by_the_next(services, clock):
    user = set_up(services, "ida")
    clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    send_due(services)
    clock.now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    send_due(services)
    assert checkin_days(services, user) == [("2026-11-26", "missed"), ("2026-11-27", "sent")]
    open_checkin_sessions = list(
        services.conversation.db.query(
            "SELECT count(*) AS n FROM sessions WHERE flow = 'daily_checkin' AND status = 'active'"
        )
    )
    assert open_checkin_sessions[0]["n"] == 1


def answer_checkin(services: Services, user: User, mood: int) -> None:
    conversation = services.conversation
    conversation.handle(user, Pick(str(mood)))
    conversation.handle(user, Pick("progressing"))
    conversation.handle(user, Answer(""))  # the optional fact, passed


def finish_reflection(services: Services, user: User) -> None:
    """A whole reflection; every free text (so the commitment) is 'Appeler Paul'."""
    reflect(services, user, text="Appeler Paul")


def test_followups_at_d7_and_d30_then_back_to_daily(services, clock):
    user = set_up(services, "jo")
    finish_reflection(services, user)  # done on Nov 26
    flows = {}
    clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # 09:00 in Paris, every day
    for _ in range(40):
        for due in services.checkins.claim_due(10):
            flows[due.checkin_id] = due.flow
            reply = services.checkins.start(due)
            if due.flow == "followup_contact":
                assert "Appeler Paul" in reply.question.prompt  # the client, quoted
        clock.advance(days=1)
    sequence = [flow for _, flow in sorted(flows.items())]
    assert sequence[7] == "followup_contact"  # Dec 3 = D+7
    assert sequence[30] == "followup_idea"  # Dec 26 = D+30
    assert sequence.count("daily_checkin") == 38


def test_the_checkin_quotes_the_latest_commitment(services, clock):
    user = set_up(services, "kim")
    finish_reflection(services, user)
    clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    [due] = services.checkins.claim_due(10)
    services.checkins.start(due)
    reply = services.conversation.handle(user, Pick("4"))
    assert "Appeler Paul (d'ici : Appeler Paul)" in reply.question.prompt


def test_streak_and_progress(services, clock):
    user = set_up(services, "lou")
    moods = [3, 4, None, 2, 5, 4]  # the third day is not answered
    for offset, mood in enumerate(moods):
        clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC) + timedelta(days=offset)
        assert send_due(services) == [user.key]
        if mood is not None:
            answer_checkin(services, user, mood)
    progress = services.checkins.progress(user)
    assert [m for _, m in progress.moods] == [3, 4, 2, 5, 4]
    assert progress.streak == 3
    assert progress.average == 3.6
    assert checkin_days(services, user)[2][1] == "missed"


def test_a_manager_in_the_middle_of_a_reflection_gets_the_checkin_once_they_pause(services, clock):
    user = set_up(services, "kit")
    clock.now = datetime(2026, 11, 26, 7, 57, tzinfo=UTC)
    services.conversation.start(user, "lost_client")
    services.conversation.handle(user, Answer("Acme"))  # 08:57 in Paris
    clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert send_due(services) == []  # chatting: it waits
    clock.advance(minutes=4)
    services.conversation.handle(user, Pick("this_week"))  # still going
    clock.advance(minutes=4)
    assert send_due(services) == []
    clock.advance(minutes=2)  # 6 minutes without an answer: no longer chatting
    assert send_due(services) == [user.key]


def test_a_checkin_set_two_minutes_ahead_arrives_on_time(services, clock):
    """Issue #11: setting a check-in from the middle of a reflection to try it got nothing
    for 30 minutes, the reflection it returned to counting as chatting."""
    conversation = services.conversation
    user = conversation.user("telegram:ivy", "Ivy", "fr")
    clock.now = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # 08:00 in Paris
    conversation.start(user, "lost_client")
    conversation.handle(user, Answer("Acme"))
    clock.advance(minutes=1)
    conversation.start(user, SETUP)  # /checkin, in the middle of the reflection
    conversation.handle(user, Pick("daily"))
    conversation.handle(user, Answer("08:03"))
    reply = conversation.handle(user, Answer("Paris"))
    assert reply.question.step == "since_when"  # back to the reflection
    clock.advance(minutes=2)  # 08:03 in Paris
    assert send_due(services) == [user.key]


def test_later_returns_the_chat_to_the_interrupted_reflection(services, clock):
    user = set_up(services, "liv")
    clock.now = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
    services.conversation.start(user, "lost_client")
    services.conversation.handle(user, Answer("Acme"))
    clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # an hour later: not chatting
    [due] = services.checkins.claim_due(10)
    services.checkins.start(due)
    assert services.checkins.snooze(user, due.checkin_id)
    reply = services.conversation.handle(user, Pick("this_week"))
    assert reply.question.step == "revenue_share"  # the reflection, not the check-in's mood
    assert checkin_days(services, user) == [("2026-11-26", "snoozed")]


def test_a_checkin_in_the_middle_of_a_reflection_returns_to_it(services, clock):
    user = set_up(services, "max")
    clock.now = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
    services.conversation.start(user, "lost_client")
    services.conversation.handle(user, Answer("Acme"))
    clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    send_due(services)
    services.conversation.handle(user, Pick("4"))
    services.conversation.handle(user, Pick("done"))
    reply = services.conversation.handle(user, Answer("Un client m'a remercié"))
    assert reply.question.step == "next_step"  # done: the next step (refs #11)
    services.conversation.handle(user, Skip())
    reply = services.conversation.handle(user, Skip())
    assert reply.question.step == "since_when"  # where the reflection was left
    state = json.loads(
        next(
            iter(
                services.conversation.db.query(
                    "SELECT state FROM sessions WHERE flow = 'lost_client'"
                )
            )
        )["state"]
    )
    assert state["answers"] == {"client": "Acme"}


def test_only_an_interrupted_reflection_is_resumed_after_a_flow(services, clock):
    user = set_up(services, "ned")
    conversation = services.conversation
    conversation.start(user, "onboarding")  # left unfinished
    reflect(services, user)
    assert conversation.current(user) is None  # no "back to your reflection" into onboarding


async def test_one_failing_checkin_does_not_stop_the_round(services, clock):
    from bot.checkins.sender import CheckinSender
    from bot.delivery.outbox import Storage

    # Numeric names: these keys are real Telegram user ids, so both check-ins reach start().
    first, second = set_up(services, "101"), set_up(services, "102")
    clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    storage = Storage(services.conversation.db, clock)
    sender = CheckinSender(services.conversation, services.checkins, storage)
    started: list[str] = []

    def start(due, delivered=True):
        if due.user.key == first.key:
            raise KeyError("this manager was just forgotten")
        started.append(due.user.key)
        return services.conversation.resume(due.user)

    services.checkins.start = start  # what runs first inside each send
    assert await sender.send_due() == 1  # the second manager's check-in is queued all the same
    assert started == [second.key]
