"""The team round at service level: a real database, the real playbook, an injected clock.

A manager opens a round from the reflection, team members answer it anonymously, the round
closes on its date and the manager gets the summary; the anonymity promise is attacked through
everything a manager can reach, and the database is read as a stranger would.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bootstrap import Services, build_services
from bot.conversation import REFLECTION, Reply
from bot.export import export
from bot.flows import engine
from bot.flows.loader import PlaybookError, parse_playbook
from bot.flows.state import Answer, Ask, Pick, SafetyNote, Say, SessionState, Skip
from bot.flows.validate import REQUIRED_FLOWS
from bot.settings import load_settings
from bot.team.service import START_PREFIX, SummaryMessage
from storage.db import open_database
from storage.repository import User

from .helpers import REAL_PLAYBOOK, FakeClock

COACH_TELEGRAM_ID = 900
BOT = "RebondTestBot"
OWN_QUESTION = "Quel client aimeriez-vous aller chercher ?"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))


@pytest.fixture
def services(tmp_path: Path, clock: FakeClock):
    settings = load_settings(
        db_path=tmp_path / "team.db", playbook_path=REAL_PLAYBOOK, coach_ids=str(COACH_TELEGRAM_ID)
    )
    built = build_services(settings, open_database(settings.db_path), clock)
    built.team.bot_username = BOT
    yield built
    built.conversation.db.close()


def person(services: Services, telegram_id: int, name: str) -> User:
    return services.conversation.user(f"telegram:{telegram_id}", name, "fr")


def deliver(team) -> list[SummaryMessage]:
    """The scheduler's tick: due summaries, each marked sent as the outbox would."""
    messages = team.due()
    for message in messages:
        team.mark_sent(message)
    return messages


def said(reply: Reply) -> str:
    return "\n".join(o.text for o in reply.outputs if isinstance(o, Say | SafetyNote))


def reflect_until(services: Services, manager: User, stop: str) -> Reply:
    """Start a reflection and answer it (first options, short texts) up to question `stop`."""
    conversation = services.conversation
    reply = conversation.start(manager, REFLECTION)
    for _ in range(100):
        question = reply.question
        assert question is not None, "the reflection ended before the step"
        if question.step == stop:
            return reply
        reply = answer_any(services, manager, question)
    raise AssertionError(f"never reached {stop}")


def answer_any(services: Services, manager: User, question: Ask) -> Reply:
    conversation = services.conversation
    if question.step == "checkin_offer":
        return conversation.handle(manager, Pick("no"))
    if question.kind == "multi_choice":
        return conversation.handle(manager, Answer("1"))
    if question.kind in ("scale", "number"):
        return conversation.handle(manager, Answer("3"))
    if question.options and question.kind != "text":
        return conversation.handle(manager, Pick(question.options[0].id))
    return conversation.handle(manager, Answer(f"Réponse à {question.step}"))


def finish_reflection(services: Services, manager: User, reply: Reply) -> None:
    for _ in range(100):
        question = reply.question
        if question is None:
            return
        reply = answer_any(services, manager, question)
    raise AssertionError("the reflection did not end")


def open_round(services: Services, manager: User, days: str = "days_5", own: str | None = None):
    """The manager's /team: the set-up flow, answered; the link, from the forwarded message."""
    team = services.team
    assert team.status(manager) is None
    reply = team.start_setup(manager)
    assert reply.question is not None and reply.question.step == "round_language"
    reply = services.conversation.handle(manager, Pick("fr"))
    reply = services.conversation.handle(manager, Pick(days))
    reply = services.conversation.handle(manager, Answer(own) if own else Skip())
    text = said(reply)
    match = re.search(rf"https://t\.me/{BOT}\?start=({START_PREFIX}[A-Za-z0-9_-]+)", text)
    assert match, text
    return reply, match.group(1)


