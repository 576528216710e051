"""The terminal chat as a newcomer runs it: a real process, answers through a pipe, SIGKILL."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.conversation import Conversation
from bot.flows.engine import advance, start
from bot.flows.loader import load_playbook
from bot.flows.model import (
    ChoiceStep,
    MultiChoiceStep,
    NumberStep,
    Playbook,
    ScaleStep,
    TextStep,
    YesNoStep,
)
from bot.flows.state import Answer, Done
from bot.flows.validate import REQUIRED_FLOWS
from bot.playbooks import PlaybookLibrary
from bot.terminal import ChatOptions, TerminalChat
from storage.db import open_database, to_stored

from .helpers import REAL_PLAYBOOK, ROOT, FakeClock

CLOCK = FakeClock()

PLAYBOOK: Playbook = load_playbook(REAL_PLAYBOOK, REQUIRED_FLOWS)


def typed_answer(step, index: int) -> str:
    """What a manager would type at this question."""
    if isinstance(step, TextStep):
        return f"Réponse {index}"
    if isinstance(step, ChoiceStep | MultiChoiceStep):
        return "1"
    if isinstance(step, ScaleStep):
        return str((step.min + step.max) // 2)
    if isinstance(step, YesNoStep):
        return "oui"
    if isinstance(step, NumberStep):
        return "4"
    raise AssertionError(step)


def scripted_reflection(lang: str = "fr") -> tuple[list[str], list[str], Done]:
    """The lines to type for the whole reflection, the steps they answer, and the end."""
    state, outputs = start(PLAYBOOK, "lost_client", lang)
    flow = PLAYBOOK.flows["lost_client"]
    lines, steps = [], []
    while not state.done:
        step = flow.step_by_id[state.step]
        lines.append(typed_answer(step, len(lines)))
        steps.append(step.id)
        state, outputs = advance(PLAYBOOK, state, Answer(lines[-1]))
    assert isinstance(outputs[-1], Done)
    return lines, steps, outputs[-1]


ONBOARDING_LINES = ["1", "oui"]  # Français, ready


def chat_process(db: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REBOND_DB": str(db)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--user", "claire", *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def stored_answers(db_path: Path) -> list[tuple[str, str, str]]:
    """(flow, step, raw text) of every stored answer, in order."""
    db = open_database(db_path)
    try:
        return [
            (row["flow"], row["step"], row["raw_text"])
            for row in db.query(
                "SELECT sessions.flow, answers.step, answers.raw_text FROM answers "
                "JOIN sessions ON sessions.id = answers.session_id ORDER BY answers.id"
            )
        ]
    finally:
        db.close()


def test_the_whole_reflection_through_a_pipe(tmp_path: Path):
    lines, steps, done = scripted_reflection()
    process = chat_process(tmp_path / "chat.db")
    stdout, stderr = process.communicate("\n".join(ONBOARDING_LINES + lines) + "\n", timeout=60)
    assert process.returncode == 0, stderr
    assert "[1/8 - Les faits]" in stdout and "[8/8 - Bilan]" in stdout
    assert f"== {done.title} ==" in stdout
    for line in done.lines:
        assert line in stdout
    answers = stored_answers(tmp_path / "chat.db")
    assert [(flow, step) for flow, step, _ in answers] == [
        ("onboarding", "language"),
        ("onboarding", "ready"),
        *[("lost_client", step) for step in steps],
    ]


@pytest.mark.slow  # terminal processes killed and relaunched
def test_killed_mid_flow_then_relaunched_loses_and_doubles_nothing(tmp_path: Path):
    db_path = tmp_path / "killed.db"
    lines, steps, done = scripted_reflection()
    script = ONBOARDING_LINES + lines
    cut = len(ONBOARDING_LINES) + len(lines) // 2

    process = chat_process(db_path)
    assert process.stdin is not None
    for line in script[:cut]:
        process.stdin.write(line + "\n")
        process.stdin.flush()
    deadline = time.monotonic() + 30
    while len(stored_answers(db_path)) < cut:
        assert time.monotonic() < deadline, "the chat did not store the answers in time"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)
    assert process.returncode == -signal.SIGKILL

    relaunched = chat_process(db_path)
    stdout, stderr = relaunched.communicate("\n".join(script[cut:]) + "\n", timeout=60)
    assert relaunched.returncode == 0, stderr
    next_prompt = stdout.split("\n")[1]
    assert stdout.startswith(PLAYBOOK.ui.resumed.fr)
    assert next_prompt.startswith("[")  # the progress line of the very next question
    assert f"== {done.title} ==" in stdout
    answers = stored_answers(db_path)
    assert [step for _, step, _ in answers] == ["language", "ready", *steps]
    assert len(answers) == len(set((flow, step) for flow, step, _ in answers))


def test_end_of_input_saves_and_the_next_launch_resumes_at_the_same_question(tmp_path: Path):
    db_path = tmp_path / "eof.db"
    lines, steps, _ = scripted_reflection()
    first = chat_process(db_path)
    out, _ = first.communicate("\n".join(ONBOARDING_LINES + lines[:3]) + "\n", timeout=60)
    assert first.returncode == 0
    assert out.rstrip().endswith(PLAYBOOK.ui.saved_and_exit.fr)
    second = chat_process(db_path)
    out, _ = second.communicate("", timeout=60)
    flow = PLAYBOOK.flows["lost_client"]
    assert flow.step_by_id[steps[3]].prompt.fr.split("{")[0] in out


def conversation_for(tmp_path: Path) -> tuple[Conversation, object]:
    db = open_database(tmp_path / "inproc.db")
    text = REAL_PLAYBOOK.read_text(encoding="utf-8")
    library = PlaybookLibrary(
        db, PLAYBOOK, text, "content/playbook.yaml", seen_at=to_stored(CLOCK())
    )
    return Conversation(db, library, CLOCK), db


def run_chat(conversation: Conversation, typed: str, **options) -> str:
    stdout = io.StringIO()
    chat = TerminalChat(
        conversation, ChatOptions(user="ana", **options), io.StringIO(typed), stdout
    )
    assert chat.run() == 0
    return stdout.getvalue()


def test_commands_back_skip_help_and_pause(tmp_path: Path):
    conversation, db = conversation_for(tmp_path)
    try:
        out = run_chat(conversation, "Acme\n/back\n/help\nGlobex\n/pause\n", flow="lost_client")
        assert "> /back" in out and PLAYBOOK.ui.previous_answer.fr + " Acme" in out
        assert PLAYBOOK.ui.help_terminal.fr.split("\n")[0] in out
        assert out.rstrip().endswith(PLAYBOOK.ui.paused.fr)
        row = next(iter(db.query("SELECT status, state FROM sessions")))
        assert row["status"] == "paused"
        assert json.loads(row["state"])["answers"] == {"client": "Globex"}
        out = run_chat(conversation, "/skip\n", flow="lost_client")
        assert PLAYBOOK.ui.resumed.fr in out and PLAYBOOK.ui.cannot_skip.fr in out
    finally:
        db.close()


def test_english_chat_with_an_unknown_flow_is_refused(tmp_path: Path):
    conversation, db = conversation_for(tmp_path)
    try:
        with pytest.raises(SystemExit, match="unknown flow 'nope'"):
            run_chat(conversation, "", flow="nope")
        out = run_chat(conversation, "Acme\n", flow="lost_client", lang="en")
        assert "[1/8 - The facts]" in out
    finally:
        db.close()
