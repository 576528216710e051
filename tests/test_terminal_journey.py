"""The terminal chat after a first reflection (issue #11), through a pipe: the home, the
journey's commands, no check-in it cannot deliver, and never a button to tap."""

from __future__ import annotations

import re
from pathlib import Path

from .test_terminal import ONBOARDING_LINES, PLAYBOOK, chat_process, scripted_reflection

BUTTON_WORDS = re.compile(r"\b(tap|taps|button|buttons|touchez|bouton|boutons)\b", re.IGNORECASE)


def chat(db: Path, lines: list[str], *extra: str) -> str:
    process = chat_process(db, *extra)
    stdout, stderr = process.communicate("\n".join(lines) + "\n", timeout=60)
    assert process.returncode == 0, stderr
    return stdout


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
    chat(db, ONBOARDING_LINES + lines)
    ui = PLAYBOOK.ui
    out = chat(db, ["1", "Globex", "zzz", "/checkin", "/cancel", "2", "/cancel", "1"])
    assert "Tapez un numéro de 1 à 4, ou les mots de l'option." in out  # the terminal's words
    assert not BUTTON_WORDS.findall(out), BUTTON_WORDS.findall(out)
    assert ui.checkin_schedule_none.fr + "\n" + ui.checkin_terminal.fr in out
    assert ui.cancel_kept.fr in out and ui.cancelled_restorable.fr in out
    out = chat(db, ["1"])
    assert out.startswith(ui.home_title.fr + "\n  1. " + ui.home_restore.fr)
    assert ui.restored.fr in out and "Depuis quand" in out  # back where it was left
    out = chat(db, ["/checkin"])
    assert ui.resumed.fr in out


def test_an_optional_question_offers_skip_as_a_numbered_choice(tmp_path: Path):
    db = tmp_path / "skip.db"
    out = chat(db, ["Acme"], "--flow", "commitment_check")
    assert "  4. Abandonné" in out and "  5." not in out  # a required choice: no skip
    out = chat(
        tmp_path / "skip2.db",
        ["1", "Un ami", "/skip"],
        "--flow",
        "commitment_check",
    )
    assert "Question facultative : tapez /skip (ou le numéro de « Passer »)" in out
    assert "D'ici quand" in out  # the optional next step was skipped