def answer_round(
    services: Services,
    member: User,
    parameter: str,
    feeling: int,
    worry: str | None,
    idea: str | None,
    own: str | None,
    contribute: bool,
    signature: str | None = None,
) -> list[Reply]:
    """A team member opens the link and answers every question (None skips a text)."""
    team = services.team
    replies = [team.join(member, parameter)]
    assert replies[0].question is not None and replies[0].question.step == "feeling"
    answers = {
        "feeling": Pick(str(feeling)),
        "worry": Answer(worry) if worry else Skip(),
        "idea": Answer(idea) if idea else Skip(),
        "own_answer": Answer(own) if own else Skip(),
        "contribute": Pick("yes" if contribute else "no"),
        "signature": Answer(signature) if signature else Skip(),
    }
    while (question := replies[-1].question) is not None:
        reply = team.handle(member, answers[question.step])
        assert reply is not None
        replies.append(reply)
    assert not team.answering(member)
    return replies


def test_a_round_from_the_opportunity_step_to_the_ideas_offered(services, clock):
    conversation, team = services.conversation, services.team
    manager = person(services, 1, "Gilles")
    reply = reflect_until(services, manager, "postponed_ideas")
    assert team.offer_label(manager, reply.question) == "Demander à mon équipe, anonymement"

    reply, parameter = open_round(services, manager, own=OWN_QUESTION)
    text = said(reply)
    assert "Gilles aimerait avoir votre avis" in text  # the message to forward
    assert len(parameter) - len(START_PREFIX) >= 32  # long and random
    # Back to the reflection where it was left; no second "ask my team" while a round is open.
    assert reply.question is not None and reply.question.step == "postponed_ideas"
    assert team.offer_label(manager, reply.question) is None

    members = [
        person(services, 100 + n, name)
        for n, name in enumerate(["Bea", "Carl", "Dina", "Eve", "Finn"])
    ]
    answer_round(
        services,
        members[0],
        parameter,
        2,
        "Perdre mon poste",
        "Relancer l'export",
        "Les PME du Nord",
        True,
        "Alice",
    )
    answer_round(
        services, members[1], parameter, 3, None, "Un outil de devis en ligne", None, False
    )
    answer_round(services, members[2], parameter, 4, "La charge", "Idée abandonnée", None, False)
    distress = answer_round(
        services, members[3], parameter, 1, "Je suis épuisé, je n'en peux plus", None, None, True
    )
    answer_round(services, members[4], parameter, 3, None, "Voir les anciens clients", None, True)
    # The distress phrase brought that member the helpline note, and only them.
    assert any(isinstance(o, SafetyNote) for r in distress for o in r.outputs)
    # Dina changes her answer before the closing; her first one is replaced.
    again = services.team.join(members[2], parameter)
    assert "Vous avez déjà répondu" in said(again)
    assert again.question is not None and again.question.previous == "4"
    answer_round(
        services,
        members[2],
        parameter,
        5,
        "La charge",
        "Former l'équipe au marketing",
        "Les grossistes",
        True,
    )
    status = team.status(manager)
    assert status is not None and status.count == 5 and "5" in status.text

    assert deliver(team) == []  # not yet
    clock.advance(days=5, minutes=1)
    (unsent,) = team.due()
    (message,) = team.due()  # not marked sent (a crash before the outbox): given again
    assert unsent.round_id == message.round_id
    team.mark_sent(message)
    assert message.manager.id == manager.id
    summary = message.summary
    assert summary.shown and summary.answered == 5
    assert dict(summary.feelings) == {1: 1, 2: 1, 3: 2, 4: 0, 5: 1}
    assert sorted(summary.ideas) == sorted(
        [
            "Relancer l'export",
            "Un outil de devis en ligne",
            "Former l'équipe au marketing",
            "Voir les anciens clients",
        ]
    )
    assert sorted(summary.worries) == sorted(
        ["Perdre mon poste", "La charge", "Je suis épuisé, je n'en peux plus"]
    )
    assert sorted(summary.own_answers) == ["Les PME du Nord", "Les grossistes"]
    assert summary.offers == 4 and summary.names == ("Alice",)
    assert summary.distress
    body = "\n".join(message.texts)
    for member in members:
        assert member.display_name not in body and member.key not in body
    assert "Idée abandonnée" not in body  # the changed answer is gone
    assert "1 (très mal) : █ 1" in body  # the chart's text equivalent
    assert message.chart is not None and message.chart.startswith(b"\x89PNG")
    assert deliver(team) == []  # sent once

    # The ideas are offered at "which idea first?" of the reflection still open before it.
    reply = conversation.handle(manager, Answer("Des pistes"))
    assert reply.question is not None and reply.question.step == "idea_first"
    labels = [option.label for option in reply.question.options]
    assert sorted(labels) == sorted(summary.ideas)
    reply = conversation.handle(manager, Pick("o2"))
    state = conversation.current(manager)[1]
    assert state.answers["idea_first"] == labels[1]
    finish_reflection(services, manager, reply)
    # ... and at the same question of a new reflection.
    fresh = conversation.start(manager, REFLECTION)
    state = conversation.current(manager)[1]
    assert sorted(state.offered["idea_first"]) == sorted(summary.ideas)
    assert fresh.question is not None and fresh.question.step == "client"


