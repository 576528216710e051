"""What the manager is told is what happens (issue #10, kind 7), at service level: consent lists
the reflections finished before it and applies the manager's choice; /mydata's readable audit."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.coach.service import Refusal

from .helpers import reflect
from .test_coach import COACH_TELEGRAM_ID, person, settle
from .test_days import clock as clock
from .test_days import services as services


def consent(services, coach, manager) -> None:
    invite = services.coach.invite(coach)
    services.coach.open_invite(manager, invite.code)
    assert not isinstance(services.coach.confirm_share(manager, False, invite.code), Refusal)


def test_consent_lists_past_reflections_and_applies_the_choice(services, clock):
    coach, ana = person(services, COACH_TELEGRAM_ID, "Camille"), person(services, 1, "Ana")
    clock.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    acme = reflect(services, ana, "Acme")
    clock.now = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)  # the 27th in Paris
    globex = reflect(services, ana, "Globex")
    consent(services, coach, ana)
    past = services.coach.past_reflections(ana)
    assert past.text.startswith("Vous avez déjà terminé 2 réflexions. Cochez celles que Camille")
    assert past.items == [(globex, "27 nov. 2026 · Globex"), (acme, "20 nov. 2026 · Acme")]
    assert (past.all_label, past.none_label) == ("Toutes", "Aucune")
    done = services.coach.choose_past(ana, [acme])
    assert (
        done == "C'est noté. Partagées avec Camille : 1 réflexion. Gardées privées : 1 réflexion."
    )
    link = services.coach.link_of(ana).id
    _, cards = services.coach.reflections(coach, link)
    assert [card.session_id for card in cards] == [acme]  # at once, no "Share now" needed
    assert services.coach.read(coach, globex) is None
    assert services.coach.past_reflections(ana) is None  # nothing left to ask about


def test_a_reflection_finished_after_consent_is_not_asked_about(services, clock):
    coach, ana = person(services, COACH_TELEGRAM_ID, "Camille"), person(services, 1, "Ana")
    consent(services, coach, ana)
    reflect(services, ana, "Acme")  # its own private window applies
    assert services.coach.past_reflections(ana) is None


def test_mydata_audit_is_a_readable_list_in_the_manager_s_zone(services, clock):
    coach, ana = person(services, COACH_TELEGRAM_ID, "Camille"), person(services, 1, "Ana")
    assert services.coach.audit_list(ana).text == (
        "Personne n'a lu vos réflexions ni vos points du jour."
    )
    consent(services, coach, ana)
    session = reflect(services, ana, "Acme")
    settle(services, clock)
    clock.now = datetime(2026, 11, 26, 23, 15, tzinfo=UTC)
    services.coach.read(coach, session)
    audit = services.coach.audit_list(ana)
    assert audit.title == "Qui a lu quoi, et quand :"
    assert audit.lines == [f"27 nov. 2026, 00:15 · Camille · a lu la réflexion n° {session}"]
