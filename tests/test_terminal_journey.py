"""The terminal chat after a first reflection (issue #11), through a pipe: the home, the
journey's commands, no check-in it cannot deliver, and never a button to tap."""

from __future__ import annotations

import io
import re
from pathlib import Path

from bot.bootstrap import build_services
from bot.conversation import Conversation
from bot.flows.loader import parse_playbook
from bot.playbooks import PlaybookLibrary, for_terminal
from bot.settings import load_settings
from bot.terminal import ChatOptions, TerminalChat
from storage.db import open_database, to_stored

from .helpers import REAL_PLAYBOOK, playbook_yaml
from .test_terminal import CLOCK, ONBOARDING_LINES, PLAYBOOK, chat_process, scripted_reflection

BUTTON_WORDS = re.compile(r"\b(tap|taps|button|buttons|touchez|bouton|boutons)\b", re.IGNORECASE)


def chat(db: Path, lines: list[str], *extra: str) -> str:
    """A `rebond chat` process, its answers through a pipe."""
    process = chat_process(db, *extra)
    stdout, stderr = process.communicate("\n".join(lines) + "\n", timeout=60)
    assert process.returncode == 0, stderr
    return stdout


def chat_in_process(db: Path, lines: list[str], flow: str | None = None) -> str:
    """The same chat as `rebond chat` builds it, in this process (faster), input not a tty."""
    settings = load_settings(db_path=db, playbook_path=REAL_PLAYBOOK)
    services = build_services(settings, open_database(db))
    services.conversation.library.use_variant(for_terminal)
    stdout = io.StringIO()
    options = ChatOptions(user="claire", flow=flow)
    stdin = io.StringIO("\n".join(lines) + "\n")
    try:
        chat = TerminalChat(services.conversation, options, stdin, stdout, services=services)
        assert chat.run() == 0
    finally:
        services.conversation.db.close()
    return stdout.getvalue()


def test_after_a_reflection_the_terminal_opens_on_the_home(tmp_path: Path):
    db = tmp_path / "home.db"
    lines, _, done = scripted_reflection()
    out = chat(db, ONBOARDING_LINES + lines)
    assert f"== {done.title} ==" in out
    assert PLAYBOOK.ui.checkin_terminal.fr in out  # no Telegram check-in set-up offered here
    assert "checkin_action" not in out and "À quelle heure" not in out
    assert not BUTTON_WORDS.findall(out), BUTTON_WORDS.findall(out)

    out = chat(db, ["4", "3", "1"])  # commitments, history, then a new reflection
    ui = PLAYBOOK.ui
    assert out.startswith(ui.home_title.fr + "\n  1. " + ui.home_new.fr)
    assert "  3. " + ui.home_history.fr.replace("{count}", "1") in out
    assert ui.commitments_title.fr in out and "• À faire · " in out
    assert ui.history_title.fr in out
    assert "[1/8 - Les faits]" in out  # the new reflection began only when asked


def test_home_checkin_schedule_cancel_and_restore(tmp_path: Path):
    db = tmp_path / "cancel.db"
    lines, _, _ = scripted_reflection()
    chat_in_process(db, ONBOARDING_LINES + lines)
    ui = PLAYBOOK.ui
    typed = ["1", "Globex", "zzz", "/checkin", "/cancel", "2", "/cancel", "1"]
    out = chat_in_process(db, typed)
    assert "Tapez un numéro de 1 à 4, ou les mots de l'option." in out  # the terminal's words
    assert not BUTTON_WORDS.findall(out), BUTTON_WORDS.findall(out)
    assert ui.checkin_schedule_none.fr + "\n" + ui.checkin_terminal.fr in out
    assert ui.cancel_kept.fr in out and ui.cancelled_restorable.fr in out
    out = chat_in_process(db, ["1"])
    assert out.startswith(ui.home_title.fr + "\n  1. " + ui.home_restore.fr)
    assert ui.restored.fr in out and "Depuis quand" in out  # back where it was left
    out = chat_in_process(db, ["/checkin"])
    assert ui.resumed.fr in out


def test_an_optional_question_offers_skip_as_a_numbered_choice(tmp_path: Path):
    db = tmp_path / "skip.db"
    out = chat_in_process(db, ["Acme"], "commitment_check")
    assert "  4. Abandonné" in out and "  5." not in out  # a required choice: no skip
    out = chat_in_process(tmp_path / "skip2.db", ["1", "/skip"], "commitment_check")
    assert "Question facultative : tapez /skip (ou le numéro de « Passer »)" in out
    assert "D'ici quand" in out  # the optional next step was skipped
    flows = """
f:
  title: {fr: F, en: F}
  sections:
    - id: s
      title: {fr: S, en: S}
      steps:
        - id: mood
          type: choice
          optional: true
          prompt: {fr: "Humeur ?", en: "Mood?"}
          options:
            - {id: good, label: {fr: Bien, en: Good}}
            - {id: bad, label: {fr: Mal, en: Bad}}
        - id: note
          type: text
          prompt: {fr: "Une note ?", en: "A note?"}
"""
    text = playbook_yaml(flows)
    database = open_database(tmp_path / "custom.db")
    try:
        playbook = parse_playbook(text, "t.yaml")
        seen = to_stored(CLOCK())
        library = PlaybookLibrary(database, playbook, text, "t.yaml", seen_at=seen)
        stdout = io.StringIO()
        options = ChatOptions(user="claire", flow="f")
        conversation = Conversation(database, library, CLOCK)
        chat = TerminalChat(conversation, options, io.StringIO("3\n"), stdout)
        assert chat.run() == 0
        assert "  3. skip_button fr" in stdout.getvalue()
        assert "Une note ?" in stdout.getvalue()  # "3" skipped the optional question
    finally:
        database.close()