def test_a_coach_sees_the_summary_only_and_exports_hold_summaries_only(services, clock, tmp_path):
    conversation, team, coach_service = services.conversation, services.team, services.coach
    coach = person(services, COACH_TELEGRAM_ID, "Coach")
    manager = person(services, 1, "Gilles")
    invite = coach_service.invite(coach)
    coach_service.open_invite(manager, invite.code)
    coach_service.confirm_share(manager, False, invite.code)
    reflect_until(services, manager, "team_talk_when")
    _, parameter = open_round(services, manager)
    members = [person(services, 200 + n, f"Membre{n}") for n in range(3)]
    for n, member in enumerate(members):
        answer_round(
            services,
            member,
            parameter,
            n + 2,
            f"Souci {n}",
            f"Idée {n}",
            None,
            n == 0,
            "Zoé" if n == 0 else None,
        )
    clock.advance(days=6)
    deliver(team)
    finish_reflection(services, manager, conversation.resume(manager))
    clock.advance(minutes=11)
    coach_service.due_news()
    session_id = conversation.history(manager)[0].id
    transcript = coach_service.read(coach, session_id)
    assert transcript is not None
    assert transcript.team[0].startswith("Votre tour d'équipe : 3 réponses")
    assert "• Idée 1" in transcript.team and "Ont signé leur offre : Zoé." in transcript.team
    out = tmp_path / "export"
    export(services, "json", out, coach=str(COACH_TELEGRAM_ID), progress=False)
    exported = (out / "export.json").read_text(encoding="utf-8")
    tables = json.loads(exported)
    assert len(tables["team_rounds"]) == 1 and "Idée 2" in tables["team_rounds"][0]["summary"]
    for member in members:
        assert member.key not in exported and str(member.display_name) not in exported


def test_a_round_with_two_answers_shows_nothing_and_can_be_extended(services, clock):
    team = services.team
    manager = person(services, 1, "Gilles")
    _, parameter = open_round(services, manager, days="days_3")
    first = person(services, 301, "Un")
    answer_round(services, first, parameter, 2, "Secret un", "Idée un", None, True, "Ugo")
    answer_round(
        services, person(services, 302, "Deux"), parameter, 4, "Secret deux", None, None, False
    )
    clock.advance(days=3, seconds=1)
    (message,) = deliver(team)
    assert not message.summary.shown and message.chart is None
    body = "\n".join(message.texts)
    assert "2 réponse(s)" in body and "rien n'est affiché" in body
    for secret in ("Secret un", "Secret deux", "Idée un", "Ugo", "4"):
        assert secret not in body
    assert message.extend_label is not None
    assert services.conversation.current(manager) is None  # no ideas offered anywhere
    # Extending reopens it; a third answer makes it showable.
    assert team.last_closed(manager).id == message.round_id
    assert "prolongé" in team.extend(manager, message.round_id)
    answer_round(
        services, person(services, 303, "Trois"), parameter, 3, None, "Idée trois", None, False
    )
    clock.advance(days=3, seconds=1)
    (message,) = deliver(team)
    assert message.summary.shown and message.summary.answered == 3


