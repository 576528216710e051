"""A small world for the web view's tests: two coaches, managers who share, one who stopped."""

from __future__ import annotations

from dataclasses import dataclass

from bot.bootstrap import Services
from bot.flows.state import Answer, Pick
from bot.settings import Settings, load_settings
from storage.repository import User

from .helpers import REAL_PLAYBOOK, FakeClock, reflect
from .test_coach import COACH_TELEGRAM_ID, pair, person, settle

OTHER_COACH_ID = 901
WEB_URL = "http://127.0.0.1"


@dataclass(frozen=True)
class World:
    """Who is who, and the ids a request might name."""

    coach: User
    other_coach: User
    ana: User
    ben: User
    ana_link: int
    ben_link: int
    shared: int  # Ana's shared reflection (client Acme)
    private: int  # Ana's private reflection (client Globex)
    unshared: int  # Ben's reflection, shared before Ben's /unshare (client Initech)


def web_settings(tmp_path, **overrides: object) -> Settings:
    """Settings with the web view on, two coaches, the real playbook."""
    values: dict[str, object] = {
        "db_path": tmp_path / "web.db",
        "playbook_path": REAL_PLAYBOOK,
        "coach_ids": f"{COACH_TELEGRAM_ID},{OTHER_COACH_ID}",
        "web_url": WEB_URL,
        "telegram_bot_token": "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11",
    }
    return load_settings(**{**values, **overrides})


def checkin(services: Services, user: User, mood: int) -> None:
    """Today's check-in answered with `mood` (1-5)."""
    conversation = services.conversation
    due = services.checkins.claim_today_for_terminal(user)
    assert due is not None
    reply = services.checkins.start(due)
    for _ in range(20):
        question = reply.question
        if question is None:
            return
        if question.step == "mood":
            reply = conversation.handle(user, Answer(str(mood)))
        elif question.options:
            reply = conversation.handle(user, Pick(question.options[0].id))
        else:
            reply = conversation.handle(user, Answer("Une journée ordinaire."))


def build_world(services: Services, clock: FakeClock) -> World:
    """Camille coaches Ana (check-ins shared) and coached Ben; Dom coaches no one."""
    coach = person(services, COACH_TELEGRAM_ID, "Camille")
    other = person(services, OTHER_COACH_ID, "Dom")
    ana, ben = person(services, 1, "Ana"), person(services, 2, "Ben")
    ana_link = pair(services, coach, ana, checkins=True)
    ben_link = pair(services, coach, ben)
    for mood in (2, 3, 3, 4, 4):
        checkin(services, ana, mood)
        clock.advance(days=1)
    shared = reflect(services, ana, "Acme")
    private = reflect(services, ana, "Globex")
    services.coach.set_private(ana, private, True)
    unshared = reflect(services, ben, "Initech")
    settle(services, clock)
    services.coach.unshare(ben)
    return World(coach, other, ana, ben, ana_link, ben_link, shared, private, unshared)
