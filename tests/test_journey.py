"""The manager's journey after a reflection (issue #11), at service level on a set clock:
home, reminders, quiet hours, check-in schedule, commitments, /cancel, the coach thread."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bootstrap import Services, build_services
from bot.checkins.service import SETUP
from bot.coach.service import Refusal
from bot.flows.state import Answer, Pick
from bot.settings import load_settings
from storage import journey as store
from storage.db import open_database
from storage.repository import User

from .helpers import REAL_PLAYBOOK, FakeClock

COACH_TELEGRAM_ID = 900
WHEN = {
    "first_step_when": "2026-11-28",
    "contact_when": "quand il reviendra de congés",
    "team_talk_when": "2026-11-30",
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))  # 11:00 in Paris


@pytest.fixture
def services(tmp_path: Path, clock: FakeClock):
    settings = load_settings(
        db_path=tmp_path / "journey.db",
        playbook_path=REAL_PLAYBOOK,
        coach_ids=str(COACH_TELEGRAM_ID),
    )
    built = build_services(settings, open_database(settings.db_path), clock)
    yield built
    built.conversation.db.close()


def person(services: Services, key: str, name: str = "Ana") -> User:
    return services.conversation.user(key, name, "fr")


def reflect(services: Services, user: User, answers: dict[str, str] | None = None) -> int:
    """A whole reflection with the first options; `answers` by step, others name their step."""
    # Learned of the loss this week: follow-ups (counted from the loss, refs #10) stay a week off.
    given = {"client": "Acme", "since_when": "1", "checkin_offer": "no", **WHEN, **(answers or {})}
    conversation = services.conversation
    reply = conversation.start(user, "lost_client")
    session_id = reply.session_id
    while reply.question is not None and reply.session_id == session_id:
        question = reply.question
        if question.step in given:
            event = Answer(given[question.step])
        elif question.kind == "multi_choice":
            event = Answer("1")
        elif question.options:
            event = Pick(question.options[len(question.options) // 2].id)
        elif question.kind == "number":
            event = Answer("3")
        else:
            event = Answer(f"Réponse à {question.step}")
        reply = conversation.handle(user, event)
    return session_id


def set_up_checkins(services: Services, user: User, at: str = "09:00") -> None:
    conversation = services.conversation
    conversation.start(user, SETUP)
    conversation.handle(user, Pick("daily"))
    conversation.handle(user, Answer(at))
    conversation.handle(user, Answer("Paris"))


def send_due_checkins(services: Services) -> list:
    """Two scheduler ticks (the first may only skip a day missed past the grace)."""
    replies = []
    for _ in range(2):
        replies += [services.checkins.start(due) for due in services.checkins.claim_due(100)]
    return replies


# --- reminders of an unfinished reflection ---------------------------------------------------


def test_one_reminder_after_a_day_one_after_three_then_nothing(services, clock):
    ana = person(services, "telegram:1")
    services.conversation.start(ana, "lost_client")
    services.conversation.handle(ana, Answer("Acme"))
    nudges = services.journey.nudges
    clock.advance(hours=23, minutes=59)
    assert nudges.due() == []
    clock.advance(minutes=1)
    [first] = nudges.due()
    assert first.ordinal == 1 and "Les faits" in first.text
    assert [action for action, _ in first.choices] == ["resume", "stop"]
    assert nudges.sent(first) and not nudges.sent(first)  # recorded once
    assert nudges.due() == []
    clock.advance(hours=47, minutes=59)  # 71:59 after the last answer
    assert nudges.due() == []
    clock.advance(minutes=1)
    [second] = nudges.due()
    assert second.ordinal == 2
    nudges.sent(second)
    for _ in range(30):
        clock.advance(days=1)
        assert nudges.due() == []


def test_reflections_reminded_for_the_last_time_leave_room_in_the_batch(services, clock):
    ana, ben = person(services, "telegram:1"), person(services, "telegram:2")
    services.conversation.start(ana, "lost_client")
    services.conversation.handle(ana, Answer("Acme"))
    nudges = services.journey.nudges
    for hours in (24, 48):
        clock.advance(hours=hours)
        [due] = nudges.due(limit=1)
        nudges.sent(due)
    services.conversation.start(ben, "lost_client")
    services.conversation.handle(ben, Answer("Globex"))
    clock.advance(hours=24)
    [due] = nudges.due(limit=1)  # Ana's reflection, reminded twice, takes no room
    assert due.user.id == ben.id


def test_reminders_wait_for_the_end_of_quiet_hours(services, clock):
    ana = person(services, "telegram:1")
    clock.now = datetime(2026, 11, 26, 21, 30, tzinfo=UTC)  # 22:30 in Paris
    services.conversation.start(ana, "lost_client")
    services.conversation.handle(ana, Answer("Acme"))
    clock.advance(days=1)
    assert services.journey.nudges.due() == []  # 22:30 the next day: quiet
    clock.now = datetime(2026, 11, 28, 6, 59, tzinfo=UTC)  # 07:59 in Paris
    assert services.journey.nudges.due() == []
    clock.now = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)  # 08:00 in Paris
    assert len(services.journey.nudges.due()) == 1


def test_quiet_hours_are_a_setting_of_each_manager(services, clock):
    ana = person(services, "telegram:1")
    journey = services.journey
    assert journey.quiet_hours(ana) == "21:00-08:00"
    with pytest.raises(ValueError, match="21:00-08:00"):
        journey.set_quiet_hours(ana, "after dinner")
    journey.set_quiet_hours(ana, "10:00-12:00")
    assert journey.in_quiet_hours(ana)  # 11:00 in Paris
    journey.set_quiet_hours(ana, None)
    assert not journey.in_quiet_hours(ana)


def test_no_reminder_while_a_checkin_waits_or_after_stop(services, clock):
    ana, ben = person(services, "telegram:1"), person(services, "telegram:2", "Ben")
    set_up_checkins(services, ana, "11:30")
    for user in (ana, ben):
        services.conversation.start(user, "lost_client")
        services.conversation.handle(user, Answer("Acme"))
    clock.advance(minutes=30)  # 11:30: ana's check-in goes out, and she leaves it unanswered
    assert len(send_due_checkins(services)) == 1
    clock.advance(hours=23, minutes=30)
    due = services.journey.nudges.due()
    assert [n.user.key for n in due] == ["telegram:2"]
    assert "plus de rappel" in services.journey.nudges.stop(ben)
    assert services.journey.nudges.due() == []


def test_another_flow_left_unfinished_holds_reminders_back_for_a_day_only(services, clock):
    ana = person(services, "telegram:1")
    services.conversation.start(ana, "lost_client")
    services.conversation.handle(ana, Answer("Acme"))
    clock.advance(hours=12)
    services.conversation.start(ana, SETUP)  # then she leaves the set-up too
    clock.advance(hours=12)
    assert services.journey.nudges.due() == []  # she may still be at it
    clock.advance(hours=21)  # 08:00 in Paris, the set-up begun 33 hours ago
    [nudge] = services.journey.nudges.due()
    assert nudge.user.id == ana.id


def test_resume_from_a_reminder_shows_the_question(services, clock):
    ana = person(services, "telegram:1")
    services.conversation.start(ana, "lost_client")
    services.conversation.handle(ana, Answer("Acme"))
    services.conversation.pause(ana)
    assert services.journey.nudges.resume(ana).question.step == "since_when"


def test_terminal_users_get_no_reminder(services, clock):
    local = person(services, "terminal:ana")
    services.conversation.start(local, "lost_client")
    clock.advance(days=2)
    assert services.journey.nudges.due() == []


# --- check-ins -------------------------------------------------------------------------------


def test_checkin_shows_the_schedule_first(services, clock):
    ana = person(services, "telegram:1")
    journey = services.journey
    assert journey.checkin_schedule(ana) == "Vous n'avez pas encore de point quotidien."
    set_up_checkins(services, ana, "08:30")
    assert journey.checkin_schedule(ana) == (
        "Vos points quotidiens : tous les jours à 08:30 (heure de Paris)."
    )
    services.conversation.start(ana, SETUP)
    services.conversation.handle(ana, Pick("pause"))
    services.conversation.handle(ana, Answer("7"))
    assert journey.checkin_schedule(ana).endswith("En pause jusqu'au mercredi 2 décembre inclus.")
    services.conversation.set_language(ana, "en")
    ana = services.conversation.user(ana.key)
    assert journey.checkin_schedule(ana) == (
        "Your daily check-ins: every day at 08:30 (Paris time). "
        "Paused until Wednesday 2 December, included."
    )


# --- commitments -----------------------------------------------------------------------------


def test_a_reflection_makes_commitments_with_their_dates(services, clock):
    ana = person(services, "telegram:1")
    reflect(services, ana, {"first_step": "Appeler Paul"})
    made = services.journey.commitments.of(ana)
    assert [(c.kind, c.due_date, c.when_text) for c in made] == [
        ("first_step", "2026-11-28", "2026-11-28"),
        ("contact", None, "quand il reviendra de congés"),
        ("team_talk", "2026-11-30", "2026-11-30"),
    ]
    listing = services.journey.commitments.listing(ana)
    assert listing.splitlines() == [
        "Vos engagements",
        "• À faire · Appeler Paul · pour le samedi 28 novembre",
        "• À faire · Garder le lien : Réponse à contact_detail · quand il reviendra de congés",
        "• À faire · Parler avec l'équipe, en commençant par « Réponse à team_first_words » · "
        "pour le lundi 30 novembre",
    ]


def test_commitment_dates_typed_in_words_get_their_due_date(services, clock):
    """#9 reads the words of a `reads_date` step when they are said and stores the ISO date:
    the commitment takes its due date from it, and the listing shows the date, not the words."""
    ana = person(services, "telegram:1")
    words = {"first_step": "Appeler Paul", "first_step_when": "jeudi prochain"}
    reflect(services, ana, {**words, "contact_when": "le 15"})
    made = {c.kind: c for c in services.journey.commitments.of(ana)}
    assert made["first_step"].due_date == "2026-12-03"  # the clock says Thursday 26 November
    assert made["contact"].due_date == "2026-12-15"
    listing = services.journey.commitments.listing(ana).splitlines()
    assert "• À faire · Appeler Paul · pour le jeudi 3 décembre" in listing
    assert not any("jeudi prochain" in line for line in listing)


def test_the_checkin_of_the_due_day_asks_then_follows_the_next_step(services, clock):
    ana = person(services, "telegram:1")
    set_up_checkins(services, ana)
    reflect(services, ana, {"first_step": "Appeler Paul"})
    conversation = services.conversation
    clock.now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # the day before: a daily check-in
    [reply] = send_due_checkins(services)
    assert reply.question.step == "mood"
    conversation.handle(ana, Pick("4"))
    assert "Appeler Paul" in conversation.current(ana)[1].inputs["commitment"]
    conversation.cancel(ana)
    clock.now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)  # the due day
    [reply] = send_due_checkins(services)
    assert reply.question.step == "commitment_status"
    assert "Appeler Paul (samedi 28 novembre)" in reply.question.prompt
    conversation.handle(ana, Pick("done"))
    conversation.handle(ana, Answer("Écrire à Marc"))
    conversation.handle(ana, Answer("2026-12-03"))
    states = [(c.text, c.status, c.due_date) for c in services.journey.commitments.of(ana)]
    assert states[0] == ("Appeler Paul", "done", "2026-11-28")
    assert states[-1] == ("Écrire à Marc", "open", "2026-12-03")
    clock.now = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    [reply] = send_due_checkins(services)
    conversation.handle(ana, Pick("4"))
    assert conversation.current(ana)[1].inputs["commitment"] == "Écrire à Marc"  # not Paul


def test_in_progress_is_asked_again_and_postponed_moves_the_date(services, clock):
    ana = person(services, "telegram:1")
    set_up_checkins(services, ana)
    reflect(services, ana, {"first_step": "Appeler Paul"})
    conversation = services.conversation
    clock.now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    send_due_checkins(services)
    conversation.handle(ana, Pick("in_progress"))
    first = services.journey.commitments.of(ana)[0]
    assert (first.status, first.due_date) == ("in_progress", "2026-12-01")
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # the team talk's day
    [reply] = send_due_checkins(services)
    assert "Parler avec l'équipe" in reply.question.prompt
    conversation.handle(ana, Pick("postponed"))
    conversation.handle(ana, Answer("2026-12-05"))
    team = services.journey.commitments.of(ana)[2]
    assert (team.status, team.due_date) == ("postponed", "2026-12-05")
    clock.now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    [reply] = send_due_checkins(services)
    assert "Appeler Paul" in reply.question.prompt  # in progress: asked again


def test_with_checkins_off_a_reminder_asks_on_the_due_day(services, clock):
    ana = person(services, "telegram:1")
    reflect(services, ana, {"first_step": "Appeler Paul"})
    commitments = services.journey.commitments
    clock.now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert commitments.reminders_due() == []
    clock.now = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # 07:00 in Paris: quiet
    assert commitments.reminders_due() == []
    clock.now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    [reminder] = commitments.reminders_due()
    reply = commitments.start_reminder(reminder)
    assert reply.question.step == "commitment_status"
    assert commitments.reminders_due() == []  # asked once that day
    services.conversation.handle(ana, Pick("dropped"))
    assert commitments.of(ana)[0].status == "dropped"


def test_managers_whose_checkins_ask_leave_room_for_reminders_in_the_batch(services, clock):
    ana, ben = person(services, "telegram:1"), person(services, "telegram:2")
    set_up_checkins(services, ana)  # her check-in asks about her commitment
    reflect(services, ana, {"first_step": "Appeler Paul"})
    reflect(services, ben, {"first_step": "Appeler Marc"})
    clock.now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    [reminder] = services.journey.commitments.reminders_due(limit=1)
    assert reminder.user.id == ben.id


def test_the_coach_sees_the_commitments_of_a_shared_reflection(services, clock):
    coach = person(services, f"telegram:{COACH_TELEGRAM_ID}", "Coach")
    ana = person(services, "telegram:1")
    pair(services, coach, ana)
    session = reflect(services, ana, {"first_step": "Appeler Paul"})
    clock.advance(minutes=11)
    services.coach.due_news()
    transcript = services.coach.read(coach, session)
    assert transcript.commitments[0] == "À faire · Appeler Paul · pour le samedi 28 novembre"


# --- home, coach's welcome, /cancel ----------------------------------------------------------


def test_the_home_offers_what_a_returning_manager_needs(services, clock):
    ana = person(services, "telegram:1")
    reflect(services, ana)
    services.conversation.start(ana, "lost_client")
    services.conversation.handle(ana, Answer("Globex"))
    home = services.journey.home(ana)
    assert home.title == "Que souhaitez-vous faire ?"
    assert [item.action for item in home.items] == [
        "resume",
        "new",
        "checkin",
        "history",
        "commitments",
        "progress",
        "settings",
    ]
    labels = [item.label for item in home.items]
    assert labels[0] == "Reprendre votre réflexion (arrêtée à : Les faits)"
    assert labels[2] == "Points quotidiens : désactivés (les régler)"
    assert labels[3] == "Vos réflexions terminées (1)"
    assert labels[4] == "Vos engagements (3 en cours)"
    assert home.action(1) == "resume" and home.action(8) is None
    assert services.journey.home(ana, terminal=True).items[2].label == "Le point du jour (à faire)"


def test_a_coach_gets_a_coach_s_welcome(services):
    coach = person(services, f"telegram:{COACH_TELEGRAM_ID}", "Claire")
    text = services.journey.coach_welcome(coach)
    assert text.startswith("Bonjour Claire. Vous êtes coach sur Rebond")
    assert "/invite" in text and "/feedback" in text


def test_cancel_asks_first_and_the_reflection_can_come_back(services, clock):
    ana = person(services, "telegram:1")
    journey = services.journey
    services.conversation.start(ana, "lost_client")
    services.conversation.handle(ana, Answer("Acme"))
    question, choices = journey.cancel_question(ana)
    assert "arrêtée à : Les faits" in question and "/resume" in question
    assert [c for c, _ in choices] == ["drop", "keep"]
    assert journey.confirm_cancel(ana, drop=False).startswith("Elle est gardée")
    assert services.conversation.current(ana) is not None
    assert "/resume la ramène" in journey.confirm_cancel(ana, drop=True)
    assert services.conversation.current(ana) is None
    assert journey.home(ana).items[0].action == "restore"
    reply = journey.restore(ana)
    assert reply.question.step == "since_when"
    assert journey.cancel_question(person(services, "telegram:2", "Ben")) is None


def test_a_new_reflection_ends_the_way_back(services, clock):
    ana = person(services, "telegram:1")
    services.conversation.start(ana, "lost_client")
    services.journey.confirm_cancel(ana, drop=True)
    services.conversation.start(ana, "lost_client")
    services.conversation.cancel(ana)
    assert services.journey.restore(ana).question is None


# --- after the summary, one question at a time -----------------------------------------------


def test_keep_private_comes_after_the_checkin_setup(services, clock):
    coach = person(services, f"telegram:{COACH_TELEGRAM_ID}", "Coach")
    ana = person(services, "telegram:1")
    pair(services, coach, ana)
    conversation, journey = services.conversation, services.journey
    reply = conversation.start(ana, "lost_client")
    session = reply.session_id
    answers = {"client": "Acme", "checkin_offer": "oui", **WHEN}
    while reply.question.step != "checkin_offer":
        step = reply.question
        event = Answer(
            answers.get(
                step.step,
                "1"
                if step.options or step.kind in ("number", "scale", "multi_choice")
                else "Texte",
            )
        )
        reply = conversation.handle(ana, event)
    reply = conversation.handle(ana, Answer("oui"))
    assert reply.completed == session and reply.question.step == "checkin_action"
    assert journey.privacy_offer_due(reply) is None  # the set-up first
    conversation.handle(ana, Pick("daily"))
    conversation.handle(ana, Answer("09:00"))
    reply = conversation.handle(ana, Answer("Paris"))
    assert journey.privacy_offer_due(reply).id == session


# --- the coach thread ------------------------------------------------------------------------


def pair(services: Services, coach: User, manager: User) -> None:
    invite = services.coach.invite(coach)
    services.coach.open_invite(manager, invite.code)
    assert not isinstance(services.coach.confirm_share(manager, True, invite.code), Refusal)


def test_a_manager_replies_to_feedback_and_the_coach_answers(services, clock):
    coach = person(services, f"telegram:{COACH_TELEGRAM_ID}", "Claire")
    ana = person(services, "telegram:1")
    pair(services, coach, ana)
    session = reflect(services, ana)
    clock.advance(minutes=11)
    services.coach.due_news()
    thread = services.thread
    assert thread.begin_reply(ana) == "Il n'y a pas de message de coach auquel répondre."
    services.coach.feedback(coach, session, "Beau travail sur la culpabilité.")
    assert thread.begin_reply(ana, session).startswith("Écrivez votre réponse à Claire")
    to_coach = thread.manager_reply(ana, "Merci, j'appelle Paul demain.", "telegram:update:7")
    assert to_coach.user.id == coach.id
    assert to_coach.text.startswith("Ana vous répond au sujet de sa réflexion du 26 nov. 2026 (")
    assert f"/reply {session}" in to_coach.text and "j'appelle Paul" in to_coach.text
    assert thread.pending(ana) is None
    assert thread.manager_reply(ana, "encore") is None  # no reply pending any more
    to_manager = thread.coach_reply(coach, session, "Tenez-moi au courant.")
    assert to_manager.user.id == ana.id and "Tenez-moi au courant." in to_manager.text
    thread.delivered(to_coach)
    db = services.conversation.db
    assert [m.author for m in store.undelivered_thread(db, 10)] == ["coach"]  # to send again
    [again] = thread.undelivered()
    assert again.user.id == ana.id and again.text == to_manager.text
    assert thread.coach_reply(ana, session, "usurpation") is None  # not a coach
    history = thread.thread_for(ana)[session]
    assert [(m.author, m.text) for m in history] == [
        ("manager", "Merci, j'appelle Paul demain."),
        ("coach", "Tenez-moi au courant."),
    ]
    data = json.loads(services.coach.my_data(ana))
    assert len(data["coach_thread"]) == 2
    assert "reply" in [row["action"] for row in data["audit_of_coach_reads"]]
    services.coach.forget(ana)
    assert list(services.conversation.db.query("SELECT * FROM coach_thread")) == []


def test_a_reply_handled_twice_is_stored_once(services, clock):
    coach = person(services, f"telegram:{COACH_TELEGRAM_ID}", "Claire")
    ana = person(services, "telegram:1")
    pair(services, coach, ana)
    session = reflect(services, ana)
    clock.advance(minutes=11)
    services.coach.due_news()
    services.coach.feedback(coach, session, "Bravo")
    db = services.conversation.db
    store.add_thread_message(db, session, ana.id, coach.id, "coach", "Un", "t", source_key="k")
    store.add_thread_message(db, session, ana.id, coach.id, "coach", "Un", "t", source_key="k")
    assert len(list(db.query("SELECT * FROM coach_thread"))) == 1


def test_while_checkins_are_paused_a_reminder_asks_instead(services, clock):
    ana = person(services, "telegram:1")
    set_up_checkins(services, ana)
    services.conversation.start(ana, SETUP)
    services.conversation.handle(ana, Pick("pause"))
    services.conversation.handle(ana, Answer("5"))  # through Sunday 30 November
    reflect(services, ana, {"first_step": "Appeler Paul"})
    commitments = services.journey.commitments
    clock.now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    [reminder] = commitments.reminders_due()
    assert reminder.commitment.text == "Appeler Paul"
    commitments.start_reminder(reminder)
    services.conversation.handle(ana, Pick("in_progress"))  # asked again on 1 December
    clock.now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # the pause is over: the check-in asks
    assert commitments.reminders_due() == []
    [reply] = send_due_checkins(services)
    assert reply.question.step == "commitment_status"


def test_messages_to_a_reader_who_blocked_the_bot_never_hold_the_others_back(services, clock):
    coach = person(services, f"telegram:{COACH_TELEGRAM_ID}", "Claire")
    ana, ben = person(services, "telegram:1"), person(services, "telegram:2")
    pair(services, coach, ana)
    pair(services, coach, ben)
    sessions = [reflect(services, ana), reflect(services, ben)]
    clock.advance(minutes=11)
    services.coach.due_news()  # the private window has passed: both are shared
    for session in sessions:
        assert services.thread.coach_reply(coach, session, "Où en êtes-vous ?") is not None
    services.conversation.set_blocked(ana, True)
    [first] = services.thread.undelivered(limit=1)
    assert first.user.id == ben.id


def test_a_commitment_question_never_delivered_is_asked_again(services, clock):
    from storage import delivery
    from storage.db import to_stored
    from storage.delivery import Outgoing

    ana = person(services, "telegram:1")
    reflect(services, ana, {"first_step": "Appeler Paul"})
    commitments = services.journey.commitments
    clock.now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    [reminder] = commitments.reminders_due()
    reply = commitments.start_reminder(reminder)
    db = services.conversation.db
    now = to_stored(clock.now)
    row = delivery.enqueue(
        db,
        Outgoing(
            "checkin", 1, "sendMessage", {}, 3, now, subject=f"commitment:{reminder.commitment.id}"
        ),
        now,
    )
    assert commitments.reminders_due() == []  # asked, waiting for delivery
    delivery.finish(db, row, delivery.EXPIRED, now)  # Telegram could not be reached in time
    assert services.conversation.session(reply.session_id).status == "abandoned"
    [again] = commitments.reminders_due()
    assert again.commitment.id == reminder.commitment.id