def test_a_member_forgets_their_answers(services, clock):
    team, db = services.team, services.conversation.db
    manager = person(services, 1, "Gilles")
    _, parameter = open_round(services, manager)
    member = person(services, 401, "Oubli")
    answer_round(services, member, parameter, 2, "Mon souci", "Mon idée", None, True, "Olga")
    status = team.status(manager)
    assert status is not None and status.count == 1
    # Their /mydata shows their own answer (and nobody else's); the manager's shows none.
    other = person(services, 402, "Autre")
    answer_round(services, other, parameter, 4, "Le souci d'un autre", None, None, False)
    mine = services.coach.my_data(member)
    assert "Mon souci" in mine and "Olga" in mine and "Le souci d'un autre" not in mine
    assert "Mon souci" not in services.coach.my_data(manager)
    team.forget(other)
    assert "effacées" in team.forget(member)
    assert team.status(manager).count == 0
    assert db.execute("SELECT count(*) FROM team_members").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM team_answers").fetchone()[0] == 0
    assert "aucune réponse" in team.forget(member)
    # The general /forget (a person who is both a manager elsewhere and a member) erases them too.
    answer_round(services, member, parameter, 3, None, None, None, False)
    removed = services.coach.forget(member).removed  # an Erasure since refs #10
    assert removed.get("team_answers") == 1
    assert team.status(manager).count == 0


def test_forged_expired_closed_and_own_codes_are_refused(services, clock):
    team = services.team
    manager = person(services, 1, "Gilles")
    _, parameter = open_round(services, manager)
    stranger = person(services, 501, "Curieux")
    code = parameter[len(START_PREFIX) :]
    forged = START_PREFIX + code[:-1] + ("y" if code.endswith("x") else "x")  # one sign changed
    for bad in (forged, START_PREFIX, "team_", "team_' OR 1=1 --", "x" * 64):
        reply = team.join(stranger, bad)
        assert "n'ouvre aucun tour" in said(reply) and reply.question is None
        assert not team.answering(stranger)
    assert "votre propre tour" in said(team.join(manager, parameter))
    clock.advance(days=5, seconds=1)  # expired, before the tick closes it
    assert "est clos" in said(team.join(stranger, parameter))
    deliver(team)
    assert "est clos" in said(team.join(stranger, parameter))
    # A member half-way when the round closes: their draft is dropped, their words not counted.
    _, second = open_round(services, manager, own=None)
    late = person(services, 502, "Tard")
    team.join(late, second)
    team.handle(late, Pick("2"))
    assert team.answering(late)
    again = team.join(late, second)  # the link opened again half-way: where they were
    assert again.question is not None and again.question.step == "worry"
    status = team.status(manager)
    assert status is not None and team.close_early(manager, status.round.id) is not None
    assert not team.answering(late) and team.handle(late, Answer("trop tard")) is None


