"""A manager's first 30 days, played on a set clock at service level (issue #11).

The scheduler's tick runs every 30 minutes: due check-ins, reminders of an unfinished
reflection, commitment reminders. Every message the manager would receive unasked is counted
per local day and checked against their quiet hours. `pytest -s` prints the figures.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.flows.state import Answer, Pick, Skip

from .helpers import FakeClock
from .test_journey import clock, person, reflect, services  # noqa: F401  (fixtures)

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 10:00 in Paris, day 0


def answer_flow(built, user, reply, picks: dict[str, str], texts: dict[str, str]) -> None:
    """Answer what the manager is asked until nothing more is asked (chained flows included)."""
    conversation = built.conversation
    for _ in range(200):
        question = reply.question
        if question is None:
            return
        if question.step in picks:
            event = Pick(picks[question.step])
        elif question.step in texts:
            event = Answer(texts[question.step])
        elif question.optional:
            event = Skip()
        elif question.kind == "multi_choice":
            event = Answer("1")
        elif question.kind == "number":
            event = Answer("3")
        elif question.kind in ("scale",):
            event = Pick("4")
        elif question.kind == "yes_no":
            event = Pick("yes")
        elif question.options:
            event = Pick(question.options[0].id)
        else:
            event = Answer("Un pas de plus")
        reply = conversation.handle(user, event)
    raise AssertionError("the flow did not end")


def test_thirty_days_of_a_manager(services, clock: FakeClock):  # noqa: F811
    clock.now = START
    conversation, journey = services.conversation, services.journey
    ana = person(services, "telegram:1", "Ana")  # check-ins on, after her reflection
    ben = person(services, "telegram:2", "Ben")  # no check-ins: commitment reminders instead
    day0 = START.astimezone(PARIS).date()

    # Day 0: Ana starts her reflection and stops after the facts; Ben finishes his.
    reply = conversation.start(ana, "lost_client")
    while reply.question.progress.index == 1:  # the facts, then she goes quiet
        step = reply.question
        if step.options:
            event = Pick(step.options[0].id)
        else:
            event = Answer("Acme" if step.step == "client" else "3")
        reply = conversation.handle(ana, event)
    ben_dates = {"first_step_when": (day0 + timedelta(days=2)).isoformat()}

    reflect(services, ben, ben_dates)

    received: dict[str, Counter] = {"Ana": Counter(), "Ben": Counter()}
    kinds: dict[str, Counter] = {"Ana": Counter(), "Ben": Counter()}
    finished = False
    steps_done = 0

    def count(user, kind: str) -> None:
        local = clock.now.astimezone(PARIS)
        assert not journey.in_quiet_hours(user), f"{kind} at {local:%H:%M} in quiet hours"
        day = (local.date() - day0).days
        received[user.display_name][day] += 1
        kinds[user.display_name][kind] += 1

    while clock.now < START + timedelta(days=30):
        local_day = (clock.now.astimezone(PARIS).date() - day0).days
        if local_day == 4 and not finished and clock.now.astimezone(PARIS).hour == 12:
            # Day 4, at noon, after two reminders: Ana finishes, and takes the check-ins.
            finished = True
            reply = journey.nudges.resume(ana)
            due = {
                "first_step_when": (day0 + timedelta(days=6)).isoformat(),
                "team_talk_when": (day0 + timedelta(days=8)).isoformat(),
                "contact_when": "bientôt",
            }
            answer_flow(
                services,
                ana,
                reply,
                {"checkin_offer": "yes", "checkin_action": "daily", "checkin_time": "0900"},
                {**due, "checkin_zone": "Paris", "first_step": "Appeler Paul"},
            )
        for due in services.checkins.claim_due(100):
            reply = services.checkins.start(due)
            count(due.user, due.flow)
            steps_done += 1
            status = "done" if steps_done % 3 else "in_progress"
            next_when = (clock.now.astimezone(PARIS).date() + timedelta(days=5)).isoformat()
            answer_flow(
                services,
                due.user,
                reply,
                {"commitment_status": status, "commitment_progress": "progressing"},
                {"next_step": f"Étape {steps_done}", "next_step_when": next_when},
            )
        for nudge in journey.nudges.due():
            assert journey.nudges.sent(nudge)
            count(nudge.user, "nudge")
        for reminder in journey.commitments.reminders_due():
            reply = journey.commitments.start_reminder(reminder)
            count(reminder.user, "commitment reminder")
            answer_flow(services, reminder.user, reply, {"commitment_status": "done"}, {})
        clock.advance(minutes=30)

    for name in ("Ana", "Ben"):
        per_day = " ".join(str(received[name][day]) for day in range(30))
        print(f"\n{name}, messages received per day (day 0 to 29): {per_day}")
        print(f"{name}, by kind: {dict(kinds[name])}")
    assert kinds["Ana"]["nudge"] == 2  # after a day and after three days, then nothing
    assert received["Ana"][1] == 1 and received["Ana"][3] == 1 and received["Ana"][2] == 0
    assert kinds["Ana"]["commitment_check"] >= 2  # the first step's day, the team talk's day
    assert max(received["Ana"].values()) == 1  # never more than one unasked message a day
    # Ben: his first step's day (day 2), his team talk's day (day 4, the date of test_journey)
    assert kinds["Ben"] == Counter({"commitment reminder": 2})
    assert received["Ben"][2] == 1 and received["Ben"][4] == 1
    print(journey.commitments.listing(ana))
