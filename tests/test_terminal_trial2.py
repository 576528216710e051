"""The terminal chat after the second new-user trial (refs #11, #13): a dropped reflection
comes back with /resume, a team member is never asked the onboarding, numbered choices and
dates survive a restart, and nothing shown is a dead end."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from bot.bootstrap import build_services
from bot.playbooks import for_terminal
from bot.settings import load_settings
from bot.terminal import ChatOptions, TerminalChat
from storage.db import open_database

from .helpers import REAL_PLAYBOOK, FakeClock
from .test_terminal import ONBOARDING_LINES, PLAYBOOK, scripted_reflection

TUESDAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
"""A Tuesday: "next friday" may mean the 4th or the 11th."""


def chat(db: Path, lines: list[str], user: str = "dan", lang: str | None = None) -> str:
    """`rebond chat` as its command builds it, in this process, answers through a pipe."""
    settings = load_settings(db_path=db, playbook_path=REAL_PLAYBOOK)
    services = build_services(settings, open_database(db), FakeClock(TUESDAY))
    services.conversation.library.use_variant(for_terminal)
    stdout = io.StringIO()
    options = ChatOptions(user=user, lang=lang)  # type: ignore[arg-type]
    stdin = io.StringIO("\n".join(lines) + "\n")
    try:
        chat = TerminalChat(services.conversation, options, stdin, stdout, services=services)
        assert chat.run() == 0
    finally:
        services.conversation.db.close()
    return stdout.getvalue()


def test_the_chat_goes_on_after_a_drop_and_resume_brings_the_reflection_back(tmp_path: Path):
    db = tmp_path / "drop.db"
    ui = PLAYBOOK.ui
    out = chat(db, [*ONBOARDING_LINES, "Umbrella", "/cancel", "1", "/resume", "/help"])
    assert ui.cancelled_restorable.fr in out
    after = out.split(ui.cancelled_restorable.fr, 1)[1]
    assert "> /resume" in after and "> /help" in after  # the chat read on after the drop
    assert ui.restored.fr in after and "Depuis quand" in after
    assert ui.nothing_in_progress.fr not in out

    chat(db, ["/cancel", "1"])
    out = chat(db, ["/resume"])  # a relaunch: /resume, not only the home's item
    assert ui.nothing_in_progress.fr not in out
    assert ui.restored.fr in out and "Depuis quand" in out


def open_round(db: Path, manager: str = "ana") -> str:
    """A manager opens a team round from the terminal; its code, as `/start team_<code>`."""
    out = chat(db, [*ONBOARDING_LINES, "/team", "1", "", "", "", "", ""], user=manager)
    start = out.index("/start team_")
    return out[start:].split()[1]


def test_a_member_who_comes_back_sees_the_round_question_never_the_onboarding(tmp_path: Path):
    db = tmp_path / "member.db"
    code = open_round(db)
    team = PLAYBOOK.team
    assert team is not None
    out = chat(db, [f"/start {code}"], user="luc")
    assert "Comment vivez-vous la nouvelle" in out
    out = chat(db, ["1", "2"], user="luc")  # a relaunch half-way through the round
    language_question = PLAYBOOK.ui.language_prompt.fr
    assert language_question not in out and "Dans quelle langue" not in out
    opening = out.split("> 1", 1)[0]
    assert "Comment vivez-vous la nouvelle" in opening  # the round's question, where it was
    after = out.split("> 1", 1)[1]
    assert "Qu'est-ce qui vous inquiète" in after  # the 1 answered the question shown


def test_a_manager_opening_their_own_link_is_told_in_their_language_and_goes_on(
    tmp_path: Path,
):
    db = tmp_path / "own.db"
    code = open_round(db)
    team = PLAYBOOK.team
    assert team is not None
    out = chat(db, ["/language", "2", f"/start {code}", "/help"], user="ana")
    assert team.join_own.en in out and team.join_own.fr not in out
    assert "> /help" in out.split(team.join_own.en, 1)[1]  # the chat read on
    assert PLAYBOOK.ui.help_terminal.en in out


def test_no_pause_or_go_on_once_the_last_answer_ended_the_flow():
    from bot.flows.engine import advance, start
    from bot.flows.model import TextStep
    from bot.flows.state import Answer, Done, SafetyNote, SafetyOffer

    from .test_terminal import typed_answer

    state, _ = start(PLAYBOOK, "daily_checkin", "en", {"commitment": "call Acme"})
    flow = PLAYBOOK.flows["daily_checkin"]
    outputs: tuple = ()
    while not state.done:
        step = flow.step_by_id[state.step]
        if isinstance(step, TextStep):  # said at the question that ends the check-in?
            ended, said = advance(PLAYBOOK, state, Answer("I can't take it anymore"))
            if ended.done:
                state, outputs = ended, said
                break
        state, outputs = advance(PLAYBOOK, state, Answer(typed_answer(step, 0)))
    assert any(isinstance(o, SafetyNote) for o in outputs)  # the note is still said
    assert not any(isinstance(o, SafetyOffer) for o in outputs)  # no choice left to answer
    assert not state.safety_offered
    assert isinstance(outputs[-1], Done)


def test_the_dates_offered_for_next_friday_survive_a_restart(tmp_path: Path):
    db = tmp_path / "friday.db"
    lines, steps, _ = scripted_reflection("en")
    before = lines[: steps.index("contact_when")]
    out = chat(db, ["2", "6", "yes", *before, "next friday"])  # English, France, ready
    assert "  1. Friday 4 December\n  2. Friday 11 December" in out
    out = chat(db, ["2"])  # a relaunch: the same two choices, and 2 picks the second
    opening = out.split("> 2", 1)[0]
    assert "  1. Friday 4 December\n  2. Friday 11 December" in opening
    assert "couldn't read a date" not in out
    services = build_services(
        load_settings(db_path=db, playbook_path=REAL_PLAYBOOK), open_database(db)
    )
    try:
        user = services.conversation.user("terminal:dan")
        current = services.conversation.current(user)
        assert current is not None
        assert current[1].answers["contact_when"] == "2026-12-11"
        assert not current[1].choices
    finally:
        services.conversation.db.close()


def test_welcome_back_only_when_something_was_answered(tmp_path: Path):
    db = tmp_path / "welcome.db"
    resumed = PLAYBOOK.ui.resumed
    chat(db, [])  # opened, then closed at the first question
    out = chat(db, [])
    assert resumed.fr not in out and "Dans quelle langue" in out
    chat(db, ["1"])
    assert chat(db, []).startswith(resumed.fr)


def test_lang_answers_the_language_question_and_history_mid_reflection(tmp_path: Path):
    db = tmp_path / "lang.db"
    out = chat(db, ["6", "yes", "/history"], lang="en")
    assert "Which language would you like to use?" not in out
    assert out.startswith("Which country are you in?")
    history = out.split("> /history\n", 1)[1]
    assert "/reflect" not in history  # a reflection is in progress: no "type /reflect"
    assert history.startswith("You have not finished a reflection yet.")
    assert "Which client has just left?" in history


def test_the_terminal_help_names_every_command_the_terminal_runs():
    """/help left out /cancel, /history, /progress, /commitments, /language, /team and /home
    (a new-user trial, refs #11); /start and /checkin explain themselves when typed."""
    from bot.flows.contract import TERMINAL_COMMANDS

    for lang in ("fr", "en"):
        text = PLAYBOOK.ui.help_terminal.get(lang)
        missing = [f"/{name}" for name in TERMINAL_COMMANDS if f"/{name}" not in text]
        assert missing == ["/start", "/checkin"], (lang, missing)