def test_a_manager_cannot_read_raw_answers_by_any_route(services, clock, tmp_path, capsys):
    """Every service function, export and query a manager reaches: 0 successes."""
    team, conversation, coach_service = services.team, services.conversation, services.coach
    manager = person(services, 1, "Gilles")
    other_manager = person(services, 2, "Autre")
    _, parameter = open_round(services, manager, own=OWN_QUESTION)
    members = [person(services, 600 + n, f"Membre{n}") for n in range(3)]
    secrets_ = ["Réponse secrète A", "Réponse secrète B"]
    answer_round(services, members[0], parameter, 2, secrets_[0], "Idée A", "Propre A", False)
    answer_round(services, members[1], parameter, 4, secrets_[1], "Idée B", None, True)
    status = team.status(manager)
    assert status is not None
    round_id = status.round.id

    def leaks(result: object, answered: int) -> bool:
        """A raw answer before 3 answers, a member's identity or an answer time."""
        text = (
            json.dumps(result, default=repr, ensure_ascii=False)
            if not isinstance(result, str)
            else result
        )
        if any(m.key in text or (m.display_name or "") in text for m in members):
            return True
        if answered < 3 and any(s in text for s in (*secrets_, "Idée A", "Idée B", "Propre A")):
            return True
        token_rows = conversation.db.execute("SELECT token FROM team_answers").fetchall()
        return any(token in text for (token,) in token_rows)

    # The detector itself catches a leak of each kind.
    assert leaks({"who": members[0].key}, 3) and leaks(["Réponse secrète A"], 2)
    attempts: list[tuple[str, object, int]] = []
    answered = [2]

    def attempt(route: str, call) -> None:
        try:
            attempts.append((route, call(), answered[0]))
        except Exception as error:  # a refusal by exception is no success either
            attempts.append((route, f"refused: {type(error).__name__}", answered[0]))

    def all_routes() -> None:
        attempt("status", lambda: team.status(manager))
        attempt("count", lambda: team.count(manager, round_id))
        attempt("summary (open round)", lambda: team.summary(manager, round_id))
        attempt("summary of another id", lambda: team.summary(manager, round_id + 1))
        attempt("other manager's count", lambda: team.count(other_manager, round_id))
        attempt("other manager's summary", lambda: team.summary(other_manager, round_id))
        attempt("other manager closes it", lambda: team.close_early(other_manager, round_id))
        attempt("join own round", lambda: team.join(manager, parameter))
        attempt("answering own round", lambda: team.handle(manager, Answer("1")))
        attempt("member question as manager", lambda: team.question(manager))
        attempt("member forget as manager", lambda: team.forget(manager))
        attempt("mydata", lambda: coach_service.my_data(manager))
        attempt("history", lambda: conversation.history(manager))
        attempt("latest outputs", lambda: conversation.latest_outputs(manager))
        attempt("current session", lambda: conversation.current(manager))
        attempt("resume", lambda: conversation.resume(manager))
        attempt("offer label", lambda: team.offer_label(manager, None))
        attempt("ideas for a new reflection", lambda: conversation.start(manager, REFLECTION))
        attempt("cancel it", lambda: conversation.cancel(manager))
        attempt("link", lambda: team.link(status.round))
        out = tmp_path / f"export-{len(attempts)}"
        attempt(
            "export md",
            lambda: [
                p.read_text()
                for p in export(services, "md", out / "md", manager="1", progress=False).files
            ],
        )
        attempt(
            "export json",
            lambda: [
                p.read_text()
                for p in export(services, "json", out / "j", manager="1", progress=False).files
            ],
        )
        attempt(
            "export csv",
            lambda: [
                p.read_text()
                for p in export(services, "csv", out / "c", manager="1", progress=False).files
            ],
        )

    all_routes()
    attempt("close early (2 answers)", lambda: team.close_early(manager, round_id))
    all_routes()
    attempt("summary (closed, 2)", lambda: team.summary(manager, round_id))
    attempt("tick", lambda: deliver(team))
    attempt("extend", lambda: team.extend(manager, round_id))
    answer_round(services, members[2], parameter, 3, "Troisième", "Idée C", None, False)
    answered[0] = 3
    all_routes()
    clock.advance(days=9)
    attempt("tick (3 answers)", lambda: deliver(team))
    all_routes()
    attempt("summary (closed, 3)", lambda: team.summary(manager, round_id))
    successes = [route for route, result, count in attempts if leaks(result, count)]
    with capsys.disabled():
        print(
            f"\nmanager's attempts to read raw answers: {len(attempts)}, successes: {len(successes)}"
        )
    assert len(attempts) >= 60
    assert successes == []
    # With 3 answers the summary is shown, but lists are shuffled apart: nobody's answers line up.
    shown = team.summary(manager, round_id)
    assert shown is not None and shown.summary.shown


