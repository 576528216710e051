"""Follow-ups count from the day the manager learned of the loss (issue #10, kind 7)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.checkins.followups import loss_day, loss_window
from bot.flows.state import Answer, Pick

from .test_checkins import clock as clock
from .test_checkins import services as services
from .test_checkins import set_up

SCORES = {"guilt_before": "5", "guilt_after": "3", "worry_before": "6", "worry_after": "4"}


def reflect_knowing_since(services, user, since_when: str) -> int:
    conversation = services.conversation
    reply = conversation.start(user, "lost_client")
    session = reply.session_id
    for _ in range(200):
        question = reply.question
        if question is None or reply.session_id != session:
            return session
        if question.step == "since_when":
            reply = conversation.handle(user, Pick(since_when))
        elif question.step in SCORES:
            reply = conversation.handle(user, Answer(SCORES[question.step]))
        elif question.step == "checkin_offer":
            reply = conversation.handle(user, Pick("no"))
        elif question.kind == "multi_choice":
            reply = conversation.handle(user, Answer("1"))
        elif question.options:
            reply = conversation.handle(user, Pick(question.options[0].id))
        elif question.kind == "number":
            reply = conversation.handle(user, Answer("3"))
        else:
            reply = conversation.handle(user, Answer("Acme"))
    raise AssertionError("the reflection did not end")


@pytest.mark.parametrize(
    ("answers", "window"),
    [
        ({"since_when": "this_week"}, (date(2026, 11, 20), date(2026, 11, 26))),
        ({"since_when": "this_month"}, (date(2026, 10, 27), date(2026, 11, 19))),
        ({"since_when": "one_to_three_months"}, (date(2026, 8, 26), date(2026, 10, 27))),
        ({"since_when": "longer"}, (None, date(2026, 8, 26))),
        ({}, (date(2026, 11, 26), date(2026, 11, 26))),
        ({"loss_date": "2026-11-02", "since_when": "this_week"}, (date(2026, 11, 2),) * 2),
        (
            {"loss_date": "2027-01-01", "since_when": "this_week"},
            (date(2026, 11, 20), date(2026, 11, 26)),
        ),
    ],
)
def test_the_loss_window_from_the_facts(answers, window):
    assert loss_window(answers, date(2026, 11, 26)) == window
    assert loss_day(answers, date(2026, 11, 26)) == window[1]


def test_known_for_weeks_the_d7_follow_up_comes_next_day_not_a_week_later(services, clock):
    user = set_up(services, "noa")
    reflect_knowing_since(services, user, "this_month")  # Nov 26: learned by Nov 19 at the latest
    flows = []
    clock.now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    for _ in range(30):
        for _tick in range(2):  # a tick that skips a missed day sends the next one's next tick
            for due in services.checkins.claim_due(10):
                flows.append(due.flow)
                services.checkins.start(due)
        clock.advance(days=1)
    assert flows[0] == "followup_contact"  # Nov 27, within D+7's few late days (was Dec 3)
    assert flows.index("followup_idea") == 22  # Dec 19 = Nov 19 + 30 (was Dec 26)


def test_follow_ups_on_their_own_for_a_manager_without_daily_checkins(services, clock):
    user = services.conversation.user("telegram:solo", "Solo", "fr")
    conversation = services.conversation
    reply = conversation.start(user, "lost_client")
    session = reply.session_id
    offered = []
    for _ in range(200):
        question = reply.question
        if question is None or reply.session_id != session:
            break
        if question.step == "since_when":
            reply = conversation.handle(user, Pick("this_week"))
        elif question.step in SCORES:
            reply = conversation.handle(user, Answer(SCORES[question.step]))
        elif question.step == "checkin_offer":
            reply = conversation.handle(user, Pick("no"))
        elif question.step == "followup_offer":
            offered.append(question.prompt)
            reply = conversation.handle(user, Pick("yes"))
        elif question.kind == "multi_choice":
            reply = conversation.handle(user, Answer("1"))
        elif question.options:
            reply = conversation.handle(user, Pick(question.options[0].id))
        elif question.kind == "number":
            reply = conversation.handle(user, Answer("3"))
        else:
            reply = conversation.handle(user, Answer("Acme"))
    assert offered and "Acme" in offered[0]
    settings = services.checkins.settings(user)
    assert settings.enabled and settings.followups_only
    flows = {}
    clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # 09:00 in Paris, the reflection's day
    for day in range(40):
        for due in services.checkins.claim_due(10):
            flows[day] = due.flow
            services.checkins.start(due)
        clock.advance(days=1)
    assert flows == {7: "followup_contact", 30: "followup_idea"}  # and no daily check-in
    assert services.checkins.settings(user).next_due_at is None  # nothing left to wake for
