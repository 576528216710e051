"""The loss date is asked as a date at the facts step (issue #10, kind 7): a day or a period in
the past typed in words (dateparser through bot.flows.dates), or a quick answer; follow-ups count
from it. Inputs in tests/data/past_dates.yaml, French and English."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot.flows.dates import period_value, read_past_period
from bot.flows.state import Answer, Invalid, Pick, Say, SessionState

from .test_checkins import clock as clock
from .test_checkins import services as services
from .test_checkins import set_up
from .test_followups import SCORES

TABLE = yaml.safe_load(
    (Path(__file__).parent / "data" / "past_dates.yaml").read_text(encoding="utf-8")
)
SAID_AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def texts(reply) -> list[str]:
    """What the bot said in a reply, refusals included."""
    return [
        o.reason if isinstance(o, Invalid) else o.text
        for o in reply.outputs
        if isinstance(o, Say | Invalid)
    ]


@pytest.mark.parametrize("row", TABLE, ids=[f"{r['lang']}:{r['text']}" for r in TABLE])
def test_a_past_day_or_period_in_words(row):
    period = read_past_period(row["text"], row["lang"], SAID_AT)
    assert (None if period is None else period_value(period)) == row["expect"]


def reflect_typing_since(services, user, typed: str) -> tuple[int, list[str]]:
    """A whole reflection, typing `typed` at "since when"; the session and what was said there."""
    conversation = services.conversation
    reply = conversation.start(user, "lost_client")
    session, said = reply.session_id, []
    for _ in range(200):
        question = reply.question
        if question is None or reply.session_id != session:
            return session, said
        if question.step == "since_when":
            reply = conversation.handle(user, Answer(typed))
            said = texts(reply)
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


def test_the_loss_date_is_asked_as_a_date_and_said_back(services, clock):
    """It was estimated from four buttons only ("this month" = by the 19th at the latest)."""
    user = set_up(services, "ana")
    conversation = services.conversation
    reply = conversation.start(user, "lost_client")
    reply = conversation.handle(user, Answer("Acme"))
    assert reply.question.step == "since_when"
    assert "le 12 novembre" in reply.question.prompt  # the question asks for a date
    assert [option.id for option in reply.question.options][:2] == ["this_week", "this_month"]

    refused = conversation.handle(user, Answer("Ma faute"))
    assert "Je n'ai pas reconnu de date passée." in texts(refused)[0]
    assert refused.question.step == "since_when"
    assert conversation.handle(user, Answer("demain")).question.step == "since_when"

    reply = conversation.handle(user, Answer("il y a 3 semaines"))  # said on the 26th
    assert "Noté : 2\u20138 nov. 2026." in texts(reply)  # an en dash, by Babel
    assert reply.question.step != "since_when"
    state = SessionState.model_validate_json(conversation.session(reply.session_id).state)
    assert state.answers["since_when"] == "2026-11-02/2026-11-08"


def test_follow_ups_count_from_the_typed_loss_date(services, clock):
    """Learned on 5 November, reflecting on the 26th: D+30 is 5 December (with "this month",
    the only way to say it before, it was 19 December)."""
    user = set_up(services, "noa")
    session, said = reflect_typing_since(services, user, "le 5 novembre")
    assert "Noté : 5 nov. 2026." in said
    transcript = services.coach.transcript(services.conversation.session(session))
    answers = dict(transcript.sections[0].exchanges)  # what a coach reads: the date, in words
    assert "5 nov. 2026" in answers.values()
    flows = []
    clock.now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    for _ in range(30):
        for _tick in range(2):
            for due in services.checkins.claim_due(10):
                flows.append(due.flow)
                services.checkins.start(due)
        clock.advance(days=1)
    assert flows.index("followup_idea") == 8  # 5 December = 27 November + 8


@pytest.mark.e2e
async def test_on_telegram_the_loss_date_is_typed_under_the_quick_answers(tmp_path: Path):
    from .e2e import harness, walk
    from .helpers import FakeClock
    from .test_telegram_e2e import onboard

    clock = FakeClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    async with harness(tmp_path, clock=clock) as bot:
        claire = bot.user(6001, "Claire")
        await onboard(bot, claire, "fr")
        reflection = walk(claire, bot.playbook, "lost_client", "fr", lambda a: "Acme")
        await reflection.answer()  # the client
        question = await claire.wait_until(
            lambda: next((m for m in claire.messages if "le 12 novembre" in (m.text or "")), None)
        )
        assert question.button_texts[:2] == ["Cette semaine", "Ce mois-ci"]  # quick answers
        await claire.send("Ma faute")
        await claire.wait_until(
            lambda: any(
                (m.text or "").endswith("ou touchez l'un des 4 boutons.") for m in claire.messages
            )
        )
        await claire.send("lundi dernier")
        await claire.wait_until(
            lambda: any(
                (m.text or "").startswith("Noté : 23 nov. 2026.\n") for m in claire.messages
            )
        )
        [row] = bot.query("SELECT value FROM answers WHERE step = 'since_when'")
        assert json.loads(row["value"]) == "2026-11-23"