def test_a_database_reader_cannot_join_members_to_answers_and_links_expire(services, clock):
    team, db = services.team, services.conversation.db
    manager = person(services, 1, "Gilles")
    _, parameter = open_round(services, manager)
    members = [person(services, 700 + n, f"Lecteur{n}") for n in range(4)]
    for n, member in enumerate(members):
        answer_round(services, member, parameter, n + 1, f"Souci {n}", None, None, False)
    columns = {row[1] for row in db.execute("PRAGMA table_info(team_answers)").fetchall()}
    assert columns == {"token", "round_id", "answer", "draft"}  # no person, no time
    with pytest.raises(Exception, match="rowid"):
        db.execute("SELECT rowid FROM team_answers")  # no insertion order to line up
    with pytest.raises(Exception, match="rowid"):
        db.execute("SELECT rowid FROM team_members")
    tokens = [row[0] for row in db.execute("SELECT token FROM team_answers").fetchall()]

    def tables_holding(value: str) -> set[str]:
        found = set()
        for (table,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        ).fetchall():
            for row in db.execute(f"SELECT * FROM [{table}]").fetchall():
                if any(isinstance(cell, str) and value in cell for cell in row):
                    found.add(table)
        return found

    # Only the link table ties a member to a token; nothing else names a member with an answer.
    for token in tokens:
        assert tables_holding(token) == {"team_answers", "team_members"}
    for member in members:
        assert "team_answers" not in tables_holding(member.key)
    clock.advance(days=5, minutes=1)
    deliver(team)
    assert db.execute("SELECT count(*) FROM team_members").fetchone()[0] == 4
    clock.advance(days=6)
    deliver(team)
    assert db.execute("SELECT count(*) FROM team_members").fetchone()[0] == 4  # not yet 7 days
    clock.advance(days=1)
    deliver(team)
    assert db.execute("SELECT count(*) FROM team_members").fetchone()[0] == 0
    for token in tokens:
        assert tables_holding(token) == {"team_answers"}
    assert team.summary(manager, team_round_id(db)).summary.answered == 4  # answers stay
    assert team.extend(manager, team_round_id(db)) is None  # links gone: no reopening


def team_round_id(db) -> int:
    return db.execute("SELECT id FROM team_rounds").fetchone()[0]


def test_offered_answers_at_a_text_step(services):
    playbook = services.conversation.playbook
    state, _ = engine.start(playbook, REFLECTION, "fr")
    state = state.model_copy(update={"step": "idea_first", "offered": {"idea_first": ("A", "B")}})
    question = engine.ask(playbook, state)
    assert [(o.id, o.label) for o in question.options] == [("o1", "A"), ("o2", "B")]
    for event, expected in (
        (Pick("o2"), "B"),
        (Answer("1"), "A"),
        (Answer("Autre idée"), "Autre idée"),
        (Answer("9"), "9"),
    ):
        after, _ = engine.advance(playbook, state, event)
        assert after.answers["idea_first"] == expected
    restarted, _ = engine.advance(
        playbook, state, __import__("bot.flows.state", fromlist=["Restart"]).Restart()
    )
    assert restarted.offered == state.offered
    assert SessionState.model_validate_json(state.model_dump_json()).offered == state.offered


def test_the_playbook_contract_of_the_team_round():
    text = REAL_PLAYBOOK.read_text(encoding="utf-8")
    broken = text.replace("- id: days_7", "- id: seven_days").replace(
        "ideas_step: idea_first", "ideas_step: idea_frist"
    )
    with pytest.raises(PlaybookError) as error:
        parse_playbook(broken, "content/playbook.yaml", REQUIRED_FLOWS)
    messages = "\n".join(str(issue) for issue in error.value.issues)
    assert "'seven_days' is not a length" in messages
    assert "'idea_frist' must be a text step of lost_client" in messages
    no_team = text[: text.index("\nteam:\n")] + "\n"
    with pytest.raises(PlaybookError, match="missing 'team:' section"):
        parse_playbook(no_team, "content/playbook.yaml", REQUIRED_FLOWS)
    unknown = text.replace("{count} réponses, dans", "{total} réponses, dans")
    with pytest.raises(PlaybookError, match="'\\{total\\}' is not available here"):
        parse_playbook(unknown, "content/playbook.yaml", REQUIRED_FLOWS)


def test_the_terminal_chat_opens_a_round_and_a_member_answers_it(services, clock):
    import io

    from bot.terminal import ChatOptions, TerminalChat

    def chat(user: str, typed: str) -> str:
        out = io.StringIO()
        terminal = TerminalChat(
            services.conversation,
            ChatOptions(user=user, lang="fr"),
            io.StringIO(typed),
            out,
            services=services,
        )
        assert terminal.run() == 0
        return out.getvalue()

    services.team.bot_username = None  # no Telegram: the forwarded message says what to type
    opened = chat("gilles", "/team\n1\n/skip\n/skip\n")
    code = re.search(r"/start (team_[A-Za-z0-9_-]+)", opened)
    assert code, opened
    answered = chat("bea", f"/start {code.group(1)}\n2\nJe suis à bout\n/skip\nnon\n")
    assert "3114" in answered  # the helpline note
    assert "Une question de" not in answered  # no own question: that step passes by itself
    assert "Merci." in answered
    status = chat("gilles", "/team\n")
    assert "Réponses pour l'instant : 1." in status
    assert "aucune réponse" not in chat("bea", "/forget team\n")
    assert "Réponses pour l'instant : 0." in chat("gilles", "/team\n")
    clock.advance(days=6)  # closed on its date with no answer: too small, and it may be extended
    assert "rien n'est affiché" in chat("gilles", "/team\n")
    assert "prolongé" in chat("gilles", "/team extend\n")


def test_the_member_flow_never_runs_as_a_session_that_names_its_user(services):
    member = person(services, 800, "Sans session")
    with pytest.raises(ValueError, match="team service"):
        services.conversation.start(member, "team_round")


def test_retention_deletes_old_team_rounds_with_their_answers(services, clock):
    team, db = services.team, services.conversation.db
    manager = person(services, 1, "Gilles")
    _, parameter = open_round(services, manager, days="days_3")
    answer_round(
        services, person(services, 901, "Ancien"), parameter, 3, "Vieux souci", None, None, False
    )
    clock.advance(days=3, seconds=1)
    deliver(team)
    clock.advance(days=29)
    services.coach.apply_retention(30)
    assert db.execute("SELECT count(*) FROM team_answers").fetchone()[0] == 1  # 29 days: kept
    clock.advance(days=2)
    services.coach.apply_retention(30)
    for table in ("team_rounds", "team_answers", "team_members"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0


def test_cancel_and_pause_apply_to_what_is_in_progress_in_the_terminal(services):
    """A new-user trial: /cancel during the round's set-up asked about the reflection, and
    "keep it" left the set-up to resume; a member's "pause" paused the local user's own
    reflection. Each now applies to the flow actually in progress (refs #13)."""
    import io

    from bot.terminal import ChatOptions, TerminalChat

    conversation, team, ui = services.conversation, services.team, services.conversation.playbook.ui

    def chat(user: str, typed: str) -> str:
        out = io.StringIO()
        terminal = TerminalChat(
            conversation,
            ChatOptions(user=user, lang="fr"),
            io.StringIO(typed),
            out,
            services=services,
        )
        assert terminal.run() == 0
        return out.getvalue()

    gilles = conversation.user("terminal:gilles", "gilles", "fr")
    reflect_until(services, gilles, "postponed_ideas")
    prompt = conversation.playbook.flow(REFLECTION).step_by_id["postponed_ideas"].prompt.fr
    out = chat("gilles", "/team\n/cancel\n1\n")
    assert "Abandonner « Tour d'équipe » en cours ?" in out
    assert "Abandonner la réflexion en cours" not in out
    after = out.split("« Tour d'équipe » est abandonné.")[1]
    assert ui.back_to_reflection.fr in after and prompt in after
    again = chat("gilles", "")
    assert prompt in again and "Dans quelle langue" not in again
    assert team.status(gilles) is None  # no round was opened
    out = chat("gilles", "/team\n/cancel\n2\n")  # go on with the set-up after all
    assert "  2. Continuer" in out and "On continue." in out
    assert "Dans quelle langue" in out.split("On continue.")[1]
    chat("gilles", "/cancel\n1\n")

    _, parameter = open_round(services, gilles)
    bea = conversation.user("terminal:bea", "bea", "fr")
    conversation.start(bea, REFLECTION)  # Bea has a reflection of her own in progress
    out = chat("bea", f"/start {parameter}\n2\nJe suis à bout\n1\n")
    assert "3114" in out and team.texts.member_paused.fr in out
    own = conversation.current(bea)
    assert own is not None and own[0].status == "active"  # her reflection is not paused
    assert team.answering(bea)  # her answers wait where she left them
    out = chat("bea", "/start\nJe n'en peux plus\n2\n")  # go on: the round's next question
    contribute = conversation.playbook.flow("team_round").step_by_id["contribute"].prompt.fr
    assert contribute in out.split("3114")[-1]
    out = chat("bea", "/start\n/history\n/cancel\n")  # a command is never a member's answer
    assert team.texts.member_other_command.fr in out
    assert ui.resumed.fr in out and team.texts.member_cancelled.fr in out
    assert not team.answering(bea) and conversation.current(bea)[0].status == "active"


def test_a_member_s_update_and_finished_deliveries_keep_no_payload(tmp_path: Path):
    """storage.delivery.empty_member_payloads: the update being processed and the chat's
    processed updates and finished outbox rows lose their JSON; other chats, rows still to
    send and a buttons removal (no words) keep theirs (refs #13)."""
    from storage import delivery
    from storage.delivery import Outgoing

    db = open_database(tmp_path / "payloads.db")
    now, later = "2026-11-30T09:00:00.000+00:00", "2026-12-01T09:00:00.000+00:00"

    def update(update_id: int, chat_id: int, text: str) -> tuple[int, int, str]:
        sender = {"id": chat_id, "is_bot": False, "first_name": "Zoé", "username": "zoe_zq"}
        message = {"message_id": update_id, "date": 0, "chat": {"id": chat_id}, "text": text}
        return delivery.Received(
            update_id,
            chat_id,
            json.dumps({"update_id": update_id, "message": message | {"from": sender}}),
        )

    def send(chat_id: int, method: str, payload: dict) -> int:
        return delivery.enqueue(db, Outgoing("reply", chat_id, method, payload, 1, later), now)

    delivery.store_updates(
        db,
        [update(1, 42, "Mon souci Zq"), update(2, 42, "Mon idée Zq"), update(3, 43, "Autre")],
        now,
    )
    delivery.mark_processed(db, 1, now)
    sent = send(42, "sendMessage", {"chat_id": 42, "text": "✓ Mon souci Zq"})
    db.execute("UPDATE outbox SET status = 'sent' WHERE id = ?", [sent])  # as a sender might
    removal = send(
        42, "editMessageReplyMarkup", {"chat_id": 42, "message_id": 9, "reply_markup": None}
    )
    delivery.finish(db, removal, "sent", now)
    pending = send(42, "sendMessage", {"chat_id": 42, "text": "La question suivante"})
    assert delivery.empty_member_payloads(db, 42, 2) == 3
    payloads = {row["update_id"]: row["payload"] for row in db.query("SELECT * FROM inbox")}
    assert payloads[1] == payloads[2] == "{}" and "Autre" in payloads[3]
    outbox = {row["id"]: row["payload"] for row in db.query("SELECT * FROM outbox")}
    assert outbox[sent] == "{}" and "message_id" in outbox[removal]
    assert "La question suivante" in outbox[pending]
    db.close()
